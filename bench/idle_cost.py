"""What the content stages' detection costs when the machine has just been idle, against back to back.

At concurrency 1 a gateway waits for the provider in the middle of every request and for the next request
after it, and on a machine that parks an idle CPU (a VM halting its virtual CPU, a host entering a deep idle
state) the code that runs after a wait runs slower than the same code run back to back, as the tight loops
of ``pii_speed.py`` and ``dlp_speed.py`` run it. This script measures that on the PII detector and the DLP
rules the content-stage benchmark uses, on the chat request's texts, in four ways taken in turns (so that
all see the same machine state): back to back; after the thread slept about 300 µs (a fast provider's
answer); after it spun 300 µs (the CPU kept busy, no memory read); after it read 16 MB (the caches filled
with other data, the CPU never idle). Only the detection call is timed.

Writes the figures into docs/benchmarks.md between the ``idle-cost`` markers. Run: ``python bench/idle_cost.py``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lanegate.config.models import DlpFilterOptions
from lanegate.dlp import DlpRules
from lanegate.pii import DEFAULT_ENTITIES, Detector
from overhead import replace_section
from pii_speed import SLICE, payload_arguments

PAUSE = 0.0003  # seconds between calls in the "idle" and "busy" modes
HALT_POLL = Path("/sys/module/haltpoll/parameters/guest_halt_poll_ns")
_SCRATCH = bytearray(16 << 20)


def _idle() -> None:
    time.sleep(PAUSE)


def _busy() -> None:
    until = time.perf_counter() + PAUSE
    while time.perf_counter() < until:
        pass


def _read_16mb() -> None:
    _SCRATCH[::64] = bytes(len(_SCRATCH) // 64)  # one write per 64-byte line: every line through the caches


MODES: dict[str, Callable[[], None]] = {"back to back": lambda: None, "after ~300 µs idle": _idle,
                                        "after 300 µs busy": _busy, "after reading 16 MB": _read_16mb}


def in_turns(call: Callable[[], object], seconds: float) -> dict[str, list[float]]:
    """Per-call times of ``call`` in each of :data:`MODES`, the modes taking turns of ``SLICE`` seconds of
    wall time until each has run ``seconds`` of it (the time between calls counts towards a turn)."""
    timings: dict[str, list[float]] = {mode: [] for mode in MODES}
    spent = dict.fromkeys(MODES, 0.0)
    call()
    while min(spent.values()) < seconds:
        for mode, between in MODES.items():
            turn_started = time.perf_counter()
            while time.perf_counter() - turn_started < SLICE:
                between()
                started = time.perf_counter()
                call()
                timings[mode].append(time.perf_counter() - started)
            spent[mode] += time.perf_counter() - turn_started
    return timings


def halt_polling() -> str:
    """The guest's halt-polling setting, where the machine has one (a VM with the cpuidle-haltpoll driver)."""
    try:
        return f"guest halt polling {int(HALT_POLL.read_text()) // 1000} µs"
    except (OSError, ValueError):
        return "no guest halt-polling setting"


def main() -> None:
    args = payload_arguments(__doc__, 3.0, "thing timed")
    chat = json.loads((args.data / "chat_request_pii.json").read_text())
    texts = [m["content"] for m in chat["messages"]]
    detector = Detector(DEFAULT_ENTITIES)
    rules = DlpRules(DlpFilterOptions(detect_patterns=["EMP-[0-9]{6}"], blocked_terms=["export controlled memo"]))
    things: dict[str, Callable[[], object]] = {
        "PII detector (default entities)": lambda: [detector.detect(t) for t in texts],
        "DLP rules (one pattern, one term)": lambda: [rules.find(t) for t in texts],
    }
    lines = ["<!-- idle-cost:start -->",
             f"Measured {time.strftime('%Y-%m-%d')} with `python bench/idle_cost.py` ({halt_polling()}): p50 of one "
             f"call on the chat request's {len(texts)} message texts ({sum(map(len, texts))} characters), the four "
             f"ways in turns of {SLICE * 1000:.0f} ms, {args.seconds:g} s each.", "",
             "| | " + " | ".join(MODES) + " |", "|---" * (len(MODES) + 1) + "|"]
    for name, call in things.items():
        timings = in_turns(call, args.seconds)
        cells = [f"{statistics.median(timings[mode]) * 1e6:.1f} µs" for mode in MODES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        print(lines[-1])
    lines.append("<!-- idle-cost:end -->")
    if not args.no_write:
        replace_section("idle-cost", lines)


if __name__ == "__main__":
    main()
