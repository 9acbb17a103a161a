"""Gateway overhead: the same requests sent directly to a fast upstream and through Lanegate.

Starts, each in its own process on loopback: a minimal OpenAI-compatible upstream (uvicorn, httptools,
uvloop) and ``lanegate serve`` with the full default chain (key check, validation, data-routing-policy,
audit-logger, hash-chained SQLite record). Then:

* concurrency 1: N sequential requests directly and through the gateway, in alternating batches (one
  keep-alive connection per batch), so that both see the same machine state; p50 and p99 of each, and the
  difference (the added latency);
* concurrency 64: throughput through the gateway with ``wrk`` (Debian package ``wrk``) when installed,
  for 1 and 2 gateway workers.

Writes the figures into docs/benchmarks.md between the ``overhead`` markers. Run: ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BODY = (b'{"model":"chat","messages":[{"role":"system","content":"You are a helpful assistant."},'
        b'{"role":"user","content":"' + b"Please summarise the following paragraph. " * 20 +
        b'Reply to jane.roe@example.com."}]}')

UPSTREAM = '''
BODY = (b'{"id":"chatcmpl-1","object":"chat.completion","created":0,"model":"m","choices":[{"index":0,'
        b'"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],'
        b'"usage":{"prompt_tokens":100,"completion_tokens":1,"total_tokens":101}}')
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
'''

PACK = """
lane: {{name: bench, jurisdiction: EU, allowed_regions: [eu-central-1]}}
pack: {{name: bench-pack, version: "1.0.0"}}
providers:
  targets:
    - id: fast
      base_url: http://127.0.0.1:{port}/v1
      model: m
      aliases: [chat]
      region: eu-central-1
      data_policy: {{zero_data_retention: true, training_opt_out: true, retention_days: 0, in_memory_only: true}}
policies:
  chain: [data-routing-policy, audit-logger]
policy:
  data-routing-policy: {{require_in_memory_only: true}}
  audit-logger: {{}}
