"""The recognizers' patterns: quantifiers taken possessively match what they would match with backtracking."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from lanegate.pii.recognizers import RULES

POSSESSIVE = re.compile(r"(?<=[}*+?])\+")


def _backtracking(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` with every possessive quantifier made an ordinary (greedy) one."""
    return re.compile(POSSESSIVE.sub("", pattern.pattern), pattern.flags)


POSSESSIVE_RULES = [rule for rule in RULES if POSSESSIVE.search(rule.pattern.pattern)]


def test_the_phone_rule_takes_its_digits_possessively():
    assert any(rule.entity == "PHONE_NUMBER" for rule in POSSESSIVE_RULES)


PIECES = st.sampled_from(["1", "12", "123", "1234", "12345678", "4242424242424242", " ", "  ", "-", ".", "/", "(",
                          ")", "+", "x", "X", "ext", "ext.", "e", "a", "\u00a0"])


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=14).map("".join))
def test_possessive_digits_match_what_backtracking_digits_match(text):
    for rule in POSSESSIVE_RULES:
        plain = _backtracking(rule.pattern)
        assert [m.span() for m in rule.pattern.finditer(text)] == [m.span() for m in plain.finditer(text)], text
