"""Auditor operations over HTTP: records, receipts, checkpoints and export bundles, behind the auditor role."""

from __future__ import annotations

import base64
import hashlib
import time

import openai
import orjson
import pytest

from lanegate.evidence import merkle
from lanegate.evidence.note import Checkpoint, VerifierKey
from lanegate.evidence.verify import verify_bundle
from lanegate.ledger.receipts import Receipt
from tests.packs import pack, target

HELLO = [{"role": "user", "content": "hello"}]


def _served(gateway, upstream, requests: int = 3):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")])})
    ids = [gw.client("eu").chat.completions.with_raw_response.create(model="chat", messages=HELLO)
           .headers["x-request-id"] for _ in range(requests)]
    return gw, ids, gw.http("eu", gw.add_key("eu", "auditor", ("auditor",)))


def test_an_auditor_pages_through_records_exactly_as_stored(gateway, upstream):
    _, ids, auditor = _served(gateway, upstream, requests=4)
    first = auditor.get("audit/events", params={"limit": 3}).json()
    assert first["has_more"] is True and [e["seq"] for e in first["data"]] == [1, 2, 3]
    rest = auditor.get("audit/events", params={"after": first["next_after"], "limit": 3}).json()
    pages = first["data"] + rest["data"]
    assert [e["record"]["id"] for e in pages[1:5]] == ids  # seq 1 is the pack put in force
    response = auditor.get("audit/events", params={"limit": 2})
    for entry in response.json()["data"]:  # each record's text, as returned, hashes to its stored hash
        body = orjson.dumps(entry["record"], option=orjson.OPT_SORT_KEYS)
        assert hashlib.sha256(body).hexdigest() == entry["hash"]
    refused = auditor.get("audit/events", params={"decision": "config_changed"}).json()["data"]
    assert [e["record"]["reason"] for e in refused] == ["start"]


def test_an_auditor_gets_a_receipt_that_verifies_against_a_signed_checkpoint(gateway, upstream):
    _, ids, auditor = _served(gateway, upstream)
    answer = auditor.get(f"audit/events/{ids[1]}", params={"proof": "true"}).json()
    receipt = answer["receipt"]
    body = orjson.dumps(answer["record"], option=orjson.OPT_SORT_KEYS).decode()
    checked = Receipt(body, receipt["leaf_index"], receipt["checkpoint"],
                      [base64.b64decode(p) for p in receipt["proof"]],
                      [VerifierKey.parse(k) for k in receipt["keys"]])
    assert checked.check() == "verified"
    assert auditor.get("audit/events/req_unknown").json()["error"]["code"] == "record_not_found"


def test_a_checkpoint_comes_with_a_consistency_proof_from_the_size_an_auditor_holds(gateway, upstream):
    gw, _, auditor = _served(gateway, upstream)
    held = auditor.get("audit/checkpoint").json()
    gw.client("eu").chat.completions.create(model="chat", messages=HELLO)
    later = auditor.get("audit/checkpoint", params={"from_size": held["size"]}).json()
    keys = [VerifierKey.parse(k) for k in later["keys"]]
    old, _ = Checkpoint.open(held["checkpoint"], keys)
    new, _ = Checkpoint.open(later["checkpoint"], keys)
    assert new.size > old.size
    merkle.verify_consistency(old.size, new.size, old.root, new.root,
                              [base64.b64decode(p) for p in later["consistency"]["proof"]])
    too_big = auditor.get("audit/checkpoint", params={"from_size": new.size + 50})
    assert too_big.status_code == 400 and too_big.json()["error"]["param"] == "from_size"


def test_an_auditor_exports_a_bundle_that_verifies_offline(gateway, upstream, tmp_path):
    _, _, auditor = _served(gateway, upstream)
    created = auditor.post("audit/exports", json={"from": "1h"})
    assert created.status_code == 202 and created.headers["location"].endswith(created.json()["id"])
    job_id = created.json()["id"]
    deadline = time.monotonic() + 20
    while (job := auditor.get(f"audit/exports/{job_id}").json())["status"] == "running":
        assert time.monotonic() < deadline, "the export did not finish"
        time.sleep(0.05)
    assert job["status"] == "done" and job["bundle_url"].endswith(f"/audit/exports/{job_id}/bundle")
    download = auditor.get(f"audit/exports/{job_id}/bundle")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert hashlib.sha256(download.content).hexdigest() == download.headers["x-lanegate-bundle-sha256"]
    path = tmp_path / "bundle.zip"
    path.write_bytes(download.content)
    report = verify_bundle(path)
    assert report.ok, report.failures
    assert [j["id"] for j in auditor.get("audit/exports").json()["data"]] == [job_id]


def test_a_failed_export_says_why_and_has_no_bundle(gateway, upstream):
    _, _, auditor = _served(gateway, upstream, requests=1)
    job_id = auditor.post("audit/exports", json={"from": "2999-01-01T00:00:00Z"}).json()["id"]
    deadline = time.monotonic() + 20
    while (job := auditor.get(f"audit/exports/{job_id}").json())["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert job["status"] == "failed" and "no records in that window" in job["error"]
    refused = auditor.get(f"audit/exports/{job_id}/bundle")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "export_not_ready"
    assert auditor.get("audit/exports/nope").status_code == 404


def test_export_and_query_parameters_are_validated_with_the_field_named(gateway, upstream):
    _, _, auditor = _served(gateway, upstream, requests=1)
    cases = [
        (auditor.get("audit/events", params={"limit": 0}), "limit"),
        (auditor.get("audit/events", params={"after": "9" * 30}), "after"),
        (auditor.get("audit/checkpoint", params={"from_size": "١٢"}), "from_size"),
        (auditor.get("audit/events", params={"since": "yesterday"}), "since"),
        (auditor.get("audit/events", params={"decision": "maybe"}), "decision"),
        (auditor.post("audit/exports", json={"from": "1h", "extra": 1}), "extra"),
        (auditor.post("audit/exports", json={"filter": {"prompt": "x"}}), "filter.prompt"),
        (auditor.post("audit/exports", json={"previous": "not a checkpoint"}), "previous"),
    ]
    for response, param in cases:
        assert response.status_code == 400, response.text
        assert response.json()["error"]["param"] == param


def test_audit_operations_need_the_auditor_role_and_are_recorded(gateway, upstream):
    gw, _, auditor = _served(gateway, upstream, requests=1)
    caller = gw.http("eu", gw.keys["eu"])
    denied = caller.get("audit/events")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "role_required"
    assert caller.post("audit/exports", json={}).status_code == 403
    auditor.get("audit/events")
    auditor_key = auditor.headers["authorization"].removeprefix("Bearer ")
    with pytest.raises(openai.PermissionDeniedError) as caught:  # an auditor's key sends nothing to providers
        gw.client("eu", key=auditor_key).chat.completions.create(model="chat", messages=HELLO)
    assert caught.value.code == "role_required"
    recorded = [(r["endpoint"], r["decision"], r["principal"].get("roles")) for r in gw.records("eu")[1:]]
    assert recorded == [("audit.events", "refused", None), ("audit.exports.create", "refused", None),
                        ("audit.events", "served", ["auditor"]), ("chat.completions", "refused", ["auditor"])]
