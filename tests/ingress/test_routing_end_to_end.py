"""Compliant routing, failover inside the lane, and no cross-border spill — through real servers and the SDK."""

from __future__ import annotations

import asyncio

import openai
import pytest

from tests.conftest import closed_port_url
from tests.packs import pack, target

HELLO = [{"role": "user", "content": "hello"}]


def test_request_goes_to_the_compliant_target_with_the_upstream_model_name(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1", model="up-7b")])})

    reply = gw.client("eu").chat.completions.create(model="chat", messages=HELLO)

    assert reply.choices[0].message.content == "Hello from eu."
    [received] = eu.fake.requests()
    assert received.path == "/v1/chat/completions"
    assert received.json() == {"model": "up-7b", "messages": HELLO}


def test_model_can_be_named_by_target_id_alias_or_upstream_name(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1", model="up-7b", aliases=["chat"])])})
    client = gw.client("eu")
    for name in ("eu-a", "chat", "up-7b"):
        client.chat.completions.create(model=name, messages=HELLO)
    assert len(eu.fake.requests()) == 3


def test_unknown_model_is_404_in_openai_shape(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    with pytest.raises(openai.NotFoundError) as caught:
        gw.client("eu").chat.completions.create(model="gpt-unknown", messages=HELLO)
    assert caught.value.body == {"message": "The model 'gpt-unknown' does not exist in lane 'eu'.",
                                 "type": "not_found_error", "code": "model_not_found", "param": "model"}
    assert eu.fake.requests() == []


def test_failover_on_5xx_goes_to_the_next_compliant_target_in_priority_order(gateway, upstream):
    first, second, noncompliant = upstream("first"), upstream("second"), upstream("noncompliant")
    first.fake.status = 503
    gw = gateway({"eu": pack("eu", ["r1", "r2"], [
        target("t-first", first.url, "r1", priority=1),
        target("t-trains", noncompliant.url, "r1", priority=2, policy={"zero_data_retention": True,
                                                                        "training_opt_out": False}),
        target("t-second", second.url, "r2", priority=3),
    ])})

    reply = gw.client("eu").chat.completions.create(model="chat", messages=HELLO)

    assert reply.choices[0].message.content == "Hello from second."
    assert len(first.fake.requests()) == 1
    assert noncompliant.fake.requests() == []
    record = gw.records("eu")[-1]
    assert record["route"]["selected"] == "t-second"
    assert record["route"]["attempts"] == [
        {"target": "t-first", "outcome": "http_5xx", "status": 503},
        {"target": "t-second", "outcome": "ok", "status": 200},
    ]
    assert record["route"]["excluded"][0]["target"] == "t-trains"


def test_failover_on_connect_error_and_on_timeout(gateway, upstream):
    slow, good = upstream("slow"), upstream("good")
    slow.fake.delay = 2.0
    gw = gateway({"eu": pack("eu", ["r1"], [
        target("dead", closed_port_url(), "r1", priority=1),
        target("slow", slow.url, "r1", priority=2, timeout_seconds=0.3),
        target("good", good.url, "r1", priority=3),
    ])})
    gw.client("eu").chat.completions.create(model="chat", messages=HELLO)
    outcomes = [a["outcome"] for a in gw.records("eu")[-1]["route"]["attempts"]]
    assert outcomes == ["connect_error", "timeout", "ok"]


def test_no_cross_border_spill_when_the_eu_lane_is_down_and_the_us_lane_is_healthy(gateway, upstream):
    eu_down, us = upstream("eu"), upstream("us")
    eu_down.fake.status = 502
    gw = gateway({
        "eu": pack("eu", ["eu-central-1", "eu-west-1"], [
            target("eu-a", eu_down.url, "eu-central-1", model="shared-model"),
            target("eu-b", closed_port_url(), "eu-west-1", model="shared-model"),
        ]),
        "us": pack("us", ["us-east-1"], [target("us-a", us.url, "us-east-1", model="shared-model")]),
    })
    assert gw.client("us").chat.completions.create(model="chat", messages=HELLO).choices
    served_by_us = len(us.fake.requests())

    with pytest.raises(openai.APIStatusError) as caught:
        gw.client("eu").chat.completions.create(model="chat", messages=HELLO)

    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "no_compliant_provider"
    assert "eu-a" in caught.value.body["message"] and "eu-b" in caught.value.body["message"]
    assert "127.0.0.1" not in caught.value.body["message"]
    assert len(us.fake.requests()) == served_by_us  # nothing reached the US upstream
    record = gw.records("eu")[-1]
    assert record["decision"] == "refused" and record["route"]["selected"] is None


def test_undeclared_data_policy_keys_count_as_unsafe(gateway, upstream):
    silent = upstream("silent")
    gw = gateway({"eu": pack("eu", ["r1"], [target("silent", silent.url, "r1", policy={})],
                             routing={"require_zero_data_retention": True, "allow_internet_egress": False})})
    with pytest.raises(openai.APIStatusError) as caught:
        gw.client("eu").chat.completions.create(model="chat", messages=HELLO)
    message = caught.value.body["message"]
    assert "data_policy.zero_data_retention is undeclared" in message
    assert "data_policy.allow_internet_egress is undeclared" in message
    assert "data_policy.retention_days is undeclared" in message
    assert silent.fake.requests() == []


def test_circuit_breaker_stops_calling_a_dead_target(gateway, upstream):
    broken, good = upstream("broken"), upstream("good")
    broken.fake.status = 500
    settings = "gateway:\n  circuit_breaker: {failure_threshold: 2, reset_seconds: 60}\n"
    gw = gateway({"eu": pack("eu", ["r1"], [target("broken", broken.url, "r1", priority=1),
                                            target("good", good.url, "r1", priority=2)])}, settings)
    client = gw.client("eu")
    for _ in range(5):
        client.chat.completions.create(model="chat", messages=HELLO)
    assert len(broken.fake.requests()) == 2
    assert len(good.fake.requests()) == 5
    last = gw.records("eu")[-1]["route"]
    assert any("circuit open" in reason for e in last["excluded"] for reason in e["reasons"])


def test_embeddings_and_models_are_served_per_lane(gateway, upstream):
    eu, us = upstream("eu"), upstream("us")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1", model="eu-embed", aliases=["emb"])]),
                  "us": pack("us", ["r2"], [target("us-a", us.url, "r2", model="us-only")])})
    client = gw.client("eu")
    result = client.embeddings.create(model="emb", input=["one", "two"])
    assert len(result.data) == 2
    assert eu.fake.requests()[0].json()["model"] == "eu-embed"
    assert sorted(m.id for m in client.models.list()) == ["emb", "eu-embed"]


def test_async_client_is_served_concurrently(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})

    async def run() -> list[str]:
        client = gw.async_client("eu")
        replies = await asyncio.gather(*[client.chat.completions.create(model="chat", messages=HELLO)
                                         for _ in range(20)])
        await client.close()
        return [r.choices[0].message.content or "" for r in replies]

    assert set(asyncio.run(run())) == {"Hello from eu."}
    records = gw.records("eu")
    assert len(records) == 20
    assert [r["seq"] for r in records] == list(range(2, 22))  # seq 1: the pack put in force
