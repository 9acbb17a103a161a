"""The dlp-filter stage: patterns and blocked terms, blocked or redacted, with safe patterns only."""

from __future__ import annotations

import openai
import pytest

from lanegate.config import ConfigError, load_sources
from lanegate.config.models import DlpFilterOptions
from lanegate.dlp import DlpRules
from lanegate.policy.output_stage import KEEP_AT_MOST
from tests.packs import pack, target

CHAIN = ["dlp-filter", "data-routing-policy", "audit-logger"]
RULES = {"detect_patterns": ["CASE-[0-9]{4}-SEALED-[0-9]{5}", "EMP-[0-9]{6}"],
         "blocked_terms": ["export controlled memo", "outside region transfer"]}


def _pack(url: str, **options) -> str:
    return pack("eu", ["eu-central-1"], [target("eu-a", url, "eu-central-1")], chain=CHAIN,
                stages={"dlp-filter": options})


def test_a_pattern_or_a_blocked_term_blocks_and_names_the_rule_not_the_text(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": _pack(eu.url, **RULES)})
    client = gw.client("eu")
    for prompt, rule in [("see CASE-2024-SEALED-00042 now", "pattern[0]"),
                         ("the Export-Controlled MEMO is attached", "term[0]")]:
        with pytest.raises(openai.PermissionDeniedError) as caught:
            client.chat.completions.create(model="chat", messages=[{"role": "user", "content": prompt}])
        assert caught.value.code == "dlp_blocked" and caught.value.body["rules"] == [rule]
        assert "SEALED-00042" not in caught.value.body["message"]
    assert eu.fake.requests() == []
    assert client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hello"}]).choices
    records = gw.records("eu")
    assert records[0]["stages"][0]["detail"] == {"sensitivity_level": "confidential", "action": "block",
                                                 "matches": {"pattern[0]": {"count": 1, "action": "block"}}}
    assert "SEALED" not in str(records) and "controlled" not in str(records).lower()


def test_redact_replaces_every_match_and_fuzzy_terms_tolerate_small_edits(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": _pack(eu.url, action="redact", fuzzy_matching=True, max_distance=1, **RULES)})
    gw.client("eu").chat.completions.create(model="chat", messages=[{"role": "user", "content":
        "EMP-123456 asked about an outside régión transfer and an export controled memo; EMP-654321 too"}])
    sent = eu.fake.requests()[-1].json()["messages"][0]["content"]
    assert sent == ("[REDACTED:DLP] asked about an [REDACTED:DLP] and an [REDACTED:DLP]; [REDACTED:DLP] too")


def test_fuzzy_terms_are_found_across_punctuation_and_as_a_whole_message(gateway, upstream):
    eu = upstream("eu")
    client = gateway({"eu": _pack(eu.url, fuzzy_matching=True, max_distance=1, **RULES)}).client("eu")
    for text in ("re: Export -- Controlled, memo", "outside regin transfer"):
        with pytest.raises(openai.PermissionDeniedError) as caught:
            client.chat.completions.create(model="chat", messages=[{"role": "user", "content": text}])
        assert caught.value.body["code"] == "dlp_blocked"
    assert eu.fake.requests() == []


def test_an_image_part_cannot_be_inspected_and_is_refused(gateway, upstream):
    eu = upstream("eu")
    client = gateway({"eu": _pack(eu.url, **RULES)}).client("eu")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://files.example.com/memo.png"}}]}])
    assert caught.value.code == "uninspectable_input" and caught.value.param == "messages[0].content[0]"
    assert eu.fake.requests() == []


def test_a_pack_of_many_patterns_names_the_one_that_matched_and_passes_clean_text(gateway, upstream):
    eu = upstream("eu")
    patterns = [f"PRJ{n}-[0-9]{{4}}" for n in range(12)]  # enough to be searched in one pass
    client = gateway({"eu": _pack(eu.url, detect_patterns=patterns)}).client("eu")
    assert client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "PRJ-1234"}]).choices
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "see PRJ7-0042"}])
    assert caught.value.body["rules"] == ["pattern[7]"]
    assert [r["content"] for m in eu.fake.requests() for r in m.json()["messages"]] == ["PRJ-1234"]


def test_matching_without_fuzzing_is_exact_but_case_and_accent_insensitive():
    rules = DlpRules(DlpFilterOptions(blocked_terms=["outside region transfer"]))
    assert [m.rule for m in rules.find("An OUTSIDE RÉGION Transfer.")] == ["term"]
    assert rules.find("an outside regio transfer") == []


def test_patterns_are_linear_time_and_invalid_ones_are_load_errors(tmp_path):
    rules = DlpRules(DlpFilterOptions(detect_patterns=["(a+)+$"]))  # catastrophic for a backtracking engine
    assert rules.find("a" * 50_000 + "b") == []  # with RE2 this returns; a backtracking engine would not
    with pytest.raises(ConfigError) as caught:
        load_sources([(tmp_path / "eu.yaml", _pack("http://127.0.0.1:9", detect_patterns=["ok", "(a)\\1"]))],
                     base=tmp_path)
    assert "policy.dlp-filter.detect_patterns[1]: not a valid pattern" in str(caught.value)


