"""The audit ledger: an append-only, hash-chained record of every change in a workspace.

Each event is ``(seq, ts, actor, action, subject, payload, prev_hash, hash)`` with
``hash = SHA-256(prev_hash ‖ canonical(seq, ts, actor, action, subject, payload))``, where
``canonical`` is the UTF-8 JSON array ``[seq,"ts","actor","action","subject",payload]`` with no
whitespace and ``payload`` itself canonical JSON (sorted keys, no whitespace). Event hashes are
also the leaves of an RFC 6962 Merkle tree whose perfect subtrees of 16 or more events are
stored (``ledger_nodes``), so inclusion and consistency proofs cost O(log n) reads; signed
checkpoints over that tree live in ``store/checkpoints.py``.

There is one write path: :func:`append` runs inside the caller's transaction, so a change and
its event commit together or not at all. Writers serialise on the ``ledger_head`` row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlaudit.errors import InputError, IntegrityError
from mlaudit.store import merkle
from mlaudit.store.tables import ledger_events, ledger_head, ledger_nodes

__all__ = [
    "GENESIS_PREV",
    "STORED_FROM_LEVEL",
    "Event",
    "append",
    "canonical_payload",
    "event_hash",
    "events",
    "head",
    "init_head",
    "load_nodes",
    "utc_now",
]

GENESIS_PREV = "0" * 64


@dataclass(frozen=True)
class Event:
    """One ledger event as stored."""

    seq: int
    ts: str
    actor: str
    action: str
    subject: str
    payload: str
    prev_hash: str
    hash: str

    @property
    def data(self) -> Any:
        """The payload parsed from its canonical JSON text."""
        return orjson.loads(self.payload)

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "payload": self.data,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def utc_now() -> str:
    """Current UTC time as ISO 8601 with microseconds and a ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_payload(payload: Mapping[str, Any]) -> str:
    """Canonical JSON text of ``payload``: sorted keys, no whitespace, UTF-8, no NaN."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError as exc:
        raise InputError(f"ledger payload is not JSON-serialisable: {exc}") from exc


def event_bytes(seq: int, ts: str, actor: str, action: str, subject: str, payload: str) -> bytes:
    head_part = orjson.dumps([seq, ts, actor, action, subject])
    return head_part[:-1] + b"," + payload.encode("utf-8") + b"]"


def event_hash(
    prev_hash: str, seq: int, ts: str, actor: str, action: str, subject: str, payload: str
) -> str:
    """The chain hash of one event (hex)."""
    digest = hashlib.sha256(bytes.fromhex(prev_hash))
    digest.update(event_bytes(seq, ts, actor, action, subject, payload))
    return digest.hexdigest()


def init_head(conn: Connection) -> None:
    """Create the head row of an empty ledger (inside the workspace-creating transaction)."""
    conn.execute(sa.insert(ledger_head).values(id=1, size=0, hash=GENESIS_PREV))


def head(conn: Connection, *, lock: bool = False) -> tuple[int, str]:
    """``(size, last_hash)`` of the ledger; ``lock`` holds the head row until commit."""
    query = sa.select(ledger_head.c.size, ledger_head.c.hash).where(ledger_head.c.id == 1)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).one_or_none()
    if row is None:
        raise IntegrityError("the ledger head row is missing", seq=0)
    return int(row.size), str(row.hash)


STORED_FROM_LEVEL = 4
"""Tree nodes below this level (subtrees of fewer than 16 events) are not stored: they are
recomputed from at most 16 event hashes when a proof needs them. That keeps the node table
at n/8 rows instead of 2n while a proof still reads O(log n) rows."""


def load_nodes(conn: Connection, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """``{(level, idx): hash}`` for ``wanted`` tree nodes: stored ones read in as few queries
    as possible, low ones recomputed from the event hashes they cover."""
    found: dict[tuple[int, int], bytes] = {}
    by_level: dict[int, list[int]] = {}
    low: list[tuple[int, int]] = []
    for level, idx in wanted:
        if level < STORED_FROM_LEVEL:
            low.append((level, idx))
        else:
            by_level.setdefault(level, []).append(idx)
    # One (level = L AND idx IN ...) term per level: both SQLite and PostgreSQL answer each
    # term from the primary key, where a row-value IN would scan the table.
    terms = [
        sa.and_(ledger_nodes.c.level == level, ledger_nodes.c.idx.in_(sorted(idxs)))
        for level, idxs in sorted(by_level.items())
    ]
    for start in range(0, len(terms), 64):
        query = sa.select(ledger_nodes.c.level, ledger_nodes.c.idx, ledger_nodes.c.hash).where(
            sa.or_(*terms[start : start + 64])
        )
        for level, idx, value in conn.execute(query):
            found[(int(level), int(idx))] = bytes(value)
    if low:
        found.update(_low_nodes(conn, low))
    return found


def _low_nodes(conn: Connection, wanted: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Recompute unstored low nodes from the hashes of the events they cover."""
    seqs: set[int] = set()
    for level, idx in wanted:
        seqs.update(range(idx << level, (idx + 1) << level))
    leaves: dict[int, bytes] = {}
    ordered = sorted(seqs)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        rows = conn.execute(
            sa.select(ledger_events.c.seq, ledger_events.c.hash).where(ledger_events.c.seq.in_(chunk))
        )
        for seq, value in rows:
            try:
                leaves[int(seq)] = merkle.leaf_hash(bytes.fromhex(value))
            except (TypeError, ValueError):
                continue  # a damaged hash: reported as missing below, and by verify
    out: dict[tuple[int, int], bytes] = {}
    for level, idx in wanted:
        first, width = idx << level, 1 << level
        if all(first + i in leaves for i in range(width)):
            out[(level, idx)] = merkle.root_of([leaves[first + i] for i in range(width)])
    return out


