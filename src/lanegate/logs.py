"""Logging set-up: one line per event, with the request's lane and id when known. Never payload text.

Records are handed to a queue on the event loop's thread; a writer thread formats them and writes whatever
has gathered in one call, so a slow terminal or pipe never stalls requests, and a busy gateway does not pay
a write and a flush for every line.

An info or debug record logged on an event loop reaches the queue only once the loop has finished the step
that logged it (``call_soon``). Otherwise the writer thread, woken at once, would take the interpreter lock
at the request's next blocking call (its decision record's commit) and format the line there, in front of
the answer (about 90 µs per request at concurrency 1 here). Warnings and errors, and records logged off an
event loop, are queued at once, after any record still held; :meth:`LineWriter.flush` and
:meth:`LineWriter.stop` queue the held records first, so none is lost.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
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
    """Hands records to the writer as they are. The standard handler formats each record and copies it on
    the caller's thread, then the writer formats it again; here the message's arguments are merged into it
    (so a mutable argument cannot change before the line is written) and formatting is left to the writer
    thread."""

    def __init__(self, writer: LineWriter) -> None:
        super().__init__(writer.records)
        self._writer = writer

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        self._writer.put(record)


Item = logging.LogRecord | threading.Event | None  # a record; a flush marker; the end


class LineWriter:
    """The writer thread: formats queued records and writes each batch with one ``write`` and one flush."""

    def __init__(self, records: queue.SimpleQueue[Item], formatter: logging.Formatter,
                 stream: TextIO | None = None) -> None:
        self.records = records
        self._formatter = formatter
        self._stream = stream
        self._held: collections.deque[logging.LogRecord] = collections.deque()  # see the module docstring
        self._thread = threading.Thread(target=self._run, name="lanegate-log", daemon=True)

    def put(self, record: logging.LogRecord) -> None:
        """Queue ``record`` for writing: when the running event loop's step ends for an info or debug record
        logged on it, else now (see the module docstring)."""
        if record.levelno < logging.WARNING:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                pass
            else:
                self._held.append(record)
                loop.call_soon(self.release)
                return
        self.release()
        self.records.put(record)

    def release(self) -> None:
        """Queue every held record, oldest first (from any thread)."""
        while self._held:
            try:
                record = self._held.popleft()
            except IndexError:  # another thread took the last one
                return
            self.records.put(record)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Write what is queued, then end the thread (idempotent)."""
        self.release()
        if self._thread.is_alive():
            self.records.put(None)
            self._thread.join()

    def flush(self, timeout: float) -> bool:
        """Wait until every line queued before this call is written; ``False`` if ``timeout`` seconds passed."""
        self.release()
        if not self._thread.is_alive():
            return True
        written = threading.Event()
        self.records.put(written)
        return written.wait(timeout)

    def _run(self) -> None:
        while True:
            item = self.records.get()
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
                    item = self.records.get_nowait()
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
    root.handlers[:] = [Enqueue(_writer)]
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
