"""Offline verification of an evidence bundle — standalone: standard library and ``cryptography`` only.

    python -m lanegate.evidence.verify BUNDLE [--key VERIFIER_KEY ...] [--previous CHECKPOINT_OR_BUNDLE]

Checks, reporting every failure with its reason: the manifest's signature and every file's SHA-256; the
checkpoint's signature (by a pinned key, or — with a warning — by a key shipped in the bundle); that each
record is canonical, of this lane, in order with no gap, and linked to the one before; that the records
rebuild the signed root (range proof) or each has a valid inclusion proof (filtered export); that the pack is
the one the records name; and, with ``--previous``, that the log only grew since that checkpoint. Exit 0 only
when everything holds.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lanegate.evidence import bundle, merkle
from lanegate.evidence.note import Checkpoint, NoteError, VerifierKey, open_note


@dataclass
class Report:
    """Everything the verifier found."""

    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def _b64list(values: Any, what: str) -> list[bytes]:
    if not isinstance(values, list):
        raise bundle.BundleError(f"{what} is not a list")
    try:
        return [base64.b64decode(v, validate=True) for v in values]
    except (binascii.Error, TypeError):
        raise bundle.BundleError(f"{what} holds something that is not base64") from None


def _keys(text: str, report: Report) -> list[VerifierKey]:
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                keys.append(VerifierKey.parse(line))
            except NoteError as exc:
                report.failures.append(f"keys.txt line {number}: {exc}")
    return keys


def _previous_checkpoint(path: Path, keys: list[VerifierKey], pinned: bool) -> Checkpoint:
    """The checkpoint of an earlier checkpoint file or bundle. A bundle's own keys are trusted only when no key
    was pinned: pinning must hold for the previous checkpoint as much as for this one."""
    if path.suffix == ".zip":
        members = bundle.read_bundle(path)
        note = members.get("checkpoint.txt", b"").decode("utf-8", "replace")
        if not pinned:
            keys = keys + [VerifierKey.parse(k) for k in members.get("keys.txt", b"").decode().splitlines() if k]
    else:
        note = path.read_text(encoding="utf-8")
    return Checkpoint.open(note, keys)[0]


def _check_records(lines: list[str], manifest: dict[str, Any], report: Report) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            report.failures.append(f"records.jsonl line {number} is not JSON")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("seq"), int):
            report.failures.append(f"records.jsonl line {number} is not a decision record")
            continue
        if bundle.canonical_line(record) != line:
            report.failures.append(f"record seq {record['seq']} is not in canonical form (edited)")
        if record.get("lane") != manifest.get("lane"):
            report.failures.append(f"record seq {record['seq']} belongs to lane {record.get('lane')!r}")
        records.append(record)
    declared = manifest.get("records", {})
    if len(lines) != declared.get("count"):
        report.failures.append(f"the bundle holds {len(lines)} records but the manifest declares "
                               f"{declared.get('count')} (truncated or padded)")
    if records and records[-1]["seq"] != declared.get("last_seq"):
        report.failures.append(f"the records end at seq {records[-1]['seq']} but the manifest covers up to seq "
                               f"{declared.get('last_seq')} (truncated log)")
    if records and records[0]["seq"] != declared.get("first_seq"):
        report.failures.append(f"the records start at seq {records[0]['seq']}, not at the manifest's "
                               f"{declared.get('first_seq')}")
    return records


def _check_order(records: list[dict[str, Any]], lines: list[str], contiguous: bool, report: Report) -> None:
    seen: set[int] = set()
    for index, record in enumerate(records):
        seq = record["seq"]
        if seq in seen:
            report.failures.append(f"record seq {seq} appears twice (inserted record)")
        seen.add(seq)
        if index == 0:
            continue
        before = records[index - 1]["seq"]
        if seq <= before:
            report.failures.append(f"record seq {seq} comes after seq {before} (reordered records)")
        elif contiguous and seq != before + 1:
            report.failures.append(f"records {before + 1}..{seq - 1} are missing: seq {seq} follows {before} "
                                   "(deleted records)")
        elif seq == before + 1 and record.get("prev") != hashlib.sha256(lines[index - 1].encode()).hexdigest():
            report.failures.append(f"record seq {before} was modified or replaced: record seq {seq} links to a "
                                   "different record")


def _check_proofs(records: list[dict[str, Any]], lines: list[str], proof: dict[str, Any], checkpoint: Checkpoint,
                  report: Report) -> None:
    leaves = [merkle.leaf_hash(line.encode()) for line in lines]
    if not records:
        return
    if records[-1]["seq"] > checkpoint.size:
        report.failures.append(f"record seq {records[-1]['seq']} is beyond the checkpoint's size {checkpoint.size}")
        return
    try:
        if proof.get("kind") == "range":
            root = merkle.root_from_range(records[0]["seq"] - 1, checkpoint.size, leaves,
                                          _b64list(proof.get("hashes"), "range proof"))
            if root != checkpoint.root:
                report.failures.append("the records do not rebuild the signed checkpoint's root (a record was "
                                       "modified, deleted, inserted or reordered)")
        elif proof.get("kind") == "inclusion":
            proofs = proof.get("proofs", {})
            for record, leaf in zip(records, leaves, strict=True):
                path = _b64list(proofs.get(str(record["seq"])), f"inclusion proof of seq {record['seq']}")
                try:
                    merkle.verify_inclusion(record["seq"] - 1, checkpoint.size, leaf, path, checkpoint.root)
                except merkle.ProofError as exc:
                    report.failures.append(f"record seq {record['seq']} is not in the signed log ({exc})")
        else:
            report.failures.append("proof.json has no known kind")
    except (merkle.ProofError, bundle.BundleError) as exc:
        report.failures.append(f"the records do not fit the signed checkpoint: {exc}")


def _check_previous(previous: Checkpoint, checkpoint: Checkpoint, consistency: Any, report: Report) -> None:
    if previous.origin != checkpoint.origin:
        report.failures.append(f"the previous checkpoint is of another log ({previous.origin})")
        return
    proof: list[bytes] = []
    if previous.size < checkpoint.size:
        entry = next((c for c in consistency if isinstance(c, dict) and c.get("size") == previous.size), None)
        if entry is None:
            report.failures.append(f"the bundle has no consistency proof from size {previous.size}; ask for an "
                                   "export made with --previous")
            return
        proof = _b64list(entry.get("proof"), "consistency proof")
    try:
        merkle.verify_consistency(previous.size, checkpoint.size, previous.root, checkpoint.root, proof)
    except merkle.ProofError as exc:
        report.failures.append(f"the log is not consistent with the previous checkpoint: {exc}")


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    decisions = Counter(r.get("decision") for r in records)
    targets: Counter[str] = Counter()
    pii: Counter[str] = Counter()
    for record in records:
        route = record.get("route") or {}
        if route.get("selected"):
            targets[f"{route.get('region')}: {route['selected']}"] += 1
        for stage in record.get("stages") or []:
            for entity, found in ((stage.get("detail") or {}).get("entities") or {}).items():
                pii[f"{entity} {found.get('action', '?')}"] += int(found.get("count", 0))
    packs = [f"{r.get('ts')}: {(r.get('pack') or {}).get('sha256', '?')[:16]} ({r.get('reason')})"
             for r in records if r.get("decision") == "config_changed"]
    return {"records": len(records), "served": decisions.get("served", 0), "refused": decisions.get("refused", 0),
            "packs_put_in_force": packs, "targets_by_region": dict(sorted(targets.items())),
            "pii_actions": dict(sorted(pii.items()))}


def verify_bundle(path: Path, *, keys: list[VerifierKey] | None = None, previous: Path | None = None) -> Report:
    """Verify the bundle at ``path``; ``keys`` pins the trusted verifier keys."""
    report = Report()
    try:
        members = bundle.read_bundle(path)
        manifest_bytes = members.get(bundle.MANIFEST)
        if manifest_bytes is None:
            raise bundle.BundleError("the bundle has no manifest.json")
        manifest = json.loads(manifest_bytes)
        if manifest.get("format") != bundle.FORMAT or manifest.get("version") != bundle.VERSION:
            raise bundle.BundleError(f"not a {bundle.FORMAT} version {bundle.VERSION}")
    except (bundle.BundleError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        report.failures.append(str(exc))
        return report
    for name in set(members) - {bundle.MANIFEST, bundle.SIGNATURE, *bundle.FILES}:
        report.failures.append(f"unexpected file {name} in the bundle")
    for name in bundle.FILES:
        if name not in members:
            report.failures.append(f"{name} is missing")
        elif bundle.sha256(members[name]) != manifest.get("files", {}).get(name):
            report.failures.append(f"{name} does not match its SHA-256 in the manifest (edited after export)")
    shipped = _keys(members.get("keys.txt", b"").decode("utf-8", "replace"), report)
    trusted = keys if keys else shipped
    if not keys:
        report.warnings.append("keys were taken from the bundle itself; pin the lane's key with --key to not "
                               "trust the operator for them")
    try:
        text, _ = open_note(members.get(bundle.SIGNATURE, b"").decode("utf-8", "replace"), trusted)
        if text != bundle.manifest_note_text(manifest.get("origin", ""), manifest_bytes):
            report.failures.append("manifest.sig signs another manifest (edited manifest)")
    except NoteError as exc:
        report.failures.append(f"manifest.sig: {exc} (edited manifest or untrusted key)")
    try:
        checkpoint, _ = Checkpoint.open(members.get("checkpoint.txt", b"").decode("utf-8", "replace"), trusted)
    except NoteError as exc:
        report.failures.append(f"checkpoint.txt: {exc}")
        return report
    if checkpoint.origin != manifest.get("origin") or checkpoint.size != manifest.get("tree_size"):
        report.failures.append("the checkpoint is not the one the manifest names (origin or size differ)")
    lines = members.get("records.jsonl", b"").decode("utf-8").splitlines()
    records = _check_records(lines, manifest, report)
    _check_order(records, lines, manifest.get("filter") is None, report)
    try:
        proof = json.loads(members.get("proof.json", b"{}"))
        consistency = json.loads(members.get("consistency.json", b"[]"))
    except json.JSONDecodeError:
        report.failures.append("proof.json or consistency.json is not JSON")
        return report
    _check_proofs(records, lines, proof, checkpoint, report)
    pack_sha = bundle.sha256(members.get("pack.yaml", b""))
    if pack_sha != (manifest.get("pack") or {}).get("sha256"):
        report.failures.append("pack.yaml is not the pack the manifest names (edited pack)")
    named = {(r.get("pack") or {}).get("sha256") for r in records}
    if records and records[-1].get("pack", {}).get("sha256") != pack_sha:
        report.failures.append("pack.yaml is not the pack the latest record was decided under (edited pack)")
    elif len(named) > 1:
        report.warnings.append(f"the records were decided under {len(named)} pack versions; the bundle holds the "
                               "latest")
    if previous is not None:
        try:
            _check_previous(_previous_checkpoint(previous, list(trusted), bool(keys)), checkpoint, consistency,
                            report)
        except (NoteError, bundle.BundleError, OSError) as exc:
            report.failures.append(f"previous checkpoint {previous}: {exc}")
    report.summary = {"lane": manifest.get("lane"), "origin": checkpoint.origin, "tree_size": checkpoint.size,
                      "window": manifest.get("window"), "filter": manifest.get("filter"), **summarise(records)}
    return report


def render(report: Report) -> str:
    out = []
    summary = report.summary
    if summary:
        out.append(f"lane {summary['lane']} ({summary['origin']}), checkpoint size {summary['tree_size']}")
        out.append(f"records: {summary['records']} (served {summary['served']}, refused {summary['refused']}, "
                   f"packs put in force {len(summary['packs_put_in_force'])})")
        out.extend(f"  pack {line}" for line in summary["packs_put_in_force"])
        for target, count in summary["targets_by_region"].items():
            out.append(f"  target {target}: {count}")
        pii = summary["pii_actions"]
        out.append("PII actions: " + (", ".join(f"{k}: {v}" for k, v in pii.items()) if pii else "none recorded"))
    out += [f"warning: {w}" for w in report.warnings]
    out += [f"FAIL: {f}" for f in report.failures]
    out.append("VERIFIED" if report.ok else f"NOT VERIFIED: {len(report.failures)} problem(s)")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lanegate verify", description="Verify an evidence bundle offline.")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--key", action="append", default=[], help="trusted verifier key NAME+ID+BASE64 (repeat)")
    parser.add_argument("--previous", type=Path, help="an earlier checkpoint file or bundle you hold")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        pinned = [VerifierKey.parse(k) for k in args.key]
    except NoteError as exc:
        parser.error(f"--key: {exc}")
    report = verify_bundle(args.bundle, keys=pinned or None, previous=args.previous)
    if args.json:
        print(json.dumps({"ok": report.ok, "failures": report.failures, "warnings": report.warnings,
                          "summary": report.summary}, indent=2))
    else:
        print(render(report))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
