"""Log sinks against real listeners on loopback: metadata only, signed, in order, never blocking, never lossy."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lanegate.config import ConfigError, load_sources
from lanegate.config.models import WebhookSink as WebhookSpec
from lanegate.sinks.webhook import WebhookSink
from lanegate.store.sqlite import SqliteStore
from lanegate.testing import LoopbackServer
from lanegate.testing.tls import loopback_certificate
from lanegate.testing.upstream import read_body
from tests.packs import pack, target

SECRET_PROMPT = "Patient Jane Roe, diagnosis confidential"
WEBHOOK_SECRET = "whsec-test-1234"
FAST = "gateway:\n  sink_poll_seconds: 0.1\n"


def wait_for(predicate, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


class SyslogTcp:
    """An RFC 6587 octet-counting receiver."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        buffer = b""
        while chunk := conn.recv(65536):
            buffer += chunk
            while b" " in buffer:
                length, _, rest = buffer.partition(b" ")
                if len(rest) < int(length):
                    break
                self.messages.append(rest[: int(length)].decode())
                buffer = rest[int(length) :]


class SyslogUdp:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            self.messages.append(self.sock.recv(65536).decode())


class Webhook:
    """An HTTPS receiver that records batches; ``status`` and ``gate`` control its answers."""

    def __init__(self) -> None:
        self.batches: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        self.gate: threading.Event | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        if self.gate is not None:
            await asyncio.to_thread(self.gate.wait, 30)
        status = self.status
        if status == 200:
            self.batches.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"set-cookie", b"session=receiver-state; Path=/; Secure")]})
        await send({"type": "http.response.body", "body": b""})

    def events(self) -> list[dict]:
        return [e for _, body in self.batches for e in json.loads(body)["events"]]


@pytest.fixture
def webhook(tmp_path):
    receiver = Webhook()
    cert, key = loopback_certificate(tmp_path / "tls")
    server = LoopbackServer(receiver, lifespan="off", tls=(cert, key)).start()
    receiver.url = server.url
    receiver.ca = cert
    yield receiver
    if receiver.gate is not None:
        receiver.gate.set()
    server.stop()


def _webhook_sink(webhook) -> dict:
    return {"id": "soc", "type": "webhook", "url": f"{webhook.url}/hook", "secret_key_ref": {"env": "SOC_SECRET"},
            "ca_file": str(webhook.ca), "region": "eu-central-1"}


def test_every_sink_receives_signed_metadata_only_events(gateway, upstream, webhook, tmp_path, monkeypatch):
    monkeypatch.setenv("SOC_SECRET", WEBHOOK_SECRET)
    eu, tcp, udp = upstream("eu"), SyslogTcp(), SyslogUdp()
    sinks = [{"id": "siem-tcp", "type": "syslog", "host": "127.0.0.1", "port": tcp.port, "region": "eu-central-1"},
             {"id": "siem-udp", "type": "syslog", "host": "127.0.0.1", "port": udp.port, "transport": "udp",
              "region": "eu-central-1"},
             _webhook_sink(webhook),
             {"id": "archive", "type": "jsonl", "path": str(tmp_path / "archive.jsonl"), "region": "eu-central-1"}]
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")], sinks=sinks)}, FAST)
    client = gw.client("eu")
    ids = [client.chat.completions.with_raw_response.create(
        model="chat", messages=[{"role": "user", "content": SECRET_PROMPT}]).headers["x-request-id"] for _ in range(3)]

    archive = tmp_path / "archive.jsonl"
    wait_for(lambda: len(tcp.messages) == 4 and len(udp.messages) == 4 and len(webhook.events()) == 4
             and archive.exists() and len(archive.read_text().splitlines()) == 4)
    for message in tcp.messages + udp.messages:
        assert message.startswith("<110>1 ") and " lanegate " in message and " decision - {" in message
    jsonl_events = [json.loads(line) for line in archive.read_text().splitlines()]
    for events in ([json.loads(m.split(" decision - ", 1)[1]) for m in tcp.messages], webhook.events(), jsonl_events):
        pack_event, *request_events = events  # the pack put in force at start comes first
        assert pack_event["activity_name"] == "Update" and pack_event["api"]["operation"] == "config"
        assert [e["metadata"]["uid"] for e in request_events] == ids
        assert [e["metadata"]["sequence"] for e in events] == [1, 2, 3, 4]
        assert request_events[0]["class_uid"] == 6003
        assert request_events[0]["dst_endpoint"]["location"]["region"] == "eu-central-1"
    headers, body = webhook.batches[0]
    expected = hmac.new(WEBHOOK_SECRET.encode(), headers["x-lanegate-timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["x-lanegate-signature"] == f"sha256={expected}"
    everything = "".join(tcp.messages + udp.messages) + str(webhook.batches) + archive.read_text()
    assert "Jane" not in everything and "diagnosis" not in everything and WEBHOOK_SECRET not in everything


def test_a_failed_sink_catches_up_from_the_ledger_without_loss(gateway, upstream, webhook, monkeypatch):
    monkeypatch.setenv("SOC_SECRET", WEBHOOK_SECRET)
    eu = upstream("eu")
    webhook.status = 503
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")],
                             sinks=[_webhook_sink(webhook)])}, FAST)
    client = gw.client("eu")
    for _ in range(5):
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
    assert webhook.events() == []
    webhook.status = 200
    wait_for(lambda: len(webhook.events()) >= 6)
    assert [e["metadata"]["sequence"] for e in webhook.events()] == [1, 2, 3, 4, 5, 6]  # 1: the pack in force
    assert "lanegate_sink_failures_total" in __import__("httpx").get(f"{gw.url}/metrics").text


