"""Building a lane's stages from its pack, and running the request chain (fail closed)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from lanegate.config.lane import LaneConfig
from lanegate.errors import Refusal, server_error
from lanegate.exchange import Exchange, StageOutcome
from lanegate.pii.vault import TokenVault
from lanegate.policy.dlp_stage import DlpFilterStage
from lanegate.policy.memo import SIZE
from lanegate.policy.output_stage import DlpScanner, OutputScanStage, PiiScanner
from lanegate.policy.pii_stage import PiiDetectorStage
from lanegate.policy.restore_stage import TokenRestoreStage
from lanegate.policy.routing_stage import AuditLoggerStage, DataRoutingStage
from lanegate.policy.stage import RequestStage, ResponseStage

log = logging.getLogger("lanegate.policy")


def build_request_stages(lane: LaneConfig, hash_key: Callable[[], bytes],
                         vault: Callable[[], TokenVault | None], memo_entries: int = SIZE) -> list[RequestStage]:
    """The request stages of ``lane`` in chain order. The loader has already refused unknown stages.
    ``hash_key`` gives the lane secret the ``hash`` operator uses (read when the lane's store is open) and
    ``vault`` the lane's token vault (built when its key is read); ``memo_entries`` is the size of each content
    stage's memo of what callers sent (:mod:`~lanegate.policy.memo`; 0: none)."""
    stages: list[RequestStage] = []
    for name in lane.chain:
        if name == "data-routing-policy":
            assert lane.routing is not None
            stages.append(DataRoutingStage(lane.routing))
        elif name == "pii-detector":
            assert lane.pii is not None
            stages.append(PiiDetectorStage(lane.pii, hash_key, vault, memo_entries))
        elif name == "dlp-filter":
            assert lane.dlp is not None
            stages.append(DlpFilterStage(lane.dlp, memo_entries))
        elif name == "audit-logger":
            stages.append(AuditLoggerStage())
        else:  # pragma: no cover - the loader refuses these; refuse again rather than skip
            raise ValueError(f"stage {name!r} is not available")
    return stages


def build_response_stages(lane: LaneConfig, request_stages: list[RequestStage]) -> list[ResponseStage]:
    """Response stages the pack implies, in list order (they run last to first on an answer): restoring tokens
    when the lane tokenizes, after scanning the answer when ``scan_responses`` is on."""
    stages: list[ResponseStage] = []
    if lane.pii is not None and lane.pii.tokenizes:
        stages.append(TokenRestoreStage())
    pii = next((s for s in request_stages if isinstance(s, PiiDetectorStage)), None)
    if pii is not None and lane.pii is not None and lane.pii.scan_responses:
        stages.append(OutputScanStage(PiiScanner(pii.detector, pii.settings)))
    dlp = next((s for s in request_stages if isinstance(s, DlpFilterStage)), None)
    if dlp is not None and lane.dlp is not None and lane.dlp.scan_responses:
        stages.append(OutputScanStage(DlpScanner(dlp.rules)))
    return stages


async def run_request_chain(stages: list[RequestStage], exchange: Exchange) -> None:
    """Run ``stages`` in order. A refusal is recorded and re-raised; any other error refuses the request."""
    for stage in stages:
        try:
            outcome = await stage.on_request(exchange)
        except Refusal as refusal:
            exchange.stages.append(StageOutcome(stage.name, "refuse", refusal.record))
            raise
        except Exception as exc:
            log.exception("policy stage failed", extra={"stage": stage.name, "request_id": exchange.request_id})
            exchange.stages.append(StageOutcome(stage.name, "error", {"error": exc.__class__.__name__}))
            raise server_error(f"Policy stage '{stage.name}' failed; the request was not sent anywhere.",
                               "policy_stage_failed") from exc
        exchange.stages.append(outcome)
