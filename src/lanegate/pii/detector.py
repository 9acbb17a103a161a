"""Finding personal data in text: every enabled rule on the normalised text, overlaps resolved, spans mapped
back to the text as given.

Overlaps: of two findings covering the same characters, the higher score wins, then the longer span; an
entity type's validator (a checksum) therefore beats a bare shape (a phone-like digit run).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from lanegate.pii.context import words
from lanegate.pii.entities import ALL_ENTITIES, Finding
from lanegate.pii.ner import EntityModel
from lanegate.pii.normalize import normalize
from lanegate.pii.overlaps import resolve, uncovered
from lanegate.pii.prefilter import compile_rules
from lanegate.pii.recognizers import RULES, Rule
from lanegate.pii.scan import Numbers, numbers

CONTEXT_BEFORE = 48
CONTEXT_AFTER = 24
LOOKAHEAD = 4  # characters past a match the rules' lookaheads read (a run of underscores and a letter)
_DIGIT = re.compile(r"\d")
DEFAULT_LANGUAGES = ("en", "de", "fr", "es", "it", "nl")


class Detector:
    """Detects ``entities`` (types from :data:`~lanegate.pii.entities.ALL_ENTITIES`).

    ``languages`` chooses the context words used; national-ID rules run whatever the language.
    ``allow_list`` values (compared case-insensitively) are never reported. ``model``, when given, adds the
    findings of a named-entity model (:mod:`lanegate.pii.ner`) for the types it finds.
    """

    def __init__(self, entities: Iterable[str], languages: Iterable[str] = DEFAULT_LANGUAGES,
                 allow_list: Iterable[str] = (), model: EntityModel | None = None, *,
                 prefilter: bool = True) -> None:
        wanted = set(entities) | (set(model.entities) if model is not None else set())
        unknown = wanted - ALL_ENTITIES
        if unknown:
            raise ValueError(f"unknown entity types: {sorted(unknown)}")
        self.entities = frozenset(wanted)
        langs = tuple(languages)
        self._rules = [r for r in RULES if r.entity in wanted]
        # for each kind of context (a rule's ``context``), one pattern that finds any of its words
        self._context = {r.context: _any_of(words(r.context, langs)) for r in self._rules if r.context}
        # the rules without a candidate, found through their triggers: visited on every text, in rule order
        # with the rules the prefilter reported spans for (gates among them read around their triggers too)
        self._by_trigger = frozenset(i for i, r in enumerate(self._rules) if r.candidate is None)
        self._allowed = frozenset(a.casefold() for a in allow_list)
        self.model = model
        self._prefilter = compile_rules(self._rules) if prefilter else None

    @property
    def one_pass(self) -> bool:
        """Whether the rules' candidates are found in one pass (:mod:`lanegate.pii.prefilter`)."""
        return self._prefilter is not None

    def detect(self, text: str) -> list[Finding]:
        """Findings in ``text``, in order, not overlapping; spans index ``text`` as given."""
        if not text:
            return []
        normal = normalize(text, prose=True)
        body = normal.text
        lower = _lower(body)
        found: list[Finding] = []
        if self._prefilter is not None:
            self._detect_candidates(self._prefilter.spans(body, normal.shape), body, lower, found)
        else:
            self._detect_all(body, lower, found)
        if self.model is not None:
            found.extend(self.model.find(body))
        resolved = resolve(found, body)
        if len(resolved) < len(found):
            beside = self._beside(found, resolved, body, lower)
            if beside:
                resolved = resolve(resolved + beside, body)
        if normal.origin is None and not self._allowed:
            return resolved
        findings = []
        for item in resolved:
            start, end = normal.span(item.start, item.end)
            if self._allowed and text[start:end].casefold() in self._allowed:
                continue
            findings.append(Finding(item.entity, start, end, item.score))
        return findings

    def _beside(self, found: list[Finding], kept: list[Finding], body: str, lower: str) -> list[Finding]:
        """Findings in the parts of each dropped finding that no kept one covers, by the rules of its entity. A
        match read on into a value beside it loses to that value whole, though a value of its own may stand in
        the rest: "596 38 1528<TAB>07700-900748", a pasted table's columns, read as a phone number from 1528 on,
        lost to the SSN before it, and the phone number after went out as written."""
        chosen = set(kept)
        beside: list[Finding] = []
        for item in found:
            if item in chosen:
                continue
            rules = [r for r in self._rules if r.entity == item.entity and r.window is None
                     and not (r.required and not self._context_in(r, lower))]
            for start, end in uncovered(item, kept):
                for rule in rules:
                    beside.extend(f for f in self._apply(rule, body, lower, None, start, end) if f not in chosen)
        return beside

    def _detect_candidates(self, spans: dict[int, list[tuple[int, int]]], body: str, lower: str,
                           found: list[Finding]) -> None:
        """Rules with a candidate read only the spans the prefilter reported; the others, and gates the
        prefilter reported, their triggers."""
        has_digit: bool | None = None
        verdicts: dict[tuple[Callable[[str], bool], str], bool] = {}
        for index in sorted(self._by_trigger.union(spans)):
            rule = self._rules[index]
            if rule.candidate is None or rule.gate:
                if rule.digits:
                    if has_digit is None:
                        has_digit = _DIGIT.search(body) is not None
                    if not has_digit:
                        continue
                if self._may_apply(rule, lower):
                    found.extend(self._around_triggers(rule, body, lower) if rule.window is not None
                                 else self._apply(rule, body, lower))
                continue
            if rule.required and not self._context_in(rule, lower):
                continue
            hits = spans[index]
            if rule.at_trigger:
                shift = len(rule.trigger[0])
                found.extend(self._from_backscan(rule, body, lower, [end - shift for _, end in hits]))
                continue
            if rule.open_ended:
                self._at_starts(rule, body, lower, hits, verdicts, found)
                continue
            self._in_spans(rule, body, lower, hits, verdicts, found)

    def _detect_all(self, body: str, lower: str, found: list[Finding]) -> None:
        """Every rule with ``re`` alone, skipping those the text cannot hold (no engine for the prefilter)."""
        digits = numbers(body)
        for rule in self._rules:
            if rule.digits and digits is None:
                continue
            if not self._may_apply(rule, lower):
                continue
            if rule.window is not None:
                found.extend(self._around_triggers(rule, body, lower))
            elif digits is not None and (rule.cluster or rule.run):
                if digits.admits(rule.cluster, rule.run):
                    found.extend(self._apply(rule, body, lower, digits))
            else:
                found.extend(self._apply(rule, body, lower))

    def _may_apply(self, rule: Rule, lower: str) -> bool:
        if rule.trigger and not any(t in lower for t in rule.trigger):
            return False
        return not rule.required or self._context_in(rule, lower)

    def _context_in(self, rule: Rule, lower: str) -> bool:
        words = self._context.get(rule.context or "")
        return words is not None and words.search(lower) is not None

    def _at_starts(self, rule: Rule, body: str, lower: str, hits: list[tuple[int, int]],
                   verdicts: dict[tuple[Callable[[str], bool], str], bool], found: list[Finding]) -> None:
        """Add the findings of an open-ended rule, tried in order one character after where each of its
        candidates starts (past the fence before the match), and at the text's start where a candidate starts
        there too; a start inside the last match is passed over, as ``finditer`` would pass over it (inside its
        value, for a rule with an ``extent``). (A match that starts on a fence has its own fence, one character
        before, and so its own candidate.)"""
        match_at = rule.pattern.match
        position = 0
        for start in sorted({start for start, _ in hits}):
            for at in (start, start + 1) if start == 0 else (start + 1,):
                if at < position:
                    continue
                match = match_at(body, at)
                if match is not None:
                    item = self._accept(rule, match, body, lower, None, verdicts)
                    if item is not None:
                        found.append(item)
                    end = match.end()
                    if rule.extent is not None and end - at >= rule.extent_from:
                        end = _resume(rule, match)  # the value may end before the match: read the rest
                    position = max(end, at + 1)

    def _first(self, rule: Rule, body: str, lower: str, starts: range, end: int) -> Finding | None:
        """The finding of one match attempt of ``rule`` at the first of ``starts`` that gives one."""
        end = min(end, len(body))
        for start in starts:
            match = rule.pattern.match(body, start, end)
            item = self._accept(rule, match, body, lower, None, None) if match is not None else None
            if item is not None:
                return item
        return None

    def _around_triggers(self, rule: Rule, body: str, lower: str) -> set[Finding]:
        """Matches of ``rule`` near its trigger words only (a window around each occurrence)."""
        assert rule.window is not None
        occurrences = _occurrences(rule.trigger, lower)
        if rule.backscan is not None:
            return self._from_backscan(rule, body, lower, [start for start, _ in occurrences])
        before, after = rule.window
        regions = [(max(0, start - before), end + after) for start, end in occurrences]
        found: set[Finding] = set()
        for start, end in _merge(regions):
            found.update(self._apply(rule, body, lower, None, start, end))
        return found

    def _from_backscan(self, rule: Rule, body: str, lower: str, positions: Iterable[int]) -> set[Finding]:
        """The rule tried once per trigger at ``positions`` (in order), from where the run of characters its
        ``backscan`` allows before the trigger begins, unless a finding already covers the trigger."""
        assert rule.window is not None and rule.backscan is not None
        limit, allowed = rule.window[0], rule.backscan
        found: set[Finding] = set()
        covered = -1
        for position in positions:
            if position >= covered:
                run = allowed.match(body[max(0, position - limit) : position][::-1])  # read backwards
                start = position - (run.end() if run is not None else 0)
                end = position + rule.window[1]
                # a leading dot is not part of a local part: try the next starts too
                item = self._first(rule, body, lower, range(start, min(start + 3, end)), end)
                if item is not None:
                    found.add(item)
                    covered = item.end
        return found

    def _apply(self, rule: Rule, body: str, lower: str, digits: Numbers | None = None, start_at: int = 0,
               end_at: int | None = None) -> Iterator[Finding]:
        """Findings of ``rule`` in ``[start_at, end_at)`` of ``body`` (or of the digits' view)."""
        view = digits.view if digits is not None else body
        end = len(view) if end_at is None else min(end_at, len(view))
        if rule.open_ended and rule.extent is None:
            for match in rule.pattern.finditer(view, start_at, end):
                item = self._accept(rule, match, body, lower, digits if view is not body else None, None)
                if item is not None:
                    yield item
            return
        # as finditer, but going on where the value ends (the rest of a match may start another), and, for a
        # bounded rule, one character after where a refused match starts (a value may start inside it)
        position = start_at
        while (found := rule.pattern.search(view, position, end)) is not None:
            item = self._accept(rule, found, body, lower, digits if view is not body else None, None)
            if item is not None:
                yield item
            position = _after(rule, found, item)

    def _in_spans(self, rule: Rule, body: str, lower: str, hits: list[tuple[int, int]],
                  verdicts: dict[tuple[Callable[[str], bool], str], bool], found: list[Finding]) -> None:
        """Add the findings of a bounded rule that start in its candidate spans. Each span is read as far as a
        match starting in it could reach, so each attempt sees what it would in the whole text. Within a span,
        what ``pattern.finditer`` would yield that starts in it: a span puts a match at its first or second
        position, so those are tried first; searching (which, after the last match, would read on to the
        reach) is left for the rest of the span. After a refused match the search goes on one character after
        where it starts, as :func:`_after` says. (One loop, no generators: this runs for every candidate.)"""
        assert rule.widest is not None
        reach = rule.widest + LOOKAHEAD
        size = len(body)
        match_at, search = rule.pattern.match, rule.pattern.search
        for start, before in hits if len(hits) == 1 else _merge(hits):
            end = min(size, before + reach)
            position = start
            refused = False
            while position < before:
                if refused:  # one character after a refused match's start: a value may start inside it
                    match = search(body, position, end)
                else:
                    match = match_at(body, position, end)
                    if match is None and position + 1 < before:
                        match = match_at(body, position + 1, end)
                    if match is None and position + 2 < before:
                        match = search(body, position + 2, end)
                if match is None or match.start() >= before:
                    break
                item = self._accept(rule, match, body, lower, None, verdicts)
                if item is None:
                    refused, position = True, match.start() + 1
                else:
                    found.append(item)
                    refused = False
                    position = max(match.end() if rule.extent is None else _resume(rule, match), match.start() + 1)

    def _accept(self, rule: Rule, match: re.Match[str], body: str, lower: str, digits: Numbers | None,
                verdicts: dict[tuple[Callable[[str], bool], str], bool] | None) -> Finding | None:
        """The finding a match of ``rule`` makes, once its validator, its place and its context words agree
        (``None``: they do not). ``digits``: the match is in that view of ``body``."""
        start, end = match.span(rule.group)
        if rule.validate is not None:
            value = match.group(rule.group)
            if rule.extent is not None and end - start >= rule.extent_from:
                end = start + rule.extent(value)
                value = value[: end - start]
            key = (rule.validate, value)
            valid = verdicts.get(key) if verdicts is not None else None
            if valid is None:  # rules of one entity share a validator and often match the same value
                valid = rule.validate(value)
                if verdicts is not None:
                    verdicts[key] = valid
            if not valid:
                return None
        if digits is not None:
            start, end = digits.to_text(start), digits.to_text(end - 1) + 1
        if rule.check is not None and not rule.check(body, start, end):
            return None
        score = rule.score
        if rule.context:
            context = self._context[rule.context]
            if (context.search(lower, max(0, start - CONTEXT_BEFORE), start) is not None
                    or context.search(lower, end, end + CONTEXT_AFTER) is not None):
                score = min(1.0, score + rule.boost)
            elif rule.required:
                return None
        elif rule.required:
            return None
        return Finding(rule.entity, start, end, score)


