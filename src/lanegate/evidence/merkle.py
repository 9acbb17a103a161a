"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification (standard library only).

leaf = SHA-256(0x00 || data), node = SHA-256(0x01 || left || right); the tree over ``n`` leaves splits at the
largest power of two smaller than ``n``. Besides inclusion and consistency proofs this module has *range
proofs*: the hashes of every maximal subtree outside a run of leaves ``[a, b)``, from which the root can be
rebuilt out of the run's own leaves — proving each leaf's inclusion and that the run has no gap.

Proof generators take ``mth(lo, hi)``, the hash of the subtree over leaves ``[lo, hi)``, so that a store can
answer from saved nodes. Verifiers raise :class:`ProofError` with the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof, hash or size that does not verify."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """The root over leaf hashes ``leaves`` (iterative, for large trees)."""
    accumulator = RootAccumulator()
    for leaf in leaves:
        accumulator.append(leaf)
    return accumulator.root()


class RootAccumulator:
    """Leaves appended one by one; the root of everything so far is available at any time in O(log n)."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []

    def append(self, leaf: bytes) -> None:
        size, value = 1, leaf
        while self._stack and self._stack[-1][0] == size:
            value = node_hash(self._stack.pop()[1], value)
            size *= 2
        self._stack.append((size, value))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        value = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            value = node_hash(left, value)
        return value


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


# -- inclusion ---------------------------------------------------------------------------------------------

def inclusion_proof(index: int, size: int, mth: SubtreeHash) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves, leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is outside a tree of size {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            path.append(mth(lo + k, hi))
            hi = lo + k
        else:
            path.append(mth(lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root implied by ``leaf`` at ``index`` and its audit path (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hash(leaf, "leaf hash")
    fn, sn = index, size - 1
    value = leaf
    for step in proof:
        _check_hash(step, "proof hash")
        if sn == 0:
            raise ProofError("proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            value = node_hash(step, value)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            value = node_hash(value, step)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("proof is shorter than the path to the root")
    return value


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    _check_hash(root, "root")
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("inclusion proof does not lead to the root")


# -- consistency -------------------------------------------------------------------------------------------

def consistency_proof(size1: int, size2: int, mth: SubtreeHash) -> list[bytes]:
    """Proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2`` (RFC 9162, 2.1.4.1)."""
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to {size2}")
    proof: list[bytes] = []

    def sub(m: int, lo: int, hi: int, complete: bool) -> None:
        n = hi - lo
        if m == n:
            if not complete:
                proof.append(mth(lo, hi))
            return
        k = split_point(n)
        if m <= k:
            sub(m, lo, lo + k, complete)
            proof.append(mth(lo + k, hi))
        else:
            sub(m - k, lo + k, hi, False)
            proof.append(mth(lo, lo + k))

    if size1 < size2:
        sub(size1, 0, size2, True)
    return proof


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Check that ``root1`` (size ``size1``) and ``root2`` (size ``size2``) are of one append-only log."""
    if size2 < size1:
        raise ProofError(f"the log shrank from {size1} to {size2} leaves (rolled back)")
    if size1 == 0:
        raise ProofError("consistency with an empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty proof")
        if root1 != root2:
            raise ProofError(f"two different roots for size {size1} (forked)")
        return
    _check_hash(root1, "first root")
    _check_hash(root2, "second root")
    if not proof:
        raise ProofError("empty consistency proof")
    for step in proof:
        _check_hash(step, "proof hash")
    # RFC 9162, 2.1.4.2
    items = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the first subtree is root1 itself
        items.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = items[0]
    for step in items[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(step, fr)
            sr = node_hash(step, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, step)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != root1:
        raise ProofError("consistency proof does not match the first root (forked or rewritten)")
    if sr != root2:
        raise ProofError("consistency proof does not match the second root")


# -- ranges ------------------------------------------------------------------------------------------------

def range_proof(first: int, end: int, size: int, mth: SubtreeHash) -> list[bytes]:
    """Hashes of the maximal subtrees of the ``size`` tree outside leaves ``[first, end)``, in tree order."""
    if not 0 <= first < end <= size:
        raise ValueError(f"no range [{first}, {end}) in a tree of size {size}")
    out: list[bytes] = []

    def walk(lo: int, hi: int) -> None:
        if hi <= first or lo >= end:
            out.append(mth(lo, hi))
        elif not (first <= lo and hi <= end):
            k = split_point(hi - lo)
            walk(lo, lo + k)
            walk(lo + k, hi)

    walk(0, size)
    return out


def root_from_range(first: int, size: int, leaves: Sequence[bytes], proof: Sequence[bytes]) -> bytes:
    """The root of the ``size`` tree rebuilt from the run of ``leaves`` starting at ``first`` and its proof."""
    end = first + len(leaves)
    if not leaves or not first >= 0 or end > size:
        raise ProofError(f"a run of {len(leaves)} leaves from {first} does not fit a tree of size {size}")
    hashes = iter(proof)

    def walk(lo: int, hi: int) -> bytes:
        if hi <= first or lo >= end:
            step = next(hashes, None)
            if step is None:
                raise ProofError("range proof is too short")
            _check_hash(step, "proof hash")
            return step
        if first <= lo and hi <= end:
            return root_of(leaves[lo - first : hi - first])
        k = split_point(hi - lo)
        return node_hash(walk(lo, lo + k), walk(lo + k, hi))

    root = walk(0, size)
    if next(hashes, None) is not None:
        raise ProofError("range proof is too long")
    return root
