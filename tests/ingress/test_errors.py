"""Malformed input gets a 4xx in OpenAI's error shape, never a 500; every response carries the trace headers."""

from __future__ import annotations

import json

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.packs import pack, target


@pytest.fixture
def gw(gateway, upstream):
    eu = upstream("eu")
    running = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])},
                      "gateway:\n  max_body_bytes: 4096\n")
    running.upstream = eu
    return running


@pytest.fixture
def http(gw):
    with httpx.Client(base_url=gw.url, timeout=20,
                      headers={"authorization": f"Bearer {gw.keys['eu']}"}) as client:
        yield client


def _error(response: httpx.Response) -> dict:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "code", "param"}
    return body["error"]


@pytest.mark.parametrize(("body", "code", "param"), [
    (b"{not json", "invalid_json", None),
    (b"", "invalid_json", None),
    (b"[1, 2]", "invalid_json", None),
    (b'{"model": "chat"}', "missing_required_parameter", "messages"),
    (b'{"messages": [{"role": "user", "content": "x"}]}', "missing_required_parameter", "model"),
    (b'{"model": "chat", "messages": "hello"}', "invalid_type", "messages"),
    (b'{"model": "chat", "messages": []}', "invalid_type", "messages"),
    (b'{"model": 7, "messages": [{"role": "user", "content": "x"}]}', "invalid_type", "model"),
    (b'{"model": "chat", "messages": [{"role": "user", "content": 5}]}', "invalid_type", "messages[0].content"),
    (b'{"model": "chat", "messages": [{"role": "wizard", "content": "x"}]}', "invalid_type", "messages[0].role"),
    (b'{"model": "chat", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}', "invalid_type", "stream"),
])
def test_malformed_chat_bodies_are_400_with_the_offending_param(gw, http, body, code, param):
    response = http.post("/lanes/eu/v1/chat/completions", content=body)
    assert response.status_code == 400
    error = _error(response)
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)
    assert gw.upstream.fake.requests() == []


def test_malformed_embeddings_bodies_are_400(http):
    for body in (b'{"model": "chat"}', b'{"model": "chat", "input": 3}', b'{"model": "chat", "input": []}'):
        assert http.post("/lanes/eu/v1/embeddings", content=body).status_code == 400


def test_body_over_the_limit_is_413_with_and_without_content_length(http):
    big = orjson.dumps({"model": "chat", "messages": [{"role": "user", "content": "x" * 5000}]})
    assert _error(http.post("/lanes/eu/v1/chat/completions", content=big))["code"] == "request_too_large"

    def chunks():
        yield big[:2000]
        yield big[2000:]

    response = http.post("/lanes/eu/v1/chat/completions", content=chunks())
    assert response.status_code == 413


def test_unknown_lane_endpoint_and_method(http):
    assert _error(http.post("/lanes/mars/v1/chat/completions", json={}))["code"] == "lane_forbidden"
    assert _error(http.post("/lanes/eu/v1/completions", json={}))["code"] == "not_found"
    assert _error(http.get("/lanes/eu/v2/models"))["code"] == "not_found"
    assert _error(http.get("/nowhere")).get("code") == "not_found"
    assert http.get("/lanes/eu/v1/chat/completions").status_code == 405


def test_every_response_carries_request_id_and_lane(http):
    responses = [http.get("/healthz"), http.get("/lanes/eu/v1/models"), http.post("/lanes/mars/v1/embeddings"),
                 http.post("/lanes/eu/v1/chat/completions", content=b"{"),
                 http.post("/lanes/eu/v1/chat/completions", json={"model": "chat",
                                                                   "messages": [{"role": "user", "content": "x"}]})]
    ids = set()
    for response in responses:
        assert response.headers["x-request-id"].startswith("req_")
        assert "x-lanegate-lane" in response.headers
        ids.add(response.headers["x-request-id"])
    assert len(ids) == len(responses)
    assert responses[1].headers["x-lanegate-lane"] == "eu"
    assert responses[4].headers["x-lanegate-target"] == "eu-a"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
chat_like = st.fixed_dictionaries({}, optional={
    "model": st.sampled_from(["chat", "eu-a", "missing"]) | json_values,
    "messages": st.lists(st.fixed_dictionaries({}, optional={
        "role": st.sampled_from(["user", "system", "tool"]) | json_values,
        "content": json_values,
        "tool_calls": json_values,
        "name": json_values}), max_size=3) | json_values,
    "stream": json_values,
    "stream_options": json_values,
})


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=chat_like | json_values, raw=st.binary(max_size=64), use_raw=st.booleans())
def test_no_input_yields_a_5xx(http, body, raw, use_raw):
    content = raw if use_raw else json.dumps(body).encode()
    for path in ("/lanes/eu/v1/chat/completions", "/lanes/eu/v1/embeddings"):
        response = http.post(path, content=content)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            _error(response)
