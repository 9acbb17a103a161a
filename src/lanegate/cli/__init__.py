"""The ``lanegate`` command line."""

from __future__ import annotations

import typer

from lanegate.cli import keys
from lanegate.cli.check import check
from lanegate.cli.demo import demo
from lanegate.cli.events import audit_app, events
from lanegate.cli.serve import serve

app = typer.Typer(name="lanegate", help="Data-residency gateway for AI traffic.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
app.command()(serve)
app.command()(check)
app.command()(events)
app.command()(demo)
app.add_typer(keys.app, name="keys")
app.add_typer(audit_app, name="audit")


def main() -> None:
    app()
