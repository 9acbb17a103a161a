"""Load policy packs and gateway settings from a file or a directory.

``load_config(path)`` returns a :class:`LoadedConfig` or raises :class:`ConfigError` carrying every
problem found (file, line, key, reason and fix). Warnings — such as a pack whose geography is unchecked —
are returned alongside, for ``lanegate check`` to print.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from lanegate.config.errors import ConfigError, Problem
from lanegate.config.governance import check_targets, configuration_digest, is_registry_document, load_registry
from lanegate.config.lane import LaneConfig
from lanegate.config.models import (
    AuditLoggerOptions,
    DlpFilterOptions,
    GatewayFile,
    GatewaySettings,
    PackFile,
    PiiDetectorOptions,
    RoutingPolicyOptions,
    lane_name_from_pack,
)
from lanegate.config.yamlfile import LineMap, line_for, read_yaml, validation_problems
from lanegate.dlp import PatternError, compile_patterns
from lanegate.governance.policy import Governance
from lanegate.governance.registry import Registry
from lanegate.patterns import widest
from lanegate.pii.entities import ALL_ENTITIES, HEALTHCARE_ENTITIES, MODEL_ENTITIES, PCI_ENTITIES
from lanegate.pii.ner import unavailable_reason
from lanegate.store.factory import store_url_problem

#: Stages this build implements, with the model validating their options.
STAGE_OPTIONS: dict[str, type[BaseModel]] = {
    "data-routing-policy": RoutingPolicyOptions,
    "pii-detector": PiiDetectorOptions,
    "dlp-filter": DlpFilterOptions,
    "audit-logger": AuditLoggerOptions,
}
SANITIZING_STAGES = {"pii-detector"}


@dataclass
class LoadedConfig:
    """Everything a gateway process needs from its configuration."""

    lanes: dict[str, LaneConfig]
    settings: GatewaySettings
    warnings: list[Problem] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)
    path: Path | None = None  # what ``--config`` named, read again on reload
    governance: Governance = field(default_factory=lambda: Governance(Registry()))

    @property
    def registry(self) -> Registry:
        return self.governance.registry


def config_files(path: Path) -> list[Path]:
    """The YAML files named by ``--config``: the file itself, or a directory's ``*.yaml``/``*.yml``, sorted."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
    return [path]


def _default_store(settings: GatewaySettings, base: Path, lane: str) -> str:
    data_dir = Path(settings.data_dir)
    if not data_dir.is_absolute():
        data_dir = (base / data_dir).resolve()
    return f"sqlite:///{data_dir / f'{lane}.db'}"


def _resolve_store(url: str, pack_dir: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix):
        path = Path(url[len(prefix) :])
        if not path.is_absolute():
            path = (pack_dir / path).resolve()
        return f"{prefix}{path}"
    return url


def _check_pii(label: str, lines: LineMap, options: PiiDetectorOptions) -> tuple[list[Problem], PiiDetectorOptions]:
    """Problems of the pii-detector options, and the options with a model directory made absolute (relative to
    the pack)."""
    problems = []
    ner = options.ner
    if ner is not None:
        model = ner.model
        local = Path(label).parent / model
        if not Path(model).is_absolute() and ("/" in model or model.startswith(".")) and local.is_dir():
            model = str(local.resolve())
            options = options.model_copy(update={"ner": ner.model_copy(update={"model": model})})
        reason = unavailable_reason(ner.backend, model)
        if reason is not None:
            key = "policy.pii-detector.ner.model"
            problems.append(Problem(label, key, reason, line_for(lines, key)))
    if options.tokenizes and options.vault_key_ref is None:
        key = "policy.pii-detector.vault_key_ref"
        problems.append(Problem(label, key, "'tokenize' keeps the values in the lane's vault, sealed with this key; "
                                "add vault_key_ref: {env: NAME} (32 random bytes, base64 or hex)",
                                line_for(lines, "policy.pii-detector")))
    for entity in options.entities:
        if entity not in ALL_ENTITIES:
            full = f"policy.pii-detector.entities.{entity}"
            problems.append(Problem(label, full, f"unknown entity type '{entity}'; known types: "
                                    f"{', '.join(sorted(ALL_ENTITIES))}", line_for(lines, full)))
        elif entity in HEALTHCARE_ENTITIES and not options.healthcare_mode:
            full = f"policy.pii-detector.entities.{entity}"
            problems.append(Problem(label, full, f"'{entity}' is detected only with healthcare_mode: true; turn it "
                                    "on or remove the entry", line_for(lines, full)))
        elif entity in PCI_ENTITIES and not options.pci_mode:
            full = f"policy.pii-detector.entities.{entity}"
            problems.append(Problem(label, full, f"'{entity}' is detected only with pci_mode: true; turn it on or "
                                    "remove the entry", line_for(lines, full)))
        elif entity in MODEL_ENTITIES and (options.ner is None or entity not in options.ner.entities):
            full = f"policy.pii-detector.entities.{entity}"
            problems.append(Problem(label, full, f"'{entity}' is found only by a named-entity model; add it to "
                                    "ner.entities (with ner.model) or remove the entry", line_for(lines, full)))
    return problems, options


