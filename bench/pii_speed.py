"""PII detection speed: Lanegate's detector and Presidio's pattern recognizers on the same texts.

Texts: the datafog payloads (1.2 KB dense, 10 KB mixed, 100 KB sparse) and a realistic chat request (its
message texts, about 300 bytes) from ``../shared/data/pii/datafog-bench-payloads``. For each: time per text
(p50, p99) and MB/s. Presidio (``pip install presidio-analyzer``, a bench-only extra) is measured with its
predefined recognizers (patterns with their validators, and phone numbers through phonenumbers) in two ways:
called directly — no NLP engine, no model download, no fetch of the public suffix list — which is its fastest
configuration and leaves out work Lanegate's detector does (context words, overlaps); and through its
``AnalyzerEngine`` with the same recognizers and a blank spaCy pipeline (a tokenizer, no model: offline), which
adds that work, as Presidio is run. When it is not installed, only Lanegate is measured.

Writes the figures into docs/benchmarks.md between the ``pii-speed`` markers. Run: ``python bench/pii_speed.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lanegate.pii import DEFAULT_ENTITIES, Detector
from lanegate.pii.operators import OperatorSettings
from lanegate.pii.tokens import StreamRestorer, token
from lanegate.policy.output_stage import PiiScanner, ScanFilter
from overhead import ROOT, replace_section

PRESIDIO_ENTITIES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN",
                     "US_ITIN", "UK_NHS", "UK_NINO", "ES_NIF", "ES_NIE", "IT_FISCAL_CODE", "US_PASSPORT",
                     "UK_PASSPORT", "DATE_TIME", "MEDICAL_LICENSE", "US_BANK_NUMBER", "CRYPTO"]


def _registry() -> Any | None:
    """Presidio's predefined English recognizers for :data:`PRESIDIO_ENTITIES` — patterns, checksums and
    phonenumbers, no NLP model — or ``None`` when Presidio is not installed."""
    # Presidio's email recognizer reads domain suffixes through tldextract, which otherwise fetches the public
    # suffix list on first use; offline, it reads the snapshot it ships with
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    try:
        from presidio_analyzer import RecognizerRegistry
    except ImportError:
        return None
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(languages=["en"])
    for recognizer in list(registry.recognizers):
        if not set(recognizer.supported_entities) & set(PRESIDIO_ENTITIES) or recognizer.name == "SpacyRecognizer":
            registry.remove_recognizer(recognizer.name)
    return registry


def presidio() -> Callable[[str], int] | None:
    """Presidio's recognizers (:func:`_registry`) called one by one."""
    registry = _registry()
    if registry is None:
        return None
    recognizers = list(registry.recognizers)

    def analyze(text: str) -> int:
        return sum(len(r.analyze(text, r.supported_entities, None)) for r in recognizers)

    return analyze


def presidio_engine() -> Callable[[str], int] | None:
    """Presidio's ``AnalyzerEngine`` with the recognizers :func:`presidio` calls, and for its NLP engine a blank
    spaCy English pipeline written to a temporary folder (a tokenizer only: nothing to download). The engine
    then does what Lanegate's detector does besides matching: context words around each result, and overlapping
    results resolved."""
    registry = _registry()
    if registry is None:
        return None
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    pipeline = Path(tempfile.mkdtemp(prefix="presidio-blank-")) / "en"
    spacy.blank("en").to_disk(pipeline)
    engine = AnalyzerEngine(registry=registry, supported_languages=["en"],
                            nlp_engine=SpacyNlpEngine(models=[{"lang_code": "en", "model_name": str(pipeline)}]))

    def analyze(text: str) -> int:
        return len(engine.analyze(text, language="en", entities=PRESIDIO_ENTITIES))

    return analyze


SLICE = 0.05  # seconds each engine runs before the next one's turn (side_by_side)


def side_by_side(engines: dict[str, Callable[[str], object]], text: str, seconds: float) -> dict[str, list[float]]:
    """Per-call times of each of ``engines`` on ``text``, taken in turns of ``SLICE`` seconds until each has run
    ``seconds``, so that every engine sees the same machine state (this machine's speed moves by up to 1.7x
    within minutes; engines timed one after the other each got a different share of it)."""
    timings: dict[str, list[float]] = {name: [] for name in engines}
    spent = dict.fromkeys(engines, 0.0)
    for fn in engines.values():
        fn(text)
    while min(spent.values()) < seconds:
        for name, fn in engines.items():
            turn = time.perf_counter() + SLICE
            while True:
                started = time.perf_counter()
                fn(text)
                elapsed = time.perf_counter() - started
                timings[name].append(elapsed)
                spent[name] += elapsed
                if started + elapsed >= turn:
                    break
    return timings


def row(name: str, size: int, timings: list[float]) -> tuple[str, float, float, float]:
    p50 = statistics.median(timings)
    p99 = sorted(timings)[min(len(timings) - 1, int(0.99 * len(timings)))]
    return name, p50 * 1e6, p99 * 1e6, size / p50 / 1e6


