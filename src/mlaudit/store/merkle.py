"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and verification; pure, no I/O.

Leaf hash ``SHA-256(0x00 || entry)``, node hash ``SHA-256(0x01 || left || right)``, empty tree
``SHA-256(b"")``. The tree over ``n`` leaves splits at ``k``, the largest power of two below
``n`` (RFC 9162 §2.1.1).

Storage model: the ledger keeps the hash of every *perfect, aligned* subtree. Node
``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 holds
leaf hashes. Every subtree that appears in the RFC's recursion is a run of at most
``log2(n) + 1`` such nodes (:func:`perfect_subtrees`), so a proof needs ``O(log n)`` stored
nodes and never a rehash of the tree. Functions that read nodes take a callable
``node(level, index) -> hash``; :func:`nodes_for` lists the keys up front so the caller can
fetch them in one query and pass ``lambda level, index: fetched[level, index]``.

>>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
>>> frontier = Frontier()
>>> stored = {(lvl, idx): h for lvl, idx, h in frontier.extend(leaves)}
>>> frontier.root() == root_of(leaves)
True
>>> proof = inclusion_proof(3, 5, lambda lvl, idx: stored[lvl, idx])
>>> verify_inclusion(leaves[3], 3, 5, proof, frontier.root())
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from hashlib import sha256

__all__ = [
    "EMPTY_ROOT",
    "Frontier",
    "consistency_proof",
    "consistency_ranges",
    "inclusion_proof",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "nodes_for",
    "perfect_subtrees",
    "range_hash",
    "root_of",
    "verify_consistency",
    "verify_inclusion",
]

NodeReader = Callable[[int, int], bytes]

