"""Tests for ``mlaudit.store.merkle`` against published vectors and a naive RFC reference."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from hashlib import sha256
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlaudit.store import merkle
from mlaudit.store.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
    leaf_hash,
    node_hash,
    nodes_for,
    perfect_subtrees,
    range_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# Published RFC 6962 vectors, copied from github.com/transparency-dev/merkle (the library
# behind Trillian and certificate-transparency-go):
#   testonly/constants.go   LeafInputs, NodeHashes, RootHashes, CompactTrees, EmptyRootHash
#   proof/verify_test.go    inclusionProofs, consistencyProofs (leaf numbers there are 1-based)
#   rfc6962/rfc6962_test.go hasher vectors

VECTOR_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]  # fmt: skip

VECTOR_NODES = [  # by level, then index
    ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"],
    ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"],
    ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]  # fmt: skip

VECTOR_ROOTS = [  # indexed by tree size
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# CompactTrees(): the frontier of each tree size, as (level, index) into VECTOR_NODES.
VECTOR_COMPACT = [
    [], [(0, 0)], [(1, 0)], [(1, 0), (0, 2)], [(2, 0)], [(2, 0), (0, 4)], [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)], [(3, 0)],
]  # fmt: skip

# (index, size, proof): verify_test.go's {leaf, size} with its 1-based leaf made 0-based.
VECTOR_INCLUSION = [
    (0, 1, []),
    (0, 8, [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]),
    (5, 8, [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]),
]  # fmt: skip

VECTOR_CONSISTENCY = [
    (1, 1, []),
    (1, 8, [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ]),
    (6, 8, [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]),
    (2, 5, [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]),
    (6, 7, [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]),
]  # fmt: skip

# Stored node ids a proof needs, from proof/proof_test.go (TestInclusion, TestConsistency):
# (size, index) -> ids and (size1, size2) -> ids, ids as compact.NewNodeID(level, index).
VECTOR_INCLUSION_IDS = {
    (7, 0): [(0, 1), (1, 1), (0, 6), (1, 2)], (7, 4): [(0, 5), (0, 6), (2, 0)],
    (7, 6): [(1, 2), (2, 0)], (6, 3): [(0, 2), (1, 0), (1, 2)],
    (15, 10): [(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)],
    (31, 24): [(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)],
    (95, 81): [(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)],
}  # fmt: skip
VECTOR_CONSISTENCY_IDS = {
    (1, 6): [(0, 1), (1, 1), (1, 2)], (2, 8): [(1, 1), (2, 1)],
    (3, 7): [(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)], (5, 7): [(0, 4), (0, 5), (0, 6), (2, 0)],
    (7, 8): [(0, 6), (0, 7), (1, 2), (2, 0)], (10, 15): [(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)],
    (24, 31): [(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)],
    (81, 95): [(0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)],
}  # fmt: skip


def _hx(hexes: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


def _vector_node(level: int, index: int) -> bytes:
    return bytes.fromhex(VECTOR_NODES[level][index])


# Naive reference: RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1 transcribed literally (recursive,
# on lists of entries, hashing with hashlib directly).

TREE_SIZE = 130
ENTRIES = [b"mlaudit ledger entry %d" % i for i in range(TREE_SIZE)]


def _k(n: int) -> int:
    """Largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(entries: Sequence[bytes]) -> bytes:
    n = len(entries)
    if n == 0:
        return sha256(b"").digest()
    if n == 1:
        return sha256(b"\x00" + entries[0]).digest()
    k = _k(n)
    return sha256(b"\x01" + naive_mth(entries[:k]) + naive_mth(entries[k:])).digest()


