"""Response stages see buffered answers and every stream event, in reverse chain order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import openai
import pytest

from lanegate.errors import forbidden
from lanegate.exchange import Exchange
from tests.packs import pack, target

HELLO = [{"role": "user", "content": "hello"}]


@dataclass
class Shout:
    """Upper-cases assistant text; in streams, adds a closing event from on_end."""

    name: str = "shout"
    seen: list[str] = field(default_factory=list)

    async def on_response(self, exchange: Exchange, payload: dict[str, Any]) -> None:
        self.seen.append(exchange.request_id)
        for choice in payload["choices"]:
            choice["message"]["content"] = choice["message"]["content"].upper()

    def stream_filter(self, exchange: Exchange) -> ShoutStream:
        return ShoutStream()


class ShoutStream:
    def on_event(self, event: dict[str, Any]) -> dict[str, Any] | None:
        for choice in event.get("choices", []):
            if choice["delta"].get("content"):
                choice["delta"]["content"] = choice["delta"]["content"].upper()
        return event

    def on_end(self) -> list[dict[str, Any]]:
        return [{"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                 "choices": [{"index": 0, "delta": {"content": "!"}, "finish_reason": None}]}]


class Withhold:
    name = "withhold"

    async def on_response(self, exchange: Exchange, payload: dict[str, Any]) -> None:
        raise forbidden("withheld by policy", "response_blocked")

    def stream_filter(self, exchange: Exchange) -> None:
        return None


def test_buffered_and_streamed_responses_pass_the_response_stages(gateway, upstream):
    eu = upstream("eu")
    stage = Shout()
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])}, response_stages={"eu": [stage]})
    client = gw.client("eu")
    assert client.chat.completions.create(model="chat", messages=HELLO).choices[0].message.content == "HELLO FROM EU."
    assert len(stage.seen) == 1
    text = "".join(c.choices[0].delta.content or "" for c in client.chat.completions.create(
        model="chat", messages=HELLO, stream=True) if c.choices)
    assert text == "HELLO FROM EU.!"


def test_a_response_stage_refusal_withholds_the_answer_and_is_recorded(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])}, response_stages={"eu": [Withhold()]})
    with pytest.raises(openai.PermissionDeniedError) as caught:
        gw.client("eu").chat.completions.create(model="chat", messages=HELLO)
    assert "Hello" not in str(caught.value.body)
    record = gw.records("eu")[-1]
    assert record["decision"] == "refused" and record["error_code"] == "response_blocked"
    assert record["route"]["selected"] == "eu-a"
