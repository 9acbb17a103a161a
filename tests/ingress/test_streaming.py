"""Streams are relayed event by event, and recorded when they end — also when the client leaves."""

from __future__ import annotations

import threading
import time

from tests.packs import pack, target

HELLO = [{"role": "user", "content": "hello"}]


def _wait_for(predicate, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_first_chunk_reaches_the_client_before_the_upstream_finishes(gateway, upstream):
    eu = upstream("eu")
    gate = threading.Event()
    eu.fake.stream_gate = gate  # the upstream sends its first chunk, then waits for the gate
    opener = threading.Timer(8.0, gate.set)  # a buffering gateway would only deliver after this
    opener.start()
    try:
        gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
        stream = gw.client("eu").chat.completions.create(model="chat", messages=HELLO, stream=True)
        first = next(iter(stream))
        assert not gate.is_set(), "the first chunk arrived only after the upstream finished"
        assert first.choices[0].delta.content
        gate.set()
        rest = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert first.choices[0].delta.content + rest == "Hello from eu."
    finally:
        opener.cancel()
        gate.set()
    record = gw.records("eu")[-1]
    assert record["stream"] is True and record["stream_outcome"] == "completed"


def test_stream_usage_is_recorded(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    chunks = list(gw.client("eu").chat.completions.create(model="chat", messages=HELLO, stream=True,
                                                          stream_options={"include_usage": True}))
    assert chunks[-1].usage is not None
    assert gw.records("eu")[-1]["usage"] == chunks[-1].usage.model_dump(exclude_none=True)


def test_client_disconnect_mid_stream_still_writes_the_record(gateway, upstream):
    eu = upstream("eu")
    gate = threading.Event()
    eu.fake.stream_gate = gate
    try:
        gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
        stream = gw.client("eu").chat.completions.create(model="chat", messages=HELLO, stream=True)
        next(iter(stream))
        stream.close()  # the client goes away while the upstream is still mid-stream
        record = _wait_for(lambda: gw.records("eu"))[-1]
    finally:
        gate.set()
    assert record["stream_outcome"] == "client_disconnected"
    assert record["decision"] == "served" and record["route"]["selected"] == "eu-a"
