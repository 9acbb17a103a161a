"""What a content stage found in the texts a caller sent recently, so that what a conversation sends again
with every turn — its system prompt, its whole history — is inspected once per process, not once per turn.

The texts a request brings that the memo does not hold are inspected on the event loop unless they are long
altogether (:data:`INLINE_CHARS` characters or more: several milliseconds of detection), when they go to a
worker thread. A prompt of a megabyte takes tens of milliseconds to read: on the event loop every other request
would wait for all of it; on a thread the interpreter lock passes between them, and the long prompt waits
instead, several times as long when the loop is busy (docs/benchmarks.md). Below the bound a prompt's wait
would cost it more than the others gain.

Entries are keyed by a SHA-256 digest of a random secret of the memo's own, the caller and the text: the memo
holds no text, and its keys confirm no guess without that secret (which never leaves the process). Values are
what the stage found (types, offsets, scores — never a value). Each caller has its own entries, so how fast a
text is answered tells a caller nothing about what another caller sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar, cast

from lanegate.exchange import Exchange

T = TypeVar("T")
SIZE = 4096  # entries per stage and process; the least recently used goes first
INLINE_CHARS = 262_144  # characters to inspect in one request from which they are inspected on a worker thread
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

    async def read(self, caller: str, texts: Sequence[str], make: Callable[[str], T], *, on_thread: bool = False
                   ) -> list[T]:
        """``make(text)`` for each of ``texts``, or what it gave before for the same caller and text. The texts
        it has to read are read on a worker thread when ``on_thread`` is set or when they hold
        :data:`INLINE_CHARS` characters or more altogether, else here."""
        found: list[object] = []
        unread: dict[int, str] = {}  # by place in ``texts``
        keys: dict[int, bytes] = {}  # of the unread texts, when the memo keeps entries
        if self.size:
            who = caller.encode("utf-8", "surrogatepass")
            prefix = b"".join((self._secret, len(who).to_bytes(4, "big"), who))
            entries = self._entries
            for text in texts:  # (one loop, no comprehensions: most requests bring one or two texts)
                key = hashlib.sha256(prefix + text.encode("utf-8", "surrogatepass")).digest()
                with self._lock:
                    value = entries.get(key, _MISSING)
                    if value is not _MISSING:
                        entries.move_to_end(key)
                if value is _MISSING:
                    keys[len(found)] = key
                    unread[len(found)] = text
                found.append(value)
        else:
            unread = dict(enumerate(texts))
            found = [_MISSING] * len(texts)
        if not unread:
            return cast("list[T]", found)
        pending = list(unread.values())
        if on_thread or sum(map(len, pending)) >= INLINE_CHARS:
            values = await asyncio.to_thread(_each, make, pending)
        else:
            values = _each(make, pending)
        with self._lock:
            for index, value in zip(unread, values, strict=True):
                found[index] = value
                if keys:
                    self._entries[keys[index]] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return cast("list[T]", found)


def _each(make: Callable[[str], T], texts: list[str]) -> list[T]:
    return [make(text) for text in texts]


def caller_of(exchange: Exchange) -> str:
    """Who sent ``exchange``, as the memo tells callers apart: the credential's kind, issuer, subject and key."""
    principal = exchange.principal
    if principal is None:
        return ""
    return "\x00".join((principal.kind, principal.issuer or "", principal.name, principal.key_id or ""))
