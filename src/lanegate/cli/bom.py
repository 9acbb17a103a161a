"""``lanegate bom``: a lane's AI bill of materials (CycloneDX 1.6 ML-BOM)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from lanegate.cli.common import ConfigOption, LaneOption, err, lane_or_exit, load_or_exit, out
from lanegate.governance.bom import lane_bom


def bom(
    lane: LaneOption,
    config: ConfigOption = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")]
    = None,
    bom_format: Annotated[str, typer.Option("--format", help="cyclonedx (JSON, spec 1.6).")] = "cyclonedx",
) -> None:
    """Print the lane's CycloneDX 1.6 ML-BOM: the models its targets serve and their ancestors (with model
    cards), the datasets in their lineage, and the targets as services with their regions."""
    if bom_format != "cyclonedx":
        err.print(f"[red]error:[/] --format {bom_format}: only cyclonedx is available")
        raise typer.Exit(2)
    loaded = load_or_exit(config)
    document = orjson.dumps(lane_bom(lane_or_exit(loaded, lane), loaded.registry), option=orjson.OPT_INDENT_2)
    if output is None:
        out.print(document.decode(), markup=False, soft_wrap=True)
    else:
        output.write_bytes(document + b"\n")
        err.print(f"{output}: CycloneDX {len(document):,} bytes")
