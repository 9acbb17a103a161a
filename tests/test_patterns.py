"""The widest match a pattern can make, as streams and the PII rules use it."""

from __future__ import annotations

import re

import pytest

from lanegate.patterns import widest


@pytest.mark.parametrize(("pattern", "width"), [
    ("EMP-[0-9]{6}", 10),
    ("CASE-[0-9]{4}-SEALED-[0-9]{5}", 22),
    ("(?i)sealed: [A-Z ]{10,600}\\.", 609),  # a flag group at the start, as RE2 and Python both read it
    ("(?:ab|abcdef)?x", 7),
    ("a(?=bcd)", 1),  # a lookahead reads further but spans nothing
])
def test_a_bounded_pattern_has_its_longest_match_as_width(pattern, width):
    assert widest(pattern) == width


def test_a_match_as_wide_as_the_width_exists_and_none_wider():
    pattern = "(?i)sealed: [A-Z ]{10,600}\\."
    assert re.fullmatch(pattern, "Sealed: " + "AB " * 200 + ".")
    assert not re.fullmatch(pattern, "Sealed: " + "AB " * 200 + "A.")


@pytest.mark.parametrize("pattern", [
    "EMP-[0-9]+",
    "BEGIN.*END",
    "a{3,}",
    "a{1,70000}",  # past any bound a stream keeps
    "\\pL{3}",  # RE2 syntax Python's parser does not read: no bound known
    "x\\z",
    "ab(?i)c",
])
def test_an_unbounded_or_unreadable_pattern_has_no_width(pattern):
    assert widest(pattern) is None
