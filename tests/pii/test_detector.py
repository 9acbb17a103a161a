"""The detector on its own: evasion, offsets, allow lists, and accuracy on the shared labelled sets."""

from __future__ import annotations

import ast
import html
import json
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lanegate.pii import ALL_ENTITIES, DEFAULT_ENTITIES, Detector
from lanegate.pii.evaluation import evaluate, load

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "pii"
SYNTH = SHARED / "presidio-research" / "synth_dataset_v2.unified.jsonl"
STRUCTURED = {"CREDIT_CARD": "CREDIT_CARD", "PHONE_NUMBER": "PHONE_NUMBER", "EMAIL_ADDRESS": "EMAIL_ADDRESS",
              "IBAN_CODE": "IBAN_CODE", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS"}


def _wide(text: str) -> str:
    """``text`` in full-width forms (what NFKC folds back)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


def _found(text: str, entities=ALL_ENTITIES, **options) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start : f.end]) for f in Detector(entities, **options).detect(text)]


def test_structured_entities_meet_their_accuracy_targets_on_synth_dataset_v2():
    table = evaluate(Detector(DEFAULT_ENTITIES), load(SYNTH), STRUCTURED).table()
    for entity, row in table.items():
        assert row["recall"] >= 0.98, (entity, row)
        assert row["precision"] >= 0.95, (entity, row)


@pytest.mark.parametrize(("text", "entity", "value"), [
    (f"card {_wide('4111 1111 1111 1111')} ok", "CREDIT_CARD", _wide("4111 1111 1111 1111")),
    ("mail j\u200bane@exa\u200dmple.com now", "EMAIL_ADDRESS", "j\u200bane@exa\u200dmple.com"),
    ("ssn 078\u200b-05-1121.", "US_SSN", "078\u200b-05-1121"),
    (f"IBAN {_wide('GB05QJZO19199608871268')}", "IBAN_CODE", _wide("GB05QJZO19199608871268")),
])
def test_evasion_by_compatibility_forms_and_invisible_characters_is_undone_and_spans_map_back(text, entity, value):
    assert (entity, value) in _found(text)


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("card 4111_1111_1111_1111 ok", "CREDIT_CARD", "4111_1111_1111_1111"),
    ("card 4111/1111/1111/1111 ok", "CREDIT_CARD", "4111/1111/1111/1111"),
    ("amex 3782_822463_10005 ok", "CREDIT_CARD", "3782_822463_10005"),
    ("card 4111 1111-1111.1111 ok", "CREDIT_CARD", "4111 1111-1111.1111"),  # mixed
    ("card 4111  1111  1111  1111 ok", "CREDIT_CARD", "4111  1111  1111  1111"),  # as pasted from a PDF
    ("card 4111 1111 1111  1111 ok", "CREDIT_CARD", "4111 1111 1111  1111"),  # only the last gap is odd
    ("card 4111 - 1111 - 1111 - 1111 ok", "CREDIT_CARD", "4111 - 1111 - 1111 - 1111"),
    ("amex 3782 - 822463 - 10005 ok", "CREDIT_CARD", "3782 - 822463 - 10005"),
    ("IBAN GB82-WEST-1234-5698-7654-32.", "IBAN_CODE", "GB82-WEST-1234-5698-7654-32"),
    ("IBAN DE89  3704  0044  0532  0130  00 ok", "IBAN_CODE", "DE89  3704  0044  0532  0130  00"),
    ("IBAN DE89_3704_0044_0532_0130_00 ok", "IBAN_CODE", "DE89_3704_0044_0532_0130_00"),
    ("IBAN DE89.3704.0044.0532.0130.00.", "IBAN_CODE", "DE89.3704.0044.0532.0130.00"),
    ("IBAN GB82 WEST 1234 5698 - 7654 32 ok", "IBAN_CODE", "GB82 WEST 1234 5698 - 7654 32"),  # a later gap only
    ("ssn 536 - 90 - 4399 ok", "US_SSN", "536 - 90 - 4399"),
    ("ssn 536_90_4399 ok", "US_SSN", "536_90_4399"),
    ("ssn 536--90--4399 ok", "US_SSN", "536--90--4399"),
    ("ssn 536/90/4399 ok", "US_SSN", "536/90/4399"),
    ("mail jane@example\u3002com now", "EMAIL_ADDRESS", "jane@example\u3002com"),  # a dot between labels (IDNA)
    ("mail jane@example\uff61co\uff61uk now", "EMAIL_ADDRESS", "jane@example\uff61co\uff61uk"),
    ("host 192\u3002168\u30021\u300217 down", "IP_ADDRESS", "192\u3002168\u30021\u300217"),
])
def test_evasion_by_other_separators_inside_numbers_and_other_full_stops_is_undone(text, entity, value):
    assert (entity, value) in _found(text)
    assert (entity, value) in _found(text, prefilter=False)  # and so with re alone, without the one-pass engine


@pytest.mark.parametrize("iban", ["ES91 2100 0418 4502 0005 1332", "AT61 1904 3002 3457 3201", "BE71 0961 2345 6769",
                                  "SE45 5000 0000 0583 9825 7466", "PL61 1090 1014 0000 0712 1981 2874",
                                  "BE71096123456769", "ES91  2100  0418  4502  0005  1332"])
@pytest.mark.parametrize("after", [" to me", " and thanks", "-abc", " a"])
def test_an_iban_whose_groups_are_all_of_four_is_found_before_a_short_word(iban, after):
    """Its country's length says where it ends: the short word is not read as a last, shorter group."""
    text = f"pay {iban}{after}"
    assert _found(text, DEFAULT_ENTITIES) == [("IBAN_CODE", iban)]
    assert _found(text, DEFAULT_ENTITIES, prefilter=False) == [("IBAN_CODE", iban)]


@pytest.mark.parametrize("gap", [" ", "  ", ", "])
def test_ibans_side_by_side_are_each_found_when_the_first_would_run_on_into_the_second(gap):
    """The first one's shape reads on into the second's groups; the search goes on where the first one ends."""
    first, second = "ES91 2100 0418 4502 0005 1332", "DE89 3704 0044 0532 0130 00"
    text = f"{first}{gap}{second}"
    for prefilter in (True, False):
        assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [("IBAN_CODE", first), ("IBAN_CODE", second)]


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("write to jane@example.com\u2014she will answer", "EMAIL_ADDRESS", "jane@example.com"),  # an em dash
    ("mail jane@example.com- ok", "EMAIL_ADDRESS", "jane@example.com"),
    ("mail jane@example.com--see below", "EMAIL_ADDRESS", "jane@example.com"),
    ("Visa\u20144111 1111 1111 1111 on file", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("card 4111 1111 1111 1111\u2014thanks", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("card 4111111111111111\u2013ok", "CREDIT_CARD", "4111111111111111"),  # an en dash
    ("SSN\u2014078-05-1121 on file", "US_SSN", "078-05-1121"),
    ("ssn 078-05-1121\u2014ok", "US_SSN", "078-05-1121"),
    ("ssn 078 - 05 - 1121\u2014ok", "US_SSN", "078 - 05 - 1121"),
])
def test_a_dash_in_prose_next_to_a_value_does_not_hide_it(text, entity, value):
    """Normalising reads every dash as ``-``; next to a letter, a space or the end it is punctuation."""
    for prefilter in (True, False):
        assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [(entity, value)]


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("call me\u2014212-555-0142 today", "PHONE_NUMBER", "212-555-0142"),
    ("call\u2014+44 20 7946 0958", "PHONE_NUMBER", "+44 20 7946 0958"),  # the country code with it
    ("fax\u2013(212) 555-0142", "PHONE_NUMBER", "(212) 555-0142"),  # an en dash
    ("BSN\u2015123456782", "NL_BSN", "123456782"),  # a horizontal bar
])
def test_a_number_after_a_word_and_a_dash_of_prose_is_found_whole(text, entity, value):
    """Between a letter and a number, an en or em dash sets the number apart, as a space would; a hyphen there
    joins an identifier (``INV-2024-000123``), which is not taken for a phone number."""
    for prefilter in (True, False):
        assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [(entity, value)]


