"""Packs put in force: recorded once at start, followed by every process sharing a lane's store."""

from __future__ import annotations

import asyncio
import shutil
import time

import openai
import pytest

from lanegate.config import load_config, load_sources
from lanegate.ingress.app import Gateway
from lanegate.laneset import ReloadRefused
from lanegate.testing import LoopbackServer
from tests.conftest import RunningGateway
from tests.packs import pack, target

HELLO = [{"role": "user", "content": "hello"}]
FAST = "gateway:\n  config_poll_seconds: 0.05\n  key_cache_seconds: 0\n"


def _lane(url: str, aliases: list[str] | None = None, store: str | None = None) -> str:
    text = pack("eu", ["eu-central-1"], [target("eu-a", url, "eu-central-1", aliases=aliases)])
    return text.replace("jurisdiction: EU", f"jurisdiction: EU\n  store: {store}") if store else text


def _wait(predicate, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _second(gw: RunningGateway, config_dir=None) -> tuple[LoopbackServer, openai.OpenAI]:
    """Another gateway process's view: the same stores, its own copy of the configuration."""
    server = LoopbackServer(Gateway(load_config(config_dir or gw.config_dir))).start()
    return server, openai.OpenAI(base_url=f"{server.url}/lanes/eu/v1", api_key=gw.keys["eu"], max_retries=0)


def _serves(client: openai.OpenAI, model: str) -> bool:
    try:
        client.chat.completions.create(model=model, messages=HELLO)
    except openai.NotFoundError:
        return False
    return True


def test_a_pack_is_recorded_once_at_first_start_and_again_only_when_it_changed(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": _lane(eu.url)}, FAST)
    server, _ = _second(gw)  # a second process with the same pack records nothing new
    server.stop()
    changes = [r for r in gw.records("eu", config_changes=True) if r["decision"] == "config_changed"]
    assert len(changes) == 1 and changes[0]["reason"] == "start" and changes[0]["previous_pack_sha256"] is None
    assert changes[0]["principal"] is None
    (gw.config_dir / "eu.yaml").write_text(_lane(eu.url, aliases=["chat", "assistant"]))
    server, _ = _second(gw)  # a restart with an edited pack records the change
    server.stop()
    changes = [r for r in gw.records("eu", config_changes=True) if r["decision"] == "config_changed"]
    assert len(changes) == 2 and changes[1]["previous_pack_sha256"] == changes[0]["pack"]["sha256"]


def test_other_processes_follow_a_reload(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": _lane(eu.url)}, FAST)
    server, other = _second(gw)
    try:
        assert not _serves(other, "assistant")
        (gw.config_dir / "eu.yaml").write_text(_lane(eu.url, aliases=["chat", "assistant"]))
        admin = gw.http("eu", gw.add_key("eu", "lane-admin", ("admin",)))
        assert admin.post("admin/reload").json()["changed"] is True
        _wait(lambda: _serves(other, "assistant"))
    finally:
        server.stop()


def test_a_process_whose_disk_holds_another_pack_keeps_its_own(gateway, upstream, tmp_path, caplog):
    eu = upstream("eu")
    store = f"sqlite:///{tmp_path / 'eu.db'}"
    gw = gateway({"eu": _lane(eu.url, store=store)}, FAST)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(gw.config_dir, elsewhere)
    server, other = _second(gw, elsewhere)
    try:
        (gw.config_dir / "eu.yaml").write_text(_lane(eu.url, aliases=["chat", "assistant"], store=store))
        admin = gw.http("eu", gw.add_key("eu", "lane-admin", ("admin",)))
        assert admin.post("admin/reload").json()["changed"] is True
        _wait(lambda: "reads a different pack" in caplog.text)
        assert not _serves(other, "assistant") and _serves(other, "chat")
    finally:
        server.stop()


def test_a_reload_without_a_configuration_path_is_refused(upstream, tmp_path):
    eu = upstream("eu")

    async def attempt() -> None:
        gateway = Gateway(load_sources([(tmp_path / "eu.yaml", _lane(eu.url))], base=tmp_path))
        await gateway.lanes.reload(["eu"], None, "reload")

    with pytest.raises(ReloadRefused) as refused:
        asyncio.run(attempt())
    assert refused.value.code == "reload_unavailable"
