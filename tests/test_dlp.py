"""DLP rules on their own: many patterns searched in one pass find what each pattern finds on its own; fuzzy
terms looked at closely only where a piece of them occurs find what looking everywhere finds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lanegate import dlp
from lanegate.config.models import DlpFilterOptions
from lanegate.dlp import DlpRules, pieces

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


@pytest.mark.parametrize("dash", ["\u2013", "\u2014", "\u2015"])
def test_a_pattern_reads_any_dash_as_a_hyphen_even_after_a_letter(dash):
    """Personal-data detection reads such a dash as a space (prose); a pattern must not be evaded with it."""
    [match] = DlpRules(DlpFilterOptions(detect_patterns=["EMP-[0-9]{6}"])).find(f"ref EMP{dash}123456 ok")
    assert (match.start, match.end) == (4, 14)


@pytest.mark.parametrize("fuzzy", [False, True])
@pytest.mark.parametrize("escape", ["\\n", "\\r\\n", "\\t"])
def test_rules_read_an_escaped_line_break_before_a_word_as_a_space(escape, fuzzy):
    """JSON carried in a tool result writes its line breaks as ``\\n``: a blocked term or a pattern fenced by
    ``\\b`` at the start of such a line is not joined to the escape's letter."""
    rules = DlpRules(DlpFilterOptions(detect_patterns=[r"\bEMP-[0-9]{6}\b"], blocked_terms=["export controlled memo"],
                                      fuzzy_matching=fuzzy))
    text = f'{{"notes": "on file:{escape}export controlled memo{escape}EMP-123456"}}'
    found = [(m.rule, text[m.start : m.end]) for m in rules.find(text)]
    assert found == [("term", "export controlled memo"), ("pattern", "EMP-123456")]


@pytest.mark.parametrize(("text", "pattern", "term"), [
    ('{"notes": "ref EMP\\u2014123456, the export\\u00a0controlled memo"}', "EMP\\u2014123456",
     "export\\u00a0controlled memo"),
    ("GET /search?ref=EMP-123456&q=export%20controlled%20memo", "EMP-123456", "export%20controlled%20memo"),
    ("{'ref': 'EMP\\u2011123456', 'note': 'export\\xa0controlled\\xa0memo'}", "EMP\\u2011123456",
     "export\\xa0controlled\\xa0memo"),  # as Python's repr() writes them
])
def test_rules_read_escapes_as_the_characters_they_stand_for(text, pattern, term):
    rules = DlpRules(DlpFilterOptions(detect_patterns=["EMP-[0-9]{6}"], blocked_terms=["export controlled memo"]))
    found = [(m.rule, text[m.start : m.end]) for m in rules.find(text)]
    assert found == [("pattern", pattern), ("term", term)]


@pytest.mark.parametrize("fuzzy", [False, True])
@pytest.mark.parametrize(("text", "matched"), [
    ("the export <b>controlled</b> memo", "export <b>controlled</b> memo"),
    ("export<br>controlled memo", "export<br>controlled memo"),
    ('export <span class="x">controlled</span> memo', 'export <span class="x">controlled</span> memo'),
    ("export<!-- x -->controlled memo", "export<!-- x -->controlled memo"),
    ("a < b: export controlled memo", "export controlled memo"),  # a "<" that opens no tag is text
    ("<export controlled memo>", "export controlled memo"),  # a tag's shape: the text as written is read too
])
def test_a_blocked_term_marked_up_in_html_is_read_as_its_words(text, matched, fuzzy):
    rules = DlpRules(DlpFilterOptions(blocked_terms=["export controlled memo"], fuzzy_matching=fuzzy))
    assert [text[m.start : m.end] for m in rules.find(text)] == [matched]


FUZZY_TERMS = ["export controlled memo", "salary review", "layoff plan", "ab", "x y", "merger target list"]
# words of the terms, their halves, near misses and filler, so that texts come within one or two edits of a term
WORDS = ["export", "exprt", "exporrt", "controlled", "controled", "memo", "mem", "salary", "salery", "review",
         "reveiw", "layoff", "lay", "off", "plan", "pla", "ab", "a", "b", "x", "y", "xy", "merger", "target",
         "targte", "list", "lis", "the", "Éxport", "SALARY", "paragraph", "exportcontrolled", "sala", "ry"]


