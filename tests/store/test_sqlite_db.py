"""Records committed on the caller's thread, a lone one or a batch: only when nothing else uses the
connection or holds SQLite's write lock (and, for a batch, when a commit does not wait for the disk), on the
store's thread otherwise, never lost, never passed through on error."""

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
        result = await _chain_and_tree(store)
        await store.close()
        return result

    assert asyncio.run(run()) == (True, 5, True)
    assert threads == [threading.get_ident()] * 5


def _batches(tmp_path, monkeypatch, query: str = "") -> tuple[list[tuple[int, int]], tuple[bool, int, bool]]:
    """Thirty records appended together, then ten more: where each batch was committed, and its size."""
    batches: list[tuple[int, int]] = []

    async def run():
        store = SqliteStore(f"sqlite:///{tmp_path}/lane.db{query}")
        await store.open()
        original = store._append_rows
        monkeypatch.setattr(store, "_append_rows", lambda db, records: batches.append(
            (threading.get_ident(), len(records))) or original(db, records))
        stored = await asyncio.gather(*[store.append_decision(_record(i)) for i in range(30)])
        stored += await asyncio.gather(*[store.append_decision(_record(i)) for i in range(30, 40)])
        assert [s.seq for s in stored] == list(range(1, 41))
        result = await _chain_and_tree(store)
        await store.close()
        return result

    return batches, asyncio.run(run())


def test_records_that_arrive_together_are_committed_together_on_the_calling_thread(tmp_path, monkeypatch):
    batches, result = _batches(tmp_path, monkeypatch)
    assert result == (True, 40, True)
    assert batches == [(threading.get_ident(), 30), (threading.get_ident(), 10)]


def test_batches_go_to_the_store_thread_when_a_commit_waits_for_the_disk(tmp_path, monkeypatch):
    batches, result = _batches(tmp_path, monkeypatch, "?synchronous=full")
    assert result == (True, 40, True)
    assert sum(size for _, size in batches) == 40
    assert all(thread != threading.get_ident() for thread, _ in batches)


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


@pytest.mark.parametrize("count", [1, 5], ids=["lone", "batch"])
def test_records_are_queued_while_another_process_holds_the_write_lock(tmp_path, count):
    path = tmp_path / "lane.db"

    async def run():
        store = SqliteStore(f"sqlite:///{path}")
        await store.open()
        await store.append_decision(_record(0))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
        ticks = 0

        async def tick():  # the event loop keeps running while the records wait for the lock
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.ensure_future(tick())
        started = time.monotonic()
        stored = await asyncio.gather(*[store.append_decision(_record(i), alone=count == 1)
                                        for i in range(1, count + 1)])  # they wait on the store's thread
        waited = time.monotonic() - started
        ticker.cancel()
        other.close()
        result = await _chain_and_tree(store)
        await store.close()
        return [s.seq for s in stored], waited, ticks, result

    seqs, waited, ticks, result = asyncio.run(run())
    assert seqs == list(range(2, count + 2)) and 0.25 <= waited < 5 and ticks >= 10
    assert result == (True, count + 1, True)


@pytest.mark.parametrize("count", [1, 3], ids=["lone", "batch"])
def test_records_that_cannot_be_written_fail_closed(tmp_path, count):
    async def run():
        store = SqliteStore(f"sqlite:///{tmp_path}/lane.db")
        await store.open()
        await store.append_decision(_record(0), alone=True)
        await store._run(lambda: store._conn().execute("DROP TABLE decisions"))
        outcomes = await asyncio.gather(*[store.append_decision(_record(i), alone=count == 1)
                                          for i in range(1, count + 1)], return_exceptions=True)
        await store.close()
        return outcomes

    outcomes = asyncio.run(run())
    assert len(outcomes) == count and all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
