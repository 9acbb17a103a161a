"""Credential holding: caller keys stay at the gateway; provider secrets reach only their provider."""

from __future__ import annotations

import logging

import httpx
import openai
import pytest

from tests.conftest import closed_port_url
from tests.packs import pack, target

HELLO = [{"role": "user", "content": "hello"}]
SECRET = "sk-provider-secret-7f3a9c"


def test_caller_credential_is_never_forwarded_and_the_target_secret_is_added(gateway, upstream, monkeypatch):
    monkeypatch.setenv("EU_PROVIDER_KEY", SECRET)
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1",
                                                   secret_key_ref={"env": "EU_PROVIDER_KEY"})])})
    client = gw.client("eu", default_headers={"x-api-key": "caller-extra", "openai-organization": "org-caller"})
    client.chat.completions.create(model="chat", messages=HELLO)

    headers = eu.fake.requests()[0].headers
    assert headers["authorization"] == f"Bearer {SECRET}"
    assert gw.keys["eu"] not in str(headers)
    assert "x-api-key" not in headers and "openai-organization" not in headers


def test_file_secret_ref_is_read(gateway, upstream, tmp_path):
    secret_file = tmp_path / "eu-llm"
    secret_file.write_text(SECRET + "\n")
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1", secret_key_ref={"file": str(secret_file)})])})
    gw.client("eu").chat.completions.create(model="chat", messages=HELLO)
    assert eu.fake.requests()[0].headers["authorization"] == f"Bearer {SECRET}"


def test_provider_secret_appears_in_no_response_log_line_or_record(gateway, upstream, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("EU_PROVIDER_KEY", SECRET)
    rejecting, good = upstream("rejecting"), upstream("good")
    rejecting.fake.status = 401  # an upstream that answers "bad key" must not have its body relayed
    gw = gateway({"eu": pack("eu", ["r1"], [
        target("rejecting", rejecting.url, "r1", priority=1, secret_key_ref={"env": "EU_PROVIDER_KEY"}),
        target("dead", closed_port_url(), "r1", priority=2, secret_key_ref={"env": "EU_PROVIDER_KEY"}),
        target("good", good.url, "r1", priority=3, secret_key_ref={"env": "EU_PROVIDER_KEY"}),
    ])})
    bodies = []
    with httpx.Client(base_url=f"{gw.url}/lanes/eu/v1", timeout=20) as http:
        auth = {"authorization": f"Bearer {gw.keys['eu']}"}
        for body in ({"model": "chat", "messages": HELLO}, {"model": "chat", "messages": HELLO, "stream": True},
                     {"model": "nope", "messages": HELLO}, {"bad": 1}):
            response = http.post("/chat/completions", json=body, headers=auth)
            bodies.append(response.text + str(response.headers))
        good.fake.status = 500
        response = http.post("/chat/completions", json={"model": "chat", "messages": HELLO}, headers=auth)
        assert response.status_code == 503
        bodies.append(response.text + str(response.headers))
        assert "auth rejected 401" in response.json()["error"]["message"]
    records = str(gw.records("eu"))
    assert "auth_rejected" in records
    for text in (*bodies, records, caplog.text):
        assert SECRET not in text
        assert gw.keys["eu"] not in text


def test_serve_refuses_to_start_when_a_declared_secret_is_missing(gateway, upstream, monkeypatch):
    monkeypatch.delenv("MISSING_KEY", raising=False)
    eu = upstream("eu")
    with pytest.raises(RuntimeError, match="did not start"):
        gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1", secret_key_ref={"env": "MISSING_KEY"})])})


def test_key_of_another_lane_is_403_and_bad_or_missing_key_is_401(gateway, upstream):
    eu, us = upstream("eu"), upstream("us")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")]),
                  "us": pack("us", ["r2"], [target("us-a", us.url, "r2")])})
    with pytest.raises(openai.PermissionDeniedError) as forbidden:
        gw.client("eu", key=gw.keys["us"]).chat.completions.create(model="chat", messages=HELLO)
    assert forbidden.value.body["code"] == "lane_forbidden"
    for key in ("lgk_eu_" + "x" * 43, "not-a-key", "lgk_nolane_" + "y" * 43):
        with pytest.raises(openai.AuthenticationError):
            gw.client("eu", key=key).chat.completions.create(model="chat", messages=HELLO)
    response = httpx.post(f"{gw.url}/lanes/eu/v1/chat/completions", json={"model": "chat", "messages": HELLO})
    assert response.status_code == 401 and response.json()["error"]["code"] == "missing_api_key"
    assert eu.fake.requests() == [] and us.fake.requests() == []
    assert [r["error_code"] for r in gw.records("eu")] == ["lane_forbidden", "invalid_api_key", "invalid_api_key",
                                                           "invalid_api_key", "missing_api_key"]
