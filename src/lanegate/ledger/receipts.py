"""Receipts: a record with its inclusion proof against a signed checkpoint, and the keys that verify it."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from lanegate.evidence import merkle
from lanegate.evidence.note import Checkpoint, NoteError, VerifierKey
from lanegate.ledger.signing import sign_checkpoint, verifier_keys
from lanegate.store.base import LaneStore, StoredDecision


@dataclass(frozen=True)
class Receipt:
    """Proof that ``body`` is leaf ``leaf_index`` of the log signed in ``checkpoint``."""

    body: str
    leaf_index: int
    checkpoint: str
    proof: list[bytes]
    keys: list[VerifierKey]

    def check(self) -> str:
        """``verified``, or ``DOES NOT VERIFY: reason``."""
        try:
            signed, _ = Checkpoint.open(self.checkpoint, self.keys)
            merkle.verify_inclusion(self.leaf_index, signed.size, merkle.leaf_hash(self.body.encode()), self.proof,
                                    signed.root)
        except (NoteError, merkle.ProofError) as exc:
            return f"DOES NOT VERIFY: {exc}"
        return "verified"

    def as_json(self) -> dict[str, Any]:
        return {"leaf_index": self.leaf_index, "proof": [base64.b64encode(p).decode() for p in self.proof],
                "checkpoint": self.checkpoint, "keys": [k.encode() for k in self.keys]}


async def receipt(store: LaneStore, origin: str, row: StoredDecision) -> Receipt:
    """The receipt of ``row`` against the latest checkpoint (signed now if none covers the record yet)."""
    latest = await store.ledger.latest_checkpoint()
    if latest is None or latest.size < row.seq:
        latest = await sign_checkpoint(store, origin)
    assert latest is not None
    path = await store.ledger.inclusion_proof(row.seq - 1, latest.size)
    return Receipt(row.body, row.seq - 1, latest.note, path, await verifier_keys(store))
