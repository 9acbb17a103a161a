"""The provider interface: one method that sends a prepared body to a target.

A provider adapter never sees the caller's headers. It adds only the target's own credential, and reports
failures that permit failover (connection, timeout, 5xx) as :class:`UpstreamFailure`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from lanegate.config.models import TargetSpec


class UpstreamFailure(Exception):
    """A call that failed in a way that allows trying the next compliant target.

    ``kind`` is one of ``connect_error``, ``timeout``, ``http_5xx``, ``auth_rejected`` (the target refused
    the gateway's credential), ``protocol_error``; ``stream_interrupted`` is raised while reading a stream.
    """

    def __init__(self, kind: str, status: int | None = None) -> None:
        super().__init__(kind if status is None else f"{kind} {status}")
        self.kind = kind
        self.status = status


@dataclass
class UpstreamResponse:
    """What came back. Exactly one of ``body`` (buffered) or ``events`` (an SSE stream) is set."""

    status: int
    content_type: str
    body: bytes | None
    events: AsyncIterator[bytes] | None
    close: Callable[[], Awaitable[None]]


class Provider(Protocol):
    """Sends requests to targets of one API family."""

    async def call(self, target: TargetSpec, secret: str | None, path: str, body: bytes, *, stream: bool
                   ) -> UpstreamResponse:
        """POST ``body`` to ``target``'s ``path`` (e.g. ``/chat/completions``).

        Raises :class:`UpstreamFailure` on connect error, timeout or a 5xx status; returns any other status.
        The returned response must be closed by the caller.
        """
        ...
