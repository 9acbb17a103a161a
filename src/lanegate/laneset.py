"""The lanes a gateway process serves, and how their configuration is reloaded.

A reload reads the whole configuration again and checks all of it; nothing changes unless it loads without
error. It then puts the new pack of each named lane in force: the change is recorded in the lane's ledger
first (digests before and after, who asked, why) and only then applied, so an unrecorded pack never serves
a request. Several processes share a lane's store; the others see the recorded digest change and follow,
provided the pack on their disk is the one recorded.

A reload changes lanes, not the process: a new or removed lane, a lane's store or origin, and the gateway
settings take effect at the next restart (reported, never applied halfway).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from lanegate.config.errors import ConfigError
from lanegate.config.lane import LaneConfig
from lanegate.config.loader import LoadedConfig, load_config
from lanegate.config.secrets import SecretUnavailable
from lanegate.identity.keys import Principal
from lanegate.lanes import Lane, LaneServices, PackWatcher
from lanegate.metrics import Metrics
from lanegate.policy.stage import ResponseStage
from lanegate.store.base import LaneStore
from lanegate.store.factory import open_store

log = logging.getLogger("lanegate.reload")


class ReloadRefused(Exception):
    """The reload changed nothing: ``code`` says why, ``problems`` lists what to fix."""

    def __init__(self, status: int, code: str, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.problems = status, code, message, problems or []


@dataclass(frozen=True)
class LaneChange:
    """What a reload did to one lane."""

    lane: str
    before: str
    after: str
    pack: str
    version: str
    recorded: bool

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class ReloadResult:
    changes: list[LaneChange]
    notes: list[str] = field(default_factory=list)


class LaneSet(Mapping[str, Lane]):
    """The current generation of every lane, by name."""

    def __init__(self, config: LoadedConfig, metrics: Metrics,
                 response_stages: Mapping[str, list[ResponseStage]] | None = None,
                 on_change: Callable[[Mapping[str, LaneConfig]], None] | None = None) -> None:
        self._config = config
        self._settings = config.settings
        self._response_stages = dict(response_stages or {})
        self._on_change = on_change
        self._lock = asyncio.Lock()
        self._lanes: dict[str, Lane] = {}
        for name, lane in config.lanes.items():
            services = LaneServices(name, lane.origin, open_store(lane.store_url),
                                    checkpoint_seconds=self._settings.checkpoint_seconds, metrics=metrics,
                                    sink_poll_seconds=self._settings.sink_poll_seconds,
                                    config_poll_seconds=self._settings.config_poll_seconds)
            self._lanes[name] = self._generation(lane, services, None)
        self.stores: Mapping[str, LaneStore] = _Stores(self._lanes)

    def __getitem__(self, name: str) -> Lane:
        return self._lanes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._lanes)

    def __len__(self) -> int:
        return len(self._lanes)

    def configs(self) -> dict[str, LaneConfig]:
        return {name: lane.config for name, lane in self._lanes.items()}

    def _generation(self, config: LaneConfig, services: LaneServices, previous: Lane | None) -> Lane:
        return Lane(config, services, self._settings.circuit_breaker, self._response_stages.get(config.name),
                    previous, self._settings.content_memo_entries)

    async def start(self) -> None:
        """Resolve credentials, open every lane, and record each lane's pack if it is not the one in force."""
        for lane in self._lanes.values():
            lane.resolve_secrets()
        for name, lane in self._lanes.items():
            watch = self._follower(name) if self._config.path is not None else None
            await lane.services.open(lane.config, watch)
            await lane.services.put_in_force(lane.config, "start", None)

    async def stop(self) -> None:
        for lane in self._lanes.values():
            await lane.services.close()

    async def reload(self, names: list[str] | None, actor: Principal | None, reason: str) -> ReloadResult:
        """Reload the configuration and put the packs of ``names`` (``None``: every lane) in force."""
        async with self._lock:
            loaded = await self._read(names)
            wanted = list(self._lanes) if names is None else names
            result = ReloadResult([], self._restart_notes(loaded) if names is None else [])
            staged: list[tuple[Lane, Lane]] = []
            for name in wanted:
                current = self._lanes[name]
                new = _successor_config(current.config, loaded.lanes.get(name))
                generation = self._generation(new, current.services, current)
                try:
                    generation.resolve_secrets()
                except SecretUnavailable as exc:
                    raise ReloadRefused(422, "invalid_configuration", f"lane '{name}': a target's secret is "
                                        f"unavailable: {exc}; nothing was changed") from None
                staged.append((current, generation))
            for current, generation in staged:
                recorded = await current.services.put_in_force(generation.config, reason, actor)
                await self._install(current, generation)
                result.changes.append(LaneChange(generation.name, current.config.sha256, generation.config.sha256,
                                                 generation.config.pack.name, generation.config.pack.version,
                                                 recorded))
                if current.config.sha256 != generation.config.sha256:
                    log.info("lane pack reloaded", extra={"lane": generation.name, "reason": reason,
                                                          "pack_sha256": generation.config.sha256})
            self._changed()
            return result

    async def _read(self, names: list[str] | None) -> LoadedConfig:
        path = self._config.path
        if path is None:
            raise ReloadRefused(409, "reload_unavailable", "This gateway was started from configuration given "
                                "in memory; there is nothing to read again. Restart it to change its packs.")
        try:
            return await asyncio.to_thread(load_config, path)
        except ConfigError as exc:
            log.error("reload refused: the configuration does not load", extra={"problems": len(exc.problems)})
            for problem in exc.problems:
                log.error("reload: %s", problem)
            own = {str(self._lanes[n].config.source) for n in names} if names is not None else None
            shown = [str(p) for p in exc.problems if own is None or p.file in own]
            hidden = len(exc.problems) - len(shown)
            message = "The configuration does not load; nothing was changed."
            if hidden:  # another lane's files are not this lane admin's to read
                message += f" {hidden} problem(s) are in files of other lanes or the gateway; see the gateway log."
            raise ReloadRefused(422, "invalid_configuration", message, shown) from None

    def _restart_notes(self, loaded: LoadedConfig) -> list[str]:
        notes = [f"lane '{n}' is new: restart the gateway to serve it" for n in loaded.lanes if n not in self._lanes]
        notes += [f"lane '{n}' is no longer configured: restart the gateway to stop serving it"
                  for n in self._lanes if n not in loaded.lanes]
        if loaded.settings != self._settings:
            notes.append("gateway settings changed: restart the gateway to apply them")
        return notes

    def _follower(self, name: str) -> PackWatcher:
        async def follow(digest: str) -> None:
            try:
                await self._follow(name, digest)
            except Exception:  # never let the watch die; the next change is followed again
                log.exception("could not follow a pack change", extra={"lane": name})

        return follow

    async def _follow(self, name: str, digest: str) -> None:
        async with self._lock:
            current = self._lanes[name]
            if current.config.sha256 == digest:
                return
            try:
                loaded = await asyncio.to_thread(load_config, self._config.path)  # type: ignore[arg-type]
            except ConfigError:
                log.error("another process put a new pack in force, but the configuration here does not load",
                          extra={"lane": name})
                return
            new = loaded.lanes.get(name)
            if new is None or new.sha256 != digest or new.store_url != current.config.store_url:
                log.error("another process put pack %s in force, but this process reads a different pack; "
                          "it keeps its own until the packs agree", digest[:12], extra={"lane": name})
                return
            generation = self._generation(new, current.services, current)
            generation.resolve_secrets()
            await self._install(current, generation)
            log.info("followed a pack put in force by another process", extra={"lane": name})
            self._changed()

    async def _install(self, current: Lane, generation: Lane) -> None:
        """Serve ``generation`` from now on (its sinks restarted if they changed)."""
        if generation.config.sinks != current.config.sinks:
            await current.services.ship_to(generation.config)
        self._lanes[generation.name] = generation

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.configs())


def _successor_config(current: LaneConfig, new: LaneConfig | None) -> LaneConfig:
    if new is None:
        raise ReloadRefused(409, "restart_required", f"Lane '{current.name}' is no longer in the configuration "
                            "(removed or disabled); restart the gateway to stop serving it. Nothing was changed.")
    for what, before, after in (("lane.store", current.store_url, new.store_url),
                                ("lane.origin", current.origin, new.origin)):
        if before != after:
            raise ReloadRefused(409, "restart_required", f"Lane '{current.name}': {what} changed; the lane's "
                                "log cannot move while it is served. Restart the gateway to apply it. "
                                "Nothing was changed.")
    return new


class _Stores(Mapping[str, LaneStore]):
    """The lanes' stores, read live (key lookups follow reloads)."""

    def __init__(self, lanes: dict[str, Lane]) -> None:
        self._lanes = lanes

    def __getitem__(self, name: str) -> LaneStore:
        return self._lanes[name].store

    def __iter__(self) -> Iterator[str]:
        return iter(self._lanes)

    def __len__(self) -> int:
        return len(self._lanes)
