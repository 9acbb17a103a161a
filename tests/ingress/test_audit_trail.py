"""Every lane request ends in exactly one record, written before the response; no record, no response."""

from __future__ import annotations

import sqlite3

import httpx
import openai
import pytest

from tests.packs import pack, target

HELLO = [{"role": "user", "content": "Anna Schmidt, IBAN DE89 3704 0044 0532 0130 00"}]


def _db(gw, lane: str = "eu") -> sqlite3.Connection:
    return sqlite3.connect(gw.config.lanes[lane].store_url.removeprefix("sqlite:///"))


def test_record_holds_decision_metadata_and_keyed_digests_but_no_text(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")])})
    gw.client("eu").chat.completions.create(model="chat", messages=HELLO)
    [record] = gw.records("eu")
    lane = gw.config.lanes["eu"]
    assert record["pack"] == {"name": "eu-pack", "version": "1.0.0", "sha256": lane.sha256}
    assert record["principal"]["name"] == "eu-app"
    assert record["endpoint"] == "chat.completions" and record["model"] == "chat"
    assert [s["stage"] for s in record["stages"]] == ["data-routing-policy", "audit-logger"]
    assert record["route"]["selected"] == "eu-a" and record["route"]["region"] == "eu-central-1"
    assert record["upstream_status"] == 200 and record["usage"]["total_tokens"] > 0
    assert record["latency_us"] > 0 and record["seq"] == 2  # after the record of the pack put in force
    assert record["digests"]["request"].startswith("hmac-sha256:")
    assert record["digests"]["upstream_request"] != record["digests"]["request"]
    text = str(record)
    for fragment in ("Anna", "Schmidt", "DE89", "Hello from eu"):
        assert fragment not in text


def test_every_refusal_writes_exactly_one_record(gateway, upstream):
    eu = upstream("eu")
    eu.fake.status = 503
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    with httpx.Client(base_url=f"{gw.url}/lanes/eu/v1", timeout=20) as http:
        auth = {"authorization": f"Bearer {gw.keys['eu']}"}
        statuses = [
            http.post("/chat/completions", json={"model": "chat", "messages": HELLO}).status_code,
            http.post("/chat/completions", content=b"{", headers=auth).status_code,
            http.post("/chat/completions", json={"model": "x", "messages": HELLO}, headers=auth).status_code,
            http.post("/chat/completions", json={"model": "chat", "messages": HELLO}, headers=auth).status_code,
            http.post("/embeddings", json={"model": "chat"}, headers=auth).status_code,
        ]
    assert statuses == [401, 400, 404, 503, 400]
    records = gw.records("eu")
    assert [r["status"] for r in records] == statuses
    assert {r["decision"] for r in records} == {"refused"}
    assert [r["error_code"] for r in records] == ["missing_api_key", "invalid_json", "model_not_found",
                                                  "no_compliant_provider", "missing_required_parameter"]


def test_when_the_record_cannot_be_written_the_response_is_withheld(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    with _db(gw) as db:  # a real write failure: the store refuses every insert
        db.execute("CREATE TRIGGER fail_closed BEFORE INSERT ON decisions BEGIN SELECT RAISE(ABORT, 'disk'); END")
    client = gw.client("eu")
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(model="chat", messages=HELLO)
    assert caught.value.status_code == 503 and caught.value.body["code"] == "audit_unavailable"
    assert "Hello from eu" not in str(caught.value.body)

    stream = client.chat.completions.create(model="chat", messages=HELLO, stream=True)
    with pytest.raises(openai.APIError) as stream_error:
        list(stream)
    assert "decision record could not be written" in str(stream_error.value)

    with _db(gw) as db:
        db.execute("DROP TRIGGER fail_closed")
    assert client.chat.completions.create(model="chat", messages=HELLO).choices
    assert len(gw.records("eu")) == 1


def test_records_of_concurrent_requests_form_one_chain(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    import concurrent.futures

    client = gw.client("eu")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: client.chat.completions.create(model="chat", messages=HELLO), range(40)))
    records = gw.records("eu", config_changes=True)
    assert [r["seq"] for r in records] == list(range(1, 42))
    with _db(gw) as db:
        hashes = [row[0] for row in db.execute("SELECT hash FROM decisions ORDER BY seq")]
    assert [r["prev"] for r in records[1:]] == hashes[:-1]


def test_unknown_endpoint_or_method_within_a_lane_is_recorded_too(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    assert httpx.post(f"{gw.url}/lanes/eu/v1/completions", json={}).status_code == 404
    assert httpx.get(f"{gw.url}/lanes/eu/v1/chat/completions").status_code == 405
    records = gw.records("eu")
    assert [(r["endpoint"], r["status"], r["error_code"]) for r in records] == [
        ("unrouted", 404, "not_found"), ("unrouted", 405, "method_not_allowed")]


def test_provider_selection_is_logged_when_the_lane_asks(gateway, upstream, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="lanegate")
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")])})
    gw.client("eu").chat.completions.create(model="chat", messages=HELLO)
    [line] = [r for r in caplog.records if r.getMessage() == "provider selected"]
    assert (line.lane, line.target, line.region) == ("eu", "eu-a", "eu-central-1")
    assert "Anna" not in caplog.text


def test_an_unreadable_store_refuses_before_anything_is_sent(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])}, "gateway:\n  key_cache_seconds: 0\n")
    with _db(gw) as db:
        db.execute("ALTER TABLE api_keys RENAME TO api_keys_gone")
    with pytest.raises(openai.APIStatusError) as caught:
        gw.client("eu").chat.completions.create(model="chat", messages=HELLO)
    assert caught.value.status_code == 503 and caught.value.body["code"] == "store_unavailable"
    assert eu.fake.requests() == []
