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
from lanegate.policy.chain import build_request_stages
from lanegate.policy.stage import RequestStage, ResponseStage
from lanegate.routing.breaker import CircuitBreaker
from lanegate.routing.planner import ComplianceTable
from lanegate.store.base import LaneStore, StoreUnavailable

log = logging.getLogger("lanegate.lanes")
DIGEST_SECRET = "audit-digest"  # noqa: S105 - the name of a lane secret, not a secret


class Lane:
    """Everything one lane owns. Nothing here is shared with another lane."""

    def __init__(self, config: LaneConfig, store: LaneStore, breaker: BreakerSettings,
                 response_stages: list[ResponseStage] | None = None, checkpoint_seconds: float = 60.0) -> None:
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

    async def start(self) -> None:
        """Open the store, read the digest key and resolve every target's credential (raises if one is missing)."""
        self._secrets = {
            t.id: resolve_secret(t.secret_key_ref) if t.secret_key_ref else None for t in self.config.targets
        }
        await self.store.open()
        self._digest_key = await self.store.lane_secret(DIGEST_SECRET)
        await ensure_key(self.store, self.config.origin)
        self._checkpointer = asyncio.create_task(self._checkpoint_loop(), name=f"checkpoints-{self.name}")

    async def stop(self) -> None:
        """Stop checkpointing, sign a last checkpoint, close the store."""
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer
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