ChainOptions = tuple[list[Problem], RoutingPolicyOptions | None, PiiDetectorOptions | None,
                     DlpFilterOptions | None]


def _check_dlp(label: str, lines: LineMap, options: DlpFilterOptions) -> list[Problem]:
    try:
        compile_patterns(options.detect_patterns)
    except PatternError as exc:
        key = f"policy.dlp-filter.detect_patterns[{exc.index}]"
        return [Problem(label, key, f"not a valid pattern ({exc}); patterns use RE2 syntax, which has no "
                        "backreferences or lookaround and always matches in linear time", line_for(lines, key))]
    if not options.scan_responses:
        return []
    unbounded = [i for i, pattern in enumerate(options.detect_patterns) if widest(pattern) is None]
    return [Problem(label, key, "no bound on how long a match can be (*, +, {n,}, or syntax whose bound is not "
                    "known): a streamed answer is held back as long as the widest bounded pattern's match (at "
                    "least 256 characters), and a longer match of this one can be sent in part before it is "
                    "recognised; bound its repeats ({1,500}) to have every match held whole", line_for(lines, key),
                    "warning")
            for key in (f"policy.dlp-filter.detect_patterns[{i}]" for i in unbounded)]


def _check_chain(label: str, lines: LineMap, pack: PackFile) -> ChainOptions:
    problems: list[Problem] = []
    chain = pack.policies.chain
    known = set(STAGE_OPTIONS)
    for index, stage in enumerate(chain):
        key = f"policies.chain[{index}]"
        line = line_for(lines, key)
        if stage not in known:
            known_list = ", ".join(sorted(known))
            problems.append(Problem(label, key, f"unknown stage '{stage}'; known stages: {known_list}", line))
        if chain.count(stage) > 1 and chain.index(stage) == index:
            problems.append(Problem(label, key, f"stage '{stage}' appears more than once; keep one", line))
    if "audit-logger" in chain and chain[-1] != "audit-logger":
        key = f"policies.chain[{chain.index('audit-logger')}]"
        problems.append(Problem(label, key, "audit-logger must be the last stage of the chain", line_for(lines, key)))

    routing: RoutingPolicyOptions | None = None
    pii: PiiDetectorOptions | None = None
    dlp: DlpFilterOptions | None = None
    for name, options in pack.policy.items():
        key = f"policy.{name}"
        if name not in known:
            problems.append(Problem(label, key, f"options for unknown stage '{name}'", line_for(lines, key)))
            continue
        if name not in chain:
            problems.append(Problem(
                label, key, f"options for '{name}', which is not in policies.chain; add it to the chain or "
                "remove these options (they would be ignored)", line_for(lines, key)))
            continue
        try:
            parsed = STAGE_OPTIONS[name].model_validate(options or {})
        except ValidationError as exc:
            problems.extend(validation_problems(label, lines, exc, key))
            continue
        if isinstance(parsed, RoutingPolicyOptions):
            routing = parsed
        if isinstance(parsed, DlpFilterOptions):
            dlp = parsed
            problems.extend(_check_dlp(label, lines, parsed))
        if isinstance(parsed, PiiDetectorOptions):
            found, pii = _check_pii(label, lines, parsed)
            problems.extend(found)
    if "data-routing-policy" in chain and routing is None:
        routing = RoutingPolicyOptions()
    if "pii-detector" in chain and pii is None:
        pii = PiiDetectorOptions()
    if "dlp-filter" in chain and dlp is None:
        dlp = DlpFilterOptions()
    sanitized_first = "data-routing-policy" in chain and any(
        s in chain[: chain.index("data-routing-policy")] for s in SANITIZING_STAGES)
    if routing is not None and not sanitized_first:
        for flag in ("sanitize_before_provider", "tokenize_sensitive_fields"):
            if getattr(routing, flag):
                key = f"policy.data-routing-policy.{flag}"
                problems.append(Problem(
                    label, key, "requires a sanitizing stage (pii-detector) earlier in policies.chain; "
                    "set it to false or add the stage", line_for(lines, key)))
    return problems, routing, pii, dlp


