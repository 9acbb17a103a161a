"""The one-pass prefilter: the detector finds exactly what it finds with ``re`` alone, on the shared
labelled sets, on generated text and in several threads at once; without the engine it still works."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lanegate.pii import ALL_ENTITIES, Detector, prefilter
from lanegate.pii.evaluation import load
from lanegate.pii.recognizers import RULES

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "pii"
ENTITIES = sorted(ALL_ENTITIES - {"LOCATION"})
pytestmark = pytest.mark.skipif(not prefilter.available(), reason="the hyperscan package has no wheel here")


def _texts() -> list[str]:
    texts = [r["text"] for name in ("presidio-research/synth_dataset_v2.unified.jsonl",
                                    "e3jsi-synthetic-multi-pii/e3jsi_validation_charspans.jsonl")
             for r in load(SHARED / name)]

    def strings(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "input") and isinstance(value, str):
                    texts.append(value)
                else:
                    strings(value)
        elif isinstance(node, list):
            for value in node:
                strings(value)

    strings(json.loads((SHARED / "presidio-recognizer-tests" / "presidio_recognizer_test_cases.json").read_text()))
    texts += [p.read_text() for p in sorted((SHARED / "datafog-bench-payloads").iterdir())
              if p.suffix in (".txt", ".json")]
    evasive = [t.replace("0", "\uff10").replace("@", "\uff20").replace(" ", "\u200b ", 3) for t in texts[:400]]
    return texts + evasive


FAST = Detector(ENTITIES)
PLAIN = Detector(ENTITIES, prefilter=False)


def test_one_pass_and_re_alone_find_the_same_on_the_shared_sets():
    assert FAST.one_pass and not PLAIN.one_pass
    texts = _texts()
    assert len(texts) > 3000
    differing = [t for t in texts if FAST.detect(t) != PLAIN.detect(t)]
    assert differing == []


PIECES = st.sampled_from([
    "4111 1111 1111 1111", "4242424242424242", "219-09-9934", "078-05-1121", "(212) 555-0142", "+44 20 7946 0958",
    "GB82 WEST 1234 5698 7654 32", "ES91 2100 0418 4502 0005 1332", "DE89_3704_0044_0532_0130_00",
    "536 - 90 - 4399", "536_90_4399", "_4111 1111 1111 1111_", "x_4242424242424242", "_AB 12 34 56 C_",
    "__(212) 555-0142__", "x_2125550142", "___",
    "192.168.0.1", "2001:db8::1", "fe80::1%eth0", "AB 12 34 56 C", "12345678Z",
    "X1234567L", "RSSMRA85T10A562S", "123 456 789", "123.45.678", "1234.56.789", "01/28", "cvv 123",
    "born 12/03/1985", "passport C01X00T47",
    "jane.doe@example.com", "me@x.io", "sk-proj-abcdefghijklmnopqrstuvwx", "AKIAABCDEFGHIJKLMNOP",
    "ghp_" + "a" * 36, "my name is Dan Smith", "12 Baker Street", "MRN: AB-123456", "tel", "number", "bsn",
    "Straße", "née le 3 mars 1980", "٣٤٥", "—", "é", "İ", "\u00a0", "\u200b", "-", ".", ":", "/", "(", ")", "+", "@",
    "_", " ", "\n", "x", "ext.", "9", "12", "1234", "123456789012", "212-555-0142 212-555-0199", "212.555.0142 5",
    "212 555 0142 212 555 0199", "07700 900123", "2024 ", "192.168.001.010",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES | st.text("0123456789 -./()+:@_xXaZé٣\u200b", max_size=8), max_size=12).map("".join))
def test_one_pass_finds_what_re_alone_finds_in_generated_text(text):
    assert FAST.detect(text) == PLAIN.detect(text), repr(text)


GAPS = st.text(" ._/-", min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.text("0123456789", min_size=1, max_size=6), st.sampled_from([" ", ".", "  "]),  # a hyphen joins: one number
       st.sampled_from(["4111 1111 1111 1111", "4111-1111-1111-1111", "5500 0000 0000 0004", "4242424242424242"]))
def test_a_card_number_after_any_group_of_digits_is_found_alike(group, gap, card):
    text = f"paid {group}{gap}{card} ok"
    found = FAST.detect(text)
    assert found == PLAIN.detect(text), repr(text)
    start = text.index(card)  # found, or overlapped by a card the group makes with its first digits (Luhn by chance)
    assert any(f.entity == "CREDIT_CARD" and f.start < start + len(card) and start < f.end for f in found), repr(text)


def _grouped_value_is_found_alike_and_whole(groups: tuple[str, ...], gaps: list[str], text: str, entity: str) -> None:
    """``groups`` joined by ``gaps`` in ``text`` (a ``{}`` for the value): the engine and ``re`` alone agree, and
    with up to three separators between groups the value is one finding of ``entity``."""
    number = groups[0] + "".join(gap + group for gap, group in zip(gaps, groups[1:], strict=False))
    text = text.format(number)
    found = FAST.detect(text)
    assert found == PLAIN.detect(text), repr(text)
    if all(len(gap) <= 3 for gap in gaps[: len(groups) - 1]):
        assert [(f.entity, text[f.start : f.end]) for f in found] == [(entity, number)], repr(text)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([("4111", "1111", "1111", "1111"), ("5500", "0000", "0000", "0004"), ("3782", "822463", "10005"),
                        ("4012", "8888", "8888", "1881")]), st.lists(GAPS, min_size=3, max_size=3))
def test_a_card_number_with_any_gaps_is_found_alike_with_and_without_the_engine(groups, gaps):
    _grouped_value_is_found_alike_and_whole(groups, gaps, "card {} ok", "CREDIT_CARD")


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([("DE89", "3704", "0044", "0532", "0130", "00"),
                        ("ES91", "2100", "0418", "4502", "0005", "1332"),
                        ("GB82", "WEST", "1234", "5698", "7654", "32"), ("NO93", "8601", "1117", "947")]),
       st.lists(GAPS, min_size=5, max_size=5), st.sampled_from(["", " ok", " to me", ".", " - ab"]))
def test_an_iban_with_any_gaps_is_found_alike_with_and_without_the_engine(groups, gaps, after):
    _grouped_value_is_found_alike_and_whole(groups, gaps, "iban {}" + after, "IBAN_CODE")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([("536", "90", "4399"), ("219", "09", "9934"), ("078", "05", "1121")]), GAPS, GAPS)
def test_an_ssn_with_any_gaps_is_found_alike_with_and_without_the_engine_when_both_gaps_are_alike(groups, gap, other):
    number = f"{groups[0]}{gap}{groups[1]}{other}{groups[2]}"
    text = f"ssn {number} ok"
    found = FAST.detect(text)
    assert found == PLAIN.detect(text), repr(text)
    ssn = [text[f.start : f.end] for f in found if f.entity == "US_SSN"]
    if gap == other and len(gap) <= 3:
        assert ssn == [number], repr(text)
    elif len({*gap, *other}) > 1:  # different separators: not how an SSN is written
        assert ssn == [], repr(text)


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("call 5551234567x89 today", "PHONE_NUMBER", "5551234567x89"),
    ("call 555-123-4567 ext. 12 today", "PHONE_NUMBER", "555-123-4567 ext. 12"),
    ("card 4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1 then", "CREDIT_CARD", "4-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1"),
    ("card 4.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1", "CREDIT_CARD", "4.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1"),
    ("host=2001:db8::1 down", "IP_ADDRESS", "2001:db8::1"),
    ("(fe80::1%eth0)", "IP_ADDRESS", "fe80::1%eth0"),
    ("Ship to 12 Baker Street, please", "STREET_ADDRESS", "12 Baker Street"),
    ("Hello, my name is Dan Smith.", "PERSON", "Dan Smith"),
])
def test_candidates_without_a_fence_or_a_tail_still_find_the_value(text, entity, value):
    """Candidates that leave out the character before the value, or the end of it (the phone extension, the
    digits of a card number past the twelfth), still lead to what the whole pattern finds."""
    found = [(f.entity, text[f.start:f.end]) for f in FAST.detect(text)]
    assert (entity, value) in found
    assert FAST.detect(text) == PLAIN.detect(text)


@pytest.mark.parametrize("text", [
    "x2001:db8::1", "ab12 Baker Street", "123456 Baker Street", "Summr Smith", "items Smith",
    "4-1-1-1-1-1-1-1-1-1-1 (eleven digits)", "5551234567xyz", "1-2-3-4-5-6-7-8-9-0-1-2-3-4-5-6-7-8-9-0",
])
def test_candidates_without_a_fence_find_no_more_than_the_pattern_does(text):
    assert FAST.detect(text) == PLAIN.detect(text)


def test_every_rule_with_a_candidate_is_bounded_or_tried_where_the_candidate_starts():
    for rule in RULES:
        if rule.candidate is not None:
            assert rule.open_ended or rule.widest is not None or rule.gate or rule.at_trigger, rule.pattern.pattern


def test_every_open_ended_candidate_begins_with_the_fence_before_a_match():
    rules = [r for r in RULES if r.open_ended]
    assert rules
    for rule in rules:
        assert rule.candidate is not None and rule.candidate.startswith("(?:^|[^"), rule.candidate


@pytest.mark.parametrize("text", [
    "my name is A B-my name is C D", "Mr. Ann Lee Mrs. Bo Roe", "((212) 555-0142", " ((212) 555-0142",
    "(2125550142)", "+44 20 7946 0958", "x+44 20 7946 0958",
    "call(212) 555-0142", "a (212) 555-0142 b (212) 555-0143", "my name is Dan Smith, i am Ann Lee",
    "key sk-proj-abcdefghijklmnopqrstuvwx.", "Via Roma 131", "(Via Roma 131)",
])
def test_open_ended_rules_tried_past_each_fence_find_what_re_alone_finds(text):
    assert FAST.detect(text) == PLAIN.detect(text)


def test_a_rule_found_at_its_trigger_has_one_trigger_that_ends_its_candidate_and_backscans():
    rules = [r for r in RULES if r.at_trigger]
    assert rules
    for rule in rules:
        (trigger,) = rule.trigger
        assert rule.backscan is not None and rule.window is not None
        assert rule.candidate is not None and rule.candidate.endswith(trigger)


@pytest.mark.parametrize("text", [
    "x @a@b.com", "mail .jane.doe@example.com now", "a.@example.com", "@@x.io", "jane@doe@example.com",
    "é.jane@exämple.de", "(me@x.io)", "me@x.io, you@y.io and them@z.io", "a" * 70 + "@example.com",
    "jane\uff20example.com", "me @ x.io",
])
def test_emails_found_from_each_at_sign_as_without_the_engine(text):
    assert FAST.detect(text) == PLAIN.detect(text)


def test_every_gate_has_triggers_to_read_around_or_numbers_to_read():
    gates = [r for r in RULES if r.gate]
    assert len(gates) >= 5
    for rule in gates:
        assert rule.trigger or rule.cluster or rule.run, rule.pattern.pattern


@pytest.mark.parametrize("text", [
    "4111 1111 1111 111112 Baker Street—12 Baker Street", "at 12 Baker Street and 14 Baker Street",
    "Ship to 12 Baker Street, please", "12 Baker Street", "Friedhofstrasse 33", "Hauptstr. 5, Berlin",
    "Kiannonkatu 98 and Hauptstraße 1b", "strasse 33", "Weg 12",
    "db at postgres://admin:s3cret@db.internal:5432/app", "POSTGRES://ADMIN:S3CRET@DB", "://",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----", "Private Key",
    "MRN: AB-123456", "Patient ID 778899", "cvv 123", "Security Code: 4321", "CID 123",
    "4111  1111 1111 1111 and 5500 0000 0000 0004", "3782_822463_10005", "1 4111 - 1111 - 1111 - 1111 2",
    "DE89  3704  0044  0532  0130  00 and DE89 3704 0044 0532 0130 00", "1 536 - 90 - 4399 2",
])
def test_a_gate_finds_what_reading_around_its_triggers_finds_without_the_engine(text):
    assert FAST.detect(text) == PLAIN.detect(text)
    assert FAST.detect(text) or text in ("://", "Private Key", "strasse 33", "Weg 12")


def test_the_skeleton_has_one_ascii_character_per_character():
    text = "Jürgen — ٣4\u00a0straße ½"  # ß has no ASCII base letter; ½ counts as a word character
    shape = prefilter.skeleton(text)
    assert len(shape) == len(text)
    assert shape == b"Jurgen \x7f 04 straae a"


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40) | st.text(st.characters(max_codepoint=0x2FF), max_size=40))
def test_the_skeleton_folds_each_character_alone_whatever_the_text_holds(text):
    """Latin-1 characters are folded by one byte table and the rest by the codec's error handler: both give
    what folding each character on its own gives."""
    assert prefilter.skeleton(text) == "".join(c if c.isascii() else prefilter._fold_char(c) for c in text).encode()


def test_detectors_in_several_threads_scan_at_once_with_their_own_scratch_space():
    text = "card 4111 1111 1111 1111, mail jane.doe@example.com, call +44 20 7946 0958. " * 20
    expected = FAST.detect(text)
    results: list[bool] = []

    def work() -> None:
        results.extend(FAST.detect(text) == expected for _ in range(50))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 200


def test_without_the_engine_the_detector_reads_with_re_alone(monkeypatch):
    monkeypatch.setattr(prefilter, "hyperscan", None)
    detector = Detector(ENTITIES)
    assert not detector.one_pass
    text = "card 4111 1111 1111 1111 and jane.doe@example.com"
    assert [(f.entity, text[f.start:f.end]) for f in detector.detect(text)] == [
        ("CREDIT_CARD", "4111 1111 1111 1111"), ("EMAIL_ADDRESS", "jane.doe@example.com")]
