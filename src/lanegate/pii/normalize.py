"""Text as detectors see it, with a way back to the caller's offsets.

Detection runs on a normalised copy of the text that undoes simple evasion. Escapes (``\\u00a0``, ``%40``) are
read as the characters they stand for (:mod:`lanegate.pii.escapes`). Then Unicode compatibility forms
(full-width digits and letters, ligatures, superscripts...) are folded by NFKC (the numero sign ``№`` to ``No``
and a space, so that a number after it stands apart), the digits of other scripts
(Arabic-Indic, Devanagari...) become ASCII digits, dashes (en and em dashes, the minus sign...) become ``-``,
tabs spaces and the ideographic full stop ``.`` (``jane@example。com``), and invisible characters (zero-width
spaces and joiners, soft hyphens, bidirectional controls, tags, variation selectors...:
:func:`~lanegate.pii.prefilter.invisible`) are dropped. With ``prose`` (the personal-data detector's
reading), an en or em dash between a letter and a number is a space instead: in prose it sets the number
apart (``call me—212-555-0142``, ``Visa—4111 ...``), where a hyphen joins an identifier (``INV-2024-000123``);
organisation patterns read it as ``-``, so that ``EMP—123456`` still matches ``EMP-[0-9]{6}``. A line break or
tab escaped as JSON, logs and code write one (``\\n``, ``\\r``, ``\\t``: a backslash and a letter) is read as
two spaces before a letter, a digit, ``+`` or ``(``, so that a value or a blocked term at the start of an
escaped line (``...\\n4111 1111 1111 1111``, common in tool results that carry JSON) is not joined to the
escape's letter. Every character of the copy remembers the index of the character it came from, so a
finding is reported — and replaced — over exactly the original characters it covers.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from typing import NamedTuple

from lanegate.pii.escapes import Decoded, decode, may_hold_escapes
from lanegate.pii.prefilter import HIDDEN, invisible, skeleton

_HIDDEN = HIDDEN.encode("ascii")

_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
#: Characters read as ``-`` (what NFKC leaves of the hyphens, dashes and minus signs of Unicode).
DASHES = "\u2010\u2012\u2013\u2014\u2015\u2212"
#: Characters read as a space: the tab, and the one space separator NFKC leaves alone (the Ogham space mark).
SPACES = "\t\u1680"
#: Characters read as ``.``: the ideographic full stop, which domain names take as a dot between labels (IDNA), as
#: NFKC does the full-width and half-width ones (the latter becoming this one)
FULL_STOPS = "\u3002"
#: En and em dashes and the horizontal bar: between a letter and a number (or its ``+`` or ``(``), see ``prose``
PROSE_DASHES = "\u2013\u2014\u2015"
_NUMBER_STARTS = frozenset("0123456789+(")
#: The numero sign, which NFKC folds to ``No``: followed by a space, so that the number written after it
#: (``№4111 1111 1111 1111``, as Slavic languages write document numbers) is not joined to a word
NUMERO = "No "
#: ``\n``, ``\r`` or ``\t`` as escaped text writes them, before what may start a value or a word
_ESCAPED_SPACE = re.compile(r"\\[nrt](?=[A-Za-z0-9+(])")
_SAME_WIDTH = (tuple((dash, "-") for dash in DASHES) + tuple((space, " ") for space in SPACES)
               + tuple((stop, ".") for stop in FULL_STOPS))


class Normalized(NamedTuple):
    """``text`` as detectors see it; ``origin[i]`` is the original index of ``text[i]`` (``None``: identical).
    ``shape`` is ``text``'s skeleton (:func:`~lanegate.pii.prefilter.skeleton`) when normalising computed it.
    (A named tuple: one is made for every text the detectors read.)"""

    text: str
    origin: list[int] | None
    original_length: int
    shape: bytes | None = None
    #: for a character that came from an escape (``\u00a0``), where the escape ends in the original
    ends: dict[int, int] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the normalised span ``[start, end)``."""
        if self.origin is None:
            return start, end
        first = self.origin[start] if start < len(self.origin) else self.original_length
        last = self.origin[end - 1] + 1 if end > start else first
        if self.ends and end > start:
            last = self.ends.get(end - 1, last)
        return first, last


