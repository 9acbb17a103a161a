"""The gateway as an ASGI application: endpoint routing, lifespan, and the lane ingress.

Lane endpoints live under ``/lanes/{lane}/v1/`` (see :mod:`lanegate.ingress.routes`); the process answers
``/healthz``, ``/readyz``, ``/metrics`` and ``/openapi.json``. Everything is built once in :class:`Gateway`
and passed in explicitly; there are no module globals.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from lanegate import collector, logs
from lanegate.config.lane import LaneConfig
from lanegate.config.loader import LoadedConfig
from lanegate.errors import Refusal, not_found
from lanegate.exchange import Exchange
from lanegate.identity.authenticator import Authenticator
from lanegate.identity.keys import KeyVerifier
from lanegate.ingress.http import HttpIO, Receive, Scope, Send
from lanegate.ingress.openapi import build_openapi
from lanegate.ingress.routes import match
from lanegate.laneset import LaneSet, ReloadRefused
from lanegate.metrics import Metrics
from lanegate.operations import Operations
from lanegate.pipeline import Pipeline
from lanegate.policy.stage import ResponseStage
from lanegate.providers.base import Provider
from lanegate.providers.openai_compat import OpenAICompatible
from lanegate.routing.router import Router
from lanegate.store.base import StoreUnavailable

log = logging.getLogger("lanegate")

def _method_not_allowed(allowed: str) -> Refusal:
    return Refusal(405, f"Method not allowed; use {allowed}.", type="invalid_request_error", code="method_not_allowed")


class Gateway:
    """The ASGI application. ``provider`` and ``response_stages`` may be injected (tests, embedding);
    ``settle_collector``: tune the process's garbage collector once started (:mod:`lanegate.collector`), as
    ``lanegate serve`` does."""

    def __init__(self, config: LoadedConfig, *, provider: Provider | None = None,
                 response_stages: dict[str, list[ResponseStage]] | None = None,
                 reload_on_sighup: bool = False, settle_collector: bool = False) -> None:
        self.config = config
        self.metrics = Metrics()
        self._own_provider = provider is None
        self.provider: Provider = provider or OpenAICompatible(config.settings.upstream)
        self.lanes = LaneSet(config, self.metrics, response_stages, on_change=self._lanes_changed)
        keys = KeyVerifier(self.lanes.stores, config.settings.key_cache_seconds)
        self.authenticator = Authenticator(keys, config.lanes)
        self.pipeline = Pipeline(config.settings, self.authenticator, Router(self.provider, self.metrics),
                                 self.metrics, Operations(self.authenticator, self.lanes))
        self._openapi = orjson.dumps(build_openapi())
        self._reload_on_sighup = reload_on_sighup
        self.settle_collector = settle_collector
        self._reloading: set[asyncio.Task[None]] = set()

    def _lanes_changed(self, configs: Mapping[str, LaneConfig]) -> None:
        self.authenticator.update(configs)

    async def startup(self) -> None:
        if isinstance(self.provider, OpenAICompatible):
            await self.provider.start()
        await self.lanes.start()
        if self._reload_on_sighup:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_sighup)
        if self.settle_collector:  # what exists now lives as long as the process: leave it out of collections
            collector.settle()

    def _on_sighup(self) -> None:
        task = asyncio.create_task(self.reload_all("signal"))
        self._reloading.add(task)
        task.add_done_callback(self._reloading.discard)

    async def reload_all(self, reason: str) -> None:
        """Reload every lane's pack (``SIGHUP``); the outcome is logged."""
        try:
            result = await self.lanes.reload(None, None, reason)
        except ReloadRefused as refused:
            log.error("reload refused: %s %s", refused.message, "; ".join(refused.problems))
            return
        except StoreUnavailable as exc:
            log.error("reload not applied: a lane store is unavailable (%s)", exc)
            return
        changed = [c.lane for c in result.changes if c.changed]
        log.info("reloaded: %s", ", ".join(changed) if changed else "no pack changed")
        for note in result.notes:
            log.warning("reload: %s", note)

    async def shutdown(self) -> None:
        if self._reload_on_sighup:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        await self.lanes.stop()
        if isinstance(self.provider, OpenAICompatible):
            await self.provider.stop()
        await asyncio.to_thread(logs.flush)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        http = HttpIO(scope, receive, send, "req_" + uuid.uuid4().hex)
        if http.header_bytes() > self.config.settings.max_header_bytes:
            await http.refuse(Refusal(431, "Request headers exceed the gateway's limit.",
                                      type="invalid_request_error", code="request_header_too_large"))
            return
        path: str = scope["path"]
        if path.startswith("/lanes/"):
            await self._lane_request(http, path)
            return
        await self._plain_request(http, path, scope["method"])

    async def _lane_request(self, http: HttpIO, path: str) -> None:
        parts = path.split("/", 4)  # '', 'lanes', lane, 'v1', rest
        lane = self.lanes.get(parts[2]) if len(parts) > 2 else None
        if lane is None:  # answered as a lane answers a credential not its own: lanes cannot be enumerated
            self.metrics.unrouted.labels("unknown_lane").inc()
            await http.refuse(await self.authenticator.refuse_unknown_lane(http.header(b"authorization"),
                                                                            parts[2] if len(parts) > 2 else ""))
            return
        http.lane = lane.name
        try:
            found = match(parts[4], http.scope["method"]) if len(parts) == 5 and parts[3] == "v1" else None
        except Refusal as wrong_method:  # a known path with another method
            await self.pipeline.refuse(Exchange(http.request_id, lane, "unrouted"), http, wrong_method)
            return
        if found is None:  # refused, and recorded like any lane request
            unknown = not_found(f"Unknown endpoint {path!r}.", "not_found")
            await self.pipeline.refuse(Exchange(http.request_id, lane, "unrouted"), http, unknown)
            return
        route, path_id = found
        ex = Exchange(http.request_id, lane, route.endpoint, authorization=http.header(b"authorization"),
                      purpose=http.header(b"x-lanegate-purpose"), path_id=path_id,
                      conversation=http.header(b"x-lanegate-conversation"),
                      query=http.scope.get("query_string", b""))
        await self.pipeline.serve(ex, http, route.role)

    async def _plain_request(self, http: HttpIO, path: str, method: str) -> None:
        if path not in {"/healthz", "/readyz", "/metrics", "/openapi.json"}:
            self.metrics.unrouted.labels("unknown_endpoint").inc()
            await http.refuse(not_found(f"Unknown endpoint {path!r}.", "not_found"))
            return
        if method not in {"GET", "HEAD"}:
            await http.refuse(_method_not_allowed("GET"))
            return
        if path == "/healthz":
            await http.respond_json(200, {"status": "ok"})
        elif path == "/readyz":
            status, body = await self._readiness()
            await http.respond_json(status, body)
        elif path == "/metrics":
            await http.respond(200, self.metrics.exposition(), b"text/plain; version=0.0.4; charset=utf-8")
        else:
            await http.respond(200, self._openapi)

    async def _readiness(self) -> tuple[int, dict[str, Any]]:
        lanes: dict[str, str] = {}
        for name, lane in self.lanes.items():
            try:
                await lane.store.ping()
                lanes[name] = "ready"
            except Exception as exc:  # any failure means not ready; the reason is logged, not exposed
                log.warning("lane store not ready", extra={"lane": name, "error": exc.__class__.__name__})
                lanes[name] = "store_unavailable"
        ready = all(v == "ready" for v in lanes.values())
        return (200 if ready else 503), {"status": "ready" if ready else "not_ready", "lanes": lanes}

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.error("startup failed: %s", exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
