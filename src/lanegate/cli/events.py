"""``lanegate events`` and ``lanegate audit verify``: reading and checking a lane's decision records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from lanegate.audit.chain import ChainReport, check_checkpoints, verify_rows
from lanegate.cli.common import ConfigOption, LaneOption, err, lane_or_exit, load_or_exit, out, parse_since, with_store
from lanegate.ledger.signing import verifier_keys
from lanegate.store import DecisionQuery, LaneStore, StoredDecision

audit_app = typer.Typer(help="Check a lane's audit trail.", no_args_is_help=True)
events_app = typer.Typer(help="List a lane's decision records, or show one (lanegate events show ID).",
                         invoke_without_command=True)


def _route(record: dict[str, Any]) -> str:
    route = record.get("route") or {}
    if route.get("selected"):
        return f"{route['selected']} ({route.get('region')})"
    excluded = len(route.get("excluded") or []) + sum(1 for a in route.get("attempts") or [] if a["outcome"] != "ok")
    return f"none ({excluded} set aside)" if excluded else "-"


@events_app.callback()
def events(
    ctx: typer.Context,
    lane: Annotated[str | None, typer.Option("--lane", "-l", help="Lane name.")] = None,
    config: ConfigOption = None,
    since: Annotated[str | None, typer.Option(help="Only records since: 30m, 1h, 2d or an ISO time.")] = None,
    decision: Annotated[str | None, typer.Option(help="served, refused or config_changed.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many records.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON record per line.")] = False,
) -> None:
    """List LANE's decision records, oldest first."""
    if ctx.invoked_subcommand is not None:
        return
    if lane is None:
        err.print("[red]error:[/] pass --lane NAME")
        raise typer.Exit(2)
    print_events(lane, config, DecisionQuery(since=parse_since(since), decision=decision, limit=limit), as_json)


def print_events(lane: str, config: Path | None, query: DecisionQuery, as_json: bool = False) -> None:
    """Print the records of ``lane`` matching ``query``: a table, or one JSON object per line."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)

    async def work(store: LaneStore) -> list[StoredDecision]:
        return [row async for row in store.iter_decisions(query)]

    rows = with_store(lane_cfg, work)
    if as_json:
        for row in rows:
            out.print(row.body, markup=False)
        return
    table = Table(box=None, header_style="bold")
    for name in ("seq", "time (UTC)", "decision", "status", "endpoint", "model", "target", "principal", "code"):
        table.add_column(name, overflow="fold")
    for row in rows:
        rec = orjson.loads(row.body)
        who = rec.get("principal") or {}
        principal = who.get("name") or who.get("subject") or "-"
        if rec["decision"] == "config_changed":
            pack = rec.get("pack") or {}
            table.add_row(str(row.seq), row.ts[:19].replace("T", " "), "pack in force", "-", "config",
                          f"{pack.get('name')} {pack.get('version')}", str(pack.get("sha256", ""))[:12], principal,
                          rec.get("reason") or "")
            continue
        table.add_row(str(row.seq), row.ts[:19].replace("T", " "), rec["decision"], str(rec["status"]),
                      rec["endpoint"].removesuffix(".completions"), rec.get("model") or "-", _route(rec), principal,
                      rec.get("error_code") or "")
    out.print(table)
    err.print(f"{len(rows)} record(s) in lane '{lane}'")


@audit_app.command("verify")
def verify(lane: LaneOption, config: ConfigOption = None) -> None:
    """Recompute LANE's hash chain and name the first broken record. Exit 1 if it is broken."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)

    async def work(store: LaneStore) -> tuple[ChainReport, list[str], int]:
        rows = [(r.seq, r.request_id, r.body, r.hash) async for r in store.iter_decisions(DecisionQuery())]
        checkpoints = await store.ledger.checkpoints()
        problems = check_checkpoints([body for _, _, body, _ in rows], checkpoints, await verifier_keys(store))
        return verify_rows(rows), problems, len(checkpoints)

    report, problems, checkpoints = with_store(lane_cfg, work)
    for problem in problems:
        err.print(f"BROKEN: lane '{lane}': {problem}")
    if report.broken is not None:
        brk = report.broken
        err.print(f"BROKEN: lane '{lane}': record {brk.seq} (request {brk.request_id}): {brk.reason}")
    if problems or report.broken is not None:
        raise typer.Exit(1)
    out.print(f"ok: lane '{lane}': {report.records} record(s), chain intact, head {report.head}; "
              f"{checkpoints} signed checkpoint(s) match the records")
