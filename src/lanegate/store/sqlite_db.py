"""One SQLite file, its connection, and the single thread work on it runs on (or, for a short write when
nothing else uses the connection, the caller's own thread: :meth:`SqliteDatabase.run_here`)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs

from lanegate.store.base import StoreUnavailable

T = TypeVar("T")
SETUP_SECONDS = 10.0
CHECKPOINT_SECONDS = 0.5
BUSY_SECONDS = 10.0  # how long a write waits for another process's write lock (on the store's thread)
AUTOCHECKPOINT_PAGES = 16384  # 64 MB of 4 KB pages


class Busy(Exception):
    """:meth:`SqliteDatabase.run_here` could not run its function now; run it on the store's thread."""


def parse_sqlite_url(url: str) -> tuple[Path, str]:
    """The database path and synchronous mode of a ``sqlite:///`` URL."""
    prefix = "sqlite:///"
    path, _, query = url.removeprefix(prefix).partition("?")
    if not url.startswith(prefix) or not path:
        raise ValueError(f"not a sqlite:/// URL: {url}")
    mode = parse_qs(query).get("synchronous", ["normal"])[0].upper()
    if mode not in {"NORMAL", "FULL"}:
        raise ValueError("synchronous must be normal or full")
    return Path(path), mode


class SqliteDatabase:
    """Runs callables on the store's own thread with its connection; SQLite errors become StoreUnavailable.

    SQLite checkpoints its WAL inside the commit that crosses ``wal_autocheckpoint`` and stalls that commit
    for the copy and the database file's fsync (about 15 ms here, every 4 MB of WAL by default). Here the
    threshold is ``AUTOCHECKPOINT_PAGES`` (64 MB) and a background thread with its own connection runs PASSIVE
    checkpoints, which never block writers, every ``CHECKPOINT_SECONDS``: most pages are copied off the commit
    path, the rare automatic checkpoint finds little left to do, and it still completes and restarts the WAL,
    so the WAL stays bounded under any load.
    """

    def __init__(self, url: str, schema: str, added_columns: list[tuple[str, str, str]] | None = None) -> None:
        self.path, self._sync = parse_sqlite_url(url)
        self._schema = schema
        self._added_columns = added_columns or []
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="lanegate-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._using = threading.Lock()  # held by whoever uses the connection: the store's thread or run_here
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None

    def conn(self) -> sqlite3.Connection:
        """The connection; only call while holding it: inside :meth:`run` (the store's thread) or the function
        given to :meth:`run_here`."""
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # used by one thread at a time (``_using``), not always the store's own: see run_here
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_SECONDS, check_same_thread=False)
            try:
                self._set_up(conn)
            except BaseException:
                conn.close()
                raise
            os.chmod(self.path, 0o600)
            self._conn = conn
            self._checkpointer = threading.Thread(target=self._checkpoint_wal, name="lanegate-sqlite-wal",
                                                  daemon=True)
            self._checkpointer.start()
        return self._conn

    def _checkpoint_wal(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=1.0)
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:
                    continue  # busy or transient: the next round catches up
        finally:
            conn.close()

    def _set_up(self, conn: sqlite3.Connection) -> None:
        # Switching a new file to WAL and creating the schema can fail at once with "database is locked"
        # when several processes open a fresh store together: SQLite's busy handler does not cover it.
        deadline = time.monotonic() + SETUP_SECONDS
        delay = 0.01
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(f"PRAGMA synchronous={self._sync}")
                conn.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
                conn.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")  # see the class docstring
                conn.executescript(self._schema)
                self._add_columns(conn)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _add_columns(self, conn: sqlite3.Connection) -> None:
        """Bring a file written by an older version up to date (several processes may race: the loser's
        ``duplicate column`` error is the outcome it wanted)."""
        for table, column, definition in self._added_columns:
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            if column in present:
                continue
            try:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            except sqlite3.OperationalError as exc:
                if "duplicate column" not in str(exc):
                    raise

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the store's thread."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._exclusive, fn, *args)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite store {self.path.name}: {exc}") from exc

    def _exclusive(self, fn: Callable[..., T], *args: Any) -> T:
        with self._using:
            return fn(*args)

    @property
    def syncs_on_commit(self) -> bool:
        """Whether a commit waits for the disk (``synchronous=full``), not only for the operating system."""
        return self._sync == "FULL"

    def run_here(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` now on the calling thread, when the connection is open, no one is using it and SQLite's
        write lock is free at once; otherwise raise :class:`Busy` before ``fn`` has changed anything.

        For one short write while the gateway is otherwise idle: handing work to the store's thread and
        back costs two thread wake-ups, which on a small virtual machine take longer than the write itself.
        ``fn`` must begin with ``BEGIN IMMEDIATE`` (:meth:`transaction`): here SQLite does not wait for
        another process's write lock, the busy answer comes back as :class:`Busy`."""
        conn = self._conn
        if conn is None or not self._using.acquire(blocking=False):
            raise Busy
        try:
            conn.execute("PRAGMA busy_timeout=0")
            try:
                return fn()
            finally:
                conn.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:
                raise Busy from None
            raise StoreUnavailable(f"sqlite store {self.path.name}: {exc}") from exc
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite store {self.path.name}: {exc}") from exc
        finally:
            self._using.release()

    def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in a write transaction (on the store's thread)."""
        db = self.conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return result

    async def close(self) -> None:
        def close_sync() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._stop.set()
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.join)
        await self.run(close_sync)
        self._executor.shutdown(wait=True)
