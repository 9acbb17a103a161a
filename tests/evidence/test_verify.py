"""The offline verifier: honest bundles verify; the tamper kit is rejected, each case with its own reason."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lanegate.config import load_sources
from lanegate.evidence import bundle
from lanegate.evidence.note import Checkpoint, SignerKey
from lanegate.evidence.verify import summarise, verify_bundle
from lanegate.ledger import signing
from lanegate.ledger.export import ExportParams, run_export
from lanegate.store.sqlite import SqliteStore
from tests.packs import pack, target


def _record(lane, i: int) -> dict:
    refused = i % 4 == 3
    return {"v": 1, "id": f"req_{i:04d}", "ts": f"2026-11-23T10:{i // 60:02d}:{i % 60:02d}.000Z", "lane": lane.name,
            "pack": {"name": lane.pack.name, "version": lane.pack.version, "sha256": lane.sha256},
            "decision": "refused" if refused else "served", "status": 503 if refused else 200,
            "route": {"selected": None if refused else "eu-a", "region": None if refused else "eu-central-1",
                      "attempts": [], "excluded": []},
            "stages": [{"stage": "data-routing-policy", "decision": "continue"}]}


class Ledger:
    """A lane with a real store and records, exporting real bundles."""

    def __init__(self, tmp_path: Path, count: int = 40) -> None:
        text = pack("eu", ["eu-central-1"], [target("eu-a", "http://127.0.0.1:9", "eu-central-1")])
        self.lane = load_sources([(tmp_path / "eu.yaml", text)], base=tmp_path).lanes["eu"]
        self.dir = tmp_path
        self.url = f"sqlite:///{tmp_path}/eu.db"
        self.append(count)

    def _run(self, work):
        async def go():
            store = SqliteStore(self.url)
            await store.open()
            try:
                return await work(store)
            finally:
                await store.close()

        return asyncio.run(go())

    def append(self, count: int) -> None:
        async def work(store):
            start = await store.ledger.size()
            for i in range(start, start + count):
                await store.append_decision(_record(self.lane, i))

        self._run(work)

    def export(self, **params) -> Path:
        job = self._run(lambda store: run_export(store, self.lane, ExportParams(**params), self.dir / "out"))
        return Path(job.path)

    def checkpoint(self) -> str:
        return self._run(lambda store: signing.sign_checkpoint(store, self.lane.origin)).note

    def keys(self):
        return self._run(signing.verifier_keys)

    def signer(self) -> SignerKey:
        return self._run(signing.active_key)

    def rotate(self) -> None:
        self._run(lambda store: signing.rotate_key(store, self.lane.origin))


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger(tmp_path)


def _rewrite(path: Path, edit, *, fix_manifest: bool = False) -> Path:
    members = bundle.read_bundle(path)
    edit(members)
    if fix_manifest:  # a more careful forger also updates the manifest's hashes (but cannot re-sign it)
        manifest = json.loads(members[bundle.MANIFEST])
        manifest["files"] = {n: bundle.sha256(members[n]) for n in bundle.FILES}
        members[bundle.MANIFEST] = json.dumps(manifest).encode()
    out = path.with_name("tampered.zip")
    bundle.write_bundle(out, members)
    return out


def _edit_records(change):
    def edit(members):
        lines = members["records.jsonl"].decode().splitlines()
        members["records.jsonl"] = ("\n".join(change(lines)) + "\n").encode()

    return edit


def _failures(path: Path, **kwargs) -> list[str]:
    report = verify_bundle(path, **kwargs)
    assert not report.ok
    return report.failures


def test_an_honest_export_verifies_with_a_pinned_key_and_summarises(ledger):
    path = ledger.export()
    report = verify_bundle(path, keys=ledger.keys())
    assert report.ok, report.failures
    assert report.warnings == []
    assert report.summary["records"] == 40 and report.summary["served"] == 30 and report.summary["refused"] == 10
    assert report.summary["targets_by_region"] == {"eu-central-1: eu-a": 30}


def test_without_a_pinned_key_the_verifier_says_what_it_trusted(ledger):
    report = verify_bundle(ledger.export())
    assert report.ok and any("keys were taken from the bundle" in w for w in report.warnings)


def test_a_time_window_and_a_filter(ledger):
    window = verify_bundle(ledger.export(since="2026-11-23T10:00:10.000Z", until="2026-11-23T10:00:20.000Z"),
                           keys=ledger.keys())
    assert window.ok and window.summary["records"] == 10
    filtered = verify_bundle(ledger.export(filter={"decision": "refused"}), keys=ledger.keys())
    assert filtered.ok, filtered.failures
    assert filtered.summary["records"] == 10 and filtered.summary["served"] == 0


def test_a_modified_record_is_named(ledger):
    def change(lines):
        record = json.loads(lines[10])
        record["route"]["region"] = "us-east-1"
        lines[10] = bundle.canonical_line(record)
        return lines

    failures = _failures(_rewrite(ledger.export(), _edit_records(change), fix_manifest=True), keys=ledger.keys())
    assert "record seq 11 was modified or replaced: record seq 12 links to a different record" in failures
    assert any("do not rebuild the signed checkpoint's root" in f for f in failures)


def test_a_deleted_record_is_named(ledger):
    failures = _failures(_rewrite(ledger.export(), _edit_records(lambda ls: ls[:5] + ls[6:])), keys=ledger.keys())
    assert any("records 6..6 are missing: seq 7 follows 5 (deleted records)" in f for f in failures)


def test_an_inserted_record_is_named(ledger):
    def change(lines):
        forged = json.loads(lines[3])
        forged["decision"] = "served"
        return [*lines[:4], bundle.canonical_line(forged), *lines[4:]]

    failures = _failures(_rewrite(ledger.export(), _edit_records(change)), keys=ledger.keys())
    assert "record seq 4 appears twice (inserted record)" in failures


def test_reordered_records_are_named(ledger):
    def change(lines):
        lines[7], lines[8] = lines[8], lines[7]
        return lines

    failures = _failures(_rewrite(ledger.export(), _edit_records(change)), keys=ledger.keys())
    assert any("(reordered records)" in f for f in failures)


def test_a_truncated_log_is_named(ledger):
    failures = _failures(_rewrite(ledger.export(), _edit_records(lambda ls: ls[:-3])), keys=ledger.keys())
    assert any("(truncated log)" in f for f in failures)


def test_a_rolled_back_checkpoint_is_named(ledger, tmp_path):
    old_bundle = ledger.export()
    ledger.append(5)
    later = tmp_path / "later-checkpoint.txt"
    later.write_text(ledger.checkpoint())
    failures = _failures(old_bundle, keys=ledger.keys(), previous=later)
    assert any("the log shrank from 45 to 40 leaves (rolled back)" in f for f in failures)


def test_a_forked_checkpoint_is_named(ledger, tmp_path):
    first = ledger.export()
    forked = tmp_path / "forked.txt"  # same size, another root, signed with the lane's own key
    forked.write_text(Checkpoint(ledger.lane.origin, 40, hashlib.sha256(b"fork").digest()).sign(ledger.signer()))
    assert any("(forked)" in f for f in _failures(first, keys=ledger.keys(), previous=forked))
    smaller = tmp_path / "smaller-fork.txt"
    smaller.write_text(Checkpoint(ledger.lane.origin, 20, hashlib.sha256(b"fork").digest()).sign(ledger.signer()))
    ledger.append(1)
    later = ledger.export(previous=smaller.read_text())
    assert any("not consistent with the previous checkpoint" in f
               for f in _failures(later, keys=ledger.keys(), previous=smaller))


def test_consistency_with_an_earlier_checkpoint_holds_after_growth_and_rotation(ledger, tmp_path):
    held = tmp_path / "held.txt"
    held.write_text(ledger.checkpoint())
    ledger.rotate()
    ledger.append(25)
    report = verify_bundle(ledger.export(previous=held.read_text()), keys=ledger.keys(), previous=held)
    assert report.ok, report.failures
    assert len(ledger.keys()) == 2


def test_a_wrong_key_is_named(ledger):
    stranger = SignerKey.generate(ledger.lane.origin).verifier()
    failures = _failures(ledger.export(), keys=[stranger])
    assert "checkpoint.txt: no signature by a trusted key (wrong or unknown signing key)" in failures


def test_an_edited_manifest_is_named(ledger):
    def edit(members):
        manifest = json.loads(members[bundle.MANIFEST])
        manifest["jurisdiction"] = "US"
        members[bundle.MANIFEST] = json.dumps(manifest).encode()

    assert "manifest.sig signs another manifest (edited manifest)" in _failures(_rewrite(ledger.export(), edit),
                                                                              keys=ledger.keys())


def test_an_edited_pack_is_named(ledger):
    def edit(members):
        members["pack.yaml"] = members["pack.yaml"].replace(b"eu-central-1", b"us-east-1")

    plain = _failures(_rewrite(ledger.export(), edit), keys=ledger.keys())
    assert "pack.yaml does not match its SHA-256 in the manifest (edited after export)" in plain
    careful = _failures(_rewrite(ledger.export(), edit, fix_manifest=True), keys=ledger.keys())
    assert "pack.yaml is not the pack the latest record was decided under (edited pack)" in careful


def test_an_unexpected_file_and_a_non_bundle(ledger, tmp_path):
    path = ledger.export()
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("extra.txt", b"x")
    assert "unexpected file extra.txt in the bundle" in _failures(path, keys=ledger.keys())
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip")
    assert any("cannot read bundle" in f for f in _failures(junk))


def test_the_verifier_imports_nothing_of_the_gateway_runtime():
    code = ("import sys, lanegate.evidence.verify; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'lanegate', 'aiohttp', 'uvicorn', 'pydantic', 'orjson', 'yaml', 'typer'}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert eval(loaded) == ["lanegate", "lanegate.evidence", "lanegate.evidence.bundle",  # noqa: S307
                            "lanegate.evidence.merkle", "lanegate.evidence.note", "lanegate.evidence.verify"]


def test_the_verifier_runs_as_a_module_with_exit_codes(ledger):
    path = ledger.export()
    key = ledger.keys()[0].encode()
    ok = subprocess.run([sys.executable, "-m", "lanegate.evidence.verify", str(path), "--key", key],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "VERIFIED" in ok.stdout
    tampered = _rewrite(path, _edit_records(lambda ls: ls[:-1]))
    bad = subprocess.run([sys.executable, "-m", "lanegate.evidence.verify", str(tampered), "--key", key, "--json"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and json.loads(bad.stdout)["ok"] is False


def test_summary_counts_pii_actions_when_records_carry_them():
    records = [{"decision": "served", "route": {}, "stages": [
        {"stage": "pii-detector", "detail": {"entities": {"EMAIL_ADDRESS": {"count": 2, "action": "tokenize"}}}}]}]
    assert summarise(records)["pii_actions"] == {"EMAIL_ADDRESS tokenize": 2}


def test_pinned_keys_also_govern_a_previous_bundle(ledger, tmp_path):
    import shutil

    forger = Ledger(tmp_path / "forger", count=40)  # another log under the same origin, signed by another key
    forged_previous = tmp_path / "forged.zip"
    shutil.copy(forger.export(), forged_previous)
    failures = _failures(ledger.export(), keys=ledger.keys(), previous=forged_previous)
    assert any("previous checkpoint" in f and "no signature by a trusted key" in f for f in failures)