def _load_pack(
    path: Path, text: str, data: dict[str, Any], lines: LineMap, settings: GatewaySettings, base: Path,
    governance: Governance,
) -> tuple[LaneConfig | None, list[Problem]]:
    label = str(path)
    try:
        pack = PackFile.model_validate(data)
    except ValidationError as exc:
        return None, validation_problems(label, lines, exc)
    problems, routing, pii, dlp = _check_chain(label, lines, pack)
    identity = pack.identity
    if identity.oidc is None and identity.roles and settings.identity.oidc is not None:
        identity = identity.model_copy(update={"oidc": settings.identity.oidc})
    if pack.lane is None:
        name = lane_name_from_pack(pack.pack.name)
        problems.append(Problem(
            label, "lane", f"no lane block: serving as lane '{name}' with geography unchecked; add lane.name, "
            "lane.jurisdiction and lane.allowed_regions to enforce residency", line_for(lines, "pack"), "warning"))
        allowed = None
        store = _default_store(settings, base, name)
        if pack.sinks:
            problems.append(Problem(
                label, "sinks", "no lane block: the sinks' regions are not checked against any jurisdiction",
                line_for(lines, "sinks"), "warning"))
    else:
        name = pack.lane.name
        allowed = frozenset(pack.lane.allowed_regions)
        store = (_resolve_store(pack.lane.store, path.parent) if pack.lane.store
                 else _default_store(settings, base, name))
        oidc = identity.oidc
        if oidc is not None and oidc.region not in allowed:
            key = "identity.oidc.region" if pack.identity.oidc else "identity.roles"
            where = "" if pack.identity.oidc else " (gateway.identity.oidc, used because identity.roles is set)"
            problems.append(Problem(
                label, key, f"the identity provider{where} is in region '{oidc.region}', outside "
                f"lane.allowed_regions {sorted(allowed)}; use an identity provider in an allowed region",
                line_for(lines, key)))
        for index, sink in enumerate(pack.sinks):
            if sink.region not in allowed:
                key = f"sinks[{index}].region"
                problems.append(Problem(
                    label, key, f"sink '{sink.id}' is in region '{sink.region}', outside lane.allowed_regions "
                    f"{sorted(allowed)}: the gateway must not create a data flow the lane forbids; remove the sink "
                    "or use one in an allowed region", line_for(lines, key)))
        for index, target in enumerate(pack.providers.targets):
            if target.region not in allowed:
                key = f"providers.targets[{index}].region"
                problems.append(Problem(
                    label, key, f"target '{target.id}' is in region '{target.region}', outside lane.allowed_regions "
                    f"{sorted(allowed)}; remove the target or move it to another lane", line_for(lines, key)))
    store_problem = store_url_problem(store)
    if store_problem is not None:
        problems.append(Problem(label, "lane.store", store_problem, line_for(lines, "lane.store")))
    if "data-routing-policy" not in pack.policies.chain:
        problems.append(Problem(
            label, "policies.chain", "no data-routing-policy stage: targets are filtered by region only, not by "
            "their data_policy", line_for(lines, "policies.chain"), "warning"))
    governed, registry_sha256 = check_targets(label, lines, name, pack, governance)
    problems.extend(governed)
    if any(p.severity == "error" for p in problems):
        return None, problems
    pack_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    lane = LaneConfig(
        name=name,
        jurisdiction=pack.lane.jurisdiction if pack.lane else None,
        allowed_regions=allowed,
        store_url=store,
        pack=pack.pack,
        source=path,
        sha256=configuration_digest(pack_sha256, registry_sha256),
        pack_sha256=pack_sha256,
        registry_sha256=registry_sha256,
        spec=pack.lane,
        targets=tuple(pack.providers.targets),
        chain=tuple(pack.policies.chain),
        routing=routing,
        raw_text=text,
        origin=(pack.lane.origin if pack.lane else None) or "",
        sinks=tuple(pack.sinks),
        identity=identity,
        pii=pii,
        dlp=dlp,
    )
    return lane, problems


