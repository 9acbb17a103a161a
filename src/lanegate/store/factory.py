"""Choosing a store backend from a lane's ``store:`` URL."""

from __future__ import annotations

from lanegate.store.base import LaneStore
from lanegate.store.sqlite import SqliteStore
from lanegate.store.sqlite_db import parse_sqlite_url


class UnsupportedStore(ValueError):
    """The URL names a backend this build does not provide."""


def store_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be opened by this build, or ``None`` if it can."""
    if url.startswith("sqlite:///"):
        try:
            parse_sqlite_url(url)
        except ValueError as exc:
            return f"{exc}; use sqlite:///PATH[?synchronous=normal|full]"
        return None
    if url.startswith(("postgresql://", "postgres://")):
        return "the PostgreSQL store is not available in this version; use sqlite:///PATH"
    return f"unsupported store URL scheme {url.split(':', 1)[0]!r}; use sqlite:///PATH"


def open_store(url: str) -> LaneStore:
    """A (not yet opened) store for ``url``."""
    problem = store_url_problem(url)
    if problem is not None:
        raise UnsupportedStore(problem)
    return SqliteStore(url)