@pytest.mark.parametrize(("value", "entity"), [
    ("4111 1111 1111 1111", "CREDIT_CARD"), ("212-555-0142", "PHONE_NUMBER"), ("+44 20 7946 0958", "PHONE_NUMBER"),
    ("078-05-1121", "US_SSN"), ("DE89 3704 0044 0532 0130 00", "IBAN_CODE"), ("192.168.1.17", "IP_ADDRESS"),
    ("jane.roe@example.com", "EMAIL_ADDRESS"),
])
@pytest.mark.parametrize("escape", ["\\n", "\\r\\n", "\\t"])
@pytest.mark.parametrize("prefilter", [True, False])
def test_a_value_at_the_start_of_an_escaped_line_is_found_whole(value, entity, escape, prefilter):
    """A tool result that carries JSON writes its line breaks as ``\\n``: the value after one is not joined to the
    escape's letter, and the escape itself is left as it is."""
    text = f'{{"notes": "on file:{escape}{value}{escape}thanks"}}'
    found = Detector(DEFAULT_ENTITIES, prefilter=prefilter).detect(text)
    assert [(f.entity, text[f.start : f.end]) for f in found] == [(entity, value)]


@pytest.mark.parametrize(("written", "entity", "value"), [
    ("Tel.\\u00a0212-555-0142", "PHONE_NUMBER", "212-555-0142"),  # a no-break space before it
    ("call me\\u2014212-555-0142", "PHONE_NUMBER", "212-555-0142"),
    ("card\\u00a04111\\u00a01111\\u00a01111\\u00a01111", "CREDIT_CARD", "4111\\u00a01111\\u00a01111\\u00a01111"),
    ("\\u00ab4111 1111 1111 1111\\u00bb", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("\\uff14\\uff11\\uff11\\uff11 1111 1111 1111", "CREDIT_CARD", "\\uff14\\uff11\\uff11\\uff11 1111 1111 1111"),
    ("IBAN\\u00a0DE89 3704 0044 0532 0130 00", "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
    ("\\ud83d\\ude00 jane@ex\\u00e4mple.com", "EMAIL_ADDRESS", "jane@ex\\u00e4mple.com"),
    ("Tel.\\xa0212-555-0142", "PHONE_NUMBER", "212-555-0142"),  # as Python's repr() writes it
    ("card\\xa04111\\xa01111\\xa01111\\xa01111", "CREDIT_CARD", "4111\\xa01111\\xa01111\\xa01111"),
    ("\\U0001f4b34111 1111 1111 1111", "CREDIT_CARD", "4111 1111 1111 1111"),  # after an emoji, as repr() writes it
])
@pytest.mark.parametrize("prefilter", [True, False])
def test_a_value_next_to_characters_written_as_unicode_escapes_is_found_whole(written, entity, value, prefilter):
    """Tool results serialised with ``ensure_ascii`` (Python's default) write every other character as
    ``\\uXXXX``: the escapes are read as the characters they stand for, and a finding covers whole escapes."""
    text = f'{{"notes": "{written}"}}'
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [(entity, value)]


ESCAPED_PIECES = st.sampled_from([
    "4111 1111 1111 1111", "212-555-0142", "+44 20 7946 0958", "jane@example.com", "078-05-1121", "192.168.1.17",
    "DE89 3704 0044 0532 0130 00", "\u00a0", "\u2014", "\u00ab", "\u00bb", "\u00e9", "\U0001f600", "\uff14",
    "\u0663", "\u200b", "\U000e0041", " ", "x", "card", "tel", ",", ".", "-",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(ESCAPED_PIECES, max_size=10).map("".join), st.sampled_from(["json", "repr", "url", "html"]))
def test_text_written_with_escapes_gives_the_findings_of_the_text_itself(text, encoding):
    """Written as ``ensure_ascii`` JSON does (``\\u00a0``), as Python's ``repr()`` does (``\\xa0``, ``\\u200b``),
    as a URL's query does (``%40``) or with HTML character references (``&#64;``, ``&nbsp;``), a text gives the
    findings it gives as it is, and each covers whole escapes (it decodes to the value)."""
    if encoding == "json":
        escaped, unescape = json.dumps(text)[1:-1], lambda s: json.loads(f'"{s}"')
    elif encoding == "repr":
        escaped, unescape = repr(text)[1:-1], lambda s: ast.literal_eval(f"'{s}'")
    elif encoding == "url":
        escaped, unescape = quote(text, safe=""), unquote
    else:
        names = {"\u00a0": "&nbsp;", "@": "&#64;", " ": "&#x20;", "-": "&#45;"}
        escaped = "".join(names.get(c, f"&#{ord(c)};" if not c.isascii() else c) for c in text)
        unescape = html.unescape
    detector = Detector(DEFAULT_ENTITIES)
    plain = [(f.entity, text[f.start : f.end]) for f in detector.detect(text)]
    assert [(f.entity, unescape(escaped[f.start : f.end])) for f in detector.detect(escaped)] == plain


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("GET /users?email=jane%40example.com&page=2", "EMAIL_ADDRESS", "jane%40example.com"),
    ("?to=jane.roe%40ex%C3%A4mple.com", "EMAIL_ADDRESS", "jane.roe%40ex%C3%A4mple.com"),
    ("?phone=%2B12125550142&z=1", "PHONE_NUMBER", "%2B12125550142"),
    ("?card=4111%201111%201111%201111", "CREDIT_CARD", "4111%201111%201111%201111"),
    ("<p>mail jane&#64;example.com</p>", "EMAIL_ADDRESS", "jane&#64;example.com"),  # hidden from harvesters
    ("<td>4111&nbsp;1111&nbsp;1111&nbsp;1111</td>", "CREDIT_CARD", "4111&nbsp;1111&nbsp;1111&nbsp;1111"),
])
@pytest.mark.parametrize("prefilter", [True, False])
def test_a_value_percent_encoded_or_written_with_html_references_is_found_whole(text, entity, value, prefilter):
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [(entity, value)]


@pytest.mark.parametrize("prefilter", [True, False])
def test_a_number_after_a_numero_sign_stands_apart(prefilter):
    text = "паспорт №4111 1111 1111 1111, тел. №212-555-0142"
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [
        ("CREDIT_CARD", "4111 1111 1111 1111"), ("PHONE_NUMBER", "212-555-0142")]


@pytest.mark.parametrize(("text", "value"), [
    ("call +44 20 7946 0958 1234 ok", "+44 20 7946 0958"), ("call +442079460958 2024", "+442079460958"),
])
@pytest.mark.parametrize("prefilter", [True, False])
def test_a_number_in_international_form_ends_before_more_digits_that_would_make_it_too_long(text, value, prefilter):
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [("PHONE_NUMBER", value)]


@pytest.mark.parametrize("prefilter", [True, False])
def test_a_hyphen_between_letters_and_digits_still_joins_an_identifier(prefilter):
    assert _found("invoice INV-2024-000123 paid", DEFAULT_ENTITIES, prefilter=prefilter) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("4111 1111 1111 1111\u2014jane@example.com", [("CREDIT_CARD", "4111 1111 1111 1111"),
                                                  ("EMAIL_ADDRESS", "jane@example.com")]),
    ("ES91 2100 0418 4502 0005 1332-jane.roe@example.com", [("IBAN_CODE", "ES91 2100 0418 4502 0005 1332"),
                                                           ("EMAIL_ADDRESS", "jane.roe@example.com")]),
    ("a@example.com\u2014b@example.org", [("EMAIL_ADDRESS", "a@example.com"), ("EMAIL_ADDRESS", "b@example.org")]),
    ("x .jane.roe@example.com ok", [("EMAIL_ADDRESS", "jane.roe@example.com")]),  # a dot does not begin a local part
    ("key AKIAIOSFODNN7EXAMPLE\u2014rotate it", [("SECRET", "AKIAIOSFODNN7EXAMPLE")]),
])
def test_a_value_written_just_before_an_email_address_stays_apart_from_its_local_part(text, expected):
    """The local part is read back from ``@`` over dots and dashes; it begins after a value found before it."""
    for prefilter in (True, False):
        assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == expected


