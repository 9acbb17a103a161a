"""A stream scanned as it flows gives what the buffered answer gives, however it is cut into chunks: DLP rules
and personal data."""

from __future__ import annotations

from itertools import pairwise
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lanegate.config.models import DlpFilterOptions
from lanegate.dlp import DlpRules
from lanegate.pii import ALL_ENTITIES, Detector
from lanegate.pii.operators import OperatorSettings, apply
from lanegate.policy.output_stage import DlpScanner, PiiScanner, ScanFilter, Scanner

TERMS = ["export controlled memo", "salary review"]
# runs of words: the terms, as given and one edit away, and others
PHRASES = [("export", "controlled", "memo"), ("exprt", "controled", "memo"), ("ex\u200bport", "controlled", "memo"),
           ("salary", "review"), ("salary",), ("memo",), ("the",), ("EMP-123456",), ("EMP-12", "3456")]
# separators, half of them longer than what a stream holds back by characters (256); invisible characters are
# dropped before matching, so a run of them alone joins two words and is no separator
SEPARATORS = [" ", ", ", " -- ", "\n", "-" * 300, " " * 280, " ." * 150, " \u200b" * 130, " <b>", "<br>",
              '</span> <span class="note">']


def _streamed(scanner: DlpRules | Scanner, text: str, cuts: list[int]) -> str:
    """``text`` sent through a scan filter in chunks cut at ``cuts``, as the caller receives it."""
    scanner = DlpScanner(scanner) if isinstance(scanner, DlpRules) else scanner
    stream = ScanFilter(scanner, SimpleNamespace(stages=[]))  # type: ignore[arg-type]
    bounds = [0, *sorted(set(cuts)), len(text)]
    out = []
    for start, end in pairwise(bounds):
        event = {"choices": [{"index": 0, "delta": {"content": text[start:end]}, "finish_reason": None}]}
        out.append(stream.on_event(event)["choices"][0]["delta"]["content"])
    last = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    out.append(stream.on_event(last)["choices"][0]["delta"]["content"])
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PHRASES), max_size=4), st.lists(st.sampled_from(SEPARATORS), min_size=12,
       max_size=12), st.lists(st.integers(0, 3000), max_size=12), st.booleans())
def test_a_streamed_answer_is_redacted_as_the_whole_answer_is(phrases, separators, cuts, fuzzy):
    words = [word for phrase in phrases for word in phrase]
    text = "".join(word + separator for word, separator in zip(words, separators, strict=False))
    rules = DlpRules(DlpFilterOptions(detect_patterns=["EMP-[0-9]{6}"], blocked_terms=TERMS, action="redact",
                                      fuzzy_matching=fuzzy))
    cuts = [cut for cut in cuts if cut < len(text)]
    assert _streamed(rules, text, cuts) == DlpRules.redact(text, rules.find(text))


DETECTOR = Detector(ALL_ENTITIES)
# values with and without spaces, longer than what a stream holds back by characters (64) or not, and values
# that count only with the words before them
VALUES = ["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + "a" * 120 + "." + "b" * 43,
          "https://" + "user" * 8 + ":" + "secretpw" * 5 + "@example.com/x", "sk-" + "A1b2C3d4" * 6,
          "jane.roe@example.com", "+44 20 7946 0958", "(212) 555-0142", "4111 1111 1111 1111",
          "GB82 WEST 1234 5698 7654 32", "Date of birth: 12/03/1980", "patient MRN 4821937", "cvv 123",
          "passport number 123456789", "the", "about", "x" * 70, "请联系客服" * 30, "邮件jane.roe@example.com谢谢",
          "a@" + "\u3002".join(("b" * 63, "c" * 63, "d" * 63, "org")),  # labels joined by ideographic full stops
          "?email=jane%40example.com&phone=%2B12125550142", "Tel.\\u00a0212-555-0142\\n4111\\u00a01111 1111 1111",
          "alexandra.rivera-montgomery [at] mail [dot] example-corporation [dot] co [dot] uk",  # past harvesters
          "jane [at] example [dot] com"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(VALUES), st.sampled_from([" ", ", ", "\n", ". "])), min_size=1,
                max_size=8), st.lists(st.integers(0, 800), max_size=15))
