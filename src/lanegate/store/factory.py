"""Choosing a store backend from a lane's ``store:`` URL."""

from __future__ import annotations

from lanegate.store.base import LaneStore
from lanegate.store.sqlite import SqliteStore


class UnsupportedStore(ValueError):
    """The URL names a backend this build does not provide."""


def open_store(url: str) -> LaneStore:
    """A (not yet opened) store for ``url``."""
    if url.startswith("sqlite:///"):
        return SqliteStore(url)
    if url.startswith(("postgresql://", "postgres://")):
        raise UnsupportedStore("the PostgreSQL store is not available in this version; use sqlite:///PATH")
    raise UnsupportedStore(f"unsupported store URL scheme in {url.split(':', 1)[0]!r}; use sqlite:///PATH")
