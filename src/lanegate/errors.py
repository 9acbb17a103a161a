"""Refusals, in OpenAI's error shape.

Every way the gateway says no is a :class:`Refusal` carrying the HTTP status and the fields of
``{"error": {"message", "type", "code", "param"}}``. Raising one anywhere on the request path ends the
request; the pipeline records it and answers with :meth:`Refusal.body`.

Exception tree::

    Refusal
    ├── 400 invalid_request_error   (invalid_json, invalid_type, missing_required_parameter, ...)
    ├── 401 authentication_error    (missing_api_key, invalid_api_key)
    ├── 403 permission_error        (lane_forbidden, role_required, pii_blocked)
    ├── 404 not_found_error         (model_not_found, not_found, record_not_found, export_not_found, ...)
    ├── 405 invalid_request_error   (method_not_allowed; with allow)
    ├── 408 invalid_request_error   (request_timeout)
    ├── 409 invalid_request_error   (key_exists, export_not_ready, restart_required, reload_unavailable)
    ├── 413 invalid_request_error   (request_too_large)
    ├── 429 rate_limit_error        (rate_limit_exceeded; with retry-after)
    ├── 422 invalid_request_error   (invalid_configuration; with problems)
    ├── 431 invalid_request_error   (request_header_too_large)
    ├── 500 server_error            (policy_stage_failed, internal_error)
    └── 503 service_unavailable     (no_compliant_provider, audit_unavailable, store_unavailable)
"""

from __future__ import annotations

from typing import Any

import orjson


class Refusal(Exception):
    """The gateway refuses the request with ``status`` and an OpenAI-shaped error body."""

    def __init__(self, status: int, message: str, *, type: str, code: str, param: str | None = None,
                 headers: dict[str, str] | None = None, extra: dict[str, Any] | None = None,
                 record: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.extra = extra or {}  # more fields of the error object the caller gets
        self.record = record or {}  # what the refusing stage wants in the decision record (no payload text)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = headers or {}

    def body(self) -> bytes:
        return orjson.dumps(self.as_dict())

    def as_dict(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "code": self.code, "param": self.param,
                          **self.extra}}


def invalid_request(message: str, code: str = "invalid_request", param: str | None = None) -> Refusal:
    return Refusal(400, message, type="invalid_request_error", code=code, param=param)


def unauthenticated(message: str, code: str) -> Refusal:
    return Refusal(401, message, type="authentication_error", code=code)


def forbidden(message: str, code: str) -> Refusal:
    return Refusal(403, message, type="permission_error", code=code)


def not_found(message: str, code: str = "not_found", param: str | None = None) -> Refusal:
    return Refusal(404, message, type="not_found_error", code=code, param=param)


def too_large(limit: int) -> Refusal:
    return Refusal(413, f"Request body exceeds the gateway's limit of {limit} bytes.",
                   type="invalid_request_error", code="request_too_large")


def rate_limited(retry_after: int) -> Refusal:
    return Refusal(429, f"Rate limit reached; retry after {retry_after} s.", type="rate_limit_error",
                   code="rate_limit_exceeded", headers={"retry-after": str(retry_after)})


def unavailable(message: str, code: str) -> Refusal:
    return Refusal(503, message, type="service_unavailable", code=code)


def server_error(message: str, code: str) -> Refusal:
    return Refusal(500, message, type="server_error", code=code)
