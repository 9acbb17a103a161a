"""lanegate scan: a lane's detectors on text, without traffic."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lanegate.cli import app
from lanegate.cli.scan import Summary, scan_lines, scan_text, steps
from lanegate.config import load_config
from lanegate.dlp import DlpRules
from lanegate.pii.operators import apply
from lanegate.policy.pii_stage import PiiDetectorStage
from tests.packs import pack, target

CHAIN = ["pii-detector", "data-routing-policy", "audit-logger"]


def _run(*args: str, stdin: str = ""):
    return CliRunner().invoke(app, list(args), input=stdin)


def _pack(url: str = "http://127.0.0.1:9", **options) -> str:
    return pack("eu", ["eu-central-1"], [target("eu-a", url, "eu-central-1")], chain=CHAIN,
                stages={"pii-detector": options})


def _both(url: str = "http://127.0.0.1:9", first: str = "dlp-filter", dlp_action: str = "redact") -> str:
    second = "pii-detector" if first == "dlp-filter" else "dlp-filter"
    return pack("eu", ["eu-central-1"], [target("eu-a", url, "eu-central-1")],
                chain=[first, second, "data-routing-policy", "audit-logger"],
                stages={"pii-detector": {"action": "redact"},
                        "dlp-filter": {"detect_patterns": ["EMP-[0-9]{6}"], "blocked_terms": ["export memo"],
                                       "action": dlp_action}})


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
    assert result.stderr.strip() == "3 line(s) scanned: 2 with findings, 1 refused"


def test_jsonl_results_are_written_as_each_line_is_read(tmp_path):
    (tmp_path / "eu.yaml").write_text(_pack())
    [stage] = steps(load_config(tmp_path).lanes["eu"])
    events: list[str] = []

    def lines():
        for number in range(3):
            events.append(f"read {number}")
            yield orjson.dumps({"text": f"mail user{number}@example.com"}).decode() + "\n"

    summary = Summary()
    scan_lines([stage], lines(), lambda line: events.append(f"wrote {orjson.loads(line)['text']}"), summary)
    assert events == ["read 0", "wrote mail [EMAIL_ADDRESS]", "read 1", "wrote mail [EMAIL_ADDRESS]", "read 2",
                      "wrote mail [EMAIL_ADDRESS]"]
    assert (summary.lines, summary.found, summary.refused) == (3, 3, 0)


def test_a_reader_that_goes_away_ends_the_scan_quietly(tmp_path):
    (tmp_path / "eu.yaml").write_text(_pack())
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(orjson.dumps({"text": f"mail user{i}@example.com"}).decode() + "\n"
                             for i in range(200_000)))
    scan = subprocess.Popen([sys.executable, "-m", "lanegate", "scan", "--config", str(tmp_path), "--jsonl",
                             str(cases)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert scan.stdout is not None and scan.stderr is not None
    assert orjson.loads(scan.stdout.readline())["text"] == "mail [EMAIL_ADDRESS]"
    scan.stdout.close()  # as `| head -1` does
    assert scan.wait(timeout=60) == 1
    assert scan.stderr.read() == b""


def test_a_file_that_is_not_utf8_is_an_error_naming_it(tmp_path):
    (tmp_path / "eu.yaml").write_text(_pack())
    sample = tmp_path / "latin1.txt"
    sample.write_bytes("Café 4111 1111 1111 1111".encode("latin-1"))
    for mode in ([], ["--jsonl"]):
        result = _run("scan", str(sample), "--config", str(tmp_path), *mode)
        assert result.exit_code == 2 and f"{sample}: not UTF-8 text" in result.stderr.replace("\n", "")


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
    assert result.exit_code == 1 and "no pii-detector or dlp-filter stage" in result.output


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


def test_dlp_and_pii_stages_run_in_chain_order_with_offsets_into_the_input(tmp_path):
    (tmp_path / "eu.yaml").write_text(_both())
    text = "EMP-123456 asked: mail jane@example.com about the export memo"
    result = orjson.loads(_run("scan", "--config", str(tmp_path), "--json", stdin=text).stdout)
    assert result["text"] == "[REDACTED:DLP] asked: mail [EMAIL_ADDRESS] about the [REDACTED:DLP]"
    assert [(f["entity_type"], text[f["start"]:f["end"]], f["action"]) for f in result["findings"]] == [
        ("pattern[0]", "EMP-123456", "redact"), ("EMAIL_ADDRESS", "jane@example.com", "redact"),
        ("term[0]", "export memo", "redact")]


def test_a_blocking_dlp_rule_refuses_before_the_pii_detector_runs(tmp_path):
    (tmp_path / "eu.yaml").write_text(_both(dlp_action="block"))
    result = _run("scan", "--config", str(tmp_path), "--json", stdin="jane@example.com on the export memo")
    assert result.exit_code == 3
    scanned = orjson.loads(result.stdout)
    assert scanned["text"] is None and scanned["blocked"] == ["term[0]"]
    assert [f["entity_type"] for f in scanned["findings"]] == ["term[0]"]


def test_the_packs_warnings_are_shown_on_stderr_and_the_result_on_stdout(tmp_path):
    dlp = {"detect_patterns": ["EMP-[0-9]+"], "action": "redact", "scan_responses": True}
    chain = ["dlp-filter", "data-routing-policy", "audit-logger"]
    targets = [target("eu-a", "http://127.0.0.1:9", "eu-central-1")]
    (tmp_path / "eu.yaml").write_text(pack("eu", ["eu-central-1"], targets, chain=chain, stages={"dlp-filter": dlp}))
    result = _run("scan", "--config", str(tmp_path), "--json", stdin="ask EMP-1234567")
    assert orjson.loads(result.stdout)["text"] == "ask [REDACTED:DLP]"
    assert "warning:" in result.stderr and "policy.dlp-filter.detect_patterns[0]: no bound" in result.stderr

def test_a_dlp_stage_after_the_pii_detector_sees_its_markers_and_reports_input_offsets(tmp_path):
    (tmp_path / "eu.yaml").write_text(_both(first="pii-detector"))
    text = "call +44 20 7946 0958, then EMP-654321"
    result = orjson.loads(_run("scan", "--config", str(tmp_path), "--json", stdin=text).stdout)
    assert result["text"] == "call [PHONE_NUMBER], then [REDACTED:DLP]"
    assert [text[f["start"]:f["end"]] for f in result["findings"]] == ["+44 20 7946 0958", "EMP-654321"]


def test_the_scanned_text_is_what_the_gateway_sends_with_both_stages(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": _both(eu.url)})
    prompt = "EMP-111222 wrote from jane@example.com; card 4111 1111 1111 1111, see export  memo"
    gw.client("eu").chat.completions.create(model="chat", messages=[{"role": "user", "content": prompt}])
    sent = eu.fake.requests()[-1].json()["messages"][0]["content"]
    scanned = orjson.loads(_run("scan", "--config", str(gw.config_dir), "--json", stdin=prompt).stdout)
    assert scanned["text"] == sent and "jane@" not in sent and "EMP-111222" not in sent


PIECES = st.sampled_from(["EMP-123456", "EMP-12345", "jane@example.com", "a.b@x.io", "4111 1111 1111 1111",
                          "export memo", "Export  Memo", "call +44 20 7946 0958", "x", " ", ", ", "é", "\u200b"])


@pytest.fixture(scope="module")
def both_stages(tmp_path_factory):
    path = tmp_path_factory.mktemp("scan")
    (path / "eu.yaml").write_text(_both())
    lane = load_config(path).lanes["eu"]
    return lane, steps(lane)


@settings(max_examples=150, deadline=None)
@given(st.lists(PIECES, max_size=10).map("".join))
def test_the_text_is_both_stages_in_turn_and_every_finding_points_at_its_value_in_the_input(both_stages, text):
    lane, stages = both_stages
    result = scan_text(stages, text)
    matches = DlpRules(lane.dlp).find(text)
    redacted = DlpRules.redact(text, matches)
    stage = PiiDetectorStage(lane.pii, lambda: b"")
    findings = stage.detector.detect(redacted)
    assert result["text"] == apply(redacted, findings, stage.settings()).text
    reported = sorted((f["entity_type"], text[f["start"] : f["end"]]) for f in result["findings"])
    assert reported == sorted([(m.label, text[m.start : m.end]) for m in matches]
                              + [(f.entity, redacted[f.start : f.end]) for f in findings])
