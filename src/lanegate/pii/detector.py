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
from lanegate.pii.normalize import normalize
from lanegate.pii.recognizers import RULES, Rule

CONTEXT_BEFORE = 48
CONTEXT_AFTER = 24
_DIGIT = re.compile(r"\d")
DEFAULT_LANGUAGES = ("en", "de", "fr", "es", "it", "nl")


class Detector:
    """Detects ``entities`` (types from :data:`~lanegate.pii.entities.ALL_ENTITIES`).

    ``languages`` chooses the context words used; national-ID rules run whatever the language.
    ``allow_list`` values (compared case-insensitively) are never reported.
    """

    def __init__(self, entities: Iterable[str], languages: Iterable[str] = DEFAULT_LANGUAGES,
                 allow_list: Iterable[str] = ()) -> None:
        wanted = set(entities)
        unknown = wanted - ALL_ENTITIES
        if unknown:
            raise ValueError(f"unknown entity types: {sorted(unknown)}")
        self.entities = frozenset(wanted)
        langs = tuple(languages)
        self._rules = [r for r in RULES if r.entity in wanted]
        self._context = {r.context: words(r.context, langs) for r in self._rules if r.context}
        self._allowed = frozenset(a.casefold() for a in allow_list)

    def detect(self, text: str) -> list[Finding]:
        """Findings in ``text``, in order, not overlapping; spans index ``text`` as given."""
        if not text:
            return []
        normal = normalize(text)
        body = normal.text
        lower = body.lower()
        has_digit = _DIGIT.search(body) is not None
        found: list[Finding] = []
        for rule in self._rules:
            if rule.digits and not has_digit:
                continue
            if rule.trigger and not any(t in lower for t in rule.trigger):
                continue
            found.extend(self._apply(rule, body, lower))
        findings = []
        for item in _resolve(found):
            start, end = normal.span(item.start, item.end)
            if self._allowed and text[start:end].casefold() in self._allowed:
                continue
            findings.append(Finding(item.entity, start, end, item.score))
        return findings

    def _apply(self, rule: Rule, body: str, lower: str) -> Iterable[Finding]:
        context = self._context.get(rule.context) if rule.context else None
        for match in rule.pattern.finditer(body):
            start, end = match.span(rule.group)
            if rule.validate is not None and not rule.validate(match.group(rule.group)):
                continue
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
