"""DLP rules on their own: many patterns searched in one pass find what each pattern finds on its own."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lanegate import dlp
from lanegate.config.models import DlpFilterOptions
from lanegate.dlp import DlpRules

PATTERNS = ["EMP-[0-9]{6}", "(?i)internal only", "^ACCT[0-9]{4}", "([A-Z]{2})-SEC-(?:[0-9]{3})",
            "ref (?P<id>[0-9]+)$", "(?m)^x+$"]
# whole matches of each pattern, and pieces that make or break matches when put together
PIECES = ["EMP-123456", "Internal Only", "ACCT1234", "AB-SEC-007", "ref 42", "xx", "EMP-", "123456", "12345",
          "internal", " ", "only", "ACCT", "1234", "AB-SEC-", "007", "ref ", "42", "\n", "x", "a", "\u200b",
          "\u0661\u0662", "é", "-"]


def _one_by_one(options: DlpFilterOptions, monkeypatch: pytest.MonkeyPatch) -> DlpRules:
    """The same rules with each pattern searched on its own (the one pass switched off)."""
    with monkeypatch.context() as patch:
        patch.setattr(dlp, "ONE_PASS_FROM", 10**6)
        return DlpRules(options)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=6).map("".join))
def test_patterns_searched_in_one_pass_find_what_each_finds_on_its_own(text):
    options = DlpFilterOptions(detect_patterns=PATTERNS, blocked_terms=["export controlled memo"])
    with pytest.MonkeyPatch.context() as monkeypatch:
        reference = _one_by_one(options, monkeypatch)
    assert DlpRules(options).find(text) == reference.find(text)


def test_a_pattern_that_also_matches_nothing_reports_only_what_it_matches():
    rules = DlpRules(DlpFilterOptions(detect_patterns=["a*", "EMP-[0-9]{6}", "ABC", "DEF"]))
    assert [(m.index, m.start, m.end) for m in rules.find("xx aa EMP-123456")] == [(0, 3, 5), (1, 6, 16)]


def test_a_pattern_keeps_its_own_flags_among_the_others():
    rules = DlpRules(DlpFilterOptions(detect_patterns=["(?i)secret", "ABC", "DEF", "GHI"]))
    assert [m.index for m in rules.find("a SeCrEt abc")] == [0]
    assert [m.index for m in rules.find("ABC and GHI")] == [1, 3]
    assert rules.find("abc def ghi") == []


@pytest.mark.parametrize("patterns", [
    ["(?P<id>EMP-[0-9]{6})", "(?P<id>CASE-[0-9]{4})", "ABC", "DEF"],  # a group name used twice
    [r"\Qa.b", "XYZ", "UVW", "RST"],  # a quoted literal to the end would swallow the next patterns
])
def test_patterns_that_cannot_share_one_pass_are_still_each_found(patterns):
    rules = DlpRules(DlpFilterOptions(detect_patterns=patterns))
    text = "EMP-123456 CASE-2024 a.b XYZ RST axb"
    found = {text[m.start : m.end] for m in rules.find(text)}
    assert found == ({"EMP-123456", "CASE-2024"} if "ABC" in patterns else {"a.b", "XYZ", "RST"})


@pytest.mark.parametrize("patterns", [["EMP-[0-9]{6}"], ["EMP-[0-9]{6}", "ABC", "DEF", "GHI"]])
@pytest.mark.parametrize("text", ["ref EMP-123456 ok", "Café — EMP-123456 ñ", "日本語 EMP-123456",
                                  "ref EMP-12\u200b3456"])
def test_matches_index_the_text_as_given_whatever_its_script(patterns, text):
    [match] = DlpRules(DlpFilterOptions(detect_patterns=patterns)).find(text)
    assert text[match.start : match.end].replace("\u200b", "") == "EMP-123456"
