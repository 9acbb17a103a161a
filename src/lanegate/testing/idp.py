"""A local OIDC identity provider for tests: discovery and JWKS on loopback, tokens signed with real keys.

Serve it with :class:`~lanegate.testing.servers.LoopbackServer`, then set :attr:`issuer` to its URL (the
``iss`` of the tokens it mints). ``rotate()`` replaces the signing key; ``down = True`` makes every endpoint
answer 503; ``jwks_fetches`` counts JWKS downloads.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


@dataclass
class SigningKey:
    kid: str
    alg: str
    private: Any

    @classmethod
    def generate(cls, alg: str = "RS256") -> SigningKey:
        private: Any = (ec.generate_private_key(ec.SECP256R1()) if alg.startswith("ES")
                        else rsa.generate_private_key(public_exponent=65537, key_size=2048))
        return cls(uuid.uuid4().hex[:8], alg, private)

    def jwk(self) -> dict[str, Any]:
        codec = ECAlgorithm if self.alg.startswith("ES") else RSAAlgorithm
        data: dict[str, Any] = codec.to_jwk(self.private.public_key(), as_dict=True)
        return {**data, "kid": self.kid, "alg": self.alg, "use": "sig"}


class LocalIdentityProvider:
    def __init__(self, audience: str = "lanegate") -> None:
        self.issuer = ""
        self.audience = audience
        self.keys = [SigningKey.generate("RS256"), SigningKey.generate("ES256")]
        self.down = False
        self.jwks_fetches = 0

    def rotate(self) -> SigningKey:
        """Replace every key with a new RSA key; tokens signed by the old keys stop verifying after a refresh."""
        self.keys = [SigningKey.generate("RS256")]
        return self.keys[0]

    def claims(self, subject: str = "alice", groups: list[str] | None = None, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.issuer, "aud": self.audience, "sub": subject, "iat": now, "nbf": now, "exp": now + 300,
                "groups": groups if groups is not None else ["eu-users"], **overrides}

    def mint(self, claims: dict[str, Any] | None = None, key: SigningKey | None = None,
             headers: dict[str, Any] | None = None) -> str:
        key = key or self.keys[0]
        return jwt.encode(claims or self.claims(), key.private, algorithm=key.alg,
                          headers={"kid": key.kid, **(headers or {})})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body: dict[str, Any]
        if self.down:
            status, body = 503, {"error": "down"}
        elif scope["path"] == "/.well-known/openid-configuration":
            status, body = 200, {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks"}
        elif scope["path"] == "/jwks":
            self.jwks_fetches += 1
            status, body = 200, {"keys": [k.jwk() for k in self.keys]}
        else:
            status, body = 404, {"error": "not found"}
        data = orjson.dumps(body)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})