@pytest.mark.parametrize(("text", "value"), [
    ("write to jane [at] example [dot] com today", "jane [at] example [dot] com"),
    ("jane.doe(at)example.co.uk", "jane.doe(at)example.co.uk"),
    ("mail: jane{at}example{dot}org.", "jane{at}example{dot}org"),
    ("JANE [AT] EXAMPLE [DOT] COM", "JANE [AT] EXAMPLE [DOT] COM"),
    ("jane [@] example.com", "jane [@] example.com"),
    ("defanged: jane@example[.]com", "jane@example[.]com"),
    ("jane (at) mail (dot) example (dot) de", "jane (at) mail (dot) example (dot) de"),
])
@pytest.mark.parametrize("prefilter", [True, False])
def test_an_email_address_written_past_harvesters_is_found_whole(text, value, prefilter):
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [("EMAIL_ADDRESS", value)]


@pytest.mark.parametrize("text", ["look at this dot com", "jane [at] example", "see (fig. 3) at [1]",
                                  "meet me at [the] office", "(dot) com"])
def test_at_and_dot_in_words_or_brackets_alone_are_not_an_address(text):
    for prefilter in (True, False):
        assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == []


def test_an_address_written_past_harvesters_is_kept_when_other_findings_overlap():
    text = "jane [at] example [dot] com; 4443  4894  0591  4567 4376 9616 1844 9673"  # a bridge: findings overlap
    assert _found(text, DEFAULT_ENTITIES)[0] == ("EMAIL_ADDRESS", "jane [at] example [dot] com")