def _after(rule: Rule, match: re.Match[str], item: Finding | None) -> int:
    """Where to look for the next match of ``rule`` after ``match``, which made ``item`` (``None``: refused). After
    a refused match of a bounded rule, one character after where it starts: a value may start inside it
    ("2024 4111 1111 1111 1111": the first four groups fail the card check, the last four are a card).
    Otherwise where the match ends, or, for a rule with an ``extent``, where its value does (:func:`_resume`)."""
    if item is None and not rule.open_ended:
        return match.start() + 1
    if rule.extent is None:
        return max(match.end(), match.start() + 1)
    return _resume(rule, match)


def _resume(rule: Rule, match: re.Match[str]) -> int:
    """Where to look for the next match after ``match`` of a rule with an ``extent``: where its value ends (the
    characters after it, read along by the pattern, may begin the next value: "ES91 ... 1332 DE89 ..."), and at
    least one character on."""
    assert rule.extent is not None
    start = match.start(rule.group)
    return max(start + rule.extent(match.group(rule.group)), match.start() + 1)


def _occurrences(triggers: tuple[str, ...], lower: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` of each occurrence of each of ``triggers`` in ``lower``, in order."""
    spans = []
    for trigger in triggers:
        position = lower.find(trigger)
        while position >= 0:
            spans.append((position, position + len(trigger)))
            position = lower.find(trigger, position + 1)
    return sorted(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` in order, joined where they overlap or touch."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _lower(body: str) -> str:
    """``body`` in lower case, one character for each of its characters, so that offsets into one are offsets
    into the other. ``str.lower`` turns U+0130 (İ) into two characters; a text led by enough of them would
    otherwise push every context word and trigger out of the window it is looked for in."""
    lower = body.lower()
    return lower if len(lower) == len(body) else body.replace("\u0130", "i").lower()


def _any_of(words: Iterable[str]) -> re.Pattern[str]:
    """One pattern for "one of ``words`` occurs" (a word list is searched in one call)."""
    return re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)) or "(?!)")
