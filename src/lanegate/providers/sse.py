"""Server-sent events: splitting an upstream byte stream into whole events, as they complete.

Nothing waits for the stream to end; an event is yielded as soon as its blank-line terminator arrives.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import orjson

DONE = b"data: [DONE]"


def _boundary(buffer: bytes) -> tuple[int, int]:
    """Index and length of the first event terminator in ``buffer``, or ``(-1, 0)``."""
    best, size = -1, 0
    for terminator in (b"\n\n", b"\r\n\r\n", b"\r\r"):
        index = buffer.find(terminator)
        if index != -1 and (best == -1 or index < best):
            best, size = index, len(terminator)
    return best, size


async def split_events(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Yield each complete event (without its terminator) from ``chunks``; a trailing partial event last."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        while True:
            index, size = _boundary(buffer)
            if index == -1:
                break
            event, buffer = buffer[:index], buffer[index + size :]
            if event.strip():
                yield event
    if buffer.strip():
        yield buffer


def event_data(event: bytes) -> bytes | None:
    """The joined ``data:`` field of one event, or ``None`` if it has none."""
    lines = [line[5:].removeprefix(b" ") for line in event.splitlines() if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


def parse_data(data: bytes) -> dict[str, Any] | None:
    """The JSON object in a data field, or ``None`` for ``[DONE]`` and anything not an object."""
    if data == b"[DONE]":
        return None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def encode_event(payload: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"
