"""Loading the registry with the packs, and checking each lane's targets against it.

Registry documents are YAML files with ``models:``, ``datasets:`` or ``licence_policies:`` at the top (and
no ``pack:``), beside the packs or in ``gateway.registry_dir``. A target that names a ``registry_model`` is
refused at load when the governance policy forbids that model in the target's region for the lane's data
classes — the same decision ``lanegate check --plan`` makes in CI.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lanegate.config.errors import Problem
from lanegate.config.models import LaneSpec, PackFile
from lanegate.config.yamlfile import LineMap, line_for, read_yaml, validation_problems
from lanegate.governance.models import RegistryFile
from lanegate.governance.policy import Deployment, Governance, LaneFacts
from lanegate.governance.registry import Registry, build_registry

REGISTRY_KEYS = frozenset({"models", "datasets", "licence_policies"})


def is_registry_document(data: dict[str, Any]) -> bool:
    return bool(data) and set(data) <= REGISTRY_KEYS


def registry_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())


def load_registry(docs: list[tuple[Path, dict[str, Any], LineMap]], registry_dir: Path | None
                  ) -> tuple[Registry, list[Problem]]:
    """The registry of the registry documents among the configuration files and in ``registry_dir``."""
    problems: list[Problem] = []
    all_docs = list(docs)
    lines_of = {path: lines for path, _, lines in docs}
    if registry_dir is not None:
        if not registry_dir.is_dir():
            problems.append(Problem(str(registry_dir), "gateway.registry_dir", "no such directory; create it or "
                                    "fix gateway.registry_dir"))
        else:
            for path in registry_files(registry_dir):
                data, lines, errs = read_yaml(path, path.read_text(encoding="utf-8"))
                problems.extend(errs)
                if not errs and isinstance(data, dict) and is_registry_document(data):
                    all_docs.append((path, data, lines))
                    lines_of[path] = lines
                elif not errs:
                    problems.append(Problem(str(path), "<root>", "not a registry document: expected models:, "
                                            "datasets: or licence_policies: at the top"))
    parsed: list[tuple[Path, RegistryFile]] = []
    for path, data, lines in all_docs:
        try:
            parsed.append((path, RegistryFile.model_validate(data)))
        except ValidationError as exc:
            problems.extend(validation_problems(str(path), lines, exc, reference="docs/governance.md"))
    registry, issues = build_registry(parsed)
    problems.extend(Problem(str(i.source), i.key, i.message, line_for(lines_of.get(i.source, {}), i.key))
                    for i in issues)
    return registry, problems


def lane_facts(name: str, lane: LaneSpec | None) -> LaneFacts:
    """What the governance decision knows of a lane, from its ``lane:`` block (the gate and the loader)."""
    if lane is None:
        return LaneFacts(name, frozenset())
    return LaneFacts(name, frozenset(lane.allowed_regions), frozenset(lane.data_classes),
                     frozenset(lane.licence_policies))


def check_targets(label: str, lines: LineMap, name: str, pack: PackFile, governance: Governance
                  ) -> tuple[list[Problem], str]:
    """Problems of the targets that name a registry model, and the digest of the registry entries the lane
    depends on (empty when it names none)."""
    problems: list[Problem] = []
    refs: list[str] = []
    facts = lane_facts(name, pack.lane)
    for index, target in enumerate(pack.providers.targets):
        if target.registry_model is None:
            continue
        refs.append(target.registry_model)
        key = f"providers.targets[{index}].registry_model"
        if pack.lane is None:
            problems.append(Problem(label, key, "a registry model needs a lane block (its regions and data "
                                    "classes decide where the model may run); add lane:", line_for(lines, key)))
            continue
        deployment = Deployment(target.registry_model, target.region, name)
        for violation in governance.check(deployment, facts):
            problems.append(Problem(label, key, f"target '{target.id}' may not serve {target.registry_model} in "
                                    f"{target.region}: {violation}", line_for(lines, key)))
    return problems, (governance.registry.digest(refs) if refs else "")


def configuration_digest(pack_sha256: str, registry_sha256: str) -> str:
    """What a lane records as its configuration in force: the pack's digest, combined with the digest of the
    registry entries it depends on when it names any (so a registry change is recorded as a change)."""
    if not registry_sha256:
        return pack_sha256
    return hashlib.sha256(f"{pack_sha256}\n{registry_sha256}".encode()).hexdigest()
