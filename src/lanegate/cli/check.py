"""``lanegate check``: validate policy packs for CI pipelines."""

from __future__ import annotations

from typing import Annotated

import typer

from lanegate.cli.common import ConfigOption, config_path, err, out
from lanegate.config import ConfigError, load_config
from lanegate.config.secrets import lane_secret_problems


def check(
    config: ConfigOption = None,
    secrets: Annotated[bool, typer.Option("--secrets/--no-secrets",
                                          help="Also check that every target's secret can be read.")] = False,
) -> None:
    """Validate packs. Prints 'file:line: key: reason' lines; exit 1 on any error."""
    path = config_path(config)
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            out.print(str(problem), markup=False)
        err.print(f"{len(exc.problems)} error(s)")
        raise typer.Exit(1) from None
    problems = list(loaded.warnings)
    for lane in loaded.lanes.values():
        problems += lane_secret_problems(lane, "error" if secrets else "warning")
    for problem in problems:
        out.print(f"{problem.severity}: {problem}", markup=False)
    errors = [p for p in problems if p.severity == "error"]
    summary = ", ".join(f"{n} ({lane.jurisdiction or 'geography unchecked'})" for n, lane in loaded.lanes.items())
    if errors:
        err.print(f"{len(errors)} error(s)")
        raise typer.Exit(1)
    err.print(f"ok: {len(loaded.lanes)} lane(s): {summary}; {len(problems)} warning(s)")
