"""``lanegate scan``: run a lane's detectors on text, without traffic, and show what a provider would get."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from lanegate.cli.common import ConfigOption, err, lane_or_exit, load_or_exit, out, with_store
from lanegate.config.lane import LaneConfig
from lanegate.lanes import PII_HASH_SECRET
from lanegate.pii.operators import apply
from lanegate.pii.tokens import fresh_tokens
from lanegate.policy.pii_stage import PiiDetectorStage
from lanegate.store import LaneStore


def _stage(lane: LaneConfig) -> PiiDetectorStage:
    if lane.pii is None:
        err.print(f"[red]error:[/] lane '{lane.name}' has no pii-detector stage in policies.chain; nothing to scan")
        raise typer.Exit(1)

    async def key(store: LaneStore) -> bytes:  # the lane's own key, so hashes match what the gateway sends
        return await store.lane_secret(PII_HASH_SECRET)

    secret = with_store(lane, key)
    return PiiDetectorStage(lane.pii, lambda: secret)


def scan_text(stage: PiiDetectorStage, text: str) -> dict[str, Any]:
    """Findings (offsets into ``text``) and the text as the provider would receive it (``None``: blocked).
    Tokens are shown as a new conversation would get them; the lane's vault is not written."""
    settings = stage.settings()
    findings = stage.detector.detect(text)
    tokens = fresh_tokens((f.entity, text[f.start : f.end]) for f in findings
                          if settings.action(f.entity) == "tokenize")
    outcome = apply(text, findings, settings, tokens)
    result: dict[str, Any] = {
        "findings": [{"entity_type": f.entity, "start": f.start, "end": f.end, "action": settings.action(f.entity)}
                     for f in findings],
        "text": None if outcome.blocked else outcome.text,
    }
    if outcome.blocked:
        result["blocked"] = sorted(outcome.blocked)
    return result


def scan(
    source: Annotated[str, typer.Argument(metavar="FILE|-", help="Text to scan; '-' (default) reads stdin.")] = "-",
    config: ConfigOption = None,
    lane: Annotated[str | None, typer.Option("--lane", "-l", help="Lane whose pack to apply (default: the only "
                                             "lane).")] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Each input line is {\"text\": ...}; print one result "
                                        "per line.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
) -> None:
    """Run LANE's detectors on text and print what they found and the text as the provider would receive it.
    Exit 3 when the lane would refuse the text (an entity whose action is block)."""
    loaded = load_or_exit(config)
    if lane is None:
        if len(loaded.lanes) != 1:
            err.print(f"[red]error:[/] pass --lane; lanes: {', '.join(sorted(loaded.lanes))}")
            raise typer.Exit(2)
        lane = next(iter(loaded.lanes))
    stage = _stage(lane_or_exit(loaded, lane))
    try:
        data = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        err.print(f"[red]error:[/] {source}: {exc.strerror}")
        raise typer.Exit(2) from None
    if jsonl:
        blocked = False
        for number, line in enumerate(data.splitlines(), 1):
            if not line.strip():
                continue
            try:
                text = orjson.loads(line)["text"]
                if not isinstance(text, str):
                    raise TypeError
            except (orjson.JSONDecodeError, KeyError, TypeError):
                err.print(f"[red]error:[/] line {number}: expected a JSON object with a string 'text'")
                raise typer.Exit(2) from None
            result = scan_text(stage, text)
            blocked |= result["text"] is None
            out.print(orjson.dumps(result).decode(), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(3 if blocked else 0)
    result = scan_text(stage, data)
    if as_json:
        out.print(orjson.dumps(result).decode(), markup=False, soft_wrap=True)
    else:
        _show(data, result)
    raise typer.Exit(3 if result["text"] is None else 0)


def _show(text: str, result: dict[str, Any]) -> None:
    table = Table("entity", "start", "end", "action", box=None, header_style="bold")
    for found in result["findings"]:
        table.add_row(found["entity_type"], str(found["start"]), str(found["end"]), found["action"])
    if result["findings"]:
        out.print(table)
    err.print(f"{len(result['findings'])} finding(s) in {len(text)} characters")
    if result["text"] is None:
        err.print(f"[red]refused[/]: the lane blocks {', '.join(result['blocked'])}; nothing would be sent")
    else:
        out.print("--- as the provider would receive it ---", markup=False)
        out.print(result["text"], markup=False, end="" if result["text"].endswith("\n") else "\n")
