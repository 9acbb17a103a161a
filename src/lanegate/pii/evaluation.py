"""Scoring a detector against labelled text: per-entity precision, recall and F1, for exact spans and for
overlapping spans. Used by ``bench/pii_eval.py`` and by the accuracy tests."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lanegate.pii.detector import Detector


@dataclass
class Counts:
    gold: int = 0
    predicted: int = 0
    exact: int = 0  # predictions with the gold label and exactly its span
    overlap_found: int = 0  # gold spans overlapped by a prediction with their label
    overlap_right: int = 0  # predictions overlapping a gold span with their label

    def scores(self) -> dict[str, float]:
        def ratio(a: int, b: int) -> float:
            return a / b if b else 1.0

        def f1(p: float, r: float) -> float:
            return 2 * p * r / (p + r) if p + r else 0.0

        p, r = ratio(self.exact, self.predicted), ratio(self.exact, self.gold)
        po, ro = ratio(self.overlap_right, self.predicted), ratio(self.overlap_found, self.gold)
        return {"precision": p, "recall": r, "f1": f1(p, r),
                "precision_overlap": po, "recall_overlap": ro, "f1_overlap": f1(po, ro)}


@dataclass
class Evaluation:
    counts: dict[str, Counts] = field(default_factory=dict)
    misses: dict[str, list[str]] = field(default_factory=dict)
    false_positives: dict[str, list[str]] = field(default_factory=dict)

    def table(self) -> dict[str, dict[str, float]]:
        return {entity: {"gold": c.gold, "predicted": c.predicted, **c.scores()}
                for entity, c in sorted(self.counts.items())}


def load(path: Path) -> list[dict[str, Any]]:
    """Records of the shared ``*.unified.jsonl`` / ``*_charspans.jsonl`` format."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(detector: Detector, records: Iterable[dict[str, Any]], labels: Mapping[str, str]) -> Evaluation:
    """Score ``detector`` on ``records``; ``labels`` maps a dataset label to the entity type it means (labels
    not in it are not scored, and predictions of entity types none maps to are ignored)."""
    result = Evaluation()
    scored = set(labels.values())
    for entity in scored:
        result.counts[entity] = Counts()
    for record in records:
        text = record["text"]
        gold = [(labels[s["label"]], s["start"], s["end"]) for s in record["spans"] if s["label"] in labels]
        predicted = [(f.entity, f.start, f.end) for f in detector.detect(text) if f.entity in scored]
        for entity, start, end in gold:
            counts = result.counts[entity]
            counts.gold += 1
            if any(e == entity and s < end and start < t for e, s, t in predicted):
                counts.overlap_found += 1
            else:
                result.misses.setdefault(entity, []).append(text[start:end])
        for entity, start, end in predicted:
            counts = result.counts[entity]
            counts.predicted += 1
            if (entity, start, end) in gold:
                counts.exact += 1
            if any(e == entity and s < end and start < t for e, s, t in gold):
                counts.overlap_right += 1
            else:
                result.false_positives.setdefault(entity, []).append(text[start:end])
    return result
