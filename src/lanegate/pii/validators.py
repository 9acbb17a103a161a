"""Checksums and format rules that confirm a candidate is the identifier it looks like.

Each validator takes the candidate as matched (separators included) and answers ``True`` or ``False``; none
raises. Where python-stdnum has the scheme, it is used; the few rules it lacks are written out with their
source named.
"""

from __future__ import annotations

import ipaddress
import re

from stdnum import iban, numdb
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale
from stdnum.nl import bsn

_SEPARATORS = re.compile(r"[\s.\-/_]")
# what digits() removes from ASCII text: the ASCII characters \s matches, and . - / _
_ASCII_SEPARATORS = b" \t\n\r\f\v\x1c\x1d\x1e\x1f.-/_"
# Numbers published as examples or never issued (SSA: area 000, 666, 900-999; group 00; serial 0000).
_SSN_SAMPLES = frozenset({"078051120", "219099999", "457555462"})
# HMRC: the first letter is not D, F, I, Q, U or V; the second not D, F, I, O, Q, U or V; these pairs are unused.
_NINO = re.compile(r"^(?![DFIQUV])[A-Z](?![DFIOQUV])[A-Z]\d{6}[A-D]$")
_NINO_UNUSED = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def digits(value: str) -> str:
    """``value`` without separators (spaces, dots, dashes, slashes)."""
    return _SEPARATORS.sub("", value)


# each byte of an ASCII digit doubled, its two digits added (other bytes: 0)
_DOUBLED = bytes(sum(divmod(2 * (byte - 48), 10)) if 48 <= byte <= 57 else 0 for byte in range(256))


def luhn_valid(number: str) -> bool:
    """The Luhn check (ISO/IEC 7812-1) of a string of ASCII digits — what ``stdnum.luhn.is_valid`` answers for
    one, in a seventh of its time (it is on the request path for every card-shaped number), by summing bytes;
    anything else is not valid."""
    if not (number.isascii() and number.isdigit()):
        return False
    return _luhn(number.encode("ascii"))


def _luhn(data: bytes) -> bool:
    """The Luhn check of ASCII digits."""
    kept = data[-1::-2]
    total = sum(kept) - 48 * len(kept) + sum(data[-2::-2].translate(_DOUBLED))
    return total % 10 == 0


def credit_card(value: str) -> bool:
    if value.isascii():  # as normalised text has them: bytes, whose separators are deleted by one C loop
        data = value.encode("ascii").translate(None, _ASCII_SEPARATORS)
    else:  # separators of other scripts' white space; the digits themselves must be ASCII
        number = digits(value)
        if not number.isascii():
            return False
        data = number.encode("ascii")
    if not 12 <= len(data) <= 19 or (len(data) == 13 and data[0] != 0x34):  # 13 digits: Visa (4) only
        return False
    return data.count(data[:1]) != len(data) and data.isdigit() and _luhn(data)


def iban_code(value: str) -> bool:
    number = digits(value).upper()
    # the ISO 7064 MOD 97-10 check first: it turns away most IBAN-shaped words at a hundredth of the cost of
    # python-stdnum's full check (country, length and BBAN structure), which then decides
    if not (number.isascii() and number.isalnum() and len(number) > 4):
        return False
    if int("".join(str(int(char, 36)) for char in number[4:] + number[:4])) % 97 != 1:
        return False
    return iban.is_valid(number)


# each country's IBAN length in letters and digits (python-stdnum's registry: two letters, two check digits and a
# BBAN whose structure, "4!n4!n1!n1!n10!n", gives its length)
_IBAN_LENGTHS = {country: 4 + sum(int(count) for count in re.findall(r"(\d+)!", properties["bban"]))
                 for _, country, _, properties, _ in numdb.get("iban").prefixes if properties.get("bban")}


