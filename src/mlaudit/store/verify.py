"""``verify``: recompute the ledger's chain, tree and signatures and name the first bad seq.

What is caught from the database alone: any edited, deleted, inserted or reordered event (the
chain and the stored tree no longer agree), a head that disagrees with the events, a damaged
tree node, a stored checkpoint whose root or signature does not match, and a public key
swapped in the database (the genesis event records the key id). What needs an exported
checkpoint: a truncated tail, or a ledger rewritten wholesale by someone holding the database
but not the signing key. See docs/ledger.md for the threat model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlaudit.store import merkle, signing
from mlaudit.store.checkpoints import Checkpoint
from mlaudit.store.ledger import GENESIS_PREV
from mlaudit.store.tables import ledger_checkpoints, ledger_head

__all__ = ["LedgerVerification", "verify"]

_LEAF = b"\x00"


@dataclass(frozen=True)
class LedgerVerification:
    """The outcome of ``ledger verify``; ``to_dict`` is the documented JSON shape."""

    ok: bool
    events: int
    first_bad_seq: int | None = None
    reason: str | None = None
    checkpoints_checked: int = 0
    root: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
            "checkpoints_checked": self.checkpoints_checked,
            "root": self.root,
            "notes": list(self.notes),
        }


class _Bad(Exception):
    def __init__(self, seq: int | None, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


@dataclass
class _Meta:
    workspace_id: str
    public_pem: str
    key_id: str


def verify(
    conn: Connection,
    *,
    meta: _Meta | Any,
    trusted_key_id: str | None = None,
    exported: Sequence[Checkpoint] = (),
    progress: Callable[[int], None] | None = None,
) -> LedgerVerification:
    """Verify the whole ledger in ``conn``'s database.

    ``meta`` carries ``workspace_id``, ``public_pem`` and ``key_id`` as stored;
    ``trusted_key_id`` is the id of the key held outside the database (when available);
    ``exported`` are checkpoints kept elsewhere.
    """
    count = 0
    checked = 0
    root: str | None = None
    notes: list[str] = []
    try:
        stored_cps = list(
            conn.execute(sa.select(ledger_checkpoints).order_by(ledger_checkpoints.c.tree_size))
        )
        wanted_sizes = {int(r.tree_size) for r in stored_cps} | {c.tree_size for c in exported}
        count, levels, roots, last_hash = _walk_chain(conn, wanted_sizes, progress)
        _check_genesis_and_key(conn, meta, trusted_key_id, notes)
        _check_head(conn, count, last_hash)
        _check_tree(conn, levels)
        root = roots.get(count) or _root_from_levels(levels, count).hex()
        public = signing.load_public_key(meta.public_pem)
        for r in stored_cps:
            cp = Checkpoint(meta.workspace_id, int(r.tree_size), r.root, r.ts, r.key_id, r.signature)
            _check_checkpoint(cp, count, roots, public, meta.key_id, "stored checkpoint")
            checked += 1
        for cp in exported:
            if cp.workspace_id != meta.workspace_id:
                raise _Bad(
                    None,
                    f"the exported checkpoint is from workspace {cp.workspace_id}, "
                    f"not this one ({meta.workspace_id}): wrong file, or the database was replaced",
                )
            if cp.key_id != meta.key_id:
                raise _Bad(0, "the exported checkpoint was signed by a different key than the workspace's")
            key = signing.load_public_key(cp.public_key) if cp.public_key else public
            if signing.key_id(key) != cp.key_id:
                raise _Bad(None, "the exported checkpoint's public key does not match its key id")
            _check_checkpoint(cp, count, roots, key, meta.key_id, "exported checkpoint")
            checked += 1
    except _Bad as bad:
        return LedgerVerification(False, count, bad.seq, bad.reason, checked, root, tuple(notes))
    return LedgerVerification(True, count, None, None, checked, root, tuple(notes))


def _walk_chain(
    conn: Connection, sizes: set[int], progress: Callable[[int], None] | None
) -> tuple[int, list[list[bytes]], dict[int, str], str]:
    """Recompute every event hash and the tree's levels; note roots at ``sizes``."""
    sha = hashlib.sha256
    dumps = orjson.dumps
    prev = GENESIS_PREV
    expected = 0
    frontier = merkle.Frontier()
    levels: list[list[bytes]] = [[]]
    roots: dict[int, str] = {}
    if 0 in sizes:
        roots[0] = merkle.EMPTY_ROOT.hex()
    result = conn.execution_options(stream_results=True, yield_per=20_000).exec_driver_sql(
        "SELECT seq, ts, actor, action, subject, payload, prev_hash, hash "
        "FROM ledger_events ORDER BY seq"
    )
    for seq, ts, actor, action, subject, payload, prev_hash, stored_hash in result:
        if seq != expected:
            raise _Bad(expected, f"event {expected} is missing (next stored is {seq}): deleted or renumbered")
        if prev_hash != prev:
            raise _Bad(
                seq,
                "prev_hash does not match the previous event's hash: events were removed, "
                "inserted or reordered here",
            )
        try:
            body = dumps([seq, ts, actor, action, subject])[:-1] + b"," + payload.encode() + b"]"
            digest = sha(bytes.fromhex(prev) + body).digest()
        except (TypeError, AttributeError, ValueError, UnicodeError):
            raise _Bad(seq, "malformed event: a field is not valid text") from None
        if digest.hex() != stored_hash:
            raise _Bad(seq, "hash mismatch: the event's ts, actor, action, subject or payload changed")
        prev = stored_hash
        for level, idx, value in frontier.append(sha(_LEAF + digest).digest()):
            while len(levels) <= level:
                levels.append([])
            lst = levels[level]
            if len(lst) != idx:
                raise _Bad(seq, "internal: tree levels out of step")
            lst.append(value)
        expected += 1
        if expected in sizes:
            roots[expected] = frontier.root().hex()
        if progress is not None and expected % 100_000 == 0:
            progress(expected)
    return expected, levels, roots, prev


