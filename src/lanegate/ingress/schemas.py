"""The request bodies the gateway accepts, typed and strict on the fields it relies on.

Unknown fields (``temperature``, ``tools``, vendor extensions...) are kept and forwarded untouched; the
fields the gateway reads or transforms are validated strictly, so a wrong type is a 400, never a 500.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lanegate.errors import Refusal, invalid_request


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class ContentPart(_Open):
    type: str
    text: str | None = None


class FunctionCall(_Open):
    name: str | None = None
    arguments: str | None = None


class ToolCall(_Open):
    id: str | None = None
    type: str | None = None
    function: FunctionCall | None = None


class ChatMessage(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class StreamOptions(_Open):
    include_usage: bool | None = None


class ChatCompletionRequest(_Open):
    """``POST /lanes/{lane}/v1/chat/completions``."""

    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool | None = None
    stream_options: StreamOptions | None = None


class EmbeddingsRequest(_Open):
    """``POST /lanes/{lane}/v1/embeddings``."""

    model: str = Field(min_length=1)
    input: str | list[str] | list[int] | list[list[int]]


class ErrorDetail(BaseModel):
    message: str
    type: str
    code: str | None
    param: str | None


class ErrorResponse(BaseModel):
    """Every refusal: OpenAI's error shape."""

    error: ErrorDetail


def _param(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not out:
            out = part
        elif not part[:1].isupper():  # skip pydantic's union-member tags such as 'list[ContentPart]'
            out += f".{part}"
    return out


def _refusal(exc: ValidationError) -> Refusal:
    err = exc.errors(include_url=False)[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in {"str", "int"})))
    param = _param(loc)
    if err["type"] == "missing":
        return invalid_request(f"Missing required parameter: '{param}'.", "missing_required_parameter", param)
    return invalid_request(f"Invalid value for '{param}': {err['msg']}.", "invalid_type", param)


def parse_json_object(body: bytes) -> dict[str, Any]:
    if not body:
        raise invalid_request("The request body is empty; send a JSON object.", "invalid_json")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid_request("The request body is not valid JSON.", "invalid_json") from None
    if not isinstance(data, dict):
        raise invalid_request("The request body must be a JSON object.", "invalid_json")
    return data


def parse_chat(body: bytes) -> ChatCompletionRequest:
    try:
        return ChatCompletionRequest.model_validate(parse_json_object(body))
    except ValidationError as exc:
        raise _refusal(exc) from None


def parse_embeddings(body: bytes) -> EmbeddingsRequest:
    data = parse_json_object(body)
    try:
        request = EmbeddingsRequest.model_validate(data)
    except ValidationError as exc:
        raise _refusal(exc) from None
    if request.input == "" or request.input == []:
        raise invalid_request("'input' must not be empty.", "invalid_value", "input")
    return request
