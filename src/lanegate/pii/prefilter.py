"""One pass over the text for every pattern rule: where each rule could match, so that Python's ``re`` only
reads those places.

Python's ``re`` tries a pattern at every position of the text, one rule after another; a dense prompt costs
each rule a full pass. Here the rules' *candidates* (:attr:`~lanegate.pii.recognizers.Rule.candidate`,
patterns a multi-pattern engine can run, written so that they match wherever the rule could produce a
finding) are compiled together into one Hyperscan database (Vectorscan, through the ``hyperscan`` package),
which reads the text once and reports ``(rule, start, end)`` for each candidate. The detector then runs the
rule's own pattern, validator and context checks in those spans only; the rule's pattern remains the
definition of a match, the candidate only says where to look.

The engine reads bytes; candidates are ASCII patterns run over an ASCII *skeleton* of the text with one
character per character (so offsets are the text's): an ASCII character is itself; an invisible character
(:func:`invisible`) is ``\\x01``, a non-ASCII decimal digit ``0``, white space a space, a letter its base
letter (``é`` → ``e``) or ``a``, another word character ``a``, and anything else ``DEL`` (``\\x7f``); no
candidate names either control character. Non-ASCII letters in a rule's pattern
(month names, street words) are folded the same way (:func:`fold`) when its candidate is built.

Without the ``hyperscan`` package (a platform without its wheel), :func:`compile_rules` returns ``None`` and
the detector reads the text with ``re`` alone — the same findings, more slowly.
"""

from __future__ import annotations

import codecs
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lanegate.pii.recognizers import Rule

hyperscan: Any
try:
    import hyperscan
except ImportError:  # pragma: no cover - platforms without the wheel
    hyperscan = None

OTHER = "\x7f"
HIDDEN = "\x01"  # the skeleton of an invisible character (:func:`invisible`)
_ERRORS = "lanegate-skeleton"
# invisible, though not format characters: the combining grapheme joiner, Hangul fillers, the braille blank
_BLANKS = frozenset("\u034f\u115f\u1160\u3164\uffa0\u2800")


def invisible(char: str) -> bool:
    """Whether ``char`` shows nothing where it stands: a format character (zero-width spaces and joiners,
    soft hyphens, bidirectional controls, tags...), a variation selector, or one of a few blank characters.
    Such characters inside a number or an address hide it from patterns; normalising drops them."""
    return (unicodedata.category(char) == "Cf" or char in _BLANKS or "\ufe00" <= char <= "\ufe0f"
            or "\U000e0100" <= char <= "\U000e01ef")


def _fold_char(char: str) -> str:
    if invisible(char):
        return HIDDEN
    if char.isdecimal():
        return "0"
    if char.isspace():
        return " "
    if char.isalnum() or char == "_":
        base = unicodedata.normalize("NFKD", char)[:1]
        return base if base.isascii() and base.isalpha() else "a"
    return OTHER


def _skeleton_errors(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeEncodeError)
    chunk = error.object[error.start : error.end]
    return "".join(_fold_char(c) for c in chunk), error.end


codecs.register_error(_ERRORS, _skeleton_errors)
# the skeleton of each Latin-1 character, by its byte: accented Latin text folds in one C-level pass (the error
# handler, a Python call per run of other characters, is left for what Latin-1 cannot encode)
_LATIN1 = bytes(ord(_fold_char(chr(byte))) if byte > 0x7F else byte for byte in range(256))


def skeleton(text: str) -> bytes:
    """``text`` as the engine reads it: one ASCII byte per character (see the module docstring)."""
    return text.encode("latin-1", _ERRORS).translate(_LATIN1)


def fold(pattern: str) -> str:
    """A pattern's non-ASCII characters as the skeleton spells them (for literal words in candidates)."""
    return skeleton(pattern).decode("ascii")


class Prefilter:
    """The compiled candidates of some rules; :meth:`spans` gives, per rule index, where to look."""

    def __init__(self, database: Any) -> None:
        self._database = database
        self._local = threading.local()  # one scratch space per thread (the engine's scratch is not shared)

    def spans(self, body: str, shape: bytes | None = None) -> dict[int, list[tuple[int, int]]]:
        """For each rule (by index) that has candidates in ``body``, their ``(start, end)``, in order of end
        (a gate's: its first end; an ``at_trigger`` rule's: each end; neither with a start). ``shape``:
        ``body``'s skeleton, when the caller has it."""
        found: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
        data = shape if shape is not None else body.encode("ascii") if body.isascii() else skeleton(body)
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        self._database.scan(data, match_event_handler=_collect, context=found, scratch=scratch)
        return found


def _collect(rule: int, start: int, end: int, _flags: int, found: defaultdict[int, list[tuple[int, int]]]) -> None:
    found[rule].append((start, end))


def available() -> bool:
    """Whether the multi-pattern engine is installed."""
    return hyperscan is not None


def compile_rules(rules: Sequence[Rule]) -> Prefilter | None:
    """The prefilter for the rules that have a candidate (indexes are positions in ``rules``; rules without
    one get no spans), or ``None`` without the engine or without any candidate."""
    if hyperscan is None:
        return None
    wanted = tuple((index, rule.candidate, rule.caseless, _GATE if rule.gate else _END if rule.at_trigger else _SPAN)
                   for index, rule in enumerate(rules) if rule.candidate is not None)
    if not wanted:
        return None
    # gates last, and before them the candidates fenced by letters and digits alone (Rule.underscore): the order of
    # the expressions changes the database the engine builds. With a gate among the other candidates (the loosely
    # grouped card numbers') its pass over ordinary text took 40% longer; with the card numbers' candidates in
    # rule order once an underscore fenced them, 27% longer (instructions counted on the 10 KB payload)
    late = {index for index, rule in enumerate(rules) if rule.underscore}
    wanted = tuple(sorted(wanted, key=lambda w: 2 if w[3] == _GATE else 1 if w[0] in late else 0))  # stable
    return Prefilter(_database(wanted))


_SPAN, _END, _GATE = "span", "end", "gate"  # what is reported of a candidate: where it starts and ends, its end, once


@lru_cache(maxsize=32)
def _database(wanted: tuple[tuple[int, str, bool, str], ...]) -> Any:
    """Compiled once per set of candidates (lanes with the same entities share it). A gate's candidate is
    reported once, without its start, and an ``at_trigger`` rule's without its start (tracking where a match
    starts is what costs the engine most)."""
    kinds = {_SPAN: hyperscan.HS_FLAG_SOM_LEFTMOST, _END: 0, _GATE: hyperscan.HS_FLAG_SINGLEMATCH}
    flags = [kinds[kind] | (hyperscan.HS_FLAG_CASELESS if caseless else 0) for _, _, caseless, kind in wanted]
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=[fold(candidate).encode("ascii") for _, candidate, _, _ in wanted],
                     ids=[index for index, *_ in wanted], elements=len(wanted), flags=flags)
    return database
