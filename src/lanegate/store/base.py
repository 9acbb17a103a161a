"""The lane store interface.

Each lane has its own store holding its decision records, its API keys and its lane secrets. A backend
must be safe for several gateway processes sharing one store: :meth:`LaneStore.append_decisions` reads the
chain's tail and appends inside one transaction, so the hash chain stays linear whichever process writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
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


@dataclass(frozen=True, slots=True)
class DecisionQuery:
    """Filters for listing decision records; ``since`` is an ISO-8601 UTC timestamp."""

    since: str | None = None
    decision: str | None = None
    limit: int | None = None
    after_seq: int = 0


class StoreUnavailable(Exception):
    """The store could not complete an operation; callers fail closed."""


class LaneStore(Protocol):
    """Persistence for one lane. Every method may raise :class:`StoreUnavailable`."""

    url: str

    async def open(self) -> None:
        """Create the schema if needed and make the store ready; idempotent."""

    async def close(self) -> None:
        """Flush pending writes and release resources."""

    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the store answers a trivial read."""

    async def append_decision(self, record: dict[str, Any]) -> StoredDecision:
        """Append one record to the chain and return it as stored, durable on return.

        ``record`` must not contain ``seq``, ``prev`` or ``hash``; the store assigns them atomically.
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
