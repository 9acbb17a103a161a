"""Health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.packs import pack, target

SECRET_PROMPT = "my-very-private-prompt-text"


def test_health_ready_and_openapi(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    assert httpx.get(f"{gw.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{gw.url}/readyz").json() == {"status": "ready", "lanes": {"eu": "ready"}}
    spec = httpx.get(f"{gw.url}/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) >= {"/lanes/{lane}/v1/chat/completions", "/lanes/{lane}/v1/embeddings",
                                  "/lanes/{lane}/v1/models", "/healthz", "/readyz", "/metrics"}
    assert "ChatCompletionRequest" in spec["components"]["schemas"]


def test_metrics_count_by_lane_decision_and_target_without_payload(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    client = gw.client("eu")
    client.chat.completions.create(model="chat", messages=[{"role": "user", "content": SECRET_PROMPT}])
    eu.fake.status = 500
    with pytest.raises(openai.APIStatusError):
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": SECRET_PROMPT}])
    text = httpx.get(f"{gw.url}/metrics").text
    assert 'lanegate_requests_total{decision="served",endpoint="chat.completions",lane="eu",target="eu-a"} 1.0' in text
    assert 'lanegate_requests_total{decision="refused",endpoint="chat.completions",lane="eu",target="none"} 1.0' in text
    assert 'lanegate_upstream_errors_total{kind="http_5xx",lane="eu",target="eu-a"} 1.0' in text
    assert "lanegate_request_duration_seconds_bucket" in text
    assert SECRET_PROMPT not in text
