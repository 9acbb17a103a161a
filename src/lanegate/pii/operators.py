"""What is done to each finding before text leaves the lane: redact, mask, hash — or refuse the request.

Replacements are computed right to left so earlier offsets stay valid. ``hash`` is a keyed HMAC-SHA256 with
a lane secret: equal values give equal digests within the lane (useful for joins), and nobody without the
secret can confirm a guess (a plain digest of a phone number is reversed by enumerating phone numbers).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lanegate.pii.entities import Finding

FIXED_MARKER = "[REDACTED]"


@dataclass(frozen=True)
class OperatorSettings:
    """How values are rewritten: ``default`` action, per-entity ``actions``, marker style, mask length, key."""

    default: str = "redact"
    actions: Mapping[str, str] = field(default_factory=dict)
    marker: str = "label"  # label | fixed
    mask_keep: int = 4
    hash_key: bytes = b""

    def action(self, entity: str) -> str:
        return self.actions.get(entity, self.default)


@dataclass
class Outcome:
    """The rewritten text, and per entity type how many values were found."""

    text: str
    counts: Counter[str] = field(default_factory=Counter)
    blocked: set[str] = field(default_factory=set)


def _mask(value: str, keep: int) -> str:
    """Every letter and digit but the last ``keep`` as ``*``; separators stay, so the shape is kept."""
    alnum = [i for i, c in enumerate(value) if c.isalnum()]
    hidden = set(alnum[: max(0, len(alnum) - keep)])
    return "".join("*" if i in hidden else c for i, c in enumerate(value))


def _replacement(entity: str, value: str, action: str, settings: OperatorSettings,
                 tokens: Mapping[tuple[str, str], str]) -> str:
    if action == "tokenize":
        return tokens[(entity, value)]
    if action == "mask":
        return _mask(value, settings.mask_keep)
    if action == "hash":
        digest = hmac.new(settings.hash_key, f"{entity}\x00{value}".encode(), hashlib.sha256).hexdigest()[:16]
        return f"<{entity}:{digest}>"
    return f"[{entity}]" if settings.marker == "label" else FIXED_MARKER


def apply(text: str, findings: Sequence[Finding], settings: OperatorSettings,
          tokens: Mapping[tuple[str, str], str] | None = None) -> Outcome:
    """Rewrite ``text`` for ``findings`` (sorted, not overlapping). Values whose action is ``block`` are named
    in ``blocked`` and left in place: the caller refuses the request instead of sending anything. ``tokens``
    gives the token of each ``(entity, value)`` whose action is ``tokenize``."""
    outcome = Outcome(text)
    pieces: list[str] = []
    position = len(text)
    for finding in reversed(findings):
        action = settings.action(finding.entity)
        outcome.counts[finding.entity] += 1
        if action == "block":
            outcome.blocked.add(finding.entity)
            continue
        pieces.append(text[finding.end : position])
        pieces.append(_replacement(finding.entity, text[finding.start : finding.end], action, settings,
                                   tokens or {}))
        position = finding.start
    pieces.append(text[:position])
    outcome.text = "".join(reversed(pieces))
    return outcome
