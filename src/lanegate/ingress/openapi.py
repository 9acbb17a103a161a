"""The OpenAPI document of the gateway's own endpoints, assembled from the request models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from lanegate import __version__
from lanegate.ingress.schemas import ChatCompletionRequest, EmbeddingsRequest, ErrorResponse

LANE_PARAM = {"name": "lane", "in": "path", "required": True,
              "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,62}$"}}
ERRORS = {str(code): {"description": text, "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/ErrorResponse"}}}} for code, text in [
    (400, "Malformed request"), (401, "Missing or invalid API key"), (403, "Refused by policy or key of another lane"),
    (404, "Unknown lane, endpoint or model"), (413, "Body over the configured limit"),
    (503, "No compliant provider, or the decision record could not be written")]}


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_openapi() -> dict[str, Any]:
    components: dict[str, Any] = {}
    chat = _schema(ChatCompletionRequest, components)
    embeddings = _schema(EmbeddingsRequest, components)
    _schema(ErrorResponse, components)
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
            "/healthz": {"get": {"summary": "Liveness", "responses": plain}},
            "/readyz": {"get": {"summary": "Readiness: every lane store answers", "responses": {
                **plain, "503": {"description": "A lane store is unavailable"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {
                "description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        },
        "components": {"schemas": components,
                       "securitySchemes": {"laneKey": {"type": "http", "scheme": "bearer"}}},
    }
