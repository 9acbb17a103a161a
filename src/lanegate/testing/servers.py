"""Running an ASGI application for real, on a loopback port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import uvicorn


class LoopbackServer:
    """Serves ``app`` under uvicorn on ``127.0.0.1`` (a free port unless ``port`` is given); a context manager.

    ``tls=(certfile, keyfile)`` serves HTTPS (see :func:`lanegate.testing.tls.loopback_certificate`).

    ``url`` is ``http://127.0.0.1:PORT``. Start-up fails loudly if the app's lifespan fails.
    """

    def __init__(self, app: Any, *, lifespan: Literal["auto", "on", "off"] = "on", port: int = 0,
                 tls: tuple[Path, Path] | None = None) -> None:
        # proto must be IPPROTO_TCP: asyncio enables TCP_NODELAY only on such sockets, and without it every
        # response waits ~40 ms for a delayed ACK.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port = self._sock.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        certfile, keyfile = tls if tls else (None, None)
        config = uvicorn.Config(app, lifespan=lifespan, log_level="warning", access_log=False,
                                http="httptools", loop="asyncio", timeout_graceful_shutdown=2,
                                ssl_certfile=certfile, ssl_keyfile=keyfile)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"loopback-{self.port}", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # surfaced by start()
            self._error = exc

    def start(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {self.port} did not start: {self._error!r}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
