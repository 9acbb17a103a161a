"""Organisation-specific data-loss rules: patterns (RE2, so no input can make matching take more than linear
time) and blocked terms, matched case- and accent-insensitively, optionally within an edit distance.

Used by the ``dlp-filter`` stage; compiled once, when the pack loads.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import re2
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from lanegate.patterns import widest
from lanegate.pii.normalize import normalize

if TYPE_CHECKING:  # the loader imports this module to check patterns; the models need no import at run time
    from lanegate.config.models import DlpFilterOptions

_WORD = re.compile(r"\w+")
# an HTML tag (its attributes up to a bound, so that a stray "<" reads no further) or comment
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,31}(?:\s[^<>]{0,512})?/?>|<!--.{0,512}?-->", re.DOTALL)
RE2_MAX_MEMORY = 8 << 20  # bytes per pattern; a pattern needing more is refused at load
# From this many patterns a text is first searched for all of them at once (one pass, about 1.4 ns a byte on
# a 2-core EPYC VM), and each pattern runs on its own only where that pass found something. Fewer patterns
# are cheaper one by one: RE2 skips ahead to a pattern's literal prefix, which an alternation loses.
ONE_PASS_FROM = 4
ONE_PASS_MAX_MEMORY = 64 << 20  # bytes for that pass's program (and the DFA states RE2 keeps), at most
MARKER = "[REDACTED:DLP]"
# a fuzzy term is compared with the words around each place a piece of it occurs, up to this many places
# (each comparison reads about three times the term's length); beyond, with all the text's words at once
NEAR_PIECES_AT_MOST = 16


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


def _without_tags(text: str) -> str:
    """``text`` with each HTML tag and comment written as as many spaces: a blocked term marked up in a page
    (``export <b>controlled</b> memo``, ``export<br>controlled memo``) is read as its words. Offsets stay."""
    return _TAG.sub(lambda tag: " " * len(tag.group()), text)


def pieces(term: str, distance: int) -> tuple[str, ...] | None:
    """``distance + 1`` disjoint pieces of ``term`` (words joined by single spaces), each within one word: a
    text within ``distance`` edits of the term holds at least one of them as it is, since each edit changes at
    most one piece (pigeonhole). So a text that holds none cannot match, and a substring search for each
    tells so at a fraction of the cost of measuring the distance. The longest words are taken, and halved
    while there are too few; ``None`` when the term is too short to give that many (it is then always looked
    at closely)."""
    parts = [word for word in term.split(" ") if word]
    while len(parts) < distance + 1:
        longest = max(parts, key=len, default="")
        if len(longest) < 2:
            return None
        parts.remove(longest)
        parts += [longest[: len(longest) // 2], longest[len(longest) // 2 :]]
    return tuple(sorted(parts, key=len, reverse=True)[: distance + 1])


# each byte of ASCII text that is not a word character (``\\w``) as a space
_SPACE_NOT_WORD = bytes(byte if chr(byte).isalnum() or byte == 0x5F else 0x20 for byte in range(128)) + b" " * 128


def _joined_words(folded: str) -> str:
    """The words of ``folded`` (runs of ``\\w``) joined by single spaces; for ASCII text by C loops (a sixth
    of the regular expression's time on 10 KB)."""
    if folded.isascii():
        spaced = folded.encode("ascii").translate(_SPACE_NOT_WORD)
        while b"  " in spaced:  # a run of n spaces takes about log2(n) rounds
            spaced = spaced.replace(b"   ", b" ").replace(b"  ", b" ")
        return spaced.strip(b" ").decode("ascii")
    return " ".join(_WORD.findall(folded))


def _piece_pass(pieces: list[tuple[str, ...] | None]) -> Any | None:
    """One RE2 program that finds whether any of the terms' :func:`pieces` occurs (most texts hold none, and
    one pass tells so whatever the number of terms), or ``None`` when no term has pieces."""
    literals = sorted({piece for held in pieces if held is not None for piece in held})
    if not literals:
        return None
    options = re2.Options()
    options.log_errors = False
    options.max_mem = ONE_PASS_MAX_MEMORY
    try:
        return re2.compile("|".join(map(re.escape, literals)), options=options)
    except re2.error:  # pragma: no cover - literals within the memory budget always compile
        return None


class DlpRules:
    """The compiled rules of one pack."""

    def __init__(self, options: DlpFilterOptions) -> None:
        self.options = options
        self._patterns = compile_patterns(options.detect_patterns)
        self._any_pattern = _one_pass(options.detect_patterns, self._patterns)
        widths = [widest(pattern) for pattern in options.detect_patterns]
        #: the most characters a pattern's match can span, of the patterns with a bound (what a stream holds)
        self.widest_pattern = max((width for width in widths if width is not None), default=0)
        self._terms = [" ".join(_WORD.findall(fold(term)[0])) for term in options.blocked_terms]
        self._term_words = [term.split(" ") for term in self._terms]
        # a window within max_distance edits of a term (m characters) is at most 2 * max_distance insertions
        # and deletions from a substring of m characters of the words it is cut from, once they are at least m
        # long: that substring's partial_ratio, 100 * (1 - 2 * max_distance / 2m), is at least this
        self._cutoffs = [100.0 * (1 - options.max_distance / max(1, len(t))) - 0.01 for t in self._terms]
        self._pieces = [pieces(term, options.max_distance) for term in self._terms]
        self._any_piece = _piece_pass(self._pieces) if options.fuzzy_matching else None
        # the most words a term's match spans (a fuzzy window may hold one word more than its term)
        spans = max((len(words) for words in self._term_words), default=0) + bool(options.fuzzy_matching)
        self._last_words = re.compile(rf"(?:\W*\w+){{1,{spans}}}") if self._terms else None

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

    def term_tail(self, text: str) -> int:
        """Where in ``text`` a match of a blocked term that text still to come may complete can begin, at the
        earliest: the start of its last words, as many as a term's match can span (``0`` when it has fewer,
        ``len(text)`` without terms or words). Words count as :meth:`find` reads them, so characters that
        split a word in ``text`` as given (a zero-width space) do not shorten what is kept; separators
        between words, however long, are kept with them."""
        if self._last_words is None:
            return len(text)
        normal = normalize(text)
        folded, origin = fold(normal.text)
        last = self._last_words.match(folded[::-1])  # read from the end
        if last is None:
            return len(text)
        start = len(folded) - last.end()
        return normal.span(*(2 * [origin[start] if origin is not None else start]))[0]

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
        if fuzzy:  # a piece of the term somewhere (one pass for all terms, then a substring search per piece)
            any_piece = self._any_piece is None or self._any_piece.search(
                folded.encode("ascii") if folded.isascii() else folded) is not None
            candidates = [i for i, held in enumerate(self._pieces)
                          if held is None or (any_piece and any(map(folded.__contains__, held)))]
        else:  # every word of the term somewhere in the text (looked for by C loops: no generator per term)
            candidates = [i for i, words in enumerate(self._term_words) if all(map(folded.__contains__, words))]
        if not candidates:
            return []
        found = self._in_windows(candidates, folded, origin)
        # markup may stand between a term's words: the text is read again without it (a tag adds words and hides
        # none, so the candidates stand; the text as written is read too, as a term written inside brackets,
        # "<export controlled memo>", is a tag's shape)
        if "<" in text and (bare := _without_tags(text)) != text:
            found += self._in_windows(candidates, *fold(bare))
        return found

    def _in_windows(self, candidates: list[int], folded: str, origin: list[int] | None) -> list[DlpMatch]:
        """The matches of the candidate terms among the words of ``folded``."""
        fuzzy = self.options.fuzzy_matching
        if fuzzy:  # how close the text's words come to the term, before measuring by window
            joined = _joined_words(folded)  # every window is a substring of it
            candidates = [i for i in candidates if self._close(i, joined)]
            if not candidates:
                return []
        words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(folded)]
        distance = self.options.max_distance if fuzzy else 0
        found = []
        for index in candidates:
            term = self._terms[index]
            size = term.count(" ") + 1
            spans = range(max(1, size - 1), size + 2) if fuzzy else (size,)
            for first in self._firsts(index, folded, words) if fuzzy else range(len(words)):
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

    def _close(self, index: int, joined: str) -> bool:
        """Whether ``joined`` (a text's words) may hold a window within ``max_distance`` edits of term
        ``index``: ``False`` only when rapidfuzz's partial_ratio says it cannot (see ``_cutoffs``), measured
        around each place where a piece of the term occurs (such a window holds one, and lies within the
        term's length plus the edits on either side of it), or over all the words when pieces occur often.
        partial_ratio cannot say so of words shorter than the term (it then aligns them within the term, not
        the term within them), nor when the cutoff is not above 0 (it answers 0 for a score below it)."""
        cutoff, term, held = self._cutoffs[index], self._terms[index], self._pieces[index]
        if cutoff <= 0:
            return True
        if held is None or sum(map(joined.count, held)) > NEAR_PIECES_AT_MOST:
            return len(joined) < len(term) or fuzz.partial_ratio(term, joined, score_cutoff=cutoff) > 0
        reach = len(term) + self.options.max_distance
        for piece in held:
            position = joined.find(piece)
            while position >= 0:
                near = joined[max(0, position - reach) : position + len(piece) + reach]
                if len(near) < len(term) or fuzz.partial_ratio(term, near, score_cutoff=cutoff) > 0:
                    return True
                position = joined.find(piece, position + 1)
        return False

    def _firsts(self, index: int, folded: str, words: list[tuple[int, int, str]]) -> Sequence[int]:
        """Where a window within ``max_distance`` edits of term ``index`` can begin: at most one word fewer
        than the term before a word that holds one of its :func:`pieces` (every word without them)."""
        held = self._pieces[index]
        if held is None:
            return range(len(words))
        reach = self._terms[index].count(" ") + 1  # a window is at most one word longer than the term
        starts = [start for start, _, _ in words]
        holding = set()
        for piece in held:  # a piece lies within one word: the word that begins last at or before it
            position = folded.find(piece)
            while position >= 0:
                holding.add(bisect.bisect_right(starts, position) - 1)
                position = folded.find(piece, position + 1)
        return sorted({first for n in holding for first in range(max(0, n - reach), n + 1)})
