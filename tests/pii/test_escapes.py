"""Escapes decoded before normalising: what each character came from."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lanegate.pii.escapes import decode


def test_each_decoded_character_spans_its_whole_escape():
    text = "a%40b%C3%A9c\\u00a0d\\ud83d\\ude00e"
    decoded = decode(text)
    assert decoded is not None and decoded.text == "a@béc\u00a0d\U0001f600e"
    spans = {decoded.text[i]: text[decoded.origin[i] : decoded.ends[i]] for i in decoded.ends}
    assert spans == {"@": "%40", "é": "%C3%A9", "\u00a0": "\\u00a0", "\U0001f600": "\\ud83d\\ude00"}
    assert [text[decoded.origin[i]] for i, char in enumerate(decoded.text) if i not in decoded.ends] == list("abcde")


@pytest.mark.parametrize("text", ["50% off, 100%", "raise it 10%de", "a lone %d8 byte", "\\ud83d alone",
                                  "no escape at all", "\\u12 too short", "an overlong %C0%80", "a=1&b=2",
                                  "A & B", "&bogus; &#99999999; &#xD800;", "\\x4 \\xg0", "\\U00110000 \\U0000d800"])
def test_what_is_not_an_escape_of_a_character_is_left_as_written(text):
    assert decode(text) is None


def test_python_escapes_of_one_byte_and_of_eight_hex_digits_are_read():
    text = "a\\xa0b\\U0001f600c"  # as repr() writes a no-break space and an emoji it cannot print
    decoded = decode(text)
    assert decoded is not None and decoded.text == "a\u00a0b\U0001f600c"
    assert [text[decoded.origin[i] : decoded.ends[i]] for i in (1, 3)] == ["\\xa0", "\\U0001f600"]


def test_bytes_of_another_encoding_are_left_and_the_escapes_beside_them_read():
    decoded = decode("mailto:ren%E9%40example.com")  # Latin-1's é, as older pages wrote it
    assert decoded is not None and decoded.text == "mailto:ren%E9@example.com"


@given(st.text(max_size=40), st.sampled_from(["json", "url"]))
def test_decoding_an_escaped_text_gives_the_text_back(text, encoding):
    escaped = json.dumps(text)[1:-1] if encoding == "json" else quote(text, safe="")
    decoded = decode(escaped)
    if decoded is None:
        assert escaped == text or encoding == "json"  # JSON escapes only quotes, backslashes and controls so
        return
    if encoding == "url":
        assert decoded.text == text
    assert len(decoded.origin) == len(decoded.text) and decoded.origin == sorted(decoded.origin)


def test_an_html_reference_that_stands_for_two_characters_gives_both_the_whole_reference():
    text = "x&NotEqualTilde;y&#64;z"
    decoded = decode(text)
    assert decoded is not None and decoded.text == "x\u2242\u0338y@z"
    assert [text[decoded.origin[i] : decoded.ends[i]] for i in (1, 2, 4)] == ["&NotEqualTilde;"] * 2 + ["&#64;"]