def test_a_hung_sink_never_blocks_requests(gateway, upstream, webhook, monkeypatch):
    monkeypatch.setenv("SOC_SECRET", WEBHOOK_SECRET)
    eu = upstream("eu")
    webhook.gate = threading.Event()  # the receiver holds every delivery until the gate opens
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")],
                             sinks=[_webhook_sink(webhook)])}, FAST)
    client = gw.client("eu")
    for _ in range(5):  # each would time out (20 s) if requests waited for the sink
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
    assert webhook.events() == []
    webhook.gate.set()
    wait_for(lambda: len(webhook.events()) == 6)  # the pack put in force, then the 5 requests


def _load(tmp_path: Path, sinks: list[dict]):
    text = pack("eu", ["eu-central-1"], [target("eu-a", "http://127.0.0.1:9", "eu-central-1")], sinks=sinks)
    return load_sources([(tmp_path / "eu.yaml", text)], base=tmp_path)


def test_a_webhook_sink_never_sends_back_a_cookie_its_receiver_set(webhook, monkeypatch):
    monkeypatch.setenv("SOC_SECRET", "s3cret")
    spec = {**_webhook_sink(webhook), "url": webhook.url.replace("127.0.0.1", "localhost") + "/hook"}
    sink = WebhookSink(WebhookSpec.model_validate(spec))  # by name: a client keeps cookies for host names only

    async def two_batches() -> None:
        try:
            await sink.send([{"n": 1}])
            await sink.send([{"n": 2}])
        finally:
            await sink.close()

    asyncio.run(two_batches())
    assert [headers.get("cookie") for headers, _ in webhook.batches] == [None, None]


def test_a_sink_outside_the_lane_regions_is_refused_at_load(tmp_path):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, [{"id": "us-siem", "type": "syslog", "host": "siem.us", "port": 514, "region": "us-east-1"}])
    assert "sinks[0].region: sink 'us-siem' is in region 'us-east-1', outside lane.allowed_regions" in str(caught.value)


def test_a_webhook_must_use_https(tmp_path):
    with pytest.raises(ConfigError, match="must use https"):
        _load(tmp_path, [{"id": "w", "type": "webhook", "url": "http://soc.eu/hook", "region": "eu-central-1",
                          "secret_key_ref": {"env": "X"}}])


@given(st.lists(st.sampled_from(["a", "b"]), min_size=1, max_size=8))
def test_only_one_owner_ships_a_sink_at_a_time(claimants):
    import tempfile

    async def run():
        store = SqliteStore(f"sqlite:///{tempfile.mkdtemp()}/lease.db")
        await store.open()
        holders = {c for c in claimants if await store.jobs.claim_sink("siem", c, 60)}
        await store.close()
        return holders

    assert asyncio.run(run()) == {claimants[0]}
