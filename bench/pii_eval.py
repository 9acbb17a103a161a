"""PII detection accuracy on the shared labelled sets.

* ``synth_dataset_v2`` (presidio-research): per-entity precision, recall and F1, exact span and overlap, for
  the structured entities (targets: recall >= 0.98, precision >= 0.95) and, honestly, for persons and street
  addresses, which the default install finds from context phrases only (no language model) — and, with
  ``--ner-model`` (a spaCy pipeline; the ``ner`` extra), the same with the named-entity model on;
* Presidio's recognizer test cases for the identifiers Lanegate detects: how many pass.

Writes the figures into docs/benchmarks.md between the ``pii-eval`` markers. Run: ``python bench/pii_eval.py``
(the data is read from ../shared/data/pii beside the repository, or from ``--data``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lanegate.pii import ALL_ENTITIES, DEFAULT_ENTITIES, Detector
from lanegate.pii.evaluation import evaluate, load
from lanegate.pii.ner import load_model
from overhead import ROOT, replace_section

LABELS = {"CREDIT_CARD": "CREDIT_CARD", "PHONE_NUMBER": "PHONE_NUMBER", "EMAIL_ADDRESS": "EMAIL_ADDRESS",
          "IBAN_CODE": "IBAN_CODE", "US_SSN": "US_SSN", "IP_ADDRESS": "IP_ADDRESS", "PERSON": "PERSON",
          "STREET_ADDRESS": "STREET_ADDRESS"}
STRUCTURED = ("CREDIT_CARD", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "PHONE_NUMBER", "US_SSN")
PRESIDIO_ENTITY = {"CREDIT_CARD": "CREDIT_CARD", "EMAIL_ADDRESS": "EMAIL_ADDRESS", "IP_ADDRESS": "IP_ADDRESS",
                   "US_SSN": "US_SSN", "US_ITIN": "US_ITIN", "UK_NINO": "UK_NINO", "UK_NHS": "UK_NHS",
                   "DE_TAX_ID": "DE_TAX_ID", "ES_NIE": "ES_NIE", "ES_NIF": "ES_DNI", "IT_FISCAL_CODE": "IT_FISCAL_CODE",
                   "US_NPI": "US_NPI", "UK_PASSPORT": "PASSPORT", "US_PASSPORT": "PASSPORT"}


def presidio_cases(path: Path) -> tuple[int, int, list[str]]:
    detector = Detector(ALL_ENTITIES)
    passed = failed = 0
    failures = []
    for case in json.loads(path.read_text(encoding="utf-8")):
        entities = case["entities"] or []
        ours = "PHONE_NUMBER" if case["source_file"] == "test_phone_recognizer.py" else (
            PRESIDIO_ENTITY.get(entities[0]) if len(entities) == 1 else None)
        if ours is None:
            continue
        found = [(f.start, f.end) for f in detector.detect(case["text"]) if f.entity == ours]
        if case["expected_len"] == 0:
            ok = not found
        elif case.get("expected_positions"):
            ok = all(tuple(p) in found for p in case["expected_positions"])
        else:
            ok = len(found) >= case["expected_len"]
        passed += ok
        failed += not ok
        if not ok:
            failures.append(f"{case['source_file'][5:-14]}: {case['text'][:60]!r}")
    return passed, failed, failures


def _row(entity: str, row: dict[str, float]) -> str:
    return (f"| {entity} | {row['gold']:.0f} | {row['predicted']:.0f} | {row['precision']:.3f} | "
            f"{row['recall']:.3f} | {row['f1']:.3f} | {row['precision_overlap']:.3f} | {row['recall_overlap']:.3f} |")


def ner_lines(records: list[dict[str, object]], model: str | None) -> list[str]:
    """Persons and places with the named-entity model on (the set's ``GPE`` spans count as ``LOCATION``)."""
    if model is None:
        return ["With the named-entity model (`ner`): not measured in this run (no `--ner-model` given). "
                "Presidio's published default on this set: precision 0.685, recall 0.603 (persons)."]
    detector = Detector(DEFAULT_ENTITIES, model=load_model("spacy", model, frozenset({"PERSON", "LOCATION"})))
    detector.detect("warm up")
    started = time.perf_counter()
    table = evaluate(detector, records, {**LABELS, "GPE": "LOCATION"}).table()
    per_text = (time.perf_counter() - started) / len(records) * 1e3
    return [f"With the named-entity model `{model}` ({per_text:.1f} ms per sentence with the patterns, one core; "
            "Presidio's published default on this set, with spaCy's large English pipeline: precision 0.685, "
            "recall 0.603 for persons):", "",
            "| entity | gold | found | precision | recall | F1 | precision (overlap) | recall (overlap) |",
            "|---|---|---|---|---|---|---|---|",
            *[_row(entity, table[entity]) for entity in ("PERSON", "LOCATION", "STREET_ADDRESS")]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "pii")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--ner-model", help="also score persons and places with this spaCy pipeline")
    args = parser.parse_args()
    records = load(args.data / "presidio-research" / "synth_dataset_v2.unified.jsonl")
    started = time.perf_counter()
    table = evaluate(Detector(DEFAULT_ENTITIES), records, LABELS).table()
    seconds = time.perf_counter() - started
    passed, failed, failures = presidio_cases(args.data / "presidio-recognizer-tests" /
                                              "presidio_recognizer_test_cases.json")
    lines = ["<!-- pii-eval:start -->",
             f"`synth_dataset_v2`: {len(records):,} sentences, default entities, scored in {seconds:.1f} s.", "",
             "| entity | gold | found | precision | recall | F1 | precision (overlap) | recall (overlap) |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [_row(entity, table[entity]) for entity in [*STRUCTURED, "PERSON", "STREET_ADDRESS"]]
    lines += ["", *ner_lines(records, args.ner_model)]
    lines += ["", f"Presidio's recognizer test cases for these identifiers: **{passed} of {passed + failed} pass**."]
    if failures:
        lines += ["Those that do not, each decided differently on purpose (see `tests/pii/test_presidio_cases.py`):",
                  ""] + [f"- `{f}`" for f in failures]
    lines.append("<!-- pii-eval:end -->")
    print("\n".join(lines))
    if not args.no_write:
        replace_section("pii-eval", lines)


if __name__ == "__main__":
    main()
