"""A lane's AI bill of materials: CycloneDX 1.6 JSON (an ML-BOM).

Components: every registry model the lane's targets serve and each ancestor (``machine-learning-model``,
with a ``modelCard``: datasets, evaluations, intended and prohibited uses), and every dataset in their lineage
(``data``). Services: the lane's provider targets, with region and data-handling policy as properties.
Dependencies: lane -> targets -> served model -> base models and datasets. Lanegate-specific facts are
``lanegate:`` properties (CycloneDX's property taxonomy convention).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from lanegate import __version__
from lanegate.config.lane import LaneConfig
from lanegate.governance.lineage import ANY_CLASS, lineage, split_label
from lanegate.governance.models import DatasetEntry, ModelEntry
from lanegate.governance.registry import Registry

SPEC_VERSION = "1.6"


def _prop(name: str, value: object) -> dict[str, str]:
    return {"name": f"lanegate:{name}", "value": str(value)}


def _licence(expression: str) -> list[dict[str, Any]]:
    if " " in expression:  # an expression (AND/OR/WITH) rather than one id
        return [{"expression": expression}]
    key = "name" if expression.startswith("LicenseRef-") else "id"
    return [{"license": {key: expression}}]


def _model(registry: Registry, model: ModelEntry) -> dict[str, Any]:
    found = lineage(registry, model.ref)
    properties = [_prop("data_class", c) for c in sorted(found.data_classes)]
    for data_class in sorted({r.data_class for r in found.restrictions}):
        allowed = found.allowed(data_class)
        label = "any" if data_class == ANY_CLASS else data_class
        properties.append(_prop(f"allowed_regions:{label}", ",".join(sorted(allowed or ()))))
    properties += [_prop("prohibited_use", u) for u in sorted(found.prohibited_uses)]
    if model.licence_policy:
        properties.append(_prop("licence_policy", model.licence_policy))
    verified = set(registry.verified.get(model.ref, []))
    files = [{"type": "file", "bom-ref": f"model:{model.ref}:file:{a.path}", "name": a.path,
              "hashes": [{"alg": "SHA-256", "content": a.sha256}],
              "properties": [_prop("digest_verified", a.path in verified)]} for a in model.artifacts]
    card: dict[str, Any] = {"considerations": {"useCases": list(model.intended_uses) or ["unspecified"]}}
    if model.datasets:
        card["modelParameters"] = {"datasets": [{"ref": f"dataset:{d.id}"} for d in model.datasets]}
    if found.prohibited_uses:
        card["considerations"]["ethicalConsiderations"] = [
            {"name": f"prohibited use: {u}", "mitigationStrategy": f"refused by Lanegate policy ({', '.join(s)})"}
            for u, s in sorted(found.prohibited_uses.items())]
    if model.evaluations:
        card["quantitativeAnalysis"] = {"performanceMetrics": [
            {"type": e.metric, "value": str(e.value), **({"slice": e.dataset} if e.dataset else {})}
            for e in model.evaluations]}
    component: dict[str, Any] = {
        "type": "machine-learning-model", "bom-ref": f"model:{model.ref}", "name": model.id,
        "version": model.version, "licenses": _licence(model.licence), "modelCard": card,
        "properties": properties,
    }
    if model.description:
        component["description"] = model.description
    if model.supplier:
        component["supplier"] = {"name": model.supplier}
    if files:
        component["components"] = files
    return component


def _dataset(dataset: DatasetEntry) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "dataset", "name": dataset.id,
                            "classification": ", ".join(dataset.data_classes) or "unclassified"}
    if dataset.description:
        data["description"] = dataset.description
    component: dict[str, Any] = {
        "type": "data", "bom-ref": f"dataset:{dataset.id}", "name": dataset.id, "data": [data],
        "properties": [_prop("origin_jurisdiction", dataset.origin_jurisdiction),
                       _prop("legal_basis", dataset.legal_basis),
                       *[_prop(f"allowed_regions:{'any' if c == ANY_CLASS else c}", ",".join(r))
                         for c, r in dataset.allowed_regions.items()]],
    }
    if dataset.licence:
        component["licenses"] = _licence(dataset.licence)
    return component


def lane_bom(lane: LaneConfig, registry: Registry, *, serial: str | None = None,
             timestamp: datetime | None = None) -> dict[str, Any]:
    """The CycloneDX 1.6 ML-BOM of ``lane``."""
    models: dict[str, ModelEntry] = {}
    datasets: dict[str, DatasetEntry] = {}
    for ref in lane.registry_models:
        root = registry.resolve_model(ref)
        if root is None:  # pragma: no cover - the loader refuses unknown models
            continue
        found = lineage(registry, root.ref)
        models[root.ref] = root
        for label in found.ancestors:
            kind, key = split_label(label)
            if kind == "model":
                models[key] = registry.models[key]
            else:
                datasets[key] = registry.datasets[key]
    lane_ref = f"lane:{lane.name}"
    services, dependencies = [], []
    for target in lane.targets:
        policy = target.data_policy.model_dump(mode="json")
        services.append({
            "bom-ref": f"target:{target.id}", "name": target.id, "endpoints": [str(target.base_url)],
            "data": [{"flow": "bi-directional", "classification": c} for c in sorted(lane.data_classes)],
            "properties": [_prop("region", target.region), _prop("provider", target.provider),
                           _prop("upstream_model", target.model),
                           *[_prop(f"data_policy:{k}", v) for k, v in sorted(policy.items()) if v is not None]],
        })
        served = registry.resolve_model(target.registry_model) if target.registry_model else None
        dependencies.append({"ref": f"target:{target.id}",
                             "dependsOn": [f"model:{served.ref}"] if served else []})
    for model in models.values():
        bases = [registry.resolve_model(b) for b in model.base_models]
        dependencies.append({"ref": f"model:{model.ref}",
                             "dependsOn": [f"model:{b.ref}" for b in bases if b is not None]
                             + [f"dataset:{d.id}" for d in model.datasets]})
    dependencies += [{"ref": f"dataset:{d}", "dependsOn": []} for d in datasets]
    dependencies.insert(0, {"ref": lane_ref, "dependsOn": [f"target:{t.id}" for t in lane.targets]})
    when = (timestamp or datetime.now(UTC)).replace(microsecond=0)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial or f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": when.isoformat().replace("+00:00", "Z"),
            "tools": {"components": [{"type": "application", "name": "lanegate", "version": __version__}]},
            "component": {"type": "application", "bom-ref": lane_ref, "name": f"lane {lane.name}",
                          "version": lane.pack.version,
                          "properties": [_prop("jurisdiction", lane.jurisdiction or "unchecked"),
                                         _prop("pack", lane.pack.name), _prop("configuration_sha256", lane.sha256),
                                         *[_prop("allowed_region", r) for r in sorted(lane.allowed_regions or ())]]},
        },
        "components": [*(_model(registry, m) for m in models.values()), *(_dataset(d) for d in datasets.values())],
        "services": services,
        "dependencies": dependencies,
    }
