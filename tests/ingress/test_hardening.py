"""Ingress hardening: per-principal rate limits, header and body-time limits, no lane enumeration."""

from __future__ import annotations

import socket
import time

import httpx
import openai
import pytest

from tests.packs import pack, target

HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture
def gw(gateway, upstream):
    eu = upstream("eu")
    settings = ("gateway:\n  rate_limit: {requests_per_second: 0.5, burst: 3}\n  body_timeout_seconds: 0.5\n"
                "  max_header_bytes: 4096\n")
    return gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")]),
                    "us": pack("us", ["r2"], [target("us-a", eu.url, "r2")])}, settings)


def test_a_principal_over_its_rate_gets_429_with_retry_after_and_others_do_not(gw):
    client = gw.client("eu")
    for _ in range(3):
        client.chat.completions.create(model="chat", messages=HELLO)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="chat", messages=HELLO)
    assert caught.value.body["code"] == "rate_limit_exceeded"
    assert int(caught.value.response.headers["retry-after"]) >= 1
    assert gw.records("eu")[-1]["error_code"] == "rate_limit_exceeded"
    assert gw.client("us").chat.completions.create(model="chat", messages=HELLO).choices  # another principal


def test_oversized_headers_are_refused(gw):
    response = httpx.get(f"{gw.url}/healthz", headers={"x-padding": "a" * 5000})
    assert response.status_code == 431 and response.json()["error"]["code"] == "request_header_too_large"


def test_a_body_that_trickles_in_is_refused_with_408(gw):
    port = int(gw.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST /lanes/eu/v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                     f"authorization: Bearer {gw.keys['eu']}\r\ncontent-length: 200\r\n\r\n{{\"model\"".encode())
        started = time.monotonic()
        reply = ""
        while "request_timeout" not in reply and (chunk := sock.recv(65536)):
            reply += chunk.decode()
    assert reply.startswith("HTTP/1.1 408") and "request_timeout" in reply
    assert time.monotonic() - started < 9  # answered by the body timeout, not by the socket's


@pytest.mark.parametrize("credential", [None, "lgk_eu_" + "x" * 43, "eu-key", "not-a-key", "aaa.bbb.ccc"])
def test_an_unknown_lane_answers_like_a_lane_the_credential_is_not_for(gw, credential):
    headers = {}
    if credential is not None:
        headers["authorization"] = f"Bearer {gw.keys['eu'] if credential == 'eu-key' else credential}"
    body = {"model": "chat", "messages": HELLO}
    unknown = httpx.post(f"{gw.url}/lanes/mars/v1/chat/completions", json=body, headers=headers)
    other = httpx.post(f"{gw.url}/lanes/us/v1/chat/completions", json=body, headers=headers)
    assert unknown.status_code == other.status_code
    assert unknown.json()["error"]["code"] == other.json()["error"]["code"]
    assert unknown.json()["error"]["message"].replace("mars", "us") == other.json()["error"]["message"]
