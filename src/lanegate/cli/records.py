"""``lanegate records``: a lane's record of processing activities, from configuration and ledger."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from lanegate.cli.common import ConfigOption, LaneOption, lane_or_exit, load_or_exit, out, parse_since, with_store
from lanegate.governance.records import LedgerSummary, processing_record, to_markdown
from lanegate.store import DecisionQuery, LaneStore


def records(
    lane: LaneOption,
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of Markdown.")] = False,
    since: Annotated[str | None, typer.Option(help="Summarise the ledger since: 30d, or an ISO time.")] = None,
) -> None:
    """Print the lane's record of processing (GDPR Art. 30 style): purposes, data classes, recipients with
    regions, transfers and their legal basis, retention, and what the ledger shows (as Markdown or JSON)."""
    loaded = load_or_exit(config)
    lane_config = lane_or_exit(loaded, lane)

    async def read(store: LaneStore) -> LedgerSummary:
        summary = LedgerSummary()
        async for row in store.iter_decisions(DecisionQuery(since=parse_since(since))):
            summary.add(row.body)
        return summary

    record = processing_record(lane_config, loaded.registry, with_store(lane_config, read))
    if as_json:
        out.print(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode(), markup=False, soft_wrap=True)
    else:
        out.print(to_markdown(record), markup=False, soft_wrap=True, end="")
