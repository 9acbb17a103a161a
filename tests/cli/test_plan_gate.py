"""lanegate check --plan and lanegate registry show: the CI gate and its explanations."""

from __future__ import annotations

from pathlib import Path

import orjson
import yaml
from typer.testing import CliRunner

from lanegate.cli import app
from tests.governance.data import lane_pack, registry


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    (config / "registry.yaml").write_text(registry())
    (config / "eu.yaml").write_text(lane_pack("eu", "eu-west-1", data_classes=["personal", "health"]))
    (config / "us.yaml").write_text(lane_pack("us", "us-east-1", model=None))
    return config


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def _write(tmp_path: Path, name: str, docs: list[object]) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path


def test_a_plain_plan_lists_one_line_per_violation_and_exits_1(tmp_path: Path) -> None:
    plan = _write(tmp_path, "deploy.yaml", [{"deployments": [
        {"model": "clinical-notes@2.1", "region": "eu-west-1", "lane": "eu"},
        {"model": "clinical-notes@2.1", "region": "us-east-1", "lane": "us", "uses": ["insurance-pricing"]},
    ]}])
    result = _run("check", "--config", str(_config(tmp_path)), "--plan", str(plan))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{plan}: deployments[1]: ") for line in lines)
    assert "data-class-region: health data may not be processed in us-east-1" in lines[0]
    assert "dataset ehr-eu-2024" in lines[0]
    assert "prohibited-use" in lines[1]
    assert "2 deployment(s) checked: 2 violation(s); refused" in result.stderr


def test_an_allowed_plan_exits_0(tmp_path: Path) -> None:
    plan = _write(tmp_path, "deploy.yaml", [{"deployments": [
        {"model": "base-7b", "region": "us-east-1", "lane": "us", "data_classes": ["health"]}]}])
    result = _run("check", "--config", str(_config(tmp_path)), "--plan", str(plan))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def _deployment(name: str, model: str, region: str, lane: str, classes: str) -> dict[str, object]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"template": {
                "metadata": {"labels": {"app": name, "lanegate.io/model": model, "lanegate.io/lane": lane},
                             "annotations": {"lanegate.io/data-classes": classes}},
                "spec": {"nodeSelector": {"topology.kubernetes.io/region": region},
                         "containers": [{"name": "vllm", "image": "vllm/vllm-openai"}]}}}}


def test_kubernetes_manifests_are_read_with_the_default_mapping(tmp_path: Path) -> None:
    manifests = _write(tmp_path, "k8s.yaml", [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}},
        _deployment("eu-notes", "clinical-notes@2.1", "eu-west-1", "eu", "health"),
        _deployment("us-notes", "clinical-notes@2.1", "us-east-1", "us", "health, personal"),
    ])
    result = _run("check", "--config", str(_config(tmp_path)), "--plan", str(manifests))
    assert result.exit_code == 1
    assert all("document 2 (Deployment/us-notes)" in line for line in result.stdout.splitlines())
    assert "health data" in result.stdout and "personal data" not in result.stdout


def test_a_mapping_reads_other_labels_and_env(tmp_path: Path) -> None:
    workload = _deployment("notes", "ignored", "ignored", "us", "")
    workload["spec"]["template"]["spec"]["containers"][0]["env"] = [  # type: ignore[index]
        {"name": "MODEL_REF", "value": "clinical-notes@2.1"}, {"name": "REGION", "value": "us-east-1"}]
    manifests = _write(tmp_path, "k8s.yaml", [workload])
    mapping = _write(tmp_path, "mapping.yaml", [{"kubernetes": {"model": {"env": "MODEL_REF"},
                                                                "region": {"env": "REGION"}}}])
    result = _run("check", "--config", str(_config(tmp_path)), "--plan", str(manifests),
                  "--mapping", str(mapping))
    assert result.exit_code == 1 and "data-class-region" in result.stdout


def test_helm_values_with_a_list_mapping(tmp_path: Path) -> None:
    values = _write(tmp_path, "values.yaml", [{"models": [
        {"ref": "clinical-notes@2.1", "placement": {"region": "eu-west-1"}, "lane": "eu"},
        {"ref": "clinical-notes@2.1", "placement": {"region": "us-east-1"}, "lane": "us"}]}])
    mapping = _write(tmp_path, "mapping.yaml", [{"helm": {"each": "models", "model": "ref",
                                                          "region": "placement.region", "lane": "lane"}}])
    result = _run("check", "--config", str(_config(tmp_path)), "--plan", str(values), "--format", "helm",
                  "--mapping", str(mapping))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{values}: models[1]: clinical-notes@2.1 in us-east-1 (lane us)")


def test_unreadable_plans_exit_2_naming_the_place(tmp_path: Path) -> None:
    config = _config(tmp_path)
    missing = _write(tmp_path, "k8s.yaml", [_deployment("x", "clinical-notes@2.1", "eu-west-1", "eu", "")])
    manifests = yaml.safe_load(missing.read_text())
    del manifests["spec"]["template"]["spec"]["nodeSelector"]
    _write(tmp_path, "k8s.yaml", [manifests])
    result = _run("check", "--config", str(config), "--plan", str(missing))
    assert result.exit_code == 2
    assert "no region found where the mapping says (node_selector topology.kubernetes.io/region)" in result.stderr
    values = _write(tmp_path, "values.yaml", [{"image": "x"}])
    assert _run("check", "--config", str(config), "--plan", str(values)).exit_code == 2
    bad = _write(tmp_path, "deploy.yaml", [{"deployments": [{"model": "m"}]}])
    result = _run("check", "--config", str(config), "--plan", str(bad))
    assert result.exit_code == 2 and "deployments.0.region: Field required" in result.stderr


def test_registry_show_explains_the_restriction(tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = _run("registry", "show", "clinical-notes", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "dataset ehr-eu-2024 (fine-tuning; from EU" in result.stdout
    assert "health data: eu-central-1, eu-west-1 — dataset ehr-eu-2024 allows eu-central-1, eu-west-1" in result.stdout
    facts = orjson.loads(_run("registry", "show", "clinical-notes@2.1", "--config", str(config), "--json").stdout)
    assert facts["allowed_regions"]["health"]["regions"] == ["eu-central-1", "eu-west-1"]
    assert facts["ancestors"] == ["model base-7b@1.0", "dataset ehr-eu-2024"]
    assert _run("registry", "show", "nope", "--config", str(config)).exit_code == 1
