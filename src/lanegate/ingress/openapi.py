"""The OpenAPI document of the gateway's own endpoints, assembled from the request models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from lanegate import __version__
from lanegate.ingress.schemas import ChatCompletionRequest, EmbeddingsRequest, ErrorResponse
from lanegate.operations.schemas import ExportRequest, KeyCreateRequest

LANE_PARAM = {"name": "lane", "in": "path", "required": True,
              "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}}
ERRORS = {str(code): {"description": text, "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/ErrorResponse"}}}} for code, text in [
    (400, "Malformed request"), (401, "Missing or invalid API key"), (403, "Refused by policy or key of another lane"),
    (404, "Unknown lane, endpoint, model, record, export or key"), (413, "Body over the configured limit"),
    (409, "Conflict: a key name in use, an export not ready, a change that needs a restart"),
    (422, "The configuration does not load (reload)"),
    (503, "No compliant provider, or the decision record could not be written")]}


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


ID_PARAM = {"name": "id", "in": "path", "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


EVENTS_QUERY = [
    _query("since", {"type": "string"}, "Records since this ISO-8601 time, or a duration ago (30m, 1h, 2d)."),
    _query("decision", {"type": "string", "enum": ["served", "refused", "config_changed"]}, "Only these records."),
    _query("after", {"type": "integer", "minimum": 0}, "Records after this seq (the previous page's next_after)."),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "Page size (default 100)."),
]


def _operations(security: list[dict[str, list[str]]], plain: dict[str, Any], export: dict[str, str],
                key: dict[str, str]) -> dict[str, Any]:
    """The auditor (``/audit/...``) and admin (``/admin/...``) operations of a lane."""

    def op(summary: str, extra: list[dict[str, Any]] | None = None, body: dict[str, str] | None = None,
           ok: str = "200") -> dict[str, Any]:
        out: dict[str, Any] = {"summary": summary, "parameters": [LANE_PARAM, *(extra or [])], "security": security,
                               "responses": {ok: plain["200"], **ERRORS}}
        if body is not None:
            out["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        return out

    zip_body = {"200": {"description": "The bundle", "content": {"application/zip": {"schema": {
        "type": "string", "format": "binary"}}}}, **ERRORS}
    base = "/lanes/{lane}/v1"
    return {
        f"{base}/audit/events": {"get": op("Auditor: the lane's records, a page at a time", EVENTS_QUERY)},
        f"{base}/audit/events/{{id}}": {"get": op("Auditor: one request's record, with a receipt on request", [
            ID_PARAM, _query("proof", {"type": "string", "enum": ["true", "false"]}, "Add the inclusion proof.")])},
        f"{base}/audit/checkpoint": {"get": op("Auditor: a signed checkpoint of the lane's log", [
            _query("from_size", {"type": "integer", "minimum": 0}, "Prove consistency from this tree size.")])},
        f"{base}/audit/exports": {"get": op("Auditor: the lane's export jobs"),
                                  "post": op("Auditor: start an export", body=export, ok="202")},
        f"{base}/audit/exports/{{id}}": {"get": op("Auditor: an export job and its progress", [ID_PARAM])},
        f"{base}/audit/exports/{{id}}/bundle": {"get": {**op("Auditor: download a finished bundle", [ID_PARAM]),
                                                        "responses": zip_body}},
        f"{base}/admin/keys": {"get": op("Admin: the lane's API keys (never a key)"),
                               "post": op("Admin: create a key (shown once, in this answer)", body=key, ok="201")},
        f"{base}/admin/keys/{{id}}": {"delete": op("Admin: revoke a key by id or name", [ID_PARAM])},
        f"{base}/admin/reload": {"post": op("Admin: read the configuration again and put this lane's pack in "
                                            "force")},
    }


def build_openapi() -> dict[str, Any]:
    components: dict[str, Any] = {}
    chat = _schema(ChatCompletionRequest, components)
    embeddings = _schema(EmbeddingsRequest, components)
    _schema(ErrorResponse, components)
    export = _schema(ExportRequest, components)
    key = _schema(KeyCreateRequest, components)
    security: list[dict[str, list[str]]] = [{"laneKey": []}]

    def post(summary: str, ref: dict[str, str], stream: bool) -> dict[str, Any]:
        content = {"application/json": {"schema": {"type": "object"}}}
        if stream:
            content["text/event-stream"] = {"schema": {"type": "string"}}
        return {"post": {"summary": summary, "parameters": [LANE_PARAM], "security": security,
                         "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                         "responses": {"200": {"description": "The provider's answer", "content": content}, **ERRORS}}}

    plain = {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Lanegate", "version": __version__,
                 "description": "OpenAI-compatible ingress per jurisdiction lane."},
        "paths": {
            "/lanes/{lane}/v1/chat/completions": post("Chat completion through the lane", chat, True),
            "/lanes/{lane}/v1/embeddings": post("Embeddings through the lane", embeddings, False),
            "/lanes/{lane}/v1/models": {"get": {"summary": "The lane's models", "parameters": [LANE_PARAM],
                                                "security": security, "responses": {**plain, **ERRORS}}},
            "/lanes/{lane}/v1/whoami": {"get": {"summary": "What the gateway resolved for the credential: subject, "
                                                "groups, lanes and roles", "parameters": [LANE_PARAM],
                                                "security": security, "responses": {**plain, **ERRORS}}},
            **_operations(security, plain, export, key),
            "/healthz": {"get": {"summary": "Liveness", "responses": plain}},
            "/readyz": {"get": {"summary": "Readiness: every lane store answers", "responses": {
                **plain, "503": {"description": "A lane store is unavailable"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {
                "description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        },
        "components": {"schemas": components,
                       "securitySchemes": {"laneKey": {"type": "http", "scheme": "bearer"}}},
    }
