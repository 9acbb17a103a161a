"""The token vault of a lane, in SQLite: which token stands for which (sealed) value, per conversation."""

from __future__ import annotations

import sqlite3
import time

from lanegate.store.base import VaultEntry
from lanegate.store.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS vault (conversation TEXT NOT NULL, token TEXT NOT NULL, entity TEXT NOT NULL,
  number INTEGER NOT NULL, lookup TEXT NOT NULL, sealed BLOB NOT NULL, expires REAL NOT NULL,
  PRIMARY KEY (conversation, token), UNIQUE (conversation, lookup));
CREATE INDEX IF NOT EXISTS vault_expiry ON vault(expires);
"""


class SqliteVault:
    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def tokens(self, conversation: str, entries: list[VaultEntry], ttl_seconds: float) -> list[str]:
        def assign(db: sqlite3.Connection) -> list[str]:
            now = time.time()
            db.execute("DELETE FROM vault WHERE expires < ?", (now,))
            out = []
            for entry in entries:
                row = db.execute("SELECT token FROM vault WHERE conversation = ? AND lookup = ?",
                                 (conversation, entry.lookup)).fetchone()
                if row is not None:
                    db.execute("UPDATE vault SET expires = ? WHERE conversation = ? AND token = ?",
                               (now + ttl_seconds, conversation, row[0]))
                    out.append(str(row[0]))
                    continue
                number = db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM vault WHERE conversation = ? AND "
                                    "entity = ?", (conversation, entry.entity)).fetchone()[0]
                token = f"<{entry.entity}_{number}>"
                db.execute("INSERT INTO vault VALUES (?, ?, ?, ?, ?, ?, ?)", (
                    conversation, token, entry.entity, number, entry.lookup, entry.seal(token), now + ttl_seconds))
                out.append(token)
            return out

        return await self._db.run(lambda: self._db.transaction(assign))

    async def sealed(self, conversation: str) -> dict[str, bytes]:
        rows = await self._db.run(lambda: self._db.conn().execute(
            "SELECT token, sealed FROM vault WHERE conversation = ? AND expires >= ?",
            (conversation, time.time())).fetchall())
        return {str(token): bytes(sealed) for token, sealed in rows}
