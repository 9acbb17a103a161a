"""Metrics of what the content stages found and of refusals: types, rules, actions and codes — never a value."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.packs import pack, target

CHAIN = ["dlp-filter", "pii-detector", "data-routing-policy", "audit-logger"]
STAGES = {"dlp-filter": {"detect_patterns": ["EMP-[0-9]{6}"], "action": "redact", "scan_responses": True},
          "pii-detector": {"entities": {"US_SSN": "block"}, "scan_responses": True}}


def _line(name: str, value: float, **labels: str) -> str:
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" + f" {value}"


def test_findings_and_refusals_are_counted_by_type_rule_action_and_code(gateway, upstream):
    eu = upstream("eu")
    eu.fake.reply = lambda received: "Noted. Write to bob.stone@example.org about EMP-654321."
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")], chain=CHAIN,
                             stages=STAGES)})
    client = gw.client("eu")
    for _ in range(2):
        client.chat.completions.create(model="chat", messages=[
            {"role": "user", "content": "Mail jane.roe@example.com and ann@example.com about EMP-123456."}])
    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "SSN 078-05-1121"}])
    text = httpx.get(f"{gw.url}/metrics").text
    findings = "lanegate_content_findings_total"
    assert _line(findings, 4.0, lane="eu", stage="pii-detector", kind="EMAIL_ADDRESS", action="redact") in text
    assert _line(findings, 2.0, lane="eu", stage="dlp-filter", kind="pattern[0]", action="redact") in text
    assert _line(findings, 1.0, lane="eu", stage="pii-detector", kind="US_SSN", action="block") in text
    assert _line(findings, 2.0, lane="eu", stage="pii-detector-output", kind="EMAIL_ADDRESS", action="redact") in text
    assert _line(findings, 2.0, lane="eu", stage="dlp-filter-output", kind="pattern[0]", action="redact") in text
    assert _line("lanegate_refusals_total", 1.0, lane="eu", endpoint="chat.completions", code="pii_blocked") in text
    for value in ("jane.roe", "ann@", "bob.stone", "123456", "654321", "078-05"):
        assert value not in text


def test_a_request_without_findings_adds_no_finding(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")], chain=CHAIN,
                             stages=STAGES)})
    gw.client("eu").chat.completions.create(model="chat", messages=[{"role": "user", "content": "Hello there."}])
    text = httpx.get(f"{gw.url}/metrics").text
    assert "lanegate_content_findings_total{" not in text and "lanegate_refusals_total{" not in text
