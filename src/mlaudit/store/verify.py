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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlaudit.store import merkle, signing
from mlaudit.store.checkpoints import Checkpoint
from mlaudit.store.ledger import GENESIS_PREV, STORED_FROM_LEVEL
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
            cp = Checkpoint(
                meta.workspace_id, int(r.tree_size), r.root, r.ts, r.key_id, r.signature
            )
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
                raise _Bad(
                    0, "the exported checkpoint was signed by a different key than the workspace's"
                )
            key = signing.load_public_key(cp.public_key) if cp.public_key else public
            if signing.key_id(key) != cp.key_id:
                raise _Bad(None, "the exported checkpoint's public key does not match its key id")
            _check_checkpoint(cp, count, roots, key, meta.key_id, "exported checkpoint")
            checked += 1
    except _Bad as bad:
        # when the chain itself broke, the events before the bad one are the ones that verified
        read = count if count else (bad.seq or 0)
        return LedgerVerification(False, read, bad.seq, bad.reason, checked, root, tuple(notes))
    return LedgerVerification(True, count, None, None, checked, root, tuple(notes))


def _rows(conn: Connection, sql: str, batch: int = 50_000) -> Iterator[Sequence[Any]]:
    """Stream rows straight from the driver (a server-side cursor on PostgreSQL)."""
    raw: Any = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT 1")  # make sure a transaction is open for the named cursor
        cursor = raw.cursor(name=f"mlaudit_verify_{id(sql)}")
        cursor.itersize = batch
    else:
        cursor = raw.cursor()
    try:
        cursor.execute(sql)
        while True:
            chunk = cursor.fetchmany(batch)
            if not chunk:
                return
            yield from chunk
    finally:
        cursor.close()


def _walk_chain(
    conn: Connection, sizes: set[int], progress: Callable[[int], None] | None
) -> tuple[int, list[list[bytes]], dict[int, str], str]:
    """Recompute every event hash, then the tree's levels; note the roots at ``sizes``."""
    sha = hashlib.sha256
    dumps = orjson.dumps
    prev_hex = GENESIS_PREV
    prev = bytes(32)
    leaves: list[bytes] = []
    expected = 0
    rows = _rows(
        conn,
        "SELECT seq, ts, actor, action, subject, payload, prev_hash, hash "
        "FROM ledger_events ORDER BY seq",
    )
    for seq, ts, actor, action, subject, payload, prev_hash, stored_hash in rows:
        if seq != expected:
            raise _Bad(
                expected,
                f"event {expected} is missing (next stored is {seq}): deleted or renumbered",
            )
        if prev_hash != prev_hex:
            raise _Bad(
                seq,
                "prev_hash does not match the previous event's hash: events were removed, "
                "inserted or reordered here",
            )
        try:
            body = dumps([seq, ts, actor, action, subject])[:-1] + b"," + payload.encode() + b"]"
        except (TypeError, AttributeError, ValueError, UnicodeError):
            raise _Bad(seq, "malformed event: a field is not valid text") from None
        digest = sha(prev + body).digest()
        if digest.hex() != stored_hash:
            raise _Bad(
                seq, "hash mismatch: the event's ts, actor, action, subject or payload changed"
            )
        leaves.append(sha(_LEAF + digest).digest())
        prev, prev_hex = digest, stored_hash
        expected += 1
        if progress is not None and expected % 100_000 == 0:
            progress(expected)
    levels = _levels(leaves)
    roots = {size: _root_from_levels(levels, size).hex() for size in sizes if size <= expected}
    return expected, levels, roots, prev_hex


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every perfect-subtree hash, level by level (level 0 = the leaves)."""
    sha = hashlib.sha256
    levels = [leaves]
    current = leaves
    while len(current) > 1:
        current = [
            sha(b"\x01" + left + right).digest()
            for left, right in zip(current[0::2], current[1::2], strict=False)
        ]
        levels.append(current)
    return levels


def _check_genesis_and_key(
    conn: Connection, meta: Any, trusted_key_id: str | None, notes: list[str]
) -> None:
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
        raise _Bad(
            0, "the public key in the database is not the one recorded at seq 0: it was replaced"
        )
    if trusted_key_id is None:
        notes.append(
            "signing key not available here: checked against the key recorded in the ledger"
        )
    elif trusted_key_id != meta.key_id:
        raise _Bad(0, "the workspace's signing key does not match the public key recorded at seq 0")


def _check_head(conn: Connection, count: int, last_hash: str) -> None:
    row = conn.execute(sa.select(ledger_head.c.size, ledger_head.c.hash)).all()
    if len(row) != 1:
        raise _Bad(count, "the ledger head row is missing or duplicated")
    size, head_hash = int(row[0][0]), row[0][1]
    if size != count:
        first = min(size, count)
        raise _Bad(
            first,
            f"the ledger head says {size} events but {count} are stored: "
            "events were removed or added at the end",
        )
    if head_hash != last_hash:
        raise _Bad(max(count - 1, 0), "the ledger head hash differs from the last event's hash")


def _check_tree(conn: Connection, levels: list[list[bytes]]) -> None:
    """Compare the stored tree, level by level, with the one recomputed from the events."""
    counts: dict[Any, Any] = dict(
        conn.exec_driver_sql("SELECT level, COUNT(*) FROM ledger_nodes GROUP BY level").all()
    )
    for level in sorted(int(k) for k in counts):
        if level < STORED_FROM_LEVEL:
            raise _Bad(0, f"tree level {level} should not be stored; the node table was tampered with")
        if level >= len(levels) or counts[level] > len(levels[level]):
            width = len(levels[level]) if level < len(levels) else 0
            raise _Bad(
                width << level, f"tree level {level} holds nodes for events that do not exist"
            )
    for level, expected in enumerate(levels):
        if not expected or level < STORED_FROM_LEVEL:
            continue
        stored = [
            (int(idx), bytes(value))
            for idx, value in _rows(
                conn, f"SELECT idx, hash FROM ledger_nodes WHERE level = {level} ORDER BY idx"
            )
        ]
        if (
            len(stored) == len(expected)
            and stored[-1][0] == len(expected) - 1
            and b"".join(v for _, v in stored) == b"".join(expected)
        ):
            continue
        for ix, want in enumerate(expected):  # slow path: find the first bad node
            got = stored[ix] if ix < len(stored) else None
            if got is None or got[0] != ix:
                raise _Bad(
                    ix << level, f"tree node (level {level}, index {ix}) is missing or out of place"
                )
            if got[1] != want:
                raise _Bad(
                    ix << level, f"tree node (level {level}, index {ix}) does not match the events"
                )


def _root_from_levels(levels: list[list[bytes]], size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.range_hash(0, size, lambda level, idx: levels[level][idx])


def _check_checkpoint(
    cp: Checkpoint, count: int, roots: dict[int, str], key: Any, key_id: str, what: str
) -> None:
    if cp.key_id != key_id:
        raise _Bad(
            0, f"{what} at size {cp.tree_size} names key {cp.key_id[:12]}…, not the workspace's"
        )
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