def stream_costs(detector: Detector, seconds: float) -> list[str]:
    """Per-chunk cost of restoring tokens in a stream, and of scanning a streamed answer (scan_responses)."""
    values = {token("EMAIL_ADDRESS", i): f"person{i}@example.com" for i in range(1, 6)}
    answer = " ".join(f"Reply to {t} about the invoice and the delivery window." for t in values) * 3
    chunks = [answer[i : i + 8] for i in range(0, len(answer), 8)]  # about two tokens' worth of text per chunk

    def restore_all(_: str) -> None:
        restorer = StreamRestorer(values)
        for chunk in chunks:
            restorer.feed(chunk)
        restorer.flush()

    def scan_all(_: str) -> None:  # as the pii-detector's scan_responses reads a stream (redact)
        stream = ScanFilter(PiiScanner(detector, OperatorSettings), SimpleNamespace(stages=[]))  # type: ignore[arg-type]
        for chunk in chunks:
            stream.on_event({"choices": [{"index": 0, "delta": {"content": chunk}, "finish_reason": None}]})
        stream.on_event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})

    timings = side_by_side({"restore": restore_all, "scan": scan_all}, "", seconds)
    restore_us = statistics.median(timings["restore"]) / len(chunks) * 1e6
    scan_us = statistics.median(timings["scan"]) / len(chunks) * 1e6
    print(f"stream restore {restore_us:.1f} us/chunk, stream scan {scan_us:.1f} us/chunk")
    return [f"Streams ({len(chunks)} chunks of 8 characters, {len(values)} distinct tokens): restoring tokens "
            f"costs **{restore_us:.1f} µs per chunk** (target < 50 µs); scanning the answer "
            f"(`scan_responses` with `redact`, through the stream filter: what is held back and the 64 characters "
            f"sent before it read with each chunk, the values rewritten) {scan_us:.1f} µs per chunk."]


def payload_arguments(doc: str, seconds: float, per: str) -> argparse.Namespace:
    """The options of a bench that times code on the shared payloads: where they are, the time ``per`` each
    measurement, and whether to leave docs/benchmarks.md alone."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=ROOT.parent / "shared" / "data" / "pii" / "datafog-bench-payloads")
    parser.add_argument("--seconds", type=float, default=seconds, help=f"time per {per}")
    parser.add_argument("--no-write", action="store_true")
    return parser.parse_args()


def main() -> None:
    args = payload_arguments(__doc__, 3.0, "text and engine")
    chat = json.loads((args.data / "chat_request_pii.json").read_text())
    texts = {name: (args.data / name).read_text() for name in
             ("core_1kb_dense.txt", "core_10kb_mixed.txt", "core_100kb_sparse.txt")}
    texts["chat_request_pii.json (message texts)"] = "\n".join(m["content"] for m in chat["messages"])
    detector = Detector(DEFAULT_ENTITIES)
    plain = Detector(DEFAULT_ENTITIES, prefilter=False)
    other = presidio()
    analyzer = presidio_engine()
    engine = "one pass (Vectorscan) + re" if detector.one_pass else "re alone (no hyperscan package)"
    lines = ["<!-- pii-speed:start -->",
             f"{args.seconds:g} s of repeated runs per text and engine, the engines in turns of {SLICE * 1000:.0f} ms "
             f"(so that all see the same machine state), one process, one core. Lanegate: {engine}; "
             "the `re alone` column is the same detector without the one-pass prefilter. Presidio: its recognizers "
             "called directly (`recognizers`), and its `AnalyzerEngine` with the same recognizers and a blank spaCy "
             "pipeline (`engine`: context words and overlaps as well, as Presidio is run).", "",
             "| text | bytes | Lanegate p50 | p99 | MB/s | re alone p50 | Presidio recognizers p50 | MB/s | ratio "
             "| Presidio engine p50 | ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, text in texts.items():
        size = len(text.encode())
        engines = {"lanegate": detector.detect, "re alone": plain.detect, **({"presidio": other} if other else {}),
                   **({"analyzer": analyzer} if analyzer else {})}
        timings = side_by_side(engines, text, args.seconds)
        _, p50, p99, rate = row(name, size, timings["lanegate"])
        _, r50, _, _ = row(name, size, timings["re alone"])
        theirs = ""
        if other is not None:
            _, o50, _, orate = row(name, size, timings["presidio"])
            theirs = f"{o50:,.0f} µs | {orate:.2f} | {o50 / p50:.1f}x"
        else:
            theirs = "not installed | | "
        if analyzer is not None:
            _, a50, _, _ = row(name, size, timings["analyzer"])
            theirs += f" | {a50:,.0f} µs | {a50 / p50:.1f}x"
        else:
            theirs += " | not installed | "
        lines.append(f"| {name} | {size:,} | {p50:,.0f} µs | {p99:,.0f} µs | {rate:.2f} | {r50:,.0f} µs | {theirs} |")
        print(lines[-1])
    lines += ["", *stream_costs(detector, args.seconds)]
    lines.append("<!-- pii-speed:end -->")
    if not args.no_write:
        replace_section("pii-speed", lines)


if __name__ == "__main__":
    main()
