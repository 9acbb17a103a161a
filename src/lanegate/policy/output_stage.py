"""Scanning what the provider answers (``pii-detector`` with ``scan_responses: true``).

The answer's message content and tool-call arguments go through the same detector and operators as the
request. A stream is scanned as it flows: each choice's text is released only up to :data:`HOLD` characters
before its end, and never in the middle of a value found there, so a value split across chunks is caught
whole; a private-key block is held until it ends. An entity whose action is ``block`` withholds a buffered
answer (``502 pii_in_answer``) and ends a stream with an error event before the value is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from lanegate.errors import Refusal
from lanegate.exchange import Exchange, StageOutcome
from lanegate.pii.detector import Detector
from lanegate.pii.operators import OperatorSettings, apply
from lanegate.policy.chunks import choice_deltas
from lanegate.policy.stage import StreamFilter

HOLD = 64  # longer than any value but a private key, which is held until its END line
PEM_START = "-----BEGIN"


def _refusal(entities: set[str]) -> Refusal:
    return Refusal(502, f"The provider's answer contained personal data this lane does not pass on: "
                   f"{', '.join(sorted(entities))}. The answer was withheld.", type="server_error",
                   code="pii_in_answer", extra={"entities": sorted(entities)})


class OutputScanStage:
    name = "pii-detector-output"

    def __init__(self, detector: Detector, settings: Callable[[], OperatorSettings]) -> None:
        self._detector = detector
        self._request_settings = settings

    def settings(self) -> OperatorSettings:
        """The request's operators, with ``tokenize`` turned into ``redact``: an answer's values get no tokens."""
        base = self._request_settings()
        redact = {e: ("redact" if a == "tokenize" else a) for e, a in base.actions.items()}
        default = "redact" if base.default == "tokenize" else base.default
        return replace(base, default=default, actions=redact)

    def _scan(self, exchange: Exchange, text: str) -> str:
        findings = self._detector.detect(text)
        if not findings:
            return text
        settings = self.settings()
        outcome = apply(text, findings, settings)
        _count(exchange, outcome.counts, settings)
        if outcome.blocked:
            raise _refusal(outcome.blocked)
        return outcome.text

    async def on_response(self, exchange: Exchange, payload: dict[str, Any]) -> None:
        for choice in payload.get("choices") or []:
            message = choice.get("message") if isinstance(choice, dict) else None
            if not isinstance(message, dict):
                continue
            if isinstance(message.get("content"), str):
                message["content"] = self._scan(exchange, message["content"])
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                    function["arguments"] = self._scan(exchange, function["arguments"])

    def stream_filter(self, exchange: Exchange) -> StreamFilter | None:
        return ScanFilter(self, exchange)


class ScanFilter:
    """Per-stream state: the text of each choice not yet released."""

    def __init__(self, stage: OutputScanStage, exchange: Exchange) -> None:
        self._stage = stage
        self._exchange = exchange
        self._pending: dict[int, str] = {}
        self._settings = stage.settings()

    def _release(self, index: int, piece: str, final: bool) -> str:
        text = self._pending.get(index, "") + piece
        findings = self._stage._detector.detect(text)
        cut = len(text) if final else max(0, len(text) - HOLD)
        pem = text.rfind(PEM_START)
        if not final and pem >= 0 and "-----END" not in text[pem:]:
            cut = min(cut, pem)
        for finding in findings:
            if finding.start < cut < finding.end:
                cut = finding.start
        released = [f for f in findings if f.end <= cut]
        self._pending[index] = text[cut:]
        outcome = apply(text[:cut], released, self._settings)
        _count(self._exchange, outcome.counts, self._settings)
        if outcome.blocked:
            raise _refusal(outcome.blocked)
        return outcome.text

    def on_event(self, event: dict[str, Any]) -> dict[str, Any] | None:
        for index, delta, final in choice_deltas(event):
            if delta is not None and (isinstance(delta.get("content"), str) or final):
                delta["content"] = self._release(index, delta.get("content") or "", final)
        return event

    def on_end(self) -> list[dict[str, Any]]:
        events = []
        for index in list(self._pending):
            text = self._release(index, "", True)
            if text:
                events.append({"object": "chat.completion.chunk", "choices": [{"index": index,
                                                                                 "delta": {"content": text}}]})
        self._pending.clear()
        return events


def _count(exchange: Exchange, counts: Any, settings: OperatorSettings) -> None:
    """Add what the answer held to the record, under this stage."""
    if not counts:
        return
    outcome = next((s for s in exchange.stages if s.stage == OutputScanStage.name), None)
    if outcome is None:
        outcome = StageOutcome(OutputScanStage.name, "continue", {"entities": {}})
        exchange.stages.append(outcome)
    for entity, count in counts.items():
        entry = outcome.detail["entities"].setdefault(entity, {"count": 0, "action": settings.action(entity)})
        entry["count"] += count
