"""The evidence bundle format: one zip file an auditor can check offline.

=================  =====================================================================================
file               content
=================  =====================================================================================
manifest.json      format and version, lane, origin, window, filter, record range, tree size, pack
                   identity, and the SHA-256 of every other file
manifest.sig       a signed note over the manifest's SHA-256, by the lane's checkpoint key
records.jsonl      the decision records, one canonical JSON object per line, in ledger order
checkpoint.txt     the signed checkpoint (tree size and root) the records are proven against
proof.json         ``{"kind": "range", "hashes": [...]}`` for a contiguous export, or
                   ``{"kind": "inclusion", "proofs": {"SEQ": [...]}}`` for a filtered one (base64 hashes)
consistency.json   ``[{"size", "root", "proof"}]``: consistency proofs from earlier checkpoints to this one
keys.txt           the lane's verifier keys, one per line (``NAME+ID+BASE64``)
pack.yaml          the policy pack in force at export time
=================  =====================================================================================

Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

FORMAT = "lanegate-evidence-bundle"
VERSION = 1
FILES = ("records.jsonl", "checkpoint.txt", "proof.json", "consistency.json", "keys.txt", "pack.yaml")
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"


class BundleError(ValueError):
    """The bundle is unreadable or does not hold what it must."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_note_text(origin: str, manifest: bytes) -> str:
    """The text the lane key signs for a manifest."""
    return f"{FORMAT} manifest\n{origin}\n{sha256(manifest)}\n"


def canonical_line(record: dict[str, Any]) -> str:
    """A record's canonical JSON: sorted keys, no insignificant white space, UTF-8 (RFC 8785 for records)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def write_bundle(path: Path, members: dict[str, bytes]) -> str:
    """Write ``members`` as a zip at ``path``; return the bundle file's SHA-256."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    return sha256(path.read_bytes())


def read_bundle(path: Path) -> dict[str, bytes]:
    """Every member of the bundle at ``path``; :class:`BundleError` if it is not a readable zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if len(names) != len(set(names)):
                raise BundleError("bundle holds a file twice")
            return {name: archive.read(name) for name in names}
    except (OSError, zipfile.BadZipFile) as exc:
        raise BundleError(f"cannot read bundle {path}: {exc}") from None
