"""The ``lanegate`` command line."""

from __future__ import annotations

import typer

from lanegate.cli import evidence, keys, registry
from lanegate.cli.bom import bom
from lanegate.cli.check import check
from lanegate.cli.demo import demo
from lanegate.cli.events import audit_app, events_app
from lanegate.cli.identity import whoami
from lanegate.cli.records import records
from lanegate.cli.scan import scan
from lanegate.cli.serve import serve

app = typer.Typer(name="lanegate", help="Data-residency gateway for AI traffic.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
app.command()(serve)
app.command()(check)
app.command()(demo)
app.command()(evidence.verify)
app.command()(whoami)
app.command()(scan)
app.command()(bom)
app.command()(records)
app.add_typer(events_app, name="events")
events_app.command()(evidence.show)
app.add_typer(keys.app, name="keys")
keys.app.add_typer(evidence.signing_app, name="signing")
app.add_typer(audit_app, name="audit")
audit_app.command()(evidence.checkpoint)
audit_app.command()(evidence.consistency)
app.add_typer(evidence.export_app, name="export")
app.add_typer(registry.app, name="registry")


def main() -> None:
    app()
