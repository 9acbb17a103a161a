"""Logging set-up: one line per event, with the request's lane and id when known. Never payload text.

Records are handed to a queue on the event loop's thread and formatted and written by a listener thread,
so a slow terminal or pipe never stalls requests.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue

FIELDS = ("lane", "request_id", "stage", "target", "region", "error")
_listener: logging.handlers.QueueListener | None = None


class LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{name}={getattr(record, name)}" for name in FIELDS if hasattr(record, name)]
        return f"{line} {' '.join(extras)}" if extras else line


def configure(level: str = "info") -> None:
    global _listener  # one listener per process, replaced on reconfiguration
    if _listener is not None:
        _listener.stop()
    output = logging.StreamHandler()
    output.setFormatter(LineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _listener = logging.handlers.QueueListener(records, output)
    _listener.start()
    atexit.register(_listener.stop)
    root = logging.getLogger("lanegate")
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level.upper())
    root.propagate = False
