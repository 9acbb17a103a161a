"""Turning a finished :class:`~lanegate.exchange.Exchange` into its decision record.

A record holds identifiers, decisions, counts and keyed digests — never prompt or response text, never a
credential. Times are integers (microseconds) so the canonical form has no floating-point ambiguity.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from lanegate.config.lane import LaneConfig
from lanegate.exchange import Exchange
from lanegate.identity.keys import Principal, now_iso

RECORD_VERSION = 1


def build_record(ex: Exchange) -> dict[str, Any]:
    lane = ex.lane
    plan = ex.plan
    record: dict[str, Any] = {
        "v": RECORD_VERSION,
        "id": ex.request_id,
        "ts": ex.ts,
        "lane": lane.name,
        "jurisdiction": lane.config.jurisdiction,
        "pack": {"name": lane.config.pack.name, "version": lane.config.pack.version, "sha256": lane.config.sha256},
        "principal": ex.principal.as_record() if ex.principal else None,
        "purpose": ex.purpose,
        "endpoint": ex.endpoint,
        "model": ex.model,
        "stream": ex.stream,
        "decision": ex.decision,
        "status": ex.status,
        "error_code": ex.refusal.code if ex.refusal else None,
        "stages": [s.as_record() for s in ex.stages],
        "route": {
            "selected": ex.selected.id if ex.selected else None,
            "region": ex.selected.region if ex.selected else None,
            "attempts": [a.as_record() for a in ex.attempts],
            "excluded": [e.as_record() for e in plan.excluded] if plan else [],
        },
        "upstream_status": ex.upstream_status,
        "usage": ex.usage,
        "latency_us": int((time.perf_counter() - ex.started) * 1_000_000),
        "upstream_latency_us": ex.upstream_latency_us,
        "digests": {
            "request": lane.digest(ex.body) if ex.body else None,
            "upstream_request": lane.digest(ex.upstream_body) if ex.upstream_body else None,
        },
    }
    if ex.stream:
        record["stream_outcome"] = ex.stream_outcome
    if ex.operation is not None:
        record["operation"] = ex.operation
    return record


def build_config_record(lane: LaneConfig, previous_sha256: str | None, reason: str,
                        actor: Principal | None) -> dict[str, Any]:
    """The record of a lane's pack coming into force: which pack (by digest) replaced which, why, and who
    asked (``None`` for an operator's restart or signal)."""
    return {
        "v": RECORD_VERSION,
        "id": "cfg_" + uuid.uuid4().hex,
        "ts": now_iso(),
        "lane": lane.name,
        "jurisdiction": lane.jurisdiction,
        "pack": {"name": lane.pack.name, "version": lane.pack.version, "sha256": lane.sha256},
        "principal": actor.as_record() if actor else None,
        "endpoint": "config",
        "decision": "config_changed",
        "reason": reason,
        "previous_pack_sha256": previous_sha256,
        **({"registry": {"sha256": lane.registry_sha256, "models": list(lane.registry_models),
                         "pack_file_sha256": lane.pack_sha256}} if lane.registry_sha256 else {}),
    }
