"""Auditor operations over HTTP: read records (with receipts), signed checkpoints, and export bundles.

Records are returned exactly as stored (their canonical JSON embedded verbatim), so an auditor can hash
them and check receipts without trusting any reformatting.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import orjson

from lanegate.errors import Refusal, invalid_request, not_found
from lanegate.evidence.note import Checkpoint, NoteError
from lanegate.exchange import Exchange
from lanegate.ledger.export import FILTER_FIELDS, ExportParams, default_exports_dir, finish_export, start_export
from lanegate.ledger.receipts import receipt
from lanegate.ledger.signing import sign_checkpoint, verifier_keys
from lanegate.operations.answer import Answer, Query, json_answer
from lanegate.operations.schemas import ExportRequest, parse_body
from lanegate.store.base import DecisionQuery, ExportJob, StoredDecision
from lanegate.timeparse import parse_time

DECISIONS = {"served", "refused", "config_changed"}


def _row(row: StoredDecision) -> dict[str, Any]:
    return {"seq": row.seq, "hash": row.hash, "record": orjson.Fragment(row.body)}


def _b64(values: list[bytes]) -> list[str]:
    return [base64.b64encode(v).decode() for v in values]


async def events(ex: Exchange) -> Answer:
    """``GET audit/events?since=&decision=&after=&limit=``: records in chain order, a page at a time."""
    query = Query(ex.query)
    limit = query.integer("limit", 100, 1, 1000)
    wanted = DecisionQuery(since=query.time("since"), decision=query.choice("decision", DECISIONS),
                           limit=limit + 1, after_seq=query.integer("after", 0, 0))
    rows = [row async for row in ex.lane.store.iter_decisions(wanted)]
    page = rows[:limit]
    ex.operation = {"records": len(page)}
    return json_answer({"object": "list", "data": [_row(r) for r in page], "has_more": len(rows) > limit,
                        "next_after": page[-1].seq if page else wanted.after_seq})


async def event(ex: Exchange) -> Answer:
    """``GET audit/events/{request id}[?proof=true]``: one record, optionally with its receipt."""
    query = Query(ex.query)
    assert ex.path_id is not None
    row = await ex.lane.store.find_decision(ex.path_id)
    if row is None:
        raise not_found(f"No record of request '{ex.path_id}' in this lane.", "record_not_found")
    payload = _row(row)
    if query.flag("proof"):
        payload["receipt"] = (await receipt(ex.lane.store, ex.lane.config.origin, row)).as_json()
    ex.operation = {"record_seq": row.seq}
    return json_answer(payload)


async def checkpoint(ex: Exchange) -> Answer:
    """``GET audit/checkpoint[?from_size=N]``: the log signed now, with a consistency proof from size N."""
    query = Query(ex.query)
    from_size = query.integer("from_size", 0, 0)
    store = ex.lane.store
    signed = await sign_checkpoint(store, ex.lane.config.origin)
    if signed is None:
        raise not_found("This lane's log has no records yet.", "empty_log")
    if from_size > signed.size:
        raise invalid_request(f"'from_size' {from_size} is larger than the log ({signed.size}): the checkpoint you "
                              "hold is not from this log.", "invalid_query", "from_size")
    payload: dict[str, Any] = {"size": signed.size, "root": base64.b64encode(signed.root).decode(),
                               "checkpoint": signed.note, "keys": [k.encode() for k in await verifier_keys(store)]}
    if 0 < from_size < signed.size:
        payload["consistency"] = {"from_size": from_size,
                                  "proof": _b64(await store.ledger.consistency_proof(from_size, signed.size))}
    ex.operation = {"tree_size": signed.size}
    return json_answer(payload)


def _job(ex: Exchange, job: ExportJob) -> dict[str, Any]:
    out: dict[str, Any] = {"id": job.id, "object": "export", "status": job.status, "created_at": job.created_at,
                           "finished_at": job.finished_at, "done": job.done, "total": job.total,
                           "sha256": job.sha256, "error": job.error, "params": orjson.loads(job.params)}
    if job.status == "done":
        out["bundle_url"] = f"/lanes/{ex.lane.name}/v1/audit/exports/{job.id}/bundle"
    return out


def _export_params(request: ExportRequest) -> ExportParams:
    try:
        since = parse_time(request.from_) if request.from_ else None
        until = parse_time(request.to) if request.to else None
    except ValueError as exc:
        raise invalid_request(f"from/to: {exc}.", "invalid_request", "from") from None
    for key, value in (request.filter or {}).items():
        if key not in FILTER_FIELDS or not value:
            raise invalid_request(f"filter.{key}: filter on one of {sorted(FILTER_FIELDS)} with a non-empty value.",
                                  "invalid_request", f"filter.{key}")
    if request.previous is not None:
        try:
            Checkpoint.parse(request.previous.partition("\n\n")[0] + "\n")
        except NoteError as exc:
            raise invalid_request(f"previous: not a checkpoint ({exc}).", "invalid_request", "previous") from None
    return ExportParams(since, until, request.filter or None, request.previous)


async def create_export(ex: Exchange) -> Answer:
    """``POST audit/exports``: start an export job; poll it, then download its bundle."""
    params = _export_params(parse_body(ExportRequest, ex.body))
    lane = ex.lane
    job = await start_export(lane.store, params)
    lane.services.spawn(finish_export(lane.store, lane.config, params, default_exports_dir(lane.config), job),
                        f"export-{job.id}")
    ex.operation = {"export_id": job.id}
    location = f"/lanes/{lane.name}/v1/audit/exports/{job.id}".encode()
    return json_answer(_job(ex, job), 202, [(b"location", location)])


async def list_exports(ex: Exchange) -> Answer:
    """``GET audit/exports``: every export job of the lane, newest first."""
    jobs = await ex.lane.store.jobs.list_exports()
    return json_answer({"object": "list", "data": [_job(ex, j) for j in jobs]})


async def _find_job(ex: Exchange) -> ExportJob:
    assert ex.path_id is not None
    job = await ex.lane.store.jobs.get_export(ex.path_id)
    if job is None:
        raise not_found(f"No export '{ex.path_id}' in this lane.", "export_not_found")
    return job


async def get_export(ex: Exchange) -> Answer:
    """``GET audit/exports/{id}``: one job with its progress."""
    return json_answer(_job(ex, await _find_job(ex)))


async def bundle(ex: Exchange) -> Answer:
    """``GET audit/exports/{id}/bundle``: the finished bundle (a zip), with its SHA-256 in a header."""
    job = await _find_job(ex)
    if job.status != "done" or job.path is None or job.sha256 is None:
        raise Refusal(409, f"Export '{job.id}' is {job.status}; its bundle is not available.",
                      type="invalid_request_error", code="export_not_ready")
    path = Path(job.path)
    if not await asyncio.to_thread(path.is_file):
        raise not_found(f"The bundle of export '{job.id}' is no longer on the gateway.", "bundle_missing")
    ex.operation = {"export_id": job.id, "sha256": job.sha256}
    filename = f"{ex.lane.name}-{job.id}.zip"
    return Answer(200, content_type=b"application/zip", file=path, headers=[
        (b"content-disposition", f'attachment; filename="{filename}"'.encode()),
        (b"x-lanegate-bundle-sha256", job.sha256.encode())])
