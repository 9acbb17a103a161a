"""The SQLite store: group commit, one linear chain across processes sharing the file, keys, secrets."""

from __future__ import annotations

import asyncio
import multiprocessing

import pytest

from lanegate.audit.chain import verify_rows
from lanegate.store import ApiKeyRecord, DecisionQuery
from lanegate.store.sqlite import SqliteStore


def _record(i: int) -> dict:
    return {"id": f"req{i}", "ts": f"2026-01-01T00:00:{i % 60:02d}.000Z", "decision": "served" if i % 2 else "refused"}


async def _rows(store: SqliteStore):
    return [(r.seq, r.request_id, r.body, r.hash) async for r in store.iter_decisions(DecisionQuery())]


def test_concurrent_appends_are_grouped_and_chained(tmp_path):
    async def run():
        store = SqliteStore(f"sqlite:///{tmp_path}/lane.db")
        await store.open()
        stored = await asyncio.gather(*[store.append_decision(_record(i)) for i in range(300)])
        rows = await _rows(store)
        refused = [r async for r in store.iter_decisions(DecisionQuery(decision="refused", limit=10))]
        await store.close()
        return stored, rows, refused

    stored, rows, refused = asyncio.run(run())
    assert sorted(s.seq for s in stored) == list(range(1, 301))
    assert verify_rows(rows).ok and len(rows) == 300
    assert len(refused) == 10 and {r.decision for r in refused} == {"refused"}


def _writer(path: str, offset: int, alone: bool) -> None:
    async def run():
        store = SqliteStore(f"sqlite:///{path}")
        await store.open()
        for batch in range(10):
            if alone:  # one at a time, each committed on the caller's thread when SQLite's write lock is free
                for i in range(10):
                    await store.append_decision(_record(offset + batch * 10 + i), alone=True)
            else:
                await asyncio.gather(*[store.append_decision(_record(offset + batch * 10 + i)) for i in range(10)])
        await store.close()

    asyncio.run(run())


@pytest.mark.parametrize("alone", [False, True], ids=["grouped", "lone records"])
def test_several_processes_sharing_one_store_keep_one_chain_and_one_tree(tmp_path, alone):
    from lanegate.evidence import merkle

    path = str(tmp_path / "shared.db")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(path, n * 1000, alone)) for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0

    async def check():
        store = SqliteStore(f"sqlite:///{path}")
        await store.open()
        result = await _rows(store), await store.ledger.root(300), await _leaves(store)
        await store.close()
        return result

    rows, root, leaves = asyncio.run(check())
    assert len(rows) == 300 and verify_rows(rows).ok
    assert root == merkle.root_of(leaves)


def test_keys_lifecycle_and_lane_secret_stability(tmp_path):
    async def run():
        store = SqliteStore(f"sqlite:///{tmp_path}/k.db")
        record = ApiKeyRecord("id1", "app", "eu", "lgk_eu_abcd…", "h" * 64, "2026-01-01", None)
        await store.create_key(record)
        try:
            await store.create_key(ApiKeyRecord("id2", "app", "eu", "p", "g" * 64, "2026-01-01", None))
            duplicate_refused = False
        except ValueError:
            duplicate_refused = True
        revoked = await store.revoke_key("app", "2026-02-01")
        again = await store.revoke_key("app", "2026-02-02")
        found = await store.find_key("h" * 64)
        first, second = await store.lane_secret("x"), await store.lane_secret("x")
        await store.close()
        return duplicate_refused, revoked, again, found, first, second

    duplicate_refused, revoked, again, found, first, second = asyncio.run(run())
    assert duplicate_refused
    assert revoked is not None and revoked.revoked_at == "2026-02-01" and again is None
    assert found is not None and found.revoked_at == "2026-02-01"
    assert first == second and len(first) == 32


async def _leaves(store: SqliteStore) -> list[bytes]:
    from lanegate.evidence.merkle import leaf_hash

    return [leaf_hash(r.body.encode()) async for r in store.iter_decisions(DecisionQuery())]


def test_the_stored_tree_matches_the_records_and_its_proofs_verify(tmp_path):
    from lanegate.evidence import merkle

    async def run():
        store = SqliteStore(f"sqlite:///{tmp_path}/t.db")
        await store.open()
        for size in (1, 2, 3, 7, 8, 13):
            while await store.ledger.size() < size:
                await store.append_decision(_record(await store.ledger.size()))
            leaves = await _leaves(store)
            root = await store.ledger.root(size)
            assert root == merkle.root_of(leaves)
            for index in range(size):
                merkle.verify_inclusion(index, size, leaves[index], await store.ledger.inclusion_proof(index, size),
                                        root)
            for old in range(1, size + 1):
                merkle.verify_consistency(old, size, merkle.root_of(leaves[:old]), root,
                                          await store.ledger.consistency_proof(old, size))
        await store.close()

    asyncio.run(run())


