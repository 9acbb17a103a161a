"""Resolving ``secret_key_ref`` to the credential the gateway adds to upstream calls.

Errors name where the secret was expected (an environment variable's name, a file's path), never a value.
"""

from __future__ import annotations

import os
from pathlib import Path

from lanegate.config.errors import Problem
from lanegate.config.lane import LaneConfig
from lanegate.config.models import SecretRef
from lanegate.pii.vault import parse_key


class SecretUnavailable(Exception):
    """A declared secret could not be read."""


def resolve_secret(ref: SecretRef) -> str:
    """Read the secret that ``ref`` points at, stripped of surrounding white space."""
    if ref.env is not None:
        value = os.environ.get(ref.env)
        if not value:
            raise SecretUnavailable(f"environment variable {ref.env} is not set")
        return value.strip()
    assert ref.file is not None
    try:
        value = Path(ref.file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretUnavailable(f"file {ref.file} cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    if not value:
        raise SecretUnavailable(f"file {ref.file} is empty")
    return value


def lane_secret_problems(lane: LaneConfig, severity: str = "error") -> list[Problem]:
    """One problem per target of ``lane`` whose declared secret cannot be read."""
    problems = []
    for index, target in enumerate(lane.targets):
        if target.secret_key_ref is None:
            continue
        try:
            resolve_secret(target.secret_key_ref)
        except SecretUnavailable as exc:
            problems.append(Problem(
                str(lane.source), f"providers.targets[{index}].secret_key_ref",
                f"secret for target '{target.id}' unavailable: {exc}; provide it before serving",
                severity="warning" if severity == "warning" else "error"))
    if lane.pii is not None and lane.pii.vault_key_ref is not None:
        try:
            parse_key(resolve_secret(lane.pii.vault_key_ref))
        except (SecretUnavailable, ValueError) as exc:
            problems.append(Problem(str(lane.source), "policy.pii-detector.vault_key_ref", f"vault key unavailable: "
                                    f"{exc}; provide it before serving",
                                    severity="warning" if severity == "warning" else "error"))
    for index, sink in enumerate(lane.sinks):
        ref = getattr(sink, "secret_key_ref", None)
        if ref is None:
            continue
        try:
            resolve_secret(ref)
        except SecretUnavailable as exc:
            problems.append(Problem(
                str(lane.source), f"sinks[{index}].secret_key_ref", f"secret for sink '{sink.id}' unavailable: "
                f"{exc}; provide it before serving", severity="warning" if severity == "warning" else "error"))
    return problems
