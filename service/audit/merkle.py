"""RFC 6962 (section 2.1) Merkle trees, generic over any append-only log of leaf bytes.

No database here: the functions name which complete subtrees a proof needs ("node keys", a
(level, index) pair covering leaves [index * 2**level, (index + 1) * 2**level)), the caller fetches
those hashes (one query, O(log n) rows), and the functions combine them. Verification follows
RFC 9162 sections 2.1.3.2 and 2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

NodeKey = tuple[int, int]  # (level, index)
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def decompose(start: int, end: int) -> list[NodeKey]:
    """The complete subtrees whose hashes make MTH(D[start:end]), largest first.

    Valid for every range the RFC recursion produces (start is a multiple of a power of two at
    least as large as the range): the range splits into aligned subtrees along the bits of its size.
    """
    keys: list[NodeKey] = []
    while start < end:
        level = (end - start).bit_length() - 1
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def fold(hashes: list[bytes]) -> bytes:
    """MTH of a range from its decomposition: H(t1, H(t2, ... H(tk-1, tk)))."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose MTH form PATH(index, D[size]), in RFC order (nearest the leaf first)."""
    out: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """The ranges whose MTH form PROOF(first, D[second]) (RFC 6962 2.1.2), in RFC order."""
    if first <= 0 or first >= second:
        return []
    out: list[tuple[int, int]] = []
    start, end, m, whole = 0, second, first, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                out.append((start, end))
            break
        k = _split(n)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start, m, whole = start + k, m - k, False
    out.reverse()
    return out


def keys_for(ranges: Iterable[tuple[int, int]]) -> list[NodeKey]:
    seen: dict[NodeKey, None] = {}
    for s, e in ranges:
        for key in decompose(s, e):
            seen[key] = None
    return list(seen)


def hashes_for(ranges: list[tuple[int, int]], nodes: dict[NodeKey, bytes]) -> list[bytes]:
    return [fold([nodes[k] for k in decompose(s, e)]) for s, e in ranges]


class CompactRange:
    """The right edge of a tree: the roots of its complete subtrees (at most log2 n of them).

    Appending a leaf merges equal-sized neighbours; every merge is a newly complete subtree, which
    the sequencer stores so later proofs read it instead of recomputing it.
    """

    def __init__(self, size: int = 0, hashes: list[bytes] | None = None) -> None:
        self.size = size
        self.nodes: list[tuple[int, int, bytes]] = []  # (level, index, hash)
        keys = decompose(0, size)
        for (level, idx), h in zip(keys, hashes or [], strict=True):
            self.nodes.append((level, idx, h))

    def append(self, leaf_hash_: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return every node completed by it (the leaf itself first)."""
        made = [(0, self.size, leaf_hash_)]
        self.nodes.append(made[0])
        while len(self.nodes) >= 2 and self.nodes[-1][0] == self.nodes[-2][0]:
            right = self.nodes.pop()
            left = self.nodes.pop()
            merged = (left[0] + 1, left[1] // 2, node_hash(left[2], right[2]))
            self.nodes.append(merged)
            made.append(merged)
        self.size += 1
        return made

    def root(self) -> bytes:
        return fold([h for _, _, h in self.nodes])


def root_of(leaves: Iterable[bytes]) -> bytes:
    """MTH of a whole list of leaf bytes (constant memory beyond the log2 n edge)."""
    edge = CompactRange()
    for leaf in leaves:
        edge.append(leaf_hash(leaf))
    return edge.root()


def verify_inclusion(leaf_hash_: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if index >= size or index < 0:
        return False
    fn, sn, r = index, size - 1, leaf_hash_
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 2.1.4.2."""
    if first < 0 or first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
