"""``lanegate serve``: run the gateway under uvicorn."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from lanegate.cli.common import ConfigOption, config_path, err, load_or_exit
from lanegate.config import ConfigError, load_config
from lanegate.config.secrets import lane_secret_problems
from lanegate.ingress.app import Gateway
from lanegate.logs import configure


def app_factory() -> Gateway:
    """Builds the gateway in each worker process from ``$LANEGATE_CONFIG`` (set by ``serve``).

    With one worker, ``SIGHUP`` reloads every lane's pack in place; with several, uvicorn's supervisor answers
    ``SIGHUP`` by replacing the workers one by one, and each new worker starts with the packs on disk.
    """
    configure(os.environ.get("LANEGATE_LOG_LEVEL", "info"))
    path = Path(os.environ["LANEGATE_CONFIG"])
    try:
        return Gateway(load_config(path), reload_on_sighup=os.environ.get("LANEGATE_WORKERS", "1") == "1",
                       settle_collector=True)
    except ConfigError as exc:  # validated by serve before the workers start; reported if it changed since
        raise SystemExit(str(exc)) from None


def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve every enabled lane of the configuration under /lanes/{lane}/v1/."""
    loaded = load_or_exit(config)
    problems = [p for lane in loaded.lanes.values() for p in lane_secret_problems(lane)]
    if problems:
        for problem in problems:
            err.print(str(problem), markup=False)
        raise typer.Exit(1)
    for warning in loaded.warnings:
        err.print(f"warning: {warning}", markup=False)
    os.environ["LANEGATE_CONFIG"] = str(config_path(config).resolve())
    os.environ["LANEGATE_LOG_LEVEL"] = log_level
    os.environ["LANEGATE_WORKERS"] = str(workers)
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="lanegate-metrics-")
    lanes = ", ".join(f"/lanes/{name}/v1" for name in loaded.lanes)
    err.print(f"Lanegate serving {lanes} on http://{host}:{port} ({workers} worker(s))")
    uvicorn.run("lanegate.cli.serve:app_factory", factory=True, host=host, port=port, workers=workers,
                http="httptools", loop="uvloop", lifespan="on", access_log=False, log_level=log_level,
                timeout_graceful_shutdown=10, proxy_headers=False, server_header=False)