def _frontier(conn: Connection, size: int) -> merkle.Frontier:
    wanted = set(merkle.perfect_subtrees(0, size)) if size else set()
    nodes = load_nodes(conn, wanted)
    missing = wanted - nodes.keys()
    if missing:
        level, idx = min(missing)
        raise IntegrityError(
            f"ledger tree node (level {level}, index {idx}) is missing",
            seq=idx << level,
            hint="run `mlaudit ledger verify` to see what else is damaged",
        )
    return merkle.Frontier.load(size, lambda level, idx: nodes[(level, idx)])


def append(
    conn: Connection,
    entries: Sequence[tuple[str, str, str, Mapping[str, Any]]],
    *,
    ts: str | None = None,
) -> list[Event]:
    """Append ``(actor, action, subject, payload)`` entries in the caller's transaction.

    Locks the head row first, so concurrent writers on PostgreSQL queue up and the chain stays
    one gap-free chain; on SQLite the caller's ``BEGIN IMMEDIATE`` gives the same guarantee.
    """
    if not entries:
        return []
    size, prev = head(conn, lock=True)
    when = ts or utc_now()
    frontier = _frontier(conn, size)
    sha = hashlib.sha256
    dumps = orjson.dumps
    prev_bytes = bytes.fromhex(prev)
    made: list[Event] = []
    leaves: list[bytes] = []
    for offset, (actor, action, subject, payload) in enumerate(entries):
        _check_field("actor", actor)
        _check_field("action", action)
        text = canonical_payload(payload)
        seq = size + offset
        body = dumps([seq, when, actor, action, subject])[:-1] + b"," + text.encode("utf-8") + b"]"
        digest = sha(prev_bytes + body).digest()
        hexdigest = digest.hex()
        made.append(Event(seq, when, actor, action, subject, text, prev, hexdigest))
        leaves.append(sha(b"\x00" + digest).digest())
        prev, prev_bytes = hexdigest, digest
    new_nodes = frontier.extend(leaves)
    _insert_rows(
        conn,
        "ledger_events",
        _EVENT_COLUMNS,
        [(e.seq, e.ts, e.actor, e.action, e.subject, e.payload, e.prev_hash, e.hash) for e in made],
    )
    _insert_rows(
        conn, "ledger_nodes", ("level", "idx", "hash"), [n for n in new_nodes if n[0] >= STORED_FROM_LEVEL]
    )
    conn.execute(
        sa.update(ledger_head)
        .where(ledger_head.c.id == 1)
        .values(size=size + len(made), hash=made[-1].hash)
    )
    return made


_EVENT_COLUMNS = ("seq", "ts", "actor", "action", "subject", "payload", "prev_hash", "hash")


def _insert_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Bulk insert straight through the driver: COPY on PostgreSQL, executemany on SQLite.

    SQLAlchemy's per-row parameter processing would cost more than hashing and writing
    together (measured in bench/ledger.py).
    """
    if not rows:
        return
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql" and len(rows) > 8:
        raw: Any = conn.connection.dbapi_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({names}) VALUES ({', '.join([mark] * len(columns))})", list(rows)
    )


def _check_field(name: str, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise InputError(f"ledger event {name} must be a non-empty string, not {value!r}")


def events(
    conn: Connection,
    *,
    start: int = 0,
    stop: int | None = None,
    action: str | None = None,
    subject: str | None = None,
    actor: str | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> Iterator[Event]:
    """Stored events in ``[start, stop)``, filtered; ``action`` ending in ``.`` or ``*`` matches a prefix."""
    query = sa.select(ledger_events).where(ledger_events.c.seq >= start)
    if stop is not None:
        query = query.where(ledger_events.c.seq < stop)
    if action:
        if action.endswith(("*", ".")):
            query = query.where(ledger_events.c.action.startswith(action.rstrip("*")))
        else:
            query = query.where(ledger_events.c.action == action)
    if subject:
        query = query.where(ledger_events.c.subject == subject)
    if actor:
        query = query.where(ledger_events.c.actor == actor)
    query = query.order_by(ledger_events.c.seq.desc() if newest_first else ledger_events.c.seq)
    if limit is not None:
        query = query.limit(limit)
    for row in conn.execute(query):
        yield Event(
            int(row.seq),
            row.ts,
            row.actor,
            row.action,
            row.subject,
            row.payload,
            row.prev_hash,
            row.hash,
        )
