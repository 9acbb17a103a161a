"""Which of overlapping findings the detector keeps, and what it reads again.

Rules overlap: a phone-shaped match covers an SSN, a match of one card rule bridges two numbers another rule
finds whole, an email address's local part is read back over a value written just before it. :func:`resolve`
keeps, of one entity, the findings that together cover the most; then, across entities, the best ranked.
:func:`uncovered` gives the parts of a dropped finding that no kept one covers, for the detector to read again.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from operator import attrgetter

from lanegate.pii.entities import Finding

_BY_START = attrgetter("start")


def uncovered(item: Finding, kept: list[Finding]) -> Iterator[tuple[int, int]]:
    """The parts of ``item``'s span that none of ``kept`` (in order, not overlapping) covers."""
    position = item.start
    for other in kept[bisect.bisect_right([k.end for k in kept], item.start):]:
        if other.start >= item.end:
            break
        if other.start > position:
            yield position, other.start
        position = max(position, other.end)
    if position < item.end:
        yield position, item.end


def _local_parts_apart(found: list[Finding], body: str) -> list[Finding]:
    """``found`` with each email address that begins inside another finding (one starting before it) begun after
    that one instead (past the dots and dashes there). An email's local part is read back from ``@`` over letters,
    digits, dots and dashes, so a value written just before it with a dash between — an em dash in prose, read as
    ``-`` — became part of it: "4111 1111 1111 1111—jane@example.com", "jane@example.com—bob@example.org".
    Overlapping, one of the two then lost to the other, and what it held was left as it was (twelve digits of the
    card, or the first address's local part). Only the few findings just before an address can hold its start."""
    if not any(item.entity == "EMAIL_ADDRESS" for item in found):
        return found
    ordered = sorted(found, key=_BY_START)
    kept: list[Finding] = []
    for index, item in enumerate(ordered):
        if item.entity != "EMAIL_ADDRESS":
            kept.append(item)
            continue
        at = body.find("@", item.start, item.end)
        if at < 0:  # written past harvesters, "jane [at] example [dot] com": nothing before it is read back into it
            kept.append(item)
            continue
        start = max((o.end for o in ordered[max(0, index - 4) : index] if o.start < item.start < o.end <= at),
                    default=item.start)
        while item.start < start < at and body[start] in ".-":  # (an address not begun inside one stays whole)
            start += 1
        if start < at:
            kept.append(item if start == item.start else item._replace(start=start))
    return kept


def most_covered(found: list[Finding]) -> list[Finding]:
    """Of overlapping findings of one entity, those that together cover the most characters without overlapping
    (then: the highest scores). Taken by score alone, a match that bridges two values — the last group of one
    card number and the first three of the next, "4443  4894  0591  4567 4376 9616 1844 9673", a tenth of such
    bridges passing the Luhn check — won over both values and left most of each as written."""
    by_entity: dict[str, list[Finding]] = {}
    for item in found:
        by_entity.setdefault(item.entity, []).append(item)
    kept: list[Finding] = []
    for items in by_entity.values():
        if len(items) == 1:
            kept.extend(items)
            continue
        items.sort(key=lambda f: (f.end, f.start))
        ends = [item.end for item in items]
        # best[i]: the best choice among the first i findings, as ((characters, score), its last finding's place)
        best: list[tuple[tuple[int, float], int]] = [((0, 0.0), -1)]
        taken: list[int] = []  # for each finding, the best choice before it
        for index, item in enumerate(items):
            before = bisect.bisect_right(ends, item.start, 0, index)  # findings ending where this one starts
            (covered, score), _ = best[before]
            taken.append(before)
            with_it = (covered + item.end - item.start, score + item.score)
            best.append((with_it, index) if with_it > best[index][0] else best[index])
        place = best[-1][1]
        while place >= 0:
            kept.append(items[place])
            place = best[taken[place]][1]
    return kept


def resolve(found: list[Finding], body: str) -> list[Finding]:
    """Keep the best of overlapping findings: of one entity, those that cover the most (:func:`most_covered`);
    then higher score, then longer, then earlier (an email address's local part first set apart from a value
    just before it, :func:`_local_parts_apart`)."""
    kept: list[Finding] = []
    for item in sorted(found, key=_BY_START):
        if kept and item.start < kept[-1].end:
            if item == kept[-1]:  # two rules of one entity found the same value
                continue
            break
        kept.append(item)
    else:
        return kept  # nothing overlaps (most texts): every finding stays
    found = most_covered(_local_parts_apart(found, body))
    chosen: list[Finding] = []  # in order of start, not overlapping: only the neighbours of a place can overlap
    starts: list[int] = []
    for item in sorted(found, key=lambda f: (-f.score, f.start - f.end, f.start)):
        index = bisect.bisect_right(starts, item.start)
        if (index and chosen[index - 1].overlaps(item)) or (index < len(chosen) and chosen[index].overlaps(item)):
            continue
        chosen.insert(index, item)
        starts.insert(index, item.start)
    return chosen
