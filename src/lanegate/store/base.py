"""The lane store interface.

Each lane has its own store holding its decision records, its API keys and its lane secrets. A backend
must be safe for several gateway processes sharing one store: :meth:`LaneStore.append_decisions` reads the
chain's tail and appends inside one transaction, so the hash chain stays linear whichever process writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A decision record as stored: its position, the previous record's hash and its own hash.

    ``body`` is the canonical JSON of the record including ``seq`` and ``prev``; ``hash`` is its SHA-256.
    """

    seq: int
    request_id: str
    ts: str
    decision: str
    body: str
    hash: str


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key as stored: never the key itself, only its SHA-256."""

    key_id: str
    name: str
    lane: str
    prefix: str
    key_hash: str
    created_at: str
    revoked_at: str | None
    roles: tuple[str, ...] = ("caller",)


@dataclass(frozen=True, slots=True)
class DecisionQuery:
    """Filters for listing decision records; ``since`` is an ISO-8601 UTC timestamp."""

    since: str | None = None
    decision: str | None = None
    limit: int | None = None
    after_seq: int = 0


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    """A signed checkpoint as stored: the tree size, its root, and the signed note text."""

    size: int
    root: bytes
    note: str
    key_id: str
    created_at: str


@dataclass(frozen=True, slots=True)
class SigningKeyRecord:
    """A lane's Ed25519 checkpoint key; ``retired_at`` set once a newer key replaced it."""

    key_id: str
    name: str
    public: bytes
    private: bytes
    created_at: str
    retired_at: str | None


@dataclass(frozen=True, slots=True)
class ExportJob:
    """An evidence export: its parameters, progress and, once done, the bundle's path and SHA-256."""

    id: str
    status: str  # running | done | failed
    params: str  # JSON
    created_at: str
    done: int
    total: int
    path: str | None
    sha256: str | None
    error: str | None
    finished_at: str | None


@dataclass(frozen=True, slots=True)
class VaultEntry:
    """A value to tokenize: its type, a keyed digest to find it again (never the value), and how to seal it
    once its token is known (the token is bound into the ciphertext)."""

    entity: str
    lookup: str
    seal: Callable[[str], bytes]


class StoreUnavailable(Exception):
    """The store could not complete an operation; callers fail closed."""


class LedgerStore(Protocol):
    """The Merkle tree over the lane's records (leaf ``i`` is record ``seq = i + 1``), checkpoints, keys."""

    async def size(self) -> int:
        """The number of leaves (records) in the tree."""

    async def root(self, size: int) -> bytes:
        """The root of the tree's first ``size`` leaves."""

    async def leaf(self, index: int) -> bytes:
        """The hash of leaf ``index``."""

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of ``size`` leaves."""

    async def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """Proof that the ``size1`` tree is a prefix of the ``size2`` tree."""

    async def range_proof(self, first: int, end: int, size: int) -> list[bytes]:
        """Subtree hashes outside leaves ``[first, end)`` of the ``size`` tree."""

    async def add_checkpoint(self, record: CheckpointRecord) -> None:
        """Store a signed checkpoint; one per size (a second for the same size is ignored)."""

    async def checkpoints(self, *, min_size: int = 0, max_size: int | None = None) -> list[CheckpointRecord]:
        """Stored checkpoints with sizes in the range, smallest first."""

    async def latest_checkpoint(self) -> CheckpointRecord | None:
        """The checkpoint of the largest size, if any."""

    async def add_signing_key(self, record: SigningKeyRecord, retire_others: bool) -> None:
        """Store a new signing key, optionally retiring the active ones in the same transaction."""

    async def signing_keys(self) -> list[SigningKeyRecord]:
        """Every signing key, oldest first."""


class VaultStore(Protocol):
    """A lane's token vault: tokens per conversation, each standing for one sealed value, with a TTL."""

    async def tokens(self, conversation: str, entries: list[VaultEntry], ttl_seconds: float) -> list[str]:
        """The token of each entry in ``conversation``: the existing one for a known value (its TTL renewed),
        else the next free ``<TYPE_n>``. Expired entries are purged first. One transaction."""

    async def sealed(self, conversation: str) -> dict[str, bytes]:
        """Every live token of ``conversation`` with its sealed value."""


