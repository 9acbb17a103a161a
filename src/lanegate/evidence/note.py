"""Signed notes (c2sp.org/signed-note) with Ed25519, and checkpoints (c2sp.org/tlog-checkpoint).

A checkpoint's text is three lines — origin, tree size, base64 root hash — signed by a key named after the
origin. A verifier key is written ``<name>+<key id, 8 hex digits>+<base64(0x01 || public key)>``; the key id is
the first four bytes of SHA-256(name || 0x0A || 0x01 || public key). Keys rotate by adding a key: every
checkpoint names the key that signed it, so old checkpoints still verify against the old public key.

Standard library and ``cryptography`` only: the offline verifier uses this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
DASH = "\u2014 "


class NoteError(ValueError):
    """A note, checkpoint or key that is malformed or does not verify."""


def key_id(name: str, public: bytes) -> int:
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()
    return int(struct.unpack(">I", digest[:4])[0])


def _check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"invalid key name {name!r}: it must be non-empty, without spaces or '+'")


@dataclass(frozen=True)
class VerifierKey:
    """A public key that may sign notes under ``name``."""

    name: str
    public: bytes

    @property
    def id(self) -> int:
        return key_id(self.name, self.public)

    @property
    def hex_id(self) -> str:
        """The key id as 8 hex digits, as verifier keys and key listings show it."""
        return f"{self.id:08x}"

    def encode(self) -> str:
        return f"{self.name}+{self.hex_id}+{base64.b64encode(bytes([ED25519]) + self.public).decode()}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # base64 may hold '+'; a name may not
        if len(parts) != 3:
            raise NoteError("a verifier key reads NAME+KEYID+BASE64")
        name, hex_id, b64 = parts
        _check_name(name)
        try:
            raw = base64.b64decode(b64, validate=True)
            wanted = int(hex_id, 16)
        except (binascii.Error, ValueError):
            raise NoteError("verifier key is not valid base64/hex") from None
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("verifier key is not an Ed25519 key")
        key = cls(name, raw[1:])
        if key.id != wanted or len(hex_id) != 8:
            raise NoteError(f"verifier key id {hex_id} does not match its public key")
        return key


@dataclass(frozen=True)
class SignerKey:
    """A private Ed25519 key that signs notes under ``name``."""

    name: str
    private: bytes

    @classmethod
    def generate(cls, name: str) -> SignerKey:
        _check_name(name)
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    def verifier(self) -> VerifierKey:
        public = Ed25519PrivateKey.from_private_bytes(self.private).public_key()
        return VerifierKey(self.name, public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    def sign(self, text: str) -> str:
        """``text`` (ending in a newline) as a signed note."""
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError("note text must end in a newline and hold no empty line")
        signature = Ed25519PrivateKey.from_private_bytes(self.private).sign(text.encode())
        blob = struct.pack(">I", self.verifier().id) + signature
        return f"{text}\n{DASH}{self.name} {base64.b64encode(blob).decode()}\n"


def open_note(note: str, keys: list[VerifierKey]) -> tuple[str, VerifierKey]:
    """The text of ``note`` and the known key that signed it; :class:`NoteError` unless one verifies.

    Signatures by unknown keys are ignored; a signature by a known key that fails rejects the note.
    """
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("note holds control characters")
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("note has no signature block")
    text += "\n"
    verified: VerifierKey | None = None
    for line in signatures[:-1].split("\n"):
        if not line.startswith(DASH):
            raise NoteError("malformed signature line")
        name, _, b64 = line[len(DASH) :].partition(" ")
        try:
            blob = base64.b64decode(b64, validate=True)
        except binascii.Error:
            raise NoteError("signature is not valid base64") from None
        if len(blob) < 5:
            raise NoteError("signature is too short")
        wanted = struct.unpack(">I", blob[:4])[0]
        for key in keys:
            if key.name == name and key.id == wanted:
                try:
                    Ed25519PublicKey.from_public_bytes(key.public).verify(blob[4:], text.encode())
                except InvalidSignature:
                    raise NoteError(f"signature by key {name}+{wanted:08x} does not verify") from None
                verified = key
    if verified is None:
        raise NoteError("no signature by a trusted key (wrong or unknown signing key)")
    return text, verified


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head: this log (``origin``) had ``size`` leaves with this ``root``."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    def sign(self, key: SignerKey) -> str:
        return key.sign(self.text())

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("checkpoint text needs origin, size and root lines")
        origin, size_text, root_b64 = lines[0], lines[1], lines[2]
        if not origin or not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise NoteError("checkpoint origin or size is malformed")
        try:
            root = base64.b64decode(root_b64, validate=True)
        except binascii.Error:
            raise NoteError("checkpoint root is not valid base64") from None
        if len(root) != 32:
            raise NoteError("checkpoint root is not a SHA-256 hash")
        return cls(origin, int(size_text), root)

    @classmethod
    def open(cls, note: str, keys: list[VerifierKey]) -> tuple[Checkpoint, VerifierKey]:
        """Verify a signed checkpoint and parse it; the signing key must be named after the origin."""
        text, key = open_note(note, keys)
        checkpoint = cls.parse(text)
        if key.name != checkpoint.origin:
            raise NoteError(f"checkpoint for {checkpoint.origin} is signed by a key named {key.name}")
        return checkpoint, key
