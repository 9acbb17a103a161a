"""Typed tokens (``<EMAIL_ADDRESS_1>``) and putting the values back into text, whole or streamed.

A stream is restored piece by piece while holding back only what could still become a token — at most
:data:`MAX_TOKEN` characters from the last ``<`` — never the whole stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

TOKEN = re.compile(r"<[A-Z][A-Z0-9_]{0,39}_[0-9]{1,6}>")
_PREFIX = re.compile(r"<(?:[A-Z][A-Z0-9_]{0,46})?")
MAX_TOKEN = 1 + 40 + 1 + 6 + 1  # "<", type, "_", number, ">"


def token(entity: str, number: int) -> str:
    return f"<{entity}_{number}>"


def fresh_tokens(values: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The tokens a new conversation gives ``(entity, value)`` pairs: numbered per type in order of first
    appearance, the same value once (what the vault assigns when nothing is stored yet)."""
    numbers: dict[str, int] = {}
    tokens: dict[tuple[str, str], str] = {}
    for entity, value in values:
        if (entity, value) not in tokens:
            numbers[entity] = numbers.get(entity, 0) + 1
            tokens[(entity, value)] = token(entity, numbers[entity])
    return tokens


def restore(text: str, values: Mapping[str, str]) -> str:
    """``text`` with every known token replaced by its value (unknown tokens stay as they are)."""
    if "<" not in text:
        return text
    return TOKEN.sub(lambda m: values.get(m.group(0), m.group(0)), text)


class StreamRestorer:
    """Restores tokens in text that arrives in pieces (a token may be split across them)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self._pending = ""

    def feed(self, piece: str) -> str:
        """The restored text that can be released now; a possible token prefix is kept for the next piece."""
        text = self._pending + piece
        cut = _release_up_to(text)
        self._pending = text[cut:]
        return restore(text[:cut], self._values)

    def flush(self) -> str:
        """Everything still held back (the stream ended)."""
        text, self._pending = self._pending, ""
        return restore(text, self._values)


def _release_up_to(text: str) -> int:
    start = text.rfind("<")
    if start < 0 or len(text) - start >= MAX_TOKEN:
        return len(text)
    return start if _PREFIX.fullmatch(text, start) else len(text)
