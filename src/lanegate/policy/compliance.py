"""Whether a target may receive a lane's traffic: its region and its declared ``data_policy``.

A ``data_policy`` key a target does not declare counts as the unsafe value. Reasons are written for the
people reading a refusal or a record: they name the key and the requirement, never an address or secret.
"""

from __future__ import annotations

from lanegate.config.lane import LaneConfig
from lanegate.config.models import RoutingPolicyOptions, TargetSpec


def _state(value: object) -> str:
    return "undeclared" if value is None else str(value).lower()


def compliance_reasons(target: TargetSpec, lane: LaneConfig, options: RoutingPolicyOptions | None) -> list[str]:
    """Every reason ``target`` may not serve ``lane``; empty when it complies."""
    reasons: list[str] = []
    if lane.allowed_regions is not None and target.region not in lane.allowed_regions:
        reasons.append(f"region {target.region} is not in the lane's allowed_regions")
    if options is None:
        return reasons
    policy = target.data_policy
    required_true = (
        (options.require_zero_data_retention, "zero_data_retention", policy.zero_data_retention, "zero data retention"),
        (options.require_no_training, "training_opt_out", policy.training_opt_out, "a training opt-out"),
        (options.require_in_memory_only, "in_memory_only", policy.in_memory_only, "in-memory-only processing"),
        (options.sanitize_before_provider, "sanitized", policy.sanitized, "a target approved for sanitized input"),
        (options.tokenize_sensitive_fields, "accepts_tokenized_input", policy.accepts_tokenized_input,
         "a target that accepts tokenized input"),
        (options.local_only_processing, "local_only_processing", policy.local_only_processing,
         "local-only processing"),
    )
    for required, key, value, wording in required_true:
        if required and value is not True:
            reasons.append(f"data_policy.{key} is {_state(value)}; the lane requires {wording}")
    if options.max_retention_days is not None and (
        policy.retention_days is None or policy.retention_days > options.max_retention_days
    ):
        reasons.append(f"data_policy.retention_days is {_state(policy.retention_days)}; the lane allows at most "
                       f"{options.max_retention_days}")
    if not options.allow_internet_egress and policy.allow_internet_egress is not False:
        reasons.append(f"data_policy.allow_internet_egress is {_state(policy.allow_internet_egress)}; the lane "
                       "forbids internet egress")
    return reasons
