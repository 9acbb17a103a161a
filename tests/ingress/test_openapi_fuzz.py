"""Property-based fuzzing from the gateway's own OpenAPI document (schemathesis): no input yields a 5xx."""

from __future__ import annotations

import copy

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from lanegate.ingress.routes import LANE_ROUTES
from tests.conftest import RunningGateway
from tests.packs import pack, target


@pytest.fixture
def fuzzed(gateway, upstream) -> RunningGateway:
    eu = upstream("eu")
    return gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])},
                   "gateway:\n  rate_limit: {requests_per_second: 10000, burst: 10000}\n")


@pytest.fixture
def api(fuzzed):
    document = copy.deepcopy(httpx.get(f"{fuzzed.url}/openapi.json").json())
    for path in document["paths"].values():  # the served document names no lane; the fuzzer aims at one
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "lane":
                    parameter["schema"] = {"type": "string", "enum": ["eu"]}
    schema = schemathesis.openapi.from_dict(document)
    every_role = fuzzed.add_key("eu", "fuzz-holder-7f3a", ("caller", "auditor", "admin"))
    schema.config.update(base_url=fuzzed.url, headers={"authorization": f"Bearer {every_role}"})
    return schema


def test_no_generated_request_gets_a_server_error(api):
    operations = [result.ok() for result in api.get_all_operations()]
    documented = {(o.method.upper(), o.path) for o in operations}
    assert {(r.method, f"/lanes/{{lane}}/v1/{r.path}") for r in LANE_ROUTES} <= documented  # every lane endpoint
    assert len(operations) == len(LANE_ROUTES) + 3  # and /healthz, /readyz, /metrics
    statuses: set[int] = set()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case):
            response = case.call()
            statuses.add(response.status_code)
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"

        call()
    assert 200 in statuses and 400 in statuses  # the fuzzer reached both served and refused paths