class JobStore(Protocol):
    """Export jobs and the delivery cursors of log sinks."""

    async def create_export(self, job: ExportJob) -> None:
        """Store a new export job."""

    async def update_export(self, job_id: str, **fields: object) -> None:
        """Update fields (status, done, total, path, sha256, error, finished_at) of a job."""

    async def get_export(self, job_id: str) -> ExportJob | None:
        """One job, or ``None``."""

    async def list_exports(self) -> list[ExportJob]:
        """Every job, newest first."""

    async def sink_cursor(self, sink: str) -> int:
        """The last record ``seq`` delivered to ``sink`` (0 if none)."""

    async def claim_sink(self, sink: str, owner: str, seconds: float) -> bool:
        """Take or renew the lease to ship ``sink``; ``False`` while another owner holds it."""

    async def advance_sink(self, sink: str, owner: str, seq: int) -> None:
        """Record that ``sink`` received every record up to ``seq`` (only for the lease holder)."""


class LaneStore(Protocol):
    """Persistence for one lane. Every method may raise :class:`StoreUnavailable`."""

    url: str

    @property
    def ledger(self) -> LedgerStore:
        """The lane's Merkle tree, checkpoints and signing keys."""

    @property
    def jobs(self) -> JobStore:
        """The lane's export jobs and sink cursors."""

    @property
    def vault(self) -> VaultStore:
        """The lane's token vault."""

    async def open(self) -> None:
        """Create the schema if needed and make the store ready; idempotent."""

    async def close(self) -> None:
        """Flush pending writes and release resources."""

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the store answers a trivial read."""

    async def append_decision(self, record: dict[str, Any], *, alone: bool = False) -> StoredDecision:
        """Append one record to the chain and the Merkle tree; return it as stored, durable on return.

        ``record`` must not contain ``seq``, ``prev`` or ``hash``; the store assigns them atomically.
        ``alone``: the caller has no other request in flight, so no other record is likely to join this one's
        commit; a store may then commit it on the calling thread instead of its own (records arriving
        together are still committed together).
        """

    async def find_decision(self, request_id: str) -> StoredDecision | None:
        """The record of one request, or ``None``."""

    async def decision_bounds(self, since: str | None, until: str | None) -> tuple[int, int] | None:
        """The first and last ``seq`` of records with ``since <= ts < until``, or ``None`` if there are none.

        Everything between the two is part of the range, whatever its own time: records are appended when
        requests end, so arrival times are not strictly ordered along the chain.
        """

    def iter_decisions(self, query: DecisionQuery) -> AsyncIterator[StoredDecision]:
        """Stored records matching ``query`` in chain order."""

    async def create_key(self, record: ApiKeyRecord) -> None:
        """Store a new API key record; a duplicate active name raises ``ValueError``."""

    async def find_key(self, key_hash: str) -> ApiKeyRecord | None:
        """The key record with this hash, revoked or not, or ``None``."""

    async def list_keys(self) -> list[ApiKeyRecord]:
        """Every key record of the lane, oldest first."""

    async def revoke_key(self, name_or_id: str, when: str) -> ApiKeyRecord | None:
        """Mark the active key with this name or id revoked; ``None`` if there is none."""

    async def lane_secret(self, name: str, size: int = 32) -> bytes:
        """A random per-lane secret, created on first use and stable afterwards."""

    async def set_pack_digest(self, sha256: str,
                              record: Callable[[str | None], dict[str, Any]]) -> StoredDecision | None:
        """Make ``sha256`` the digest of the lane's pack in force. If it differs from the stored one, append
        ``record(previous digest)`` in the same transaction and return it; otherwise return ``None``. Several
        processes applying the same pack therefore record the change once."""

    async def pack_digest(self) -> str | None:
        """The digest of the pack last put in force (by any process), or ``None``."""