def naive_path(m: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """PATH(m, D[lo:hi]) as absolute leaf ranges."""
    if hi - lo == 1:
        return []
    k = _k(hi - lo)
    if m < k:
        return [*naive_path(m, lo, lo + k), (lo + k, hi)]
    return [*naive_path(m - k, lo + k, hi), (lo, lo + k)]


def naive_subproof(m: int, lo: int, hi: int, b: bool) -> list[tuple[int, int]]:
    """SUBPROOF(m, D[lo:hi], b) as absolute leaf ranges."""
    if m == hi - lo:
        return [] if b else [(lo, hi)]
    k = _k(hi - lo)
    if m <= k:
        return [*naive_subproof(m, lo, lo + k, b), (lo + k, hi)]
    return [*naive_subproof(m - k, lo + k, hi, False), (lo, lo + k)]


def naive_proof(m: int, n: int) -> list[tuple[int, int]]:
    return [] if m in (0, n) else naive_subproof(m, 0, n, True)


@cache
def naive_range(start: int, end: int) -> bytes:
    return naive_mth(ENTRIES[start:end])


@cache
def naive_root(size: int) -> bytes:
    return naive_range(0, size)


LEAVES = [sha256(b"\x00" + e).digest() for e in ENTRIES]
# Every perfect aligned subtree of the TREE_SIZE tree, hashed naively: the "ledger table".
STORED = {
    (level, index): naive_range(index << level, (index + 1) << level)
    for level in range(TREE_SIZE.bit_length())
    for index in range(TREE_SIZE >> level)
}


def stored(level: int, index: int) -> bytes:
    return STORED[level, index]


def flip(h: bytes, bit: int) -> bytes:
    out = bytearray(h)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


OTHER = sha256(b"some other hash").digest()


# ---------------------------------------------------------------- published vectors


def test_hash_functions_match_published_vectors() -> None:
    assert EMPTY_ROOT.hex() == VECTOR_ROOTS[0]
    assert leaf_hash(b"").hex() == VECTOR_NODES[0][0]
    assert leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("size", range(9))
def test_roots_match_published_vectors(size: int) -> None:
    leaves = [leaf_hash(e) for e in VECTOR_LEAVES[:size]]
    assert root_of(leaves).hex() == VECTOR_ROOTS[size]
    frontier = Frontier()
    frontier.extend(leaves)
    assert frontier.root().hex() == VECTOR_ROOTS[size]
    compact = [_vector_node(lvl, idx) for lvl, idx in VECTOR_COMPACT[size]]
    assert Frontier(size, compact).root().hex() == VECTOR_ROOTS[size]
    assert Frontier.load(size, _vector_node).root().hex() == VECTOR_ROOTS[size]
    assert range_hash(0, size, _vector_node).hex() == VECTOR_ROOTS[size]


def test_frontier_stores_exactly_the_published_node_hashes() -> None:
    new = Frontier().extend(leaf_hash(e) for e in VECTOR_LEAVES)
    assert {(lvl, idx): h.hex() for lvl, idx, h in new} == {
        (lvl, idx): h for lvl, row in enumerate(VECTOR_NODES) for idx, h in enumerate(row)
    }
    assert len(new) == 15


@pytest.mark.parametrize(("index", "size", "proof"), VECTOR_INCLUSION)
def test_inclusion_matches_published_vectors(index: int, size: int, proof: list[str]) -> None:
    assert inclusion_proof(index, size, _vector_node) == _hx(proof)
    leaf = leaf_hash(VECTOR_LEAVES[index])
    root = bytes.fromhex(VECTOR_ROOTS[size])
    assert verify_inclusion(leaf, index, size, _hx(proof), root)


@pytest.mark.parametrize(("old", "new", "proof"), VECTOR_CONSISTENCY)
def test_consistency_matches_published_vectors(old: int, new: int, proof: list[str]) -> None:
    assert consistency_proof(old, new, _vector_node) == _hx(proof)
    old_root, new_root = bytes.fromhex(VECTOR_ROOTS[old]), bytes.fromhex(VECTOR_ROOTS[new])
    assert verify_consistency(old, new, old_root, new_root, _hx(proof))


def test_proofs_read_the_published_node_ids() -> None:
    for (size, index), ids in VECTOR_INCLUSION_IDS.items():
        assert nodes_for(inclusion_ranges(index, size)) == set(ids)
    for (old, new), ids in VECTOR_CONSISTENCY_IDS.items():
        assert nodes_for(consistency_ranges(old, new)) == set(ids)


# ---------------------------------------------------------------- against the naive reference


def test_root_of_matches_naive_mth_and_frontier() -> None:
    for size in range(TREE_SIZE + 1):
        assert root_of(LEAVES[:size]) == naive_root(size)
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(100_003)]
    frontier = Frontier()
    frontier.extend(leaves)
    assert root_of(leaves) == frontier.root()


