"""OIDC access tokens (JWT), checked against the issuer's keys (JWKS).

Keys are found through ``{issuer}/.well-known/openid-configuration`` or a configured ``jwks_uri``, cached,
and refreshed when a token names an unknown key — at most once per ``jwks_min_refresh_seconds``, so a flood
of made-up key ids cannot flood the identity provider. When the JWKS cannot be fetched, cached keys keep
working until ``jwks_cache_seconds`` after they were last fetched; unknown keys are refused (fail closed).

The accepted algorithms come from configuration, never from the token. A token's ``alg`` must be allowed
*and* fit the type of the key its ``kid`` names; JWKS entries that are not asymmetric keys are ignored.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

from lanegate.config.models import OidcSpec

log = logging.getLogger("lanegate.identity")

KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


class TokenRejected(Exception):
    """The token is not acceptable; ``reason`` is for logs and whoami, never echoed with the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CachedKey:
    key: jwt.PyJWK
    fetched: float


class JwksCache:
    """The issuer's signing keys, by ``kid``."""

    def __init__(self, spec: OidcSpec, clock: Any = time.monotonic) -> None:
        self._spec = spec
        self._clock = clock
        self._keys: dict[str, CachedKey] = {}
        self._jwks_uri = str(spec.jwks_uri) if spec.jwks_uri else None
        self._last_attempt = float("-inf")
        self._lock = asyncio.Lock()
        self._ssl = ssl.create_default_context(cafile=spec.ca_file)
        self.fetches = 0

    async def key(self, kid: str) -> jwt.PyJWK:
        cached = self._fresh(kid)
        if cached is not None:
            return cached
        async with self._lock:  # one refresh at a time; later callers see its result
            cached = self._fresh(kid)
            if cached is None and self._clock() - self._last_attempt >= self._spec.jwks_min_refresh_seconds:
                await self._refresh()
                cached = self._fresh(kid)
        if cached is None:
            raise TokenRejected(f"unknown signing key {kid!r}")
        return cached

    def _fresh(self, kid: str) -> jwt.PyJWK | None:
        entry = self._keys.get(kid)
        if entry is None or self._clock() - entry.fetched > self._spec.jwks_cache_seconds:
            return None
        return entry.key

    async def _refresh(self) -> None:
        self._last_attempt = self._clock()
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5), trust_env=False) as session:
                if self._jwks_uri is None:
                    issuer = self._spec.issuer.rstrip("/")
                    discovery = await self._get(session, f"{issuer}/.well-known/openid-configuration")
                    self._jwks_uri = str(discovery["jwks_uri"])
                document = await self._get(session, self._jwks_uri)
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
            log.warning("JWKS not refreshed (%s); cached keys stay valid until they expire", exc.__class__.__name__)
            return
        self.fetches += 1
        now = self._clock()
        keys: dict[str, CachedKey] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(entry, dict) or entry.get("kty") not in {"RSA", "EC", "OKP"} or not entry.get("kid"):
                continue  # symmetric ("oct") or anonymous keys are never accepted
            if entry.get("use", "sig") != "sig":
                continue
            try:
                keys[str(entry["kid"])] = CachedKey(jwt.PyJWK.from_dict(entry), now)
            except jwt.PyJWKError:
                continue
        self._keys = keys  # keys the issuer dropped are dropped here too

    async def _get(self, session: aiohttp.ClientSession, url: str) -> Any:
        async with session.get(url, ssl=self._ssl, allow_redirects=False) as response:
            if response.status != 200:
                raise ValueError(f"{url} answered {response.status}")
            return await response.json(content_type=None)


class OidcVerifier:
    """Checks one issuer's access tokens and returns their claims."""

    def __init__(self, spec: OidcSpec, keys: JwksCache | None = None) -> None:
        self.spec = spec
        self.issuer = spec.issuer
        self.keys = keys or JwksCache(spec)

    async def claims(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejected("not a JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.spec.algorithms:
            raise TokenRejected(f"algorithm {alg!r} is not accepted")
        if not isinstance(kid, str) or not kid:
            raise TokenRejected("token names no signing key (kid)")
        key = await self.keys.key(kid)
        if KEY_TYPES.get(str(alg)[:2]) != key.key_type:
            raise TokenRejected(f"algorithm {alg} does not fit the {key.key_type} key {kid!r}")
        try:
            return dict(jwt.decode(
                token, key.key, algorithms=[str(alg)], audience=self.spec.audience, issuer=self.issuer,
                leeway=self.spec.clock_skew_seconds, options={"require": ["exp", "iat", "iss", "aud", "sub"]}))
        except jwt.PyJWTError as exc:
            raise TokenRejected(_reason(exc)) from None


def _reason(exc: jwt.PyJWTError) -> str:
    reasons = {jwt.ExpiredSignatureError: "token has expired", jwt.ImmatureSignatureError: "token is not yet valid",
               jwt.InvalidAudienceError: "token is for another audience", jwt.InvalidIssuerError: "token is from "
               "another issuer", jwt.InvalidSignatureError: "signature does not verify",
               jwt.MissingRequiredClaimError: "a required claim is missing", jwt.InvalidIssuedAtError: "token is "
               "issued in the future"}
    for kind, reason in reasons.items():
        if isinstance(exc, kind):
            return reason
    return "token is invalid"


def claim_at(claims: dict[str, Any], path: str) -> list[str]:
    """The string values at a dotted ``path`` (``groups``, ``realm_access.roles``); empty when absent."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []
