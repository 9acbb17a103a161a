"""Export jobs and log-sink delivery cursors, in SQLite."""

from __future__ import annotations

import sqlite3
import time

from lanegate.store.base import ExportJob
from lanegate.store.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS exports (id TEXT PRIMARY KEY, status TEXT NOT NULL, params TEXT NOT NULL,
  created_at TEXT NOT NULL, done INTEGER NOT NULL, total INTEGER NOT NULL, path TEXT, sha256 TEXT, error TEXT,
  finished_at TEXT);
CREATE TABLE IF NOT EXISTS sink_cursors (sink TEXT PRIMARY KEY, seq INTEGER NOT NULL, owner TEXT,
  lease_until REAL NOT NULL DEFAULT 0);
"""
EXPORT_FIELDS = {"status", "done", "total", "path", "sha256", "error", "finished_at"}


class SqliteJobs:
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def create_export(self, job: ExportJob) -> None:
        await self._db.run(lambda: self._db.conn().execute(
            "INSERT INTO exports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (job.id, job.status, job.params, job.created_at, job.done, job.total, job.path, job.sha256, job.error,
             job.finished_at)))

    async def update_export(self, job_id: str, **fields: object) -> None:
        unknown = set(fields) - EXPORT_FIELDS
        if unknown:
            raise ValueError(f"unknown export fields {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)  # names checked against EXPORT_FIELDS
        await self._db.run(lambda: self._db.conn().execute(
            f"UPDATE exports SET {assignments} WHERE id = ?", (*fields.values(), job_id)))  # noqa: S608

    async def get_export(self, job_id: str) -> ExportJob | None:
        row = await self._db.run(lambda: self._db.conn().execute(
            "SELECT * FROM exports WHERE id = ?", (job_id,)).fetchone())
        return ExportJob(*row) if row else None

    async def list_exports(self) -> list[ExportJob]:
        rows = await self._db.run(lambda: self._db.conn().execute(
            "SELECT * FROM exports ORDER BY created_at DESC").fetchall())
        return [ExportJob(*row) for row in rows]

    async def sink_cursor(self, sink: str) -> int:
        row = await self._db.run(lambda: self._db.conn().execute(
            "SELECT seq FROM sink_cursors WHERE sink = ?", (sink,)).fetchone())
        return int(row[0]) if row else 0

    async def claim_sink(self, sink: str, owner: str, seconds: float) -> bool:
        def claim(db: sqlite3.Connection) -> bool:
            now = time.time()
            db.execute("INSERT OR IGNORE INTO sink_cursors(sink, seq, owner, lease_until) VALUES (?, 0, NULL, 0)",
                       (sink,))
            cursor = db.execute("UPDATE sink_cursors SET owner = ?, lease_until = ? WHERE sink = ? AND "
                                "(owner = ? OR owner IS NULL OR lease_until < ?)",
                                (owner, now + seconds, sink, owner, now))
            return cursor.rowcount == 1

        return await self._db.run(lambda: self._db.transaction(claim))

    async def advance_sink(self, sink: str, owner: str, seq: int) -> None:
        await self._db.run(lambda: self._db.conn().execute(
            "UPDATE sink_cursors SET seq = ? WHERE sink = ? AND owner = ? AND seq < ?", (seq, sink, owner, seq)))