def test_frontier_yields_exactly_the_perfect_subtrees_for_every_size() -> None:
    frontier = Frontier()
    seen: dict[tuple[int, int], bytes] = {}
    assert frontier.root() == naive_root(0)
    for size in range(1, TREE_SIZE + 1):
        new = frontier.append(LEAVES[size - 1])
        complete = {(lvl, idx) for lvl in range(size.bit_length()) for idx in range(size >> lvl)}
        expected = sorted(complete - seen.keys())  # bottom-up, as append returns them
        assert [(lvl, idx) for lvl, idx, _ in new] == expected
        for lvl, idx, h in new:
            assert h == naive_range(idx << lvl, (idx + 1) << lvl)
            seen[lvl, idx] = h
        assert frontier.size == size
        assert frontier.root() == naive_root(size)
        assert Frontier.load(size, stored).root() == naive_root(size)
        hashes = [stored(lvl, idx) for lvl, idx in perfect_subtrees(0, size)]
        assert Frontier(size, hashes).root() == naive_root(size)


def test_extend_equals_repeated_append() -> None:
    one_by_one = Frontier()
    appended = [node for leaf in LEAVES for node in one_by_one.append(leaf)]
    resumed = Frontier.load(50, stored)
    extended = Frontier().extend(LEAVES[:50]) + resumed.extend(LEAVES[50:])
    assert extended == appended
    assert resumed.root() == one_by_one.root() == naive_root(TREE_SIZE)


def test_perfect_subtrees_tile_every_valid_range() -> None:
    for n in range(1, 70):
        width = 1 << (n - 1).bit_length()
        for start in range(0, 140, width):
            parts = perfect_subtrees(start, start + n)
            sizes = [1 << lvl for lvl, _ in parts]
            assert sizes == sorted(set(sizes), reverse=True)  # distinct, largest first
            cursor = start
            for lvl, idx in parts:
                assert idx << lvl == cursor  # aligned and contiguous
                cursor += 1 << lvl
            assert cursor == start + n
            if start + n <= TREE_SIZE:
                assert range_hash(start, start + n, stored) == naive_range(start, start + n)


@pytest.mark.parametrize("size", range(1, 65))
def test_inclusion_proofs_equal_naive_path_and_verify(size: int) -> None:
    root = naive_root(size)
    for index in range(size):
        ranges = naive_path(index, 0, size)
        assert inclusion_ranges(index, size) == ranges
        proof = inclusion_proof(index, size, stored)
        assert proof == [naive_range(s, e) for s, e in ranges]
        assert verify_inclusion(LEAVES[index], index, size, proof, root)


@pytest.mark.parametrize("new", range(0, 65))
def test_consistency_proofs_equal_naive_proof_and_verify(new: int) -> None:
    for old in range(new + 1):
        ranges = naive_proof(old, new)
        assert consistency_ranges(old, new) == ranges
        proof = consistency_proof(old, new, stored)
        assert proof == [naive_range(s, e) for s, e in ranges]
        assert verify_consistency(old, new, naive_root(old), naive_root(new), proof)


# ---------------------------------------------------------------- O(log n) reads


@pytest.mark.parametrize("index", [0, 1, 2, 524_287, 524_288, 700_001, 999_998, 999_999])
def test_inclusion_at_a_million_leaves_reads_o_log_n_nodes(index: int) -> None:
    size = 1_000_000
    bound = 2 * math.log2(size) + 2
    keys = nodes_for(inclusion_ranges(index, size))
    assert len(keys) <= bound
    reads: list[tuple[int, int]] = []

    def node(level: int, idx: int) -> bytes:
        reads.append((level, idx))
        return sha256(b"%d/%d" % (level, idx)).digest()

    proof = inclusion_proof(index, size, node)
    assert len(proof) <= math.ceil(math.log2(size))
    assert set(reads) == keys and len(reads) == len(keys)
    for old in (1, index + 1, size - 1):
        assert len(nodes_for(consistency_ranges(old, size))) <= bound


