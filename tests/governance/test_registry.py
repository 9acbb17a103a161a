"""Loading the registry with the packs: every problem named by file and key, and targets refused where the
policy forbids their model."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from lanegate.config import ConfigError, load_config
from tests.governance.data import BASE, CLINICAL, lane_pack, registry


def _load(tmp_path: Path, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return load_config(tmp_path)


def _problems(tmp_path: Path, files: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, files)
    return str(caught.value)


def test_a_target_serving_a_permitted_model_loads(tmp_path: Path) -> None:
    loaded = _load(tmp_path, {"registry.yaml": registry(), "eu.yaml": lane_pack("eu", "eu-west-1")})
    lane = loaded.lanes["eu"]
    assert lane.registry_models == ("clinical-notes@2.1",) and lane.registry_sha256
    assert lane.sha256 != lane.pack_sha256  # the configuration digest covers the registry entries too


def test_a_target_in_a_forbidden_region_is_refused_naming_the_ancestor(tmp_path: Path) -> None:
    text = _problems(tmp_path, {"registry.yaml": registry(), "us.yaml": lane_pack("us", "us-east-1")})
    assert "us.yaml" in text and "providers.targets[0].registry_model" in text
    assert "data-class-region" in text and "dataset ehr-eu-2024 allows only eu-central-1, eu-west-1" in text


def test_registry_errors_name_the_file_and_key(tmp_path: Path) -> None:
    broken = {**CLINICAL, "base_models": ["base-7b@9"], "licence": "Apache 2",
              "datasets": [{"id": "nowhere"}], "licence_policy": "copyleft"}
    text = _problems(tmp_path, {"registry.yaml": registry(models=[BASE, broken]),
                                "eu.yaml": lane_pack("eu", "eu-west-1", model=None)})
    assert "registry.yaml:" in text
    assert "models[1].base_models[0]: no model 'base-7b@9'" in text
    assert "models[1].datasets[0].id: no dataset 'nowhere'" in text
    assert "models[1].licence: 'Apache 2' is not an SPDX licence expression" in text
    assert "models[1].licence_policy: no licence policy 'copyleft'" in text


def test_unknown_keys_duplicates_and_cycles_are_errors(tmp_path: Path) -> None:
    a = {"id": "a", "version": "1", "licence": "MIT", "base_models": ["b@1"]}
    b = {"id": "b", "version": "1", "licence": "MIT", "base_models": ["a@1"], "colour": "red"}
    text = _problems(tmp_path, {"registry.yaml": registry(models=[a, a, b], datasets=[]),
                                "eu.yaml": lane_pack("eu", "eu-west-1", model=None)})
    assert "models[1].version: model 'a@1' is declared twice" not in text  # b's unknown key fails the file first
    assert "models[2].colour: unknown key" in text
    del b["colour"]
    text = _problems(tmp_path, {"registry.yaml": registry(models=[a, a, b], datasets=[])})
    assert "models[1].version: model 'a@1' is declared twice" in text
    assert "is its own ancestor" in text


def test_a_licence_outside_its_policy_is_an_error(tmp_path: Path) -> None:
    gpl = {**BASE, "licence": "GPL-3.0-only"}
    text = _problems(tmp_path, {"registry.yaml": registry(models=[gpl], datasets=[]),
                                "eu.yaml": lane_pack("eu", "eu-west-1", model=None)})
    assert "licence 'GPL-3.0-only' is not one of 'permissive' (Apache-2.0, MIT)" in text


def test_a_registry_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "registry").mkdir()
    (tmp_path / "registry" / "models.yaml").write_text(registry())
    loaded = _load(tmp_path, {"gateway.yaml": "gateway: {registry_dir: registry}\n",
                              "eu.yaml": lane_pack("eu", "eu-west-1")})
    assert "clinical-notes@2.1" in loaded.registry.models


def _weights(tmp_path: Path, content: bytes = b"weights") -> str:
    (tmp_path / "model.safetensors").write_bytes(content)
    return hashlib.sha256(content).hexdigest()


def test_a_changed_artifact_refuses_the_target(tmp_path: Path) -> None:
    digest = _weights(tmp_path)
    model = {**BASE, "artifacts": [{"path": "model.safetensors", "sha256": digest}]}
    files = {"registry.yaml": registry(models=[model], datasets=[]),
             "eu.yaml": lane_pack("eu", "eu-west-1", model="base-7b@1.0")}
    assert _load(tmp_path, files).registry.verified["base-7b@1.0"] == ["model.safetensors"]
    _weights(tmp_path, b"tampered")
    text = _problems(tmp_path, files)
    assert "artifact-digests" in text and "model.safetensors" in text


def _statement(resources: list[dict[str, str]]) -> dict[str, object]:
    return {"_type": "https://in-toto.io/Statement/v1", "subject": [{"name": "m", "digest": {"sha256": "0" * 64}}],
            "predicateType": "https://model_signing/signature/v1.0",
            "predicate": {"resources": resources}}


def test_a_signing_bundle_supplies_the_digests(tmp_path: Path) -> None:
    digest = _weights(tmp_path)
    statement = _statement([{"name": "model.safetensors", "algorithm": "sha256", "digest": digest}])
    bundle = {"dsseEnvelope": {"payload": base64.b64encode(json.dumps(statement).encode()).decode(),
                               "payloadType": "application/vnd.in-toto+json", "signatures": []}}
    (tmp_path / "model.sig").write_text(json.dumps(bundle))
    model = {**BASE, "signing_manifest": "model.sig"}
    files = {"registry.yaml": registry(models=[model], datasets=[]),
             "eu.yaml": lane_pack("eu", "eu-west-1", model="base-7b@1.0")}
    assert _load(tmp_path, files).registry.verified["base-7b@1.0"] == ["model.safetensors"]
    _weights(tmp_path, b"tampered")
    assert "artifact-digests" in _problems(tmp_path, files)


def test_a_manifest_that_disagrees_with_the_entry_is_an_error(tmp_path: Path) -> None:
    digest = _weights(tmp_path)
    v01 = {"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://model_signing/Digests/v0.1",
           "subject": [{"name": "model.safetensors", "digest": {"sha256": "1" * 64},
                        "annotations": {"actual_hash_algorithm": "file-sha256"}}]}
    (tmp_path / "manifest.json").write_text(json.dumps(v01))
    model = {**BASE, "signing_manifest": "manifest.json",
             "artifacts": [{"path": "model.safetensors", "sha256": digest}]}
    text = _problems(tmp_path, {"registry.yaml": registry(models=[model], datasets=[])})
    assert "differs from the signing manifest's" in text
    (tmp_path / "manifest.json").write_text("{}")
    assert "not an in-toto statement" in _problems(tmp_path, {"registry.yaml": registry(models=[model],
                                                                                        datasets=[])})
