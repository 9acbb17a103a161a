"""Caller identity: lane API keys (OIDC tokens plug in beside them)."""

from lanegate.identity.keys import KeyVerifier, Principal, create_key

__all__ = ["KeyVerifier", "Principal", "create_key"]