def test_records_written_before_the_tree_existed_are_added_on_open(tmp_path):
    import sqlite3

    from lanegate.evidence import merkle

    async def write():
        store = SqliteStore(f"sqlite:///{tmp_path}/old.db")
        await store.open()
        for i in range(11):
            await store.append_decision(_record(i))
        await store.close()

    asyncio.run(write())
    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("DELETE FROM merkle_nodes")

    async def reopen():
        store = SqliteStore(f"sqlite:///{tmp_path}/old.db")
        await store.open()
        result = await store.ledger.size(), await store.ledger.root(11), await _leaves(store)
        await store.close()
        return result

    size, root, leaves = asyncio.run(reopen())
    assert size == 11 and root == merkle.root_of(leaves)


def test_sqlite_urls_parse_to_clean_paths():
    from lanegate.store.sqlite_db import parse_sqlite_url

    assert parse_sqlite_url("sqlite:////var/lib/eu.db") == (__import__("pathlib").Path("/var/lib/eu.db"), "NORMAL")
    assert str(parse_sqlite_url("sqlite:////var/lib/eu.db?synchronous=full")[0]) == "/var/lib/eu.db"
    assert parse_sqlite_url("sqlite:///./data/eu.db?synchronous=full")[1] == "FULL"


def test_the_wal_stays_bounded_under_sustained_writes(tmp_path, monkeypatch):
    import os

    from lanegate.store import sqlite_db

    monkeypatch.setattr(sqlite_db, "CHECKPOINT_SECONDS", 0.02)
    monkeypatch.setattr(sqlite_db, "AUTOCHECKPOINT_PAGES", 64)  # 256 KB instead of 64 MB

    async def run():
        store = SqliteStore(f"sqlite:///{tmp_path}/wal.db")
        await store.open()
        sizes = []
        for batch in range(60):  # about 6 MB of records, far past the bound
            await asyncio.gather(*[store.append_decision({**_record(batch * 100 + i), "pad": "x" * 800})
                                   for i in range(100)])
            sizes.append(await asyncio.to_thread(os.path.getsize, tmp_path / "wal.db-wal"))
        rows = await _rows(store)
        await store.close()
        return sizes, rows

    sizes, rows = asyncio.run(run())
    assert len(rows) == 6000 and verify_rows(rows).ok
    assert max(sizes) < 3 * 1024 * 1024, f"the WAL grew to {max(sizes)} bytes"


def test_a_store_from_before_key_roles_gains_the_column_and_its_keys_stay_callers(tmp_path):
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, name TEXT NOT NULL, lane TEXT NOT NULL, "
                   "prefix TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, revoked_at TEXT)")
        db.execute("INSERT INTO api_keys VALUES ('id1', 'app', 'eu', 'p', ?, '2026-01-01', NULL)", ("h" * 64,))

    async def run():
        store = SqliteStore(f"sqlite:///{path}")
        await store.open()
        found = await store.find_key("h" * 64)
        await store.create_key(ApiKeyRecord("id2", "ops", "eu", "p", "g" * 64, "2026-01-02", None, ("admin",)))
        keys = await store.list_keys()
        await store.close()
        return found, keys

    found, keys = asyncio.run(run())
    assert found is not None and found.roles == ("caller",)
    assert [(k.name, k.roles) for k in keys] == [("app", ("caller",)), ("ops", ("admin",))]


def test_processes_putting_the_same_pack_in_force_record_it_once(tmp_path):
    url = f"sqlite:///{tmp_path}/p.db"

    def record(previous):
        return {"id": "cfg", "ts": "2026-01-01T00:00:00.000Z", "decision": "config_changed", "previous": previous}

    async def run():
        stores = [SqliteStore(url) for _ in range(4)]
        for store in stores:
            await store.open()
        first = await asyncio.gather(*(s.set_pack_digest("a" * 64, record) for s in stores))
        second = await stores[0].set_pack_digest("b" * 64, record)
        digest = await stores[3].pack_digest()
        rows = await _rows(stores[0])
        for store in stores:
            await store.close()
        return first, second, digest, rows

    first, second, digest, rows = asyncio.run(run())
    assert sum(r is not None for r in first) == 1
    assert second is not None and '"previous":"' + "a" * 64 in second.body and digest == "b" * 64
    assert len(rows) == 2 and verify_rows(rows).ok