@pytest.mark.parametrize("prefilter", [True, False])
def test_an_address_not_begun_inside_another_finding_keeps_its_first_character(prefilter):
    """Overlapping findings elsewhere in the text (two card rules finding one number) do not move its start."""
    text = "-jane@example.com: __4111 1111 1111 1111"
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [
        ("EMAIL_ADDRESS", "-jane@example.com"), ("CREDIT_CARD", "4111 1111 1111 1111")]


@pytest.mark.parametrize("text", ["id 4111-1111-1111-1111-2222 ok", "id 12-4111111111111111 ok",
                                  "id 4111111111111111-2 ok", "ref 078-05-1121-4 ok", "ref 9-078-05-1121 ok"])
def test_a_dash_between_a_value_and_more_digits_still_makes_them_one_number(text):
    """Not a card number or an SSN with more digits beside it (the whole may still read as a phone number)."""
    for prefilter in (True, False):
        assert {e for e, _ in _found(text, DEFAULT_ENTITIES, prefilter=prefilter)} <= {"PHONE_NUMBER"}


@pytest.mark.parametrize(("text", "value"), [
    ("x jane@example.com-mail.org y", "jane@example.com-mail.org"),  # the dash begins a longer domain
    ("x jane@example.xn--p1ai y", "jane@example.xn--p1ai"),  # a punycode top-level domain
])
def test_a_dash_that_goes_on_into_a_domain_stays_part_of_it(text, value):
    for prefilter in (True, False):
        assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [("EMAIL_ADDRESS", value)]


@pytest.mark.parametrize(("first", "second"), [
    ("212-555-0142", "212-555-0199"), ("212.555.0142", "212.555.0199"), ("+1-212-555-0142", "2125550199"),
    ("0151-2345-6789", "0151-2345-6790"),
])
@pytest.mark.parametrize("gap", [" ", ", ", "\n"])
def test_phone_numbers_side_by_side_are_each_found_when_the_first_would_run_on_into_the_second(first, second, gap):
    """A number grouped by hyphens or dots ends at the space after it; the search goes on from there."""
    text = f"phones: {first}{gap}{second} (office)"
    for prefilter in (True, False):
        found = _found(text, DEFAULT_ENTITIES, prefilter=prefilter)
        assert found == [("PHONE_NUMBER", first), ("PHONE_NUMBER", second)]


@pytest.mark.parametrize("numbers", [
    ["212 555 0142", "212 555 0199"],  # the pattern reads on across both: 16 digits, which no number has
    ["07700 900123", "07700 900456"],
    ["212 555 0142", "212 555 0199", "212 555 0100"],
    ["030 1234567", "089 7654321"],
    ["020 7946 0958", "0161 496 0000"],  # two layouts, both national (trunk prefix 0)
])
@pytest.mark.parametrize("prefilter", [True, False])
def test_phone_numbers_grouped_by_spaces_one_space_apart_are_each_found(numbers, prefilter):
    text = f"numbers {' '.join(numbers)} today"
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [("PHONE_NUMBER", n) for n in numbers]


@pytest.mark.parametrize("text", [
    "paid 2024 4111 1111 1111 1111 ok",  # a year before it: the first four groups fail the card check
    "acct 5521 4111.1111.1111.1111 ok",
    "7233 572750 6286 4111 1111 1111 1111 29367 59974 13881",
])
@pytest.mark.parametrize("prefilter", [True, False])
def test_a_card_number_behind_a_group_of_digits_is_found_after_the_refused_match(text, prefilter):
    """A refused match does not hide a value that starts inside it: the search goes on one character after it."""
    card = "4111 1111 1111 1111" if "4111 " in text else "4111.1111.1111.1111"
    assert ("CREDIT_CARD", card) in _found(text, DEFAULT_ENTITIES, prefilter=prefilter)


@pytest.mark.parametrize("text", ["gift card 1234 5678 9012 3456 ok", "ref 1234 5678 9012 3456 7890 ok"])
@pytest.mark.parametrize("prefilter", [True, False])
def test_groups_all_of_one_size_are_not_cut_into_phone_numbers(text, prefilter):
    """Sixteen or twenty digits in groups of four are a card or account number (which failed its check), not
    phone numbers side by side."""
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == []


@pytest.mark.parametrize("prefilter", [True, False])
def test_spaced_phone_numbers_that_fit_in_one_are_found_as_one(prefilter):
    """Up to fifteen digits the two read as one number: the finding covers both, so neither leaks."""
    assert _found("call 555 0142 555 0199 now", DEFAULT_ENTITIES, prefilter=prefilter) == [
        ("PHONE_NUMBER", "555 0142 555 0199")]


