"""The registry: every model and dataset entry of the registry files, checked as a whole.

Checks, each reported with the file and key: duplicate entries, references to unknown base models or
datasets, cycles in base models, licences that are not SPDX expressions, licence policies that do not exist
or do not hold the model's licence, and artifacts whose files are present but whose SHA-256 differs from the
entry (or from the model-signing manifest, when one is given) — the last is not a registry error but a
fact the policy decides on (``artifact-digests``): a target serving that model is refused.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from license_expression import ExpressionError, get_spdx_licensing

from lanegate.governance.lineage import lineage, split_label
from lanegate.governance.models import DatasetEntry, ModelEntry, RegistryFile
from lanegate.governance.signing import ManifestError, manifest_digests


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem of one registry file at one key."""

    source: Path
    key: str
    message: str


@dataclass
class Registry:
    """Models by ``id@version``, datasets by id, licence policies by name, and the file each came from."""

    models: dict[str, ModelEntry] = field(default_factory=dict)
    datasets: dict[str, DatasetEntry] = field(default_factory=dict)
    licence_policies: dict[str, frozenset[str]] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)  # "model ID@V" / "dataset ID" -> file
    #: model ref -> artifacts whose present file does not match its SHA-256 (checked at load)
    mismatches: dict[str, list[str]] = field(default_factory=dict)
    #: model ref -> artifacts checked (present and matching)
    verified: dict[str, list[str]] = field(default_factory=dict)

    def resolve_model(self, ref: str) -> ModelEntry | None:
        """``id@version``, or ``id`` when the registry holds exactly one version of it."""
        if "@" in ref:
            return self.models.get(ref)
        versions = [m for m in self.models.values() if m.id == ref]
        return versions[0] if len(versions) == 1 else None

    def digest(self, refs: list[str]) -> str:
        """SHA-256 of the entries ``refs`` depend on (the models, their ancestors and licence policies)."""
        labels: set[str] = set()
        for ref in refs:
            if self.resolve_model(ref) is not None:
                found = lineage(self, ref)
                labels.update([f"model {found.model}", *found.ancestors])
        entries: dict[str, Any] = {}
        for label in sorted(labels):
            kind, key = split_label(label)
            entry = self.models[key] if kind == "model" else self.datasets[key]
            entries[label] = entry.model_dump(mode="json")
        entries["licence_policies"] = {k: sorted(v) for k, v in sorted(self.licence_policies.items())}
        return hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()


_DIGESTS: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered while its size and modification time stay the same."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def build_registry(files: list[tuple[Path, RegistryFile]]) -> tuple[Registry, list[Issue]]:
    """The registry of ``files`` (already validated one by one) and the problems of the whole."""
    registry = Registry()
    issues: list[Issue] = []
    places: dict[str, tuple[Path, str]] = {}
    for path, doc in files:
        for name, licences in doc.licence_policies.items():
            key = f"licence_policies.{name}"
            if name in registry.licence_policies:
                issues.append(Issue(path, key, f"licence policy '{name}' is declared twice; keep one"))
            registry.licence_policies[name] = frozenset(licences)
        entries: list[tuple[str, str, dict[str, Any], list[Any]]] = [
            ("dataset", "id", registry.datasets, doc.datasets), ("model", "version", registry.models, doc.models)]
        for kind, unique_by, table, listed in entries:
            for index, entry in enumerate(listed):
                name = entry.ref if kind == "model" else entry.id
                key, label = f"{kind}s[{index}]", f"{kind} {name}"
                if name in table:
                    issues.append(Issue(path, f"{key}.{unique_by}", f"{kind} '{name}' is declared twice (first "
                                        f"in {registry.sources[label]}); keep one entry per {unique_by}"))
                    continue
                table[name] = entry
                registry.sources[label] = path
                places[label] = (path, key)
    for ref, model in registry.models.items():
        path, key = places[f"model {ref}"]
        issues.extend(_check_model(registry, model, path, key))
    for dataset_id, dataset in registry.datasets.items():
        path, key = places[f"dataset {dataset_id}"]
        if dataset.licence is not None and (problem := _spdx_problem(dataset.licence)):
            issues.append(Issue(path, f"{key}.licence", problem))
    issues.extend(_cycles(registry, places))
    return registry, issues


