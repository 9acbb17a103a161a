"""The endpoints of a lane, under ``/lanes/{lane}/v1/``: which method, which role, which handler name.

A path segment written ``{id}`` matches one identifier (letters, digits, ``_`` and ``-``, at most 64); it is
handed to the handler as :attr:`~lanegate.exchange.Exchange.path_id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lanegate.config.models import Role
from lanegate.errors import Refusal
from lanegate.exchange import Endpoint

ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint: ``role`` is what the credential must hold in the lane (``None``: any valid credential)."""

    method: str
    pattern: tuple[str, ...]
    endpoint: Endpoint
    role: Role | None

    @property
    def path(self) -> str:
        return "/".join(self.pattern)


def _route(method: str, pattern: str, endpoint: Endpoint, role: Role | None) -> Route:
    return Route(method, tuple(pattern.split("/")), endpoint, role)


LANE_ROUTES: tuple[Route, ...] = (
    _route("POST", "chat/completions", "chat.completions", "caller"),
    _route("POST", "embeddings", "embeddings", "caller"),
    _route("GET", "models", "models", "caller"),
    _route("GET", "whoami", "whoami", None),
    _route("GET", "audit/events", "audit.events", "auditor"),
    _route("GET", "audit/events/{id}", "audit.event", "auditor"),
    _route("GET", "audit/checkpoint", "audit.checkpoint", "auditor"),
    _route("GET", "audit/exports", "audit.exports.list", "auditor"),
    _route("POST", "audit/exports", "audit.exports.create", "auditor"),
    _route("GET", "audit/exports/{id}", "audit.exports.get", "auditor"),
    _route("GET", "audit/exports/{id}/bundle", "audit.exports.bundle", "auditor"),
    _route("GET", "admin/keys", "admin.keys.list", "admin"),
    _route("POST", "admin/keys", "admin.keys.create", "admin"),
    _route("DELETE", "admin/keys/{id}", "admin.keys.revoke", "admin"),
    _route("POST", "admin/reload", "admin.reload", "admin"),
)


def _matches(pattern: tuple[str, ...], parts: list[str]) -> str | bool | None:
    """``False`` if ``parts`` do not fit ``pattern``; otherwise the ``{id}`` value (or ``None`` if none)."""
    if len(pattern) != len(parts):
        return False
    found: str | None = None
    for want, got in zip(pattern, parts, strict=True):
        if want == "{id}":
            if not ID.match(got):
                return False
            found = got
        elif want != got:
            return False
    return found


def match(rest: str, method: str) -> tuple[Route, str | None] | None:
    """The route for ``rest`` (the path after ``/v1/``) and ``method``; ``None`` for an unknown path, a 405
    refusal naming the allowed methods for a known path and another method."""
    parts = rest.split("/")
    allowed: list[str] = []
    for route in LANE_ROUTES:
        found = _matches(route.pattern, parts)
        if found is False:
            continue
        if route.method == method:
            return route, found if isinstance(found, str) else None
        allowed.append(route.method)
    if allowed:
        raise Refusal(405, f"Method not allowed; use {' or '.join(allowed)}.", type="invalid_request_error",
                      code="method_not_allowed", headers={"allow": ", ".join(allowed)})
    return None
