"""Canonical form and hash chaining of decision records.

A record's canonical form is its JSON with keys sorted, no insignificant white space and UTF-8 text
(the RFC 8785 form for records, which hold only strings, integers, booleans, null, arrays and objects).
Each stored record carries ``seq`` (1, 2, ...) and ``prev`` (the previous record's hash, or 64 zeros for
the first); its hash is the SHA-256 of its canonical form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from lanegate.evidence.merkle import RootAccumulator, leaf_hash
from lanegate.evidence.note import Checkpoint, NoteError, VerifierKey

if TYPE_CHECKING:  # the store imports this module
    from lanegate.store.base import CheckpointRecord

GENESIS = "0" * 64


class NotCanonicalizable(TypeError):
    """A record holds a value outside the canonical subset (floats among them)."""


_LARGEST = 2**53  # integers beyond it are not exact in every JSON reader


_SCALARS = frozenset({str, bool, type(None)})


def _valid(value: Any) -> bool:
    """Whether ``value`` is within the canonical subset: the check on every record, so it builds no path
    (:func:`_check` finds the offending value once this says there is one). Values of the exact types are
    told apart by their type, and strings, booleans and nulls inside a container without a call of their
    own; subclasses (a ``str`` enum, say) take the ``isinstance`` path."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str and not isinstance(key, str):
                return False
            if type(item) not in _SCALARS and not _valid(item):
                return False
        return True
    if kind is list:
        for item in value:  # noqa: SIM110 - on every record: a loop takes half the time of all()
            if type(item) not in _SCALARS and not _valid(item):
                return False
        return True
    if kind in _SCALARS:
        return True
    if kind is int:
        return bool(-_LARGEST <= value <= _LARGEST)
    return _valid_subclass(value)


def _valid_subclass(value: Any) -> bool:
    """:func:`_valid` for instances of subclasses of the allowed types (and anything else: ``False``)."""
    if isinstance(value, str | bool):
        return True
    if isinstance(value, int):
        return -_LARGEST <= value <= _LARGEST
    if isinstance(value, dict):
        return all(isinstance(key, str) and _valid(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_valid(item) for item in value)
    return False


def _check(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > _LARGEST:
            raise NotCanonicalizable(f"{path}: integer out of the interoperable range")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonicalizable(f"{path}: non-string key")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    raise NotCanonicalizable(f"{path}: {type(value).__name__} is not allowed in a record")


def check_canonical(record: dict[str, Any]) -> None:
    """Raise :class:`NotCanonicalizable`, naming the value, if ``record`` holds one outside the subset."""
    if not _valid(record):
        _check(record, "record")
        raise NotCanonicalizable("record: not canonicalizable")  # _check names the value; not reached


def canonical(record: dict[str, Any]) -> bytes:
    """The canonical JSON bytes of ``record``; :class:`NotCanonicalizable` names a value outside the subset."""
    check_canonical(record)
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def seal(record: dict[str, Any], seq: int, prev: str) -> tuple[str, str]:
    """Place ``record`` at ``seq`` after ``prev``; return its canonical body and hash. ``record`` is one that
    :func:`check_canonical` accepted (stores check each record when it arrives, not again here)."""
    body = orjson.dumps({**record, "seq": seq, "prev": prev}, option=orjson.OPT_SORT_KEYS)
    return body.decode("utf-8"), hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first record at which the chain does not hold, and why."""

    seq: int
    request_id: str
    reason: str


@dataclass(frozen=True)
class ChainReport:
    """The outcome of verifying a lane's chain."""

    records: int
    head: str
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def check_checkpoints(bodies: list[str], checkpoints: list[CheckpointRecord], keys: list[VerifierKey]) -> list[str]:
    """Problems found checking each stored checkpoint's signature and root against the records' own tree."""
    problems = []
    wanted = {c.size: c for c in checkpoints}
    tree = RootAccumulator()
    for body in bodies:
        tree.append(leaf_hash(body.encode("utf-8")))
        checkpoint = wanted.pop(tree.size, None)
        if checkpoint is None:
            continue
        try:
            signed, _ = Checkpoint.open(checkpoint.note, keys)
        except NoteError as exc:
            problems.append(f"checkpoint of size {checkpoint.size}: {exc}")
            continue
        if signed.root != tree.root() or signed.size != checkpoint.size:
            problems.append(f"checkpoint of size {checkpoint.size} was signed for other records than those stored "
                            "(records up to it were rewritten)")
    problems += [f"checkpoint of size {size} covers records that are no longer stored (truncated)" for size in wanted]
    return problems


def verify_rows(rows: Iterable[tuple[int, str, str, str]]) -> ChainReport:
    """Verify ``(seq, request_id, body, hash)`` rows in order; stop at the first break."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for seq, request_id, body, stored_hash in rows:
        count += 1
        if seq != expected_seq:
            return ChainReport(count, prev, ChainBreak(seq, request_id, f"gap: expected record {expected_seq}"))
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return ChainReport(count, prev, ChainBreak(seq, request_id, "body is not valid JSON"))
        if not isinstance(parsed, dict) or parsed.get("seq") != seq:
            return ChainReport(count, prev, ChainBreak(seq, request_id, "body does not carry its own position"))
        if parsed.get("prev") != prev:
            return ChainReport(count, prev, ChainBreak(seq, request_id, "does not link to the previous record"))
        if canonical(parsed).decode("utf-8") != body:
            return ChainReport(count, prev, ChainBreak(seq, request_id, "body is not in canonical form"))
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        if digest != stored_hash:
            return ChainReport(count, prev, ChainBreak(seq, request_id, "content does not match its hash"))
        prev = stored_hash
        expected_seq += 1
    return ChainReport(count, prev, None)
