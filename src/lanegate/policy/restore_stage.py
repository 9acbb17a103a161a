"""Putting tokenized values back into the provider's answer, buffered or streamed.

Message content and tool-call arguments are restored. A stream is restored per choice (and per tool call)
as it flows, holding back only a possible token prefix; what is held is released with the choice's final
event. Only the tokens of this request are restored (a token the provider invents stays as it is).
"""

from __future__ import annotations

from typing import Any

from lanegate.exchange import Exchange
from lanegate.pii.tokens import StreamRestorer, restore
from lanegate.policy.chunks import choice_deltas
from lanegate.policy.stage import StreamFilter
from lanegate.policy.texts import answer_texts


class TokenRestoreStage:
    name = "pii-restore"

    async def on_response(self, exchange: Exchange, payload: dict[str, Any]) -> None:
        if not exchange.tokens:
            return
        for text, put in answer_texts(payload):
            put(restore(text, exchange.tokens))

    def stream_filter(self, exchange: Exchange) -> StreamFilter | None:
        return RestoreFilter(exchange.tokens) if exchange.tokens else None


class RestoreFilter:
    """Per-stream state: one restorer per choice's content and per tool call's arguments."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = tokens
        self._restorers: dict[tuple[int, int], StreamRestorer] = {}

    def _restorer(self, key: tuple[int, int]) -> StreamRestorer:
        if key not in self._restorers:
            self._restorers[key] = StreamRestorer(self._tokens)
        return self._restorers[key]

    def on_event(self, event: dict[str, Any]) -> dict[str, Any] | None:
        for index, delta, final in choice_deltas(event):
            if delta is not None:
                if isinstance(delta.get("content"), str) or final:
                    restorer = self._restorer((index, -1))
                    text = restorer.feed(delta.get("content") or "")
                    delta["content"] = text + restorer.flush() if final else text
                for call in delta.get("tool_calls") or []:
                    function = call.get("function") if isinstance(call, dict) else None
                    if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                        restorer = self._restorer((index, int(call.get("index", 0))))
                        function["arguments"] = restorer.feed(function["arguments"])
            if final:
                for key in [k for k in self._restorers if k[0] == index and k[1] >= 0]:
                    held = self._restorers.pop(key).flush()
                    if held and delta is not None:
                        delta.setdefault("tool_calls", []).append(
                            {"index": key[1], "function": {"arguments": held}})
                self._restorers.pop((index, -1), None)
        return event

    def on_end(self) -> list[dict[str, Any]]:
        """Text still held when the stream ended without a final event for its choice."""
        events = []
        for (index, call), restorer in self._restorers.items():
            held = restorer.flush()
            if not held:
                continue
            delta: dict[str, Any] = {"content": held} if call < 0 else {
                "tool_calls": [{"index": call, "function": {"arguments": held}}]}
            events.append({"object": "chat.completion.chunk", "choices": [{"index": index, "delta": delta}]})
        self._restorers.clear()
        return events
