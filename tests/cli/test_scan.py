"""lanegate scan: a lane's detectors on text, without traffic."""

from __future__ import annotations

import orjson
from typer.testing import CliRunner

from lanegate.cli import app
from tests.packs import pack, target

CHAIN = ["pii-detector", "data-routing-policy", "audit-logger"]


def _run(*args: str, stdin: str = ""):
    return CliRunner().invoke(app, list(args), input=stdin)


def _pack(url: str = "http://127.0.0.1:9", **options) -> str:
    return pack("eu", ["eu-central-1"], [target("eu-a", url, "eu-central-1")], chain=CHAIN,
                stages={"pii-detector": options})


def test_jsonl_reports_offsets_into_the_input_and_the_text_as_sent(tmp_path):
    (tmp_path / "eu.yaml").write_text(_pack(entities={"US_SSN": "block"}))
    lines = [{"text": "mail jane@example.com now"}, {"text": "nothing here"}, {"text": "SSN 078-05-1121"}]
    result = _run("scan", "--config", str(tmp_path), "--jsonl", stdin="\n".join(orjson.dumps(x).decode()
                                                                                   for x in lines))
    assert result.exit_code == 3  # one line would be refused
    first, second, third = (orjson.loads(line) for line in result.stdout.splitlines())
    assert first == {"findings": [{"entity_type": "EMAIL_ADDRESS", "start": 5, "end": 21, "action": "redact"}],
                     "text": "mail [EMAIL_ADDRESS] now"}
    assert lines[0]["text"][5:21] == "jane@example.com"
    assert second == {"findings": [], "text": "nothing here"}
    assert third["text"] is None and third["blocked"] == ["US_SSN"]


def test_plain_and_json_output_and_a_file_argument(tmp_path):
    (tmp_path / "eu.yaml").write_text(_pack())
    sample = tmp_path / "prompt.txt"
    sample.write_text("Card 4111 1111 1111 1111 please\n")
    shown = _run("scan", str(sample), "--config", str(tmp_path))
    assert shown.exit_code == 0 and "CREDIT_CARD" in shown.stdout and "Card [CREDIT_CARD] please" in shown.stdout
    as_json = orjson.loads(_run("scan", str(sample), "--config", str(tmp_path), "--json").stdout)
    assert as_json["text"] == "Card [CREDIT_CARD] please\n"
    bad = _run("scan", "--config", str(tmp_path), "--jsonl", stdin="not json\n")
    assert bad.exit_code == 2 and "line 1" in bad.output


def test_a_lane_without_the_stage_is_an_error(tmp_path):
    (tmp_path / "eu.yaml").write_text(pack("eu", ["eu-central-1"], [target("eu-a", "http://h", "eu-central-1")]))
    result = _run("scan", "--config", str(tmp_path), stdin="x")
    assert result.exit_code == 1 and "no pii-detector stage" in result.output


def test_hashes_match_what_the_gateway_sends(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": _pack(eu.url, action="hash")})
    gw.client("eu").chat.completions.create(model="chat", messages=[{"role": "user", "content": "jane@example.com"}])
    sent = eu.fake.requests()[-1].json()["messages"][0]["content"]
    scanned = orjson.loads(_run("scan", "--config", str(gw.config_dir), "--json", stdin="jane@example.com").stdout)
    assert scanned["text"] == sent and sent.startswith("<EMAIL_ADDRESS:")


def test_tokens_are_shown_as_a_new_conversation_would_get_them(tmp_path, monkeypatch):
    monkeypatch.setenv("EU_VAULT_KEY", "a" * 64)
    (tmp_path / "eu.yaml").write_text(_pack(entities={"EMAIL_ADDRESS": "tokenize"},
                                            vault_key_ref={"env": "EU_VAULT_KEY"}))
    result = _run("scan", "--config", str(tmp_path), "--json", stdin="a@x.com, b@x.com, a@x.com")
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["text"] == "<EMAIL_ADDRESS_1>, <EMAIL_ADDRESS_2>, <EMAIL_ADDRESS_1>"