# ---------------------------------------------------------------- corrupted proofs


def _proof_edits(proof: list[bytes], bit: int, junk: bytes) -> list[tuple[str, list[bytes]]]:
    """Edits of a good proof that must all be rejected: drop, add, change or reorder nodes."""
    n = len(proof)

    def at(k: int, *new: bytes) -> list[bytes]:
        return [*proof[:k], *new, *proof[k + 1 :]]

    edits: list[tuple[str, list[bytes]]] = [("empty", [])] if proof else []
    edits += [(f"flip {k}", at(k, flip(proof[k], (bit + 37 * k) % 256))) for k in range(n)]
    edits += [(f"remove {k}", at(k)) for k in range(n)]
    edits += [(f"replace {k}", at(k, junk)) for k in range(n) if proof[k] != junk]
    edits += [(f"duplicate {k}", at(k, proof[k], proof[k])) for k in range(n)]
    edits += [(f"insert {k}", [*proof[:k], junk, *proof[k:]]) for k in range(n + 1)]
    edits += [(f"swap {k}", [*proof[:k], proof[k + 1], proof[k], *proof[k + 2 :]])
              for k in range(n - 1) if proof[k] != proof[k + 1]]  # fmt: skip
    return edits


def _inclusion_shape(index: int, size: int) -> list[bool]:
    """Per path node, whether it is a left sibling (from the naive PATH)."""
    return [end <= index for _, end in naive_path(index, 0, size)]


def _consistency_shape(old: int, new: int) -> list[bool]:
    """Per proof node, whether it lies inside the old tree (from the naive PROOF)."""
    return [end <= old for _, end in naive_proof(old, new)]


@pytest.mark.parametrize("size", range(1, 65))
def test_every_corruption_of_an_inclusion_proof_is_rejected(size: int) -> None:
    root = naive_root(size)
    for index in range(size):
        leaf = LEAVES[index]
        proof = inclusion_proof(index, size, stored)
        assert not verify_inclusion(leaf, index - 1, size, proof, root)
        assert not verify_inclusion(leaf, index + 1, size, proof, root)
        assert not verify_inclusion(LEAVES[index - 1], index, size, proof, root)
        assert not verify_inclusion(flip(leaf, index % 256), index, size, proof, root)
        for wrong_root in (OTHER, EMPTY_ROOT, flip(root, size % 256), naive_root(size + 1)):
            assert not verify_inclusion(leaf, index, size, proof, wrong_root)
        for other_size in (size - 1, size + 1):
            # With that size's own root the claim always fails.
            assert not verify_inclusion(leaf, index, other_size, proof, naive_root(other_size))
            # With the same root, RFC 9162 verification can only tell sizes apart when their
            # paths differ in shape, e.g. leaf 0 of 3 and of 4 both hash as H(H(a, p0), p1).
            # The size is bound to the root by the signed checkpoint, not by the proof.
            same_shape = index < other_size and (
                _inclusion_shape(index, other_size) == _inclusion_shape(index, size)
            )
            assert verify_inclusion(leaf, index, other_size, proof, root) == same_shape
        for what, edited in _proof_edits(proof, index, OTHER):
            assert not verify_inclusion(leaf, index, size, edited, root), what


@pytest.mark.parametrize("new", range(2, 65))
def test_every_corruption_of_a_consistency_proof_is_rejected(new: int) -> None:
    new_root = naive_root(new)
    for old in range(1, new):
        old_root = naive_root(old)
        proof = consistency_proof(old, new, stored)
        assert proof
        for m in (old - 1, old + 1):
            assert not verify_consistency(m, new, old_root, new_root, proof)
            assert not verify_consistency(m, new, naive_root(m), new_root, proof)
        for n in (new - 1, new + 1):
            assert not verify_consistency(old, n, old_root, naive_root(n), proof)
            # Same limitation as for inclusion: with an unchanged root, a size is only
            # rejected when the proof for it has a different shape.
            same_shape = old < n and _consistency_shape(old, n) == _consistency_shape(old, new)
            assert verify_consistency(old, n, old_root, new_root, proof) == same_shape
        for bad_old, bad_new in (
            (OTHER, new_root),
            (old_root, OTHER),
            (new_root, old_root),
            (flip(old_root, old % 256), new_root),
            (old_root, flip(new_root, new % 256)),
        ):
            assert not verify_consistency(old, new, bad_old, bad_new, proof)
        for what, edited in [
            *_proof_edits(proof, old, OTHER),
            ("prepend old root", [old_root, *proof]),
        ]:
            assert not verify_consistency(old, new, old_root, new_root, edited), what


