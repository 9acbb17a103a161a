"""Resolving a request's credential to a principal for a lane: lane API keys and OIDC access tokens.

API keys carry the role ``caller`` in their own lane. A token's roles in a lane come from its groups (the
lane's ``identity.oidc.groups_claim``) through the lane's ``identity.roles`` map; a principal may hold
roles in several lanes, but each request is served by the lane of its ingress path alone.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from lanegate.config.lane import LaneConfig
from lanegate.errors import Refusal, forbidden, unauthenticated
from lanegate.identity.keys import KEY_PREFIX, KeyVerifier, Principal, bearer
from lanegate.identity.oidc import OidcVerifier, TokenRejected, claim_at

log = logging.getLogger("lanegate.identity")


@dataclass(frozen=True)
class Resolution:
    """What the gateway resolved for a credential (``whoami``)."""

    principal: Principal
    lanes: dict[str, list[str]]  # lane -> roles there

    def as_json(self) -> dict[str, object]:
        p = self.principal
        return {"kind": p.kind, "subject": p.name, "issuer": p.issuer, "key_id": p.key_id, "groups": list(p.groups),
                "lane": p.lane, "roles": sorted(p.roles), "lanes": self.lanes}


class Authenticator:
    def __init__(self, keys: KeyVerifier, lanes: Mapping[str, LaneConfig]) -> None:
        self._keys = keys
        self._lanes: Mapping[str, LaneConfig] = {}
        self._oidc: dict[str, OidcVerifier] = {}
        self.update(lanes)

    def update(self, lanes: Mapping[str, LaneConfig]) -> None:
        """Follow a configuration reload. One verifier (one JWKS cache) serves every lane trusting the same
        identity provider settings, and survives a reload that keeps them."""
        known = {v.spec.model_dump_json(): v for v in self._oidc.values()}
        oidc = {}
        for name, lane in lanes.items():
            if lane.identity.oidc is not None:
                spec = lane.identity.oidc.model_dump_json()
                oidc[name] = known.setdefault(spec, OidcVerifier(lane.identity.oidc))
        self._lanes, self._oidc = dict(lanes), oidc

    async def principal(self, authorization: str | None, lane: str, role: str | None = "caller") -> Principal:
        """The principal for ``lane``; 401 when unauthenticated, 403 when it lacks ``role`` there."""
        principal = await self.authenticate(authorization, lane)
        require_role(principal, role, lane)
        return principal

    async def authenticate(self, authorization: str | None, lane: str) -> Principal:
        """Who the credential is in ``lane`` (any roles); 401 when unauthenticated, 403 for another lane's key."""
        token = bearer(authorization)
        verifier = self._oidc.get(lane)
        if token is None or verifier is None or token.startswith(f"{KEY_PREFIX}_"):
            principal = await self._keys.principal(authorization, lane)
        else:
            try:
                claims = await verifier.claims(token)
            except TokenRejected as rejected:
                log.info("token rejected: %s", rejected.reason, extra={"lane": lane})
                raise unauthenticated("Invalid or expired access token.", "invalid_token") from None
            groups = tuple(claim_at(claims, verifier.spec.groups_claim))
            principal = Principal("oidc", str(claims["sub"]), None, lane, verifier.issuer, groups,
                                  self._roles(lane, groups))
        return principal

    async def refuse_unknown_lane(self, authorization: str | None, lane: str) -> Refusal:
        """The refusal a lane gives a credential that is not its own, for a lane that does not exist — so the
        answer does not tell whether a lane exists."""
        try:
            await self._keys.principal(authorization, lane)
        except Refusal as refusal:
            return refusal
        raise AssertionError("no key belongs to a lane that does not exist")  # pragma: no cover

    def _roles(self, lane: str, groups: tuple[str, ...]) -> frozenset[str]:
        mapping = self._lanes[lane].identity.roles
        return frozenset(role for group in groups for role in mapping.get(group, []))

    def resolve(self, principal: Principal) -> Resolution:
        """Every lane where ``principal`` holds roles: its key's lane, or lanes trusting its issuer."""
        if principal.kind == "api_key":
            return Resolution(principal, {principal.lane: sorted(principal.roles)})
        lanes = {}
        for name, verifier in self._oidc.items():
            roles = self._roles(name, principal.groups) if verifier.issuer == principal.issuer else frozenset()
            if roles:
                lanes[name] = sorted(roles)
        return Resolution(principal, lanes)


def require_role(principal: Principal, role: str | None, lane: str) -> None:
    """403 ``role_required`` unless ``principal`` holds ``role`` (``None``: nothing required) in ``lane``."""
    if role is not None and role not in principal.roles:
        raise forbidden(f"This credential has no '{role}' role in lane '{lane}'.", "role_required")
