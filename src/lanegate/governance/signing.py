"""Reading the per-file digests of an OpenSSF model-signing manifest.

Accepted: a Sigstore bundle (``model.sig``) whose DSSE envelope carries an in-toto statement, or that statement
on its own. Per-file SHA-256 digests are read from the statement's ``predicate.resources`` (format v1.0) or
from its ``subject`` entries annotated ``file-sha256`` (format v0.1). The signature itself is not verified
here: verify it in the pipeline that publishes the model (``model_signing verify``); the registry then holds
the digests that were signed, and the gateway checks the files against them.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


class ManifestError(Exception):
    """The manifest cannot be read; the message says why."""


def manifest_digests(path: Path) -> dict[str, str]:
    """File name -> SHA-256 (hex) from the manifest at ``path``."""
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"cannot read the signing manifest {path}: {exc}") from exc
    statement = document
    if isinstance(document, dict) and "dsseEnvelope" in document:
        try:
            statement = json.loads(base64.b64decode(document["dsseEnvelope"]["payload"], validate=True))
        except (KeyError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
            raise ManifestError(f"{path}: the bundle's DSSE payload is not an in-toto statement") from exc
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise ManifestError(f"{path}: not an in-toto statement (expected _type {STATEMENT_TYPE})")
    digests: dict[str, str] = {}
    predicate = statement.get("predicate") or {}
    for resource in predicate.get("resources", []) if isinstance(predicate, dict) else []:
        if isinstance(resource, dict) and resource.get("algorithm") == "sha256":
            digests[str(resource.get("name"))] = str(resource.get("digest"))
    for subject in statement.get("subject", []):
        annotations = subject.get("annotations") or {}
        if annotations.get("actual_hash_algorithm") == "file-sha256" and "sha256" in subject.get("digest", {}):
            digests[str(subject["name"])] = str(subject["digest"]["sha256"])
    if not digests:
        raise ManifestError(f"{path}: the statement lists no per-file SHA-256 digests")
    return digests