class _EveryWindow(DlpRules):
    """The same rules measuring every fuzzy term against every window of every text: no filter before."""

    def __init__(self, options: DlpFilterOptions) -> None:
        super().__init__(options)
        self._pieces = [None] * len(self._pieces)
        self._any_piece = None

    def find(self, text: str) -> list[dlp.DlpMatch]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(dlp.fuzz, "partial_ratio", lambda *args, **kwargs: 100.0)
            return super().find(text)


def _everywhere(options: DlpFilterOptions) -> DlpRules:
    return _EveryWindow(options)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=10),
       st.lists(st.sampled_from([" ", " ", "  ", ", ", "-", "\n"]), min_size=10, max_size=10),
       st.integers(min_value=0, max_value=3))
def test_fuzzy_terms_found_through_their_pieces_are_what_looking_everywhere_finds(words, separators, distance):
    text = "".join(word + separator for word, separator in zip(words, separators, strict=False))
    options = DlpFilterOptions(blocked_terms=FUZZY_TERMS, fuzzy_matching=True, max_distance=distance)
    assert DlpRules(options).find(text) == _everywhere(options).find(text)


@pytest.mark.parametrize("text", ["send the exprt controlled memo now", "salary reviw", "SALERY REVIEW",
                                  "the layof plan", "merger targt list", "exportcontrolled memo",
                                  "the sala ry review", "ex port controlled memo"])
def test_a_fuzzy_term_one_edit_away_is_found_however_the_edit_falls(text):
    rules = DlpRules(DlpFilterOptions(blocked_terms=FUZZY_TERMS, fuzzy_matching=True, max_distance=1))
    assert [m.label for m in rules.find(text)] in (["term[0]"], ["term[1]"], ["term[2]"], ["term[5]"])
    assert rules.find(text) == _everywhere(rules.options).find(text)


@pytest.mark.parametrize("text", ["salary -- review", "About the salary,  review", "export - controlled - memo",
                                  "salary review"])
def test_fuzzy_matching_finds_whatever_exact_matching_finds(text):
    exact = DlpRules(DlpFilterOptions(blocked_terms=FUZZY_TERMS))
    fuzzy = DlpRules(DlpFilterOptions(blocked_terms=FUZZY_TERMS, fuzzy_matching=True))
    assert [m.label for m in exact.find(text)] != []
    assert fuzzy.find(text) == exact.find(text)


def test_a_text_without_a_piece_of_any_term_is_not_measured_against_them(monkeypatch):
    rules = DlpRules(DlpFilterOptions(blocked_terms=FUZZY_TERMS[:3], fuzzy_matching=True))
    measured = []
    monkeypatch.setattr(dlp.fuzz, "partial_ratio", lambda *args, **kwargs: measured.append(args) or 0.0)
    assert rules.find("Please summarise the following paragraph about our products.") == []
    assert measured == []
    rules.find("the review is due")  # "review" is a piece of "salary review": that term alone is measured
    assert [args[0] for args in measured] == ["salary review"]


def test_pieces_are_disjoint_parts_of_the_terms_words_one_more_than_the_edits():
    assert pieces("export controlled memo", 1) == ("controlled", "export")
    assert pieces("export controlled memo", 2) == ("controlled", "export", "memo")
    assert pieces("salary review", 3) == ("sal", "ary", "rev", "iew")
    halves = pieces("confidential", 1)
    assert halves is not None and "".join(sorted(halves, key="confidential".index)) == "confidential"
    assert pieces("ab", 1) == ("a", "b")
    assert pieces("ab", 2) is None  # too short for three pieces: always looked at closely


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab_9 \t\n-.,\x1c\x1fé\u00a0\u2028Z"), max_size=30))
def test_a_texts_words_joined_by_c_loops_are_those_the_regular_expression_finds(text):
    assert dlp._joined_words(text) == " ".join(dlp._WORD.findall(text))
