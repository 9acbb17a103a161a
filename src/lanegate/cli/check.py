"""``lanegate check``: validate policy packs and the registry, and gate deployment plans, for CI pipelines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lanegate.cli.common import ConfigOption, config_path, err, out
from lanegate.cli.plan import check_plans, read_mapping
from lanegate.config import ConfigError, load_config
from lanegate.config.secrets import lane_secret_problems
from lanegate.governance.plans import PlanFormat


def check(
    config: ConfigOption = None,
    secrets: Annotated[bool, typer.Option("--secrets/--no-secrets",
                                          help="Also check that every target's secret can be read.")] = False,
    plan: Annotated[list[Path] | None, typer.Option("--plan", help="A deployment plan to check against the "
                                                    "registry and the lanes (repeatable): a plan with "
                                                    "deployments:, Kubernetes manifests or Helm values.")] = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="Where Kubernetes manifests and Helm values "
                                                 "hold the model, region, lane, data classes and uses.")] = None,
    plan_format: Annotated[str, typer.Option("--format", help="auto, plan, kubernetes or helm.")] = "auto",
) -> None:
    """Validate packs and the registry; with --plan, gate deployment plans. Prints 'file:line: key: reason'
    lines (a plan: one line per violation, naming the rule and the ancestor behind it); exit 1 on any error or
    violation, 2 when a plan cannot be read."""
    if plan_format not in ("auto", "plan", "kubernetes", "helm"):
        err.print(f"[red]error:[/] --format {plan_format}: use auto, plan, kubernetes or helm")
        raise typer.Exit(2)
    fmt: PlanFormat = plan_format  # type: ignore[assignment]
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
    err.print(f"ok: {len(loaded.lanes)} lane(s): {summary}; {len(loaded.registry.models)} registered model(s); "
              f"{len(problems)} warning(s)")
    if plan and check_plans(loaded, plan, read_mapping(mapping), fmt):
        raise typer.Exit(1)
