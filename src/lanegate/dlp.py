"""Organisation-specific data-loss rules: patterns (RE2, so no input can make matching take more than linear
time) and blocked terms, matched case- and accent-insensitively, optionally within an edit distance.

Used by the ``dlp-filter`` stage; compiled once, when the pack loads.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import re2
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from lanegate.pii.normalize import normalize

if TYPE_CHECKING:  # the loader imports this module to check patterns; the models need no import at run time
    from lanegate.config.models import DlpFilterOptions

_WORD = re.compile(r"\w+")
RE2_MAX_MEMORY = 8 << 20  # bytes per pattern; a pattern needing more is refused at load
# From this many patterns a text is first searched for all of them at once (one pass, about 1.4 ns a byte on
# a 2-core EPYC VM), and each pattern runs on its own only where that pass found something. Fewer patterns
# are cheaper one by one: RE2 skips ahead to a pattern's literal prefix, which an alternation loses.
ONE_PASS_FROM = 4
ONE_PASS_MAX_MEMORY = 64 << 20  # bytes for that pass's program (and the DFA states RE2 keeps), at most
MARKER = "[REDACTED:DLP]"


class PatternError(ValueError):
    """A pattern RE2 cannot compile; ``index`` is its position in ``detect_patterns``."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index


@dataclass(frozen=True, slots=True)
class DlpMatch:
    """What matched (``pattern`` or ``term`` with its index in the pack) and where, in the text as given."""

    rule: str
    index: int
    start: int
    end: int

    @property
    def label(self) -> str:
        """How records and refusals name the rule: ``pattern[0]``, ``term[1]``."""
        return f"{self.rule}[{self.index}]"


def compile_patterns(patterns: list[str]) -> list[Any]:
    """``patterns`` compiled by RE2; :class:`PatternError` names the first one that is not valid."""
    options = re2.Options()
    options.log_errors = False
    options.max_mem = RE2_MAX_MEMORY
    compiled = []
    for index, pattern in enumerate(patterns):
        try:
            compiled.append(re2.compile(pattern, options=options))
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise PatternError(index, reason) from None
    return compiled


def _one_pass(patterns: list[str], compiled: list[Any]) -> Any | None:
    """One RE2 program that finds whether any of ``patterns`` (``compiled``: each on its own) matches, or
    ``None`` where that would not help (fewer than :data:`ONE_PASS_FROM` patterns) or RE2 cannot build it
    within the patterns' budgets together, nor within :data:`ONE_PASS_MAX_MEMORY`. Each pattern is a group of
    its own, so inline flags such as ``(?i)`` stay its own; as capturing groups, the program must hold one group
    per pattern besides the patterns' own, or it is not used (nothing a pattern holds has read past its end).
    RE2 answers a search in one pass over the text whatever the number of alternatives, and falls back from its
    DFA to its NFA rather than give up, so "no match" is always a true answer."""
    if len(patterns) < ONE_PASS_FROM:
        return None
    options = re2.Options()
    options.log_errors = False
    options.max_mem = min(RE2_MAX_MEMORY * len(patterns), ONE_PASS_MAX_MEMORY)
    try:
        grouped = re2.compile("|".join(f"({pattern})" for pattern in patterns), options=options)
        if grouped.groups != len(patterns) + sum(p.groups for p in compiled):
            return None
        return re2.compile("|".join(f"(?:{pattern})" for pattern in patterns), options=options)
    except re2.error:
        return None


def fold(text: str) -> tuple[str, list[int] | None]:
    """``text`` case-folded, without accents, for matching; and for each character its index in ``text``
    (``None`` when they are the same: ASCII text folds one character to one)."""
    if text.isascii():
        return text.lower(), None
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for part in unicodedata.normalize("NFKD", char.casefold()):
            if not unicodedata.combining(part):
                chars.append(part)
                origin.append(index)
    return "".join(chars), origin


class DlpRules:
    """The compiled rules of one pack."""

    def __init__(self, options: DlpFilterOptions) -> None:
        self.options = options
        self._patterns = compile_patterns(options.detect_patterns)
        self._any_pattern = _one_pass(options.detect_patterns, self._patterns)
        self._terms = [" ".join(_WORD.findall(fold(term)[0])) for term in options.blocked_terms]
        self._term_words = [term.split(" ") for term in self._terms]
        # a window within max_distance edits of a term has at least this partial_ratio with the text
        self._cutoffs = [100.0 * (1 - options.max_distance / max(1, len(t))) - 0.01 for t in self._terms]

    def find(self, text: str) -> list[DlpMatch]:
        """Every match in ``text``, sorted, overlaps removed (the earlier, then the longer, wins). Rules read
        the text as the PII detector does (:func:`~lanegate.pii.normalize.normalize`: compatibility forms and
        other scripts' digits folded, dashes read as ``-``, invisible characters dropped), so a zero-width space
        inside ``EMP-123456``, an en dash or Arabic-Indic digits do not slip past a pattern; spans index
        ``text`` as given."""
        normal = normalize(text)
        body = normal.text
        # ASCII text goes to RE2 as bytes, whose offsets are the text's: the binding then skips converting
        # offsets between UTF-8 and characters (a third of a search, two thirds of a match)
        subject: str | bytes = body.encode("ascii") if body.isascii() else body
        found: list[DlpMatch] = []
        if self._any_pattern is None or self._any_pattern.search(subject) is not None:  # most texts: one pass
            found = [DlpMatch("pattern", i, *normal.span(m.start(), m.end())) for i, p in enumerate(self._patterns)
                     for m in p.finditer(subject) if m.end() > m.start()]
        if self._terms:
            found.extend(DlpMatch(m.rule, m.index, *normal.span(m.start, m.end)) for m in self._find_terms(body))
        found.sort(key=lambda m: (m.start, -(m.end - m.start)))
        kept: list[DlpMatch] = []
        for match in found:
            if not kept or match.start >= kept[-1].end:
                kept.append(match)
        return kept

    @staticmethod
    def redact(text: str, matches: Sequence[DlpMatch], end: int | None = None) -> str:
        """``text[:end]`` with each of ``matches`` (sorted, within it) replaced by :data:`MARKER`."""
        pieces, position = [], 0
        for match in matches:
            pieces += [text[position : match.start], MARKER]
            position = match.end
        return "".join(pieces) + text[position:end]

    def _find_terms(self, text: str) -> list[DlpMatch]:
        folded, origin = fold(text)
        fuzzy = self.options.fuzzy_matching
        if fuzzy:
            candidates = [i for i, term in enumerate(self._terms)
                          if fuzz.partial_ratio(term, folded, score_cutoff=self._cutoffs[i])]
        else:  # every word of the term somewhere in the text (looked for by C loops: no generator per term)
            candidates = [i for i, words in enumerate(self._term_words) if all(map(folded.__contains__, words))]
        if not candidates:
            return []
        words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(folded)]
        distance = self.options.max_distance if fuzzy else 0
        found = []
        for index in candidates:
            term = self._terms[index]
            size = term.count(" ") + 1
            spans = range(max(1, size - 1), size + 2) if fuzzy else (size,)
            for first in range(len(words)):
                for count in spans:
                    if first + count > len(words):
                        break
                    window = " ".join(w for _, _, w in words[first : first + count])
                    if abs(len(window) - len(term)) > distance:
                        continue
                    if window == term or (fuzzy and Levenshtein.distance(window, term, score_cutoff=distance)
                                          <= distance):
                        start, end = words[first][0], words[first + count - 1][1]
                        if origin is not None:
                            start, end = origin[start], origin[end - 1] + 1
                        found.append(DlpMatch("term", index, start, end))
                        break
        return found
