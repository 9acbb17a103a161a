"""Builders for policy-pack YAML used across the tests."""

from __future__ import annotations

from typing import Any

import yaml

SAFE_POLICY = {"zero_data_retention": True, "training_opt_out": True, "retention_days": 0, "in_memory_only": True}


def target(tid: str, url: str, region: str, *, model: str = "m-upstream", aliases: list[str] | None = None,
           priority: int = 1, policy: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": tid, "base_url": f"{url}/v1", "model": model, "aliases": aliases or ["chat"], "region": region,
            "priority": priority, "data_policy": SAFE_POLICY if policy is None else policy, **extra}


def pack(lane: str | None, regions: list[str], targets: list[dict[str, Any]], *,
         routing: dict[str, Any] | None = None, chain: list[str] | None = None,
         stages: dict[str, dict[str, Any]] | None = None, **extra: Any) -> str:
    doc: dict[str, Any] = {}
    if lane is not None:
        doc["lane"] = {"name": lane, "jurisdiction": lane.upper(), "allowed_regions": regions}
    doc["pack"] = {"name": f"{lane or 'nolane'}-pack", "version": "1.0.0"}
    doc["providers"] = {"targets": targets}
    doc["policies"] = {"chain": chain or ["data-routing-policy", "audit-logger"]}
    doc["policy"] = {"data-routing-policy": routing or {"require_in_memory_only": True}, **(stages or {})}
    doc.update({k: v for k, v in extra.items() if v is not None})
    return yaml.safe_dump(doc, sort_keys=False)
