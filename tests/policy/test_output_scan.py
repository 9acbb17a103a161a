"""scan_responses: personal data in the provider's answer, buffered and streamed, caught whole."""

from __future__ import annotations

import base64
import json

import openai
import pytest

from tests.calls import tool_calls
from tests.packs import SAFE_POLICY, pack, target

CHAIN = ["pii-detector", "data-routing-policy", "audit-logger"]
ANSWER = "Call Jane on +44 20 7946 0958 or write to jane.roe@example.com today."
REDACTED = "Call Jane on [PHONE_NUMBER] or write to [EMAIL_ADDRESS] today."


def _lane(gateway, upstream, reply=ANSWER, **options):
    eu = upstream("eu")
    eu.fake.reply = reply if callable(reply) else (lambda received: reply)
    policy = {**SAFE_POLICY, "accepts_tokenized_input": True}
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1", policy=policy)],
                             chain=CHAIN, stages={"pii-detector": {"scan_responses": True, **options}})})
    return gw, eu


def _ask(gw, stream: bool = False, chunks: list[str] | None = None) -> str:
    client = gw.client("eu")
    messages = [{"role": "user", "content": "hello"}]
    if not stream:
        return client.chat.completions.create(model="chat", messages=messages).choices[0].message.content
    pieces = [c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="chat", messages=messages, stream=True) if c.choices]
    if chunks is not None:
        chunks.extend(pieces)
    return "".join(pieces)


def test_a_buffered_answer_is_redacted_and_counted(gateway, upstream):
    gw, _ = _lane(gateway, upstream)
    assert _ask(gw) == REDACTED
    stages = {s["stage"]: s for s in gw.records("eu")[-1]["stages"]}
    assert stages["pii-detector-output"]["detail"]["entities"]["PHONE_NUMBER"] == {"count": 1, "action": "redact"}


@pytest.mark.parametrize("chunks", [2, 9, 40, 71])
def test_a_streamed_answer_never_sends_a_piece_of_a_value(gateway, upstream, chunks):
    gw, eu = _lane(gateway, upstream)
    eu.fake.chunks = chunks
    pieces: list[str] = []
    assert _ask(gw, stream=True, chunks=pieces) == REDACTED
    assert not any(fragment in "".join(pieces) for fragment in ("7946", "jane.roe", "example.com"))


JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + "c3ViIjoiMTIzNDU2Nzg5MCJ9" * 6
       + ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV")


@pytest.mark.parametrize(("reply", "redacted"), [
    (f"Your session token is {JWT} and it expires soon.", "Your session token is [SECRET] and it expires soon."),
    ("The applicant's passport number is 123456789, checked.",
     "The applicant's passport number is [PASSPORT], checked."),
])
@pytest.mark.parametrize("chunks", [7, 31, 90])
def test_a_streamed_answer_sends_no_long_value_and_judges_a_value_by_the_words_before_it(gateway, upstream, reply,
                                                                                        redacted, chunks):
    gw, eu = _lane(gateway, upstream, reply=reply)
    assert _ask(gw) == redacted
    eu.fake.chunks = chunks
    assert _ask(gw, stream=True) == redacted


ARGUMENTS = '{"to": "jane.roe@example.com", "note": "call +44 20 7946 0958 today", "id": "' + JWT + '"}'


@pytest.mark.parametrize("chunks", [3, 17, 60])
def test_a_tool_calls_arguments_are_scanned_buffered_and_streamed(gateway, upstream, chunks):
    gw, eu = _lane(gateway, upstream)
    eu.fake.tool_call = lambda received: ("send_mail", ARGUMENTS)
    expected = [("send_mail", '{"to": "[EMAIL_ADDRESS]", "note": "call [PHONE_NUMBER] today", "id": "[SECRET]"}')]
    asked = [{"role": "user", "content": "mail her"}]
    assert tool_calls(gw.client("eu"), asked, stream=False) == expected
    eu.fake.chunks = chunks
    assert tool_calls(gw.client("eu"), asked, stream=True) == expected


def test_text_in_a_script_written_without_spaces_streams_as_it_comes(gateway, upstream):
    reply = "请联系客服中心获取帮助。" * 60  # no white space: held whole, it would arrive only at the end
    gw, eu = _lane(gateway, upstream, reply=reply)
    eu.fake.chunks = 30
    pieces: list[str] = []
    assert _ask(gw, stream=True, chunks=pieces) == reply
    assert sum(1 for piece in pieces if piece) > 20


