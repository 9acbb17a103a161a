"""``lanegate scan``: run a lane's content stages on text, without traffic, and show what a provider would get.

The stages run as the gateway runs them: ``dlp-filter`` and ``pii-detector`` in the order of the lane's
chain, each on what the one before left, and a stage that would refuse the request stops there. Findings
are reported with offsets into the text as given, whichever stage found them.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, TextIO

import orjson
import typer
from rich.progress import Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from lanegate.cli.common import ConfigOption, err, lane_or_exit, load_or_exit, out, with_store
from lanegate.config.lane import LaneConfig
from lanegate.dlp import MARKER, DlpRules
from lanegate.lanes import PII_HASH_SECRET
from lanegate.pii.entities import Finding
from lanegate.pii.operators import OperatorSettings, apply
from lanegate.pii.tokens import fresh_tokens
from lanegate.policy.pii_stage import PiiDetectorStage
from lanegate.store import LaneStore

Edit = tuple[int, int, str]  # (start, end, replacement) in the text a stage was given


@dataclass
class Rewritten:
    """Text as the stages so far left it, with, for each character, the span of the original text it stands
    for (a character of a marker stands for the whole value the marker replaced)."""

    text: str
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.starts:
            self.starts = list(range(len(self.text)))
            self.ends = list(range(1, len(self.text) + 1))

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that ``[start, end)`` of :attr:`text` covers."""
        return self.starts[start], self.ends[end - 1]

    def edit(self, edits: list[Edit]) -> None:
        """Apply ``edits`` (sorted, not overlapping)."""
        pieces: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        position = 0
        for start, end, replacement in edits:
            pieces += [self.text[position:start], replacement]
            first, last = self.original(start, end)
            starts += self.starts[position:start] + [first] * len(replacement)
            ends += self.ends[position:start] + [last] * len(replacement)
            position = end
        pieces.append(self.text[position:])
        self.text = "".join(pieces)
        self.starts = starts + self.starts[position:]
        self.ends = ends + self.ends[position:]


Step = Callable[[Rewritten, dict[str, Any]], bool]  # adds findings to the result; False: the stage refuses


def _pii_step(lane: LaneConfig) -> Step:
    assert lane.pii is not None

    async def key(store: LaneStore) -> bytes:  # the lane's own key, so hashes match what the gateway sends
        return await store.lane_secret(PII_HASH_SECRET)

    secret = with_store(lane, key)
    stage = PiiDetectorStage(lane.pii, lambda: secret)

    def step(current: Rewritten, result: dict[str, Any]) -> bool:
        """Tokens are shown as a new conversation would get them; the lane's vault is not written."""
        settings = stage.settings()
        text = current.text
        findings = stage.detector.detect(text)
        tokens = fresh_tokens((f.entity, text[f.start : f.end]) for f in findings
                              if settings.action(f.entity) == "tokenize")
        blocked = sorted({f.entity for f in findings if settings.action(f.entity) == "block"})
        for f in findings:
            _report(result, current, f.entity, f.start, f.end, settings.action(f.entity))
        if blocked:
            result["blocked"] = blocked
            return False
        current.edit([(f.start, f.end, _replacement(f, text, settings, tokens)) for f in findings])
        return True

    return step


def _replacement(finding: Finding, text: str, settings: OperatorSettings, tokens: dict[tuple[str, str], str]) -> str:
    """What the pii-detector's operators put in place of one finding (the operators applied to it alone)."""
    value = text[finding.start : finding.end]
    return apply(value, [Finding(finding.entity, 0, len(value), finding.score)], settings, tokens).text


def _dlp_step(lane: LaneConfig) -> Step:
    assert lane.dlp is not None
    rules = DlpRules(lane.dlp)
    action = lane.dlp.action

    def step(current: Rewritten, result: dict[str, Any]) -> bool:
        matches = rules.find(current.text)
        for match in matches:
            _report(result, current, match.label, match.start, match.end, action)
        if matches and action == "block":
            result["blocked"] = sorted({m.label for m in matches})
            return False
        current.edit([(m.start, m.end, MARKER) for m in matches])
        return True

    return step


def _report(result: dict[str, Any], current: Rewritten, entity: str, start: int, end: int, action: str) -> None:
    first, last = current.original(start, end)
    result["findings"].append({"entity_type": entity, "start": first, "end": last, "action": action})


STEPS: dict[str, Callable[[LaneConfig], Step]] = {"dlp-filter": _dlp_step, "pii-detector": _pii_step}


def steps(lane: LaneConfig) -> list[Step]:
    """The lane's content stages in the order of its chain."""
    found = [STEPS[name](lane) for name in lane.chain if name in STEPS]
    if not found:
        err.print(f"[red]error:[/] lane '{lane.name}' has no pii-detector or dlp-filter stage in policies.chain; "
                  "nothing to scan")
        raise typer.Exit(1)
    return found


