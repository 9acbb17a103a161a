"""The Merkle tree over a lane's decision records, its signed checkpoints and its signing keys, in SQLite.

Leaf ``i`` is record ``seq = i + 1``; its hash is SHA-256(0x00 || the record's canonical body). The hash of
every complete, aligned subtree is saved once (``merkle_nodes``, level 0 = leaves), inside the transaction
that appends the records, so any root or proof needs only O(log² n) reads and several processes sharing the
file build one tree.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from lanegate.evidence import merkle
from lanegate.store.base import CheckpointRecord, SigningKeyRecord
from lanegate.store.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS merkle_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL,
  key_id TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS signing_keys (key_id TEXT PRIMARY KEY, name TEXT NOT NULL, public BLOB NOT NULL,
  private BLOB NOT NULL, created_at TEXT NOT NULL, retired_at TEXT);
"""


Frontier = dict[int, tuple[int, bytes]]


def leaf_count(db: sqlite3.Connection) -> int:
    """The number of leaves in the tree (leaves are dense from 0, so the last index answers from the key)."""
    row = db.execute("SELECT MAX(idx) FROM merkle_nodes WHERE level = 0").fetchone()
    return 0 if row[0] is None else int(row[0]) + 1


def extend_tree(db: sqlite3.Connection, start: int, leaves: list[bytes], frontier: Frontier | None = None) -> None:
    """Save leaves ``start, start+1, ...`` and every subtree they complete (inside the caller's transaction).

    ``frontier`` maps a level to the last node written at it — the tree's right edge, which holds every left
    sibling the next leaves need. The caller keeps it between calls while no other process appends, saving a
    read per node; it is updated in place.
    """
    pending: dict[tuple[int, int], bytes] = {}
    edge: Frontier = frontier if frontier is not None else {}

    def node(level: int, idx: int) -> bytes:
        found = pending.get((level, idx))
        if found is None and edge.get(level, (-1, b""))[0] == idx:
            found = edge[level][1]
        if found is None:
            row = db.execute("SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?", (level, idx)).fetchone()
            if row is None:
                raise sqlite3.IntegrityError(f"merkle node {level}/{idx} is missing")
            found = bytes(row[0])
        return found

    for offset, value in enumerate(leaves):
        level, idx = 0, start + offset
        pending[(0, idx)] = value
        while idx & 1:
            value = merkle.node_hash(node(level, idx - 1), value)
            level, idx = level + 1, idx >> 1
            pending[(level, idx)] = value
    for (level, idx), value in pending.items():
        if idx >= edge.get(level, (-1, b""))[0]:
            edge[level] = (idx, value)
    db.executemany("INSERT INTO merkle_nodes(level, idx, hash) VALUES (?, ?, ?)",
                   [(level, idx, value) for (level, idx), value in pending.items()])


class SqliteLedger:
    """Tree reads, checkpoints and signing keys of one lane store."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    def _size(self) -> int:
        return leaf_count(self._db.conn())

    def _mth(self) -> merkle.SubtreeHash:
        conn = self._db.conn()
        cache: dict[tuple[int, int], bytes] = {}

        def mth(lo: int, hi: int) -> bytes:
            n = hi - lo
            if n & (n - 1) == 0 and lo % n == 0:
                level = n.bit_length() - 1
                key = (level, lo >> level)
                if key not in cache:
                    row = conn.execute("SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?", key).fetchone()
                    if row is None:
                        raise sqlite3.IntegrityError(f"merkle node {key} is missing")
                    cache[key] = bytes(row[0])
                return cache[key]
            k = merkle.split_point(n)
            return merkle.node_hash(mth(lo, lo + k), mth(lo + k, hi))

        return mth

    async def size(self) -> int:
        return await self._db.run(self._size)

    async def root(self, size: int) -> bytes:
        return merkle.EMPTY_ROOT if size == 0 else await self._db.run(lambda: self._mth()(0, size))

    async def leaf(self, index: int) -> bytes:
        return await self._db.run(lambda: self._mth()(index, index + 1))

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return await self._db.run(lambda: merkle.inclusion_proof(index, size, self._mth()))

    async def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return await self._db.run(lambda: merkle.consistency_proof(size1, size2, self._mth()))

    async def range_proof(self, first: int, end: int, size: int) -> list[bytes]:
        return await self._db.run(lambda: merkle.range_proof(first, end, size, self._mth()))

    # -- checkpoints ---------------------------------------------------------------------------------------

    async def add_checkpoint(self, record: CheckpointRecord) -> None:
        await self._db.run(lambda: self._db.conn().execute(
            "INSERT OR IGNORE INTO checkpoints VALUES (?, ?, ?, ?, ?)",
            (record.size, record.root, record.note, record.key_id, record.created_at)))

    async def checkpoints(self, *, min_size: int = 0, max_size: int | None = None) -> list[CheckpointRecord]:
        def read() -> list[Any]:
            return self._db.conn().execute(
                "SELECT size, root, note, key_id, created_at FROM checkpoints WHERE size >= ? AND size <= ? "
                "ORDER BY size", (min_size, max_size if max_size is not None else 2**62)).fetchall()

        return [CheckpointRecord(r[0], bytes(r[1]), r[2], r[3], r[4]) for r in await self._db.run(read)]

    async def latest_checkpoint(self) -> CheckpointRecord | None:
        row = await self._db.run(lambda: self._db.conn().execute(
            "SELECT size, root, note, key_id, created_at FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone())
        return CheckpointRecord(row[0], bytes(row[1]), row[2], row[3], row[4]) if row else None

    # -- signing keys --------------------------------------------------------------------------------------

    async def add_signing_key(self, record: SigningKeyRecord, retire_others: bool) -> None:
        def add(db: sqlite3.Connection) -> None:
            if retire_others:
                db.execute("UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL", (record.created_at,))
            db.execute("INSERT INTO signing_keys VALUES (?, ?, ?, ?, ?, NULL)",
                       (record.key_id, record.name, record.public, record.private, record.created_at))

        await self._db.run(lambda: self._db.transaction(add))

    async def signing_keys(self) -> list[SigningKeyRecord]:
        rows = await self._db.run(lambda: self._db.conn().execute(
            "SELECT key_id, name, public, private, created_at, retired_at FROM signing_keys ORDER BY created_at"
        ).fetchall())
        return [SigningKeyRecord(r[0], r[1], bytes(r[2]), bytes(r[3]), r[4], r[5]) for r in rows]