@pytest.mark.parametrize(("text", "expected"), [
    ("connect to 2001:db8::1: connection refused", [("IP_ADDRESS", "2001:db8::1")]),  # a colon of prose after it
    ("fe80::1%eth0: link down", [("IP_ADDRESS", "fe80::1%eth0")]),
    ("peer ::ffff:192.168.1.17: reset", [("IP_ADDRESS", "::ffff:192.168.1.17")]),
    ("network 2001:db8:: only", [("IP_ADDRESS", "2001:db8::")]),  # a trailing :: is part of an address
    ("at 12:30:45: done", []),
])
@pytest.mark.parametrize("prefilter", [True, False])
def test_an_ipv6_address_followed_by_a_colon_of_prose_is_found(text, expected, prefilter):
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("host 192.168.001.010 down", [("IP_ADDRESS", "192.168.001.010")]),  # leading zeros: still an address
    ("from 010.000.000.001 and 10.0.0.1", [("IP_ADDRESS", "010.000.000.001"), ("IP_ADDRESS", "10.0.0.1")]),
    ("not 192.168.001.256 nor 300.1.1.1", []),
])
@pytest.mark.parametrize("prefilter", [True, False])
def test_dotted_ipv4_addresses_with_leading_zeros_are_found(text, expected, prefilter):
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == expected


@pytest.mark.parametrize(("text", "value"), [
    ("call 212-555-0142 5 times", "212-555-0142"),  # a count after the number is not part of it
    ("call 212.555.0142 7 days a week", "212.555.0142"),
    ("call 212-555-0142 x 12 today", "212-555-0142 x 12"),  # an extension is
    ("call +33 1 23 45 67 89 now", "+33 1 23 45 67 89"),  # grouped by spaces: whole as matched
])
def test_a_phone_number_grouped_by_hyphens_or_dots_ends_at_the_space_after_it(text, value):
    for prefilter in (True, False):
        assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [("PHONE_NUMBER", value)]


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("card _4111 1111 1111 1111_ ok", "CREDIT_CARD", "4111 1111 1111 1111"),  # italics, as Markdown writes them
    ("card __4111111111111111__ ok", "CREDIT_CARD", "4111111111111111"),  # bold
    ("pan=card_4111111111111111 ok", "CREDIT_CARD", "4111111111111111"),
    ("iban _DE89 3704 0044 0532 0130 00_.", "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
    ("ssn _536-90-4399_ ok", "US_SSN", "536-90-4399"),
    ("host _192.168.1.17_ down", "IP_ADDRESS", "192.168.1.17"),
    ("mail _jane@example.com_ now", "EMAIL_ADDRESS", "_jane@example.com"),  # a local part may begin with one
    ("mail jane_doe@example.com_ now", "EMAIL_ADDRESS", "jane_doe@example.com"),
])
def test_an_underscore_next_to_a_value_that_never_holds_one_sets_it_apart(text, entity, value):
    assert _found(text, DEFAULT_ENTITIES) == [(entity, value)]
    assert _found(text, DEFAULT_ENTITIES, prefilter=False) == [(entity, value)]


@pytest.mark.parametrize("text", ["build_123456789 done", "run_12345678 ok", "v1.2.3.4_5"])
def test_bare_digit_runs_joined_to_a_name_by_an_underscore_stay_part_of_it(text):
    assert _found(text, DEFAULT_ENTITIES) == []


@pytest.mark.parametrize(("text", "entity", "value"), [
    ("call _212-555-0142_ now", "PHONE_NUMBER", "212-555-0142"),  # italics
    ("tel __(212) 555-0142__.", "PHONE_NUMBER", "(212) 555-0142"),  # bold
    ("call ___+44 20 7946 0958___", "PHONE_NUMBER", "+44 20 7946 0958"),  # both
    ("_0171/1234567_ (Büro)", "PHONE_NUMBER", "0171/1234567"),
    ("NINO _AB 12 34 56 C_", "UK_NINO", "AB 12 34 56 C"),
    ("NINO **_AB123456C_**", "UK_NINO", "AB123456C"),
    ("Steuer-ID _12 345 678 903_", "DE_TAX_ID", "12 345 678 903"),
    ("DNI _12345678Z_", "ES_DNI", "12345678Z"),
    ("NIE __X1234567L__", "ES_NIE", "X1234567L"),
    ("CF _RSSMRA85T10A562S_", "IT_FISCAL_CODE", "RSSMRA85T10A562S"),
    ("ITIN _912-70-1234_", "US_ITIN", "912-70-1234"),
    ("ssn _078051121_ please", "US_SSN", "078051121"),
    ("key _AKIAIOSFODNN7EXAMPLE_", "SECRET", "AKIAIOSFODNN7EXAMPLE"),
    ("dsn _https://admin:s3cret@db.example.com/x_", "URL_CREDENTIALS", "https://admin:s3cret@db.example.com"),
    ("born _12/03/1985_", "DATE_OF_BIRTH", "12/03/1985"),
])
def test_underscores_set_around_a_value_as_markdown_emphasis_set_it_apart(text, entity, value):
    for prefilter in (True, False):
        assert _found(text, ALL_ENTITIES, prefilter=prefilter) == [(entity, value)]


@pytest.mark.parametrize("text", [
    "session_2125550142 done", "2125550142_retry", "user_AB123456C", "row__12345678Z", "id_912-70-1234",
    "cfg_AKIAIOSFODNN7EXAMPLE", "____2125550142____", "x_078051121", "file_2125550142_final.txt",
])
def test_underscores_that_join_a_value_to_a_name_keep_it_part_of_the_name(text):
    for prefilter in (True, False):
        assert _found(text, ALL_ENTITIES, prefilter=prefilter) == []


