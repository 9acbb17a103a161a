"""The measurements behind the hot-path library choices: upstream HTTP client and JSON/validation.

* HTTP client: aiohttp and httpx (both installed as dev/bench tools) against the same minimal upstream on
  loopback — sequential latency and throughput at concurrency 64.
* Parsing: stdlib json, orjson, and the gateway's pydantic request model on a typical chat body.

Writes the figures into docs/benchmarks.md between the ``choices`` markers. Run: ``python bench/choices.py``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

import aiohttp
import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lanegate.ingress.schemas import parse_chat
from overhead import BODY, UPSTREAM, free_port, percentile, replace_section, wait_ready


async def sequential(call, count: int = 2000) -> tuple[float, float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        timings.append((time.perf_counter() - started) * 1e6)
    return percentile(timings, 0.5), percentile(timings, 0.99)


async def concurrent(call, count: int = 4000, width: int = 64) -> float:
    gate = asyncio.Semaphore(width)

    async def one() -> None:
        async with gate:
            await call()

    started = time.perf_counter()
    await asyncio.gather(*[one() for _ in range(count)])
    return count / (time.perf_counter() - started)


async def clients(url: str) -> dict[str, tuple[float, float, float]]:
    out = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async def with_aiohttp() -> None:
            async with session.post(url, data=BODY) as response:
                await response.read()

        await sequential(with_aiohttp, 200)
        out["aiohttp"] = (*await sequential(with_aiohttp), await concurrent(with_aiohttp))
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=None)) as client:
        async def with_httpx() -> None:
            (await client.post(url, content=BODY)).read()

        await sequential(with_httpx, 200)
        out["httpx"] = (*await sequential(with_httpx), await concurrent(with_httpx))
    return out


def parsing() -> dict[str, float]:
    number = 20000
    return {
        "json.loads": timeit.timeit(lambda: json.loads(BODY), number=number) / number * 1e6,
        "orjson.loads": timeit.timeit(lambda: orjson.loads(BODY), number=number) / number * 1e6,
        "orjson.loads + pydantic request model": timeit.timeit(lambda: parse_chat(BODY), number=number) / number * 1e6,
    }


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="lanegate-choices-"))
    (work / "upstream_app.py").write_text(UPSTREAM)
    port = free_port()
    upstream = subprocess.Popen([sys.executable, "-m", "uvicorn", "upstream_app:app", "--port", str(port), "--loop",
                                 "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
                                cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"http://127.0.0.1:{port}/")
        client_figures = asyncio.run(clients(f"http://127.0.0.1:{port}/v1/chat/completions"))
    finally:
        upstream.terminate()
        upstream.wait(30)
    parse_figures = parsing()
    lines = ["<!-- choices:start -->", f"Measured {time.strftime('%Y-%m-%d')} with `python bench/choices.py`.", "",
             "| upstream client | p50 (c=1) | p99 (c=1) | requests/s (c=64) |", "|---|---|---|---|"]
    for name, (p50, p99, rate) in client_figures.items():
        lines.append(f"| {name} | {p50:.0f} µs | {p99:.0f} µs | {rate:,.0f} |")
    lines += ["", f"| parsing a {len(BODY)}-byte chat body | µs per call |", "|---|---|"]
    lines += [f"| {name} | {value:.1f} |" for name, value in parse_figures.items()]
    lines.append("<!-- choices:end -->")
    for line in lines:
        print(line)
    replace_section("choices", lines)


if __name__ == "__main__":
    main()
