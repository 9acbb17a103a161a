"""Reversible tokenization end to end: the provider sees tokens, the caller gets values back (streams too),
tokens are stable within a conversation, and only targets that accept tokenized input receive them."""

from __future__ import annotations

import base64
import json
import re

import pytest
from typer.testing import CliRunner

from lanegate.cli import app
from tests.calls import tool_calls
from tests.packs import SAFE_POLICY, pack, target

CHAIN = ["pii-detector", "data-routing-policy", "audit-logger"]
KEY_ENV = "EU_VAULT_KEY"
TOKENIZED_OK = {**SAFE_POLICY, "accepts_tokenized_input": True}
PROMPT = "Write to jane.roe@example.com and cc bob@example.org, then call +44 20 7946 0958."


def _echo(received) -> str:
    return "Sure: " + received.json()["messages"][-1]["content"]


@pytest.fixture
def lane(gateway, upstream, monkeypatch):
    monkeypatch.setenv(KEY_ENV, base64.b64encode(b"k" * 32).decode())
    eu = upstream("eu")
    eu.fake.reply = _echo
    options = {"entities": {"EMAIL_ADDRESS": "tokenize"}, "vault_key_ref": {"env": KEY_ENV}}
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1", policy=TOKENIZED_OK)],
                             chain=CHAIN, stages={"pii-detector": options})})
    gw.upstream = eu
    return gw


def test_the_provider_sees_tokens_and_the_caller_gets_the_values_back(lane):
    reply = lane.client("eu").chat.completions.create(model="chat", messages=[{"role": "user", "content": PROMPT}])
    sent = lane.upstream.fake.requests()[-1].json()["messages"][-1]["content"]
    assert sent == "Write to <EMAIL_ADDRESS_1> and cc <EMAIL_ADDRESS_2>, then call [PHONE_NUMBER]."
    assert reply.choices[0].message.content == "Sure: " + PROMPT.replace("+44 20 7946 0958", "[PHONE_NUMBER]")
    record = lane.records("eu")[-1]
    assert record["stages"][0]["detail"]["tokenized"] == 2 and "jane.roe" not in str(record)


@pytest.mark.parametrize("chunks", [3, 17, 64])
def test_a_streamed_answer_is_restored_whatever_the_chunking(lane, chunks):
    lane.upstream.fake.chunks = chunks
    stream = lane.client("eu").chat.completions.create(model="chat", stream=True,
                                                       messages=[{"role": "user", "content": PROMPT}])
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Sure: " + PROMPT.replace("+44 20 7946 0958", "[PHONE_NUMBER]")


@pytest.mark.parametrize("chunks", [2, 9, 40])
def test_tokens_in_a_tool_calls_arguments_are_restored_buffered_and_streamed(lane, chunks):
    def call(received) -> tuple[str, str]:  # the provider writes the tokens it was sent into the call
        to, cc = re.findall(r"<EMAIL_ADDRESS_\d+>", received.json()["messages"][-1]["content"])
        return "send_mail", json.dumps({"to": to, "cc": cc})

    lane.upstream.fake.tool_call = call
    lane.upstream.fake.chunks = chunks
    messages = [{"role": "user", "content": PROMPT}]
    expected = [("send_mail", '{"to": "jane.roe@example.com", "cc": "bob@example.org"}')]
    assert tool_calls(lane.client("eu"), messages, stream=False) == expected
    assert tool_calls(lane.client("eu"), messages, stream=True) == expected
    sent = lane.upstream.fake.requests()[-1].json()["messages"][-1]["content"]
    assert "jane.roe" not in sent and "<EMAIL_ADDRESS_1>" in sent


def test_tokens_are_stable_within_a_conversation_and_scoped_to_it(lane):
    def send(conversation: str, content: str) -> str:
        client = lane.client("eu", default_headers={"x-lanegate-conversation": conversation})
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": content}])
        return lane.upstream.fake.requests()[-1].json()["messages"][-1]["content"]

    assert send("case-1", "bob@example.org") == "<EMAIL_ADDRESS_1>"
    assert send("case-1", "ann@example.org then bob@example.org") == "<EMAIL_ADDRESS_2> then <EMAIL_ADDRESS_1>"
    assert send("case-2", "ann@example.org") == "<EMAIL_ADDRESS_1>"


def test_only_targets_accepting_tokenized_input_receive_tokens(gateway, upstream, monkeypatch):
    monkeypatch.setenv(KEY_ENV, base64.b64encode(b"k" * 32).decode())
    plain, accepting = upstream("plain"), upstream("accepting")
    options = {"entities": {"EMAIL_ADDRESS": "tokenize"}, "vault_key_ref": {"env": KEY_ENV}}
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [
        target("eu-plain", plain.url, "eu-central-1", priority=1),
        target("eu-tokens", accepting.url, "eu-central-1", priority=2, policy=TOKENIZED_OK)],
        chain=CHAIN, stages={"pii-detector": options})})
    client = gw.client("eu")
    client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "no personal data"}])
    client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "mail a@example.com"}])
    assert len(plain.fake.requests()) == 1 and len(accepting.fake.requests()) == 1
    excluded = gw.records("eu")[-1]["route"]["excluded"]
    assert excluded[0]["target"] == "eu-plain" and "accepts_tokenized_input" in excluded[0]["reasons"][0]


def test_a_missing_vault_key_stops_the_lane_from_starting(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    options = {"entities": {"EMAIL_ADDRESS": "tokenize"}, "vault_key_ref": {"env": KEY_ENV}}
    (tmp_path / "eu.yaml").write_text(pack("eu", ["eu-central-1"], [target("eu-a", "http://h", "eu-central-1")],
                                           chain=CHAIN, stages={"pii-detector": options}))
    result = CliRunner().invoke(app, ["serve", "--config", str(tmp_path), "--port", "1"])
    assert result.exit_code == 1 and "vault key unavailable" in result.output
