"""A lane's checkpoint signing keys, and signing checkpoints of its Merkle tree.

The active key signs; ``rotate`` adds a new active key and retires the old one, whose public half stays
listed so the checkpoints it signed still verify. Keys are named after the lane's origin.
"""

from __future__ import annotations

from lanegate.evidence.note import Checkpoint, SignerKey, VerifierKey
from lanegate.identity.keys import now_iso
from lanegate.store.base import CheckpointRecord, LaneStore, SigningKeyRecord


def _record(key: SignerKey) -> SigningKeyRecord:
    verifier = key.verifier()
    return SigningKeyRecord(verifier.hex_id, key.name, verifier.public, key.private, now_iso(), None)


async def active_key(store: LaneStore) -> SignerKey | None:
    active = [k for k in await store.ledger.signing_keys() if k.retired_at is None]
    return SignerKey(active[-1].name, active[-1].private) if active else None


async def ensure_key(store: LaneStore, origin: str) -> SignerKey:
    """The active signing key, created on first use."""
    key = await active_key(store)
    if key is None or key.name != origin:
        key = SignerKey.generate(origin)
        await store.ledger.add_signing_key(_record(key), retire_others=True)
    return key


async def rotate_key(store: LaneStore, origin: str) -> SigningKeyRecord:
    """Make a new key active and retire the previous ones."""
    record = _record(SignerKey.generate(origin))
    await store.ledger.add_signing_key(record, retire_others=True)
    return record


async def verifier_keys(store: LaneStore) -> list[VerifierKey]:
    """Every public key the lane has signed with, active or retired."""
    return [VerifierKey(k.name, k.public) for k in await store.ledger.signing_keys()]


async def sign_checkpoint(store: LaneStore, origin: str) -> CheckpointRecord | None:
    """Sign the tree as it is now (unless that size is already signed); ``None`` while the tree is empty."""
    size = await store.ledger.size()
    if size == 0:
        return None
    latest = await store.ledger.latest_checkpoint()
    if latest is not None and latest.size == size:
        return latest
    key = await ensure_key(store, origin)
    root = await store.ledger.root(size)
    note = Checkpoint(origin, size, root).sign(key)
    record = CheckpointRecord(size, root, note, key.verifier().hex_id, now_iso())
    await store.ledger.add_checkpoint(record)
    return record
