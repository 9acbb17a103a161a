"""Loading packs: the issue's example shape, and errors that name the file, the line, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from lanegate.config import ConfigError, load_config

EXAMPLE = """\
lane:
  name: eu
  jurisdiction: EU
  allowed_regions: [eu-central-1, eu-west-1, fra-onprem]
  store: sqlite:///./data/eu.db
pack:
  name: eu-cross-border-guard
  version: "1.0.0"
  enabled: true
providers:
  targets:
    - id: eu-approved-zdr
      provider: openai
      base_url: https://llm.eu.example/v1
      model: gpt-x-mini
      region: eu-central-1
      priority: 1
      secret_key_ref: {env: OPENAI_API_KEY}
      data_policy:
        zero_data_retention: true
        training_opt_out: true
        retention_days: 0
        in_memory_only: true
        sanitized: true
        accepts_tokenized_input: true
        allow_internet_egress: false
        local_only_processing: true
policies:
  chain: [data-routing-policy, audit-logger]
policy:
  data-routing-policy:
    require_zero_data_retention: true
    require_no_training: true
    max_retention_days: 0
    require_in_memory_only: true
    sanitize_before_provider: false
    tokenize_sensitive_fields: false
    allow_internet_egress: false
    local_only_processing: true
    on_no_compliant_provider: block
    log_provider_selection: true
  audit-logger: {}
