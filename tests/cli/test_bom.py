"""lanegate bom: a lane's CycloneDX 1.6 ML-BOM, validated against the official schema."""

from __future__ import annotations

import hashlib
from pathlib import Path

import orjson
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from typer.testing import CliRunner

from lanegate.cli import app
from tests.governance.data import BASE, CLINICAL, lane_pack, registry


def _bom(tmp_path: Path) -> dict:
    (tmp_path / "weights.bin").write_bytes(b"w")
    clinical = {**CLINICAL, "artifacts": [{"path": "weights.bin", "sha256": hashlib.sha256(b"w").hexdigest()}],
                "intended_uses": ["discharge letters"],
                "evaluations": [{"name": "summary", "metric": "rougeL", "value": 0.41, "dataset": "held-out"}]}
    (tmp_path / "registry.yaml").write_text(registry(models=[BASE, clinical]))
    (tmp_path / "eu.yaml").write_text(lane_pack("eu", "eu-west-1", data_classes=["personal", "health"]))
    output = tmp_path / "bom.json"
    result = CliRunner().invoke(app, ["bom", "--lane", "eu", "--config", str(tmp_path), "-o", str(output)])
    assert result.exit_code == 0, result.output
    return orjson.loads(output.read_bytes())


def test_the_bom_is_valid_cyclonedx_1_6(tmp_path: Path) -> None:
    document = _bom(tmp_path)
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(orjson.dumps(document).decode())
    assert errors is None, errors
    assert document["specVersion"] == "1.6"


def test_models_datasets_targets_and_their_dependencies(tmp_path: Path) -> None:
    document = _bom(tmp_path)
    by_ref = {c["bom-ref"]: c for c in document["components"]}
    clinical = by_ref["model:clinical-notes@2.1"]
    assert clinical["type"] == "machine-learning-model"
    assert clinical["modelCard"]["modelParameters"]["datasets"] == [{"ref": "dataset:ehr-eu-2024"}]
    assert clinical["modelCard"]["quantitativeAnalysis"]["performanceMetrics"][0]["type"] == "rougeL"
    assert {"name": "lanegate:allowed_regions:health", "value": "eu-central-1,eu-west-1"} in clinical["properties"]
    assert clinical["components"][0]["hashes"][0]["alg"] == "SHA-256"
    assert by_ref["model:base-7b@1.0"]["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert by_ref["dataset:ehr-eu-2024"]["data"][0]["classification"] == "health, personal"
    [service] = document["services"]
    assert {"name": "lanegate:region", "value": "eu-west-1"} in service["properties"]
    depends = {d["ref"]: d["dependsOn"] for d in document["dependencies"]}
    assert depends["lane:eu"] == ["target:eu-a"]
    assert depends["target:eu-a"] == ["model:clinical-notes@2.1"]
    assert depends["model:clinical-notes@2.1"] == ["model:base-7b@1.0", "dataset:ehr-eu-2024"]
