"""Calling the planned targets in order, failing over only inside the plan."""

from __future__ import annotations

import asyncio
import logging
import time

import orjson

from lanegate.exchange import Attempt, Exchange
from lanegate.metrics import Metrics
from lanegate.providers.base import Provider, UpstreamFailure, UpstreamResponse
from lanegate.routing.planner import no_compliant_provider

log = logging.getLogger("lanegate.routing")


class Router:
    """Tries ``exchange.plan.candidates`` by priority; on connect error, timeout or 5xx, the next one.

    There is no other source of targets: when the plan is exhausted the request is refused with 503
    ``no_compliant_provider``. It is never sent to a target outside the plan, nor to another lane.
    """

    def __init__(self, provider: Provider, metrics: Metrics) -> None:
        self._provider = provider
        self._metrics = metrics

    async def call(self, ex: Exchange, path: str) -> UpstreamResponse:
        assert ex.plan is not None and ex.model is not None
        lane = ex.lane
        payload = ex.payload()
        for target in ex.plan.candidates:
            breaker = lane.breakers[target.id]
            if not breaker.allow():
                ex.attempts.append(Attempt(target.id, "circuit_open"))
                continue
            payload["model"] = target.model
            body = orjson.dumps(payload)
            started = time.perf_counter()
            try:
                response = await self._provider.call(target, lane.secret(target.id), path, body, stream=ex.stream)
            except UpstreamFailure as failure:
                breaker.record_failure()
                self._metrics.upstream_errors.labels(lane.name, target.id, failure.kind).inc()
                ex.attempts.append(Attempt(target.id, failure.kind, failure.status))
                continue
            except asyncio.CancelledError:
                breaker.release()
                raise
            elapsed = time.perf_counter() - started
            breaker.record_success()
            self._metrics.upstream_latency.labels(lane.name, target.id).observe(elapsed)
            ex.selected = target
            ex.upstream_body = body
            ex.upstream_status = response.status
            ex.upstream_latency_us = int(elapsed * 1_000_000)
            ex.attempts.append(Attempt(target.id, "ok", response.status))
            if lane.config.routing is not None and lane.config.routing.log_provider_selection:
                log.info("provider selected", extra={"lane": lane.name, "request_id": ex.request_id,
                                                     "target": target.id, "region": target.region})
            return response
        raise no_compliant_provider(lane.name, ex.model, ex.plan.excluded, ex.attempts)
