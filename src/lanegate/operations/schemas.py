"""Request bodies of the audit and admin operations: strict, unknown fields refused."""

from __future__ import annotations

from typing import Annotated, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from lanegate.config.models import Role
from lanegate.errors import invalid_request

M = TypeVar("M", bound=BaseModel)
KeyName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class ExportRequest(_Body):
    """``POST /lanes/{lane}/v1/audit/exports``: a window of records (``from`` inclusive, ``to`` exclusive;
    durations such as ``1h`` mean that long ago), optional filters, and a checkpoint the auditor already holds."""

    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    filter: dict[str, str] | None = None
    previous: str | None = Field(default=None, max_length=4096)


class KeyCreateRequest(_Body):
    """``POST /lanes/{lane}/v1/admin/keys``: the holder's name and the roles the key carries in the lane."""

    name: KeyName
    roles: list[Role] = Field(default_factory=lambda: _caller(), min_length=1)


def _caller() -> list[Role]:
    return ["caller"]


def parse_body(model: type[M], body: bytes) -> M:
    """``body`` as ``model``; a 400 naming the first wrong field otherwise."""
    try:
        data = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        raise invalid_request("The request body is not valid JSON.", "invalid_json") from None
    if not isinstance(data, dict):
        raise invalid_request("The request body must be a JSON object.", "invalid_type")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise invalid_request(f"{field}: {message}.", "invalid_request", field) from None
