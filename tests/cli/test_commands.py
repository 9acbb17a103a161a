"""The command line: check, keys, events, audit verify."""

from __future__ import annotations

import sqlite3

import openai
import orjson
import pytest
from typer.testing import CliRunner

from lanegate.cli import app, common
from tests.packs import pack, target

runner = CliRunner()


@pytest.fixture
def config_dir(tmp_path):
    directory = tmp_path / "packs"
    directory.mkdir()
    (directory / "eu.yaml").write_text(pack("eu", ["r1"], [target("eu-a", "http://127.0.0.1:9", "r1")]))
    (directory / "us.yaml").write_text(pack("us", ["r2"], [target("us-a", "http://127.0.0.1:9", "r2")]))
    return directory


def run(*args: str):
    return runner.invoke(app, list(args))


def test_check_passes_valid_packs_and_fails_with_file_key_reason_lines(config_dir):
    ok = run("check", "--config", str(config_dir))
    assert ok.exit_code == 0, ok.output
    (config_dir / "bad.yaml").write_text(pack("eu2", ["r1"], [target("x", "http://h", "us-east-1")]))
    bad = run("check", "--config", str(config_dir))
    assert bad.exit_code == 1
    assert f"{config_dir / 'bad.yaml'}:" in bad.output and "providers.targets[0].region:" in bad.output


def test_check_warns_about_unchecked_geography_and_missing_secrets(config_dir, monkeypatch):
    monkeypatch.delenv("NOPE_KEY", raising=False)
    (config_dir / "legacy.yaml").write_text(pack(None, [], [target("x", "http://h", "anywhere",
                                                                  secret_key_ref={"env": "NOPE_KEY"})]))
    result = run("check", "--config", str(config_dir))
    assert result.exit_code == 0
    assert "warning:" in result.output and "geography unchecked" in result.output
    assert "environment variable NOPE_KEY is not set" in result.output
    assert run("check", "--config", str(config_dir), "--secrets").exit_code == 1


def test_keys_create_list_revoke(config_dir):
    created = run("keys", "create", "--config", str(config_dir), "--lane", "eu", "--name", "billing-app")
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("lgk_eu_")
    assert run("keys", "create", "--config", str(config_dir), "--lane", "eu", "--name", "billing-app").exit_code == 1
    listed = run("keys", "list", "--config", str(config_dir), "--lane", "eu")
    assert "billing-app" in listed.output and "active" in listed.output and key not in listed.output
    assert run("keys", "revoke", "--config", str(config_dir), "--lane", "eu", "billing-app").exit_code == 0
    assert "revoked" in run("keys", "list", "--config", str(config_dir), "--lane", "eu").output
    assert run("keys", "revoke", "--config", str(config_dir), "--lane", "eu", "billing-app").exit_code == 1
    assert run("keys", "list", "--config", str(config_dir), "--lane", "mars").exit_code == 1


def test_events_filters_and_audit_verify_names_the_first_broken_record(gateway, upstream, monkeypatch):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    client = gw.client("eu")
    hello = [{"role": "user", "content": "hi"}]
    client.chat.completions.create(model="chat", messages=hello)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="missing", messages=hello)
    client.chat.completions.create(model="chat", messages=hello)
    config = str(gw.config_dir)
    listed = run("events", "--config", config, "--lane", "eu", "--json")
    assert [orjson.loads(line)["decision"] for line in listed.stdout.splitlines()] == [
        "config_changed", "served", "refused", "served"]
    refused = run("events", "--config", config, "--lane", "eu", "--decision", "refused", "--since", "1h", "--json")
    assert len(refused.stdout.splitlines()) == 1
    assert run("events", "--config", config, "--lane", "eu", "--since", "2999-01-01T00:00:00Z", "--json").stdout == ""
    monkeypatch.setattr(common.out, "width", 200)
    table = run("events", "--config", config, "--lane", "eu")
    assert "model_not_found" in table.output and "eu-a" in table.output and "pack in force" in table.output

    assert run("audit", "verify", "--config", config, "--lane", "eu").exit_code == 0
    with sqlite3.connect(gw.config.lanes["eu"].store_url.removeprefix("sqlite:///")) as db:
        db.execute("UPDATE decisions SET body = replace(body, '\"status\":404', '\"status\":200') WHERE seq = 3")
    broken = run("audit", "verify", "--config", config, "--lane", "eu")
    assert broken.exit_code == 1
    assert "record 3" in broken.output and "does not match its hash" in broken.output


def test_missing_config_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("LANEGATE_CONFIG", raising=False)
    assert "pass --config" in run("events", "--lane", "eu").output
    result = run("check", "--config", str(tmp_path / "nowhere"))
    assert result.exit_code == 1 and "no such file or directory" in result.output


def test_audit_verify_checks_signed_checkpoints_against_the_records(gateway, upstream):
    import hashlib

    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    for _ in range(3):  # records 2-4; record 1 is the pack put in force at start
        gw.client("eu").chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
    config = str(gw.config_dir)
    assert run("audit", "checkpoint", "--config", config, "--lane", "eu").exit_code == 0
    assert "1 signed checkpoint(s) match" in run("audit", "verify", "--config", config, "--lane", "eu").output
    path = gw.config.lanes["eu"].store_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:  # rewrite the newest record and its hash: the chain alone cannot tell
        body = db.execute("SELECT body FROM decisions WHERE seq = 4").fetchone()[0]
        forged = body.replace('"status":200', '"status":201')
        db.execute("UPDATE decisions SET body = ?, hash = ? WHERE seq = 4",
                   (forged, hashlib.sha256(forged.encode()).hexdigest()))
    rewritten = run("audit", "verify", "--config", config, "--lane", "eu")
    assert rewritten.exit_code == 1
    assert "checkpoint of size 4 was signed for other records than those stored" in rewritten.output
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM decisions WHERE seq = 4")
    truncated = run("audit", "verify", "--config", config, "--lane", "eu")
    assert "checkpoint of size 4 covers records that are no longer stored (truncated)" in truncated.output


def test_audit_consistency_proves_the_log_only_grew(gateway, upstream, tmp_path):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    client = gw.client("eu")
    client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
    config = str(gw.config_dir)
    held = tmp_path / "held.txt"
    held.write_text(run("audit", "checkpoint", "--config", config, "--lane", "eu").stdout)
    for _ in range(3):
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
    proved = run("audit", "consistency", str(held), "--config", config, "--lane", "eu")
    assert proved.exit_code == 0, proved.output
    assert "consistent: size 2 -> 5" in proved.output  # the pack put in force, then one request
    text = held.read_text()
    held.write_text(text.replace(text.splitlines()[2], "A" * 43 + "="))  # an edited root breaks the signature
    refused = run("audit", "consistency", str(held), "--config", config, "--lane", "eu")
    assert refused.exit_code == 1 and "does not verify" in refused.output
