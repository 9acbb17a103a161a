"""Presidio's recognizer test cases for the identifiers Lanegate detects (shared/data/pii), run against the
detector: a positive case must be found as the mapped entity at the expected span, a negative case must not
be reported as that entity. The few cases where Lanegate decides differently on purpose are listed with why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lanegate.pii import ALL_ENTITIES, Detector

CASES = Path(__file__).resolve().parents[3] / "shared" / "data" / "pii" / "presidio-recognizer-tests" / \
    "presidio_recognizer_test_cases.json"
ENTITY = {"CREDIT_CARD": "CREDIT_CARD", "EMAIL_ADDRESS": "EMAIL_ADDRESS", "IP_ADDRESS": "IP_ADDRESS",
          "US_SSN": "US_SSN", "US_ITIN": "US_ITIN", "UK_NINO": "UK_NINO", "UK_NHS": "UK_NHS", "DE_TAX_ID": "DE_TAX_ID",
          "ES_NIE": "ES_NIE", "ES_NIF": "ES_DNI", "IT_FISCAL_CODE": "IT_FISCAL_CODE", "US_NPI": "US_NPI",
          "UK_PASSPORT": "PASSPORT", "US_PASSPORT": "PASSPORT"}
PHONE_FILE = "test_phone_recognizer.py"
DIFFERENT_ON_PURPOSE = {
    "192.168.1.1.1": "an address is not cut out of a longer dotted run (that reads as a version number)",
    "AAAAAA00B11C333N": "the codice fiscale's check letter is verified (only one of ...Y and ...N can be right)",
    "AAAAAA00B11C333Y and AAAAAA00B11C333N": "the same check letter",
    "My US number is (415) 555-0132, and my international one is415-555-0132": "a number glued to a word",
    "Here is my National Insurance Number YZ 61 48 68 B": "the span starts at the number, not the space before",
    "ABC123456": "three letters and six digits is a Spanish passport's shape, reported as PASSPORT",
    "A12345678": "one letter and eight digits is a US passport's shape, reported as PASSPORT",
    "912803456": "nine bare digits are a passport number only next to a word that says so",
}


def _cases() -> list[dict]:
    out = []
    for case in json.loads(CASES.read_text(encoding="utf-8")):
        entities = case["entities"] or []
        entity = "PHONE_NUMBER" if case["source_file"] == PHONE_FILE else (
            ENTITY.get(entities[0]) if len(entities) == 1 else None)
        if entity is not None:
            out.append({**case, "ours": entity})
    return out


CASE_LIST = _cases()
DETECTOR = Detector(ALL_ENTITIES)


@pytest.mark.parametrize("case", CASE_LIST, ids=[f"{c['source_file'][5:-14]}:{c['text'][:30]}" for c in CASE_LIST])
def test_presidio_recognizer_case(case):
    if case["text"] in DIFFERENT_ON_PURPOSE and not (case["source_file"] == PHONE_FILE
                                                     and case["expected_len"] == 1):
        pytest.skip(DIFFERENT_ON_PURPOSE[case["text"]])
    found = [(f.start, f.end) for f in DETECTOR.detect(case["text"]) if f.entity == case["ours"]]
    if case["expected_len"] == 0:
        assert found == []
    elif case.get("expected_positions"):
        for start, end in case["expected_positions"]:
            assert (start, end) in found
    else:
        assert len(found) >= case["expected_len"]


def test_the_cases_cover_every_identifier_family_and_few_differ_on_purpose():
    families = {c["ours"] for c in CASE_LIST}
    assert families >= {"CREDIT_CARD", "EMAIL_ADDRESS", "IP_ADDRESS", "US_SSN", "US_ITIN", "UK_NINO", "UK_NHS",
                        "DE_TAX_ID", "ES_NIE", "ES_DNI", "IT_FISCAL_CODE", "US_NPI", "PASSPORT", "PHONE_NUMBER"}
    assert len(CASE_LIST) >= 200