@functools.cache
def _licensing() -> Any:
    return get_spdx_licensing()  # builds the SPDX licence index: tens of milliseconds, once


@functools.lru_cache(maxsize=1024)
def _spdx_problem(expression: str) -> str | None:
    """Why ``expression`` is not an SPDX licence expression (``LicenseRef-...`` ids are accepted)."""
    licensing = _licensing()
    try:
        parsed = licensing.parse(expression)
    except ExpressionError as exc:
        return f"'{expression}' is not an SPDX licence expression ({exc})"
    unknown = [k for k in licensing.unknown_license_keys(parsed) if not str(k).startswith("LicenseRef-")]
    if parsed is None or unknown:
        return (f"'{expression}' is not an SPDX licence expression (unknown: {', '.join(map(str, unknown))}); use "
                "SPDX ids such as Apache-2.0, or LicenseRef-NAME for a licence SPDX does not list")
    return None


def _check_model(registry: Registry, model: ModelEntry, path: Path, key: str) -> list[Issue]:
    issues = []
    for index, base in enumerate(model.base_models):
        if registry.resolve_model(base) is None:
            issues.append(Issue(path, f"{key}.base_models[{index}]", f"no model '{base}' in the registry; register "
                                "it (with its version) or fix the reference"))
    for index, use in enumerate(model.datasets):
        if use.id not in registry.datasets:
            issues.append(Issue(path, f"{key}.datasets[{index}].id", f"no dataset '{use.id}' in the registry; "
                                "register it under datasets:"))
    if problem := _spdx_problem(model.licence):
        issues.append(Issue(path, f"{key}.licence", problem))
    if model.licence_policy is not None:
        allowed = registry.licence_policies.get(model.licence_policy)
        if allowed is None:
            issues.append(Issue(path, f"{key}.licence_policy", f"no licence policy '{model.licence_policy}'; "
                                "declare it under licence_policies:"))
        elif model.licence not in allowed:
            issues.append(Issue(path, f"{key}.licence_policy", f"licence '{model.licence}' is not one of "
                                f"'{model.licence_policy}' ({', '.join(sorted(allowed))})"))
    issues.extend(_check_artifacts(registry, model, path, key))
    return issues


def _check_artifacts(registry: Registry, model: ModelEntry, path: Path, key: str) -> list[Issue]:
    issues = []
    base = path.parent
    declared = {a.path: a.sha256 for a in model.artifacts}
    if model.signing_manifest is not None:
        try:
            signed = manifest_digests(base / model.signing_manifest)
        except ManifestError as exc:
            return [Issue(path, f"{key}.signing_manifest", str(exc))]
        for name, digest in declared.items():
            if name in signed and signed[name] != digest:
                issues.append(Issue(path, f"{key}.artifacts", f"'{name}': the entry's SHA-256 differs from the "
                                    "signing manifest's; one of them is wrong"))
        declared = {**signed, **declared}
    for name, digest in sorted(declared.items()):
        file = base / name
        if file.is_file():
            matches = file_sha256(file) == digest
            (registry.verified if matches else registry.mismatches).setdefault(model.ref, []).append(name)
    return issues


def _cycles(registry: Registry, places: dict[str, tuple[Path, str]]) -> list[Issue]:
    issues = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(ref: str) -> bool:
        if state.get(ref) == 1:
            return True
        if state.get(ref) == 2:
            return False
        state[ref] = 1
        for base in registry.models[ref].base_models:
            resolved = registry.resolve_model(base)
            if resolved is not None and visit(resolved.ref):
                state[ref] = 2
                path, key = places[f"model {ref}"]
                issues.append(Issue(path, f"{key}.base_models", f"model '{ref}' is its own ancestor (through "
                                    f"'{resolved.ref}'); a base model must be older than the model"))
                return False
        state[ref] = 2
        return False

    for ref in registry.models:
        visit(ref)
    return issues
