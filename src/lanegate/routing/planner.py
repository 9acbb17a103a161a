"""Route plans: the compliant targets of a model in priority order, and why every other one was set aside."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lanegate.config.lane import LaneConfig
from lanegate.config.models import TargetSpec
from lanegate.errors import Refusal, unavailable
from lanegate.exchange import Attempt, Exclusion, RoutePlan
from lanegate.policy.compliance import compliance_reasons
from lanegate.routing.breaker import CircuitBreaker


class ComplianceTable:
    """Per-target compliance of one lane, computed once at load (configuration does not change per request)."""

    def __init__(self, lane: LaneConfig) -> None:
        self.reasons: dict[str, tuple[str, ...]] = {
            t.id: tuple(compliance_reasons(t, lane, lane.routing)) for t in lane.targets
        }

    def plan(self, targets: Sequence[TargetSpec], breakers: Mapping[str, CircuitBreaker],
             tokenized: bool = False) -> RoutePlan:
        candidates: list[TargetSpec] = []
        excluded: list[Exclusion] = []
        for target in sorted(targets, key=lambda t: t.priority):
            reasons = self.reasons[target.id]
            if tokenized and target.data_policy.accepts_tokenized_input is not True:
                reasons = (*reasons, "the request holds tokens and data_policy.accepts_tokenized_input is "
                           f"{'undeclared' if target.data_policy.accepts_tokenized_input is None else 'false'}")
            if reasons:
                excluded.append(Exclusion(target.id, target.region, reasons))
                continue
            breaker = breakers[target.id]
            if breaker.state() == "open":
                excluded.append(Exclusion(target.id, target.region, (
                    f"circuit open after {breaker.failures} consecutive failures; retried in "
                    f"{breaker.retry_in():.0f}s",)))
                continue
            candidates.append(target)
        return RoutePlan(candidates, excluded)


def no_compliant_provider(lane: str, model: str, excluded: Sequence[Exclusion], attempts: Sequence[Attempt]) -> Refusal:
    """The 503 refusal that says, per target, why none could serve — never spilling to another lane."""
    parts = [f"{e.target} ({e.region}): {'; '.join(e.reasons)}" for e in excluded]
    parts += [f"{a.target}: {a.outcome.replace('_', ' ')}" + (f" {a.status}" if a.status else "")
              for a in attempts]
    detail = " | ".join(parts) if parts else "the lane has no target for this model"
    return unavailable(
        f"No compliant provider available for model '{model}' in lane '{lane}'; the request was not sent to any "
        f"other lane. {detail}",
        "no_compliant_provider",
    )
