"""Lane API keys.

A key reads ``lgk_<lane>_<secret>``: the lane part tells the gateway which lane's store to ask, the secret
is 256 random bits. Stores keep only the key's SHA-256 (a slow hash adds nothing for a 256-bit random
secret) and a short display prefix. The key itself is shown once, at creation.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lanegate.errors import forbidden, unauthenticated
from lanegate.store.base import ApiKeyRecord, LaneStore

KEY_PREFIX = "lgk"
CALLER = frozenset({"caller"})


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request comes from, as recorded: a key's name and id, or a token's subject and issuer — never
    the key or the token."""

    kind: str  # api_key | oidc
    name: str  # the key's name, or the token's subject
    key_id: str | None
    lane: str
    issuer: str | None = None
    groups: tuple[str, ...] = ()
    roles: frozenset[str] = frozenset({"caller"})

    def as_record(self) -> dict[str, Any]:
        if self.kind == "api_key":
            record: dict[str, Any] = {"kind": self.kind, "name": self.name, "key_id": self.key_id}
            if self.roles != CALLER:  # records of caller keys keep their original shape
                record["roles"] = sorted(self.roles)
            return record
        return {"kind": self.kind, "subject": self.name, "issuer": self.issuer, "roles": sorted(self.roles)}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_lane(key: str) -> str | None:
    """The lane a well-formed key belongs to, or ``None`` for anything else."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or len(parts[2]) < 32:
        return None
    return parts[1]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def create_key(store: LaneStore, lane: str, name: str,
                     roles: tuple[str, ...] = ("caller",)) -> tuple[str, ApiKeyRecord]:
    """Create and store a key for ``lane`` holding ``roles`` there; return the key (to show once) and its record."""
    key = f"{KEY_PREFIX}_{lane}_{secrets.token_urlsafe(32)}"
    record = ApiKeyRecord(
        key_id=uuid.uuid4().hex[:12],
        name=name,
        lane=lane,
        prefix=key[: len(KEY_PREFIX) + len(lane) + 6] + "…",
        key_hash=hash_key(key),
        created_at=now_iso(),
        revoked_at=None,
        roles=tuple(sorted(set(roles))),
    )
    await store.create_key(record)
    return key, record


class KeyVerifier:
    """Resolves a bearer key to a :class:`Principal` for a lane, or refuses.

    Positive answers are cached for ``cache_seconds`` (a revocation takes effect within that time);
    unknown and revoked keys are always looked up.
    """

    def __init__(self, stores: Mapping[str, LaneStore], cache_seconds: float = 2.0) -> None:
        # ``stores`` is read at each lookup, so a live mapping follows lanes added by a reload
        self._stores = stores
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[float, Principal]] = {}

    async def principal(self, authorization: str | None, lane: str) -> Principal:
        key = bearer(authorization)
        if key is None:
            raise unauthenticated("Missing API key: send 'Authorization: Bearer <lane key>'.", "missing_api_key")
        digest = hash_key(key)
        cached = self._cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            found: Principal | None = cached[1]
        else:
            found = await self._lookup(key, digest)
            if found is not None:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[digest] = (now + self._ttl, found)
        if found is None:
            raise unauthenticated("Invalid API key.", "invalid_api_key")
        if found.lane != lane:
            raise forbidden(f"This API key is not valid for lane '{lane}'.", "lane_forbidden")
        return found

    async def _lookup(self, key: str, digest: str) -> Principal | None:
        owner = key_lane(key)
        store = self._stores.get(owner) if owner else None
        if store is None:
            return None
        record = await store.find_key(digest)
        if record is None or record.revoked_at is not None or record.lane != owner:
            return None
        return Principal("api_key", record.name, record.key_id, record.lane, roles=frozenset(record.roles))


def bearer(header: str | None) -> str | None:
    """The credential of an ``Authorization: Bearer ...`` header, or ``None``."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        return None
    return value
