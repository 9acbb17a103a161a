"""The extension points of the policy chain.

Request stages run in the order of the pack's ``policies.chain``, before any byte leaves the lane; response
stages run in reverse order on what comes back. Envoy's filter model, made typed:

* a stage **continues** by returning a :class:`~lanegate.exchange.StageOutcome`;
* a stage **refuses** by raising :class:`~lanegate.errors.Refusal` — the request ends, is recorded, and the
  caller gets the refusal;
* any other exception is a stage **failure**: the chain records it and refuses the request (fail closed).
"""

from __future__ import annotations

from typing import Any, Protocol

from lanegate.exchange import Exchange, StageOutcome


class RequestStage(Protocol):
    """A policy applied to a request before routing."""

    name: str

    async def on_request(self, exchange: Exchange) -> StageOutcome:
        """Inspect or transform ``exchange`` (its parsed request) and return what was decided.

        Must not perform network I/O outside the lane. Raise ``Refusal`` to stop the request. The returned
        outcome's ``detail`` is recorded: it must hold counts and types, never payload text.
        """
        ...


class StreamFilter(Protocol):
    """Per-stream state of a response stage, created when a stream starts."""

    def on_event(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """Transform one parsed SSE ``data:`` object; return ``None`` to drop it."""
        ...

    def on_end(self) -> list[dict[str, Any]]:
        """Events to emit before the stream's end (text a filter held back, for example)."""
        ...


class ResponseStage(Protocol):
    """A policy applied to what the provider returned, buffered or streamed."""

    name: str

    async def on_response(self, exchange: Exchange, payload: dict[str, Any]) -> None:
        """Transform a buffered JSON response in place; raise ``Refusal`` to withhold it."""
        ...

    def stream_filter(self, exchange: Exchange) -> StreamFilter | None:
        """A filter for this stream, or ``None`` when the stage leaves streams untouched."""
        ...
