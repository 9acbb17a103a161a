"""``lanegate check --plan``: the CI/CD residency gate for deployment plans."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from pydantic import ValidationError

from lanegate.cli.common import err, out
from lanegate.config.governance import lane_facts
from lanegate.config.loader import LoadedConfig
from lanegate.governance.plans import PlanError, PlanFormat, PlanMapping, read_plan


def read_mapping(path: Path | None) -> PlanMapping:
    if path is None:
        return PlanMapping()
    try:
        return PlanMapping.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError) as exc:
        err.print(f"{path}: cannot read the mapping: {exc}", markup=False)
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            err.print(f"{path}: {'.'.join(str(p) for p in e['loc'])}: {e['msg']}", markup=False)
    raise typer.Exit(2)


def check_plans(loaded: LoadedConfig, plans: list[Path], mapping: PlanMapping, fmt: PlanFormat) -> int:
    """Print one line per violation; the number of violations (unreadable plans exit 2)."""
    governance = loaded.governance
    lanes = {name: lane_facts(name, lane.spec) for name, lane in loaded.lanes.items()}
    violations = checked = 0
    for plan in plans:
        try:
            planned = read_plan(plan, mapping, fmt)
        except PlanError as exc:
            for problem in exc.problems:
                err.print(problem, markup=False)
            raise typer.Exit(2) from None
        for item in planned:
            checked += 1
            d = item.deployment
            for violation in governance.check(d, lanes.get(d.lane)):
                violations += 1
                out.print(f"{item.where}: {d.model} in {d.region} (lane {d.lane}): {violation}", markup=False)
    verdict = "refused" if violations else "allowed"
    err.print(f"{checked} deployment(s) checked: {violations} violation(s); {verdict}")
    return violations