def iban_extent(value: str) -> int:
    """How much of an IBAN-shaped match is the IBAN: as many letters and digits as its country's IBANs have, where
    a separator follows them. A shape that reads groups of four and a shorter last group otherwise takes in a short
    word after a number whose length leaves no shorter group ("ES91 2100 0418 4502 0005 1332 to me"), and the
    number, failing its check with the word, goes unfound. The whole value when the country is unknown, the value
    is shorter, or letters and digits go on without a separator (the check then decides)."""
    wanted = _IBAN_LENGTHS.get(value[:2].upper())
    if wanted is None or len(value) <= wanted:
        return len(value)
    count = 0
    for index, char in enumerate(value):
        if char.isalnum():
            count += 1
            if count == wanted:
                return len(value) if value[index + 1 : index + 2].isalnum() else index + 1
    return len(value)


def ip_address(value: str) -> bool:
    candidate = value.strip("[]").split("%", 1)[0]
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    return True


def us_ssn(value: str) -> bool:
    separators = {c for c in value if not c.isdigit()}
    if len(separators) > 1:  # 078-05.1120: mixed separators are not how an SSN is written
        return False
    return us_ssn_digits(value)


def us_ssn_digits(value: str) -> bool:
    """The SSA's rules on an SSN's digits, whatever stands between its groups (for a pattern that asks the same
    run of separators of both gaps itself: "078 - 05 - 1121")."""
    number = digits(value)
    if len(number) != 9 or not number.isdigit() or number in _SSN_SAMPLES or len(set(number)) == 1:
        return False
    area, group, serial = number[:3], number[3:5], number[5:]
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


def us_itin(value: str) -> bool:
    """IRS: nine digits, 9 first, the fourth and fifth in 50-65, 70-88, 90-92 or 94-99."""
    number = digits(value)
    if len(number) != 9 or not number.isdigit() or number[0] != "9":
        return False
    group = int(number[3:5])
    return 50 <= group <= 65 or 70 <= group <= 88 or 90 <= group <= 92 or 94 <= group <= 99


def uk_nino(value: str) -> bool:
    compact = digits(value).upper()
    return bool(_NINO.match(compact)) and compact[:2] not in _NINO_UNUSED


def uk_nhs(value: str) -> bool:
    return nhs.is_valid(digits(value))


def de_tax_id(value: str) -> bool:
    """Steuer-IdNr: eleven digits, no leading zero, no digit more than three times in the first ten, and the
    ISO 7064 MOD 11,10 check digit (the repetition rule of later issues is not required: older numbers
    remain valid)."""
    number = digits(value)
    if len(number) != 11 or not number.isdigit() or number[0] == "0":
        return False
    if max(number[:10].count(d) for d in set(number[:10])) > 3:
        return False
    return mod_11_10.is_valid(number)


def fr_nir(value: str) -> bool:
    return nir.is_valid(digits(value).upper())


def es_dni(value: str) -> bool:
    compact = digits(value).upper()
    return dni.is_valid(compact.zfill(9))


def es_nie(value: str) -> bool:
    return nie.is_valid(digits(value).upper())


def it_fiscal_code(value: str) -> bool:
    return codicefiscale.is_valid(value.upper())


def nl_bsn(value: str) -> bool:
    return bsn.is_valid(digits(value))


def us_npi(value: str) -> bool:
    """CMS: ten digits starting 1 or 2 whose Luhn check, computed with the prefix 80840, holds."""
    number = digits(value)
    if len(number) != 10 or number[0] not in "12" or len(set(number[:-1])) == 1:
        return False
    return luhn_valid("80840" + number)


_DATE_LIKE = re.compile(r"(?:^|\D)(?:(0?[1-9]|[12]\d|3[01])[./-](0?[1-9]|1[0-2])[./-](?:\d{2}|\d{4})"
                        r"|(?:19|20)\d{2}[./-](0?[1-9]|1[0-2])[./-](0?[1-9]|[12]\d|3[01]))(?:\D|$)")
