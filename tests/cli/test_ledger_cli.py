"""The ledger commands as a user runs them: JSON shapes and exit codes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

import mlaudit
from mlaudit.cli import main


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    return orjson.loads(capsys.readouterr().out)


def test_init_verify_checkpoint_prove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws_dir = str(tmp_path / "ws")
    assert main(["init", ws_dir, "--json"]) == 0
    info = _json(capsys)
    assert isinstance(info, dict) and info["events"] == 1
    with mlaudit.open(ws_dir) as ws:
        ws.ledger.record_batch([("note.added", f"n{i}", {"i": i}) for i in range(40)])
    cp_file = tmp_path / "cp.json"
    assert main(["ledger", "checkpoint", "-w", ws_dir, "--export", str(cp_file), "--json"]) == 0
    cp = _json(capsys)
    assert isinstance(cp, dict) and cp["tree_size"] == 41
    assert main(["ledger", "verify", "-w", ws_dir, "-c", str(cp_file), "--json"]) == 0
    report = _json(capsys)
    assert isinstance(report, dict)
    root = report.pop("root")
    assert report == {
        "ok": True,
        "events": 42,
        "first_bad_seq": None,
        "reason": None,
        "checkpoints_checked": 2,
        "notes": [],
    }
    assert main(["ledger", "prove", "17", "-w", ws_dir, "--json"]) == 0
    proof = _json(capsys)
    assert isinstance(proof, dict) and proof["verified"] is True and proof["root"] == root
    with mlaudit.open(ws_dir) as ws:
        ws.ledger.record("note.added", "later", {})
    assert main(["ledger", "consistency", str(cp_file), "-w", ws_dir, "--json"]) == 0
    cons = _json(capsys)
    assert isinstance(cons, dict) and cons["verified"] and cons["old_root"] == cp["root"]
    assert main(["ledger", "log", "-w", ws_dir, "--limit", "2", "--json"]) == 0
    log = _json(capsys)
    assert isinstance(log, list) and [e["seq"] for e in log] == [42, 41]


def test_verify_exit_3_names_first_bad_seq(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws_dir = str(tmp_path / "ws")
    with mlaudit.open(ws_dir) as ws:
        ws.ledger.record_batch([("note.added", f"n{i}", {"i": i}) for i in range(9)])
        with ws.store.engine.begin() as conn:
            conn.execute(sa.text("UPDATE ledger_events SET actor = 'mallory' WHERE seq = 4"))
    assert main(["ledger", "verify", "-w", ws_dir]) == 3
    text = capsys.readouterr().out
    assert "does NOT verify" in text and "first bad seq 4" in text


def test_rewritten_ledger_detected_by_exported_checkpoint(tmp_path: Path) -> None:
    """An attacker with the database (not the key) rebuilds a whole new chain: only the export sees it."""
    ws_dir = tmp_path / "ws"
    with mlaudit.open(ws_dir) as ws:
        ws.ledger.record_batch([("note.added", f"n{i}", {"i": i}) for i in range(5)])
        ws.ledger.checkpoint(tmp_path / "cp.json")
    # rebuild: a fresh chain with one event changed, on the same workspace id and key
    with mlaudit.open(ws_dir) as ws:
        events = ws.ledger.log()
        with ws.store.write("mallory") as tx:
            for t in ("ledger_events", "ledger_nodes", "ledger_checkpoints"):
                tx.conn.execute(sa.text(f"DELETE FROM {t}"))
            tx.conn.execute(sa.text("UPDATE ledger_head SET size = 0, hash = :h"), {"h": "0" * 64})
            from mlaudit.store import ledger as low

            low.append(
                tx.conn,
                [(e.actor, e.action, e.subject, e.data) for e in events[:1]],
                ts=events[0].ts,
            )
            for e in events[1:]:
                data = e.data | ({"i": 99} if e.seq == 3 else {})
                low.append(tx.conn, [(e.actor, e.action, e.subject, data)], ts=e.ts)
        assert ws.ledger.verify().ok  # self-consistent from the database alone
        result = ws.ledger.verify([tmp_path / "cp.json"])
        assert not result.ok and "rewritten" in (result.reason or "")
