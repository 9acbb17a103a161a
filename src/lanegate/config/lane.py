"""The validated, resolved description of one lane, as the runtime consumes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lanegate.config.models import (
    DlpFilterOptions,
    IdentitySpec,
    LaneSpec,
    PackMeta,
    PiiDetectorOptions,
    RoutingPolicyOptions,
    SinkSpec,
    TargetSpec,
)


@dataclass(frozen=True)
class LaneConfig:
    """One lane, built from one policy-pack file.

    ``allowed_regions`` is ``None`` for a pack without a ``lane:`` block: its geography is unchecked.
    ``sha256`` is the digest of the configuration in force: the pack file's (``pack_sha256``), combined with
    the registry entries its targets depend on (``registry_sha256``) when they name any.
    """

    name: str
    jurisdiction: str | None
    allowed_regions: frozenset[str] | None
    store_url: str
    pack: PackMeta
    source: Path
    sha256: str
    targets: tuple[TargetSpec, ...]
    chain: tuple[str, ...]
    routing: RoutingPolicyOptions | None
    raw_text: str = field(repr=False, default="")
    origin: str = ""
    sinks: tuple[SinkSpec, ...] = ()
    identity: IdentitySpec = field(default_factory=IdentitySpec)
    pii: PiiDetectorOptions | None = None
    dlp: DlpFilterOptions | None = None
    pack_sha256: str = ""
    registry_sha256: str = ""
    spec: LaneSpec | None = None  # the lane: block as written (data classes, controller, purposes, transfers)

    def __post_init__(self) -> None:
        if not self.origin:
            object.__setattr__(self, "origin", f"lanegate.local/lanes/{self.name}")

    @property
    def data_classes(self) -> frozenset[str]:
        return frozenset(self.spec.data_classes) if self.spec else frozenset()

    @property
    def registry_models(self) -> tuple[str, ...]:
        """The registry models the lane's targets serve."""
        return tuple(t.registry_model for t in self.targets if t.registry_model)

    @property
    def region_checked(self) -> bool:
        return self.allowed_regions is not None

    def targets_for_model(self, model: str) -> list[TargetSpec]:
        """Targets the caller's model name maps to: by target id, alias, or upstream model name."""
        return [t for t in self.targets if model == t.id or model == t.model or model in t.aliases]

    def public_models(self) -> list[str]:
        """Model names a caller may ask for, in declaration order, without duplicates."""
        names: dict[str, None] = {}
        for target in self.targets:
            names[target.model] = None
            for alias in target.aliases:
                names[alias] = None
        return list(names)