# a ZIP code and a house number, or a PT or BR postal code
_ZIP_OR_POSTAL = re.compile(r"^(?:\d{5} \d{1,4}|\d{4,5}-\d{3})$")
# matched on lower-cased text (several times faster than IGNORECASE, which defeats the engine's first-character skip)
_NOT_A_PHONE_BEFORE = re.compile(r"(?:apt|apartment|suite|unit|no|licen[cs]e|account|order|invoice|policy|ref|zip|"
                                 r"postal|postcode|plz|id)(?:\s+(?:number|no\.?|#|id))?(?:\s+(?:is|was))?\W{0,4}$")
_STREET_AFTER = re.compile(r"^,?[ \t]{1,4}(?:[A-Z][a-zà-ÿ]|(?i:(?:[a-z]+ )?(?:avenue|street|road|lane|drive|way|rue|"
                           r"via|calle)\b))")
_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d+$", re.IGNORECASE)
_MOST_PHONE_DIGITS = 15  # E.164


def phone(value: str) -> bool:
    """A plausible phone number: 7 to 15 digits (8 to 15 with a country code), not shaped like a date, a dotted
    address or a US social security number (``ddd-dd-dddd``: no numbering plan writes a phone number so; the SSN
    rule decides about those), and not a single run of digits shorter than ten (a bare count or code). Its
    characters are ASCII once an extension is set aside, as a match in normalised text has them (other scripts'
    digits are folded before detection); anything else is not taken for a phone number."""
    number = _EXTENSION.sub("", value) if "x" in value or "X" in value else value
    if not number.isascii():  # the patterns' digits are ASCII in normalised text; anything else is not a phone
        return False
    data = number.encode("ascii")  # bytes: deleting characters is a C loop, not a look-up per character
    others = data.translate(None, b"0123456789")
    count = len(data) - len(others)
    if not 7 <= count <= _MOST_PHONE_DIGITS or (number.startswith("+") and count < 8):
        return False
    if count == 9 and len(data) == 11 and data[3] == data[6] == 45:  # ddd-dd-dddd (45: "-")
        return False
    if not others:  # a single run of digits
        return count >= 10 and data.count(data[:1]) != count
    dots = others.count(b".")
    separators = dots + others.count(b"-") + others.count(b"/")  # a date shape has two of them
    if (separators > 1 and _DATE_LIKE.search(number)) or _ZIP_OR_POSTAL.match(number):
        return False
    if dots == 3 and b"(" not in others and b" " not in others:
        return False
    core = data.translate(None, _ASCII_SEPARATORS).strip(b"+()")
    return core.count(core[:1]) != len(core) if core else False


PHONE_CUT_FROM = 17  # the fewest characters that hold 16 digits in two groups or more


