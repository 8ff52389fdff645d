"""Property: any single-byte change to any stored event is detected by verify."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlaudit
from mlaudit.store.verify import verify

COLUMNS = ["seq", "ts", "actor", "action", "subject", "payload", "prev_hash", "hash"]
N_EVENTS = 16
_ROOT: dict[str, Path] = {}


def _workspace(root: Path) -> mlaudit.Workspace:
    ws = mlaudit.open(root / "ws")
    if ws.ledger.size() == 1:
        ws.ledger.record_batch(
            [
                ("data.logged", f"dataset:d{i}", {"rows": i * 10, "tags": ["a", "é"]})
                for i in range(1, N_EVENTS)
            ]
        )
    return ws


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seq=st.integers(0, N_EVENTS - 1),
    column=st.sampled_from(COLUMNS),
    position=st.integers(0, 10_000),
    replacement=st.integers(32, 126),
)
def test_any_single_byte_edit_is_detected(
    tmp_path_factory, seq: int, column: str, position: int, replacement: int
) -> None:
    if "root" not in _ROOT:
        _ROOT["root"] = tmp_path_factory.mktemp("prop")
    ws = _workspace(_ROOT["root"])
    try:
        with ws.store.engine.connect() as conn:
            trans = conn.begin()
            value = conn.execute(
                sa.text(f"SELECT {column} FROM ledger_events WHERE seq = :s"), {"s": seq}
            ).scalar_one()
            if column == "seq":
                new_value: object = N_EVENTS + (position % 50)  # an unused seq
                conn.execute(
                    sa.text("UPDATE ledger_events SET seq = :n WHERE seq = :s"),
                    {"n": new_value, "s": seq},
                )
            else:
                raw = bytearray(value.encode("utf-8"))
                i = position % len(raw)
                if raw[i] == replacement:
                    replacement = replacement + 1 if replacement < 126 else 32
                raw[i] = replacement
                try:
                    new_value = raw.decode("utf-8")
                except UnicodeDecodeError:  # an edit inside a multi-byte character: store raw bytes
                    new_value = bytes(raw)
                conn.execute(
                    sa.text(f"UPDATE ledger_events SET {column} = :v WHERE seq = :s"),
                    {"v": new_value, "s": seq},
                )
            result = verify(conn, meta=ws.store.meta, trusted_key_id=ws.store.trusted_key_id())
            trans.rollback()
        assert not result.ok, (seq, column, position)
        assert result.first_bad_seq is not None and result.first_bad_seq <= max(seq, 0) + 1
    finally:
        ws.close()