def _check_genesis_and_key(conn: Connection, meta: Any, trusted_key_id: str | None, notes: list[str]) -> None:
    row = conn.exec_driver_sql(
        "SELECT action, payload FROM ledger_events WHERE seq = 0"
    ).one_or_none()
    if row is None:
        raise _Bad(0, "the genesis event (seq 0) is missing")
    if row[0] != "workspace.created":
        raise _Bad(0, f"seq 0 is {row[0]!r}, not the genesis event 'workspace.created'")
    genesis = orjson.loads(row[1])
    if genesis.get("workspace_id") != meta.workspace_id:
        raise _Bad(0, "the workspace id in the database differs from the one recorded at seq 0")
    try:
        public = signing.load_public_key(meta.public_pem)
    except Exception:
        raise _Bad(0, "the public key stored in the database is not a valid Ed25519 key") from None
    if signing.key_id(public) != meta.key_id or genesis.get("key_id") != meta.key_id:
        raise _Bad(0, "the public key in the database is not the one recorded at seq 0: it was replaced")
    if trusted_key_id is None:
        notes.append("signing key not available here: checked against the key recorded in the ledger")
    elif trusted_key_id != meta.key_id:
        raise _Bad(0, "the workspace's signing key does not match the public key recorded at seq 0")


def _check_head(conn: Connection, count: int, last_hash: str) -> None:
    row = conn.execute(sa.select(ledger_head.c.size, ledger_head.c.hash)).all()
    if len(row) != 1:
        raise _Bad(count, "the ledger head row is missing or duplicated")
    size, head_hash = int(row[0][0]), row[0][1]
    if size != count:
        first = min(size, count)
        raise _Bad(first, f"the ledger head says {size} events but {count} are stored: events were removed or added at the end")
    if head_hash != last_hash:
        raise _Bad(max(count - 1, 0), "the ledger head hash differs from the last event's hash")


def _check_tree(conn: Connection, levels: list[list[bytes]]) -> None:
    result = conn.execution_options(stream_results=True, yield_per=50_000).exec_driver_sql(
        "SELECT level, idx, hash FROM ledger_nodes ORDER BY level, idx"
    )
    it = iter(result)
    expected = ((lv, ix, h) for lv, lst in enumerate(levels) for ix, h in enumerate(lst))
    for want in expected:
        got = next(it, None)
        lv, ix, h = want
        if got is None or (int(got[0]), int(got[1])) != (lv, ix):
            raise _Bad(ix << lv, f"tree node (level {lv}, index {ix}) is missing or out of place")
        if bytes(got[2]) != h:
            raise _Bad(ix << lv, f"tree node (level {lv}, index {ix}) does not match the events")
    extra = next(it, None)
    if extra is not None:
        raise _Bad(
            int(extra[1]) << int(extra[0]),
            f"tree node (level {extra[0]}, index {extra[1]}) covers events that do not exist",
        )


def _root_from_levels(levels: list[list[bytes]], size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.range_hash(0, size, lambda level, idx: levels[level][idx])


def _check_checkpoint(
    cp: Checkpoint, count: int, roots: dict[int, str], key: Any, key_id: str, what: str
) -> None:
    if cp.key_id != key_id:
        raise _Bad(0, f"{what} at size {cp.tree_size} names key {cp.key_id[:12]}…, not the workspace's")
    if not signing.verify_signature(key, cp.message(), cp.signature):
        raise _Bad(
            max(cp.tree_size - 1, 0),
            f"{what} at size {cp.tree_size} has a bad signature (forged, edited, or the key was replaced)",
        )
    if cp.tree_size > count:
        raise _Bad(
            count,
            f"{what} covers {cp.tree_size} events but only {count} are stored: the ledger was truncated",
        )
    if roots.get(cp.tree_size) != cp.root:
        raise _Bad(
            max(cp.tree_size - 1, 0),
            f"{what} at size {cp.tree_size} has root {cp.root[:12]}…, but the events give "
            f"{(roots.get(cp.tree_size) or '?')[:12]}…: the ledger was rewritten",
        )
