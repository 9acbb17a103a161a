"""``lanegate whoami``: what the gateway resolves for a credential, to debug group and role mapping."""

from __future__ import annotations

import asyncio
from typing import Annotated

import orjson
import typer

from lanegate.cli.common import ConfigOption, LaneOption, err, lane_or_exit, load_or_exit, out
from lanegate.errors import Refusal
from lanegate.identity.authenticator import Authenticator, Resolution
from lanegate.identity.keys import KeyVerifier
from lanegate.store import StoreUnavailable, open_store


def whoami(
    lane: LaneOption,
    token: Annotated[str, typer.Option(help="A lane API key or an OIDC access token.", envvar="LANEGATE_TOKEN")],
    config: ConfigOption = None,
) -> None:
    """Show the subject, groups, lanes and roles the gateway resolves for a credential in LANE."""
    loaded = load_or_exit(config)
    lane_or_exit(loaded, lane)

    async def resolve() -> Resolution:
        stores = {name: open_store(cfg.store_url) for name, cfg in loaded.lanes.items()}
        for store in stores.values():
            await store.open()
        try:
            authenticator = Authenticator(KeyVerifier(stores, 0), loaded.lanes)
            return authenticator.resolve(await authenticator.principal(f"Bearer {token}", lane, role=None))
        finally:
            for store in stores.values():
                await store.close()

    try:
        resolution = asyncio.run(resolve())
    except Refusal as refusal:
        err.print(f"[red]{refusal.status} {refusal.code}:[/] {refusal.message}")
        raise typer.Exit(1) from None
    except StoreUnavailable as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from None
    out.print(orjson.dumps(resolution.as_json(), option=orjson.OPT_INDENT_2).decode(), markup=False)
