"""Lane keys: format, hashing at rest, lane binding, revocation."""

from __future__ import annotations

import asyncio

import pytest

from lanegate.errors import Refusal
from lanegate.identity.keys import KeyVerifier, create_key, hash_key, key_lane
from lanegate.store.sqlite import SqliteStore


def test_key_format_names_its_lane():
    assert key_lane("lgk_eu_" + "a" * 43) == "eu"
    assert key_lane("lgk_eu_short") is None and key_lane("sk-abc") is None and key_lane("") is None


def test_keys_are_stored_hashed_and_bound_to_their_lane(tmp_path):
    async def run():
        eu, us = SqliteStore(f"sqlite:///{tmp_path}/eu.db"), SqliteStore(f"sqlite:///{tmp_path}/us.db")
        key, record = await create_key(eu, "eu", "billing")
        verifier = KeyVerifier({"eu": eu, "us": us}, cache_seconds=0)
        principal = await verifier.principal(f"Bearer {key}", "eu")
        with pytest.raises(Refusal) as other_lane:
            await verifier.principal(f"Bearer {key}", "us")
        stored = await eu.list_keys()
        await eu.revoke_key("billing", "now")
        with pytest.raises(Refusal) as revoked:
            await verifier.principal(f"Bearer {key}", "eu")
        await eu.close()
        await us.close()
        return key, record, principal, other_lane.value, stored, revoked.value

    key, record, principal, other_lane, stored, revoked = asyncio.run(run())
    assert principal.name == "billing" and principal.lane == "eu"
    assert other_lane.status == 403
    assert revoked.status == 401
    assert stored[0].key_hash == hash_key(key) and key not in str(stored)
    assert record.prefix.startswith("lgk_eu_") and len(record.prefix) < 20


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer  "])
def test_missing_or_malformed_authorization_is_401(header, tmp_path):
    async def run():
        verifier = KeyVerifier({}, cache_seconds=0)
        with pytest.raises(Refusal) as caught:
            await verifier.principal(header, "eu")
        return caught.value

    refusal = asyncio.run(run())
    assert refusal.status == 401 and refusal.code == "missing_api_key"
