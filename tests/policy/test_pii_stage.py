"""The pii-detector stage in a running gateway: what the provider receives, what the caller and the record
are told, and what is refused."""

from __future__ import annotations

import openai
import pytest

from lanegate.config import ConfigError, load_sources
from tests.packs import pack, target

CHAIN = ["pii-detector", "data-routing-policy", "audit-logger"]
PROMPT = "I am Jane, mail jane.roe@example.com or call +44 20 7946 0958; card 4111 1111 1111 1111."


def _pii_pack(url: str, **options) -> str:
    return pack("eu", ["eu-central-1"], [target("eu-a", url, "eu-central-1")], chain=CHAIN,
                stages={"pii-detector": options})


def _sent(upstream) -> str:
    return str(upstream.fake.requests()[-1].json())


def test_personal_data_is_redacted_before_the_provider_and_counted_in_the_record(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": _pii_pack(eu.url)})
    raw = gw.client("eu").chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT}])
    assert raw.parse().choices
    sent = _sent(eu)
    assert "jane.roe@example.com" not in sent and "4111" not in sent and "7946" not in sent
    assert "[EMAIL_ADDRESS]" in sent and "[CREDIT_CARD]" in sent and "[PHONE_NUMBER]" in sent
    assert "I am [PERSON]," in sent  # "I am Jane": a name after a cue, in any case
    assert raw.headers["x-lanegate-pii"] == "CREDIT_CARD=1,EMAIL_ADDRESS=1,PERSON=1,PHONE_NUMBER=1"
    [record] = gw.records("eu")
    stage = next(s for s in record["stages"] if s["stage"] == "pii-detector")
    assert stage["detail"]["entities"]["EMAIL_ADDRESS"] == {"count": 1, "action": "redact"}
    assert "jane.roe" not in str(record) and "4111" not in str(record)


def test_every_text_of_a_chat_request_is_inspected(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": _pii_pack(eu.url)})
    gw.client("eu").chat.completions.create(model="chat", messages=[
        {"role": "user", "content": [{"type": "text", "text": "my IBAN is GB05QJZO19199608871268"}]},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
            "name": "lookup", "arguments": '{"email": "a.b@example.org"}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "found SSN 078-05-1121"},
    ])
    sent = _sent(eu)
    assert "GB05QJZO" not in sent and "a.b@example.org" not in sent and "078-05-1121" not in sent
    assert '"email": "[EMAIL_ADDRESS]"' in sent  # tool arguments stay valid JSON


def test_the_user_field_metadata_and_a_prediction_are_inspected_too(gateway, upstream):
    eu = upstream("eu")
    client = gateway({"eu": _pii_pack(eu.url)}).client("eu")
    client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hello"}],
                                   user="jane.roe@example.com", metadata={"ticket": "call +44 20 7946 0958"},
                                   prediction={"type": "content", "content": "Dear jane.roe@example.com,"})
    sent = eu.fake.requests()[-1].json()
    assert sent["user"] == "[EMAIL_ADDRESS]" and sent["metadata"] == {"ticket": "call [PHONE_NUMBER]"}
    assert sent["prediction"] == {"type": "content", "content": "Dear [EMAIL_ADDRESS],"}
    client.embeddings.create(model="chat", input="hello", user="jane.roe@example.com")
    assert eu.fake.requests()[-1].json()["user"] == "[EMAIL_ADDRESS]"


@pytest.mark.parametrize(("options", "named"), [
    ({"entities": {"US_SSN": "block"}}, ["US_SSN"]),  # one type blocked, the others redacted
    ({"action": "block", "entities": {"EMAIL_ADDRESS": "redact"}}, ["US_SSN"]),  # every type blocked but one
    ({"action": "block"}, ["EMAIL_ADDRESS", "US_SSN"]),
])
def test_block_refuses_naming_the_types_and_nothing_is_sent(gateway, upstream, options, named):
    eu = upstream("eu")
    gw = gateway({"eu": _pii_pack(eu.url, **options)})
    with pytest.raises(openai.PermissionDeniedError) as caught:
        gw.client("eu").chat.completions.create(model="chat", messages=[
            {"role": "user", "content": "SSN 078-05-1121 and mail x@example.com"}])
    error = caught.value.body
    assert error["code"] == "pii_blocked" and error["entities"] == named and "078" not in error["message"]
    assert eu.fake.requests() == []
    [record] = gw.records("eu")
    assert record["error_code"] == "pii_blocked"
    assert record["stages"][0]["detail"]["entities"]["US_SSN"] == {"count": 1, "action": "block"}
    assert "x@example.com" not in str(record)


def test_mask_and_keyed_hash(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": _pii_pack(eu.url, action="mask", entities={"EMAIL_ADDRESS": "hash"})})
    for _ in range(2):
        gw.client("eu").chat.completions.create(model="chat", messages=[
            {"role": "user", "content": "card 4111 1111 1111 1111, mail jane@example.com"}])
    first, second = (str(r.json()) for r in eu.fake.requests())
    assert "**** **** **** 1111" in first and "jane@example.com" not in first
    assert first == second and "<EMAIL_ADDRESS:" in first  # the same value, the same keyed digest


def test_embeddings_input_is_inspected_and_token_ids_are_refused(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": _pii_pack(eu.url)})
    gw.client("eu").embeddings.create(model="chat", input=["plain", "write to jane@example.com"])
    assert "jane@example.com" not in _sent(eu) and "[EMAIL_ADDRESS]" in _sent(eu)
    with pytest.raises(openai.BadRequestError) as caught:
        gw.client("eu").embeddings.create(model="chat", input=[[101, 2023, 102]])
    assert caught.value.code == "uninspectable_input"


@pytest.mark.parametrize("part", [
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
])
def test_a_content_part_that_cannot_be_inspected_is_refused_and_nothing_is_sent(gateway, upstream, part):
    eu = upstream("eu")
    client = gateway({"eu": _pii_pack(eu.url)}).client("eu")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="chat", messages=[
            {"role": "user", "content": [{"type": "text", "text": "What does my passport say?"}, part]}])
    assert caught.value.code == "uninspectable_input"
    assert caught.value.param == "messages[0].content[1]" and part["type"] in caught.value.message
    assert eu.fake.requests() == []
    reply = client.chat.completions.create(model="chat", messages=[
        {"role": "user", "content": [{"type": "text", "text": "mail jane.roe@example.com"}]}])
    assert reply.choices and "[EMAIL_ADDRESS]" in _sent(eu)


def test_pii_options_that_cannot_be_honoured_are_load_errors(tmp_path):
    def problems(**options) -> str:
        try:
            load_sources([(tmp_path / "eu.yaml", _pii_pack("http://127.0.0.1:9", **options))], base=tmp_path)
        except ConfigError as exc:
            return str(exc)
        return ""

    assert "add vault_key_ref" in problems(entities={"EMAIL_ADDRESS": "tokenize"})
    assert problems(scan_responses=True) == ""
    assert "unknown entity type 'EMAIL'" in problems(entities={"EMAIL": "redact"})
    assert "only with healthcare_mode" in problems(entities={"US_NPI": "block"})
    assert problems(healthcare_mode=True, entities={"US_NPI": "block"}) == ""