def normalize(text: str, *, prose: bool = False) -> Normalized:
    """The normalised copy of ``text``. Text that is already NFKC, with no invisible character and no digit
    but ASCII ones (ASCII, and most prompts in any script), is returned as it is, with no offset table.
    ``prose``: see the module docstring."""
    if may_hold_escapes(text) and (decoded := decode(text)) is not None:
        return _through_escapes(decoded, _normalize(decoded.text, prose), len(text))
    return _normalize(text, prose)


def _through_escapes(decoded: Decoded, inner: Normalized, length: int) -> Normalized:
    """``inner``, the normalised copy of the decoded text, with offsets into the text as it was written."""
    escaped_origin, escaped_ends = decoded.origin, decoded.ends
    if inner.origin is None:
        return Normalized(inner.text, escaped_origin, length, inner.shape, escaped_ends)
    origin = list(map(escaped_origin.__getitem__, inner.origin))
    ends = {}
    for index, end in escaped_ends.items():  # the characters NFKC made of it (none if it was invisible)
        for position in range(bisect_left(inner.origin, index), bisect_right(inner.origin, index)):
            ends[position] = end
    return Normalized(inner.text, origin, length, inner.shape, ends)


def _normalize(text: str, prose: bool) -> Normalized:
    """:func:`normalize` once escapes are decoded."""
    if text.isascii():
        text = _escaped_spaces(text)
        return Normalized(text.replace("\t", " ") if "\t" in text else text, None, len(text))
    body = _same_width(text, prose)  # one character for one: no offset table
    if body.isascii():  # ASCII but for dashes and spaces, which NFKC leaves as they are: normalised already
        return Normalized(body, None, len(text))
    if unicodedata.is_normalized("NFKC", text):
        shape = skeleton(body)  # shows invisible characters, and more 0s than the text has means other digits
        if _HIDDEN not in shape and shape.count(b"0") == body.count("0"):
            return Normalized(body, None, len(text), shape)
    pieces: list[str] = []
    origin: list[int] = []
    position = 0
    for run in _NON_ASCII.finditer(text):
        if run.start() > position:
            pieces.append(text[position : run.start()])
            origin.extend(range(position, run.start()))
        for index in range(run.start(), run.end()):
            char = text[index]
            if invisible(char):
                continue
            folded = NUMERO if char == "№" else "".join(
                str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c
                for c in unicodedata.normalize("NFKC", char))
            pieces.append(folded)
            origin.extend([index] * len(folded))
        position = run.end()
    if position < len(text):
        pieces.append(text[position:])
        origin.extend(range(position, len(text)))
    return Normalized(_same_width("".join(pieces), prose), origin, len(text))


def _same_width(text: str, prose: bool = False) -> str:
    """``text`` with an escaped line break or tab before a value as two spaces, every character of :data:`DASHES`
    as ``-`` (with ``prose``, one of :data:`PROSE_DASHES` between a letter and a number as a space) and of
    :data:`SPACES` as a space."""
    text = _escaped_spaces(text)
    if prose:
        for dash in PROSE_DASHES:  # found by ``str.find``: a pattern would read the text a character at a time
            at = text.find(dash, 1)
            while at != -1 and at + 1 < len(text):
                if text[at - 1].isalpha() and text[at + 1] in _NUMBER_STARTS:
                    text = f"{text[:at]} {text[at + 1:]}"
                at = text.find(dash, at + 1)
    for char, replacement in _SAME_WIDTH:
        if char in text:
            text = text.replace(char, replacement)
    return text


def _escaped_spaces(text: str) -> str:
    """``text`` with each escaped line break or tab before a value or a word (:data:`_ESCAPED_SPACE`) as two
    spaces."""
    return _ESCAPED_SPACE.sub("  ", text) if "\\" in text else text
