"""The documentation's examples load, and every configuration key is documented in the pack reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, TypeAdapter

from lanegate.config import load_sources
from lanegate.config.models import (
    BreakerSettings,
    DataPolicy,
    DlpFilterOptions,
    GatewayFile,
    GatewayIdentity,
    GatewaySettings,
    IdentitySpec,
    JsonlSink,
    LaneSpec,
    NerOptions,
    OidcSpec,
    PackMeta,
    PiiDetectorOptions,
    RateLimitSettings,
    RedactionOptions,
    RoutingPolicyOptions,
    SinkSpec,
    SyslogSink,
    TargetSpec,
    UpstreamSettings,
    WebhookSink,
)
from lanegate.governance.models import Artifact, DatasetEntry, DatasetUse, EvaluationResult, ModelEntry, RegistryFile
from lanegate.governance.plans import HelmMapping, KubernetesMapping, PlanEntry, PlanFile, PlanMapping
from lanegate.governance.registry import build_registry

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [(doc.name, block) for doc in DOCS for block in re.findall(r"```yaml\n(.*?)```", doc.read_text(), re.S)]


MINIMAL_PACK = """\
lane: {name: eu, jurisdiction: EU, allowed_regions: [eu-central-1]}
pack: {name: eu-pack, version: "1"}
providers:
  targets:
    - {id: eu-a, base_url: "http://127.0.0.1:9/v1", model: m, region: eu-central-1,
       data_policy: {zero_data_retention: true, training_opt_out: true, retention_days: 0}}
"""


@pytest.mark.parametrize(("doc", "block"), BLOCKS, ids=[f"{d}-{i}" for i, (d, _) in enumerate(BLOCKS)])
def test_every_yaml_example_in_the_docs_is_valid(doc, block, tmp_path, monkeypatch):
    # examples name a pretrained pipeline (en_core_web_lg) that need not be installed to check the rest
    monkeypatch.setattr("lanegate.config.loader.unavailable_reason", lambda backend, model: None)
    if "gateway:" in block and "pack:" not in block:
        GatewayFile.model_validate(yaml.safe_load(block))
        return
    if block.startswith("sinks:"):  # a fragment: every sink must be valid
        TypeAdapter(list[SinkSpec]).validate_python(yaml.safe_load(block)["sinks"])
        return
    if block.split(":")[0] in {"licence_policies", "models", "datasets"}:  # a registry file
        _, issues = build_registry([(tmp_path / "registry.yaml", RegistryFile.model_validate(yaml.safe_load(block)))])
        assert issues == []
        return
    if block.startswith("deployments:"):
        PlanFile.model_validate(yaml.safe_load(block))
        return
    if block.startswith("kubernetes:"):
        PlanMapping.model_validate(yaml.safe_load(block))
        return
    if block.startswith("identity:"):
        IdentitySpec.model_validate(yaml.safe_load(block)["identity"])
        return
    if block.startswith("policies:"):  # a fragment: placed in a minimal pack
        block = MINIMAL_PACK + block
    config = load_sources([(tmp_path / f"{doc}.yaml", block)], base=tmp_path)
    assert config.lanes


@pytest.mark.parametrize("model", [DatasetEntry, ModelEntry, Artifact, DatasetUse, EvaluationResult,
                                   KubernetesMapping, HelmMapping, PlanEntry])
def test_every_registry_and_plan_key_is_documented(model: type[BaseModel]):
    reference = (ROOT / "docs" / "governance.md").read_text()
    missing = [name for name in model.model_fields if not any(form.format(name) in reference for form in
                                                               ("`{}`", "{}:", "{{{}", "{}}}", "`{{{}"))]
    assert missing == []


def test_the_docs_have_examples():
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("model", [LaneSpec, PackMeta, TargetSpec, DataPolicy, RoutingPolicyOptions,
                                   GatewaySettings, UpstreamSettings, BreakerSettings, SyslogSink, WebhookSink,
                                   JsonlSink, OidcSpec, IdentitySpec, RateLimitSettings, GatewayIdentity,
                                   PiiDetectorOptions, RedactionOptions, DlpFilterOptions,
                                   NerOptions])
def test_every_configuration_key_is_documented(model: type[BaseModel]):
    reference = (ROOT / "docs" / "policy-packs.md").read_text()
    # the last form: a section's own key, documented through its members
    forms = ("`{}`", "`upstream.{}`", "`circuit_breaker.{}`", "`oidc.{}`", "`rate_limit.{}`", "`redaction.{}`",
             "`ner.{}`", "`{}.")
    missing = [name for name in model.model_fields if not any(f.format(name) in reference for f in forms)]
    assert missing == []
