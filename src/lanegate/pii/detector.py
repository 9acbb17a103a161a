"""Finding personal data in text: every enabled rule on the normalised text, overlaps resolved, spans mapped
back to the text as given.

Overlaps: of two findings covering the same characters, the higher score wins, then the longer span; an
entity type's validator (a checksum) therefore beats a bare shape (a phone-like digit run).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lanegate.pii.context import words
from lanegate.pii.entities import ALL_ENTITIES, Finding
from lanegate.pii.ner import EntityModel
from lanegate.pii.normalize import normalize
from lanegate.pii.recognizers import RULES, Rule
from lanegate.pii.scan import Numbers, numbers

CONTEXT_BEFORE = 48
CONTEXT_AFTER = 24
DEFAULT_LANGUAGES = ("en", "de", "fr", "es", "it", "nl")


class Detector:
    """Detects ``entities`` (types from :data:`~lanegate.pii.entities.ALL_ENTITIES`).

    ``languages`` chooses the context words used; national-ID rules run whatever the language.
    ``allow_list`` values (compared case-insensitively) are never reported. ``model``, when given, adds the
    findings of a named-entity model (:mod:`lanegate.pii.ner`) for the types it finds.
    """

    def __init__(self, entities: Iterable[str], languages: Iterable[str] = DEFAULT_LANGUAGES,
                 allow_list: Iterable[str] = (), model: EntityModel | None = None) -> None:
        wanted = set(entities) | (set(model.entities) if model is not None else set())
        unknown = wanted - ALL_ENTITIES
        if unknown:
            raise ValueError(f"unknown entity types: {sorted(unknown)}")
        self.entities = frozenset(wanted)
        langs = tuple(languages)
        self._rules = [r for r in RULES if r.entity in wanted]
        self._context = {r.context: words(r.context, langs) for r in self._rules if r.context}
        self._allowed = frozenset(a.casefold() for a in allow_list)
        self.model = model

    def detect(self, text: str) -> list[Finding]:
        """Findings in ``text``, in order, not overlapping; spans index ``text`` as given."""
        if not text:
            return []
        normal = normalize(text)
        body = normal.text
        lower = body.lower()
        digits = numbers(body)
        found: list[Finding] = []
        for rule in self._rules:
            if rule.digits and digits is None:
                continue
            if rule.trigger and not any(t in lower for t in rule.trigger):
                continue
            if rule.required and not any(w in lower for w in self._context.get(rule.context or "", ())):
                continue
            if rule.window is not None:
                found.extend(self._around_triggers(rule, body, lower))
            elif digits is not None and (rule.cluster or rule.run):
                if digits.admits(rule.cluster, rule.run):
                    found.extend(self._apply(rule, body, lower, digits))
            else:
                found.extend(self._apply(rule, body, lower))
        if self.model is not None:
            found.extend(self.model.find(body))
        findings = []
        for item in _resolve(found):
            start, end = normal.span(item.start, item.end)
            if self._allowed and text[start:end].casefold() in self._allowed:
                continue
            findings.append(Finding(item.entity, start, end, item.score))
        return findings

    def _around_triggers(self, rule: Rule, body: str, lower: str) -> set[Finding]:
        """Matches of ``rule`` near its trigger words only (a window around each occurrence)."""
        assert rule.window is not None
        if rule.backscan is not None:
            return self._from_backscan(rule, body, lower)
        before, after = rule.window
        regions: list[list[int]] = []
        for trigger in rule.trigger:
            position = lower.find(trigger)
            while position >= 0:
                regions.append([max(0, position - before), position + len(trigger) + after])
                position = lower.find(trigger, position + 1)
        regions.sort()
        merged: list[list[int]] = []
        for region in regions:
            if merged and region[0] <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], region[1])
            else:
                merged.append(region)
        found: set[Finding] = set()
        for start, end in merged:
            found.update(self._apply(rule, body, lower, None, start, end))
        return found

    def _from_backscan(self, rule: Rule, body: str, lower: str) -> set[Finding]:
        assert rule.window is not None and rule.backscan is not None
        limit, allowed = rule.window[0], rule.backscan
        found: set[Finding] = set()
        covered = -1
        for trigger in rule.trigger:
            position = lower.find(trigger)
            while position >= 0:
                if position >= covered:
                    start = position
                    while start > 0 and position - start < limit and body[start - 1] in allowed:
                        start -= 1
                    for item in self._apply(rule, body, lower, None, start, position + rule.window[1], once=True):
                        found.add(item)
                        covered = item.end
                position = lower.find(trigger, position + 1)
        return found

    def _apply(self, rule: Rule, body: str, lower: str, digits: Numbers | None = None, start_at: int = 0,
               end_at: int | None = None, *, once: bool = False) -> Iterable[Finding]:
        context = self._context.get(rule.context) if rule.context else None
        view = digits.view if digits is not None else body
        end = len(view) if end_at is None else min(end_at, len(view))
        if once:  # one attempt from each of the first few starts (a leading dot is not part of a local part)
            attempts = (rule.pattern.match(view, s, end) for s in range(start_at, min(start_at + 3, end)))
            first = next((m for m in attempts if m is not None), None)
            matches: Iterable[re.Match[str]] = [first] if first is not None else []
        else:
            matches = rule.pattern.finditer(view, start_at, end)
        for match in matches:
            start, end = match.span(rule.group)
            if rule.validate is not None and not rule.validate(match.group(rule.group)):
                continue
            if digits is not None and view is not body:
                start, end = digits.to_text(start), digits.to_text(end - 1) + 1
            if rule.check is not None and not rule.check(body, start, end):
                continue
            score = rule.score
            if context:
                near = lower[max(0, start - CONTEXT_BEFORE) : start] + " " + lower[end : end + CONTEXT_AFTER]
                if any(word in near for word in context):
                    score = min(1.0, score + rule.boost)
                elif rule.required:
                    continue
            elif rule.required:
                continue
            yield Finding(rule.entity, start, end, score)


def _resolve(found: list[Finding]) -> list[Finding]:
    """Keep the best of overlapping findings: higher score, then longer, then earlier."""
    chosen: list[Finding] = []
    for item in sorted(found, key=lambda f: (-f.score, -(f.end - f.start), f.start)):
        if not any(item.overlaps(kept) for kept in chosen):
            chosen.append(item)
    return sorted(chosen, key=lambda f: f.start)
