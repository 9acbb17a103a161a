"""A lone record committed on the caller's thread: only when nothing else uses the connection or holds
SQLite's write lock, queued otherwise, never lost, never passed through on error."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest

from lanegate.audit.chain import verify_rows
from lanegate.evidence import merkle
from lanegate.store import DecisionQuery, StoreUnavailable
from lanegate.store.sqlite import SqliteStore


def _record(i: int) -> dict:
    return {"id": f"req{i}", "ts": "2026-01-01T00:00:00.000Z", "decision": "served"}


async def _chain_and_tree(store: SqliteStore) -> tuple[bool, int, bool]:
    rows = [(r.seq, r.request_id, r.body, r.hash) async for r in store.iter_decisions(DecisionQuery())]
    size = await store.ledger.size()
    leaves = [merkle.leaf_hash(body.encode()) for _, _, body, _ in rows]
    return verify_rows(rows).ok, len(rows), await store.ledger.root(size) == merkle.root_of(leaves)


def test_a_lone_record_is_committed_on_the_calling_thread(tmp_path, monkeypatch):
    threads: list[int] = []

    async def run():
        store = SqliteStore(f"sqlite:///{tmp_path}/lane.db")
        await store.open()
        original = store._append_rows
        monkeypatch.setattr(store, "_append_rows", lambda db, records: threads.append(threading.get_ident())
                            or original(db, records))
        for i in range(5):
            await store.append_decision(_record(i), alone=True)
        await store.append_decision(_record(5))  # not alone: the store's thread
        result = await _chain_and_tree(store)
        await store.close()
        return result

    assert asyncio.run(run()) == (True, 6, True)
    assert threads[:5] == [threading.get_ident()] * 5 and threads[5] != threading.get_ident()


def test_a_lone_record_waits_for_the_store_thread_when_it_is_busy(tmp_path):
    async def run():
        store = SqliteStore(f"sqlite:///{tmp_path}/lane.db")
        await store.open()
        busy = asyncio.ensure_future(store._run(time.sleep, 0.3))  # the store's thread holds the connection
        await asyncio.sleep(0.05)
        stored = await store.append_decision(_record(1), alone=True)
        done_first = busy.done()
        await busy
        result = await _chain_and_tree(store)
        await store.close()
        return stored.seq, done_first, result

    assert asyncio.run(run()) == (1, True, (True, 1, True))


def test_a_lone_record_is_queued_while_another_process_holds_the_write_lock(tmp_path):
    path = tmp_path / "lane.db"

    async def run():
        store = SqliteStore(f"sqlite:///{path}")
        await store.open()
        await store.append_decision(_record(0))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
        started = time.monotonic()
        stored = await store.append_decision(_record(1), alone=True)  # waits on the store's thread, not here
        waited = time.monotonic() - started
        other.close()
        result = await _chain_and_tree(store)
        await store.close()
        return stored.seq, waited, result

    seq, waited, result = asyncio.run(run())
    assert seq == 2 and 0.25 <= waited < 5 and result == (True, 2, True)  # the event loop never waited on SQLite


def test_a_lone_record_that_cannot_be_written_fails_closed(tmp_path):
    async def run():
        store = SqliteStore(f"sqlite:///{tmp_path}/lane.db")
        await store.open()
        await store.append_decision(_record(0), alone=True)
        await store._run(lambda: store._conn().execute("DROP TABLE decisions"))
        with pytest.raises(StoreUnavailable):
            await store.append_decision(_record(1), alone=True)
        await store.close()

    asyncio.run(run())
