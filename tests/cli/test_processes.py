"""The commands as a user runs them: real processes, a real port, the openai SDK."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import openai

from lanegate.testing import FakeUpstream, LoopbackServer
from tests.packs import pack, target


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _lanegate(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lanegate", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"}, check=False, **kwargs)


def test_serve_with_two_workers_serves_lanes_and_aggregates_metrics(tmp_path):
    fake = FakeUpstream("eu")
    with LoopbackServer(fake) as up:
        (tmp_path / "eu.yaml").write_text(pack("eu", ["r1"], [target("eu-a", up.url, "r1")]))
        created = _lanegate("keys", "create", "--config", str(tmp_path), "--lane", "eu", "--name", "app")
        key = created.stdout.strip()
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "lanegate", "serve", "--config", str(tmp_path),
                                   "--port", str(port), "--workers", "2", "--log-level", "warning"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline and server.poll() is None, "serve did not become ready"
                time.sleep(0.1)
            client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/lanes/eu/v1", api_key=key, max_retries=0)
            for _ in range(6):
                client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
            metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            served = 'lanegate_requests_total{decision="served",endpoint="chat.completions",lane="eu",target="eu-a"}'
            assert f"{served} 6.0" in metrics
        finally:
            server.terminate()
            output = server.communicate(timeout=30)[0]
        assert key not in output
    verified = _lanegate("audit", "verify", "--config", str(tmp_path), "--lane", "eu")
    assert verified.returncode == 0 and "7 record(s), chain intact" in verified.stdout


def test_serve_refuses_invalid_configuration_with_exit_1(tmp_path):
    (tmp_path / "eu.yaml").write_text(pack("eu", ["r1"], [target("eu-a", "http://h", "us-east-1")]))
    result = _lanegate("serve", "--config", str(tmp_path), "--port", str(_free_port()))
    assert result.returncode == 1 and "providers.targets[0].region" in result.stderr


def test_demo_tour_serves_one_request_and_refuses_one_without_spilling(tmp_path):
    result = _lanegate("demo", "--no-serve", "--port", str(_free_port()), "--data-dir", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "-> 200 via target eu-west-demo" in out
    assert "-> 503 no_compliant_provider" in out
    assert "received 0 request(s) meanwhile" in out
    assert "eu-west-batch (eu-west-1): data_policy.zero_data_retention is false" in out
    assert "fra-onprem-gpu: connect error" in out
    assert "lgk_eu_" in out and "lanegate events" in out
    verified = _lanegate("audit", "verify", "--config", str(tmp_path / "demo" / "packs"), "--lane", "eu")
    assert verified.returncode == 0


def test_sighup_reloads_the_packs_of_a_single_worker_in_place(tmp_path):
    fake = FakeUpstream("eu")
    with LoopbackServer(fake) as up:
        (tmp_path / "eu.yaml").write_text(pack("eu", ["r1"], [target("eu-a", up.url, "r1")]))
        key = _lanegate("keys", "create", "--config", str(tmp_path), "--lane", "eu", "--name", "app",
                        "--role", "caller").stdout.strip()
        port = _free_port()
        server = subprocess.Popen([sys.executable, "-m", "lanegate", "serve", "--config", str(tmp_path),
                                   "--port", str(port), "--log-level", "info"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        models = f"http://127.0.0.1:{port}/lanes/eu/v1/models"
        headers = {"authorization": f"Bearer {key}"}
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(models, headers=headers).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline and server.poll() is None, "serve did not become ready"
                time.sleep(0.1)
            (tmp_path / "eu.yaml").write_text(pack("eu", ["r1"], [target("eu-a", up.url, "r1",
                                                                         aliases=["chat", "assistant"])]))
            server.send_signal(signal.SIGHUP)
            while "assistant" not in httpx.get(models, headers=headers).text:
                assert time.monotonic() < deadline and server.poll() is None, "the pack was not reloaded"
                time.sleep(0.1)
        finally:
            server.terminate()
            output = server.communicate(timeout=30)[0]
        assert "reloaded: eu" in output
    listed = _lanegate("events", "--config", str(tmp_path), "--lane", "eu", "--decision", "config_changed", "--json")
    assert [line.count('"reason":"signal"') for line in listed.stdout.splitlines()] == [0, 1]