HASH_SIZE = 32
EMPTY_ROOT: bytes = sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """``SHA-256(0x00 || entry)``: the hash of one log entry."""
    return sha256(_LEAF + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    return sha256(_NODE + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a whole tree given its leaf hashes, level by level (no recursion).

    Pairing neighbours and carrying a lone last node up unchanged builds exactly the RFC's
    left-perfect tree. ``root_of([]) == EMPTY_ROOT``.
    """
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        odd = level[-1:] if len(level) % 2 else []
        pairs = zip(level[0:-1:2], level[1::2], strict=True)
        level = [sha256(_NODE + a + b).digest() for a, b in pairs] + odd
    return level[0]


def _check_count(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, not {value!r}")


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The aligned perfect subtrees ``(level, index)`` making up leaves ``[start, end)``.

    Largest first, as the RFC's split decomposes the range: a perfect left part, then the
    rest. Valid ranges are those that occur in the RFC recursion: ``start`` is a multiple of
    the smallest power of two ``>= end - start``. The empty range gives ``[]``.

    >>> perfect_subtrees(0, 7)
    [(2, 0), (1, 2), (0, 6)]
    >>> perfect_subtrees(8, 11)
    [(1, 4), (0, 10)]
    """
    _check_count("start", start)
    _check_count("end", end)
    n = end - start
    if n < 0:
        raise ValueError(f"range [{start}, {end}) is reversed")
    if n and start % (1 << (n - 1).bit_length()):
        raise ValueError(
            f"[{start}, {end}) is not a subtree of the RFC 6962 tree: start must be a multiple "
            f"of {1 << (n - 1).bit_length()}"
        )
    out: list[tuple[int, int]] = []
    for level in range(n.bit_length() - 1, -1, -1):
        if n >> level & 1:
            out.append((level, start >> level))
            start += 1 << level
    return out


def _fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a run of perfect subtrees, largest first: ``H(h0, H(h1, ... H(hk-1, hk)))``."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = sha256(_NODE + h + acc).digest()
    return acc


def _read(node: NodeReader, level: int, index: int) -> bytes:
    h = node(level, index)
    if not isinstance(h, bytes | bytearray | memoryview) or len(h) != HASH_SIZE:
        raise ValueError(f"node({level}, {index}) returned {h!r}, not a {HASH_SIZE}-byte hash")
    return bytes(h)


def range_hash(start: int, end: int, node: NodeReader) -> bytes:
    """MTH of leaves ``[start, end)`` from stored perfect-subtree hashes ``node(level, index)``.

    Reads at most ``log2(end - start) + 1`` nodes; ``[start, end)`` must be a range accepted
    by :func:`perfect_subtrees`.
    """
    return _fold([_read(node, lvl, idx) for lvl, idx in perfect_subtrees(start, end)])


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs form the audit path of leaf ``index`` in a tree of ``size``.

    RFC 9162 §2.1.3.1 ``PATH(m, D[n])``, bottom-up. Raises ``ValueError`` unless
    ``0 <= index < size``.

    >>> inclusion_ranges(5, 7)
    [(4, 5), (6, 7), (0, 4)]
    """
    _check_count("index", index)
    _check_count("size", size)
    if index >= size:
        raise ValueError(f"index {index} is not below tree size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            out.append((mid, hi))
            hi = mid
        else:
            out.append((lo, mid))
            lo = mid
    out.reverse()
    return out


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs form the consistency proof from ``old_size`` to ``new_size``.

    RFC 9162 §2.1.4.1 ``PROOF(m, D[n])``. Empty when ``old_size`` is 0 or equals
    ``new_size``. Raises ``ValueError`` unless ``0 <= old_size <= new_size``.

    >>> consistency_ranges(3, 7)
    [(2, 3), (3, 4), (0, 2), (4, 7)]
    """
    _check_count("old_size", old_size)
    _check_count("new_size", new_size)
    if old_size > new_size:
        raise ValueError(f"old_size {old_size} is larger than new_size {new_size}")
    if old_size in (0, new_size):
        return []
    out: list[tuple[int, int]] = []
    lo, hi, whole_old_tree = 0, new_size, True
    while old_size != hi:
        mid = lo + _split(hi - lo)
        if old_size <= mid:
            out.append((mid, hi))
            hi = mid
        else:
            out.append((lo, mid))
            lo, whole_old_tree = mid, False
    if not whole_old_tree:
        out.append((lo, hi))
    out.reverse()
    return out


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Every stored node ``(level, index)`` needed to hash the given leaf ranges.

    >>> sorted(nodes_for(inclusion_ranges(0, 7)))
    [(0, 1), (0, 6), (1, 1), (1, 2)]
    """
    return {key for start, end in ranges for key in perfect_subtrees(start, end)}


def inclusion_proof(index: int, size: int, node: NodeReader) -> list[bytes]:
    """The RFC 9162 audit path of leaf ``index`` in the tree of ``size``, from stored nodes."""
    return [range_hash(s, e, node) for s, e in inclusion_ranges(index, size)]


def consistency_proof(old_size: int, new_size: int, node: NodeReader) -> list[bytes]:
    """The RFC 9162 consistency proof between two tree sizes, from stored nodes."""
    return [range_hash(s, e, node) for s, e in consistency_ranges(old_size, new_size)]


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes | bytearray | memoryview) and len(value) == HASH_SIZE


def _bad_leaf(leaf: object) -> bytes:
    raise ValueError(f"leaf must be a {HASH_SIZE}-byte leaf hash, not {leaf!r}")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _hashes(proof: object) -> list[bytes] | None:
    """The proof as a list of 32-byte ``bytes``, or ``None`` if it is not one."""
    if isinstance(proof, str | bytes | bytearray | memoryview):
        return None
    try:
        items = list(proof)  # type: ignore[call-overload]
    except TypeError:
        return None
    if not all(_is_hash(p) for p in items):
        return None
    return [bytes(p) for p in items]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree of ``size``/``root``.

    RFC 9162 §2.1.3.2. Never raises: malformed input (wrong types, hash lengths, proof
    length, ``index >= size``, ``size == 0``) gives ``False``.
    """
    path = _hashes(proof)
    if path is None or not (_is_hash(leaf) and _is_hash(root)):
        return False
    if not (_is_count(index) and _is_count(size)) or index >= size:
        return False
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha256(_NODE + p + r).digest()
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = sha256(_NODE + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == bytes(root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree ``old_size``/``old_root`` is a prefix of the new one.

    RFC 9162 §2.1.4.2, plus the cases the RFC leaves out: equal sizes need an empty proof
    and equal roots; ``old_size == 0`` needs an empty proof and ``old_root == EMPTY_ROOT``.
    Never raises: malformed input gives ``False``.
    """
    path = _hashes(proof)
    if path is None or not (_is_hash(old_root) and _is_hash(new_root)):
        return False
    if not (_is_count(old_size) and _is_count(new_size)) or old_size > new_size:
        return False
    old_root, new_root = bytes(old_root), bytes(new_root)
    if old_size == 0:
        return not path and old_root == EMPTY_ROOT and (new_size > 0 or new_root == EMPTY_ROOT)
    if old_size == new_size:
        return not path and old_root == new_root
    if not path:
        return False
    if old_size & (old_size - 1) == 0:
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = sha256(_NODE + c + fr).digest()
            sr = sha256(_NODE + c + sr).digest()
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = sha256(_NODE + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class Frontier:
    """The right edge of the tree: appends leaves and yields the nodes to store.

    It holds one perfect-subtree hash per set bit of ``size``.

    ``Frontier(size, hashes)`` takes the hashes of ``perfect_subtrees(0, size)``, largest
    first; :meth:`load` reads them from stored nodes.

    >>> f = Frontier()
    >>> [(lvl, idx) for lvl, idx, _ in f.extend([leaf_hash(b"a"), leaf_hash(b"b")])]
    [(0, 0), (0, 1), (1, 0)]
    """

    size: int

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        _check_count("size", size)
        items = list(hashes)
        if len(items) != size.bit_count():
            raise ValueError(
                f"a tree of size {size} has {size.bit_count()} perfect subtrees, "
                f"got {len(items)} hashes"
            )
        if not all(_is_hash(h) for h in items):
            raise ValueError(f"frontier hashes must be {HASH_SIZE}-byte hashes")
        self.size = size
        self._hashes = [bytes(h) for h in items]

    @classmethod
    def load(cls, size: int, node: NodeReader) -> Frontier:
        """Rebuild the frontier of a tree of ``size`` from its stored nodes."""
        return cls(size, [_read(node, lvl, idx) for lvl, idx in perfect_subtrees(0, size)])

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; return the new ``(level, index, hash)`` nodes to store.

        The leaf itself comes first, then each parent it completes, bottom-up.
        """
        if not _is_hash(leaf):
            raise ValueError(f"leaf must be a {HASH_SIZE}-byte leaf hash, not {leaf!r}")
        h = bytes(leaf)
        index, level = self.size, 0
        new = [(0, index, h)]
        while index & 1:
            h = sha256(_NODE + self._hashes.pop() + h).digest()
            index >>= 1
            level += 1
            new.append((level, index, h))
        self._hashes.append(h)
        self.size += 1
        return new

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        """Append leaf hashes in order; return all new nodes to store (``append`` in a loop,
        with the bookkeeping hoisted out of it: this is the ledger's bulk-append path)."""
        items = [bytes(leaf) if _is_hash(leaf) else _bad_leaf(leaf) for leaf in leaves]
        new: list[tuple[int, int, bytes]] = []
        add = new.append
        stack = self._hashes
        pop, push = stack.pop, stack.append
        size = self.size
        for h in items:
            index, level = size, 0
            add((0, index, h))
            while index & 1:
                h = sha256(_NODE + pop() + h).digest()
                index >>= 1
                level += 1
                add((level, index, h))
            push(h)
            size += 1
        self.size = size
        return new

    def root(self) -> bytes:
        """MTH of the tree at its current size (``EMPTY_ROOT`` when empty)."""
        return _fold(self._hashes)

    def __repr__(self) -> str:
        return f"Frontier(size={self.size})"
