"""Merkle hashing and proofs: the shared RFC 6962 vectors, and properties of generation vs verification."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lanegate.evidence.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    range_proof,
    root_from_range,
    root_of,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "data" / "merkle-vectors" / "testdata"


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


@pytest.mark.parametrize("path", _cases("inclusion"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_inclusion_vectors(path):
    case = json.loads(path.read_text())
    proof = [_b64(p) for p in case["proof"] or []]
    args = (case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof, _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _cases("consistency"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_consistency_vectors(path):
    case = json.loads(path.read_text())
    proof = [_b64(p) for p in case["proof"] or []]
    args = (case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), proof)
    if case["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def test_all_vectors_were_found():
    assert len(_cases("inclusion")) + len(_cases("consistency")) == 196


def _tree(n: int):
    leaves = [leaf_hash(str(i).encode()) for i in range(n)]
    return leaves, lambda lo, hi: root_of(leaves[lo:hi])


@given(st.integers(1, 70), st.data())
def test_generated_inclusion_proofs_verify_and_wrong_leaves_do_not(n, data):
    leaves, mth = _tree(n)
    index = data.draw(st.integers(0, n - 1))
    root = root_of(leaves)
    verify_inclusion(index, n, leaves[index], inclusion_proof(index, n, mth), root)
    with pytest.raises(ProofError):
        verify_inclusion(index, n, leaf_hash(b"other"), inclusion_proof(index, n, mth), root)


@given(st.integers(1, 70), st.data())
def test_generated_consistency_proofs_verify(n, data):
    leaves, mth = _tree(n)
    m = data.draw(st.integers(1, n))
    verify_consistency(m, n, root_of(leaves[:m]), root_of(leaves), consistency_proof(m, n, mth))
    if m < n:
        forked = root_of([*leaves[: m - 1], leaf_hash(b"forged")])
        with pytest.raises(ProofError):
            verify_consistency(m, n, forked, root_of(leaves), consistency_proof(m, n, mth))


@given(st.integers(1, 70), st.data())
def test_range_proofs_rebuild_the_root_only_from_the_exact_run(n, data):
    leaves, mth = _tree(n)
    first = data.draw(st.integers(0, n - 1))
    end = data.draw(st.integers(first + 1, n))
    proof = range_proof(first, end, n, mth)
    assert root_from_range(first, n, leaves[first:end], proof) == root_of(leaves)
    if end - first >= 2:
        swapped = [leaves[first + 1], leaves[first], *leaves[first + 2 : end]]
        assert root_from_range(first, n, swapped, proof) != root_of(leaves)
        try:
            rebuilt = root_from_range(first, n, leaves[first : end - 1], proof)
        except ProofError:
            rebuilt = None
        assert rebuilt != root_of(leaves)  # a run with a leaf missing never rebuilds the root


def test_the_empty_tree_has_the_hash_of_nothing():
    assert root_of([]) == EMPTY_ROOT
