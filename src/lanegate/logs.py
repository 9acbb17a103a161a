"""Logging set-up: one line per event, with the request's lane and id when known. Never payload text.

Records are handed to a queue on the event loop's thread; a writer thread formats them and writes whatever
has gathered in one call, so a slow terminal or pipe never stalls requests, and a busy gateway does not pay
a write and a flush for every line.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
import threading
from typing import TextIO

FIELDS = ("lane", "request_id", "stage", "target", "region", "error")
BATCH = 256  # lines written at most in one call
_writer: LineWriter | None = None


class LineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{name}={getattr(record, name)}" for name in FIELDS if hasattr(record, name)]
        return f"{line} {' '.join(extras)}" if extras else line


class Enqueue(logging.handlers.QueueHandler):
    """Puts records on the writer's queue as they are. The standard handler formats each record and copies
    it on the caller's thread, then the writer formats it again; here the message's arguments are merged
    into it (so a mutable argument cannot change before the line is written) and formatting is left to the
    writer thread."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        return record


Item = logging.LogRecord | threading.Event | None  # a record; a flush marker; the end


class LineWriter:
    """The writer thread: formats queued records and writes each batch with one ``write`` and one flush."""

    def __init__(self, records: queue.SimpleQueue[Item], formatter: logging.Formatter,
                 stream: TextIO | None = None) -> None:
        self._records = records
        self._formatter = formatter
        self._stream = stream
        self._thread = threading.Thread(target=self._run, name="lanegate-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued, then end the thread (idempotent)."""
        if self._thread.is_alive():
            self._records.put(None)
            self._thread.join()

    def flush(self, timeout: float) -> bool:
        """Wait until every line queued before this call is written; ``False`` if ``timeout`` seconds passed."""
        if not self._thread.is_alive():
            return True
        written = threading.Event()
        self._records.put(written)
        return written.wait(timeout)

    def _run(self) -> None:
        while True:
            item = self._records.get()
            records: list[logging.LogRecord] = []
            while True:
                if item is None:
                    self._write(records)
                    return
                if isinstance(item, threading.Event):
                    self._write(records)
                    records = []
                    item.set()
                else:
                    records.append(item)
                if len(records) >= BATCH:
                    break
                try:
                    item = self._records.get_nowait()
                except queue.Empty:
                    break
            self._write(records)

    def _write(self, records: list[logging.LogRecord]) -> None:
        if not records:
            return
        lines = []
        for record in records:
            try:
                lines.append(self._formatter.format(record))
            except Exception:  # a record that cannot be formatted: a plain line says so instead of losing it
                lines.append(f"{record.levelname} {record.name}: unformattable log record ({record.msg!r})")
        stream = self._stream if self._stream is not None else sys.stderr  # the stream of the moment
        try:
            stream.write("\n".join(lines) + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: the lines are dropped, requests go on
            pass


def configure(level: str = "info", stream: TextIO | None = None) -> None:
    """Send the ``lanegate`` loggers' records at ``level`` and above to ``stream`` (standard error by default)
    through the writer thread (one per process, replaced on reconfiguration)."""
    global _writer
    if _writer is not None:
        _writer.stop()
    records: queue.SimpleQueue[Item] = queue.SimpleQueue()
    _writer = LineWriter(records, LineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"), stream)
    _writer.start()
    root = logging.getLogger("lanegate")
    root.handlers[:] = [Enqueue(records)]
    root.setLevel(level.upper())
    root.propagate = False


def _stop() -> None:
    if _writer is not None:
        _writer.stop()


atexit.register(_stop)  # once: whichever writer is current when the process exits


def flush(timeout: float = 2.0) -> None:
    """Write the lines queued so far before returning (at most ``timeout`` seconds): for a shutdown, since a
    server that ends its process with a signal runs no exit handlers."""
    if _writer is not None:
        _writer.flush(timeout)
