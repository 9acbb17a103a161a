"""A lane's record of processing activities (GDPR Art. 30 style), from its configuration and its ledger.

What the configuration says: the controller, the purposes, the data classes, the recipients (provider
targets, log sinks, the identity provider) with their regions and data handling, the transfers outside the
jurisdiction with their legal basis, and retention. What the ledger adds: the period it covers, how many
requests were served and refused, the purposes callers declared, where requests actually went, and every
configuration put in force.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from lanegate.config.lane import LaneConfig
from lanegate.governance.registry import Registry


@dataclass
class LedgerSummary:
    """What a lane's decision records say, gathered in one pass."""

    first: str | None = None
    last: str | None = None
    decisions: Counter[str] = field(default_factory=Counter)
    purposes: Counter[str] = field(default_factory=Counter)
    regions: Counter[str] = field(default_factory=Counter)
    configurations: list[dict[str, Any]] = field(default_factory=list)

    def add(self, body: bytes | str) -> None:
        record = orjson.loads(body)
        self.first = self.first or record.get("ts")
        self.last = record.get("ts")
        self.decisions[record.get("decision", "?")] += 1
        if record.get("decision") == "config_changed":
            pack = record.get("pack") or {}
            self.configurations.append({"ts": record.get("ts"), "pack": pack.get("name"),
                                        "version": pack.get("version"), "sha256": pack.get("sha256"),
                                        "reason": record.get("reason")})
            return
        if record.get("purpose"):
            self.purposes[str(record["purpose"])] += 1
        route = record.get("route") or {}
        if route.get("selected"):
            self.regions[f"{route.get('region')} ({route['selected']})"] += 1


def processing_record(lane: LaneConfig, registry: Registry, ledger: LedgerSummary) -> dict[str, Any]:
    """The record as data (rendered to JSON or Markdown)."""
    spec = lane.spec
    transfers = {t.region: t.legal_basis for t in spec.transfers} if spec else {}
    recipients: list[dict[str, Any]] = []
    for target in lane.targets:
        policy = target.data_policy
        recipients.append({"kind": "model provider", "id": target.id, "region": target.region,
                           "endpoint": str(target.base_url), "model": target.registry_model or target.model,
                           "retention_days": policy.retention_days, "zero_data_retention": policy.zero_data_retention,
                           "training_opt_out": policy.training_opt_out})
    recipients += [{"kind": f"log sink ({sink.type})", "id": sink.id, "region": sink.region,
                    "content": "decision records (no prompt or answer text)"} for sink in lane.sinks]
    if lane.identity.oidc is not None:
        recipients.append({"kind": "identity provider", "id": str(lane.identity.oidc.issuer),
                           "region": lane.identity.oidc.region, "content": "token verification (keys fetched)"})
    retention = ["decision records: kept in the lane's store, append-only (digests and metadata, no prompt text)"]
    if lane.pii is not None and lane.pii.tokenizes:
        retention.append(f"tokenized values: sealed in the lane's vault, expire {lane.pii.vault_ttl_seconds:g} s "
                         "after last use")
    retention += [f"{r['id']}: provider retention {r['retention_days']} day(s)" for r in recipients
                  if r.get("retention_days") is not None]
    return {
        "lane": lane.name,
        "jurisdiction": lane.jurisdiction,
        "controller": spec.controller if spec else None,
        "pack": {"name": lane.pack.name, "version": lane.pack.version, "configuration_sha256": lane.sha256},
        "purposes": list(spec.purposes) if spec else [],
        "data_classes": sorted(lane.data_classes),
        "models": [{"model": ref, "licence": m.licence if (m := registry.resolve_model(ref)) else None}
                   for ref in lane.registry_models],
        "recipients": recipients,
        "transfers": [{"recipient": r["id"], "region": r["region"], "legal_basis": transfers[r["region"]]}
                      for r in recipients if r["region"] in transfers],
        "retention": retention,
        "ledger": {"from": ledger.first, "to": ledger.last, "served": ledger.decisions.get("served", 0),
                   "refused": ledger.decisions.get("refused", 0), "purposes_declared": dict(ledger.purposes),
                   "requests_by_region": dict(ledger.regions), "configurations_in_force": ledger.configurations},
    }


def to_markdown(record: dict[str, Any]) -> str:
    lines = [f"# Record of processing — lane {record['lane']} ({record['jurisdiction'] or 'geography unchecked'})",
             "", f"- Controller: {record['controller'] or 'not declared (lane.controller)'}",
             f"- Policy pack: {record['pack']['name']} {record['pack']['version']} "
             f"(configuration {record['pack']['configuration_sha256'][:16]})",
             f"- Purposes: {', '.join(record['purposes']) or 'not declared (lane.purposes)'}",
             f"- Data classes: {', '.join(record['data_classes']) or 'none declared'}", "", "## Recipients", "",
             "| kind | id | region | details |", "|---|---|---|---|"]
    for r in record["recipients"]:
        details = "; ".join(f"{k}: {v}" for k, v in r.items() if k not in {"kind", "id", "region"} and v is not None)
        lines.append(f"| {r['kind']} | {r['id']} | {r['region']} | {details} |")
    lines += ["", "## Transfers outside the jurisdiction", ""]
    lines += [f"- {t['recipient']} in {t['region']}: {t['legal_basis']}" for t in record["transfers"]] or ["- none"]
    lines += ["", "## Retention", "", *[f"- {r}" for r in record["retention"]]]
    if record["models"]:
        lines += ["", "## Models", "", *[f"- {m['model']} ({m['licence']})" for m in record["models"]]]
    ledger = record["ledger"]
    lines += ["", "## From the ledger", "", f"- Period: {ledger['from'] or '-'} to {ledger['to'] or '-'}",
              f"- Requests served: {ledger['served']}; refused: {ledger['refused']}"]
    lines += [f"- Purpose declared '{p}': {n} request(s)" for p, n in ledger["purposes_declared"].items()]
    lines += [f"- Requests processed in {where}: {n}" for where, n in ledger["requests_by_region"].items()]
    lines += [f"- Configuration in force from {c['ts']}: {c['pack']} {c['version']} ({str(c['sha256'])[:16]}, "
              f"{c['reason']})" for c in ledger["configurations_in_force"]]
    return "\n".join(lines) + "\n"
