"""Validators written out for speed give python-stdnum's answers; the phone checks keep their meaning."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban, luhn

from lanegate.pii import validators as v

DIGIT_STRINGS = st.text("0123456789", min_size=1, max_size=24)


@settings(max_examples=2000, deadline=None)
@given(DIGIT_STRINGS)
def test_luhn_check_answers_as_python_stdnum_does(number):
    assert v.luhn_valid(number) == luhn.is_valid(number)


@given(st.text(max_size=20))
def test_luhn_check_refuses_anything_but_ascii_digits(text):
    if not (text.isascii() and text.isdigit()):
        assert not v.luhn_valid(text)


def test_known_card_numbers_pass_and_one_changed_digit_fails():
    for number in ("4242424242424242", "4111111111111111", "5555555555554444", "378282246310005"):
        assert v.credit_card(number)
        assert not v.credit_card(number[:-1] + str((int(number[-1]) + 1) % 10))
    assert v.credit_card("4111-1111-1111-1111") and v.credit_card("4111 1111 1111 1111")
    assert not v.credit_card("4111\u0661111111111111")  # an Arabic-Indic digit is not a card digit


@settings(max_examples=2000, deadline=None)
@given(st.text("0123456789 -./\t", min_size=1, max_size=26) | st.text("0123456789 -٣x\u00a0\u2028", max_size=22)
       | st.sampled_from(["4111 1111 1111 1111", "4242424242424242", "4111111111111", "5111111111111",
                          "4111\u00a01111\u00a01111\u00a01111", "4111\u20281111 1111 1111"]))
def test_the_card_check_answers_as_its_rule_is_written(value):
    """12 to 19 digits once separators are gone, 13 only for Visa (a 4 first), not all one digit, Luhn."""
    number = v.digits(value)
    expected = (12 <= len(number) <= 19 and not (len(number) == 13 and number[0] != "4")
                and len(set(number)) > 1 and luhn.is_valid(number) and number.isascii())
    assert v.credit_card(value) == expected, repr(value)


def _iban_like(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(["GB", "DE", "FR", "NL", "ES", "IT", "BE", "XX", "gb"]))
    body = draw(st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=10, max_size=30))
    check = draw(st.integers(0, 99))
    return f"{country}{check:02d}{body}"


@settings(max_examples=2000, deadline=None)
@given(st.composite(_iban_like)() | st.text("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -é", max_size=34))
def test_iban_check_answers_as_python_stdnum_does(value):
    assert v.iban_code(value) == iban.is_valid(v.digits(value).upper())


def test_real_ibans_pass_and_a_changed_check_digit_fails():
    for value in ("GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "NL91ABNA0417164300"):
        assert v.iban_code(value)
        assert not v.iban_code(value[:2] + "00" + value[4:])


@pytest.mark.parametrize(("value", "kept"), [
    ("ES91 2100 0418 4502 0005 1332 to", "ES91 2100 0418 4502 0005 1332"),  # 24: six groups of four
    ("be71-0961-2345-6769-abc", "be71-0961-2345-6769"),  # country codes in either case
    ("BE71  0961  2345  6769 a", "BE71  0961  2345  6769"),
    ("GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32"),  # exactly its length
    ("GB82 WEST 1234 5698 7654", "GB82 WEST 1234 5698 7654"),  # shorter: the check refuses it
    ("XX82 WEST 1234 5698 7654 32 ab", "XX82 WEST 1234 5698 7654 32 ab"),  # no such country: left whole
    ("BE71096123456769abc", "BE71096123456769abc"),  # runs on without a separator: left whole
])
def test_an_iban_match_is_cut_to_its_countrys_length_where_a_separator_follows(value, kept):
    assert value[: v.iban_extent(value)] == kept


def test_iban_lengths_come_from_the_registry_for_every_country_it_knows():
    assert len(v._IBAN_LENGTHS) > 70
    assert [v._IBAN_LENGTHS[country] for country in ("DE", "BE", "NO", "MT")] == [22, 16, 15, 31]


def test_ssn_digits_check_ignores_separators_and_keeps_the_ssa_rules():
    assert v.us_ssn_digits("536 - 90 - 4399") and v.us_ssn_digits("536_90_4399")
    assert not v.us_ssn("536 - 90 - 4399")  # spaces and dashes: the strict rule's mixed separators
    for value in ("666 - 90 - 4399", "936_90_4399", "536 - 00 - 4399", "536/90/0000", "078 - 05 - 1120"):
        assert not v.us_ssn_digits(value)


def test_a_number_after_a_word_naming_another_kind_of_number_is_not_a_phone_in_any_case():
    text = "Invoice No. 5550142 and ORDER 5551234 and call 5550188"
    for word in ("5550142", "5551234"):
        start = text.index(word)
        assert not v.phone_in_place(text, start, start + len(word))
    start = text.index("5550188")
    assert v.phone_in_place(text, start, start + 7)


def test_date_shaped_numbers_are_not_phones_and_dashed_numbers_are():
    assert not v.phone("12-03-1985") and not v.phone("1985/03/12") and not v.phone("03.12.1985")
    assert v.phone("415-555-0188") and v.phone("(212) 555-0142") and v.phone("+44 20 7946 0958")


def test_a_number_laid_out_as_a_us_ssn_is_not_a_phone():
    assert not v.phone("219-09-9999") and not v.phone("078-05-1120") and not v.phone("911-89-1234 x12")
    assert v.phone("219 09 9999") and v.phone("219-099-999") and v.phone("+1 219-09-9999")


def _phone_as_documented(value: str) -> bool:
    """The phone rule written plainly: 7 to 15 digits (8 with a country code), not a date, a postal code or a
    ZIP code with a house number, not a dotted address, not a bare run of fewer than ten digits, not laid out as
    a US SSN (ddd-dd-dddd), and more than one distinct character once separators and the outer + ( ) are gone."""
    number = re.sub(r"\s?(?:x|ext\.?)\s?\d+$", "", value, flags=re.IGNORECASE)
    count = sum(map(str.isdigit, number))
    if not 7 <= count <= 15 or (number.startswith("+") and count < 8):
        return False
    separators = number.count("-") + number.count(".") + number.count("/")
    if separators > 1 and v._DATE_LIKE.search(number):
        return False
    if re.match(r"^\d{4,5}-\d{3}$", number) or re.match(r"^\d{5} \d{1,4}$", number):
        return False
    if number.count(".") == 3 and "(" not in number and " " not in number:
        return False
    if number.isdigit() and count < 10:
        return False
    if re.fullmatch(r"\d{3}-\d{2}-\d{4}", number):
        return False
    return len(set(re.sub(r"[\s.\-/]", "", number).strip("+()"))) > 1


@settings(max_examples=2000, deadline=None)
@given(st.text("0123456789 -./()+xext\n\t", min_size=1, max_size=22)
       | st.lists(st.sampled_from(["+44", "(212)", "555", "0142", "-", " ", ".", "/", "12", "1985", "x12", " ext. 9",
                                   "1111111", "00000", "-123", "219-09-", "9999", "\n", "\u00a0", "٤١٥", "\u2028x12"]),
                  max_size=8).map("".join))
def test_the_phone_check_answers_as_its_rule_is_written(value):
    number = re.sub(r"\s?(?:x|ext\.?)\s?\d+$", "", value, flags=re.IGNORECASE)
    expected = _phone_as_documented(value) if number.isascii() else False  # matches in normalised text are ASCII
    assert v.phone(value) == expected, repr(value)


@given(st.lists(st.integers(0, 999), min_size=4, max_size=4), st.lists(st.integers(1, 3), min_size=4, max_size=4))
def test_the_ipv4_check_takes_four_numbers_up_to_255_padded_or_not(octets, widths):
    value = ".".join(str(n).zfill(w) for n, w in zip(octets, widths, strict=True))
    assert v.ipv4(value) == all(n <= 255 and len(str(n).zfill(w)) <= 3 for n, w in zip(octets, widths, strict=True))


def test_the_ipv4_check_agrees_with_the_standard_library_where_no_octet_is_padded():
    import ipaddress

    for value in ["0.0.0.0", "10.0.0.1", "255.255.255.255", "192.168.1.17", "256.0.0.1", "1.2.3", "1.2.3.4.5"]:
        try:
            ipaddress.IPv4Address(value)
            expected = True
        except ValueError:
            expected = False
        assert v.ipv4(value) == expected


@pytest.mark.parametrize(("value", "kept"), [
    ("212 555 0142 212 555 0199", "212 555 0142"),
    ("07700 900123 07700 900456", "07700 900123"),
    ("020 7946 0958 0161 496 0000", "020 7946 0958"),
    ("212 555 0142", "212 555 0142"),  # short: whole
    ("555 0142 555 0199", "555 0142 555 0199"),  # fifteen digits or fewer: whole, one number may hold them
    ("1234 5678 9012 3456", "1234 5678 9012 3456"),  # groups of one size: never cut
    ("212-555-0142 212-555-0199", "212-555-0142"),  # groups with separators of their own: numbers of their own
    ("596 38 1528 07700-900748", "596 38 1528"),  # a table's columns: an SSN, then a phone number
    ("596 38 1528 212.555.0117", "596 38 1528"),
    ("07700-900970 469 30 7322", "07700-900970"),
    ("+44 20 7946 0721 212-555-0125", "+44 20 7946 0721"),
    ("07700-900363 07700-900853", "07700-900363"),  # one size, but not groups of digits alone
    ("2024 1234 07700 900123", "2024 1234"),  # a phone number with a trunk 0 after other numbers
    ("07700 900123 078-05-1121", "07700 900123"),  # a national number, then an SSN
    ("(212) 555-0141 2024-03-17", "(212) 555-0141"),  # a national number, then a date
    ("07700 900221 216 1894", "07700 900221"),  # the fewest groups holding a whole number
    ("28109 07700 900190 83895", "28109"),  # before a trunk 0 that begins a number, however long the rest
    ("7499.90 85 2837.03 43", "7499.90 85 2837.03 43"),  # prices and counts: a layout repeats in digits alone
    ("123 456 7890 123 456 7890 12", "123 456 7890"),  # the layout starts again, then more digits
    ("+44 20 7946 0958 1234", "+44 20 7946 0958"),  # international form: the most groups that are a number
    ("+442079460958 1234", "+442079460958"),
    ("+1 212 555 0142 2024", "+1 212 555 0142 2024"),  # fifteen digits: whole
])
def test_a_spaced_phone_match_holding_two_numbers_is_cut_after_the_first(value, kept):
    assert value[: v.phone_extent(value)] == kept


@given(st.lists(st.text("0123456789", min_size=1, max_size=6), min_size=1, max_size=6))
def test_a_phone_match_is_cut_only_at_a_space_before_a_phone_number_or_after_one(groups):
    value = " ".join(groups)
    length = v.phone_extent(value)
    if length == len(value):
        return
    rest = value[length + 1 :]
    begins_a_number = rest.startswith("0") and v.phone(rest[: v.phone_extent(rest)])  # its own extent, whole or cut
    assert value[length] == " " and (v.phone(value[:length]) or begins_a_number)
    assert sum(map(len, groups)) > 15 and len({len(g) for g in groups}) > 1


@given(st.lists(st.text("0123456789", min_size=1, max_size=6), min_size=1, max_size=6))
def test_an_international_phone_match_is_cut_only_at_a_space_and_only_to_a_phone_number(groups):
    value = "+" + " ".join(groups)
    length = v.phone_extent(value)
    if length != len(value):
        assert value[length] == " " and v.phone(value[:length]) and sum(map(len, groups)) > 15