def test_every_bit_of_every_proof_node_matters() -> None:
    index, size, old = 37, 101, 45
    root, proof = naive_root(size), inclusion_proof(index, size, stored)
    cproof = consistency_proof(old, size, stored)
    for k in range(len(proof)):
        for bit in range(256):
            edited = [*proof[:k], flip(proof[k], bit), *proof[k + 1 :]]
            assert not verify_inclusion(LEAVES[index], index, size, edited, root)
    for k in range(len(cproof)):
        for bit in range(256):
            edited = [*cproof[:k], flip(cproof[k], bit), *cproof[k + 1 :]]
            assert not verify_consistency(old, size, naive_root(old), root, edited)


HASHES = st.binary(min_size=32, max_size=32)
CLAIMS = st.integers(1, TREE_SIZE).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1)))


@settings(max_examples=300, deadline=None)
@given(claim=CLAIMS, pick=st.integers(0, 1 << 16), bit=st.integers(0, 255), junk=HASHES)
def test_hypothesis_edited_proofs_never_verify(
    claim: tuple[int, int], pick: int, bit: int, junk: bytes
) -> None:
    size, index = claim  # also read as the consistency claim old=index -> new=size
    root, old_root = naive_root(size), naive_root(index)
    proof = inclusion_proof(index, size, stored)
    cproof = consistency_proof(index, size, stored)
    assert verify_inclusion(LEAVES[index], index, size, proof, root)
    assert verify_consistency(index, size, old_root, root, cproof)
    edits, cedits = _proof_edits(proof, bit, junk), _proof_edits(cproof, bit, junk)
    what, edited = edits[pick % len(edits)]
    assert not verify_inclusion(LEAVES[index], index, size, edited, root), what
    what, edited = cedits[pick % len(cedits)]
    assert not verify_consistency(index, size, old_root, root, edited), what


@settings(max_examples=200, deadline=None)
@given(claim=CLAIMS, pos=st.integers(0, 10_000), byte=st.integers(1, 255))
def test_hypothesis_any_single_byte_edit_of_an_entry_is_detected(
    claim: tuple[int, int], pos: int, byte: int
) -> None:
    size, index = claim
    entry = bytearray(ENTRIES[index])
    entry[pos % len(entry)] ^= byte
    proof = inclusion_proof(index, size, stored)
    assert not verify_inclusion(leaf_hash(bytes(entry)), index, size, proof, naive_root(size))


# ---------------------------------------------------------------- edge cases and bad input


def test_consistency_edge_cases() -> None:
    # Adapted from TestVerifyConsistency in transparency-dev/merkle proof/verify_test.go, with
    # real 32-byte roots and the empty tree's root pinned to EMPTY_ROOT.
    r1, r2 = naive_root(1), naive_root(2)
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, naive_root(5), [])
    assert verify_consistency(1, 1, r1, r1, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, r1, [])
    assert not verify_consistency(0, 1, r1, r1, [])
    assert not verify_consistency(1, 1, r1, r2, [])
    assert not verify_consistency(1, 0, r1, EMPTY_ROOT, [])
    assert not verify_consistency(2, 1, r2, r1, [])
    assert not verify_consistency(1, 2, r1, r2, [])
    for old, new in ((0, 0), (0, 1), (1, 1)):
        assert not verify_consistency(old, new, naive_root(old), naive_root(new), [EMPTY_ROOT])


