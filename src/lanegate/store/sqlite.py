"""SQLite lane store.

SQLite work runs on one dedicated thread per store, except decision records' commits when they cannot make
the event loop wait (below). Decision records are appended with *group commit*: records arriving together,
or while a transaction is in flight, are written together in the next one, each caller awaiting its own
record. A batch is committed on the event loop's thread when the connection is free, SQLite's write lock is
free at once and a commit does not wait for the disk (``synchronous=normal``): handing it to the store's
thread and back costs two thread wake-ups, more than the commit, and under load the hand-offs made the
threads take the interpreter lock from each other several times per request. Otherwise the batch goes to
the store's thread. The tail is read inside a ``BEGIN IMMEDIATE`` transaction, so several gateway processes
sharing the file keep one linear chain.

URL form: ``sqlite:///ABSOLUTE/PATH.db`` with an optional ``?synchronous=full`` (default ``normal``:
a committed record survives a crash of the process; ``full`` also survives a power loss, at some cost).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from lanegate.audit.chain import GENESIS, check_canonical, seal
from lanegate.evidence.merkle import leaf_hash
from lanegate.store import sqlite_jobs, sqlite_ledger, sqlite_vault
from lanegate.store.base import ApiKeyRecord, DecisionQuery, StoredDecision, StoreUnavailable
from lanegate.store.sqlite_db import Busy, SqliteDatabase, parse_sqlite_url
from lanegate.store.sqlite_jobs import SqliteJobs
from lanegate.store.sqlite_ledger import Frontier, SqliteLedger, extend_tree, leaf_count
from lanegate.store.sqlite_vault import SqliteVault

__all__ = ["SqliteStore", "parse_sqlite_url"]
PAGE = 500
T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
  seq INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  ts TEXT NOT NULL,
  decision TEXT NOT NULL,
  body TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_ts ON decisions(ts);
CREATE INDEX IF NOT EXISTS decisions_request ON decisions(request_id);
CREATE TABLE IF NOT EXISTS api_keys (
  key_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  lane TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked_at TEXT,
  roles TEXT NOT NULL DEFAULT 'caller'
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_active_name ON api_keys(name) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS lane_secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS lane_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
""" + sqlite_ledger.SCHEMA + sqlite_jobs.SCHEMA + sqlite_vault.SCHEMA
#: Columns added after a table was first released: added to older files when they are opened.
ADDED_COLUMNS = [("api_keys", "roles", "TEXT NOT NULL DEFAULT 'caller'")]
PACK_DIGEST = "pack_sha256"


