"""What is done to each finding before text leaves the lane: redact, mask, hash — or refuse the request.

Replacements are computed right to left so earlier offsets stay valid. ``hash`` is a keyed HMAC-SHA256 with
a lane secret: equal values give equal digests within the lane (useful for joins), and nobody without the
secret can confirm a guess (a plain digest of a phone number is reversed by enumerating phone numbers).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

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

    @property
    def blocks(self) -> bool:
        """Whether some entity type's action is ``block``."""
        return self.default == "block" or "block" in self.actions.values()


class Outcome(NamedTuple):
    """The rewritten text, per entity type how many values were found, and the types whose action is
    ``block``. (Plain dicts and a named tuple: this runs for every text with findings, on the request path.)"""

    text: str
    counts: dict[str, int]
    blocked: set[str]


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
    counts: dict[str, int] = {}
    blocked: set[str] = set()
    pieces: list[str] = []
    position = len(text)
    for entity, start, end, _ in reversed(findings):
        action = settings.action(entity)
        counts[entity] = counts.get(entity, 0) + 1
        if action == "block":
            blocked.add(entity)
            continue
        pieces.append(text[end:position])
        pieces.append(_replacement(entity, text[start:end], action, settings, tokens or {}))
        position = start
    pieces.append(text[:position])
    return Outcome("".join(reversed(pieces)), counts, blocked)
