"""Which of overlapping findings are kept: of one entity those that cover the most, then the best ranked."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from lanegate.pii.entities import Finding
from lanegate.pii.overlaps import most_covered, resolve, uncovered


def _resolve_by_rank(found: list[Finding]) -> list[Finding]:
    """Overlap resolution as its docstring states it: best first, each kept unless it overlaps a kept one."""
    chosen: list[Finding] = []
    for item in sorted(found, key=lambda f: (-f.score, -(f.end - f.start), f.start)):
        if not any(item.overlaps(kept) for kept in chosen):
            chosen.append(item)
    return sorted(chosen, key=lambda f: f.start)


FINDINGS = st.builds(lambda entity, start, length, score: Finding(entity, start, start + length, score),
                     st.sampled_from(["CREDIT_CARD", "PHONE_NUMBER", "US_SSN"]), st.integers(0, 60),
                     st.integers(1, 20), st.sampled_from([0.4, 0.5, 0.7, 0.9]))


def _coverage(found: list[Finding]) -> dict[str, tuple[int, float]]:
    """Per entity: characters covered and the sum of scores."""
    totals: dict[str, tuple[int, float]] = {}
    for item in found:
        covered, score = totals.get(item.entity, (0, 0.0))
        totals[item.entity] = (covered + item.end - item.start, round(score + item.score, 6))
    return totals


def _best_coverage_by_search(found: list[Finding]) -> dict[str, tuple[int, float]]:
    """Per entity, the most characters (then score) any set of its findings that do not overlap covers."""
    best: dict[str, tuple[int, float]] = {}
    for entity in {item.entity for item in found}:
        items = [item for item in found if item.entity == entity]
        for size in range(1, len(items) + 1):
            for chosen in itertools.combinations(items, size):
                if not any(a.overlaps(b) for a, b in itertools.combinations(chosen, 2)):
                    best[entity] = max(best.get(entity, (0, 0.0)), _coverage(list(chosen))[entity])
    return best


@settings(max_examples=300, deadline=None)
@given(st.lists(FINDINGS, max_size=10))
def test_of_one_entity_the_findings_that_cover_the_most_are_kept(found):
    kept = most_covered(found)
    assert all(item in found for item in kept)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(kept, 2) if a.entity == b.entity)
    assert _coverage(kept) == _best_coverage_by_search(found)


@settings(max_examples=500, deadline=None)
@given(st.lists(FINDINGS, max_size=14))
def test_overlapping_findings_resolve_to_the_best_ranked_of_those_in_text_order(found):
    assert resolve(found, "") == _resolve_by_rank(most_covered(found))  # no email addresses: nothing set apart


def test_the_parts_of_a_finding_no_kept_one_covers_are_given_in_order():
    kept = [Finding("US_SSN", 4, 15, 0.85), Finding("US_SSN", 18, 20, 0.85), Finding("CREDIT_CARD", 40, 59, 0.9)]
    assert list(uncovered(Finding("PHONE_NUMBER", 11, 28, 0.5), kept)) == [(15, 18), (20, 28)]
    assert list(uncovered(Finding("PHONE_NUMBER", 0, 4, 0.5), kept)) == [(0, 4)]
    assert list(uncovered(Finding("PHONE_NUMBER", 5, 10, 0.5), kept)) == []
