"""Matching a lane path to an endpoint: path ids, methods, unknown paths."""

from __future__ import annotations

import pytest

from lanegate.errors import Refusal
from lanegate.ingress.routes import LANE_ROUTES, match


def test_every_route_is_matched_by_its_own_method_and_path():
    for route in LANE_ROUTES:
        found = match(route.path.replace("{id}", "abc_123-x"), route.method)
        assert found is not None and found[0] == route
        assert found[1] == ("abc_123-x" if "{id}" in route.path else None)


def test_a_known_path_with_another_method_names_the_allowed_ones():
    with pytest.raises(Refusal) as caught:
        match("audit/exports", "DELETE")
    assert caught.value.status == 405 and caught.value.headers["allow"] == "GET, POST"


@pytest.mark.parametrize("rest", ["audit", "audit/events/a/b", "audit/events/..", "audit/events/" + "x" * 65,
                                  "admin/keys/a%2Fb", "", "models/"])
def test_paths_outside_the_routes_or_ids_outside_the_pattern_match_nothing(rest):
    assert match(rest, "GET") is None and match(rest, "DELETE") is None