def test_an_iban_that_runs_on_into_letters_is_not_cut_to_its_length():
    assert _found("ref BE71096123456769abc ok", DEFAULT_ENTITIES) == []


def test_a_loosely_grouped_match_across_two_card_numbers_does_not_win_over_them():
    text = " +44 20 7946 0958  4111 1111 1111 1111  4111 1111 1111 1111 "  # the double spaces open the odd-gap rule
    assert _found(text, DEFAULT_ENTITIES) == [("PHONE_NUMBER", "+44 20 7946 0958"),
                                              ("CREDIT_CARD", "4111 1111 1111 1111"),
                                              ("CREDIT_CARD", "4111 1111 1111 1111")]


@pytest.mark.parametrize("text", ["card 4111_1111_1111_1112 ok", "ref 2024/0315/1122/3344 ok",
                                  "card 4111 - 1111 - 1111 - 1112 ok", "IBAN GB82-WEST-1234-5698-7654-33.",
                                  "IBAN DE89  3704  0044  0532  0130  01 ok", "ssn 666 - 90 - 4399 ok",
                                  "ssn 536 - 90-4399 ok", "ssn 536__90_4399 ok"])
def test_other_separators_do_not_make_numbers_that_fail_their_checks_into_findings(text):
    assert _found(text, DEFAULT_ENTITIES) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("My NINO is AB 12 34 56 C and my Steuer-ID 12345678903.", [("UK_NINO", "AB 12 34 56 C"),
                                                                ("DE_TAX_ID", "12345678903")]),
    ("NIE X9613851N, DNI 55555555K, codice fiscale AAAAAA00B11C333Y", [
        ("ES_NIE", "X9613851N"), ("ES_DNI", "55555555K"), ("IT_FISCAL_CODE", "AAAAAA00B11C333Y")]),
    ("BSN 111222333 en NIR 1 84 12 76 451 089 46", [("NL_BSN", "111222333"), ("FR_NIR", "1 84 12 76 451 089 46")]),
    ("born 12/03/1980; passport number 912803456", [("DATE_OF_BIRTH", "12/03/1980"), ("PASSPORT", "912803456")]),
    ("key AKIAIOSFODNN7EXAMPLE and postgres://app:s3cret@db.internal:5432/x",
     [("SECRET", "AKIAIOSFODNN7EXAMPLE"), ("URL_CREDENTIALS", "postgres://app:s3cret@db.internal:5432")]),
    ("ITIN 911-70-1234, NPI 1234567893, MRN: A-123456", [("US_ITIN", "911-70-1234"), ("US_NPI", "1234567893"),
                                                        ("MEDICAL_RECORD_NUMBER", "A-123456")]),
    ("exp 09/27 cvv: 123", [("CARD_EXPIRY", "09/27"), ("CARD_CVV", "123")]),
])
def test_national_identifiers_secrets_and_mode_entities_are_found_with_their_validators(text, expected):
    assert _found(text) == expected


@pytest.mark.parametrize(("text", "entity"), [
    ("invoice 4111 1111 1111 1112", "CREDIT_CARD"),  # Luhn fails
    ("SSN 078-05-1120 (a published example) and 666-12-3456", "US_SSN"),
    ("NINO FQ 00 00 00 C", "UK_NINO"), ("Steuer-ID 11112345678", "DE_TAX_ID"),
    ("a date 12/03/1980 without context", "DATE_OF_BIRTH"), ("version 1.2.3.4.5 and 10:30:45", "IP_ADDRESS"),
    ("a nine-digit number 111222333 with no context word", "NL_BSN"), ("IBAN GB05QJZO19199608871269", "IBAN_CODE"),
])
def test_lookalikes_that_fail_their_checks_are_not_reported_as_that_entity(text, entity):
    assert entity not in {e for e, _ in _found(text, DEFAULT_ENTITIES)}


def test_allow_listed_values_are_not_reported():
    text = "write to support@example.com or jane@example.com"
    assert _found(text, allow_list=["SUPPORT@example.com"]) == [("EMAIL_ADDRESS", "jane@example.com")]


def test_healthcare_and_pci_entities_need_their_mode():
    found = {e for e, _ in _found("NPI 1234567893 cvv 123, MRN: A-123456", DEFAULT_ENTITIES)}
    assert not found & {"US_NPI", "CARD_CVV", "MEDICAL_RECORD_NUMBER"}


@pytest.mark.parametrize(("text", "expected"), [
    ("596 38 1528\t07700-900748", [("US_SSN", "596 38 1528"), ("PHONE_NUMBER", "07700-900748")]),
    ("+44 20 7946 0329\t121.16.8664", [("PHONE_NUMBER", "+44 20 7946 0329"), ("US_SSN", "121.16.8664")]),
    ("870  58  6383 212 555 0177", [("US_SSN", "870  58  6383"), ("PHONE_NUMBER", "212 555 0177")]),
    ("DE12  7529  9357  8955  9595  54\t07700.900226", [("IBAN_CODE", "DE12  7529  9357  8955  9595  54"),
                                                       ("PHONE_NUMBER", "07700.900226")]),
    ("212 555 0160 613 - 75 - 3523", [("PHONE_NUMBER", "212 555 0160"), ("US_SSN", "613 - 75 - 3523")]),
    ("John Doe\t07700 900123\t078-05-1121", [("PHONE_NUMBER", "07700 900123"), ("US_SSN", "078-05-1121")]),
    ("EUR\t(212) 555-0141\t2024-03-17", [("PHONE_NUMBER", "(212) 555-0141")]),
    ("EUR\t07700 900822\t4997.60", [("PHONE_NUMBER", "07700 900822")]),
    ("28109 07700 900190 83895", [("PHONE_NUMBER", "07700 900190")]),
    ("4111 1111 1111 1111\t212-555-0142", [("CREDIT_CARD", "4111 1111 1111 1111"), ("PHONE_NUMBER", "212-555-0142")]),
    ("12 345 678 903 212-555-0142", [("DE_TAX_ID", "12 345 678 903"), ("PHONE_NUMBER", "212-555-0142")]),
    ("5755.33 (212) 555-0136 3598.88", [("PHONE_NUMBER", "(212) 555-0136")]),
])
@pytest.mark.parametrize("prefilter", [True, False])
def test_a_phone_number_one_space_or_tab_from_another_value_is_found_with_it(text, expected, prefilter):
    """A table's columns, pasted: the phone pattern reads on across the gap (numbers are grouped by spaces), and
    the longer match, refused or losing to the value beside it, no longer takes the phone number with it."""
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == expected


