"""What the content stages cost a request: two gateways side by side on one upstream, one with the default
chain and one with ``dlp-filter`` and ``pii-detector`` in front of it, measured in alternation so that both
see the same machine state.

* concurrency 1: batches of sequential requests, alternating between the upstream directly and the two
  gateways, until each has served ``--requests``; p50 and p99 of each and the latency each adds;
* concurrency 64: ``wrk`` against each gateway in turn, twice, with the gateway's CPU time per request (all
  its threads, from ``/proc``); then once each with two workers.

The prompt (the same ~900 bytes as ``overhead.py``) holds one email address, which the full chain redacts.
Each request's user message ends with a serial number of its own, so that no two are alike: the content
stages remember what a caller sent (a conversation's history is not inspected again each turn), and the
same message every time would measure only that. The system prompt, the same in every request, is
remembered, as it would be in use.
Writes the figures into docs/benchmarks.md between the ``content-stages`` markers. Run:
``python bench/content_stages.py``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import (
    BATCH,
    PACK,
    alternating,
    arguments,
    free_port,
    gateway_url,
    lane_config,
    percentile,
    replace_section,
    run_wrk,
    start_gateway,
    start_upstream,
    wait_ready,
)

FULL = PACK.replace("chain: [data-routing-policy, audit-logger]",
                    "chain: [dlp-filter, pii-detector, data-routing-policy, audit-logger]").replace(
    "  audit-logger: {{}}", "  audit-logger: {{}}\n  dlp-filter: {{detect_patterns: ['EMP-[0-9]{{6}}'], blocked_terms: "
    "[export controlled memo]}}\n  pii-detector: {{action: redact}}")
CHAINS = {"default chain": PACK, "with the content stages": FULL}


def _cpu_seconds(pid: int) -> float:
    """User and system time of a process and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    args = arguments(__doc__)
    if not shutil.which("wrk"):
        sys.exit("wrk is needed for the c=64 runs (apt-get install wrk)")

    work = Path(tempfile.mkdtemp(prefix="lanegate-stages-"))
    upstream, up_port = start_upstream(work)
    processes = [upstream]
    lines: list[str] = []
    try:
        wait_ready(f"http://127.0.0.1:{up_port}/")
        configs = {name: lane_config(work, f"chain{index}", pack, up_port) for index, (name, pack) in
                   enumerate(CHAINS.items())}
        gateways: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
        for name, (config, _) in configs.items():
            port = free_port()
            gateways[name] = (start_gateway(config, port, 1), gateway_url(port))
            processes.append(gateways[name][0])
        json = {"content-type": "application/json"}
        urls = {"direct": (f"http://127.0.0.1:{up_port}/v1/chat/completions", json)}
        urls |= {name: (url, {**json, "authorization": f"Bearer {configs[name][1]}"})
                 for name, (_, url) in gateways.items()}
        c1 = alternating(urls, args.requests, vary=True)
        direct = percentile(c1["direct"], 0.5)
        rows = {name: [f"{percentile(c1[name], 0.5):,.0f} µs", f"{percentile(c1[name], 0.5) - direct:,.0f} µs",
                       f"{percentile(c1[name], 0.99):,.0f} µs"] for name in CHAINS}
        for name in CHAINS:
            print(f"c=1 {name}: p50 {rows[name][0]}, added {rows[name][1]} (direct {direct:.0f} us)")
        rates: dict[str, list[float]] = {name: [] for name in CHAINS}
        cpus: dict[str, list[float]] = {name: [] for name in CHAINS}
        two_workers: dict[str, float] = {}
        for _ in range(2):
            for name, (process, url) in gateways.items():
                before = _cpu_seconds(process.pid)
                rate, _, errors = run_wrk(url, configs[name][1], args.seconds, vary=True)
                cpu = (_cpu_seconds(process.pid) - before) / max(1.0, rate * args.seconds) * 1e6
                rates[name].append(rate)
                cpus[name].append(cpu)
                print(f"c=64 {name}: {rate:,.0f} req/s, {cpu:,.0f} us CPU per request, non-2xx {errors}")
        for name, (process, _) in gateways.items():
            process.terminate()
            process.wait(30)
            processes.remove(process)
            port = free_port()
            processes.append(start_gateway(configs[name][0], port, 2))
            rate, _, _ = run_wrk(gateway_url(port), configs[name][1], args.seconds, vary=True)
            two_workers[name] = rate
            print(f"c=64 {name}, 2 workers: {rate:,.0f} req/s")
        lines = [
            "<!-- content-stages:start -->",
            f"Measured {time.strftime('%Y-%m-%d')} with `python bench/content_stages.py` (same machine as above): "
            f"c=1, {args.requests} requests per side in alternating batches of {BATCH} (direct p50 "
            f"{direct:,.0f} µs); c=64, wrk for {args.seconds} s per run, each gateway twice in turn.", "",
            "| | c=1 p50 | added p50 | c=1 p99 | c=64, 1 worker (requests/s) | CPU per request | "
            "c=64, 2 workers |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, row in rows.items():
            rate_cells = " / ".join(f"{r:,.0f}" for r in rates[name])
            cpu_cells = " / ".join(f"{c:,.0f} µs" for c in cpus[name])
            lines.append(f"| {name} | {row[0]} | **{row[1]}** | {row[2]} | {rate_cells} | {cpu_cells} | "
                         f"{two_workers[name]:,.0f} |")
        lines.append("<!-- content-stages:end -->")
    finally:
        for process in processes:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(30)
    if not args.no_write:
        replace_section("content-stages", lines)


if __name__ == "__main__":
    main()
