"""``lanegate demo``: an EU and a US lane with local demo providers, a short tour, then serving."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
from importlib import resources
from pathlib import Path
from string import Template
from typing import Annotated

import typer

from lanegate.cli.common import err, out
from lanegate.cli.events import print_events
from lanegate.config import ConfigError, LoadedConfig, load_config
from lanegate.demo.provider import echo_provider
from lanegate.demo.tour import run_tour
from lanegate.identity.keys import create_key, now_iso
from lanegate.ingress.app import Gateway
from lanegate.logs import configure
from lanegate.store import DecisionQuery, open_store
from lanegate.testing.servers import LoopbackServer


def _refusing_port() -> socket.socket:
    """A bound, never listening loopback socket: connections to its port are refused for as long as it is
    held (the demo's switched-off provider), and no other server can take the port meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def _write_packs(data_dir: Path, urls: dict[str, str]) -> Path:
    packs = data_dir / "packs"
    packs.mkdir(parents=True, exist_ok=True)
    for name in ("eu", "us"):
        template = resources.files("lanegate.demo").joinpath(f"packs/{name}.yaml").read_text(encoding="utf-8")
        text = Template(template).substitute(data_dir=data_dir.resolve(), **urls)
        (packs / f"{name}.yaml").write_text(text, encoding="utf-8")
    return packs


async def _fresh_keys(config: LoadedConfig) -> dict[str, str]:
    keys = {}
    for name, lane in config.lanes.items():
        store = open_store(lane.store_url)
        await store.open()
        try:
            await store.revoke_key("demo", now_iso())
            keys[name], _ = await create_key(store, name, "demo")
        finally:
            await store.close()
    return keys


def demo(
    port: Annotated[int, typer.Option(help="Gateway port.")] = 8088,
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its packs and stores.")] = Path("lanegate-demo"),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Exit after the tour.")] = False,
) -> None:
    """Run Lanegate on embedded defaults: two lanes, local demo providers, a guided tour."""
    configure("warning")
    os.environ["LANEGATE_DEMO_PROVIDER_KEY"] = "demo-provider-" + secrets.token_hex(8)
    eu_provider, us_provider = echo_provider("eu-west-1"), echo_provider("us-east-1")
    servers = [LoopbackServer(eu_provider).start(), LoopbackServer(us_provider).start()]
    switched_off = _refusing_port()
    urls = {"eu_provider": servers[0].url, "us_provider": servers[1].url,
            "down_provider": f"http://127.0.0.1:{switched_off.getsockname()[1]}"}
    packs = _write_packs(data_dir, urls)
    try:
        config = load_config(packs)
        keys = asyncio.run(_fresh_keys(config))
        try:
            gateway = LoopbackServer(Gateway(config), port=port).start()
        except OSError as exc:
            err.print(f"[red]error:[/] cannot listen on port {port} ({exc.strerror}); try --port")
            raise typer.Exit(1) from None
        servers.append(gateway)
        run_tour(out, gateway.url, keys, us_provider.requests)
        out.rule("[bold]3. The EU lane's decision records (lanegate events --lane eu)")
        print_events("eu", packs, DecisionQuery())
        _print_next_steps(gateway.url, keys["eu"], packs)
        if not no_serve:
            out.print("\nServing until interrupted (Ctrl-C).")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                out.print("stopped")
    except ConfigError as exc:  # the embedded packs are tested; this would be a packaging fault
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    finally:
        for server in reversed(servers):
            server.stop()
        switched_off.close()


def _print_next_steps(url: str, key: str, packs: Path) -> None:
    out.rule("[bold]Try it yourself")
    out.print(f"EU lane key (shown once): [bold]{key}[/]\n")
    out.print(f"""curl -s {url}/lanes/eu/v1/chat/completions \\
  -H "Authorization: Bearer {key}" -H "content-type: application/json" \\
  -d '{{"model": "demo-chat", "messages": [{{"role": "user", "content": "hello"}}]}}'

python - <<'PY'
from openai import OpenAI
client = OpenAI(base_url="{url}/lanes/eu/v1", api_key="{key}")
print(client.chat.completions.create(model="demo-chat",
      messages=[{{"role": "user", "content": "hello"}}]).choices[0].message.content)
PY

lanegate events --config {packs} --lane eu
lanegate audit verify --config {packs} --lane eu""", markup=False)
