"""Walking the choices of one streamed chat-completion chunk (``data:`` object of an SSE event)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def choice_deltas(event: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any] | None, bool]]:
    """``(choice index, its delta or None, whether the choice ends here)`` for each choice of ``event``."""
    for choice in event.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        index = choice.get("index", 0)
        delta = choice.get("delta")
        yield (index if isinstance(index, int) else 0, delta if isinstance(delta, dict) else None,
               choice.get("finish_reason") is not None)
