"""The governance decision: may this model run in this region for this lane? One Cedar policy set
(``policy.cedar``, validated against ``lanegate.cedarschema``) decides for both the CI gate
(``lanegate check --plan``) and the gateway (targets that name a ``registry_model``), so the two cannot
disagree. Cedar denies by default; every denial names the policy (rule) that forbade it, and the lineage
names the ancestor behind a data-class restriction.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import cedarpy

from lanegate.governance.lineage import ANY_CLASS, Lineage, lineage
from lanegate.governance.registry import Registry

ACTION = 'Lanegate::Action::"run"'


@dataclass(frozen=True, slots=True)
class LaneFacts:
    """What the decision needs to know of a lane."""

    name: str
    regions: frozenset[str]
    data_classes: frozenset[str] = frozenset()
    licence_policies: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Deployment:
    """A model version placed in a region for a lane, for these data classes and uses."""

    model: str
    region: str
    lane: str
    data_classes: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule a deployment breaks: ``rule`` is the policy id, ``ancestors`` the entries behind it."""

    rule: str
    message: str
    ancestors: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def _read(name: str) -> str:
    return resources.files("lanegate.governance").joinpath(name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class _Compiled:
    schema: Any
    policies: Any
    rule_ids: dict[str, str]  # Cedar's policy id -> the @id annotation (the rule's name)
    order: dict[str, int]  # rule name -> its place in the policy


@functools.cache
def _compiled() -> _Compiled:
    """The shipped policy and schema, parsed and validated once per process (every load and reload uses them)."""
    text = _read("policy.cedar")
    schema = cedarpy.Schema.from_str(_read("lanegate.cedarschema"))
    validation = cedarpy.validate_policies(text, schema)
    if not validation.validation_passed:  # pragma: no cover - the shipped policy is validated by the tests
        raise RuntimeError(f"the governance policy does not match its schema: {validation}")
    static = json.loads(cedarpy.policies_to_json_str(text))["staticPolicies"]
    rule_ids = {pid: body.get("annotations", {}).get("id", pid) for pid, body in static.items()}
    return _Compiled(schema, cedarpy.PolicySet.from_str(text), rule_ids,
                     {rule: index for index, rule in enumerate(rule_ids.values())})


class Governance:
    """The policy and the registry it decides over."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        compiled = _compiled()
        self._schema, self._policies = compiled.schema, compiled.policies
        self._rule_ids, self._order = compiled.rule_ids, compiled.order

    def check(self, deployment: Deployment, lane: LaneFacts | None) -> list[Violation]:
        """Every rule ``deployment`` breaks (empty: it may run), in the policy's order. ``lane`` is ``None``
        when no such lane exists."""
        model = self.registry.resolve_model(deployment.model)
        if model is None:
            versions = sorted(m.ref for m in self.registry.models.values() if m.id == deployment.model)
            hint = f"; name one version: {', '.join(versions)}" if versions else "; register it first"
            return [Violation("registered", f"model '{deployment.model}' is not in the registry{hint}")]
        if lane is None:
            return [Violation("registered", f"lane '{deployment.lane}' is not declared by any pack")]
        found = lineage(self.registry, model.ref)
        classes = sorted(set(deployment.data_classes) | lane.data_classes | set(found.data_classes)) or [ANY_CLASS]
        entities = self._entities(found, lane, classes, model.licence_policy or "")
        requests = [{"principal": {"type": "Lanegate::Lane", "id": lane.name}, "action": ACTION,
                     "resource": {"type": "Lanegate::Model", "id": model.ref},
                     "context": {"region": deployment.region, "dataClass": data_class,
                                 "placement": f"{data_class}@{deployment.region}", "uses": list(deployment.uses)}}
                    for data_class in classes]
        violations: list[Violation] = []
        for data_class, result in zip(classes, cedarpy.is_authorized_batch(requests, self._policies, entities,
                                                                           self._schema), strict=True):
            if result.allowed:
                continue
            if result.diagnostics.errors:  # deny by default: an evaluation error is a refusal, said as such
                violations.append(Violation("policy-error", "; ".join(result.diagnostics.errors)))
            for policy_id in result.diagnostics.reasons:
                rule = self._rule_ids.get(policy_id, policy_id)
                violation = self._explain(rule, deployment, lane, found, model.licence_policy, data_class)
                if violation not in violations:
                    violations.append(violation)
        return sorted(violations, key=lambda v: self._order.get(v.rule, len(self._order)))  # the policy's order

    def _entities(self, found: Lineage, lane: LaneFacts, classes: list[str], licence_policy: str) -> list[Any]:
        restricted = [c for c in classes if found.allowed(c) is not None]
        placements = [f"{c}@{region}" for c in restricted for region in sorted(found.allowed(c) or ())]
        return [
            {"uid": {"type": "Lanegate::Lane", "id": lane.name}, "parents": [],
             "attrs": {"regions": sorted(lane.regions), "licencePolicies": sorted(lane.licence_policies),
                       "restrictsLicences": bool(lane.licence_policies)}},
            {"uid": {"type": "Lanegate::Model", "id": found.model}, "parents": [],
             "attrs": {"restricted": restricted, "placements": placements,
                       "prohibitedUses": sorted(found.prohibited_uses), "licencePolicy": licence_policy,
                       "digestsMatch": not self.registry.mismatches.get(found.model)}},
        ]

    def _explain(self, rule: str, deployment: Deployment, lane: LaneFacts, found: Lineage,
                 licence_policy: str | None, data_class: str) -> Violation:
        region = deployment.region
        if rule == "lane-region":
            return Violation(rule, f"lane '{lane.name}' does not allow region {region} "
                             f"(allowed: {', '.join(sorted(lane.regions))})")
        if rule == "data-class-region":
            blockers = found.blockers(data_class, region)
            what = "any data" if data_class == ANY_CLASS else f"{data_class} data"
            because = "; ".join(f"{b.source} allows only {', '.join(sorted(b.regions))}" for b in blockers)
            return Violation(rule, f"{what} may not be processed in {region} with {found.model}: {because}",
                             tuple(b.source for b in blockers))
        if rule == "prohibited-use":
            uses = sorted(set(deployment.uses) & set(found.prohibited_uses))
            sources = tuple(sorted({s for u in uses for s in found.prohibited_uses[u]}))
            return Violation(rule, f"use {', '.join(uses)} is prohibited by {', '.join(sources)}", sources)
        if rule == "licence-policy":
            return Violation(rule, f"{found.model} meets licence policy '{licence_policy or 'none'}'; lane "
                             f"'{lane.name}' accepts only {', '.join(sorted(lane.licence_policies))}")
        if rule == "artifact-digests":
            files = ", ".join(self.registry.mismatches.get(found.model, []))
            return Violation(rule, f"{found.model}: {files} do(es) not match the registered SHA-256")
        return Violation(rule, f"forbidden by policy '{rule}'")