def test_a_match_bridging_two_card_numbers_gives_way_to_both():
    """The last group of one card number and the first three of the next can pass the Luhn check together."""
    text = "cards 4443  4894  0591  4567 4376 9616 1844 9673 ok"
    for prefilter in (True, False):
        assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [
            ("CREDIT_CARD", "4443  4894  0591  4567"), ("CREDIT_CARD", "4376 9616 1844 9673")]


@pytest.mark.parametrize(("text", "names"), [
    ("My name is John Smith.", ["John Smith"]),
    ("Hi, I am Maria Garcia", ["Maria Garcia"]),
    ("NAME: Ada Lovelace", ["Ada Lovelace"]),
    ("Contact Mr. Brown or MRS. Green today", ["Brown", "Green"]),
    ("Herr Dr. Karl Meier und Frau Anna Schulz", ["Karl Meier", "Anna Schulz"]),  # a title is not a name
    ("Señora López llamó", ["López"]),
    ("my name is not important", []),  # the name itself is capitalised
    ("Drive 10 miles to Mrsville", []),  # a cue is a whole word
])
def test_persons_are_found_after_a_cue_in_any_case(text, names):
    assert [value for entity, value in _found(text, DEFAULT_ENTITIES) if entity == "PERSON"] == names


@pytest.mark.parametrize(("text", "name"), [
    ("Mr. Pavlović flew to Split", "Pavlović"),  # letters of any script
    ("Please ask Mr. Richard McCray", "Richard McCray"),
    ("I'm Jaroslava P. Sedláčková, the owner", "Jaroslava P. Sedláčková"),  # an initial
    ("My name is Ruth R Montez.", "Ruth R Montez"),
    ("Mrs. Barbara Yudina Apt. 675 62314 Melbourne", "Barbara Yudina"),  # the address line is not the name
    ("I'm Amanda's daughter", "Amanda"),  # a possessive is not part of the name
    ("Mr. O'Brien and Anne-Marie", "O'Brien"),
    ("My name is Smith. Then we left", "Smith"),  # a sentence ends the name
])
def test_a_name_after_a_cue_is_cut_where_the_name_ends(text, name):
    assert [value for entity, value in _found(text, DEFAULT_ENTITIES) if entity == "PERSON"] == [name]


@pytest.mark.parametrize("prefilter", [True, False])
@pytest.mark.parametrize(("text", "entity", "value"), [
    ("İİİİİİ contact jane@example.com", "EMAIL_ADDRESS", "jane@example.com"),
    ("İİİİ born 12/03/1985", "DATE_OF_BIRTH", "12/03/1985"),
    ("İ" * 66 + " passport C01X00T47", "PASSPORT", "C01X00T47"),
    ("İSTANBUL office, my name is Ali Veli", "PERSON", "Ali Veli"),
])
def test_characters_that_lower_case_to_two_do_not_move_context_windows(text, entity, value, prefilter):
    """U+0130 lower-cases to two characters; a run of them before a value used to hide its context word."""
    found = _found(text, DEFAULT_ENTITIES, prefilter=prefilter)
    assert (entity, value) in found


def _script(text: str, zero: int) -> str:
    """``text`` with its ASCII digits written in the script whose zero is ``zero``."""
    return "".join(chr(zero + int(c)) if c.isascii() and c.isdigit() else c for c in text)


@pytest.mark.parametrize("prefilter", [True, False])
@pytest.mark.parametrize(("text", "entity"), [
    ("card 4111 1111 1111 1111", "CREDIT_CARD"),
    ("call +44 20 7946 0958", "PHONE_NUMBER"),
    ("SSN 219-09-9934", "US_SSN"),
    ("IBAN GB82 WEST 1234 5698 7654 32", "IBAN_CODE"),
])
@pytest.mark.parametrize("zero", [0x660, 0x6F0, 0x966, 0x9E6, 0xFF10])  # Arabic-Indic, Persian, Devanagari...
def test_digits_of_other_scripts_are_read_as_digits(text, entity, zero, prefilter):
    written = _script(text, zero)
    found = Detector(DEFAULT_ENTITIES, prefilter=prefilter).detect(written)
    assert [(f.entity, f.start, f.end) for f in found] == [
        (f.entity, f.start, f.end) for f in Detector(DEFAULT_ENTITIES, prefilter=prefilter).detect(text)]
    assert any(f.entity == entity for f in found)


