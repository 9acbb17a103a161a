"""Properties of detection and its operators over generated texts: no detected value survives redaction, and
tokenizing then restoring gives the text back."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from lanegate.pii import DEFAULT_ENTITIES, Detector
from lanegate.pii.operators import OperatorSettings, apply
from lanegate.pii.tokens import fresh_tokens, restore

DETECTOR = Detector(DEFAULT_ENTITIES)
VALUES = st.sampled_from(["jane.roe@example.com", "4111 1111 1111 1111", "+44 20 7946 0958", "078-05-1121",
                          "GB05QJZO19199608871268", "192.168.10.20", "AKIAIOSFODNN7EXAMPLE", "bob@example.org",
                          "ES91 2100 0418 4502 0005 1332", "DE89  3704  0044  0532  0130  00", "536 - 90 - 4399",
                          "212-555-0142", "212.555.0199"])
FILLER = st.text(alphabet="abcdefghij ,.;:\n", max_size=20)
TEXTS = st.lists(st.tuples(FILLER, VALUES), min_size=1, max_size=6).map(
    lambda parts: "".join(f"{filler} {value} " for filler, value in parts))


def _standing_alone(value: str) -> re.Pattern[str]:
    """``value`` as a value of its own: not inside a longer run of the characters values are made of (the
    address ``::`` stands alone in ``:: x``; inside ``:::`` it is no address)."""
    return re.compile(rf"(?<![\w:.@+-]){re.escape(value)}(?![\w:.@+-])")


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_no_detected_value_survives_redaction(text):
    findings = DETECTOR.detect(text)
    redacted = apply(text, findings, OperatorSettings()).text
    for finding in findings:
        assert _standing_alone(text[finding.start : finding.end]).search(redacted) is None
    assert DETECTOR.detect(redacted) == []


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_tokenize_then_restore_gives_the_text_back(text):
    findings = DETECTOR.detect(text)
    tokens = fresh_tokens((f.entity, text[f.start : f.end]) for f in findings)
    tokenized = apply(text, findings, OperatorSettings(default="tokenize"), tokens).text
    assert restore(tokenized, {t: v for (_, v), t in tokens.items()}) == text
    assert len(set(tokens.values())) == len(tokens)  # different values never share a token
