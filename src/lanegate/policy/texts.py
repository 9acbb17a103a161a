"""Every text of a request (and of a buffered answer) that a content stage inspects, each with a way to
replace it.

Chat: each message's content (a string, or the text of its text parts), its ``name``, and its tool calls'
arguments; other content parts (images, audio, files) cannot be inspected and are refused. Embeddings: the
input string or strings; input given as token ids cannot be inspected and is refused. Both: ``user``,
``metadata`` values and (chat) a ``prediction``'s content. So no text a caller's users write passes a
content stage unseen; other fields (tool definitions, a response format...) are the application's own and
are forwarded as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from lanegate.errors import invalid_request
from lanegate.exchange import Exchange

Setter = Callable[[str], None]
# the texts of an answer's message (and of a streamed delta) besides tool calls: its content, a refusal, and
# a reasoning model's thinking as vLLM, DeepSeek and others give it (``reasoning_content``, ``reasoning``)
ANSWER_FIELDS = ("content", "refusal", "reasoning_content", "reasoning")


def request_texts(exchange: Exchange) -> Iterator[tuple[str, Setter]]:
    """Every text of the request with a way to replace it."""
    if exchange.chat is not None:
        for number, message in enumerate(exchange.chat.messages):
            if isinstance(message.content, str):
                yield message.content, partial(setattr, message, "content")
            elif isinstance(message.content, list):
                for place, part in enumerate(message.content):
                    if part.type != "text" or part.text is None:
                        raise invalid_request(
                            f"This lane inspects what is sent to its providers and cannot inspect a '{part.type}' "
                            "content part; send text parts only, or use a lane without content stages.",
                            "uninspectable_input", f"messages[{number}].content[{place}]")
                    yield part.text, partial(setattr, part, "text")
            if message.name is not None:
                yield message.name, partial(setattr, message, "name")
            for call in message.tool_calls or []:
                if call.function is not None and call.function.arguments is not None:
                    yield call.function.arguments, partial(setattr, call.function, "arguments")
        yield from _fields_texts(exchange.chat.model_extra)
    elif exchange.embeddings is not None:
        request = exchange.embeddings
        yield from _fields_texts(request.model_extra)
        if isinstance(request.input, str):
            yield request.input, partial(setattr, request, "input")
            return
        items = list(request.input)
        if not all(isinstance(item, str) for item in items):
            raise invalid_request("This lane inspects embeddings input and cannot inspect token ids; send the input "
                                  "as text.", "uninspectable_input", "input")
        for index, item in enumerate(items):
            assert isinstance(item, str)

            def put(value: str, i: int = index) -> None:
                items[i] = value
                request.input = items  # type: ignore[assignment]

            yield item, put


def _fields_texts(fields: dict[str, Any] | None) -> Iterator[tuple[str, Setter]]:
    """The texts of a request's other fields that go to the provider as they are written: ``user`` (an
    end-user's identifier, often an email address), ``metadata`` values and a ``prediction``'s content."""
    if not fields:
        return
    if isinstance(fields.get("user"), str):
        yield fields["user"], partial(fields.__setitem__, "user")
    metadata = fields.get("metadata")
    if isinstance(metadata, dict):
        for key, value in metadata.items():
            if isinstance(value, str):
                yield value, partial(metadata.__setitem__, key)
    prediction = fields.get("prediction")
    content = prediction.get("content") if isinstance(prediction, dict) else None
    if isinstance(content, str):
        assert isinstance(prediction, dict)
        yield content, partial(prediction.__setitem__, "content")
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                yield part["text"], partial(part.__setitem__, "text")


def answer_texts(payload: dict[str, Any]) -> Iterator[tuple[str, Setter]]:
    """Every text of a buffered chat answer: each choice's message content, refusal and reasoning
    (:data:`ANSWER_FIELDS`), and its tool calls' arguments."""
    for choice in payload.get("choices") or []:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            continue
        for field in ANSWER_FIELDS:
            if isinstance(message.get(field), str):
                yield message[field], partial(message.__setitem__, field)
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                yield function["arguments"], partial(function.__setitem__, "arguments")
