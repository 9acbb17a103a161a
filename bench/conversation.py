"""A conversation through the content stages: what each turn costs when every request carries the whole
history, with the stages' memo of what a caller sent and without it.

Twelve turns: a system prompt of about 600 characters, then at each turn a user message of two sentences
from ``synth_dataset_v2`` (with their personal data) and, before the next, an assistant answer; the request
of turn k holds the system prompt and all 2k - 1 messages so far. ``pii-detector`` (redact) and
``dlp-filter`` (one pattern, two blocked terms) run on each request in the process, as the gateway runs them.
Each conversation has a caller of its own, so nothing is remembered from one conversation to the next; the
two ways take turns request by request, so that both see the same machine state.

Writes the figures into docs/benchmarks.md between the ``conversation`` markers. Run:
``python bench/conversation.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lanegate.config.models import DlpFilterOptions, PiiDetectorOptions
from lanegate.exchange import Exchange
from lanegate.identity.keys import Principal
from lanegate.ingress.schemas import parse_chat
from lanegate.policy.dlp_stage import DlpFilterStage
from lanegate.policy.memo import Memo
from lanegate.policy.pii_stage import PiiDetectorStage
from overhead import ROOT, replace_section

TURNS = 12
SHOWN = (1, 4, 8, 12)
SYSTEM = ("You are the support assistant of an online retailer. Answer in plain language, in the customer's "
          "language, in at most five sentences. Never invent order numbers, prices or delivery dates; when you "
          "do not know, say so and offer to hand the conversation to a person. Do not ask for card numbers, "
          "passwords or one-time codes. Quote the customer's own words only where needed, and never repeat "
          "personal data back unless the customer asks you to confirm it. Keep a friendly, factual tone.")
ANSWER = "Thank you, I have noted that. {} Is there anything else I can help with?"


def sentences(path: Path) -> list[str]:
    texts = [json.loads(line)["text"] for line in path.read_text().splitlines()]
    return [t.replace("\n", " ") for t in texts if 40 <= len(t) <= 200][: 3 * TURNS]


def requests(lines: list[str]) -> list[bytes]:
    """The request body of each turn: the system prompt and the conversation so far."""
    messages: list[dict[str, str]] = [{"role": "system", "content": SYSTEM}]
    bodies = []
    for turn in range(TURNS):
        messages.append({"role": "user", "content": f"{lines[3 * turn]} {lines[3 * turn + 1]}"})
        bodies.append(json.dumps({"model": "chat", "messages": messages}).encode())
        messages.append({"role": "assistant", "content": ANSWER.format(lines[3 * turn + 2])})
    return bodies


def run(coroutine: Coroutine[Any, Any, Any]) -> None:
    """Run a stage's ``on_request`` to its end (it awaits nothing without tokenization)."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    raise RuntimeError("the stage awaited something")


def turn(stages: list[Any], body: bytes, principal: Principal) -> float:
    """Seconds one request spent in ``stages``."""
    exchange = Exchange("req", lane=None, endpoint="chat.completions", chat=parse_chat(body),  # type: ignore[arg-type]
                        principal=principal)
    started = time.perf_counter()
    for stage in stages:
        run(stage.on_request(exchange))
    return time.perf_counter() - started


def stages() -> list[Any]:
    """``dlp-filter`` then ``pii-detector``, as the bench lane would chain them."""
    return [DlpFilterStage(DlpFilterOptions(detect_patterns=["EMP-[0-9]{6}"],
                                            blocked_terms=["export controlled memo", "outside region transfer"])),
            PiiDetectorStage(PiiDetectorOptions(action="redact"), lambda: b"k" * 32)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "pii" / "presidio-research"
                        / "synth_dataset_v2.unified.jsonl")
    parser.add_argument("--conversations", type=int, default=300, help="conversations per way")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    bodies = requests(sentences(args.data))
    ways = {"with the memo": Memo, "without": lambda: Memo(size=0)}
    pairs = {way: stages() for way in ways}
    for way, memo in ways.items():  # one memo per stage for the whole run, as a gateway process has
        for stage in pairs[way]:
            stage.memo = memo()
    turns: dict[str, list[list[float]]] = {way: [] for way in ways}
    for index in range(args.conversations + 10):
        principal = Principal("api_key", f"caller-{index}", f"key-{index}", "bench")
        spent: dict[str, list[float]] = {way: [] for way in ways}
        for body in bodies:  # the two ways take turns request by request
            for way in ways:
                spent[way].append(turn(pairs[way], body, principal))
        if index >= 10:  # the first ten warm up
            for way in ways:
                turns[way].append(spent[way])
    sizes = [len(body) for body in bodies]
    lines = ["<!-- conversation:start -->",
             f"{args.conversations} conversations each way, in turns; `dlp-filter` then `pii-detector` in the process, "
             "p50 per request.", "",
             "| | " + " | ".join(f"turn {t} ({sizes[t - 1]:,} B)" for t in SHOWN) + " | whole conversation |",
             "|---|" + "---|" * (len(SHOWN) + 1)]
    for way in ways:
        cells = [f"{statistics.median(run[t - 1] for run in turns[way]) * 1e6:,.0f} µs" for t in SHOWN]
        whole = statistics.median(sum(run) for run in turns[way]) * 1e6
        lines.append(f"| {way} | " + " | ".join(cells) + f" | {whole:,.0f} µs |")
        print(way, cells, f"whole {whole:,.0f} us")
    lines.append("<!-- conversation:end -->")
    if not args.no_write:
        replace_section("conversation", lines)


if __name__ == "__main__":
    main()
