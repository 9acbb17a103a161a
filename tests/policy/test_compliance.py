"""A target complies only when every requirement is met by what it declares; undeclared means unsafe."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from lanegate.config.lane import LaneConfig
from lanegate.config.models import DataPolicy, PackMeta, RoutingPolicyOptions, TargetSpec
from lanegate.policy.compliance import compliance_reasons

flags = st.none() | st.booleans()


def _lane(regions: frozenset[str] | None, routing: RoutingPolicyOptions | None) -> LaneConfig:
    return LaneConfig("eu", "EU", regions, "sqlite:////tmp/x.db", PackMeta(name="p", version="1"), Path("p.yaml"),
                      "0" * 64, (), ("data-routing-policy",), routing)


def _target(policy: DataPolicy, region: str = "r1") -> TargetSpec:
    return TargetSpec(id="t", base_url="http://x/v1", model="m", region=region, data_policy=policy)


def _meets(policy: DataPolicy, req: RoutingPolicyOptions) -> bool:
    return all([
        not req.require_zero_data_retention or policy.zero_data_retention is True,
        not req.require_no_training or policy.training_opt_out is True,
        not req.require_in_memory_only or policy.in_memory_only is True,
        not req.sanitize_before_provider or policy.sanitized is True,
        not req.tokenize_sensitive_fields or policy.accepts_tokenized_input is True,
        not req.local_only_processing or policy.local_only_processing is True,
        req.allow_internet_egress or policy.allow_internet_egress is False,
        req.max_retention_days is None or (policy.retention_days is not None
                                           and policy.retention_days <= req.max_retention_days),
    ])


@given(
    policy=st.builds(DataPolicy, zero_data_retention=flags, training_opt_out=flags,
                     retention_days=st.none() | st.integers(0, 60), in_memory_only=flags, sanitized=flags,
                     accepts_tokenized_input=flags, allow_internet_egress=flags, local_only_processing=flags),
    req=st.builds(RoutingPolicyOptions, require_zero_data_retention=st.booleans(), require_no_training=st.booleans(),
                  max_retention_days=st.none() | st.integers(0, 60), require_in_memory_only=st.booleans(),
                  sanitize_before_provider=st.booleans(), tokenize_sensitive_fields=st.booleans(),
                  allow_internet_egress=st.booleans(), local_only_processing=st.booleans()),
)
def test_a_target_complies_exactly_when_its_declarations_meet_every_requirement(policy, req):
    reasons = compliance_reasons(_target(policy), _lane(frozenset({"r1"}), req), req)
    assert (reasons == []) == _meets(policy, req)


def test_a_target_declaring_nothing_fails_every_active_requirement():
    req = RoutingPolicyOptions(require_in_memory_only=True, allow_internet_egress=False, local_only_processing=True)
    reasons = compliance_reasons(_target(DataPolicy()), _lane(frozenset({"r1"}), req), req)
    assert len(reasons) == 6 and all("undeclared" in r for r in reasons)


def test_region_outside_the_lane_is_never_compliant_even_without_a_routing_stage():
    assert compliance_reasons(_target(DataPolicy(), "us-east-1"), _lane(frozenset({"r1"}), None), None) == [
        "region us-east-1 is not in the lane's allowed_regions"]
    assert compliance_reasons(_target(DataPolicy(), "anywhere"), _lane(None, None), None) == []
