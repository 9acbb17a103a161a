"""What an operation answered by the gateway itself returns, and the query-string helper operations share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import orjson

from lanegate.errors import invalid_request
from lanegate.timeparse import parse_time

JSON = b"application/json"
MAX_INTEGER = 2**53 - 1  # any larger sequence number or tree size is not one this gateway wrote


@dataclass
class Answer:
    """A response: a body, or a file streamed from disk (``file``)."""

    status: int
    body: bytes = b""
    content_type: bytes = JSON
    file: Path | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def json_answer(payload: Any, status: int = 200, headers: list[tuple[bytes, bytes]] | None = None) -> Answer:
    return Answer(status, orjson.dumps(payload), headers=headers or [])


class Query:
    """The query string of a request; each accessor refuses a bad value with a 400 naming the parameter."""

    def __init__(self, raw: bytes) -> None:
        try:
            self._values = parse_qs(raw.decode("utf-8"), strict_parsing=False, max_num_fields=32)
        except (UnicodeDecodeError, ValueError):
            raise invalid_request("The query string is malformed.", "invalid_query") from None

    def text(self, name: str) -> str | None:
        values = self._values.get(name)
        if not values:
            return None
        if len(values) > 1:
            raise invalid_request(f"'{name}' is given more than once.", "invalid_query", name)
        return values[0]

    def integer(self, name: str, default: int, low: int, high: int = MAX_INTEGER) -> int:
        value = self.text(name)
        if value is None:
            return default
        if not (value.isascii() and value.isdigit()) or len(value) > 18 or not low <= int(value) <= high:
            raise invalid_request(f"'{name}' must be a whole number from {low} to {high}.", "invalid_query", name)
        return int(value)

    def time(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_time(value)
        except ValueError as exc:
            raise invalid_request(f"'{name}': {exc}.", "invalid_query", name) from None

    def choice(self, name: str, allowed: set[str]) -> str | None:
        value = self.text(name)
        if value is not None and value not in allowed:
            raise invalid_request(f"'{name}' must be one of {sorted(allowed)}.", "invalid_query", name)
        return value

    def flag(self, name: str) -> bool:
        value = self.choice(name, {"true", "false", "1", "0"})
        return value in {"true", "1"}
