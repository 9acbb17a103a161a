"""Sealing tokenized values for a lane's vault: AES-256-GCM under the lane's vault key, each value bound to its
lane, conversation and token (so a sealed value copied to another row does not open), and found again by a
keyed digest rather than by the value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lanegate.store.base import VaultEntry, VaultStore

log = logging.getLogger("lanegate.pii")
NONCE = 12


def parse_key(text: str) -> bytes:
    """A 256-bit key written as base64 (44 characters) or hex (64); ``ValueError`` otherwise."""
    value = text.strip()
    try:
        key = bytes.fromhex(value) if len(value) == 64 else base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != 32:
        raise ValueError("the vault key must be 32 random bytes, written as base64 (44 characters) or hex (64)")
    return key


class TokenVault:
    """Tokens for values within a conversation, stored sealed in the lane's own store."""

    def __init__(self, store: VaultStore, lane: str, key: bytes, ttl_seconds: float) -> None:
        self._store = store
        self._lane = lane
        self._aead = AESGCM(key)
        self._lookup_key = hmac.new(key, b"lanegate vault lookup", hashlib.sha256).digest()
        self._ttl = ttl_seconds

    def _aad(self, conversation: str, token: str) -> bytes:
        return f"{self._lane}\x00{conversation}\x00{token}".encode()

    async def tokenize(self, conversation: str, values: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The token of each ``(entity, value)``: the same value keeps its token within the conversation."""
        entries = []
        for entity, value in values:
            lookup = hmac.new(self._lookup_key, f"{conversation}\x00{entity}\x00{value}".encode(),
                              hashlib.sha256).hexdigest()

            def seal(token: str, value: str = value) -> bytes:
                nonce = os.urandom(NONCE)
                return nonce + self._aead.encrypt(nonce, value.encode(), self._aad(conversation, token))

            entries.append(VaultEntry(entity, lookup, seal))
        tokens = await self._store.tokens(conversation, entries, self._ttl)
        return dict(zip(values, tokens, strict=True))

    async def values(self, conversation: str) -> dict[str, str]:
        """Every live token of the conversation with its value (entries that do not open are left out)."""
        out = {}
        for token, sealed in (await self._store.sealed(conversation)).items():
            try:
                out[token] = self._aead.decrypt(sealed[:NONCE], sealed[NONCE:],
                                                self._aad(conversation, token)).decode()
            except InvalidTag:
                log.error("a vault entry does not open with this lane's key", extra={"lane": self._lane})
        return out