@pytest.mark.parametrize("scan_responses", [True, False])
def test_a_pattern_without_a_bound_is_a_load_warning_when_answers_are_scanned(tmp_path, scan_responses):
    patterns = ["EMP-[0-9]{6}", "EMP-[0-9]+", "BEGIN.{0,100}END", "BEGIN.*END"]
    config = load_sources([(tmp_path / "eu.yaml", _pack("http://127.0.0.1:9", detect_patterns=patterns,
                                                       scan_responses=scan_responses))], base=tmp_path)
    warned = [w.key for w in config.warnings if "no bound on how long a match can be" in str(w)]
    assert warned == (["policy.dlp-filter.detect_patterns[1]", "policy.dlp-filter.detect_patterns[3]"]
                      if scan_responses else [])


def test_scan_responses_redacts_or_withholds_the_answer_buffered_and_streamed(gateway, upstream):
    eu = upstream("eu")
    eu.fake.reply = lambda received: "Filed under CASE-2024-SEALED-00042 as the export controlled memo says."
    gw = gateway({"eu": _pack(eu.url, action="redact", scan_responses=True, **RULES)})
    client = gw.client("eu")
    hello = [{"role": "user", "content": "status?"}]
    expected = "Filed under [REDACTED:DLP] as the [REDACTED:DLP] says."
    assert client.chat.completions.create(model="chat", messages=hello).choices[0].message.content == expected
    eu.fake.chunks = 23
    pieces = [c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="chat", messages=hello, stream=True) if c.choices]
    assert "".join(pieces) == expected and "SEALED" not in "".join(pieces)
    blocking = gateway({"eu": _pack(eu.url, scan_responses=True, **RULES)})
    with pytest.raises(openai.APIStatusError) as caught:
        blocking.client("eu").chat.completions.create(model="chat", messages=hello)
    assert caught.value.status_code == 502 and caught.value.body["rules"] == ["pattern[0]", "term[0]"]


@pytest.mark.parametrize("fuzzy", [False, True])
def test_a_streamed_term_whose_words_stand_far_apart_is_caught_whole(gateway, upstream, fuzzy):
    eu = upstream("eu")  # terms match across any run of punctuation between their words, so hold back words
    word = "controled" if fuzzy else "con\u200btrolled"  # one edit away; an invisible character inside
    eu.fake.reply = lambda received: "Filed as the export" + " -" * 300 + f" {word} memo says."
    gw = gateway({"eu": _pack(eu.url, action="redact", scan_responses=True, fuzzy_matching=fuzzy, **RULES)})
    client = gw.client("eu")
    hello = [{"role": "user", "content": "status?"}]
    buffered = client.chat.completions.create(model="chat", messages=hello).choices[0].message.content
    assert buffered == "Filed as the [REDACTED:DLP] says."
    eu.fake.chunks = 97
    pieces = [c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="chat", messages=hello, stream=True) if c.choices]
    assert "".join(pieces) == buffered


def test_a_stream_holds_back_words_of_a_term_only_so_far(gateway, upstream):
    eu = upstream("eu")
    eu.fake.reply = lambda received: "export" + " -" * (KEEP_AT_MOST // 2 + 2000) + " controlled memo"
    gw = gateway({"eu": _pack(eu.url, action="redact", scan_responses=True, **RULES)})
    eu.fake.chunks = 40
    pieces = [c.choices[0].delta.content or "" for c in gw.client("eu").chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "status?"}], stream=True) if c.choices]
    assert "".join(pieces) == eu.fake.reply(None)  # released apart: the words stand too far apart to be held
    assert pieces[0] == "" and pieces[1] == ""  # held while within KEEP_AT_MOST of the first word
    assert sum(1 for piece in pieces if piece) > 1  # then released as the answer goes on, not all at the end


@pytest.mark.parametrize("text", [
    "ref EMP-12\u200b3456 please", "ref EMP-\u0661\u0662\u0663\u0664\u0665\u0666 please",
    "ref \uff25\uff2d\uff30\uff0d\uff11\uff12\uff13\uff14\uff15\uff16 please", "ref EMP-12\u00ad3456 please",
    "ref EMP-12\u202e3456 please", "ref EMP\u2013123456 please",
])
def test_patterns_see_through_invisible_characters_and_other_forms_of_digits(text):
    rules = DlpRules(DlpFilterOptions(detect_patterns=["EMP-[0-9]{6}"]))
    [match] = rules.find(text)
    assert text[: match.start] == "ref " and text[match.end :] == " please"
    assert DlpRules.redact(text, [match]) == "ref [REDACTED:DLP] please"


def test_terms_split_by_an_invisible_character_are_still_found_where_they_stand():
    rules = DlpRules(DlpFilterOptions(blocked_terms=["export controlled memo"]))
    text = "é the export con\u200btrolled memo."
    [match] = rules.find(text)
    assert text[match.start : match.end] == "export con\u200btrolled memo"
