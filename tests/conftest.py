"""Shared fixtures: real fake upstreams and a real gateway, each on its own loopback port."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest

from lanegate.config import LoadedConfig, load_config
from lanegate.identity.keys import create_key
from lanegate.ingress.app import Gateway
from lanegate.store import open_store
from lanegate.testing import FakeUpstream, LoopbackServer


@dataclass
class Upstream:
    fake: FakeUpstream
    url: str


@dataclass
class RunningGateway:
    url: str
    app: Gateway
    config: LoadedConfig
    keys: dict[str, str]
    config_dir: Path

    def client(self, lane: str, key: str | None = None, **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/lanes/{lane}/v1", api_key=key or self.keys[lane],
                             max_retries=0, timeout=20, **kwargs)

    def async_client(self, lane: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/lanes/{lane}/v1", api_key=self.keys[lane],
                                  max_retries=0, timeout=20)

    def add_key(self, lane: str, name: str, roles: tuple[str, ...]) -> str:
        """A new key of ``lane`` holding ``roles``, created in the lane's store while the gateway runs."""

        async def create() -> str:
            store = open_store(self.config.lanes[lane].store_url)
            await store.open()
            try:
                return (await create_key(store, lane, name, roles))[0]
            finally:
                await store.close()

        return asyncio.run(create())

    def http(self, lane: str, key: str) -> httpx.Client:
        """A plain HTTP client for ``/lanes/{lane}/v1/`` sending ``key``."""
        return httpx.Client(base_url=f"{self.url}/lanes/{lane}/v1/", headers={"authorization": f"Bearer {key}"},
                            timeout=20)

    def records(self, lane: str, *, config_changes: bool = False) -> list[dict[str, Any]]:
        """The lane's records in chain order: request decisions, and with ``config_changes`` also the records
        of packs put in force (one at the first start)."""
        path = self.config.lanes[lane].store_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as db:
            rows = [orjson.loads(row[0]) for row in db.execute("SELECT body FROM decisions ORDER BY seq")]
        return [r for r in rows if config_changes or r["decision"] != "config_changed"]


@pytest.fixture
def upstream() -> Iterator[Callable[[str], Upstream]]:
    servers: list[LoopbackServer] = []

    def make(name: str = "fake") -> Upstream:
        fake = FakeUpstream(name)
        server = LoopbackServer(fake).start()
        servers.append(server)
        return Upstream(fake, server.url)

    yield make
    for server in servers:
        server.stop()


async def make_keys(config: LoadedConfig) -> dict[str, str]:
    keys = {}
    for name, lane in config.lanes.items():
        store = open_store(lane.store_url)
        await store.open()
        keys[name], _ = await create_key(store, name, f"{name}-app")
        await store.close()
    return keys


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Callable[..., RunningGateway]]:
    servers: list[LoopbackServer] = []

    def make(packs: dict[str, str], settings: str | None = None, **app_options: Any) -> RunningGateway:
        config_dir = tmp_path / f"config{len(servers)}"
        config_dir.mkdir()
        for name, text in packs.items():
            (config_dir / f"{name}.yaml").write_text(text)
        if settings is not None:
            (config_dir / "gateway.yaml").write_text(settings)
        config = load_config(config_dir)
        keys = asyncio.run(make_keys(config))
        app = Gateway(config, **app_options)
        server = LoopbackServer(app).start()
        servers.append(server)
        return RunningGateway(server.url, app, config, keys, config_dir)

    yield make
    for server in servers:
        server.stop()


_HELD: list[socket.socket] = []


def closed_port_url() -> str:
    """A loopback URL that refuses connections: its port stays bound (never listening) for the whole run,
    so no server started later can take it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    _HELD.append(sock)
    return f"http://127.0.0.1:{sock.getsockname()[1]}"
