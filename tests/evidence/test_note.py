"""Signed notes and checkpoints: round trips, rotation, and every way a note must be rejected."""

from __future__ import annotations

import pytest

from lanegate.evidence.merkle import leaf_hash
from lanegate.evidence.note import Checkpoint, NoteError, SignerKey, VerifierKey, open_note

ORIGIN = "lanegate.local/lanes/eu"


def test_checkpoint_round_trip_in_the_c2sp_format():
    key = SignerKey.generate(ORIGIN)
    note = Checkpoint(ORIGIN, 12, leaf_hash(b"x")).sign(key)
    lines = note.split("\n")
    assert lines[:3] == [ORIGIN, "12", lines[2]] and lines[3] == "" and lines[4].startswith(f"\u2014 {ORIGIN} ")
    checkpoint, signer = Checkpoint.open(note, [key.verifier()])
    assert checkpoint == Checkpoint(ORIGIN, 12, leaf_hash(b"x")) and signer == key.verifier()


def test_verifier_keys_encode_and_parse():
    for _ in range(50):  # enough keys that some base64 encodings hold '+'
        verifier = SignerKey.generate(ORIGIN).verifier()
        assert VerifierKey.parse(verifier.encode()) == verifier
    text = verifier.encode()
    assert text.startswith(f"{ORIGIN}+{verifier.id:08x}+")
    name, _kid, b64 = text.split("+", 2)
    with pytest.raises(NoteError, match="does not match"):
        VerifierKey.parse(f"{name}+{(verifier.id ^ 1):08x}+{b64}")


def test_rotated_keys_still_verify_old_checkpoints():
    old, new = SignerKey.generate(ORIGIN), SignerKey.generate(ORIGIN)
    first = Checkpoint(ORIGIN, 1, leaf_hash(b"a")).sign(old)
    second = Checkpoint(ORIGIN, 2, leaf_hash(b"b")).sign(new)
    keys = [old.verifier(), new.verifier()]
    assert Checkpoint.open(first, keys)[1] == old.verifier()
    assert Checkpoint.open(second, keys)[1] == new.verifier()


def test_rejections():
    key, other = SignerKey.generate(ORIGIN), SignerKey.generate(ORIGIN)
    note = Checkpoint(ORIGIN, 5, leaf_hash(b"r")).sign(key)
    with pytest.raises(NoteError, match="no signature by a trusted key"):
        Checkpoint.open(note, [other.verifier()])
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note.replace("\n5\n", "\n6\n"), [key.verifier()])
    impostor = SignerKey.generate("someone.else/log")
    foreign = impostor.sign(Checkpoint(ORIGIN, 5, leaf_hash(b"r")).text())
    with pytest.raises(NoteError, match="signed by a key named"):
        Checkpoint.open(foreign, [impostor.verifier()])
    with pytest.raises(NoteError):
        open_note("no signatures here\n", [key.verifier()])
    with pytest.raises(NoteError):
        Checkpoint.parse(f"{ORIGIN}\n05\nAAAA\n")
