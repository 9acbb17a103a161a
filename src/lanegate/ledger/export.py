"""Export jobs: a lane's records for a time window, with everything needed to verify them offline.

A job is recorded in the lane's store with its progress, so ``lanegate export list`` in another terminal
sees it. The bundle format is :mod:`lanegate.evidence.bundle`; the verifier is :mod:`lanegate.evidence.verify`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from lanegate.config.lane import LaneConfig
from lanegate.evidence import bundle
from lanegate.evidence.note import Checkpoint
from lanegate.identity.keys import now_iso
from lanegate.ledger.signing import ensure_key, sign_checkpoint, verifier_keys
from lanegate.store.base import DecisionQuery, ExportJob, LaneStore
from lanegate.store.sqlite_db import parse_sqlite_url

FILTER_FIELDS = {"decision", "endpoint", "model", "target", "region", "principal", "error_code"}
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportParams:
    """What to export: records with ``since <= ts < until`` (ISO-8601 UTC), optionally filtered."""

    since: str | None = None
    until: str | None = None
    filter: dict[str, str] | None = None
    previous: str | None = None  # a signed checkpoint the auditor holds


def parse_filter(items: list[str]) -> dict[str, str] | None:
    """``["decision=refused", "target=eu-a"]`` as a dict; ``ValueError`` names a bad item."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or key not in FILTER_FIELDS or not value:
            raise ValueError(f"bad filter {item!r}: use FIELD=VALUE with FIELD one of {sorted(FILTER_FIELDS)}")
        out[key] = value
    return out or None


def _matches(record: dict[str, Any], wanted: dict[str, str]) -> bool:
    route = record.get("route") or {}
    values = {**{k: record.get(k) for k in ("decision", "endpoint", "model", "error_code")},
              "target": route.get("selected"), "region": route.get("region"),
              "principal": (record.get("principal") or {}).get("name")}
    return all(str(values.get(key)) == value for key, value in wanted.items())


def _b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


async def _consistency(store: LaneStore, size: int, extra: list[int]) -> list[dict[str, Any]]:
    """Proofs from earlier checkpoints (at most 256 of them, the newest, plus ``extra`` sizes)."""
    earlier = [c for c in await store.ledger.checkpoints(max_size=size - 1)][-256:]
    sizes = {c.size: c.root for c in earlier}
    for value in extra:
        if 0 < value < size:
            sizes.setdefault(value, await store.ledger.root(value))
    return [{"size": s, "root": base64.b64encode(r).decode(),
             "proof": _b64(await store.ledger.consistency_proof(s, size))} for s, r in sorted(sizes.items())]


async def run_export(store: LaneStore, lane: LaneConfig, params: ExportParams, directory: Path,
                     progress: Progress | None = None) -> ExportJob:
    """Create the job, build the bundle in ``directory``, and return the finished (or failed) job."""
    job = await start_export(store, params)
    return await finish_export(store, lane, params, directory, job, progress)


async def start_export(store: LaneStore, params: ExportParams) -> ExportJob:
    """Record a new, running export job (so it is listed, with its progress, from the start)."""
    job = ExportJob(uuid.uuid4().hex[:12], "running", json.dumps(asdict(params)), now_iso(), 0, 0, None, None,
                    None, None)
    await store.jobs.create_export(job)
    return job


async def finish_export(store: LaneStore, lane: LaneConfig, params: ExportParams, directory: Path, job: ExportJob,
                        progress: Progress | None = None) -> ExportJob:
    """Build ``job``'s bundle; the job ends ``done`` or ``failed`` (with the reason), also when cancelled."""
    try:
        path, digest, total = await _build(store, lane, params, directory, job.id, progress)
    except BaseException as exc:
        reason = "interrupted: the gateway stopped" if isinstance(exc, asyncio.CancelledError) else str(exc)
        await asyncio.shield(store.jobs.update_export(job.id, status="failed", error=reason,
                                                      finished_at=now_iso()))
        raise
    await store.jobs.update_export(job.id, status="done", path=str(path), sha256=digest, done=total, total=total,
                                   finished_at=now_iso())
    finished = await store.jobs.get_export(job.id)
    assert finished is not None
    return finished


def default_exports_dir(lane: LaneConfig) -> Path:
    """``exports/`` beside the lane's store file."""
    try:
        return parse_sqlite_url(lane.store_url)[0].parent / "exports"
    except ValueError:
        return Path("exports")


async def _build(store: LaneStore, lane: LaneConfig, params: ExportParams, directory: Path, job_id: str,
                 progress: Progress | None) -> tuple[Path, str, int]:
    bounds = await store.decision_bounds(params.since, params.until)
    if bounds is None:
        raise ValueError("no records in that window")
    first, last = bounds
    total = last - first + 1
    await store.jobs.update_export(job_id, total=total)
    record = await sign_checkpoint(store, lane.origin)
    assert record is not None
    lines: list[str] = []
    selected: list[int] = []
    done = 0
    async for row in store.iter_decisions(DecisionQuery(after_seq=first - 1, limit=total)):
        if params.filter is None or _matches(orjson.loads(row.body), params.filter):
            lines.append(row.body)
            selected.append(row.seq)
        done += 1
        if done % 2000 == 0 or done == total:
            await store.jobs.update_export(job_id, done=done)
            if progress:
                progress(done, total)
    if not lines:
        raise ValueError("no records match the filter in that window")
    if params.filter is None:
        proof: dict[str, Any] = {"kind": "range",
                                 "hashes": _b64(await store.ledger.range_proof(first - 1, last, record.size))}
    else:
        proof = {"kind": "inclusion", "proofs": {
            str(seq): _b64(await store.ledger.inclusion_proof(seq - 1, record.size)) for seq in selected}}
    previous = [Checkpoint.parse(params.previous.partition("\n\n")[0] + "\n").size] if params.previous else []
    members = {
        "records.jsonl": ("\n".join(lines) + "\n").encode(),
        "checkpoint.txt": record.note.encode(),
        "proof.json": json.dumps(proof).encode(),
        "consistency.json": json.dumps(await _consistency(store, record.size, previous)).encode(),
        "keys.txt": "".join(k.encode() + "\n" for k in await verifier_keys(store)).encode(),
        "pack.yaml": lane.raw_text.encode(),
    }
    manifest = json.dumps({
        "format": bundle.FORMAT, "version": bundle.VERSION, "lane": lane.name, "origin": lane.origin,
        "jurisdiction": lane.jurisdiction, "created_at": now_iso(),
        "window": {"from": params.since, "to": params.until}, "filter": params.filter,
        "records": {"count": len(lines), "first_seq": selected[0], "last_seq": selected[-1]},
        "tree_size": record.size,
        "pack": {"name": lane.pack.name, "version": lane.pack.version, "sha256": lane.sha256},
        "files": {name: bundle.sha256(data) for name, data in members.items()},
    }, indent=2, sort_keys=True).encode()
    key = await ensure_key(store, lane.origin)
    members = {bundle.MANIFEST: manifest,
               bundle.SIGNATURE: key.sign(bundle.manifest_note_text(lane.origin, manifest)).encode(), **members}
    path, digest = await asyncio.to_thread(_write, directory / f"{lane.name}-{job_id}.zip", members)
    return path, digest, total


def _write(path: Path, members: dict[str, bytes]) -> tuple[Path, str]:
    """Write the bundle next to its final name, then move it into place (no half-written bundle is seen)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as part:
        temporary = Path(part.name)
    digest = bundle.write_bundle(temporary, members)
    temporary.replace(path)
    return path, digest
