"""The token vault: stable tokens per conversation, sealed values, TTL, and keys that must fit."""

from __future__ import annotations

import asyncio
import base64
import sqlite3

import pytest

from lanegate.pii.vault import TokenVault, parse_key
from lanegate.store.sqlite import SqliteStore

KEY = bytes(range(32))


def _run(tmp_path, work, ttl: float = 60.0, key: bytes = KEY):
    async def go():
        store = SqliteStore(f"sqlite:///{tmp_path}/v.db")
        await store.open()
        try:
            return await work(TokenVault(store.vault, "eu", key, ttl))
        finally:
            await store.close()

    return asyncio.run(go())


def test_the_same_value_keeps_its_token_and_different_values_never_share_one(tmp_path):
    async def work(vault):
        first = await vault.tokenize("c1", [("EMAIL_ADDRESS", "a@x.com"), ("EMAIL_ADDRESS", "b@x.com"),
                                            ("PHONE_NUMBER", "+44 20 7946 0958")])
        again = await vault.tokenize("c1", [("EMAIL_ADDRESS", "b@x.com"), ("EMAIL_ADDRESS", "c@x.com")])
        other = await vault.tokenize("c2", [("EMAIL_ADDRESS", "b@x.com")])
        return first, again, other, await vault.values("c1")

    first, again, other, values = _run(tmp_path, work)
    assert list(first.values()) == ["<EMAIL_ADDRESS_1>", "<EMAIL_ADDRESS_2>", "<PHONE_NUMBER_1>"]
    assert again == {("EMAIL_ADDRESS", "b@x.com"): "<EMAIL_ADDRESS_2>",
                     ("EMAIL_ADDRESS", "c@x.com"): "<EMAIL_ADDRESS_3>"}
    assert other == {("EMAIL_ADDRESS", "b@x.com"): "<EMAIL_ADDRESS_1>"}
    assert values["<EMAIL_ADDRESS_3>"] == "c@x.com" and len(values) == 4


def test_values_are_sealed_at_rest_and_bound_to_their_row(tmp_path):
    _run(tmp_path, lambda vault: vault.tokenize("c1", [("EMAIL_ADDRESS", "secret@x.com"),
                                                       ("EMAIL_ADDRESS", "other@x.com")]))
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("v.db"))
    assert b"secret@x.com" not in raw
    with sqlite3.connect(tmp_path / "v.db") as db:  # swap the two sealed values: neither opens any more
        a, b = db.execute("SELECT sealed FROM vault ORDER BY number").fetchall()
        db.execute("UPDATE vault SET sealed = ? WHERE number = 1", (b[0],))
        db.execute("UPDATE vault SET sealed = ? WHERE number = 2", (a[0],))
    assert _run(tmp_path, lambda vault: vault.values("c1")) == {}
    assert _run(tmp_path, lambda vault: vault.values("c1"), key=bytes(32)) == {}  # another key opens nothing


def test_entries_expire(tmp_path):
    async def work(vault):
        await vault.tokenize("c1", [("EMAIL_ADDRESS", "a@x.com")])
        await asyncio.sleep(0.05)
        return await vault.values("c1")

    assert _run(tmp_path, work, ttl=0.01) == {}


def test_vault_keys_must_be_32_bytes_in_base64_or_hex():
    assert parse_key(base64.b64encode(KEY).decode()) == KEY == parse_key(KEY.hex())
    for bad in ("short", base64.b64encode(b"x" * 16).decode(), "zz" * 32):
        with pytest.raises(ValueError, match="32 random bytes"):
            parse_key(bad)
