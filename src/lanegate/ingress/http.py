"""Small ASGI helpers for one HTTP exchange: bounded body reading, responses, streaming, disconnects.

Every response carries ``x-request-id`` and ``x-lanegate-lane``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import orjson

from lanegate.errors import Refusal, too_large

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON = b"application/json"
FILE_CHUNK = 256 * 1024


class HttpIO:
    """The ASGI side of one request."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, request_id: str, lane: str = "-") -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.request_id = request_id
        self.lane = lane
        self.started = False
        self.disconnected = False

    def header(self, name: bytes) -> str | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    def _headers(self, content_type: bytes, extra: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", content_type), (b"x-request-id", self.request_id.encode()),
                (b"x-lanegate-lane", self.lane.encode()), *extra]

    async def read_body(self, limit: int, seconds: float) -> bytes:
        """The whole request body; refused past ``limit`` bytes (413) or when slower than ``seconds`` (408)."""
        try:
            async with asyncio.timeout(seconds):
                return await self._read_body(limit)
        except TimeoutError:
            raise Refusal(408, f"The request body did not arrive within {seconds:g} s.",
                          type="invalid_request_error", code="request_timeout") from None

    async def _read_body(self, limit: int) -> bytes:
        declared = self.header(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.disconnected = True
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def respond(self, status: int, body: bytes, content_type: bytes = JSON,
                      extra: list[tuple[bytes, bytes]] | None = None) -> None:
        headers = self._headers(content_type, extra or [])
        headers.append((b"content-length", str(len(body)).encode()))
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})
        self.started = True

    async def send_file(self, status: int, path: Path, content_type: bytes,
                        extra: list[tuple[bytes, bytes]] | None = None) -> None:
        """Stream a file from disk in chunks (read off the event loop); its size is the content length."""
        with await asyncio.to_thread(path.open, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            headers = self._headers(content_type, extra or [])
            headers.append((b"content-length", str(size).encode()))
            await self._send({"type": "http.response.start", "status": status, "headers": headers})
            self.started = True
            while chunk := await asyncio.to_thread(handle.read, FILE_CHUNK):
                await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def respond_json(self, status: int, payload: Any) -> None:
        await self.respond(status, orjson.dumps(payload))

    async def refuse(self, refusal: Refusal) -> None:
        extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in refusal.headers.items()]
        await self.respond(refusal.status, refusal.body(), extra=extra)

    def header_bytes(self) -> int:
        return sum(len(k) + len(v) for k, v in self.scope["headers"])

    async def start_stream(self, status: int, content_type: bytes, extra: list[tuple[bytes, bytes]]) -> None:
        headers = self._headers(content_type, [(b"cache-control", b"no-cache"), *extra])
        await self._send({"type": "http.response.start", "status": status, "headers": headers})
        self.started = True

    async def send_chunk(self, data: bytes) -> None:
        await self._send({"type": "http.response.body", "body": data, "more_body": True})

    async def end_stream(self) -> None:
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    def watch_disconnect(self) -> DisconnectGuard:
        """Watch for the client going away while a stream is relayed; see :class:`DisconnectGuard`."""
        return DisconnectGuard(self)


class DisconnectGuard:
    """Cancels the relaying task when the client disconnects, but only while the guard is active.

    The relay catches ``CancelledError``, sees ``io.disconnected``, calls ``uncancel()`` and goes on to write
    its decision record. :meth:`stop` is synchronous, so no cancellation can land after it.
    """

    def __init__(self, io: HttpIO) -> None:
        self._io = io
        self._task = asyncio.current_task()
        self._active = True
        self._watcher = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            message = await self._io._receive()
            if message["type"] == "http.disconnect":
                self._io.disconnected = True
                if self._active and self._task is not None:
                    self._task.cancel()
                return

    def stop(self) -> None:
        self._active = False
        self._watcher.cancel()
