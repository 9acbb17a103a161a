"""A registry used across the governance tests: a base model, an EU health dataset and a fine-tuned model."""

from __future__ import annotations

from typing import Any

import yaml

EHR = {"id": "ehr-eu-2024", "origin_jurisdiction": "EU", "legal_basis": "GDPR Art. 9(2)(j): research",
       "data_classes": ["health", "personal"], "allowed_regions": {"health": ["eu-central-1", "eu-west-1"]}}
BASE = {"id": "base-7b", "version": "1.0", "licence": "Apache-2.0", "licence_policy": "permissive"}
CLINICAL = {"id": "clinical-notes", "version": "2.1", "licence": "Apache-2.0", "licence_policy": "permissive",
            "base_models": ["base-7b@1.0"], "datasets": [{"id": "ehr-eu-2024", "use": "fine-tuning"}],
            "prohibited_uses": ["insurance-pricing"]}


def registry(models: list[dict[str, Any]] | None = None, datasets: list[dict[str, Any]] | None = None,
             **extra: Any) -> str:
    doc: dict[str, Any] = {"licence_policies": {"permissive": ["Apache-2.0", "MIT"]},
                           "datasets": [EHR] if datasets is None else datasets,
                           "models": [BASE, CLINICAL] if models is None else models, **extra}
    return yaml.safe_dump(doc, sort_keys=False)


def lane_pack(lane: str, region: str, *, model: str | None = "clinical-notes@2.1", url: str = "http://127.0.0.1:9",
              data_classes: list[str] | None = None, licence_policies: list[str] | None = None) -> str:
    target: dict[str, Any] = {"id": f"{lane}-a", "base_url": f"{url}/v1", "model": "m", "region": region,
                              "data_policy": {"zero_data_retention": True, "training_opt_out": True,
                                              "retention_days": 0, "in_memory_only": True}}
    if model is not None:
        target["registry_model"] = model
    spec: dict[str, Any] = {"name": lane, "jurisdiction": lane.upper(), "allowed_regions": [region]}
    if data_classes is not None:
        spec["data_classes"] = data_classes
    if licence_policies is not None:
        spec["licence_policies"] = licence_policies
    return yaml.safe_dump({"lane": spec, "pack": {"name": f"{lane}-pack", "version": "1"},
                           "providers": {"targets": [target]}}, sort_keys=False)