"""


def _write(tmp_path: Path, text: str, name: str = "eu.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(p) for p in caught.value.problems]


def test_the_documented_pack_shape_loads(tmp_path):
    config = load_config(_write(tmp_path, EXAMPLE))
    lane = config.lanes["eu"]
    assert lane.jurisdiction == "EU" and lane.allowed_regions == {"eu-central-1", "eu-west-1", "fra-onprem"}
    assert lane.store_url == f"sqlite:///{tmp_path / 'data' / 'eu.db'}"
    assert lane.routing is not None and lane.routing.local_only_processing
    assert lane.chain == ("data-routing-policy", "audit-logger")
    assert config.warnings == []


def test_target_outside_allowed_regions_is_a_load_error_naming_line_and_key(tmp_path):
    path = _write(tmp_path, EXAMPLE.replace("region: eu-central-1", "region: us-east-1"))
    [error] = _errors(path)
    assert error.startswith(f"{path}:16: providers.targets[0].region: target 'eu-approved-zdr' is in region "
                            "'us-east-1', outside lane.allowed_regions")
    assert "remove the target or move it to another lane" in error


def test_unknown_key_is_an_error_not_ignored(tmp_path):
    path = _write(tmp_path, EXAMPLE.replace("training_opt_out: true\n        retention", "training_optout: true\n"
                                                                                           "        retention"))
    [error] = _errors(path)
    assert "providers.targets[0].data_policy.training_optout: unknown key" in error
    assert f"{path}:21:" in error


def test_an_unknown_stage_is_a_load_error_listing_the_known_ones(tmp_path):
    unknown = EXAMPLE.replace("chain: [data-routing-policy", "chain: [virus-scan, data-routing-policy")
    errors = _errors(_write(tmp_path, unknown))
    assert any("policies.chain[0]: unknown stage 'virus-scan'; known stages: audit-logger, data-routing-policy, "
               "dlp-filter, pii-detector" in e for e in errors)


def test_options_for_a_stage_missing_from_the_chain_are_an_error(tmp_path):
    path = _write(tmp_path, EXAMPLE.replace("chain: [data-routing-policy, audit-logger]", "chain: [audit-logger]"))
    errors = _errors(path)
    assert any("policy.data-routing-policy: options for 'data-routing-policy', which is not in policies.chain" in e
               for e in errors)


def test_sanitizing_requirements_need_a_sanitizing_stage_before_routing(tmp_path):
    path = _write(tmp_path, EXAMPLE.replace("sanitize_before_provider: false", "sanitize_before_provider: true"))
    assert any("policy.data-routing-policy.sanitize_before_provider: requires a sanitizing stage" in e
               for e in _errors(path))
    after = EXAMPLE.replace("sanitize_before_provider: false", "sanitize_before_provider: true").replace(
        "chain: [data-routing-policy, audit-logger]", "chain: [data-routing-policy, pii-detector, audit-logger]")
    assert any("requires a sanitizing stage" in e for e in _errors(_write(tmp_path, after)))
    before = after.replace("chain: [data-routing-policy, pii-detector,", "chain: [pii-detector, data-routing-policy,")
    assert load_config(_write(tmp_path, before)).lanes


def test_spilling_is_not_an_option(tmp_path):
    path = _write(tmp_path, EXAMPLE.replace("on_no_compliant_provider: block", "on_no_compliant_provider: fallback"))
    assert any("policy.data-routing-policy.on_no_compliant_provider" in e for e in _errors(path))


def test_pack_without_lane_block_loads_with_a_geography_warning(tmp_path):
    body = EXAMPLE.split("pack:", 1)[1]
    config = load_config(_write(tmp_path, "pack:" + body))
    lane = config.lanes["eu-cross-border-guard"]
    assert lane.allowed_regions is None and not lane.region_checked
    assert any("geography unchecked" in str(w) for w in config.warnings)


def test_invalid_yaml_names_the_line(tmp_path):
    path = _write(tmp_path, EXAMPLE.replace("  version: \"1.0.0\"", "  version: [1.0.0"))
    [error] = _errors(path)
    assert "<yaml>: not valid YAML" in error and f"{path}:" in error


def test_two_packs_for_one_lane_and_a_disabled_pack(tmp_path):
    _write(tmp_path, EXAMPLE, "a.yaml")
    _write(tmp_path, EXAMPLE, "b.yaml")
    assert any("lane 'eu' is already declared" in e for e in _errors(tmp_path))
    _write(tmp_path, EXAMPLE.replace("enabled: true", "enabled: false"), "b.yaml")
    config = load_config(tmp_path)
    assert list(config.lanes) == ["eu"] and any("disabled" in str(w) for w in config.warnings)


def test_every_problem_is_reported_at_once(tmp_path):
    text = EXAMPLE.replace("region: eu-central-1", "region: us-east-1").replace("priority: 1", "priority: high")
    errors = _errors(_write(tmp_path, text))
    assert any("priority" in e for e in errors)


def test_gateway_settings_file_sets_limits_and_data_dir(tmp_path):
    _write(tmp_path, "pack:" + EXAMPLE.split("pack:", 1)[1])
    _write(tmp_path, "gateway:\n  data_dir: /var/lib/lanegate\n  max_body_bytes: 2048\n", "gateway.yaml")
    config = load_config(tmp_path)
    assert config.settings.max_body_bytes == 2048
    assert config.lanes["eu-cross-border-guard"].store_url == "sqlite:////var/lib/lanegate/eu-cross-border-guard.db"


def test_the_content_memo_size_is_a_count_the_default_4096(tmp_path):
    _write(tmp_path, "pack:" + EXAMPLE.split("pack:", 1)[1])
    assert load_config(tmp_path).settings.content_memo_entries == 4096
    _write(tmp_path, "gateway:\n  content_memo_entries: -1\n", "gateway.yaml")
    assert any("gateway.content_memo_entries" in e for e in _errors(tmp_path))


def test_duplicate_target_ids_and_bad_store_url(tmp_path):
    duplicated = EXAMPLE.replace("providers:\n  targets:\n", "providers:\n  targets:\n" + EXAMPLE.split(
        "  targets:\n", 1)[1].split("policies:")[0])
    assert any("declared twice" in e for e in _errors(_write(tmp_path, duplicated)))
    assert any("lane.store" in e for e in _errors(_write(tmp_path, EXAMPLE.replace("sqlite:///", "mysql://"))))


def test_a_store_this_build_cannot_open_is_a_load_error(tmp_path):
    errors = _errors(_write(tmp_path, EXAMPLE.replace("sqlite:///./data/eu.db", "postgresql://db/lanegate")))
    assert any("lane.store: the PostgreSQL store is not available" in e for e in errors)
