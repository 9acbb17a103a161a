"""Where in a text the digit-based rules need to look: the numbers it holds, and the text around them.

One pass finds every number (digits joined by separators, up to three together). A rule that needs, say, a nine-digit
number is skipped when there is none; the others read only windows around the numbers, joined into one
short string, instead of the whole text — most prompts hold few numbers, so most of the text is never
scanned by most rules.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

RUN = re.compile(r"[0-9]+")
SEPARATORS = " .()/_-"  # what may join the digit runs of one number (one to three of them)
MAX_PIECES = 16
LONGEST = 19  # no rule needs a number of more digits (card numbers)
RADIUS = 24  # letters before or after a number that a rule may need (IBAN country code, passport letters...)
SEPARATOR = "\x00\x00"  # neither a word character, a space nor a separator any rule accepts
WHOLE_TEXT_SHARE = 0.6  # past this share of the text, scanning it whole is cheaper than building windows


@dataclass(frozen=True, slots=True)
class Numbers:
    """The numbers of a text: digit counts (joined and unbroken) and a view of the text around them."""

    clusters: frozenset[int]
    runs: frozenset[int]
    view: str
    starts: list[int]  # view offsets where each window begins
    origins: list[int]  # text offsets of those windows

    def admits(self, cluster: tuple[int, int] | None, run: tuple[int, int] | None) -> bool:
        if cluster is not None and not any(cluster[0] <= n <= cluster[1] for n in self.clusters):
            return False
        return run is None or any(run[0] <= n <= run[1] for n in self.runs)

    def to_text(self, offset: int) -> int:
        """The text offset of a view offset."""
        index = bisect.bisect_right(self.starts, offset) - 1
        return self.origins[index] + offset - self.starts[index]


def numbers(text: str) -> Numbers | None:
    """The numbers of ``text``, or ``None`` when it holds no digit."""
    spans = [m.span() for m in RUN.finditer(text)]
    if not spans:
        return None
    runs = {end - start for start, end in spans}
    clusters: set[int] = set()
    windows: list[list[int]] = []
    group: list[int] = []  # run lengths of the number being read
    previous_end = -10
    for start, end in spans:
        gap = text[previous_end:start]
        if not (0 < len(gap) <= 3 and not gap.strip(SEPARATORS)) or len(group) >= MAX_PIECES:
            _sums(group, clusters)
            group = []
        group.append(end - start)
        previous_end = end
        low, high = max(0, start - RADIUS), min(len(text), end + RADIUS)
        if windows and low <= windows[-1][1]:
            windows[-1][1] = high
        else:
            windows.append([low, high])
    _sums(group, clusters)
    if sum(end - start for start, end in windows) > WHOLE_TEXT_SHARE * len(text):
        return Numbers(frozenset(clusters), frozenset(runs), text, [0], [0])
    starts, origins, parts, position = [], [], [], 0
    for start, end in windows:
        starts.append(position)
        origins.append(start)
        parts.append(text[start:end])
        position += end - start + len(SEPARATOR)
    return Numbers(frozenset(clusters), frozenset(runs), SEPARATOR.join(parts), starts, origins)


def _sums(pieces: list[int], into: set[int]) -> None:
    """Add the digit counts of every stretch of consecutive pieces (a rule may match part of a number)."""
    for first in range(len(pieces)):
        total = 0
        for piece in pieces[first:]:
            total += piece
            if total > LONGEST:
                break
            into.add(total)
