"""Logging set-up: one line per event, with the request's lane and id when known. Never payload text."""

from __future__ import annotations

import logging

FIELDS = ("lane", "request_id", "stage", "target", "region", "error")


class LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{name}={getattr(record, name)}" for name in FIELDS if hasattr(record, name)]
        return f"{line} {' '.join(extras)}" if extras else line


def configure(level: str = "info") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(LineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("lanegate")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
