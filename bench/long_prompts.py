"""Long prompts beside short ones: what a caller sending megabyte prompts costs everyone else's requests, with
the content stages on.

Two gateways on one upstream, the same lane (``dlp-filter`` and ``pii-detector`` in front of the default chain):
one as shipped, where a request's texts to inspect that hold ``INLINE_CHARS`` characters or more go to a worker
thread (:mod:`lanegate.policy.memo`), and one with every text inspected on the event loop, as before that bound
existed. In each run, four callers send the short chat request of ``overhead.py`` one after another while a
fifth sends long prompts (the 10 KB mixed payload of the labelled sets repeated to the size asked, about one
value to redact every kilobyte), for ``--seconds``; then the same without the fifth caller. Each gateway in
turn, ``--rounds`` times. Reported: the short requests served and their latency (p50, p99), the long prompts
served, and the gateway's CPU time. Writes the figures into docs/benchmarks.md between the ``long-prompts``
markers. Run: ``python bench/long_prompts.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from content_stages import FULL, _cpu_seconds
from overhead import body, free_port, gateway_url, lane_config, percentile, replace_section, start_upstream, wait_ready

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = ROOT.parent / "shared" / "data" / "pii" / "datafog-bench-payloads" / "core_10kb_mixed.txt"
SHORT_CALLERS = 4
# a gateway whose content stages read every text on the event loop: the bound raised past any body
ALL_INLINE = "import sys, lanegate.policy.memo as m; m.INLINE_CHARS = 1 << 40; from lanegate.cli import main; main()"
GATEWAYS = {"as shipped": None, "every text on the event loop": ALL_INLINE}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="characters of each long prompt")
    parser.add_argument("--seconds", type=int, default=8, help="length of each run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per gateway and load")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


def _start(config: Path, launcher: str | None) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    head = [sys.executable, "-c", launcher] if launcher else [sys.executable, "-m", "lanegate"]
    process = subprocess.Popen([*head, "serve", "--config", str(config), "--port", str(port), "--workers", "1"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{port}/readyz")
    return process, port


async def _run(url: str, key: str, seconds: float, long_text: str | None) -> tuple[list[float], int]:
    """Short requests' latencies (ms) and the long prompts served in ``seconds``."""
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    latencies: list[float] = []
    served = 0
    stop = time.monotonic() + seconds
    run = time.monotonic_ns()

    async def post(session: aiohttp.ClientSession, data: bytes) -> None:
        async with session.post(url, data=data, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")

    async def long_caller(session: aiohttp.ClientSession) -> None:
        nonlocal served
        assert long_text is not None
        while time.monotonic() < stop:
            content = f"{long_text} {run}-{served}"  # no two alike: the memo would answer a repeat
            await post(session, orjson.dumps({"model": "chat", "messages": [{"role": "user", "content": content}]}))
            served += 1

    async def short_caller(session: aiohttp.ClientSession, caller: int) -> None:
        count = 0
        while time.monotonic() < stop:
            count += 1
            started = time.perf_counter()
            await post(session, body(f"{run}-{caller}-{count}"))
            latencies.append((time.perf_counter() - started) * 1e3)

    async with aiohttp.ClientSession() as session:
        callers = [short_caller(session, caller) for caller in range(SHORT_CALLERS)]
        await asyncio.gather(*callers, *([long_caller(session)] if long_text is not None else []))
    return latencies, served


def main() -> None:
    args = _arguments()
    if not PAYLOAD.exists():
        sys.exit(f"{PAYLOAD} is missing: the labelled sets sit beside the repository, in ../shared/data/pii/")
    payload = PAYLOAD.read_text()
    long_text = (payload * (args.size // len(payload) + 1))[: args.size]
    work = Path(tempfile.mkdtemp(prefix="lanegate-long-"))
    upstream, up_port = start_upstream(work)
    processes = [upstream]
    rows: dict[tuple[str, bool], list[tuple[int, float, float, int, float]]] = {}
    try:
        wait_ready(f"http://127.0.0.1:{up_port}/")
        gateways = {}
        for index, (name, launcher) in enumerate(GATEWAYS.items()):
            config, key = lane_config(work, f"lane{index}", FULL, up_port)
            process, port = _start(config, launcher)
            processes.append(process)
            gateways[name] = (process, gateway_url(port), key)
        for _ in range(args.rounds):
            for with_long in (True, False):
                for name, (process, url, key) in gateways.items():
                    before = _cpu_seconds(process.pid)
                    latencies, served = asyncio.run(_run(url, key, args.seconds, long_text if with_long else None))
                    cpu = _cpu_seconds(process.pid) - before
                    row = (len(latencies), percentile(latencies, 0.5), percentile(latencies, 0.99), served, cpu)
                    rows.setdefault((name, with_long), []).append(row)
                    print(f"{name}, {'with' if with_long else 'without'} long prompts: {row[0]} short requests, "
                          f"p50 {row[1]:.1f} ms, p99 {row[2]:.1f} ms; long prompts {served}; CPU {cpu:.1f} s",
                          flush=True)
    finally:
        for process in processes:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(30)
    lines = [
        "<!-- long-prompts:start -->",
        f"Measured {time.strftime('%Y-%m-%d')} with `python bench/long_prompts.py` (same machine as above): "
        f"{SHORT_CALLERS} callers sending the short request one after another, with and without a fifth sending "
        f"prompts of {args.size:,} characters; {args.seconds} s per run, {args.rounds} runs each, the gateways in "
        "turn. Figures per run, separated by slashes.", "",
        "| gateway | long prompts beside | short requests served | short p50 | short p99 | long prompts served | "
        "gateway CPU |",
        "|---|---|---|---|---|---|---|",
    ]
    for (name, with_long), runs in rows.items():
        cells = [" / ".join(fmt.format(run[i]) for run in runs)
                 for i, fmt in enumerate(["{:,}", "{:.1f} ms", "{:.1f} ms", "{:,}", "{:.1f} s"])]
        lines.append(f"| {name} | {'yes' if with_long else 'no'} | {cells[0]} | {cells[1]} | {cells[2]} | "
                     f"{cells[3] if with_long else 'none'} | {cells[4]} |")
    lines.append("<!-- long-prompts:end -->")
    if not args.no_write:
        replace_section("long-prompts", lines)


if __name__ == "__main__":
    main()
