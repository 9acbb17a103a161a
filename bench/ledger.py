"""Ledger throughput: appending records (with their Merkle nodes), exporting and verifying bundles.

* append rate: records/s appended to a SQLite lane store, in group-committed batches as the gateway does,
  overall and for the last 10% (the tree's size does not slow appends down);
* export and verify: a 100k-record window of that log, and the whole log (the verification rate at 1M).

Records are shaped like the gateway's (about 900 bytes of canonical JSON). Writes the figures into
docs/benchmarks.md between the ``ledger`` markers. Run: ``python bench/ledger.py [--records N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lanegate.config import load_sources
from lanegate.evidence.verify import verify_bundle
from lanegate.ledger import signing
from lanegate.ledger.export import ExportParams, run_export
from lanegate.store.sqlite import SqliteStore
from overhead import replace_section

PACK = """
lane: {name: bench, jurisdiction: EU, allowed_regions: [eu-central-1]}
pack: {name: bench-pack, version: "1.0.0"}
providers:
  targets:
    - {id: fast, base_url: "http://127.0.0.1:9/v1", model: m, region: eu-central-1,
       data_policy: {zero_data_retention: true, training_opt_out: true, retention_days: 0}}
"""


def record(lane, i: int) -> dict:
    second = i // 100
    return {
        "v": 1, "id": f"req_{i:032x}", "ts": f"2026-11-{1 + second // 86400:02d}T{second // 3600 % 24:02d}:"
        f"{second // 60 % 60:02d}:{second % 60:02d}.{i % 100:03d}Z", "lane": "bench", "jurisdiction": "EU",
        "pack": {"name": lane.pack.name, "version": lane.pack.version, "sha256": lane.sha256},
        "principal": {"kind": "api_key", "name": "billing-app", "key_id": "17bb7cddb8ca"},
        "endpoint": "chat.completions", "model": "chat", "stream": False, "decision": "served", "status": 200,
        "error_code": None,
        "stages": [{"stage": "data-routing-policy", "decision": "continue", "detail": {"compliant": ["fast"],
                                                                                       "excluded": 0}},
                   {"stage": "audit-logger", "decision": "continue"}],
        "route": {"selected": "fast", "region": "eu-central-1", "excluded": [],
                  "attempts": [{"target": "fast", "outcome": "ok", "status": 200}]},
        "upstream_status": 200, "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
        "latency_us": 1100 + i % 300, "upstream_latency_us": 300 + i % 100,
        "digests": {"request": "hmac-sha256:" + f"{i:064x}", "upstream_request": "hmac-sha256:" + f"{i + 1:064x}"},
    }


async def append_all(store: SqliteStore, lane, total: int, batch: int = 256) -> tuple[float, float]:
    started = time.perf_counter()
    tail_start, tail_count = None, 0
    for offset in range(0, total, batch):
        if offset >= total * 0.9 and tail_start is None:
            tail_start = time.perf_counter()
        size = min(batch, total - offset)
        await asyncio.gather(*[store.append_decision(record(lane, offset + i)) for i in range(size)])
        if tail_start is not None:
            tail_count += size
        if offset % 100_000 < batch:
            print(f"  appended {offset + size:,}", flush=True)
    elapsed = time.perf_counter() - started
    return total / elapsed, tail_count / (time.perf_counter() - (tail_start or started))


async def main_async(args: argparse.Namespace) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="lanegate-ledger-"))
    lane = load_sources([(work / "bench.yaml", PACK)], base=work).lanes["bench"]
    store = SqliteStore(f"sqlite:///{work}/bench.db")
    await store.open()
    figures: dict[str, float] = {"records": args.records}
    print(f"appending {args.records:,} records")
    figures["append_rate"], figures["append_rate_tail"] = await append_all(store, lane, args.records)
    await signing.sign_checkpoint(store, lane.origin)
    keys = await signing.verifier_keys(store)

    window = min(100_000, args.records)
    first_ts = record(lane, args.records - window)["ts"]
    for label, params in (("window", ExportParams(since=first_ts)), ("all", ExportParams())):
        started = time.perf_counter()
        job = await run_export(store, lane, params, work / "exports")
        figures[f"{label}_export_s"] = time.perf_counter() - started
        started = time.perf_counter()
        report = await asyncio.to_thread(verify_bundle, Path(job.path or ""), keys=keys)
        figures[f"{label}_verify_s"] = time.perf_counter() - started
        assert report.ok, report.failures
        figures[f"{label}_records"] = report.summary["records"]
        bundle_stat = await asyncio.to_thread(Path(job.path or "").stat)
        figures[f"{label}_bundle_mb"] = bundle_stat.st_size / 1e6
        print(f"  {label}: {report.summary['records']:,} records exported in {figures[f'{label}_export_s']:.1f} s, "
              f"verified in {figures[f'{label}_verify_s']:.1f} s")
    figures["db_mb"] = (work / "bench.db").stat().st_size / 1e6
    await store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    f = asyncio.run(main_async(args))
    lines = [
        "<!-- ledger:start -->",
        f"Measured {time.strftime('%Y-%m-%d')} with `python bench/ledger.py --records {args.records}` (same machine "
        "as above); records of about 900 bytes, store file "
        f"{f['db_mb']:,.0f} MB at the end.",
        "",
        "| | figure |",
        "|---|---|",
        f"| append rate, whole run (records with their Merkle nodes, group commits of 256) | "
        f"{f['append_rate']:,.0f} records/s |",
        f"| append rate, last 10% (tree of {args.records * 0.9:,.0f}+ leaves) | "
        f"{f['append_rate_tail']:,.0f} records/s |",
        f"| export, {f['window_records']:,.0f}-record window of the {args.records:,}-record log "
        f"({f['window_bundle_mb']:.0f} MB bundle) | {f['window_export_s']:.1f} s |",
        f"| verify that bundle offline | {f['window_verify_s']:.1f} s "
        f"({f['window_records'] / f['window_verify_s']:,.0f} records/s) |",
        f"| export the whole {f['all_records']:,.0f}-record log ({f['all_bundle_mb']:.0f} MB bundle) | "
        f"{f['all_export_s']:.1f} s |",
        f"| verify it offline | {f['all_verify_s']:.1f} s ({f['all_records'] / f['all_verify_s']:,.0f} records/s) |",
        "<!-- ledger:end -->",
    ]
    print("\n".join(lines))
    if not args.no_write:
        replace_section("ledger", lines)


if __name__ == "__main__":
    main()
