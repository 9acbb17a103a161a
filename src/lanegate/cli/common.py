"""Helpers shared by the CLI commands: loading configuration, opening a lane's store, printing problems."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from lanegate.config import ConfigError, LoadedConfig, load_config
from lanegate.config.lane import LaneConfig
from lanegate.store import LaneStore, StoreUnavailable, UnsupportedStore, open_store
from lanegate.timeparse import parse_time

T = TypeVar("T")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOption = Annotated[Path | None, typer.Option(
    "--config", "-c", help="Policy pack file or directory of packs (default: $LANEGATE_CONFIG).",
    show_default=False)]
LaneOption = Annotated[str, typer.Option("--lane", "-l", help="Lane name.")]


def config_path(option: Path | None) -> Path:
    if option is not None:
        return option
    env = os.environ.get("LANEGATE_CONFIG")
    if env:
        return Path(env)
    err.print("[red]error:[/] no configuration: pass --config FILE|DIR or set LANEGATE_CONFIG")
    raise typer.Exit(2)


def load_or_exit(option: Path | None) -> LoadedConfig:
    path = config_path(option)
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False)
        raise typer.Exit(1) from None


def lane_or_exit(config: LoadedConfig, name: str) -> LaneConfig:
    lane = config.lanes.get(name)
    if lane is None:
        err.print(f"[red]error:[/] no lane '{name}'; lanes in this configuration: {', '.join(sorted(config.lanes))}")
        raise typer.Exit(1)
    return lane


def with_store(lane: LaneConfig, work: Callable[[LaneStore], Awaitable[T]]) -> T:
    """Open ``lane``'s store, run ``work`` on it, close it; store errors end the command with exit 1."""

    async def run() -> T:
        store = open_store(lane.store_url)
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except (StoreUnavailable, UnsupportedStore) as exc:
        err.print(f"[red]error:[/] lane '{lane.name}': {exc}")
        raise typer.Exit(1) from None


def parse_since(value: str | None) -> str | None:
    """``1h``, ``30m``, ``2d``, ``45s`` or an ISO-8601 time, as an ISO-8601 UTC timestamp."""
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
