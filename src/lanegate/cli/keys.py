"""``lanegate keys``: create, list and revoke lane API keys."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, get_args

import typer
from rich.table import Table

from lanegate.cli.common import ConfigOption, LaneOption, err, lane_or_exit, load_or_exit, out, with_store
from lanegate.config.models import Role
from lanegate.identity.keys import create_key, now_iso
from lanegate.store import ApiKeyRecord, LaneStore

app = typer.Typer(help="Manage lane API keys (stored hashed; a key is shown once, at creation).",
                  no_args_is_help=True)


class RoleName(StrEnum):
    """The roles (``lanegate.config.models.Role``) as command-line choices."""

    caller = "caller"
    auditor = "auditor"
    admin = "admin"


assert {r.value for r in RoleName} == set(get_args(Role))


@app.command("create")
def create(lane: LaneOption, name: Annotated[str, typer.Option(help="A name for the key's holder.")],
           config: ConfigOption = None,
           roles: Annotated[list[RoleName] | None, typer.Option(
               "--role", help="A role the key holds in LANE (repeat for several): caller, auditor, admin. "
               "Default: caller.")] = None) -> None:
    """Create a key for LANE and print it once."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)
    held = tuple(r.value for r in roles) if roles else ("caller",)

    async def work(store: LaneStore) -> tuple[str, ApiKeyRecord]:
        return await create_key(store, lane, name, held)

    try:
        key, record = with_store(lane_cfg, work)
    except ValueError as exc:
        err.print(f"[red]error:[/] {exc}; revoke it first or choose another --name")
        raise typer.Exit(1) from None
    err.print(f"Created key '{record.name}' (id {record.key_id}, roles {', '.join(record.roles)}) for lane "
              f"'{lane}'. It is shown only now:")
    out.print(key)


@app.command("list")
def list_keys(lane: LaneOption, config: ConfigOption = None) -> None:
    """List LANE's keys (names, ids, prefixes; never the keys)."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)

    async def work(store: LaneStore) -> list[ApiKeyRecord]:
        return await store.list_keys()

    table = Table("id", "name", "prefix", "roles", "created", "status")
    for rec in with_store(lane_cfg, work):
        table.add_row(rec.key_id, rec.name, rec.prefix, ", ".join(rec.roles), rec.created_at,
                      f"revoked {rec.revoked_at}" if rec.revoked_at else "active")
    out.print(table)


@app.command("revoke")
def revoke(lane: LaneOption, key: Annotated[str, typer.Argument(help="The key's name or id.")],
           config: ConfigOption = None) -> None:
    """Revoke LANE's active key with this name or id (takes effect within the gateway's key cache time)."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)

    async def work(store: LaneStore) -> ApiKeyRecord | None:
        return await store.revoke_key(key, now_iso())

    record = with_store(lane_cfg, work)
    if record is None:
        err.print(f"[red]error:[/] no active key named or with id '{key}' in lane '{lane}'")
        raise typer.Exit(1)
    out.print(f"Revoked key '{record.name}' (id {record.key_id}).")