def load_sources(sources: list[tuple[Path, str]], base: Path | None = None) -> LoadedConfig:
    """Load packs and settings from ``(label path, text)`` pairs; the core of :func:`load_config`."""
    problems: list[Problem] = []
    parsed: list[tuple[Path, str, dict[str, Any], LineMap]] = []
    registry_docs: list[tuple[Path, dict[str, Any], LineMap]] = []
    settings = GatewaySettings()
    settings_file: Path | None = None
    base = base or Path.cwd()
    for path, text in sources:
        data, lines, errs = read_yaml(path, text)
        problems.extend(errs)
        if errs:
            continue
        if not isinstance(data, dict):
            problems.append(Problem(str(path), "<root>", "expected a mapping with pack:, providers: ... or gateway:"))
            continue
        if "gateway" in data:
            if settings_file is not None:
                problems.append(Problem(str(path), "gateway",
                                        f"a second gateway settings file (first: {settings_file}); keep one"))
                continue
            try:
                settings = GatewayFile.model_validate(data).gateway
                settings_file = path
            except ValidationError as exc:
                problems.extend(validation_problems(str(path), lines, exc))
            continue
        if is_registry_document(data):
            registry_docs.append((path, data, lines))
            continue
        parsed.append((path, text, data, lines))

    lanes: dict[str, LaneConfig] = {}
    settings_base = settings_file.parent if settings_file else base
    registry_dir = settings_base / settings.registry_dir if settings.registry_dir else None
    registry, found_in_registry = load_registry(registry_docs, registry_dir)
    problems.extend(found_in_registry)
    governance = Governance(registry)
    for path, text, data, lines in parsed:
        lane, found = _load_pack(path, text, data, lines, settings, settings_base, governance)
        problems.extend(found)
        if lane is None:
            continue
        if not lane.pack.enabled:
            problems.append(Problem(str(path), "pack.enabled", "pack is disabled; its lane is not served",
                                    line_for(lines, "pack.enabled"), "warning"))
            continue
        if lane.name in lanes:
            first = lanes[lane.name].source
            problems.append(Problem(str(path), "lane.name", f"lane '{lane.name}' is already declared by {first}; "
                                    "give each lane one pack", line_for(lines, "lane.name")))
            continue
        lanes[lane.name] = lane
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(problems)
    if not lanes:
        raise ConfigError([Problem(str(base), "<config>", "no enabled policy pack found; give a pack file or a "
                                   "directory holding *.yaml packs")])
    return LoadedConfig(lanes=lanes, settings=settings, warnings=problems, sources=[p for p, _ in sources],
                        governance=governance)


def load_config(path: Path) -> LoadedConfig:
    """Load every pack and the optional settings file named by ``--config PATH`` (a file or a directory)."""
    if not path.exists():
        raise ConfigError([Problem(str(path), "<config>", "no such file or directory; pass --config FILE|DIR")])
    sources: list[tuple[Path, str]] = []
    problems: list[Problem] = []
    for file in config_files(path):
        try:
            sources.append((file, file.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(file), "<file>", f"cannot read the file: {exc}"))
    if problems:
        raise ConfigError(problems)
    loaded = load_sources(sources, base=path if path.is_dir() else path.parent)
    loaded.path = path
    return loaded
