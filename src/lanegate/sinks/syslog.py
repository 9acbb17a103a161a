"""RFC 5424 syslog over TCP (RFC 6587 octet counting) or UDP."""

from __future__ import annotations

import asyncio
import os
import socket
from datetime import UTC, datetime
from typing import Any

import orjson

from lanegate.config.models import SyslogSink as SyslogSpec
from lanegate.sinks.base import SinkError

FACILITY_LOG_AUDIT = 13
SEVERITY = {1: 6, 3: 4}  # OCSF informational -> syslog informational; medium -> warning


def format_message(event: dict[str, Any], hostname: str) -> bytes:
    """One RFC 5424 message: ``<PRI>1 TIMESTAMP HOST lanegate PROCID decision - JSON``."""
    priority = FACILITY_LOG_AUDIT * 8 + SEVERITY.get(event.get("severity_id", 1), 6)
    stamp = datetime.fromtimestamp(event["time"] / 1000, UTC).isoformat(timespec="milliseconds")
    header = f"<{priority}>1 {stamp.replace('+00:00', 'Z')} {hostname} lanegate {os.getpid()} decision - "
    return header.encode() + orjson.dumps(event)


class SyslogSink:
    def __init__(self, spec: SyslogSpec) -> None:
        self.id = spec.id
        self._spec = spec
        self._hostname = socket.gethostname() or "-"
        self._writer: asyncio.StreamWriter | None = None
        self._udp: asyncio.DatagramTransport | None = None

    async def send(self, events: list[dict[str, Any]]) -> None:
        messages = [format_message(e, self._hostname) for e in events]
        try:
            if self._spec.transport == "udp":
                await self._send_udp(messages)
            else:
                await self._send_tcp(messages)
        except OSError as exc:
            await self.close()
            raise SinkError(f"syslog {self._spec.transport} delivery failed: {exc.__class__.__name__}") from None

    async def _send_tcp(self, messages: list[bytes]) -> None:
        if self._writer is None:
            connection = asyncio.open_connection(self._spec.host, self._spec.port)
            self._writer = (await asyncio.wait_for(connection, timeout=5))[1]
        writer = self._writer
        writer.write(b"".join(str(len(m)).encode() + b" " + m for m in messages))
        await asyncio.wait_for(writer.drain(), timeout=10)

    async def _send_udp(self, messages: list[bytes]) -> None:
        if self._udp is None:
            loop = asyncio.get_running_loop()
            self._udp, _ = await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=(self._spec.host, self._spec.port))
        for message in messages:
            self._udp.sendto(message)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None
