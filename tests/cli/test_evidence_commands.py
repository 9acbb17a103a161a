"""Evidence from a running gateway: checkpoints, receipts, exports and verification through the CLI."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from typer.testing import CliRunner

from lanegate.cli import app
from lanegate.config import load_config
from lanegate.ingress.app import Gateway
from lanegate.testing import LoopbackServer
from tests.conftest import RunningGateway, make_keys
from tests.packs import pack, target

runner = CliRunner()
HELLO = [{"role": "user", "content": "hi"}]


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def served(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")])},
                 "gateway:\n  checkpoint_seconds: 0.2\n")
    client = gw.client("eu")
    ids = [client.chat.completions.with_raw_response.create(model="chat", messages=HELLO).headers["x-request-id"]
           for _ in range(5)]
    return gw, ids


def _checkpoint_sizes(gw) -> list[int]:
    path = gw.config.lanes["eu"].store_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT size FROM checkpoints ORDER BY size")]


def test_the_gateway_signs_checkpoints_periodically(served):
    gw, _ = served
    deadline = time.monotonic() + 10
    while 6 not in _checkpoint_sizes(gw):  # the pack put in force, then 5 requests
        assert time.monotonic() < deadline, "no checkpoint of the 6 records was signed"
        time.sleep(0.05)


def test_the_gateway_signs_a_checkpoint_at_shutdown(tmp_path, upstream):
    eu = upstream("eu")
    (tmp_path / "eu.yaml").write_text(pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")]))
    (tmp_path / "gateway.yaml").write_text("gateway:\n  checkpoint_seconds: 3600\n")
    config = load_config(tmp_path)
    keys = asyncio.run(make_keys(config))
    server = LoopbackServer(Gateway(config)).start()
    gw = RunningGateway(server.url, server, config, keys, tmp_path)
    for _ in range(3):
        gw.client("eu").chat.completions.create(model="chat", messages=HELLO)
    assert _checkpoint_sizes(gw) == []
    server.stop()
    assert _checkpoint_sizes(gw) == [4]  # the pack put in force, then 3 requests


def test_receipt_export_and_verify_with_a_pinned_key(served, tmp_path):
    gw, ids = served
    config = str(gw.config_dir)
    receipt = run("events", "show", ids[2], "--config", config, "--lane", "eu", "--proof")
    assert receipt.exit_code == 0, receipt.output
    assert f'"id": "{ids[2]}"' in receipt.output and "receipt verified" in receipt.output

    exported = run("export", "create", "--config", config, "--lane", "eu", "--from", "1h")
    assert exported.exit_code == 0, exported.output
    bundle_path = exported.stdout.splitlines()[0]
    listing = run("export", "list", "--config", config, "--lane", "eu")
    assert "done" in listing.output
    job_id = bundle_path.rsplit("-", 1)[1].removesuffix(".zip")
    assert '"status": "done"' in run("export", "get", job_id, "--config", config, "--lane", "eu").output
    copy = tmp_path / "evidence.zip"
    assert run("export", "download", job_id, "--config", config, "--lane", "eu", "--out", str(copy)).exit_code == 0

    key = run("keys", "signing", "export", "--config", config, "--lane", "eu").stdout.strip()
    verified = run("verify", str(copy), "--key", key)
    assert verified.exit_code == 0, verified.output
    assert "records: 6 (served 5, refused 0, packs put in force 1)" in verified.output
    assert "VERIFIED" in verified.output

    held = tmp_path / "held.txt"
    held.write_text(run("audit", "checkpoint", "--config", config, "--lane", "eu").stdout)
    rotated = run("keys", "signing", "rotate", "--config", config, "--lane", "eu")
    assert rotated.exit_code == 0
    gw.client("eu").chat.completions.create(model="chat", messages=HELLO)
    later = run("export", "create", "--config", config, "--lane", "eu", "--previous", str(held))
    keys = run("keys", "signing", "export", "--config", config, "--lane", "eu").stdout.split()
    assert len(keys) == 2
    again = run("verify", later.stdout.splitlines()[0], "--previous", str(held),
                *[a for k in keys for a in ("--key", k)])
    assert again.exit_code == 0, again.output


def test_export_errors_are_clear(served):
    gw, _ = served
    config = str(gw.config_dir)
    empty = run("export", "create", "--config", config, "--lane", "eu", "--from", "2999-01-01T00:00:00Z")
    assert empty.exit_code == 1 and "no records in that window" in empty.output
    bad = run("export", "create", "--config", config, "--lane", "eu", "--filter", "prompt=secret")
    assert bad.exit_code == 2 and "bad filter" in bad.output
    assert run("events", "show", "req_nope", "--config", config, "--lane", "eu").exit_code == 1
