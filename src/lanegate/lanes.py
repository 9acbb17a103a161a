"""A lane at run time.

Two lifetimes meet here:

* :class:`LaneServices` lives as long as the process serves the lane: the store, the digest key, signed
  checkpoints, the log-sink shippers, background jobs and the watch for a pack changed by another process;
* :class:`Lane` is one *generation* of the lane's configuration: the pack, its stages, its routing table and
  credentials. A reload builds a new generation; requests already in flight finish with the one they began
  with, so no request ever sees half of one pack and half of another.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from lanegate.audit.record import build_config_record
from lanegate.config.lane import LaneConfig
from lanegate.config.models import BreakerSettings
from lanegate.config.secrets import SecretUnavailable, resolve_secret
from lanegate.exchange import RoutePlan
from lanegate.identity.keys import Principal
from lanegate.ledger.signing import ensure_key, sign_checkpoint
from lanegate.metrics import Metrics
from lanegate.pii.vault import TokenVault, parse_key
from lanegate.policy.chain import build_request_stages, build_response_stages
from lanegate.policy.memo import SIZE
from lanegate.policy.stage import RequestStage, ResponseStage
from lanegate.routing.breaker import CircuitBreaker
from lanegate.routing.planner import ComplianceTable
from lanegate.sinks.shipper import Shipper, build_sink
from lanegate.store.base import LaneStore, StoreUnavailable

log = logging.getLogger("lanegate.lanes")
DIGEST_SECRET = "audit-digest"  # noqa: S105 - the name of a lane secret, not a secret
PII_HASH_SECRET = "pii-hash"  # noqa: S105 - the name of a lane secret, not a secret
#: Called with the pack digest another process put in force, when it differs from this process's.
PackWatcher = Callable[[str], Awaitable[None]]


class LaneServices:
    """What one lane owns for the life of the process. Nothing here is shared with another lane."""

    def __init__(self, name: str, origin: str, store: LaneStore, *, checkpoint_seconds: float = 60.0,
                 metrics: Metrics | None = None, sink_poll_seconds: float = 1.0,
                 config_poll_seconds: float = 2.0) -> None:
        self.name = name
        self.origin = origin
        self.store = store
        self.digest_key = b""
        self.pii_key = b""
        self.shippers: list[Shipper] = []
        self._metrics = metrics
        self._checkpoint_seconds = checkpoint_seconds
        self._sink_poll = sink_poll_seconds
        self._config_poll = config_poll_seconds
        self._tasks: list[asyncio.Task[None]] = []
        self._shipping: list[asyncio.Task[None]] = []
        self._jobs: set[asyncio.Task[Any]] = set()

    async def open(self, config: LaneConfig, watch: PackWatcher | None = None) -> None:
        """Open the store, read the digest key, make sure a signing key exists, start the background work."""
        await self.store.open()
        self.digest_key = await self.store.lane_secret(DIGEST_SECRET)
        self.pii_key = await self.store.lane_secret(PII_HASH_SECRET)
        await ensure_key(self.store, self.origin)
        self._tasks.append(asyncio.create_task(self._checkpoint_loop(), name=f"checkpoints-{self.name}"))
        if watch is not None:
            self._tasks.append(asyncio.create_task(self._watch_pack(config, watch), name=f"pack-{self.name}"))
        await self.ship_to(config)

    async def ship_to(self, config: LaneConfig) -> None:
        """(Re)start the shippers for ``config.sinks``; each resumes from its stored cursor, so none is lost."""
        await self._stop_shipping()
        self.shippers = [Shipper(self.name, self.origin, self.store, build_sink(spec, config.source.parent),
                                 self._metrics, self._sink_poll) for spec in config.sinks]
        self._shipping = [asyncio.create_task(s.run(), name=f"sink-{self.name}-{s.sink.id}") for s in self.shippers]

    async def _stop_shipping(self) -> None:
        await _cancel(self._shipping)
        for shipper in self.shippers:
            await shipper.sink.close()
        self._shipping, self.shippers = [], []

    def notify_appended(self) -> None:
        """Wake the sink shippers: a record was just written."""
        for shipper in self.shippers:
            shipper.wake.set()

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``work`` in the background; it is cancelled when the lane closes."""
        task = asyncio.create_task(work, name=f"{name}-{self.name}")
        self._jobs.add(task)
        task.add_done_callback(self._jobs.discard)
        return task

    async def put_in_force(self, config: LaneConfig, reason: str, actor: Principal | None) -> bool:
        """Record ``config``'s pack as the one in force, if it is not already; ``True`` if a record was written."""
        stored = await self.store.set_pack_digest(
            config.sha256, lambda previous: build_config_record(config, previous, reason, actor))
        if stored is not None:
            self.notify_appended()
        return stored is not None

    async def close(self) -> None:
        """Stop background work, sign a last checkpoint, close the store."""
        await _cancel([*self._tasks, *self._jobs])
        await self._stop_shipping()
        try:
            await sign_checkpoint(self.store, self.origin)
        except StoreUnavailable:
            log.error("final checkpoint not signed", extra={"lane": self.name})
        await self.store.close()

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(self._checkpoint_seconds)
            try:
                await sign_checkpoint(self.store, self.origin)
            except StoreUnavailable:
                log.error("checkpoint not signed; retrying at the next interval", extra={"lane": self.name})

    async def _watch_pack(self, config: LaneConfig, watch: PackWatcher) -> None:
        """Follow a pack put in force by another process sharing the store (another worker's reload)."""
        seen = config.sha256
        while True:
            await asyncio.sleep(self._config_poll)
            try:
                current = await self.store.pack_digest()
            except StoreUnavailable:
                continue
            if current is not None and current != seen:
                seen = current
                await watch(current)

    def digest(self, data: bytes) -> str:
        return "hmac-sha256:" + hmac.new(self.digest_key, data, hashlib.sha256).hexdigest()