class SqliteStore:
    """A :class:`~lanegate.store.base.LaneStore` on one SQLite file."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._db = SqliteDatabase(url, SCHEMA, ADDED_COLUMNS)
        self.path = self._db.path
        self._ledger = SqliteLedger(self._db)
        self._jobs = SqliteJobs(self._db)
        self._vault = SqliteVault(self._db)
        self._pending: list[tuple[dict[str, Any], asyncio.Future[StoredDecision]]] = []
        self._frontier: Frontier = {}
        self._frontier_size = -1  # the tree size the frontier belongs to; -1: unknown
        self._flusher: asyncio.Task[None] | None = None

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self._db.run(fn, *args)

    @property
    def ledger(self) -> SqliteLedger:
        return self._ledger

    @property
    def jobs(self) -> SqliteJobs:
        return self._jobs

    @property
    def vault(self) -> SqliteVault:
        return self._vault

    def _conn(self) -> sqlite3.Connection:
        return self._db.conn()

    async def open(self) -> None:
        await self._run(lambda: self._db.transaction(self._backfill_tree))

    def _backfill_tree(self, db: sqlite3.Connection) -> None:
        """Add Merkle leaves for records stored before this store kept a tree (idempotent)."""
        leaves = leaf_count(db)
        rows = db.execute("SELECT body FROM decisions WHERE seq > ? ORDER BY seq", (leaves,)).fetchall()
        if rows:
            extend_tree(db, leaves, [leaf_hash(row[0].encode("utf-8")) for row in rows])

    async def close(self) -> None:
        while self._flusher is not None and not self._flusher.done():
            await self._flusher
        await self._db.close()

    async def ping(self) -> None:
        await self._run(lambda: self._conn().execute("SELECT 1").fetchone())

    # -- decisions ---------------------------------------------------------------------------------------

    async def append_decision(self, record: dict[str, Any], *, alone: bool = False) -> StoredDecision:
        check_canonical(record)  # reject a malformed record here, before it can fail a whole batch
        if alone and not self._pending and (self._flusher is None or self._flusher.done()):
            try:  # nothing else to commit with it: commit it here, without the hop to the store's thread
                return self._db.run_here(lambda: self._append_batch([record]))[0]
            except Busy:
                pass  # the connection or SQLite's write lock is in use: queue it as under load
        future: asyncio.Future[StoredDecision] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                stored = await self._commit([record for record, _ in batch])
            except Exception as exc:
                error = exc if isinstance(exc, StoreUnavailable) else StoreUnavailable(str(exc))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), item in zip(batch, stored, strict=True):
                if not future.done():
                    future.set_result(item)

    async def _commit(self, records: list[dict[str, Any]]) -> list[StoredDecision]:
        """Commit a batch here when nothing can make the event loop wait for it (see the module docstring),
        else on the store's thread."""
        if not self._db.syncs_on_commit:
            try:
                return self._db.run_here(lambda: self._append_batch(records))
            except Busy:
                pass
        return await self._run(self._append_batch, records)

    def _append_rows(self, db: sqlite3.Connection, records: list[dict[str, Any]]) -> list[StoredDecision]:
        """Append ``records`` to the chain and the tree inside the caller's transaction."""
        row = db.execute("SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0], row[1]) if row else (0, GENESIS)
        first = seq
        out = []
        for record in records:
            seq += 1
            body, digest = seal(record, seq, prev)
            out.append(StoredDecision(seq, record["id"], record["ts"], record["decision"], body, digest))
            prev = digest
        db.executemany(
            "INSERT INTO decisions(seq, request_id, ts, decision, body, hash) VALUES (?, ?, ?, ?, ?, ?)",
            [(d.seq, d.request_id, d.ts, d.decision, d.body, d.hash) for d in out],
        )
        if first != self._frontier_size:  # another process appended: the cached right edge is stale
            self._frontier = {}
        extend_tree(db, first, [leaf_hash(d.body.encode("utf-8")) for d in out], self._frontier)
        self._frontier_size = seq
        return out

    def _append_batch(self, records: list[dict[str, Any]]) -> list[StoredDecision]:
        try:
            return self._db.transaction(lambda db: self._append_rows(db, records))
        except BaseException:
            self._frontier_size = -1  # rolled back: the frontier may hold nodes that were never stored
            raise

    async def set_pack_digest(self, sha256: str,
                              record: Callable[[str | None], dict[str, Any]]) -> StoredDecision | None:
        def swap(db: sqlite3.Connection) -> StoredDecision | None:
            row = db.execute("SELECT value FROM lane_meta WHERE name = ?", (PACK_DIGEST,)).fetchone()
            previous = row[0] if row else None
            if previous == sha256:
                return None
            entry = record(previous)
            check_canonical(entry)
            db.execute("INSERT OR REPLACE INTO lane_meta VALUES (?, ?)", (PACK_DIGEST, sha256))
            return self._append_rows(db, [entry])[0]

        def run() -> StoredDecision | None:
            try:
                return self._db.transaction(swap)
            except BaseException:
                self._frontier_size = -1
                raise

        return await self._run(run)

    async def pack_digest(self) -> str | None:
        row = await self._run(lambda: self._conn().execute(
            "SELECT value FROM lane_meta WHERE name = ?", (PACK_DIGEST,)).fetchone())
        return str(row[0]) if row else None

    async def decision_bounds(self, since: str | None, until: str | None) -> tuple[int, int] | None:
        def bounds() -> tuple[int, int] | None:
            row = self._conn().execute("SELECT MIN(seq), MAX(seq) FROM decisions WHERE ts >= ? AND ts < ?",
                                       (since or "", until or "\uffff")).fetchone()
            return (int(row[0]), int(row[1])) if row and row[0] is not None else None

        return await self._run(bounds)

    async def find_decision(self, request_id: str) -> StoredDecision | None:
        row = await self._run(lambda: self._conn().execute(
            "SELECT seq, request_id, ts, decision, body, hash FROM decisions WHERE request_id = ?",
            (request_id,)).fetchone())
        return StoredDecision(*row) if row else None

    async def iter_decisions(self, query: DecisionQuery) -> AsyncIterator[StoredDecision]:
        after = query.after_seq
        remaining = query.limit
        while remaining is None or remaining > 0:
            size = PAGE if remaining is None else min(PAGE, remaining)
            rows = await self._run(self._page, after, query, size)
            for row in rows:
                yield StoredDecision(*row)
            if len(rows) < size:
                return
            after = rows[-1][0]
            if remaining is not None:
                remaining -= len(rows)

    def _page(self, after: int, query: DecisionQuery, size: int) -> list[tuple[int, str, str, str, str, str]]:
        sql = "SELECT seq, request_id, ts, decision, body, hash FROM decisions WHERE seq > ?"
        args: list[Any] = [after]
        if query.since:
            sql += " AND ts >= ?"
            args.append(query.since)
        if query.decision:
            sql += " AND decision = ?"
            args.append(query.decision)
        sql += " ORDER BY seq LIMIT ?"
        args.append(size)
        return self._conn().execute(sql, args).fetchall()

    # -- API keys ------------------------------------------------------------------------------------------

    async def create_key(self, record: ApiKeyRecord) -> None:
        def insert() -> None:
            try:
                self._conn().execute(
                    "INSERT INTO api_keys(key_id, name, lane, prefix, key_hash, created_at, revoked_at, roles) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (record.key_id, record.name, record.lane, record.prefix, record.key_hash,
                     record.created_at, record.revoked_at, ",".join(record.roles)),
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"an active key named '{record.name}' already exists") from None

        await self._run(insert)

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        row = await self._run(
            lambda: self._conn().execute(
                "SELECT key_id, name, lane, prefix, key_hash, created_at, revoked_at, roles FROM api_keys "
                "WHERE key_hash = ?", (key_hash,)).fetchone()
        )
        return _key(row) if row else None

    async def list_keys(self) -> list[ApiKeyRecord]:
        rows = await self._run(lambda: self._conn().execute(
            "SELECT key_id, name, lane, prefix, key_hash, created_at, revoked_at, roles FROM api_keys "
            "ORDER BY created_at").fetchall())
        return [_key(row) for row in rows]

    async def revoke_key(self, name_or_id: str, when: str) -> ApiKeyRecord | None:
        def revoke() -> ApiKeyRecord | None:
            db = self._conn()
            row = db.execute(
                "SELECT key_id, name, lane, prefix, key_hash, created_at, revoked_at, roles FROM api_keys "
                "WHERE (name = ? OR key_id = ?) AND revoked_at IS NULL",
                (name_or_id, name_or_id)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", (when, row[0]))
            return dataclasses.replace(_key(row), revoked_at=when)

        return await self._run(revoke)

    async def lane_secret(self, name: str, size: int = 32) -> bytes:
        def get_or_create() -> bytes:
            db = self._conn()
            db.execute("INSERT OR IGNORE INTO lane_secrets VALUES (?, ?)", (name, os.urandom(size)))
            row = db.execute("SELECT value FROM lane_secrets WHERE name = ?", (name,)).fetchone()
            return bytes(row[0])

        return await self._run(get_or_create)


def _key(row: tuple[Any, ...]) -> ApiKeyRecord:
    """A key record from a row of ``key_id, name, lane, prefix, key_hash, created_at, revoked_at, roles``."""
    return ApiKeyRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                        roles=tuple(r for r in str(row[7]).split(",") if r))