@pytest.mark.parametrize("prefilter", [True, False])
@pytest.mark.parametrize("hidden", [
    "\u200b", "\u00ad", "\u2060", "\u202e", "\u2066", "\u061c", "\ufe0f", "\U000e0041", "\u034f", "\u3164",
    "\u2800",
])  # zero-width, soft hyphen, word joiner, bidi override and isolate, Arabic letter mark, variation selector,
#     tag, combining grapheme joiner, Hangul filler, braille blank
def test_invisible_characters_inside_a_value_do_not_hide_it(hidden, prefilter):
    for value, entity in (("4111 1111 1111 1111", "CREDIT_CARD"), ("jane.roe@example.com", "EMAIL_ADDRESS")):
        written = value[:4] + hidden + value[4:8] + hidden + value[8:]
        assert _found(f"see {written} now", DEFAULT_ENTITIES, prefilter=prefilter) == [(entity, written)]


@pytest.mark.parametrize("prefilter", [True, False])
@pytest.mark.parametrize("written", [
    "4111.1111.1111.1111", "3782.822463.10005",  # groups joined by dots
    "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "4-2-4-2-4-2-4-2-4-2-4-2-4-2-4-2", "4.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1",
])
def test_card_numbers_written_apart_are_found(written, prefilter):
    text = f"card {written}, thanks"
    found = _found(text, DEFAULT_ENTITIES, prefilter=prefilter)
    assert found == [("CREDIT_CARD", written)]


@pytest.mark.parametrize("text", ["items 1 2 3 4 5 6 7 8 9 1 0 1", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 2", "1.2.3.4"])
def test_digits_apart_that_fail_the_card_checks_are_not_cards(text):
    assert all(f.entity != "CREDIT_CARD" for f in Detector(DEFAULT_ENTITIES).detect(text))


_DASHES = ["\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\ufe63"]
_SPACES = ["\t", "\u1680", "\u2009", "\u202f", "\u2007", "\u3000", "\u00a0"]


@pytest.mark.parametrize("prefilter", [True, False])
@pytest.mark.parametrize(("value", "entity", "separator", "other"), [
    *((value, entity, "-", dash) for value, entity in (("4111-1111-1111-1111", "CREDIT_CARD"),
                                                        ("219-09-9934", "US_SSN"), ("415-555-0188", "PHONE_NUMBER"))
      for dash in _DASHES),
    *((value, entity, " ", space) for value, entity in (("4111 1111 1111 1111", "CREDIT_CARD"),
                                                         ("+44 20 7946 0958", "PHONE_NUMBER"))
      for space in _SPACES),
])
def test_numbers_joined_by_any_dash_or_spaced_by_any_space_are_found_as_written(value, entity, separator, other,
                                                                                prefilter):
    """Other dashes are read as hyphens and other spaces as spaces: the number is found, over the characters
    as written."""
    written = value.replace(separator, other)
    assert _found(f"the number {written} now", DEFAULT_ENTITIES, prefilter=prefilter) == [(entity, written)]


@pytest.mark.parametrize("prefilter", [True, False])
@pytest.mark.parametrize("address", ["jane@exämple.de", "ann@bücher.example.com", "olga@почта.рф", "li@例子.广告",
                                     "jane@xn--exmple-cua.de"])
def test_email_addresses_with_domains_in_any_script_are_found(address, prefilter):
    text = f"write to {address}, please"
    found = _found(text, DEFAULT_ENTITIES, prefilter=prefilter)
    assert found == [("EMAIL_ADDRESS", address)]


@pytest.mark.parametrize("prefilter", [True, False])
@pytest.mark.parametrize(("text", "phone"), [
    ("Telefon 030/1234567 bitte", "030/1234567"), ("Tel. 089 / 12 34 56", "089 / 12 34 56"),
    ("Fax 0221/987-6543.", "0221/987-6543"), ("Az. 012/2024", None), ("am 01/02/2024", None),
])
def test_national_numbers_with_the_area_code_set_off_by_a_slash_are_phones(text, phone, prefilter):
    found = [value for entity, value in _found(text, DEFAULT_ENTITIES, prefilter=prefilter) if entity == "PHONE_NUMBER"]
    assert found == ([phone] if phone else [])


@pytest.mark.parametrize("prefilter", [True, False])
@pytest.mark.parametrize(("text", "address"), [
    ("974 Via Roma 131\n Apt. 425", "Via Roma 131"), ("Rue de Virton 38, Ettelgem", "Rue de Virton 38"),
    ("Rua Cyro Schmutzer Franco 1213 Apt. 204", "Rua Cyro Schmutzer Franco 1213"),
    ("at 6108 Friedhofstrasse 33 Suite 979", "Friedhofstrasse 33"), ("Hauptstr. 5, Berlin", "Hauptstr. 5"),
    ("Brucker Bundesstrasse 31 Zezig", "Brucker Bundesstrasse 31"), ("41086 Kiannonkatu 98\n", "Kiannonkatu 98"),
    ("During 1971, the company grew", None), ("sent via DHL 3 days ago", None), ("Aggregate 3 rows", None),
])
def test_streets_named_before_their_number_are_addresses(text, address, prefilter):
    found = [value for entity, value in _found(text, DEFAULT_ENTITIES, prefilter=prefilter)
             if entity == "STREET_ADDRESS"]
    assert found == ([address] if address else [])


@pytest.mark.parametrize("prefilter", [True, False])
def test_a_number_laid_out_as_an_ssn_is_an_ssn_or_nothing_never_a_phone(prefilter):
    text = "SSN 219-09-9999 (a published sample), SSN 536-22-8726, call 415-555-0188"
    assert _found(text, DEFAULT_ENTITIES, prefilter=prefilter) == [
        ("US_SSN", "536-22-8726"), ("PHONE_NUMBER", "415-555-0188")]
