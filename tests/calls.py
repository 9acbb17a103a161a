"""Reading the tool calls of an answer through the openai SDK, buffered or streamed."""

from __future__ import annotations

from typing import Any

import openai


def tool_calls(client: openai.OpenAI, messages: list[dict[str, Any]], stream: bool) -> list[tuple[str | None, str]]:
    """The answer's tool calls as the caller receives them, ``(name, arguments)`` each; a stream's pieces of
    arguments put together per call."""
    if not stream:
        message = client.chat.completions.create(model="chat", messages=messages).choices[0].message
        return [(call.function.name, call.function.arguments) for call in message.tool_calls or []]
    calls: dict[int, tuple[str | None, str]] = {}
    for chunk in client.chat.completions.create(model="chat", messages=messages, stream=True):
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            name, arguments = calls.get(call.index, (None, ""))
            function = call.function
            calls[call.index] = (name or (function.name if function else None),
                                 arguments + ((function.arguments or "") if function else ""))
    return [calls[index] for index in sorted(calls)]
