"""Shipping a lane's ledger to one sink: in order, at least once, never on the request path.

The shipper reads records after the sink's cursor (kept in the lane's store), sends them, and only then
advances the cursor. A sink that is slow or down delays nothing but itself, and catches up from the ledger
when it comes back. A lease in the store keeps several gateway processes from shipping the same sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from pathlib import Path

from lanegate.config.models import JsonlSink as JsonlSpec
from lanegate.config.models import SinkSpec
from lanegate.config.models import SyslogSink as SyslogSpec
from lanegate.metrics import Metrics
from lanegate.sinks.base import Sink, SinkError
from lanegate.sinks.events import to_event
from lanegate.sinks.jsonl import JsonlSink
from lanegate.sinks.syslog import SyslogSink
from lanegate.sinks.webhook import WebhookSink
from lanegate.store.base import DecisionQuery, LaneStore, StoreUnavailable

log = logging.getLogger("lanegate.sinks")
BATCH = 200
MAX_BACKOFF = 30.0


def build_sink(spec: SinkSpec, base: Path) -> Sink:
    if isinstance(spec, SyslogSpec):
        return SyslogSink(spec)
    if isinstance(spec, JsonlSpec):
        return JsonlSink(spec, base)
    return WebhookSink(spec)


class Shipper:
    def __init__(self, lane: str, origin: str, store: LaneStore, sink: Sink, metrics: Metrics | None,
                 poll_seconds: float) -> None:
        self.lane = lane
        self.sink = sink
        self._origin = origin
        self._store = store
        self._metrics = metrics
        self._poll = poll_seconds
        self._owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.wake = asyncio.Event()

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                delivered = await self._ship_once()
            except (SinkError, OSError) as exc:
                failures += 1
                delay = min(MAX_BACKOFF, 0.25 * 2**failures)
                if self._metrics:
                    self._metrics.sink_failures.labels(self.lane, self.sink.id).inc()
                log.warning("sink delivery failed (%s); retrying in %.1fs from the same record", exc, delay,
                            extra={"lane": self.lane, "target": self.sink.id})
                await asyncio.sleep(delay)
                continue
            except StoreUnavailable as exc:
                log.error("sink shipper cannot read the ledger: %s", exc, extra={"lane": self.lane})
                await asyncio.sleep(self._poll)
                continue
            failures = 0
            if not delivered:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self._poll)
                self.wake.clear()

    async def _ship_once(self) -> int:
        if not await self._store.jobs.claim_sink(self.sink.id, self._owner, max(10.0, self._poll * 5)):
            return 0
        cursor = await self._store.jobs.sink_cursor(self.sink.id)
        rows = [r async for r in self._store.iter_decisions(DecisionQuery(after_seq=cursor, limit=BATCH))]
        if not rows:
            return 0
        await self.sink.send([to_event(row, self._origin) for row in rows])
        await self._store.jobs.advance_sink(self.sink.id, self._owner, rows[-1].seq)
        if self._metrics:
            self._metrics.sink_delivered.labels(self.lane, self.sink.id).inc(len(rows))
        return len(rows)