def phone_extent(value: str) -> int:
    """How much of a phone-shaped match is the first phone number: all of it, unless its groups (apart by single
    spaces, each digits or digits joined by dots or dashes) hold more digits than one number can (two numbers
    written one after the other, ``212 555 0142 212 555 0199``, which the pattern reads as one and the check
    then refused: neither was found). It is then cut:

    * before the group where the layout of its first groups begins again;
    * for a number in international form, after the most groups that are a phone number (``+44 20 7946 0958
      1234``, ``+44 20 7946 0958 212-555-0142``);
    * before or after a group that is a phone number of ten digits or more with separators of its own
      (``596 38 1528 212.555.0117``, ``07700-900970 469 30 7322``: a table's columns, pasted);
    * before a group starting with the trunk prefix 0 where the rest is a phone number (``596 38 1528
      07700-900748``); where the match begins with one too (``020 7946 0958 0161 496 0000``), or before a
      number of seven digits or more with separators of its own (``07700 900123 078-05-1121``), where the part
      before is a phone number, and of such cuts the one with digit counts closest to even;
    * for a national number (a trunk 0, or an area code in brackets), after the fewest groups that hold ten digits
      or more and are a phone number (``(212) 555-0141 2024-03-17``, ``07700 900221 216 1894``: a pasted table
      again; a few digits of the next column may go with it).

    The rest is read as a match of its own. Groups of digits alone all of one size (``1234 5678 9012 3456``: a
    card or account number that failed its own check) are never cut into phone numbers."""
    if len(value) < PHONE_CUT_FROM or " " not in value:
        return len(value)
    groups = value.split(" ")
    international = value.startswith("+")
    numbers = [groups[0][1:], *groups[1:]] if international else groups
    sizes = [_digits_of_group(group) for group in numbers]
    total = sum(sizes)
    spaced = all(group.isdigit() for group in numbers)  # groups of digits alone, apart by spaces
    if 0 in sizes or total <= _MOST_PHONE_DIGITS or (spaced and len(set(sizes)) == 1):
        return len(value)
    for cut in range(2, len(groups) // 2 + 1 if spaced else 0):  # the first number's layout again: 3-3-4 3-3-4
        if sizes[cut : 2 * cut] == sizes[:cut] and phone(first := " ".join(groups[:cut])):
            return len(first)
    if international:
        for cut in range(len(groups) - 1, 0, -1):
            if phone(first := " ".join(groups[:cut])):
                return len(first)
        return len(value)
    for index, group in enumerate(groups):  # a phone number written with its own separators stands apart
        if sizes[index] >= 10 and not group.isdigit() and phone(group):
            return len(" ".join(groups[:index])) if index else len(group)
    best: tuple[int, int] | None = None
    national = value.startswith(("0", "("))  # a trunk prefix, or an area code in brackets
    for cut in range(1, len(groups)):
        first, rest = " ".join(groups[:cut]), " ".join(groups[cut:])
        # a number with a trunk 0 of its own; after a national number, also one with separators of its own
        apart = rest.startswith("0") and phone(rest[: phone_extent(rest)])  # (a phone number is its own extent)
        if national:
            apart = phone(first) and (apart or (sizes[cut] >= 7 and not groups[cut].isdigit()))
        if apart:
            balance = abs(total - 2 * sum(sizes[:cut]))
            if best is None or balance < best[0]:
                best = (balance, len(first))
    if best is not None:
        return best[1]
    if national:  # the fewest groups that hold a whole number (ten digits or more) and are one
        for cut in range(1, len(groups)):
            if sum(sizes[:cut]) >= 10 and phone(first := " ".join(groups[:cut])):
                return len(first)
    return len(value)


def _digits_of_group(group: str) -> int:
    """How many digits a group of a phone match holds: all of it digits, digits joined by single dots or dashes
    (``212.555.0117``), or an area code in brackets (``(212)``); 0 for anything else (letters, other scripts)."""
    if group.isdigit() and group.isascii():
        return len(group)
    if group.startswith("(") and group.endswith(")"):
        group = group[1:-1]
    pieces = group.replace(".", "-").split("-")
    return sum(map(len, pieces)) if all(p.isdigit() and p.isascii() for p in pieces) else 0


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9]{1,2})"
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def ipv4(value: str) -> bool:
    """A dotted IPv4 address: four numbers up to 255, leading zeros allowed (``192.168.001.010`` is written so
    by some tools; the standard library refuses it, as it does any octet it could read as octal)."""
    return _IPV4.fullmatch(value) is not None


def phone_in_place(text: str, start: int, end: int) -> bool:
    """A short number (at most eight digits, no country code or area code in brackets) is not taken for a
    phone number where it reads as a house or flat number (``Apt. 675 62314``, ``3747 3911 Fourth Avenue``) or
    follows a word naming another kind of number (licence, account, order...)."""
    value = text[start:end]
    if "+" in value or "(" in value or sum(map(str.isdigit, value)) > 8:
        return True
    before = text[max(0, start - 24) : start].lower()
    return not (_NOT_A_PHONE_BEFORE.search(before) or _STREET_AFTER.match(text[end : end + 8]))


def slashed_phone_in_place(text: str, start: int, end: int) -> bool:
    """A number whose area code is set off by a slash has at least five digits after it (``012/2024`` is a
    file reference, ``030/1234567`` a phone number), and stands where a phone number may (:func:`phone_in_place`)."""
    _, _, subscriber = text[start:end].partition("/")
    return sum(map(str.isdigit, subscriber)) >= 5 and phone_in_place(text, start, end)