def test_inclusion_edge_cases() -> None:
    only = LEAVES[0]
    assert verify_inclusion(only, 0, 1, [], naive_root(1))
    assert not verify_inclusion(only, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], only)
    for index, size in ((0, 0), (1, 0), (1, 1), (2, 1)):
        assert not verify_inclusion(only, index, size, [], only)
        assert not verify_inclusion(only, index, size, [], EMPTY_ROOT)


MALFORMED_PROOFS: list[object] = [
    None, 7, "ab" * 32, b"x" * 32, [b"x" * 31], [b"x" * 33], ["ab" * 16], [None], [1, 2], {1: 2},
]  # fmt: skip


@pytest.mark.parametrize("bad", MALFORMED_PROOFS)
def test_verifiers_return_false_on_malformed_proofs(bad: object) -> None:
    assert verify_inclusion(LEAVES[0], 0, 2, bad, naive_root(2)) is False  # type: ignore[arg-type]
    assert verify_consistency(1, 2, naive_root(1), naive_root(2), bad) is False  # type: ignore[arg-type]


def test_verifiers_return_false_on_malformed_arguments() -> None:
    leaf, root, r1 = LEAVES[1], naive_root(2), naive_root(1)
    proof, cproof = inclusion_proof(1, 2, stored), consistency_proof(1, 2, stored)
    assert verify_inclusion(leaf, 1, 2, tuple(proof), root)
    bad_inclusion: list[tuple[Any, ...]] = [
        (leaf, -1, 2, root), (leaf, 1, -2, root), (leaf, True, 2, root), (leaf, 1.0, 2, root),
        (leaf, "1", 2, root), (leaf.hex(), 1, 2, root), (leaf, 1, 2, root[:31]),
        (None, 1, 2, None),
    ]  # fmt: skip
    for a, i, n, r in bad_inclusion:
        assert verify_inclusion(a, i, n, proof, r) is False
    bad_consistency: list[tuple[Any, ...]] = [
        (-1, 2, r1, root), (1, 2.0, r1, root), (1, 2, None, root), (1, 2, r1, "x")]  # fmt: skip
    for m, n, r1_, r2_ in bad_consistency:
        assert verify_consistency(m, n, r1_, r2_, cproof) is False


@pytest.mark.parametrize(
    ("func", "args"),
    [
        (inclusion_ranges, (0, 0)), (inclusion_ranges, (5, 5)), (inclusion_ranges, (-1, 5)),
        (consistency_ranges, (5, 4)), (consistency_ranges, (-1, 4)),
        (perfect_subtrees, (1, 3)), (perfect_subtrees, (4, 9)), (perfect_subtrees, (3, 2)),
        (perfect_subtrees, (-2, 0)),
        (Frontier, (-1,)), (Frontier, (3, [OTHER])), (Frontier, (1, [b"short"])),
    ],
)  # fmt: skip
def test_invalid_arguments_raise_value_error(func: object, args: tuple[object, ...]) -> None:
    with pytest.raises(ValueError):
        func(*args)  # type: ignore[operator]


def test_invalid_proof_requests_raise_value_error() -> None:
    with pytest.raises(ValueError):
        inclusion_proof(3, 3, stored)
    with pytest.raises(ValueError):
        consistency_proof(4, 3, stored)
    with pytest.raises(ValueError):
        Frontier().append(b"not a hash")
    with pytest.raises(ValueError, match=r"node\(0, 0\)"):
        range_hash(0, 1, lambda level, index: b"")


def test_empty_ranges() -> None:
    assert perfect_subtrees(0, 0) == []
    assert range_hash(0, 0, stored) == EMPTY_ROOT
    assert consistency_ranges(0, 9) == [] and consistency_ranges(9, 9) == []
    assert inclusion_ranges(0, 1) == []
    assert nodes_for([]) == set()


def test_public_names() -> None:
    assert set(merkle.__all__) == {
        "EMPTY_ROOT", "Frontier", "consistency_proof", "consistency_ranges", "inclusion_proof",
        "inclusion_ranges", "leaf_hash", "node_hash", "nodes_for", "perfect_subtrees",
        "range_hash", "root_of", "verify_consistency", "verify_inclusion",
    }  # fmt: skip