def test_a_value_whose_action_is_block_withholds_the_answer(gateway, upstream):
    gw, eu = _lane(gateway, upstream, entities={"EMAIL_ADDRESS": "block"})
    with pytest.raises(openai.APIStatusError) as caught:
        _ask(gw)
    assert caught.value.status_code == 502 and caught.value.body["code"] == "pii_in_answer"
    eu.fake.chunks = 30
    pieces: list[str] = []
    with pytest.raises(openai.APIError):
        _ask(gw, stream=True, chunks=pieces)
    assert "jane.roe" not in "".join(pieces)
    assert gw.records("eu")[-1]["stream_outcome"] == "withheld"


def test_with_tokenization_the_callers_own_values_come_back_and_new_ones_are_redacted(gateway, upstream,
                                                                                       monkeypatch):
    monkeypatch.setenv("EU_VAULT_KEY", base64.b64encode(b"k" * 32).decode())
    gw, eu = _lane(gateway, upstream, reply=lambda r: r.json()["messages"][-1]["content"] + " or +44 20 7946 0958",
                   entities={"EMAIL_ADDRESS": "tokenize"}, vault_key_ref={"env": "EU_VAULT_KEY"})
    client = gw.client("eu")
    for stream in (False, True):
        eu.fake.chunks = 7
        reply = client.chat.completions.create(model="chat", stream=stream,
                                               messages=[{"role": "user", "content": "mail ann@example.org"}])
        text = reply.choices[0].message.content if not stream else "".join(
            c.choices[0].delta.content or "" for c in reply if c.choices)
        assert text == "mail ann@example.org or [PHONE_NUMBER]"


@pytest.mark.parametrize("chunks", [4, 19])
def test_in_a_tool_call_the_callers_own_values_come_back_and_new_ones_are_redacted(gateway, upstream, monkeypatch,
                                                                                   chunks):
    monkeypatch.setenv("EU_VAULT_KEY", base64.b64encode(b"k" * 32).decode())
    gw, eu = _lane(gateway, upstream, entities={"EMAIL_ADDRESS": "tokenize"}, vault_key_ref={"env": "EU_VAULT_KEY"})
    # the provider addresses the call to the token it was sent, and adds a number of its own
    eu.fake.tool_call = lambda r: ("send_mail", json.dumps(
        {"to": r.json()["messages"][-1]["content"].split()[-1], "phone": "+44 20 7946 0958"}, separators=(",", ":")))
    eu.fake.chunks = chunks
    asked = [{"role": "user", "content": "mail ann@example.org"}]
    expected = [("send_mail", '{"to":"ann@example.org","phone":"[PHONE_NUMBER]"}')]
    assert tool_calls(gw.client("eu"), asked, stream=False) == expected
    assert tool_calls(gw.client("eu"), asked, stream=True) == expected
    assert "ann@example.org" not in eu.fake.requests()[-1].body.decode()


def test_log_probabilities_are_withheld_as_they_spell_out_the_answer(gateway, upstream):
    gw, eu = _lane(gateway, upstream)
    client, asked = gw.client("eu"), [{"role": "user", "content": "hi"}]
    raw = client.chat.completions.with_raw_response.create(model="chat", messages=asked, logprobs=True)
    assert raw.parse().choices[0].logprobs is None and raw.parse().choices[0].message.content == REDACTED
    assert "7946" not in raw.http_response.text and "jane.roe" not in raw.http_response.text
    eu.fake.chunks = 5
    chunks = [c for c in client.chat.completions.create(model="chat", messages=asked, logprobs=True, stream=True)
              if c.choices]
    assert all(c.choices[0].logprobs is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == REDACTED
    direct = openai.OpenAI(base_url=f"{eu.url}/v1", api_key="x", max_retries=0)
    answer = direct.chat.completions.create(model="chat", messages=asked, logprobs=True).choices[0]
    assert "jane.roe" in "".join(t.token for t in answer.logprobs.content)  # the provider does send them


def test_a_reasoning_models_thinking_is_scanned_buffered_and_streamed(gateway, upstream):
    gw, eu = _lane(gateway, upstream)  # vLLM and others send a reasoning model's thinking as reasoning_content
    eu.fake.reasoning = lambda received: "The user is Jane; her mail is jane.roe@example.com, so I will answer."
    thought = "The user is Jane; her mail is [EMAIL_ADDRESS], so I will answer."
    client, asked = gw.client("eu"), [{"role": "user", "content": "hi"}]
    message = client.chat.completions.create(model="chat", messages=asked).choices[0].message
    assert message.reasoning_content == thought and message.content == REDACTED
    for chunks in (3, 25):
        eu.fake.chunks = chunks
        deltas = [c.choices[0].delta for c in client.chat.completions.create(model="chat", messages=asked,
                                                                             stream=True) if c.choices]
        assert "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == thought
        assert "".join(d.content or "" for d in deltas) == REDACTED
