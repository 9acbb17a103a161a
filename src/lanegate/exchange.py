"""The per-request object that every stage of the request path reads and extends.

One :class:`Exchange` is created when a lane request arrives and is finished into exactly one decision
record. Stages receive it typed; nothing on the request path passes loose dicts between stages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lanegate.errors import Refusal
from lanegate.identity.keys import Principal, now_iso

if TYPE_CHECKING:
    from lanegate.config.models import TargetSpec
    from lanegate.ingress.schemas import ChatCompletionRequest, EmbeddingsRequest
    from lanegate.lanes import Lane

Endpoint = Literal["chat.completions", "embeddings", "models", "whoami", "unrouted",
                   "audit.events", "audit.event", "audit.checkpoint", "audit.exports.list", "audit.exports.create",
                   "audit.exports.get", "audit.exports.bundle", "admin.keys.list", "admin.keys.create",
                   "admin.keys.revoke", "admin.reload"]
#: Endpoints whose requests may carry personal data to a provider; the others are answered by the gateway.
PROCESSING: frozenset[str] = frozenset({"chat.completions", "embeddings"})
StageDecision = Literal["continue", "refuse", "error"]


@dataclass(slots=True)
class StageOutcome:
    """What one policy stage decided, as recorded (no payload text, ever)."""

    stage: str
    decision: StageDecision
    detail: dict[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        return {"stage": self.stage, "decision": self.decision, **({"detail": self.detail} if self.detail else {})}


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A target of the requested model that routing set aside, with the reasons (no addresses, no secrets)."""

    target: str
    region: str
    reasons: tuple[str, ...]

    def as_record(self) -> dict[str, Any]:
        return {"target": self.target, "region": self.region, "reasons": list(self.reasons)}


@dataclass(frozen=True, slots=True)
class Attempt:
    """One upstream call: the target and how it ended (``ok``, ``connect_error``, ``timeout``, ``http_5xx``...)."""

    target: str
    outcome: str
    status: int | None = None

    def as_record(self) -> dict[str, Any]:
        return {"target": self.target, "outcome": self.outcome, "status": self.status}


@dataclass(slots=True)
class RoutePlan:
    """The compliant targets to try, in order, and every target set aside with its reasons."""

    candidates: list[TargetSpec]
    excluded: list[Exclusion]


@dataclass(slots=True)
class Exchange:
    """One request through a lane, from arrival to its decision record."""

    request_id: str
    lane: Lane
    endpoint: Endpoint
    authorization: str | None = field(default=None, repr=False)
    purpose: str | None = None
    path_id: str | None = None  # the ``{id}`` of an operation's path
    query: bytes = b""
    operation: dict[str, Any] | None = None  # what an audit or admin operation did, as recorded
    response_headers: list[tuple[bytes, bytes]] = field(default_factory=list)  # added by stages
    conversation: str | None = None  # x-lanegate-conversation: the scope of tokens
    tokens: dict[str, str] = field(default_factory=dict, repr=False)  # token -> value, to restore in the answer
    tokenized: bool = False
    started: float = field(default_factory=time.perf_counter)
    ts: str = field(default_factory=now_iso)
    principal: Principal | None = None
    body: bytes = field(default=b"", repr=False)
    chat: ChatCompletionRequest | None = field(default=None, repr=False)
    embeddings: EmbeddingsRequest | None = field(default=None, repr=False)
    model: str | None = None
    stream: bool = False
    stages: list[StageOutcome] = field(default_factory=list)
    plan: RoutePlan | None = None
    attempts: list[Attempt] = field(default_factory=list)
    selected: TargetSpec | None = None
    upstream_body: bytes = field(default=b"", repr=False)
    upstream_status: int | None = None
    upstream_latency_us: int | None = None
    usage: dict[str, int] | None = None
    stream_outcome: str | None = None
    refusal: Refusal | None = None
    status: int = 200

    def payload(self) -> dict[str, Any]:
        """The request body as it will go upstream (after stages have transformed it)."""
        request = self.chat if self.chat is not None else self.embeddings
        assert request is not None, "payload() before the request was parsed"
        return request.model_dump(exclude_unset=True)

    @property
    def decision(self) -> str:
        return "refused" if self.refusal is not None else "served"
