"""Escapes read as the characters they stand for, before anything else normalises a text.

Text often reaches the gateway escaped. JSON serialised with ``ensure_ascii`` (Python's default, and so many
tool results) writes every character outside ASCII as ``\\uXXXX``: a no-break space or a dash next to a value
(``Tel.\\u00a0212-555-0142``) then joins it to a word. Python's ``repr()``, which logs and tool results print,
writes some as ``\\xXX`` (``Tel.\\xa0212-555-0142``), as JavaScript strings may. URLs write reserved characters
as ``%XX``: an email address in a query string is ``jane%40example.com``, a phone number ``%2B12125550142``.
HTML writes characters as references: ``4111&nbsp;1111&nbsp;...``, and pages that hide addresses from
harvesters write ``jane&#64;example.com``. Decoding them lets the rules see the values; each decoded character
remembers where its escape starts and ends, so that a finding covers whole escapes.
"""

from __future__ import annotations

import re
from html.entities import html5
from typing import NamedTuple

_HEX = "[0-9A-Fa-f]"
_TAIL = f"%[89abAB]{_HEX}"  # a continuation byte of UTF-8
#: a ``\\uXXXX`` escape of a character or of a surrogate pair; or a run of ``%XX`` that is UTF-8 (a byte of
#: another encoding, ``%E9`` for Latin-1's ``é``, is left as written: read as Latin-1, ``10%de`` would be ``10Þ``)
_ESCAPE = re.compile(rf"\\(?:u(?:([dD][89abAB]{_HEX}{{2}})\\u([dD][c-fC-F]{_HEX}{{2}})|({_HEX}{{4}}))"
                     # Python's and JavaScript's \xXX, and Python's \UXXXXXXXX (repr() writes a no-break space
                     # as \xa0, a tag character as \U000e0041)
                     rf"|x({_HEX}{{2}})|U(000{_HEX}{{5}}|0010{_HEX}{{4}}))"
                     rf"|((?:%[0-7]{_HEX}|%[c-dC-D]{_HEX}{_TAIL}|%[eE]{_HEX}(?:{_TAIL}){{2}}|%[fF][0-7](?:{_TAIL}){{3}})+)"
                     # an HTML character reference: decimal, hexadecimal or named (with its semicolon)
                     rf"|&(?:#([0-9]{{1,7}})|#[xX]({_HEX}{{1,6}})|([A-Za-z][A-Za-z0-9]{{1,31}}));")


class Decoded(NamedTuple):
    """``text`` with its escapes decoded; ``origin[i]``, the index in the text as written of ``text[i]`` (where
    its escape starts); ``ends[i]``, for a character that came from an escape, where the escape ends."""

    text: str
    origin: list[int]
    ends: dict[int, int]


def may_hold_escapes(text: str) -> bool:
    """A quick test: whether :func:`decode` may find an escape in ``text`` (one character each: a search for one
    is a ``memchr``, for ``\\u`` a loop over the text, ten times slower)."""
    return "\\" in text or "%" in text or "&" in text


def decode(text: str) -> Decoded | None:
    """``text`` with its escapes decoded; ``None`` if it has none. What is not an escape of a character (a lone
    surrogate, ``%XX`` bytes that are not UTF-8) is left as written."""
    pieces: list[str] = []
    origin: list[int] = []
    ends: dict[int, int] = {}
    position = 0
    for escape in _ESCAPE.finditer(text):
        high, low, unit, byte, wide, percent, decimal, hexadecimal, name = escape.groups()
        if decimal or hexadecimal or name:
            reference = _reference(decimal, hexadecimal, name)
            if reference is None:
                continue
            chars = reference
        elif percent is not None:
            try:
                chars = bytes.fromhex(percent.replace("%", "")).decode("utf-8")
            except UnicodeDecodeError:  # shaped as UTF-8 but not (an overlong form, a surrogate's bytes)
                continue
        else:
            written = unit or byte or wide
            code = int(written, 16) if written else 0x10000 + ((int(high, 16) - 0xD800) << 10) + int(low, 16) - 0xDC00
            if 0xD800 <= code < 0xE000:  # a lone surrogate is not a character
                continue
            chars = chr(code)
        pieces.append(text[position : escape.start()])
        origin.extend(range(position, escape.start()))
        start = escape.start()
        for char in chars:
            if percent is None:  # one escape for all its characters (an HTML reference may stand for two)
                ends[len(origin)] = escape.end()
                origin.append(start)
            else:  # a run of %XX: each character its own bytes
                end = start + 3 * len(char.encode("utf-8"))
                ends[len(origin)] = end
                origin.append(start)
                start = end
        pieces.append(chars)
        position = escape.end()
    if not ends:
        return None
    pieces.append(text[position:])
    origin.extend(range(position, len(text)))
    return Decoded("".join(pieces), origin, ends)


def _reference(decimal: str | None, hexadecimal: str | None, name: str | None) -> str | None:
    """What an HTML character reference stands for (``None``: nothing, or not a character)."""
    if name is not None:
        return html5.get(name + ";")
    code = int(decimal, 10) if decimal is not None else int(hexadecimal or "0", 16)
    if code > 0x10FFFF or 0xD800 <= code < 0xE000:
        return None
    return chr(code)
