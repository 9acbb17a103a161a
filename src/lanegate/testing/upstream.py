"""A fake OpenAI-compatible provider that records every request it receives (headers and body).

It is a real ASGI app: serve it with :class:`~lanegate.testing.servers.LoopbackServer`. Its behaviour is
set through attributes, from any thread: ``status`` (answer with this status, e.g. 503), ``delay``
(seconds before answering), ``stream_gate`` (a :class:`threading.Event` the stream waits on after its first
chunk), ``reply`` (the assistant text for a request) and ``tool_call`` (when set, the answer is a call of a
function instead: its name and JSON arguments for a request, the arguments streamed in ``chunks`` pieces).
A request asking for ``logprobs`` gets them: one entry per piece of the text, as providers give them. With
``reasoning`` set, the answer also carries that text as ``reasoning_content`` (as vLLM and others give a
reasoning model's thinking), streamed before the content.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class Received:
    """One request as the provider saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


async def read_body(receive: Any) -> bytes:
    """The whole body of an ASGI HTTP request."""
    body = b""
    while True:
        message = await receive()
        body += bytes(message.get("body", b""))
        if not message.get("more_body"):
            return body


def _default_reply(name: str) -> Callable[[Received], str]:
    return lambda received: f"Hello from {name}."


class FakeUpstream:
    """An OpenAI-compatible endpoint: ``/v1/chat/completions`` (plain and SSE), ``/v1/embeddings``."""

    def __init__(self, name: str = "fake", reply: Callable[[Received], str] | None = None, chunks: int = 4) -> None:
        self.name = name
        self.reply = reply or _default_reply(name)
        self.chunks = chunks
        self.status = 200
        self.delay = 0.0
        self.stream_gate: threading.Event | None = None
        self.tool_call: Callable[[Received], tuple[str, str]] | None = None
        self.reasoning: Callable[[Received], str] | None = None
        self.received: list[Received] = []
        self._lock = threading.Lock()

    def requests(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        received = Received(scope["method"], scope["path"], headers, body)
        with self._lock:
            self.received.append(received)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.status != 200:
            await _json(send, self.status, {"error": {"message": f"{self.name} failing", "type": "server_error"}})
            return
        request = received.json() or {}
        if scope["path"].endswith("/embeddings"):
            await _json(send, 200, _embeddings(request))
        elif scope["path"].endswith("/chat/completions") and self.tool_call is not None:
            name, arguments = self.tool_call(received)
            if request.get("stream"):
                await self._stream_call(send, request, name, arguments)
            else:
                await _json(send, 200, _call(request, name, arguments))
        elif scope["path"].endswith("/chat/completions"):
            text = self.reply(received)
            thinking = self.reasoning(received) if self.reasoning is not None else None
            if request.get("stream"):
                await self._stream(send, request, text, thinking)
            else:
                answer = _completion(request, text)
                if thinking is not None:
                    answer["choices"][0]["message"]["reasoning_content"] = thinking
                await _json(send, 200, answer)
        elif scope["path"].endswith("/models"):
            await _json(send, 200, {"object": "list", "data": []})
        else:
            await _json(send, 404, {"error": {"message": "not found"}})

    async def _stream(self, send: Any, request: dict[str, Any], text: str, thinking: str | None = None) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": request.get("model")}
        if thinking is not None:
            size = max(1, -(-len(thinking) // self.chunks))
            for i in range(0, len(thinking), size):
                delta = {"reasoning_content": thinking[i : i + size]}
                await _event(send, {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        size = max(1, -(-len(text) // self.chunks))
        pieces = [text[i : i + size] for i in range(0, len(text), size)] or [""]
        first = True
        for piece in pieces:
            delta = {"role": "assistant", "content": piece} if first else {"content": piece}
            choice = {"index": 0, "delta": delta, "finish_reason": None}
            if request.get("logprobs"):
                choice["logprobs"] = _logprobs(piece)
            await _event(send, {**base, "choices": [choice]})
            if first and self.stream_gate is not None:
                await asyncio.to_thread(self.stream_gate.wait, 30)
            first = False
        await _event(send, {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (request.get("stream_options") or {}).get("include_usage"):
            await _event(send, {**base, "choices": [], "usage": _usage(request, text)})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


    async def _stream_call(self, send: Any, request: dict[str, Any], name: str, arguments: str) -> None:
        """A tool call streamed as providers stream one: its id and name first, then its arguments in pieces."""
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": request.get("model")}
        head = {"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": ""}}
        await _event(send, {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [head]},
                                                 "finish_reason": None}]})
        size = max(1, -(-len(arguments) // self.chunks))
        for i in range(0, len(arguments), size):
            call = {"index": 0, "function": {"arguments": arguments[i : i + size]}}
            await _event(send, {**base, "choices": [{"index": 0, "delta": {"tool_calls": [call]},
                                                     "finish_reason": None}]})
        await _event(send, {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


def _call(request: dict[str, Any], name: str, arguments: str) -> dict[str, Any]:
    call = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments}}
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": request.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                         "finish_reason": "tool_calls"}], "usage": _usage(request, arguments)}


def _usage(request: dict[str, Any], text: str) -> dict[str, int]:
    prompt = len(orjson.dumps(request.get("messages", request.get("input", "")))) // 4
    completion = len(text) // 4
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion(request: dict[str, Any], text: str) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop",
              "logprobs": _logprobs(text) if request.get("logprobs") else None}
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": request.get("model"),
            "choices": [choice], "usage": _usage(request, text)}


def _logprobs(text: str) -> dict[str, Any]:
    """Log probabilities of ``text``'s pieces (its words with the space before them), each with its bytes."""
    pieces = [piece for piece in text.replace(" ", "\0 ").split("\0") if piece]
    return {"content": [{"token": piece, "logprob": -0.5, "bytes": list(piece.encode()), "top_logprobs": []}
                        for piece in pieces]}


def _embeddings(request: dict[str, Any]) -> dict[str, Any]:
    items = request.get("input", "")
    items = items if isinstance(items, list) else [items]
    data = [{"object": "embedding", "index": i, "embedding": [((hash(str(v)) >> s) % 100) / 100 for s in range(8)]}
            for i, v in enumerate(items)]
    return {"object": "list", "data": data, "model": request.get("model"),
            "usage": {"prompt_tokens": len(items), "total_tokens": len(items)}}


async def _json(send: Any, status: int, payload: Any) -> None:
    body = orjson.dumps(payload)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _event(send: Any, payload: dict[str, Any]) -> None:
    await send({"type": "http.response.body", "body": b"data: " + orjson.dumps(payload) + b"\n\n", "more_body": True})