def scan_text(stages: list[Step], text: str) -> dict[str, Any]:
    """Findings (offsets into ``text``, in order) and the text as the provider would receive it (``None``:
    refused, with ``blocked`` naming what refused it)."""
    result: dict[str, Any] = {"findings": []}
    current = Rewritten(text)
    sent = all(step(current, result) for step in stages)
    result["findings"].sort(key=lambda f: (f["start"], f["end"]))
    result["text"] = current.text if sent else None
    return result


class BadLine(ValueError):
    """A line of ``--jsonl`` input that is not a JSON object with a string ``text``."""

    def __init__(self, number: int) -> None:
        super().__init__(f"line {number}")
        self.number = number


@dataclass
class Summary:
    """What a ``--jsonl`` scan went through: lines scanned, lines with findings, lines refused."""

    lines: int = 0
    found: int = 0
    refused: int = 0


def scan_lines(stages: list[Step], lines: Iterable[str], write: Callable[[str], object], summary: Summary) -> None:
    """Scan the ``text`` of each JSON line of ``lines`` (blank lines are passed over) and ``write`` each result
    as a line, as it is made: input of any length streams through in constant memory."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            text = orjson.loads(line)["text"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise BadLine(number) from None
        if not isinstance(text, str):
            raise BadLine(number)
        result = scan_text(stages, text)
        summary.lines += 1
        summary.found += bool(result["findings"])
        summary.refused += result["text"] is None
        write(orjson.dumps(result, option=orjson.OPT_APPEND_NEWLINE).decode())


PROGRESS_EVERY = 1000  # lines between two updates of the progress line


def _scan_stream(stages: list[Step], stream: TextIO) -> Summary:
    """Scan ``stream`` line by line to standard output, with a progress line on a terminal's standard error."""
    summary = Summary()
    # the results go to standard output as they are, never through the progress display (which would
    # otherwise take over standard output while it shows)
    with Progress(TextColumn("scanning: {task.completed:,} line(s)"), TimeElapsedColumn(), console=err,
                  transient=True, disable=not err.is_terminal, redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task("scan", total=None)

        def lines() -> Iterator[str]:
            for count, line in enumerate(stream, 1):
                yield line
                if count % PROGRESS_EVERY == 0:
                    bar.update(task, completed=count)

        try:
            scan_lines(stages, lines(), sys.stdout.write, summary)
            sys.stdout.flush()
        except BrokenPipeError:  # the reader went away (`| head`): stop there, quietly
            _drop_stdout()
            raise typer.Exit(1) from None
    return summary


def _drop_stdout() -> None:
    """Point standard output at the null device, so that flushing it at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _input_problem(source: str, exc: OSError | UnicodeDecodeError | BadLine) -> str:
    if isinstance(exc, BadLine):
        return f"line {exc.number}: expected a JSON object with a string 'text'"
    if isinstance(exc, UnicodeDecodeError):
        return f"{source}: not UTF-8 text ({exc.reason})"
    return f"{source}: {exc.strerror}"


def scan(
    source: Annotated[str, typer.Argument(metavar="FILE|-", help="Text to scan; '-' (default) reads stdin.")] = "-",
    config: ConfigOption = None,
    lane: Annotated[str | None, typer.Option("--lane", "-l", help="Lane whose pack to apply (default: the only "
                                             "lane).")] = None,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="Each input line is {\"text\": ...}; print one result "
                                        "per line.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
) -> None:
    """Run LANE's content stages (dlp-filter, pii-detector) on text and print what they found and the text as
    the provider would receive it. Exit 3 when the lane would refuse the text (an action of block)."""
    loaded = load_or_exit(config)
    if lane is None:
        if len(loaded.lanes) != 1:
            err.print(f"[red]error:[/] pass --lane; lanes: {', '.join(sorted(loaded.lanes))}")
            raise typer.Exit(2)
        lane = next(iter(loaded.lanes))
    config_lane = lane_or_exit(loaded, lane)
    for warning in loaded.warnings:  # the pack's own warnings (a DLP pattern without a bound...), as serve shows
        if warning.file == str(config_lane.source):
            err.print(f"warning: {warning}", markup=False)
    stages = steps(config_lane)
    try:
        with contextlib.nullcontext(sys.stdin) if source == "-" else open(source, encoding="utf-8") as stream:
            if jsonl:
                summary = _scan_stream(stages, stream)
            else:
                data = stream.read()
    except (OSError, UnicodeDecodeError, BadLine) as exc:
        err.print(f"[red]error:[/] {_input_problem(source, exc)}")
        raise typer.Exit(2) from None
    if jsonl:
        err.print(f"{summary.lines} line(s) scanned: {summary.found} with findings, {summary.refused} refused")
        raise typer.Exit(3 if summary.refused else 0)
    result = scan_text(stages, data)
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
