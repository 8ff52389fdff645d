"""Tampering with a stored ledger is caught by `verify`, which names the first bad seq.

Each case runs on SQLite and on the real PostgreSQL server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import mlaudit
from mlaudit.store import ledger as store_ledger
from mlaudit.store import signing


def _ws(target: dict[str, str]) -> mlaudit.Workspace:
    return mlaudit.open(
        target["target"], signing_key=target.get("signing_key"), artifacts=target.get("artifacts")
    )


@pytest.fixture
def filled(workspace_target: dict[str, str]) -> Any:
    ws = _ws(workspace_target)
    ws.ledger.record_batch(
        [
            ("model.registered", f"model:m{i}", {"i": i, "name": f"m{i}", "note": "ünïcode"})
            for i in range(1, 12)
        ]
    )
    assert ws.ledger.size() == 12
    assert ws.ledger.verify().ok
    yield ws
    ws.close()


def _sql(ws: mlaudit.Workspace, statement: str, **params: Any) -> None:
    with ws.store.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def _row(ws: mlaudit.Workspace, seq: int) -> dict[str, Any]:
    with ws.store.engine.connect() as conn:
        return dict(
            conn.execute(sa.text("SELECT * FROM ledger_events WHERE seq = :s"), {"s": seq})
            .mappings()
            .one()
        )


def test_untouched_ledger_verifies(filled: mlaudit.Workspace) -> None:
    result = filled.ledger.verify()
    assert result.ok and result.events == 12 and result.first_bad_seq is None


def test_edited_payload(filled: mlaudit.Workspace) -> None:
    _sql(
        filled,
        "UPDATE ledger_events SET payload = :p WHERE seq = 5",
        p='{"i":999,"name":"m4","note":"ünïcode"}',
    )
    result = filled.ledger.verify()
    assert not result.ok and result.first_bad_seq == 5
    assert "hash mismatch" in (result.reason or "")


def test_edited_timestamp(filled: mlaudit.Workspace) -> None:
    _sql(filled, "UPDATE ledger_events SET ts = '2020-01-01T00:00:00.000000Z' WHERE seq = 3")
    result = filled.ledger.verify()
    assert not result.ok and result.first_bad_seq == 3


def test_deleted_middle_event(filled: mlaudit.Workspace) -> None:
    _sql(filled, "DELETE FROM ledger_events WHERE seq = 6")
    result = filled.ledger.verify()
    assert not result.ok and result.first_bad_seq == 6
    assert "missing" in (result.reason or "")


def test_inserted_event(filled: mlaudit.Workspace) -> None:
    """A forged event slipped in at seq 4 (later events renumbered) breaks the chain at seq 5."""
    prev = _row(filled, 3)["hash"]
    _sql(filled, "UPDATE ledger_events SET seq = seq + 1000 WHERE seq >= 4")
    _sql(filled, "UPDATE ledger_events SET seq = seq - 999 WHERE seq >= 1000")
    ts, payload = "2026-01-01T00:00:00.000000Z", '{"forged":true}'
    forged = store_ledger.event_hash(prev, 4, ts, "mallory", "model.approved", "model:m1", payload)
    _sql(
        filled,
        "INSERT INTO ledger_events (seq, ts, actor, action, subject, payload, prev_hash, hash) "
        "VALUES (4, :ts, 'mallory', 'model.approved', 'model:m1', :p, :prev, :h)",
        ts=ts,
        p=payload,
        prev=prev,
        h=forged,
    )
    result = filled.ledger.verify()
    assert not result.ok and result.first_bad_seq == 5


def test_two_swapped_events(filled: mlaudit.Workspace) -> None:
    _sql(filled, "UPDATE ledger_events SET seq = -1 WHERE seq = 7")
    _sql(filled, "UPDATE ledger_events SET seq = 7 WHERE seq = 8")
    _sql(filled, "UPDATE ledger_events SET seq = 8 WHERE seq = -1")
    result = filled.ledger.verify()
    assert not result.ok and result.first_bad_seq == 7


def test_truncated_tail_caught_by_exported_checkpoint(
    filled: mlaudit.Workspace, tmp_path: Path
) -> None:
    exported = tmp_path / "cp.json"
    filled.ledger.checkpoint(exported)
    # A careful attacker removes the last three events, their tree nodes, the stored
    # checkpoint, and rewinds the head: the database alone is consistent again.
    keep = 9
    last = _row(filled, keep - 1)["hash"]
    _sql(filled, "DELETE FROM ledger_events WHERE seq >= :k", k=keep)
    _sql(filled, "DELETE FROM ledger_checkpoints")
    with filled.store.engine.begin() as conn:
        rows = conn.execute(sa.text("SELECT level, idx FROM ledger_nodes")).all()
        for level, idx in rows:
            if (idx + 1) << level > keep:
                conn.execute(
                    sa.text("DELETE FROM ledger_nodes WHERE level = :l AND idx = :i"),
                    {"l": level, "i": idx},
                )
        conn.execute(sa.text("UPDATE ledger_head SET size = :k, hash = :h"), {"k": keep, "h": last})
    assert filled.ledger.verify().ok  # from the database alone this cannot be seen
    result = filled.ledger.verify([exported])
    assert not result.ok and result.first_bad_seq == keep
    assert "truncated" in (result.reason or "")


def test_replaced_public_key(filled: mlaudit.Workspace, tmp_path: Path) -> None:
    other = signing.generate_key(tmp_path / "other.pem")
    pem = signing.public_pem(other.public_key())
    _sql(filled, "UPDATE workspace_meta SET value = :v WHERE key = 'public_key'", v=pem)
    _sql(
        filled,
        "UPDATE workspace_meta SET value = :v WHERE key = 'key_id'",
        v=signing.key_id(other.public_key()),
    )
    reopened = mlaudit.open(
        filled.store.location.url
        if filled.store.location.folder is None
        else filled.store.location.folder,
        signing_key=filled.store.location.key_path,
        artifacts=filled.store.location.artifacts,
    )
    try:
        result = reopened.ledger.verify()
    finally:
        reopened.close()
    assert not result.ok and result.first_bad_seq == 0
    assert "replaced" in (result.reason or "")


def test_checkpoint_signature_forged(filled: mlaudit.Workspace) -> None:
    cp = filled.ledger.checkpoint()
    _sql(filled, "UPDATE ledger_checkpoints SET root = :r", r="0" * 64)
    result = filled.ledger.verify()
    assert not result.ok and result.first_bad_seq == cp.tree_size - 1
    assert "signature" in (result.reason or "")


def test_damaged_tree_node(filled: mlaudit.Workspace) -> None:
    filled.ledger.record_batch([("note.added", f"n{i}", {"i": i}) for i in range(60)])  # 72 events
    _sql(filled, "UPDATE ledger_nodes SET hash = :h WHERE level = 4 AND idx = 2", h=b"\x01" * 32)
    result = filled.ledger.verify()
    assert not result.ok and result.first_bad_seq == 32  # the first event that node covers


def test_forged_low_tree_node(filled: mlaudit.Workspace) -> None:
    _sql(filled, "INSERT INTO ledger_nodes (level, idx, hash) VALUES (1, 2, :h)", h=b"\x01" * 32)
    result = filled.ledger.verify()
    assert not result.ok and "should not be stored" in (result.reason or "")
