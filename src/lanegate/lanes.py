"""A lane at run time: its configuration, store, stages, breakers, credentials and digest key."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging

from lanegate.config.lane import LaneConfig
from lanegate.config.models import BreakerSettings
from lanegate.config.secrets import resolve_secret
from lanegate.exchange import RoutePlan
from lanegate.ledger.signing import ensure_key, sign_checkpoint
from lanegate.metrics import Metrics
from lanegate.policy.chain import build_request_stages
from lanegate.policy.stage import RequestStage, ResponseStage
from lanegate.routing.breaker import CircuitBreaker
from lanegate.routing.planner import ComplianceTable
from lanegate.sinks.shipper import Shipper, build_sink
from lanegate.store.base import LaneStore, StoreUnavailable

log = logging.getLogger("lanegate.lanes")
DIGEST_SECRET = "audit-digest"  # noqa: S105 - the name of a lane secret, not a secret


class Lane:
    """Everything one lane owns. Nothing here is shared with another lane."""

    def __init__(self, config: LaneConfig, store: LaneStore, breaker: BreakerSettings,
                 response_stages: list[ResponseStage] | None = None, checkpoint_seconds: float = 60.0,
                 metrics: Metrics | None = None, sink_poll_seconds: float = 1.0) -> None:
        self.config = config
        self.name = config.name
        self.store = store
        self.request_stages: list[RequestStage] = build_request_stages(config)
        self.response_stages: list[ResponseStage] = response_stages or []
        self.compliance = ComplianceTable(config)
        self.breakers = {t.id: CircuitBreaker(breaker.failure_threshold, breaker.reset_seconds) for t in config.targets}
        self._secrets: dict[str, str | None] = {}
        self._digest_key = b""
        self._checkpoint_seconds = checkpoint_seconds
        self._checkpointer: asyncio.Task[None] | None = None
        self._metrics = metrics
        self._sink_poll = sink_poll_seconds
        self.shippers: list[Shipper] = []
        self._shipping: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Open the store, read the digest key and resolve every target's credential (raises if one is missing)."""
        self._secrets = {
            t.id: resolve_secret(t.secret_key_ref) if t.secret_key_ref else None for t in self.config.targets
        }
        await self.store.open()
        self._digest_key = await self.store.lane_secret(DIGEST_SECRET)
        await ensure_key(self.store, self.config.origin)
        self._checkpointer = asyncio.create_task(self._checkpoint_loop(), name=f"checkpoints-{self.name}")
        self.shippers = [Shipper(self.name, self.config.origin, self.store, build_sink(spec, self.config.source.parent),
                                 self._metrics, self._sink_poll) for spec in self.config.sinks]
        self._shipping = [asyncio.create_task(s.run(), name=f"sink-{self.name}-{s.sink.id}") for s in self.shippers]

    def notify_appended(self) -> None:
        """Wake the sink shippers: a record was just written."""
        for shipper in self.shippers:
            shipper.wake.set()

    async def stop(self) -> None:
        """Stop checkpointing and shipping, sign a last checkpoint, close the store."""
        for task in [*self._shipping, *([self._checkpointer] if self._checkpointer else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for shipper in self.shippers:
            await shipper.sink.close()
        try:
            await sign_checkpoint(self.store, self.config.origin)
        except StoreUnavailable:
            log.error("final checkpoint not signed", extra={"lane": self.name})
        await self.store.close()

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(self._checkpoint_seconds)
            try:
                await sign_checkpoint(self.store, self.config.origin)
            except StoreUnavailable:
                log.error("checkpoint not signed; retrying at the next interval", extra={"lane": self.name})

    def secret(self, target_id: str) -> str | None:
        return self._secrets.get(target_id)

    def plan(self, model: str) -> RoutePlan:
        """Compliant targets for ``model`` in priority order, plus every set-aside target with its reasons."""
        return self.compliance.plan(self.config.targets_for_model(model), self.breakers)

    def digest(self, data: bytes) -> str:
        """A keyed digest of payload bytes: proves equality to whoever holds the lane key, confirms no guess."""
        return "hmac-sha256:" + hmac.new(self._digest_key, data, hashlib.sha256).hexdigest()

    def secret_values(self) -> list[str]:
        return [s for s in self._secrets.values() if s]