"""
# One principal sends every request here: the per-principal limit is raised so it is checked but never hit.
SETTINGS = "gateway:\n  rate_limit: {requests_per_second: 1000000, burst: 1000000}\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, seconds: float = 30) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()  # noqa: S310 - loopback
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


_USER_END = b'example.com."}]}'  # how the user message of BODY ends


def body(serial: str | None = None) -> bytes:
    """BODY, or with ``serial`` a BODY whose user message ends with it: no two requests alike, as a memo of
    the texts a caller sent (the content stages keep one) would otherwise answer every request after the first."""
    return BODY if serial is None else BODY.replace(_USER_END, b'example.com. Ticket ' + serial.encode() + b'."}]}')


async def sequential(url: str, headers: dict[str, str], count: int, vary: bool = False) -> list[float]:
    timings = []
    connector = aiohttp.TCPConnector(limit=1)
    run = f"{os.getpid()}-{time.monotonic_ns()}"
    async with aiohttp.ClientSession(connector=connector) as session:
        for index in range(count + count // 10):
            data = body(f"{run}-{index}") if vary else BODY
            started = time.perf_counter()
            async with session.post(url, data=data, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status}: {(await response.read())[:200]!r}")
            if index >= count // 10:  # the first tenth warms up
                timings.append((time.perf_counter() - started) * 1e6)
    return timings


BATCH = 200  # requests per side before the next side's turn at c=1


def alternating(urls: dict[str, tuple[str, dict[str, str]]], count: int, vary: bool = False) -> dict[str, list[float]]:
    """``count`` sequential requests to each of ``urls``, in batches taken in turn, so that every side sees
    the same machine state (this machine's speed moves within minutes); ``vary``: no two bodies alike."""
    timings: dict[str, list[float]] = {name: [] for name in urls}
    while any(len(values) < count for values in timings.values()):
        for name, (url, headers) in urls.items():
            timings[name] += asyncio.run(sequential(url, headers, BATCH, vary))
    return timings


def run_wrk(url: str, key: str, seconds: int, vary: bool = False) -> tuple[float, float, int]:
    """Requests/s, p99 (ms) and non-2xx responses of ``wrk`` at c=64; ``vary``: no two bodies alike."""
    script = Path(tempfile.mkdtemp()) / "post.lua"
    before, after = body("\x00").decode().split("\x00")
    varying = textwrap.dedent(f"""
        local threads = 0
        function setup(thread)
          threads = threads + 1
          thread:set("tid", threads)
        end
        local count = 0
        function request()
          count = count + 1
          local text = [==[{before}]==] .. "{os.getpid()}-{time.monotonic_ns()}-" .. tid .. "-" .. count
          return wrk.format(nil, nil, nil, text .. [==[{after}]==])
        end
    """) if vary else ""
    script.write_text(textwrap.dedent(f"""
        wrk.method = "POST"
        wrk.body = [==[{BODY.decode()}]==]
        wrk.headers["content-type"] = "application/json"
        wrk.headers["authorization"] = "Bearer {key}"
        done = function(summary, latency, requests)
          io.write(string.format("NON2XX %d\\n", summary.errors.status))
        end
    """) + varying)
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    errors = int(re.search(r"NON2XX (\d+)", out).group(1))  # type: ignore[union-attr]
    return rate, p99_ms, errors


def lane_config(work: Path, name: str, pack: str, upstream_port: int) -> tuple[Path, str]:
    """A configuration folder ``work/name`` with the bench lane (``pack`` against the upstream) and the
    benchmark's gateway settings, and a new API key for the lane."""
    config = work / name
    config.mkdir()
    (config / "bench.yaml").write_text(pack.format(port=upstream_port))
    (config / "gateway.yaml").write_text(SETTINGS)
    key = subprocess.run([sys.executable, "-m", "lanegate", "keys", "create", "--config", str(config), "--lane",
                          "bench", "--name", "bench"], capture_output=True, text=True, check=True).stdout.strip()
    return config, key


def gateway_url(port: int) -> str:
    """Where a gateway on ``port`` serves the bench lane's chat completions."""
    return f"http://127.0.0.1:{port}/lanes/bench/v1/chat/completions"


def start_gateway(config: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-m", "lanegate", "serve", "--config", str(config), "--port",
                                str(port), "--workers", str(workers)],  # default log level: info
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{port}/readyz")
    return process


def arguments(doc: str) -> argparse.Namespace:
    """The options of the gateway benchmarks (``doc``: the script's docstring)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="sequential requests per side at c=1")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per run")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    return parser.parse_args()


def start_upstream(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The minimal upstream, from ``work`` (where its module is written), and its port."""
    (work / "upstream_app.py").write_text(UPSTREAM)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "upstream_app:app", "--port", str(port), "--loop",
                                "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
                               cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return process, port


def main() -> None:
    args = arguments(__doc__)

    work = Path(tempfile.mkdtemp(prefix="lanegate-bench-"))
    upstream, up_port = start_upstream(work)
    config, key = lane_config(work, "packs", PACK, up_port)
    processes = [upstream]
    results: dict[str, object] = {}
    try:
        wait_ready(f"http://127.0.0.1:{up_port}/")
        direct_url = f"http://127.0.0.1:{up_port}/v1/chat/completions"
        port = free_port()
        gateway = start_gateway(config, port, 1)
        processes.append(gateway)
        gw_url = gateway_url(port)
        auth = {"authorization": f"Bearer {key}", "content-type": "application/json"}
        c1 = alternating({"direct": (direct_url, {"content-type": "application/json"}), "gateway": (gw_url, auth)},
                         args.requests)
        for name, values in c1.items():
            results[f"{name}_p50"] = percentile(values, 0.50)
            results[f"{name}_p99"] = percentile(values, 0.99)
        print(f"c=1 direct p50 {results['direct_p50']:.0f} us p99 {results['direct_p99']:.0f} us; "
              f"gateway p50 {results['gateway_p50']:.0f} us p99 {results['gateway_p99']:.0f} us")
        if shutil.which("wrk"):
            results["wrk_direct"] = run_wrk(direct_url, key, args.seconds)
            results["wrk_1"] = run_wrk(gw_url, key, args.seconds)
            gateway.terminate()
            gateway.wait(30)
            processes.remove(gateway)
            port = free_port()
            processes.append(start_gateway(config, port, 2))
            results["wrk_2"] = run_wrk(gateway_url(port), key, args.seconds)
            for label in ("wrk_direct", "wrk_1", "wrk_2"):
                rate, p99, errors = results[label]  # type: ignore[misc]
                print(f"c=64 {label}: {rate:.0f} req/s, p99 {p99:.1f} ms, non-2xx {errors}")
        else:
            print("wrk not installed (apt-get install wrk): throughput not measured")
        records = subprocess.run([sys.executable, "-m", "lanegate", "audit", "verify", "--config", str(config),
                                  "--lane", "bench"], capture_output=True, text=True, check=False)
        results["verify"] = records.stdout.strip() or records.stderr.strip()
        print(results["verify"])
    finally:
        for process in processes:
            process.terminate()
            process.wait(30)
    if not args.no_write:
        write_doc(results, args)


def write_doc(results: dict[str, object], args: argparse.Namespace) -> None:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    lines = [
        "<!-- overhead:start -->",
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores ({cpu}), Linux {platform.release()}, "
        f"Python {platform.python_version()}; upstream, gateway and load generator share the machine.",
        "",
        f"**Added latency, concurrency 1** ({args.requests} sequential requests each way, in alternating batches "
        f"of {BATCH}, one keep-alive connection per batch, aiohttp client):",
        "",
        "| | p50 | p99 |",
        "|---|---|---|",
        f"| direct to upstream | {results['direct_p50']:.0f} µs | {results['direct_p99']:.0f} µs |",
        f"| through Lanegate (1 worker) | {results['gateway_p50']:.0f} µs | {results['gateway_p99']:.0f} µs |",
        f"| **added by the gateway** | **{results['gateway_p50'] - results['direct_p50']:.0f} µs** "  # type: ignore[operator]
        f"| **{results['gateway_p99'] - results['direct_p99']:.0f} µs** |",  # type: ignore[operator]
        "",
    ]
    if "wrk_1" in results:
        lines += [f"**Throughput, concurrency 64** (wrk, 2 threads, 64 connections, {args.seconds} s):", "",
                  "| | requests/s | p99 | non-2xx |", "|---|---|---|---|"]
        for label, name in (("wrk_direct", "direct to upstream"), ("wrk_1", "through Lanegate, 1 worker"),
                            ("wrk_2", "through Lanegate, 2 workers")):
            rate, p99, errors = results[label]  # type: ignore[misc]
            lines.append(f"| {name} | {rate:,.0f} | {p99:.1f} ms | {errors} |")
        lines.append("")
    lines += [f"Audit chain after the run: `{results['verify']}`", "<!-- overhead:end -->"]
    replace_section("overhead", lines)


def replace_section(name: str, lines: list[str]) -> None:
    """Replace the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` in docs/benchmarks.md."""
    text = DOC.read_text()
    start = text.index(f"<!-- {name}:start -->")
    end = text.index(f"<!-- {name}:end -->") + len(f"<!-- {name}:end -->")
    DOC.write_text(text[:start] + "\n".join(lines) + text[end:])
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