class Lane:
    """One generation of a lane's configuration, with the services it runs on."""

    def __init__(self, config: LaneConfig, services: LaneServices, breaker: BreakerSettings,
                 response_stages: list[ResponseStage] | None = None, previous: Lane | None = None,
                 memo_entries: int = SIZE) -> None:
        self.config = config
        self.name = config.name
        self.services = services
        self.store = services.store
        self.vault: TokenVault | None = None
        self.request_stages: list[RequestStage] = build_request_stages(config, lambda: services.pii_key,
                                                                       lambda: self.vault, memo_entries)
        self.response_stages: list[ResponseStage] = [*(response_stages or []),
                                                     *build_response_stages(config, self.request_stages)]
        self.compliance = ComplianceTable(config)
        kept: dict[str, CircuitBreaker] = previous.breakers if previous is not None else {}
        self.breakers: dict[str, CircuitBreaker] = {
            t.id: kept.get(t.id) or CircuitBreaker(breaker.failure_threshold, breaker.reset_seconds)
            for t in config.targets}
        self._secrets: dict[str, str | None] = {}

    def resolve_secrets(self) -> None:
        """Read every target's credential now (raises if one is missing), so a lane never starts half-armed."""
        self._secrets = {
            t.id: resolve_secret(t.secret_key_ref) if t.secret_key_ref else None for t in self.config.targets
        }
        pii = self.config.pii
        if pii is not None and pii.tokenizes and pii.vault_key_ref is not None:
            try:
                key = parse_key(resolve_secret(pii.vault_key_ref))
            except ValueError as exc:
                raise SecretUnavailable(f"{pii.vault_key_ref.describe()}: {exc}") from None
            self.vault = TokenVault(self.store.vault, self.name, key, pii.vault_ttl_seconds)

    def notify_appended(self) -> None:
        self.services.notify_appended()

    def secret(self, target_id: str) -> str | None:
        return self._secrets.get(target_id)

    def plan(self, model: str, tokenized: bool = False) -> RoutePlan:
        """Compliant targets for ``model`` in priority order, plus every set-aside target with its reasons.
        A ``tokenized`` request goes only to targets that declare they accept tokenized input."""
        return self.compliance.plan(self.config.targets_for_model(model), self.breakers, tokenized)

    def digest(self, data: bytes) -> str:
        """A keyed digest of payload bytes: proves equality to whoever holds the lane key, confirms no guess."""
        return self.services.digest(data)

    def secret_values(self) -> list[str]:
        return [s for s in self._secrets.values() if s]


async def _cancel(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
