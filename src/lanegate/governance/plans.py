"""Deployment plans in the formats people already have, read into :class:`Deployment` entries.

* a plain plan: ``deployments: [{model, region, lane, data_classes, uses}]``;
* Kubernetes manifests: every ``kind: Deployment`` (or StatefulSet, DaemonSet) of a multi-document YAML file;
  where the model, region, lane, data classes and uses are read from is a :class:`KubernetesMapping`;
* Helm values: dotted paths into the values (:class:`HelmMapping`), for one deployment or for each item of a
  list.

A plan entry that lacks the model, region or lane is reported as a problem, never skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lanegate.governance.policy import Deployment

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet"}
PlanFormat = Literal["auto", "plan", "kubernetes", "helm"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where one field is read in a Kubernetes workload: a label, an annotation, a node selector or a container
    environment variable (the first container that sets it). Lists are comma-separated."""

    label: str | None = None
    annotation: str | None = None
    node_selector: str | None = None
    env: str | None = None


class KubernetesMapping(_Strict):
    model: Source = Source(label="lanegate.io/model")
    region: Source = Source(node_selector="topology.kubernetes.io/region")
    lane: Source = Source(label="lanegate.io/lane")
    data_classes: Source = Source(annotation="lanegate.io/data-classes")
    uses: Source = Source(annotation="lanegate.io/uses")


class HelmMapping(_Strict):
    """Dotted paths into the values; with ``each``, the others are read inside each item of that list."""

    each: str | None = None
    model: str = "lanegate.model"
    region: str = "lanegate.region"
    lane: str = "lanegate.lane"
    data_classes: str = "lanegate.dataClasses"
    uses: str = "lanegate.uses"


class PlanMapping(_Strict):
    """A ``--mapping`` file."""

    kubernetes: KubernetesMapping = Field(default_factory=KubernetesMapping)
    helm: HelmMapping = Field(default_factory=HelmMapping)


class PlanEntry(_Strict):
    model: str = Field(min_length=1)
    region: str = Field(min_length=1)
    lane: str = Field(min_length=1)
    data_classes: list[str] = Field(default_factory=list)
    uses: list[str] = Field(default_factory=list)


class PlanFile(_Strict):
    deployments: list[PlanEntry] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class PlannedDeployment:
    """A deployment and where the plan says it (``file: location``)."""

    where: str
    deployment: Deployment


class PlanError(Exception):
    """The plan cannot be read; each message names the file and the place."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_plan(path: Path, mapping: PlanMapping, fmt: PlanFormat = "auto") -> list[PlannedDeployment]:
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PlanError([f"{path}: cannot read the plan: {exc}"]) from exc
    if fmt == "auto":
        fmt = _detect(path, documents)
    if fmt == "plan":
        return _plain(path, documents)
    if fmt == "kubernetes":
        return _kubernetes(path, documents, mapping.kubernetes)
    return _helm(path, documents, mapping.helm)


def _detect(path: Path, documents: list[Any]) -> PlanFormat:
    if len(documents) == 1 and isinstance(documents[0], dict) and "deployments" in documents[0]:
        return "plan"
    if any(isinstance(d, dict) and "kind" in d and "apiVersion" in d for d in documents):
        return "kubernetes"
    raise PlanError([f"{path}: not a plan (deployments:) nor Kubernetes manifests; for Helm values pass "
                     "--format helm (and a --mapping with the value paths if they differ from lanegate.*)"])


def _plain(path: Path, documents: list[Any]) -> list[PlannedDeployment]:
    if len(documents) != 1:
        raise PlanError([f"{path}: a plan is one YAML document with deployments:"])
    try:
        plan = PlanFile.model_validate(documents[0])
    except ValidationError as exc:
        raise PlanError([f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                         for e in exc.errors(include_url=False)]) from exc
    return [PlannedDeployment(f"{path}: deployments[{i}]", Deployment(e.model, e.region, e.lane,
                                                                       tuple(e.data_classes), tuple(e.uses)))
            for i, e in enumerate(plan.deployments)]


FIELDS = ("model", "region", "lane", "data_classes", "uses")  # the first three are required


def _deployment(found: dict[str, Any]) -> Deployment:
    return Deployment(str(found["model"]), str(found["region"]), str(found["lane"]), _split(found["data_classes"]),
                      _split(found["uses"]))


def _split(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(s for s in (str(i).strip() for i in items) if s)


def _k8s_value(workload: dict[str, Any], source: Source) -> Any:
    meta = workload.get("metadata") or {}
    template = (workload.get("spec") or {}).get("template") or {}
    pod_meta, pod_spec = template.get("metadata") or {}, template.get("spec") or {}
    if source.label is not None:
        return (pod_meta.get("labels") or {}).get(source.label, (meta.get("labels") or {}).get(source.label))
    if source.annotation is not None:
        found = (pod_meta.get("annotations") or {}).get(source.annotation)
        return found if found is not None else (meta.get("annotations") or {}).get(source.annotation)
    if source.node_selector is not None:
        return (pod_spec.get("nodeSelector") or {}).get(source.node_selector)
    if source.env is not None:
        for container in pod_spec.get("containers") or []:
            for var in container.get("env") or []:
                if var.get("name") == source.env and "value" in var:
                    return var["value"]
    return None


def _kubernetes(path: Path, documents: list[Any], mapping: KubernetesMapping) -> list[PlannedDeployment]:
    planned, problems = [], []
    for index, doc in enumerate(documents):
        if not isinstance(doc, dict) or doc.get("kind") not in WORKLOADS:
            continue
        name = f"{doc['kind']}/{(doc.get('metadata') or {}).get('name', '?')}"
        where = f"{path}: document {index} ({name})"
        found = {n: _k8s_value(doc, getattr(mapping, n)) for n in FIELDS}
        missing = [n for n in FIELDS[:3] if not found[n]]
        if missing:
            problems.append(f"{where}: no {', '.join(missing)} found where the mapping says "
                            f"({', '.join(_describe(getattr(mapping, n)) for n in missing)})")
            continue
        planned.append(PlannedDeployment(where, _deployment(found)))
    if problems:
        raise PlanError(problems)
    if not planned:
        raise PlanError([f"{path}: no Deployment, StatefulSet or DaemonSet in the manifests"])
    return planned


def _describe(source: Source) -> str:
    for kind in ("label", "annotation", "node_selector", "env"):
        if getattr(source, kind) is not None:
            return f"{kind} {getattr(source, kind)}"
    return "nowhere"


def _dig(values: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(values, dict):
            return None
        values = values.get(part)
    return values


def _helm(path: Path, documents: list[Any], mapping: HelmMapping) -> list[PlannedDeployment]:
    if len(documents) != 1 or not isinstance(documents[0], dict):
        raise PlanError([f"{path}: Helm values are one YAML mapping"])
    values = documents[0]
    items: list[tuple[str, Any]] = [(f"{path}", values)]
    if mapping.each is not None:
        listed = _dig(values, mapping.each)
        if not isinstance(listed, list):
            raise PlanError([f"{path}: {mapping.each}: expected a list (mapping 'each')"])
        items = [(f"{path}: {mapping.each}[{i}]", item) for i, item in enumerate(listed)]
    planned, problems = [], []
    for where, item in items:
        found = {n: _dig(item, getattr(mapping, n)) for n in FIELDS}
        missing = [f"{n} ({getattr(mapping, n)})" for n in FIELDS[:3] if not found[n]]
        if missing:
            problems.append(f"{where}: no value at {', '.join(missing)}")
            continue
        planned.append(PlannedDeployment(where, _deployment(found)))
    if problems:
        raise PlanError(problems)
    return planned