def test_a_streamed_answer_keeps_from_personal_data_what_the_whole_answer_keeps(parts, cuts):
    text = "".join(value + separator for value, separator in parts)
    cuts = [cut for cut in cuts if cut < len(text)]
    redacted = apply(text, DETECTOR.detect(text), OperatorSettings()).text
    assert _streamed(PiiScanner(DETECTOR, OperatorSettings), text, cuts) == redacted


@pytest.mark.parametrize(("terms", "text", "fuzzy", "start"), [
    (["x y z"], "a b c d", False, 2),  # three words kept
    (["x y z"], "a b c d", True, 0),  # a fuzzy window may hold one word more
    (["export"], "x ex\u200bport ", False, 2),  # one word as matching reads it, from its first character
    (["salary review"], "salary, ---- review --", False, 0),  # separators kept, however long
    (["salary review"], "one two three review --", False, 8),
    (["salary review"], "----", False, 4),  # no word: nothing to keep
    (["salary review"], "", False, 0),
])
def test_a_terms_last_words_are_kept_however_far_apart_they_stand(terms, text, fuzzy, start):
    assert DlpRules(DlpFilterOptions(blocked_terms=terms, fuzzy_matching=fuzzy)).term_tail(text) == start


def test_without_terms_no_word_is_kept():
    assert DlpRules(DlpFilterOptions(detect_patterns=["EMP-[0-9]{6}"])).term_tail("a b c") == 5


def test_what_a_stream_holds_when_it_ends_without_a_final_event_is_sent_scanned():
    stream = ScanFilter(PiiScanner(DETECTOR, OperatorSettings), SimpleNamespace(stages=[]))  # type: ignore[arg-type]
    events = [stream.on_event({"choices": [{"index": 0, "finish_reason": None, "delta": {
        "content": content, "tool_calls": [{"index": 1, "function": {"arguments": arguments}}]}}]})
        for content, arguments in (("write to jane.roe@exa", '{"to": "bob@'), ("mple.com", 'example.org"}'))]
    events += stream.on_end()
    deltas = [event["choices"][0]["delta"] for event in events]
    content = "".join(delta.get("content", "") for delta in deltas)
    arguments = "".join(call["function"]["arguments"] for delta in deltas for call in delta.get("tool_calls", []))
    assert content == "write to [EMAIL_ADDRESS]" and arguments == '{"to": "[EMAIL_ADDRESS]"}'
    assert stream.on_end() == []


SEALED = "SEALED\\[[A-Z ]{10,600}\\]"  # a match of up to 608 characters, spaces in it


@settings(max_examples=100, deadline=None)
@given(st.integers(10, 600), st.lists(st.integers(0, 700), max_size=12))
def test_a_patterns_match_longer_than_256_characters_is_never_sent_in_part(size, cuts):
    text = "Filed as SEALED[" + ("AB " * 200)[:size] + "] and closed."
    rules = DlpRules(DlpFilterOptions(detect_patterns=[SEALED], action="redact"))
    cuts = [cut for cut in cuts if cut < len(text)]
    assert _streamed(rules, text, cuts) == "Filed as [REDACTED:DLP] and closed."


@pytest.mark.parametrize(("patterns", "terms", "hold"), [
    ([SEALED, "EMP-[0-9]{6}"], [], 608),  # the widest match
    (["EMP-[0-9]{6}"], ["salary review"], 256),
    (["EMP-[0-9]+", "BEGIN.*END"], [], 256),  # no bound: what a stream holds by default
    (["[A-Z ]{1,1000}" * 20], [], 16384),  # never more than any stream keeps
    ([], ["x" * 200], 400),
])
def test_a_stream_holds_back_the_widest_match_a_pattern_can_make(patterns, terms, hold):
    assert DlpScanner(DlpRules(DlpFilterOptions(detect_patterns=patterns, blocked_terms=terms))).hold == hold
