"""``data-routing-policy``: choose the compliant targets for the request before anything leaves the lane."""

from __future__ import annotations

from dataclasses import dataclass

from lanegate.config.models import RoutingPolicyOptions
from lanegate.exchange import Exchange, StageOutcome
from lanegate.routing.planner import no_compliant_provider


@dataclass
class DataRoutingStage:
    """Plans the route from the lane's compliance table and the circuit breakers; refuses when none is left.

    The plan it leaves on the exchange is the only set of targets the router may call.
    """

    options: RoutingPolicyOptions
    name: str = "data-routing-policy"

    async def on_request(self, exchange: Exchange) -> StageOutcome:
        assert exchange.model is not None
        plan = exchange.lane.plan(exchange.model, exchange.tokenized)
        exchange.plan = plan
        detail = {"compliant": [t.id for t in plan.candidates], "excluded": len(plan.excluded)}
        if not plan.candidates:
            raise no_compliant_provider(exchange.lane.name, exchange.model, plan.excluded, [])
        return StageOutcome(self.name, "continue", detail)


@dataclass
class AuditLoggerStage:
    """``audit-logger``: marks the chain's end. The decision record itself is always written by the pipeline;
    a lane cannot turn it off, so this stage only records that the chain completed."""

    name: str = "audit-logger"

    async def on_request(self, exchange: Exchange) -> StageOutcome:
        return StageOutcome(self.name, "continue")
