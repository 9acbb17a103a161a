"""A JSONL file: one event per line, appended and flushed to disk before the batch counts as delivered."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import orjson

from lanegate.config.models import JsonlSink as JsonlSpec


class JsonlSink:
    def __init__(self, spec: JsonlSpec, base: Path) -> None:
        self.id = spec.id
        path = Path(spec.path)
        self.path = path if path.is_absolute() else base / path

    async def send(self, events: list[dict[str, Any]]) -> None:
        data = b"".join(orjson.dumps(e) + b"\n" for e in events)
        await asyncio.to_thread(self._append, data)

    def _append(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    async def close(self) -> None:
        return None
