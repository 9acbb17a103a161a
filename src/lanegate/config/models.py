"""Pydantic models of the YAML files Lanegate reads.

Two kinds of file exist:

* a **policy pack** declares one lane: its jurisdiction and allowed regions, its provider targets, and its
  policy chain (``lane:``, ``pack:``, ``providers:``, ``policies:``, ``policy:``);
* an optional **gateway settings** file has a single top-level ``gateway:`` key (data directory, limits,
  upstream timeouts, circuit breaker).

Every model forbids unknown keys: a misspelt key is an error, never a silently ignored setting. The field
names are part of the product; ``docs/policy-packs.md`` documents each one.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
    model_validator,
)

LANE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
LaneName = Annotated[str, StringConstraints(pattern=LANE_NAME_PATTERN)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TransferSpec(_Strict):
    """``lane.transfers[]`` — an allowed region outside the lane's jurisdiction, and the legal basis for it."""

    region: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)


class LaneSpec(_Strict):
    """``lane:`` — the jurisdiction partition this pack serves."""

    name: LaneName
    jurisdiction: str = Field(min_length=1)
    allowed_regions: list[str] = Field(min_length=1)
    store: str | None = None
    origin: str | None = Field(default=None, pattern=r"^[^\s+]+$")
    data_classes: list[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,40}$")]] = Field(
        default_factory=lambda: ["personal"])
    licence_policies: list[str] = Field(default_factory=list)
    controller: str | None = None
    purposes: list[str] = Field(default_factory=list)
    transfers: list[TransferSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _transfers_are_allowed_regions(self) -> LaneSpec:
        for transfer in self.transfers:
            if transfer.region not in self.allowed_regions:
                raise ValueError(f"transfers: region '{transfer.region}' is not in allowed_regions; a transfer "
                                 "names an allowed region outside the jurisdiction")
        return self


class PackMeta(_Strict):
    """``pack:`` — the pack's identity, recorded in every decision record."""

    name: Identifier
    version: str = Field(min_length=1)
    enabled: bool = True


class SecretRef(_Strict):
    """``secret_key_ref:`` — where the gateway reads a target's credential. Exactly one of ``env`` or ``file``."""

    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    file: str | None = None

    def model_post_init(self, context: Any, /) -> None:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' or 'file'")

    def describe(self) -> str:
        """A human description that names where the secret lives, never its value."""
        return f"environment variable {self.env}" if self.env else f"file {self.file}"


class DataPolicy(_Strict):
    """``data_policy:`` — what a target declares about how it handles data.

    A key left out is *undeclared* (``None``) and counts as the unsafe value when a lane requires it.
    """

    zero_data_retention: bool | None = None
    training_opt_out: bool | None = None
    retention_days: int | None = Field(default=None, ge=0)
    in_memory_only: bool | None = None
    sanitized: bool | None = None
    accepts_tokenized_input: bool | None = None
    allow_internet_egress: bool | None = None
    local_only_processing: bool | None = None


ProviderKind = Literal["openai", "vllm", "ollama", "llamacpp", "tgi"]


class TargetSpec(_Strict):
    """One entry of ``providers.targets``: an upstream model endpoint in a declared region."""

    id: Identifier
    provider: ProviderKind = "openai"
    base_url: AnyHttpUrl
    model: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    region: str = Field(min_length=1)
    priority: int = 100
    secret_key_ref: SecretRef | None = None
    data_policy: DataPolicy = Field(default_factory=DataPolicy)
    timeout_seconds: float | None = Field(default=None, gt=0)
    connect_timeout_seconds: float | None = Field(default=None, gt=0)
    registry_model: str | None = Field(default=None, min_length=1, max_length=200)


class ProvidersSpec(_Strict):
    """``providers:`` — the lane's approved provider inventory."""

    targets: list[TargetSpec] = Field(min_length=1)


StageName = Literal["pii-detector", "dlp-filter", "data-routing-policy", "audit-logger"]
DEFAULT_CHAIN: tuple[StageName, ...] = ("data-routing-policy", "audit-logger")


class PoliciesSpec(_Strict):
    """``policies:`` — the ordered request policy chain."""

    chain: list[str] = Field(default_factory=lambda: [str(stage) for stage in DEFAULT_CHAIN])


class RoutingPolicyOptions(_Strict):
    """``policy.data-routing-policy`` — what a target must declare to receive this lane's traffic.

    Defaults are the safe values for retention and training; the egress and locality checks are off unless
    a pack asks for them.
    """

    require_zero_data_retention: bool = True
    require_no_training: bool = True
    max_retention_days: int | None = Field(default=0, ge=0)
    require_in_memory_only: bool = False
    sanitize_before_provider: bool = False
    tokenize_sensitive_fields: bool = False
    allow_internet_egress: bool = True
    local_only_processing: bool = False
    on_no_compliant_provider: Literal["block"] = "block"
    log_provider_selection: bool = True


PiiAction = Literal["redact", "mask", "hash", "tokenize", "block"]
ENTITY_NAME = r"^[A-Z][A-Z0-9_]{1,40}$"


Language = Literal["en", "de", "fr", "es", "it", "nl"]


def _languages() -> list[Language]:
    return ["en", "de", "fr", "es", "it"]


class RedactionOptions(_Strict):
    """``policy.pii-detector.redaction`` — how a redacted value is written."""

    marker_format: Literal["label", "fixed"] = "label"
    include_metadata: bool = True


NerEntity = Literal["PERSON", "LOCATION"]


class NerOptions(_Strict):
    """``policy.pii-detector.ner`` — a named-entity model for persons and places (the ``ner`` extra)."""

    backend: Literal["spacy"] = "spacy"
    model: str = Field(min_length=1)
    entities: list[NerEntity] = Field(default_factory=lambda: list[NerEntity](["PERSON", "LOCATION"]),
                                      min_length=1)


class PiiDetectorOptions(_Strict):
    """``policy.pii-detector`` — what personal data to find in requests and what to do with it."""

    action: PiiAction = "redact"
    entities: dict[Annotated[str, StringConstraints(pattern=ENTITY_NAME)], PiiAction] = Field(default_factory=dict)
    healthcare_mode: bool = False
    pci_mode: bool = False
    redaction: RedactionOptions = Field(default_factory=RedactionOptions)
    languages: list[Language] = Field(default_factory=lambda: _languages(), min_length=1)
    allow_list: list[str] = Field(default_factory=list)
    mask_keep: int = Field(default=4, ge=0, le=8)
    scan_responses: bool = False
    vault_key_ref: SecretRef | None = None
    vault_ttl_seconds: float = Field(default=3600.0, gt=0)
    ner: NerOptions | None = None

    @property
    def tokenizes(self) -> bool:
        return self.action == "tokenize" or "tokenize" in self.entities.values()


class DlpFilterOptions(_Strict):
    """``policy.dlp-filter`` — organisation-specific patterns and terms that must not leave the lane."""

    detect_patterns: list[str] = Field(default_factory=list)
    blocked_terms: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(default_factory=list)
    action: Literal["block", "redact"] = "block"
    fuzzy_matching: bool = False
    max_distance: int = Field(default=1, ge=0, le=3)
    sensitivity_level: Literal["public", "internal", "confidential", "restricted"] = "confidential"
    scan_responses: bool = False


class AuditLoggerOptions(_Strict):
    """``policy.audit-logger`` — accepted for compatibility; the decision record is always written."""


class _SinkBase(_Strict):
    id: Identifier
    region: str = Field(min_length=1)


class SyslogSink(_SinkBase):
    """``sinks[]`` with ``type: syslog`` — RFC 5424 messages over TCP (octet-counted) or UDP."""

    type: Literal["syslog"]
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    transport: Literal["tcp", "udp"] = "tcp"


class WebhookSink(_SinkBase):
    """``sinks[]`` with ``type: webhook`` — HTTPS POST of JSON batches, signed with HMAC-SHA256."""

    type: Literal["webhook"]
    url: AnyHttpUrl
    secret_key_ref: SecretRef
    ca_file: str | None = None

    @field_validator("url")
    @classmethod
    def _https(cls, value: AnyHttpUrl) -> AnyHttpUrl:
        if value.scheme != "https":
            raise ValueError("a webhook sink must use https://")
        return value


class JsonlSink(_SinkBase):
    """``sinks[]`` with ``type: jsonl`` — one JSON event per line, appended to a file."""

    type: Literal["jsonl"]
    path: str = Field(min_length=1)


SinkSpec = Annotated[SyslogSink | WebhookSink | JsonlSink, Field(discriminator="type")]


AsymmetricAlgorithm = Literal["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                             "EdDSA"]
DEFAULT_ALGORITHMS: tuple[AsymmetricAlgorithm, ...] = ("RS256", "ES256")
Role = Literal["caller", "auditor", "admin"]
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
_HTTP_URL: TypeAdapter[AnyHttpUrl] = TypeAdapter(AnyHttpUrl)


class OidcSpec(_Strict):
    """``identity.oidc`` — accept OIDC access tokens (JWT) from one issuer.

    Only asymmetric algorithms can be listed (``none`` and HS* cannot), so a token can never be checked
    with a public key used as an HMAC secret.
    """

    issuer: str = Field(min_length=1)  # compared with the token's ``iss`` exactly as written here
    audience: str = Field(min_length=1)
    region: str = Field(min_length=1)
    jwks_uri: AnyHttpUrl | None = None
    algorithms: list[AsymmetricAlgorithm] = Field(default_factory=lambda: list(DEFAULT_ALGORITHMS), min_length=1)
    clock_skew_seconds: int = Field(default=60, ge=0, le=300)
    groups_claim: str = Field(default="groups", min_length=1)
    jwks_cache_seconds: float = Field(default=600.0, gt=0)
    jwks_min_refresh_seconds: float = Field(default=30.0, ge=0)
    ca_file: str | None = None

    @field_validator("issuer", "jwks_uri")
    @classmethod
    def _https_unless_loopback(cls, value: str | AnyHttpUrl | None) -> str | AnyHttpUrl | None:
        if value is None:
            return None
        url = value if isinstance(value, AnyHttpUrl) else _HTTP_URL.validate_python(value)
        if url.scheme != "https" and url.host not in LOOPBACK_HOSTS:
            raise ValueError("an identity provider must be reached over https:// (http only on loopback)")
        return value


class IdentitySpec(_Strict):
    """``identity:`` — who may use the lane besides holders of its API keys, and with which roles."""

    oidc: OidcSpec | None = None
    roles: dict[str, list[Role]] = Field(default_factory=dict)
    require_purpose: bool = False


class PackFile(_Strict):
    """A whole policy-pack file."""

    lane: LaneSpec | None = None
    pack: PackMeta
    providers: ProvidersSpec
    sinks: list[SinkSpec] = Field(default_factory=list)
    identity: IdentitySpec = Field(default_factory=IdentitySpec)
    policies: PoliciesSpec = Field(default_factory=PoliciesSpec)
    policy: dict[str, dict[str, Any] | None] = Field(default_factory=dict)

    @field_validator("providers")
    @classmethod
    def _unique_target_ids(cls, value: ProvidersSpec) -> ProvidersSpec:
        _unique([t.id for t in value.targets], "target")
        return value

    @field_validator("sinks")
    @classmethod
    def _unique_sink_ids(cls, value: list[SinkSpec]) -> list[SinkSpec]:
        _unique([s.id for s in value], "sink")
        return value


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{what} id '{item}' is declared twice")
        seen.add(item)


class UpstreamSettings(_Strict):
    """``gateway.upstream`` — defaults for every target's HTTP calls."""

    connect_timeout_seconds: float = Field(default=3.0, gt=0)
    timeout_seconds: float = Field(default=120.0, gt=0)
    max_connections: int = Field(default=256, ge=1)


class BreakerSettings(_Strict):
    """``gateway.circuit_breaker`` — how a failing target is taken out of rotation."""

    failure_threshold: int = Field(default=3, ge=1)
    reset_seconds: float = Field(default=10.0, gt=0)


class RateLimitSettings(_Strict):
    """``gateway.rate_limit`` — per principal and lane, in each worker process."""

    requests_per_second: float = Field(default=20.0, gt=0)
    burst: int = Field(default=40, ge=1)


class GatewayIdentity(_Strict):
    """``gateway.identity`` — an identity provider declared once for every lane.

    A lane uses it when the lane maps groups to roles (``identity.roles``) and declares no ``identity.oidc``
    of its own; its region must then be one of that lane's ``allowed_regions``.
    """

    oidc: OidcSpec | None = None


class GatewaySettings(_Strict):
    """``gateway:`` — process-wide settings."""

    data_dir: str = "./data"
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    upstream: UpstreamSettings = Field(default_factory=UpstreamSettings)
    circuit_breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    key_cache_seconds: float = Field(default=2.0, ge=0)
    content_memo_entries: int = Field(default=4096, ge=0)
    checkpoint_seconds: float = Field(default=60.0, gt=0)
    sink_poll_seconds: float = Field(default=1.0, gt=0)
    config_poll_seconds: float = Field(default=2.0, gt=0)
    identity: GatewayIdentity = Field(default_factory=GatewayIdentity)
    registry_dir: str | None = None


class GatewayFile(_Strict):
    """A gateway settings file."""

    gateway: GatewaySettings


def lane_name_from_pack(pack_name: str) -> str:
    """The lane name used for a pack that has no ``lane:`` block."""
    name = re.sub(r"[^a-z0-9-]+", "-", pack_name.lower()).strip("-")[:63]
    return name or "default"
