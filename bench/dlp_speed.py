"""DLP rule matching speed: what a text costs the ``dlp-filter`` stage as a pack's pattern list grows.

For packs of 1 to 40 patterns (organisation-style identifiers and markers, none of which occurs in the texts)
and five blocked terms, the time of ``DlpRules.find`` per text (p50): with the one pass over all patterns
that packs of four or more get, and with every pattern searched on its own, the two in turns of 50 ms so that
both see the same machine state. Texts: the ~900-byte prompt of ``overhead.py`` and the 10 KB payload from
``../shared/data/pii/datafog-bench-payloads``; then the prompt with one match, which the one pass cannot
spare.

Then blocked terms with ``fuzzy_matching`` (5, 15 and 50 terms, no pattern): with each term measured only
where a piece of it occurs, and with every term measured against every text (the pieces switched off), in
turns, on the prompt, the 10 KB payload and the prompt with a term one edit away.

Writes the figures into docs/benchmarks.md between the ``dlp-speed`` markers. Run: ``python bench/dlp_speed.py``.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lanegate import dlp
from lanegate.config.models import DlpFilterOptions
from lanegate.dlp import DlpRules
from overhead import BODY, replace_section
from pii_speed import payload_arguments, side_by_side

PATTERNS = [
    r"EMP-[0-9]{6}", r"CASE-[0-9]{4}-SEALED-[0-9]{5}", r"PRJ-[A-Z]{3}-[0-9]{4}", r"(?i)internal use only",
    r"(?i)do not distribute", r"ACCT[0-9]{8}", r"(?i)confidential[- ]draft", r"INV-20[0-9]{2}-[0-9]{5}",
    r"(?i)project\s+nightingale", r"[A-Z]{2}-SEC-[0-9]{6}", r"[a-z0-9-]+\.corp\.example\.net", r"TKT#[0-9]{5,7}",
    r"(?i)board[- ]only", r"HR-[0-9]{4}-[A-Z]", r"(?i)attorney[- ]client privileged", r"SKU-[0-9]{3}-[0-9]{3}",
    r"(?i)embargoed until", r"LOT[0-9]{6}[A-Z]", r"(?i)strictly private", r"VND-[0-9]{5}",
]
PATTERNS += [pattern.replace("[0-9]", "[0-9X]", 1) if "[0-9]" in pattern else pattern + " note"
             for pattern in PATTERNS]  # 40 distinct patterns
TERMS = ["export controlled memo", "outside region transfer", "merger target list", "board minutes draft",
         "salary review"]
SIZES = (1, 4, 10, 20, 40)
# blocked terms of the kind a pack matches with fuzzy_matching (names of documents, projects, lists)
FUZZY_TERMS = [
    *TERMS, "quarterly forecast", "acquisition shortlist", "layoff plan", "patent draft", "source code escrow",
    "customer churn list", "pricing floor", "audit findings", "whistleblower report", "sanctions screening",
    "reorganisation plan", "bonus pool", "litigation hold", "takeover defence", "insider list",
    "vendor blacklist", "security incident report", "penetration test results", "root credentials",
    "encryption keys", "unreleased earnings", "due diligence pack", "term sheet", "cap table", "payroll export",
    "medical leave list", "disciplinary record", "background check", "redundancy list", "headcount freeze",
    "board resolution", "share buyback", "profit warning", "regulator inquiry", "data breach notice",
    "trade secret", "customer master file", "credit limit override", "fraud investigation", "tax ruling",
    "transfer pricing study", "covenant breach", "restructuring memo", "executive compensation",
    "strategic review"]


def rules(count: int, one_pass: bool) -> DlpRules:
    options = DlpFilterOptions(detect_patterns=PATTERNS[:count], blocked_terms=TERMS)
    saved = dlp.ONE_PASS_FROM
    dlp.ONE_PASS_FROM = saved if one_pass else 10**6
    try:
        return DlpRules(options)
    finally:
        dlp.ONE_PASS_FROM = saved


FUZZY_SIZES = (5, 15, 50)


def fuzzy_rules(count: int, pieces: bool) -> DlpRules:
    rules = DlpRules(DlpFilterOptions(blocked_terms=FUZZY_TERMS[:count], fuzzy_matching=True))
    if not pieces:
        rules._pieces = [None] * count
        rules._any_piece = None
    return rules


def fuzzy_lines(prompt: str, payload: str, seconds: float) -> list[str]:
    texts = {"prompt": prompt, "10 KB payload": payload, "prompt, a term one edit away": prompt + " Re: the export "
             "controled memo."}
    lines = ["", "`DlpRules.find` per text, p50, blocked terms with `fuzzy_matching` (max_distance 1), no pattern; "
             "measured where a piece of a term occurs / every term measured (in turns).", "",
             "| fuzzy terms | " + " | ".join(texts) + " |", "|---|" + "---|" * len(texts)]
    for count in FUZZY_SIZES:
        near, every = fuzzy_rules(count, True), fuzzy_rules(count, False)
        cells = []
        for name, text in texts.items():
            assert near.find(text) == every.find(text)
            timings = side_by_side({"pieces": near.find, "every": every.find}, text, seconds)
            first, all_of = (statistics.median(timings[way]) * 1e6 for way in ("pieces", "every"))
            cells.append(f"{first:,.1f} / {all_of:,.1f} µs")
            print(f"{count:3} fuzzy terms, {name}: pieces first {first:.1f} us, every term {all_of:.1f} us")
        lines.append(f"| {count} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    args = payload_arguments(__doc__, 1.0, "text, size and way")
    prompt = json.loads(BODY)["messages"][1]["content"]
    texts = {f"prompt ({len(prompt)} B)": prompt,
             "10 KB payload": (args.data / "core_10kb_mixed.txt").read_text(),
             "prompt with one match": prompt + " Ref EMP-123456."}
    lines = ["<!-- dlp-speed:start -->",
             f"`DlpRules.find` per text, p50, {len(TERMS)} blocked terms; one pass / each pattern on its own "
             f"(taken in turns of 50 ms, {args.seconds:g} s each).", "",
             "| patterns | " + " | ".join(texts) + " |", "|---|" + "---|" * len(texts)]
    side_by_side({"warm-up": rules(SIZES[-1], False).find}, prompt, args.seconds)  # the first row ran slow
    for count in SIZES:
        together, apart = rules(count, True), rules(count, False)
        cells = []
        for name, text in texts.items():
            timings = side_by_side({"one pass": together.find, "apart": apart.find}, text, args.seconds)
            one, each = (statistics.median(timings[way]) * 1e6 for way in ("one pass", "apart"))
            cells.append(f"{one:,.1f} / {each:,.1f} µs" if count >= dlp.ONE_PASS_FROM else f"{each:,.1f} µs")
            print(f"{count:3} patterns, {name}: one pass {one:.1f} us, apart {each:.1f} us")
        lines.append(f"| {count} | " + " | ".join(cells) + " |")
    lines += fuzzy_lines(prompt, texts["10 KB payload"], args.seconds)
    lines.append("<!-- dlp-speed:end -->")
    if not args.no_write:
        replace_section("dlp-speed", lines)


if __name__ == "__main__":
    main()
