"""What a content stage found in the texts a caller sent recently, so that what a conversation sends again
with every turn — its system prompt, its whole history — is inspected once per process, not once per turn.

Entries are keyed by a SHA-256 digest of a random secret of the memo's own, the caller and the text: the memo
holds no text, and its keys confirm no guess without that secret (which never leaves the process). Values are
what the stage found (types, offsets, scores — never a value). Each caller has its own entries, so how fast a
text is answered tells a caller nothing about what another caller sent.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar, cast

from lanegate.exchange import Exchange

T = TypeVar("T")
SIZE = 4096  # entries per stage and process; the least recently used goes first
_MISSING = object()


class Memo(Generic[T]):
    """The results ``make`` gave for the last ``size`` (caller, text) pairs (``size`` 0: none kept)."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._secret = os.urandom(32)
        self._entries: OrderedDict[bytes, T] = OrderedDict()
        self._lock = threading.Lock()  # a stage with a language model inspects texts on worker threads

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, caller: str, text: str, make: Callable[[str], T]) -> T:
        """``make(text)``, or what it gave for the same caller and text before."""
        if not self.size:
            return make(text)
        who = caller.encode("utf-8", "surrogatepass")
        key = hashlib.sha256(b"".join((self._secret, len(who).to_bytes(4, "big"), who,
                                       text.encode("utf-8", "surrogatepass")))).digest()
        with self._lock:
            found = self._entries.get(key, _MISSING)
            if found is not _MISSING:
                self._entries.move_to_end(key)
                return cast(T, found)
        value = make(text)
        with self._lock:
            self._entries[key] = value
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value


def caller_of(exchange: Exchange) -> str:
    """Who sent ``exchange``, as the memo tells callers apart: the credential's kind, issuer, subject and key."""
    principal = exchange.principal
    if principal is None:
        return ""
    return "\x00".join((principal.kind, principal.issuer or "", principal.name, principal.key_id or ""))
