"""The sink interface."""

from __future__ import annotations

from typing import Any, Protocol


class SinkError(Exception):
    """A delivery that did not succeed; the shipper retries from the same cursor."""


class Sink(Protocol):
    """Delivers batches of events to one destination. ``send`` returns only once the batch is accepted."""

    id: str

    async def send(self, events: list[dict[str, Any]]) -> None:
        """Deliver ``events`` in order; raise :class:`SinkError` (or ``OSError``) if they were not accepted."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
