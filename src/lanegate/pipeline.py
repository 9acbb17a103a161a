"""The request path of a lane, in one place.

    ingress and identity -> lane -> request policy chain -> routing -> provider call
        -> response chain (buffered or streamed) -> audit record -> response

Every lane request ends in exactly one decision record, written before the response completes. If it
cannot be written, a buffered response is withheld (503 ``audit_unavailable``) and a stream ends with an
error event instead of ``[DONE]``: the gateway fails closed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import orjson

from lanegate.audit.record import build_record
from lanegate.config.models import GatewaySettings, Role
from lanegate.errors import Refusal, invalid_request, not_found, rate_limited, unavailable
from lanegate.exchange import PROCESSING, Exchange
from lanegate.identity.authenticator import Authenticator, require_role
from lanegate.identity.ratelimit import RateLimiter
from lanegate.ingress.http import HttpIO
from lanegate.ingress.schemas import parse_chat, parse_embeddings
from lanegate.metrics import Metrics
from lanegate.operations import Operations
from lanegate.policy.chain import run_request_chain
from lanegate.policy.stage import StreamFilter
from lanegate.providers.base import UpstreamFailure, UpstreamResponse
from lanegate.providers.sse import DONE, encode_event, event_data, parse_data
from lanegate.routing.planner import no_compliant_provider
from lanegate.routing.router import Router
from lanegate.store.base import StoreUnavailable

log = logging.getLogger("lanegate.pipeline")

UPSTREAM_PATHS = {"chat.completions": "/chat/completions", "embeddings": "/embeddings"}
AUDIT_UNAVAILABLE = "The decision record could not be written, so the response is withheld."


class Pipeline:
    """Serves lane requests. Built once by the app, with everything it uses passed in."""

    def __init__(self, settings: GatewaySettings, authenticator: Authenticator, router: Router,
                 metrics: Metrics, operations: Operations) -> None:
        self._settings = settings
        self._operations = operations
        self._authenticator = authenticator
        self._limiter = RateLimiter(settings.rate_limit.requests_per_second, settings.rate_limit.burst)
        self._router = router
        self._metrics = metrics
        self._in_flight = 0  # requests being served by this process (a lone one commits its record at once)

    async def serve(self, ex: Exchange, http: HttpIO, role: Role | None) -> None:
        """Serve ``ex`` for a principal holding ``role`` in the lane (``None``: any valid credential)."""
        self._in_flight += 1
        try:
            await self._serve(ex, http, role)
        finally:
            self._in_flight -= 1

    async def _serve(self, ex: Exchange, http: HttpIO, role: Role | None) -> None:
        lane = ex.lane
        try:
            ex.principal = await self._authenticator.authenticate(ex.authorization, lane.name)
            require_role(ex.principal, role, lane.name)  # a refusal for a missing role records who asked
            wait = self._limiter.retry_after(f"{lane.name}\x00{ex.principal.kind}\x00{ex.principal.issuer}\x00"
                                             f"{ex.principal.name}")
            if wait is not None:
                raise rate_limited(wait)
            _check_purpose(ex)
            _check_conversation(ex)
            if self._operations.handles(ex.endpoint):  # answered by the gateway itself: nothing leaves the lane
                await self._answer_locally(ex, http)
                return
            ex.body = await http.read_body(self._settings.max_body_bytes, self._settings.body_timeout_seconds)
            self._parse(ex)
            await run_request_chain(lane.request_stages, ex)
            if ex.plan is None:  # no data-routing-policy stage: region-only plan, same refusal rules
                ex.plan = lane.plan(ex.model or "", ex.tokenized)
                if not ex.plan.candidates:
                    raise no_compliant_provider(lane.name, ex.model or "", ex.plan.excluded, [])
            upstream = await self._router.call(ex, UPSTREAM_PATHS[ex.endpoint])
        except Refusal as refusal:
            await self.refuse(ex, http, refusal)
            return
        except StoreUnavailable:  # a key lookup or a local answer's store work or record failed; nothing was sent
            await self.refuse(ex, http, unavailable("The lane's store is unavailable; the request was not sent "
                                                    "anywhere.", "store_unavailable"))
            return
        if upstream.events is not None:
            await self._relay_stream(ex, http, upstream)
        else:
            await self._respond_buffered(ex, http, upstream)

    async def _answer_locally(self, ex: Exchange, http: HttpIO) -> None:
        """An operation of the gateway itself: answered, recorded, then sent (a file is streamed from disk)."""
        if http.scope["method"] == "POST":
            ex.body = await http.read_body(self._settings.max_body_bytes, self._settings.body_timeout_seconds)
        answer = await self._operations.answer(ex)
        ex.status = answer.status
        await self._record(ex)
        if answer.file is not None:
            await http.send_file(answer.status, answer.file, answer.content_type, answer.headers)
        else:
            await http.respond(answer.status, answer.body, answer.content_type, answer.headers)

    def _parse(self, ex: Exchange) -> None:
        if ex.endpoint == "chat.completions":
            ex.chat = parse_chat(ex.body)
            ex.model, ex.stream = ex.chat.model, bool(ex.chat.stream)
        else:
            ex.embeddings = parse_embeddings(ex.body)
            ex.model = ex.embeddings.model
        if not ex.lane.config.targets_for_model(ex.model):
            raise not_found(f"The model '{ex.model}' does not exist in lane '{ex.lane.name}'.",
                            "model_not_found", "model")

    async def _respond_buffered(self, ex: Exchange, http: HttpIO, upstream: UpstreamResponse) -> None:
        body = upstream.body or b""
        ex.status = upstream.status
        try:
            if upstream.status < 300 and upstream.content_type.startswith("application/json"):
                payload = orjson.loads(body)
                if isinstance(payload, dict):
                    usage = payload.get("usage")
                    ex.usage = _usage(usage)
                    for stage in reversed(ex.lane.response_stages):
                        await stage.on_response(ex, payload)
                    if ex.lane.response_stages:
                        body = orjson.dumps(payload)
            await self._record(ex)
        except Refusal as refusal:
            await self.refuse(ex, http, refusal)
            return
        except orjson.JSONDecodeError:
            await self.refuse(ex, http, unavailable("The provider returned malformed JSON.", "upstream_invalid"))
            return
        except StoreUnavailable:
            await http.refuse(unavailable(AUDIT_UNAVAILABLE, "audit_unavailable"))
            return
        await http.respond(upstream.status, body, upstream.content_type.encode("latin-1"), _target_header(ex))

    async def _relay_stream(self, ex: Exchange, http: HttpIO, upstream: UpstreamResponse) -> None:
        assert upstream.events is not None
        filters = [f for s in reversed(ex.lane.response_stages) if (f := s.stream_filter(ex)) is not None]
        guard = None
        try:
            await http.start_stream(200, b"text/event-stream", _target_header(ex))
            guard = http.watch_disconnect()
            async for event in upstream.events:
                data = event_data(event)
                if data == b"[DONE]":
                    continue  # sent only once the decision record is written
                if data is not None and (filters or b'"usage":{' in data):
                    parsed = parse_data(data)
                    if parsed is not None:
                        ex.usage = _usage(parsed.get("usage")) or ex.usage
                        if filters:
                            for out in _apply(filters, parsed):
                                await http.send_chunk(encode_event(out))
                            continue
                await http.send_chunk(event + b"\n\n")
            for stream_filter in filters:
                for out in stream_filter.on_end():
                    await http.send_chunk(encode_event(out))
            ex.stream_outcome = "completed"
        except asyncio.CancelledError:
            if not http.disconnected:
                raise
            _uncancel()
            ex.stream_outcome = "client_disconnected"
        except UpstreamFailure:
            ex.stream_outcome = "upstream_interrupted"
        except Refusal as refusal:  # a response stage withheld the rest of the answer
            ex.stream_outcome = "withheld"
            ex.refusal, ex.status = refusal, refusal.status
        except OSError:  # the server reports a send after the client left
            ex.stream_outcome = "client_disconnected"
        finally:
            if guard is not None:
                guard.stop()
            await upstream.close()
        try:
            await self._record(ex)
        except StoreUnavailable:
            ex.stream_outcome = "audit_unavailable"
        if http.disconnected:
            return
        if ex.stream_outcome == "completed":
            await http.send_chunk(DONE + b"\n\n")
        elif ex.stream_outcome == "withheld" and ex.refusal is not None:
            await http.send_chunk(encode_event(ex.refusal.as_dict()))
        else:
            reason = (AUDIT_UNAVAILABLE if ex.stream_outcome == "audit_unavailable"
                      else "The provider's stream ended early.")
            await http.send_chunk(encode_event(unavailable(reason, ex.stream_outcome or "error").as_dict()))
        await http.end_stream()

    async def refuse(self, ex: Exchange, http: HttpIO, refusal: Refusal) -> None:
        """Answer ``refusal`` after recording it (a refusal is answered even if it cannot be recorded)."""
        ex.refusal = refusal
        ex.status = refusal.status
        try:
            await self._record(ex)
        except StoreUnavailable:
            log.error("refusal could not be recorded", extra={"lane": ex.lane.name, "request_id": ex.request_id})
        await http.refuse(refusal)

    async def _record(self, ex: Exchange) -> None:
        lane = ex.lane
        record = build_record(ex)
        try:
            await lane.store.append_decision(record, alone=self._in_flight == 1)
            lane.notify_appended()
        except StoreUnavailable:
            self._metrics.audit_failures.labels(lane.name).inc()
            log.error("decision record not written", extra={"lane": lane.name, "request_id": ex.request_id})
            raise
        target = ex.selected.id if ex.selected else "none"
        self._metrics.requests.labels(lane.name, ex.endpoint, ex.decision, target).inc()
        if ex.refusal is not None:
            self._metrics.refusals.labels(lane.name, ex.endpoint, ex.refusal.code).inc()
        self._metrics.count_findings(lane.name, ex.stages)
        self._metrics.latency.labels(lane.name, ex.endpoint, ex.decision).observe(time.perf_counter() - ex.started)


PURPOSE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")


def _check_purpose(ex: Exchange) -> None:
    """``x-lanegate-purpose``: a short label (never free text, so it cannot carry personal data into records),
    required by a lane that says so on the endpoints that send data to a provider."""
    if ex.purpose is None:
        if ex.lane.config.identity.require_purpose and ex.endpoint in PROCESSING:
            raise invalid_request("This lane requires an 'x-lanegate-purpose' header naming the purpose of "
                                  "processing.", "purpose_required", "x-lanegate-purpose")
        return
    if not PURPOSE.match(ex.purpose):
        label = ex.purpose
        ex.purpose = None  # never recorded as given
        raise invalid_request("'x-lanegate-purpose' must be a label of at most 64 letters, digits and ._:/- "
                              f"(got {len(label)} characters).", "invalid_purpose", "x-lanegate-purpose")


def _check_conversation(ex: Exchange) -> None:
    """``x-lanegate-conversation``: the scope within which a value keeps its token (a label, like purposes)."""
    if ex.conversation is not None and not PURPOSE.match(ex.conversation):
        ex.conversation = None
        raise invalid_request("'x-lanegate-conversation' must be a label of at most 64 letters, digits and "
                              "._:/-.", "invalid_conversation", "x-lanegate-conversation")


def _apply(filters: list[StreamFilter], event: dict[str, Any]) -> list[dict[str, Any]]:
    events = [event]
    for stream_filter in filters:
        events = [out for e in events if (out := stream_filter.on_event(e)) is not None]
    return events


def _usage(value: object) -> dict[str, int] | None:
    if not isinstance(value, dict):
        return None
    return {k: v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}


def _target_header(ex: Exchange) -> list[tuple[bytes, bytes]]:
    target = [(b"x-lanegate-target", ex.selected.id.encode())] if ex.selected else []
    return target + ex.response_headers


def _uncancel() -> None:
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
