"""``lanegate registry``: what the registry knows of a model, and why it may run where it may."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import typer

from lanegate.cli.common import ConfigOption, err, load_or_exit, out
from lanegate.governance.lineage import ANY_CLASS, Lineage, lineage
from lanegate.governance.models import ModelEntry
from lanegate.governance.registry import Registry

app = typer.Typer(help="The model and dataset registry.", no_args_is_help=True)


def _tree(registry: Registry, model: ModelEntry, depth: int = 1, seen: frozenset[str] = frozenset()) -> list[str]:
    lines = []
    pad = "  " * depth
    for base in model.base_models:
        resolved = registry.resolve_model(base)
        if resolved is None or resolved.ref in seen:
            continue
        lines.append(f"{pad}model {resolved.ref} (base model, {resolved.licence})")
        lines += _tree(registry, resolved, depth + 1, seen | {resolved.ref})
    for use in model.datasets:
        data = registry.datasets[use.id]
        classes = ", ".join(data.data_classes) or "no data classes"
        lines.append(f"{pad}dataset {data.id} ({use.use}; from {data.origin_jurisdiction}; {data.legal_basis}; "
                     f"{classes})")
    return lines


def explain(registry: Registry, found: Lineage) -> dict[str, Any]:
    """The model's lineage, data classes, where each may be processed and which ancestor says so."""
    classes = sorted(set(found.data_classes) | {r.data_class for r in found.restrictions} - {ANY_CLASS})
    placement: dict[str, Any] = {}
    for data_class in [*classes, ANY_CLASS]:
        allowed = found.allowed(data_class)
        placement[data_class] = {
            "regions": sorted(allowed) if allowed is not None else None,
            "restricted_by": [{"source": r.source, "regions": sorted(r.regions), "for": r.data_class}
                              for r in found.applying(data_class)],
        }
    return {
        "model": found.model,
        "ancestors": list(found.ancestors),
        "data_classes": {c: list(s) for c, s in sorted(found.data_classes.items())},
        "allowed_regions": placement,
        "prohibited_uses": {u: list(s) for u, s in sorted(found.prohibited_uses.items())},
        "artifacts": {"verified": registry.verified.get(found.model, []),
                      "mismatched": registry.mismatches.get(found.model, [])},
    }


@app.command()
def show(
    model: Annotated[str, typer.Argument(help="ID@VERSION, or ID when the registry holds one version.")],
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON.")] = False,
) -> None:
    """Explain a model: its lineage, the data classes it inherits, where each may be processed (and which
    ancestor restricts what), the uses it must not be put to, and whether its files match their digests."""
    loaded = load_or_exit(config)
    registry = loaded.registry
    entry = registry.resolve_model(model)
    if entry is None:
        known = ", ".join(sorted(registry.models)) or "none"
        err.print(f"[red]error:[/] no model '{model}' in the registry (registered: {known})")
        raise typer.Exit(1)
    found = lineage(registry, entry.ref)
    facts = explain(registry, found)
    if as_json:
        out.print(orjson.dumps(facts, option=orjson.OPT_INDENT_2).decode(), markup=False, soft_wrap=True)
        return
    lines = [f"{entry.ref}" + (f" — {entry.description}" if entry.description else ""),
             f"licence: {entry.licence}" + (f" (meets '{entry.licence_policy}')" if entry.licence_policy else ""),
             "lineage:", *(_tree(registry, entry) or ["  (no base models or datasets)"]), "data classes:"]
    lines += [f"  {c} (from {', '.join(s)})" for c, s in facts["data_classes"].items()] or ["  none"]
    lines.append("where it may run:")
    for data_class, place in facts["allowed_regions"].items():
        what = "any data" if data_class == ANY_CLASS else f"{data_class} data"
        if place["regions"] is None:
            lines.append(f"  {what}: wherever the lane allows")
            continue
        why = "; ".join(f"{r['source']} allows {', '.join(r['regions'])}" for r in place["restricted_by"])
        lines.append(f"  {what}: {', '.join(place['regions']) or 'nowhere'} — {why}")
    lines.append("prohibited uses: " + (", ".join(f"{u} ({', '.join(s)})" for u, s in
                                                  facts["prohibited_uses"].items()) or "none"))
    artifacts = facts["artifacts"]
    lines.append(f"artifacts: {len(entry.artifacts)} registered; {len(artifacts['verified'])} verified here"
                 + (f"; MISMATCHED: {', '.join(artifacts['mismatched'])}" if artifacts["mismatched"] else ""))
    out.print("\n".join(lines), markup=False, soft_wrap=True)
