"""The governance decision: the Cedar policy over the registry's lineage, and what each denial says."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import cedarpy
import yaml

from lanegate.governance.models import RegistryFile
from lanegate.governance.policy import Deployment, Governance, LaneFacts
from lanegate.governance.registry import build_registry
from tests.governance.data import EHR, registry

EU = LaneFacts("eu", frozenset({"eu-central-1", "eu-west-1"}), frozenset({"personal"}), frozenset({"permissive"}))
US = LaneFacts("us", frozenset({"us-east-1"}), frozenset({"personal"}))


def _governance(text: str | None = None) -> Governance:
    doc = RegistryFile.model_validate(yaml.safe_load(text or registry()))
    built, issues = build_registry([(Path("registry.yaml"), doc)])
    assert issues == []
    return Governance(built)


def test_the_shipped_policy_validates_against_its_schema() -> None:
    files = resources.files("lanegate.governance")
    result = cedarpy.validate_policies(files.joinpath("policy.cedar").read_text(),
                                       files.joinpath("lanegate.cedarschema").read_text())
    assert result.validation_passed


def test_a_model_runs_where_its_lineage_and_the_lane_allow() -> None:
    assert _governance().check(Deployment("clinical-notes@2.1", "eu-west-1", "eu"), EU) == []


def test_an_inherited_restriction_names_the_ancestor() -> None:
    [violation] = _governance().check(Deployment("clinical-notes@2.1", "us-east-1", "us"), US)
    assert violation.rule == "data-class-region"
    assert violation.ancestors == ("dataset ehr-eu-2024",)
    assert "health data may not be processed in us-east-1" in violation.message
    assert "dataset ehr-eu-2024 allows only eu-central-1, eu-west-1" in violation.message


def test_the_base_model_alone_is_not_restricted() -> None:
    assert _governance().check(Deployment("base-7b@1.0", "us-east-1", "us", ("health",)), US) == []


def test_each_broken_rule_is_reported_once() -> None:
    violations = _governance().check(
        Deployment("clinical-notes", "us-east-1", "eu", ("health", "payment"), ("insurance-pricing",)), EU)
    assert [v.rule for v in violations] == ["lane-region", "data-class-region", "prohibited-use"]
    assert "prohibited by model clinical-notes@2.1" in violations[2].message


def test_unknown_models_and_lanes_are_denied() -> None:
    governance = _governance()
    [unknown] = governance.check(Deployment("nope@1", "eu-west-1", "eu"), EU)
    assert unknown.rule == "registered" and "not in the registry" in unknown.message
    [lane] = governance.check(Deployment("base-7b", "eu-west-1", "xx"), None)
    assert lane.rule == "registered" and "lane 'xx'" in lane.message


def test_an_ambiguous_model_id_asks_for_a_version() -> None:
    text = registry(models=[{"id": "m", "version": "1", "licence": "MIT"}, {"id": "m", "version": "2",
                                                                           "licence": "MIT"}], datasets=[])
    [violation] = _governance(text).check(Deployment("m", "us-east-1", "us"), US)
    assert "name one version: m@1, m@2" in violation.message


def test_a_lane_that_restricts_licences_refuses_other_policies() -> None:
    text = registry(models=[{"id": "m", "version": "1", "licence": "LicenseRef-Proprietary"}], datasets=[])
    strict = LaneFacts("eu", frozenset({"eu-west-1"}), licence_policies=frozenset({"permissive"}))
    [violation] = _governance(text).check(Deployment("m@1", "eu-west-1", "eu"), strict)
    assert violation.rule == "licence-policy" and "accepts only permissive" in violation.message


def test_restrictions_for_every_class_apply_to_any_data() -> None:
    text = registry(datasets=[{**EHR, "allowed_regions": {"*": ["eu-west-1"]}}])
    violations = _governance(text).check(Deployment("clinical-notes@2.1", "eu-central-1", "eu"), EU)
    assert [v.message.split(" may")[0] for v in violations] == ["health data", "personal data"]
    assert all(v.rule == "data-class-region" and "allows only eu-west-1" in v.message for v in violations)

