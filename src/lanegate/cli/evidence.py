"""Evidence commands: export jobs, the offline verifier, checkpoint keys, checkpoints and receipts."""

from __future__ import annotations

import base64
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lanegate.cli.common import ConfigOption, LaneOption, err, lane_or_exit, load_or_exit, out, parse_since, with_store
from lanegate.config.lane import LaneConfig
from lanegate.evidence import merkle
from lanegate.evidence import verify as verifier
from lanegate.evidence.note import Checkpoint, NoteError, VerifierKey
from lanegate.ledger import receipts, signing
from lanegate.ledger.export import ExportParams, default_exports_dir, parse_filter, run_export
from lanegate.ledger.receipts import Receipt
from lanegate.store import ExportJob, LaneStore
from lanegate.store.base import CheckpointRecord, SigningKeyRecord

export_app = typer.Typer(help="Export a lane's records as an evidence bundle an auditor verifies offline.",
                         no_args_is_help=True)
signing_app = typer.Typer(help="Manage a lane's checkpoint signing keys (Ed25519).", no_args_is_help=True)


@export_app.command("create")
def export_create(
    lane: LaneOption,
    config: ConfigOption = None,
    since: Annotated[str | None, typer.Option("--from", help="Window start: ISO time or 30m, 1h, 2d ago.")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Window end (exclusive): ISO time or duration ago.")] = None,
    filters: Annotated[list[str] | None, typer.Option("--filter", help="FIELD=VALUE (repeat): decision, endpoint, "
                                                     "model, target, region, principal, error_code.")] = None,
    previous: Annotated[Path | None, typer.Option(help="A checkpoint you hold: the bundle proves consistency "
                                                  "with it.")] = None,
    directory: Annotated[Path | None, typer.Option("--dir", help="Where bundles are written (default: "
                                                   "exports/ beside the lane's store).")] = None,
) -> None:
    """Export LANE's records of a window into one bundle file, with progress."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)
    try:
        params = ExportParams(parse_since(since), parse_since(until), parse_filter(filters or []),
                              previous.read_text() if previous else None)
    except (ValueError, OSError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None

    with Progress(TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("export", total=None)

        async def work(store: LaneStore) -> ExportJob:
            return await run_export(store, lane_cfg, params, directory or default_exports_dir(lane_cfg),
                                    lambda done, total: bar.update(task, completed=done, total=total))

        try:
            job = with_store(lane_cfg, work)
        except ValueError as exc:
            err.print(f"[red]error:[/] export failed: {exc}")
            raise typer.Exit(1) from None
    err.print(f"export {job.id}: {job.total} record(s) scanned")
    out.print(f"{job.path}\nsha256 {job.sha256}", markup=False)


def _jobs(lane_cfg: LaneConfig) -> list[ExportJob]:
    async def work(store: LaneStore) -> list[ExportJob]:
        return await store.jobs.list_exports()

    return with_store(lane_cfg, work)


def _job(lane_cfg: LaneConfig, job_id: str) -> ExportJob:
    async def work(store: LaneStore) -> ExportJob | None:
        return await store.jobs.get_export(job_id)

    job = with_store(lane_cfg, work)
    if job is None:
        err.print(f"[red]error:[/] no export {job_id} in lane '{lane_cfg.name}'")
        raise typer.Exit(1)
    return job


@export_app.command("list")
def export_list(lane: LaneOption, config: ConfigOption = None) -> None:
    """List LANE's export jobs, newest first."""
    table = Table("id", "status", "progress", "created", "finished", "window", box=None, header_style="bold")
    for job in _jobs(lane_or_exit(load_or_exit(config), lane)):
        params = orjson.loads(job.params)
        table.add_row(job.id, job.status, f"{job.done}/{job.total}", job.created_at, job.finished_at or "-",
                      f"{params['since'] or '…'} → {params['until'] or '…'}")
    out.print(table)


@export_app.command("get")
def export_get(lane: LaneOption, job_id: Annotated[str, typer.Argument(help="Export id.")],
               config: ConfigOption = None) -> None:
    """Show one export job as JSON."""
    job = _job(lane_or_exit(load_or_exit(config), lane), job_id)
    out.print(orjson.dumps({**asdict(job), "params": orjson.loads(job.params)}, option=orjson.OPT_INDENT_2).decode(),
              markup=False)


@export_app.command("download")
def export_download(lane: LaneOption, job_id: Annotated[str, typer.Argument(help="Export id.")],
                    output: Annotated[Path, typer.Option("--out", "-o", help="Where to write the bundle.")],
                    config: ConfigOption = None) -> None:
    """Copy a finished export's bundle to --out."""
    job = _job(lane_or_exit(load_or_exit(config), lane), job_id)
    if job.status != "done" or not job.path:
        err.print(f"[red]error:[/] export {job_id} is {job.status}")
        raise typer.Exit(1)
    shutil.copyfile(job.path, output)
    out.print(f"{output} (sha256 {job.sha256})", markup=False)


def verify(
    bundle_path: Annotated[Path, typer.Argument(metavar="BUNDLE", help="The bundle file.")],
    key: Annotated[list[str] | None, typer.Option(help="Trusted verifier key NAME+ID+BASE64 (repeat).")] = None,
    previous: Annotated[Path | None, typer.Option(help="An earlier checkpoint file or bundle you hold.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Verify an evidence bundle offline. Exit 0 only when everything holds."""
    args = [str(bundle_path), *[a for k in key or [] for a in ("--key", k)]]
    args += ["--previous", str(previous)] if previous else []
    args += ["--json"] if as_json else []
    raise typer.Exit(verifier.main(args))


@signing_app.command("create")
def signing_create(lane: LaneOption, config: ConfigOption = None) -> None:
    """Create LANE's signing key if it has none (the gateway also does on start)."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)

    async def work(store: LaneStore) -> VerifierKey:
        return (await signing.ensure_key(store, lane_cfg.origin)).verifier()

    out.print(with_store(lane_cfg, work).encode(), markup=False)


@signing_app.command("rotate")
def signing_rotate(lane: LaneOption, config: ConfigOption = None) -> None:
    """Make a new key active; the old one is retired but still verifies the checkpoints it signed."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)

    async def work(store: LaneStore) -> SigningKeyRecord:
        return await signing.rotate_key(store, lane_cfg.origin)

    record = with_store(lane_cfg, work)
    out.print(VerifierKey(record.name, record.public).encode(), markup=False)
    err.print("Restart running gateways so they sign with the new key.")


@signing_app.command("list")
def signing_list(lane: LaneOption, config: ConfigOption = None) -> None:
    """List LANE's signing keys with their verifier keys (public)."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)

    async def work(store: LaneStore) -> list[SigningKeyRecord]:
        return await store.ledger.signing_keys()

    table = Table("id", "created", "status", "verifier key", box=None, header_style="bold")
    for rec in with_store(lane_cfg, work):
        table.add_row(rec.key_id, rec.created_at, f"retired {rec.retired_at}" if rec.retired_at else "active",
                      VerifierKey(rec.name, rec.public).encode())
    out.print(table)


@signing_app.command("export")
def signing_export(lane: LaneOption, config: ConfigOption = None) -> None:
    """Print LANE's verifier keys, one per line, for auditors to pin."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)

    async def work(store: LaneStore) -> list[VerifierKey]:
        return await signing.verifier_keys(store)

    for key in with_store(lane_cfg, work):
        out.print(key.encode(), markup=False)


def checkpoint(lane: LaneOption, config: ConfigOption = None) -> None:
    """Sign a checkpoint of LANE's ledger now and print it."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)

    async def work(store: LaneStore) -> CheckpointRecord | None:
        return await signing.sign_checkpoint(store, lane_cfg.origin)

    record = with_store(lane_cfg, work)
    if record is None:
        err.print(f"lane '{lane}' has no records yet")
        raise typer.Exit(1)
    out.print(record.note, markup=False, end="")


def show(request_id: Annotated[str, typer.Argument(help="The request id (x-request-id).")], lane: LaneOption,
         config: ConfigOption = None,
         proof: Annotated[bool, typer.Option("--proof", help="Add its inclusion proof against the latest "
                                             "checkpoint (signed now if none covers it).")] = False) -> None:
    """Print one decision record, optionally as a receipt with its inclusion proof."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)

    async def work(store: LaneStore) -> tuple[str, Receipt | None]:
        row = await store.find_decision(request_id)
        if row is None or not proof:
            return (row.body if row else ""), None
        return row.body, await receipts.receipt(store, lane_cfg.origin, row)

    body, receipt = with_store(lane_cfg, work)
    if not body:
        err.print(f"[red]error:[/] no record of request {request_id} in lane '{lane}'")
        raise typer.Exit(1)
    out.print(orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode(),
              markup=False)
    if receipt is None:
        return
    out.print(f"\nleaf index {receipt.leaf_index}, inclusion proof ({len(receipt.proof)} hashes):", markup=False)
    for step in receipt.proof:
        out.print(f"  {base64.b64encode(step).decode()}", markup=False)
    out.print(f"checkpoint:\n{receipt.checkpoint}", markup=False, end="")
    out.print(f"receipt {receipt.check()} against the checkpoint above", markup=False)


def consistency(
    old: Annotated[Path, typer.Argument(metavar="CHECKPOINT", help="An earlier signed checkpoint file.")],
    lane: LaneOption,
    config: ConfigOption = None,
) -> None:
    """Prove that LANE's latest checkpoint extends an earlier one (signed now if the log grew)."""
    lane_cfg = lane_or_exit(load_or_exit(config), lane)

    async def work(store: LaneStore) -> tuple[Checkpoint, CheckpointRecord | None, list[bytes], list[VerifierKey]]:
        keys = await signing.verifier_keys(store)
        earlier, _ = Checkpoint.open(old.read_text(encoding="utf-8"), keys)
        latest = await signing.sign_checkpoint(store, lane_cfg.origin)
        proof: list[bytes] = []
        if latest is not None and 0 < earlier.size < latest.size:
            proof = await store.ledger.consistency_proof(earlier.size, latest.size)
        return earlier, latest, proof, keys

    try:
        earlier, latest, proof, _ = with_store(lane_cfg, work)
    except (NoteError, OSError) as exc:
        err.print(f"[red]error:[/] {old}: {exc}")
        raise typer.Exit(1) from None
    if latest is None:
        err.print(f"lane '{lane}' has no records yet")
        raise typer.Exit(1)
    try:
        merkle.verify_consistency(earlier.size, latest.size, earlier.root, latest.root, proof)
    except merkle.ProofError as exc:
        err.print(f"INCONSISTENT: {exc}")
        raise typer.Exit(1) from None
    out.print(f"consistent: size {earlier.size} -> {latest.size}; proof ({len(proof)} hashes):", markup=False)
    for step in proof:
        out.print(f"  {base64.b64encode(step).decode()}", markup=False)
    out.print(latest.note, markup=False, end="")
