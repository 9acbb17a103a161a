"""A decision record as an OCSF-style event (API Activity): metadata only, never payloads.

The record itself holds no prompt or response text; this mapping keeps only what a SIEM needs, with OCSF
field names where one fits and the rest under ``unmapped``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from lanegate import __version__
from lanegate.store.base import StoredDecision

OCSF_VERSION = "1.3.0"
API_ACTIVITY = 6003


def to_event(row: StoredDecision, origin: str) -> dict[str, Any]:
    record = orjson.loads(row.body)
    configured = record["decision"] == "config_changed"
    served = record["decision"] == "served" or configured
    route = record.get("route") or {}
    principal = record.get("principal") or {}
    event: dict[str, Any] = {
        "class_uid": API_ACTIVITY,
        "class_name": "API Activity",
        "category_uid": 6,
        "category_name": "Application Activity",
        "activity_id": 3 if configured else 99,
        "activity_name": "Update" if configured else "Route",
        "type_uid": API_ACTIVITY * 100 + (3 if configured else 99),
        "time": int(datetime.fromisoformat(record["ts"].replace("Z", "+00:00")).timestamp() * 1000),
        "severity_id": 1 if served else 3,
        "status": "Success" if served else "Failure",
        "status_code": str(record.get("status")),
        "status_detail": record.get("error_code"),
        "metadata": {"product": {"name": "Lanegate", "vendor_name": "Lanegate", "version": __version__},
                     "version": OCSF_VERSION, "uid": record["id"], "sequence": row.seq, "log_name": origin},
        "api": {"operation": record.get("endpoint"), "request": {"uid": record["id"]}},
        "actor": {"user": {"name": principal.get("name") or principal.get("subject"),
                           "uid": principal.get("key_id") or principal.get("issuer")}},
        "unmapped": {"lane": record.get("lane"), "jurisdiction": record.get("jurisdiction"),
                     "decision": record.get("decision"), "model": record.get("model"),
                     "pack": record.get("pack"), "record_hash": row.hash,
                     "excluded_targets": len(route.get("excluded") or [])},
    }
    if route.get("selected"):
        event["dst_endpoint"] = {"svc_name": route["selected"], "location": {"region": route.get("region")}}
    return event
