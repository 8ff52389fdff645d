"""Dataset versions: fingerprints, idempotent logging, schema changes, PII tags, clean failures."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import mlaudit
from mlaudit.cli import main

TABLE = pa.table(
    {
        "customer_id": pa.array([1, 2, 3, 4], pa.int64()),
        "email": ["ada@example.org", "bob.smith@mail.example.com", "cy@example.net", "dee@corp.example"],
        "amount": [10.5, 20.0, None, 3.25],
        "city": ["Oslo", "Zürich", "Lima", "北京"],
    }
)


@pytest.fixture
def ws(tmp_path: Path):  # type: ignore[no-untyped-def]
    with mlaudit.open(tmp_path / "ws") as w:
        yield w


def test_same_content_same_version(ws: mlaudit.Workspace) -> None:
    first = ws.datasets.log("customers", TABLE)
    again = ws.datasets.log("customers", TABLE.to_pandas())
    assert first.created and not again.created
    assert again.version.id == first.version.id and again.version.fingerprint == first.version.fingerprint
    assert [v.number for v in ws.datasets.versions("customers")] == [1]
    assert first.to_dict()["fingerprint"].startswith("sha256:")
    assert {k: first.to_dict()[k] for k in ("dataset", "rows", "columns", "created")} == {
        "dataset": "customers", "rows": 4, "columns": 4, "created": True,
    }


def test_file_formats_give_one_version(ws: mlaudit.Workspace, tmp_path: Path) -> None:
    pacsv.write_csv(TABLE, tmp_path / "c.csv")
    pq.write_table(TABLE, tmp_path / "c.parquet")
    a = ws.datasets.log("customers", source=tmp_path / "c.parquet")
    b = ws.datasets.log("customers", source=str(tmp_path / "c.csv"))
    assert a.created and not b.created
    assert a.version.source is not None and a.version.source.endswith("c.parquet")


def test_row_order(ws: mlaudit.Workspace) -> None:
    shuffled = TABLE.take([3, 1, 0, 2])
    a = ws.datasets.log("ordered", TABLE)
    b = ws.datasets.log("ordered", shuffled)
    assert b.created and a.version.fingerprint != b.version.fingerprint
    c = ws.datasets.log("unordered", TABLE, unordered=True)
    d = ws.datasets.log("unordered", shuffled, unordered=True)
    assert c.created and not d.created


def test_schema_change_reported(ws: mlaudit.Workspace) -> None:
    ws.datasets.log("customers", TABLE)
    changed = TABLE.drop_columns(["city"]).append_column("segment", pa.array(["a", "b", "a", "c"]))
    changed = changed.set_column(0, "customer_id", pa.array(["1", "2", "3", "4"]))
    result = ws.datasets.log("customers", changed)
    assert result.created and result.version.number == 2
    assert result.schema_change == {
        "added": ["segment"],
        "removed": ["city"],
        "retyped": [{"column": "customer_id", "old": "int64", "new": "string"}],
    }
    event = ws.ledger.log(action="dataset.version_logged")[-1]
    assert event.data["schema_change"]["added"] == ["segment"]


def test_pii_tagged_never_in_ledger(ws: mlaudit.Workspace) -> None:
    result = ws.datasets.log("customers", TABLE)
    tags = {(f["column"], f["pii_type"]) for f in result.version.pii}
    assert ("email", "email") in tags
    everything = b"".join(e.payload.encode() for e in ws.ledger.log())
    for raw in TABLE.column("email").to_pylist():
        assert raw.encode() not in everything
    assert ws.ledger.verify().ok


def test_profile_is_kept(ws: mlaudit.Workspace) -> None:
    version = ws.datasets.log("customers", TABLE).version
    prof = ws.datasets.profile(version)
    assert prof.rows == 4 and prof.column("amount").nulls == 1


def test_get_by_reference(ws: mlaudit.Workspace) -> None:
    v1 = ws.datasets.log("customers", TABLE).version
    v2 = ws.datasets.log("customers", TABLE.slice(0, 2)).version
    assert ws.datasets.get("customers").id == v2.id
    assert ws.datasets.get("customers@v1").id == v1.id
    assert ws.datasets.get(f"customers@{v2.id}").number == 2
    with pytest.raises(mlaudit.NotFound):
        ws.datasets.get("customers@v9")


def test_sql_source_password_stripped(ws: mlaudit.Workspace, tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, total REAL)")
        conn.executemany("INSERT INTO orders VALUES (?, ?)", [(1, 9.5), (2, 12.0)])
    result = ws.datasets.log("orders", source=f"sqlite:///{db}", table="orders")
    assert result.version.rows == 2 and result.version.query == "table orders"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "log", "x", "{tmp}/missing.csv"], "missing.csv"),
        (["data", "log", "x", "{tmp}/empty.csv"], "empty"),
        (["data", "log", "bad name!", "{tmp}/ok.csv"], "not a usable dataset name"),
        (["data", "log", "x", "postgresql+psycopg://u:hunter2@127.0.0.1:1/db", "--table", "t"], "127.0.0.1"),
    ],
)
def test_bad_input_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    pacsv.write_csv(TABLE, tmp_path / "ok.csv")
    ws_dir = str(tmp_path / "ws")
    assert main(["init", ws_dir]) == 0
    capsys.readouterr()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args] + ["-w", ws_dir]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "hunter2" not in err
    with mlaudit.open(ws_dir, create=False) as w:
        assert w.datasets.names() == []
        assert [e.action for e in w.ledger.log()] == ["workspace.created"]


def test_cli_log_versions_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pacsv.write_csv(TABLE, tmp_path / "c.csv")
    ws_dir = str(tmp_path / "ws")
    assert main(["init", ws_dir]) == 0
    capsys.readouterr()
    assert main(["data", "log", "customers", str(tmp_path / "c.csv"), "-w", ws_dir, "--json"]) == 0
    logged = orjson.loads(capsys.readouterr().out)
    assert logged["created"] is True and logged["version"] == 1
    assert main(["data", "log", "customers", str(tmp_path / "c.csv"), "-w", ws_dir, "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["created"] is False
    assert main(["data", "versions", "customers", "-w", ws_dir, "--json"]) == 0
    assert [v["number"] for v in orjson.loads(capsys.readouterr().out)] == [1]
    assert main(["data", "show", "customers@v1", "-w", ws_dir]) == 0
    assert "customers@v1" in capsys.readouterr().out
