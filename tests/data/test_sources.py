"""Sources on local files and real databases (SQLite, PostgreSQL, MariaDB): round trips and bad input.

The same table written to CSV, TSV, Parquet, JSON Lines, SQLite, PostgreSQL and MariaDB reads back
with the same fingerprint. The ``portable`` table holds only types every source keeps; the
``full`` one adds a NaN and a boolean, which MariaDB (no boolean, no NaN) and SQLite (NaN
becomes NULL) do not keep.
"""

from __future__ import annotations

import gzip
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa

from mlaudit.data import Fingerprinter, SourceInfo, describe, fingerprint, read, read_batches, source_info
from mlaudit.errors import InputError, exit_code

PASSWORD = "Hunter2-never-shown"
WriteSql = Callable[[str, str, pa.Table], None]


def streamed(source: str | Path, batch_rows: int = 2, **kw: Any) -> str:
    return Fingerprinter().update_all(read_batches(source, batch_rows=batch_rows, **kw)).hexdigest()


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "tsv", "parquet", "jsonl"])
@pytest.mark.parametrize("which", ["portable", "full"])
def test_file_round_trip_keeps_the_fingerprint(
    fmt: str, which: str, request: pytest.FixtureRequest, encode: Any, tmp_path: Path
) -> None:
    table = request.getfixturevalue(which)
    path = tmp_path / f"t.{fmt}"
    path.write_bytes(encode(table, fmt))
    options = {"schema": table.schema} if fmt == "jsonl" else {}  # JSON has no date type
    got = read(path, **options)
    assert got.num_rows == table.num_rows
    assert fingerprint(got) == fingerprint(table)
    assert streamed(path, **options) == fingerprint(table)


def test_compressed_csv_and_file_url(portable: pa.Table, encode: Any, tmp_path: Path) -> None:
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(encode(portable, "csv")))
    assert fingerprint(read(path)) == fingerprint(portable)
    assert fingerprint(read(f"file://{path}")) == fingerprint(portable)


def test_csv_nan_null_and_empty_string_stay_apart(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('x,s\nNaN,""\n,\n1.5,a\n')
    got = read(path).to_pydict()
    assert str(got["x"][0]) == "nan" and got["x"][1] is None
    assert got["s"] == ["", None, "a"]


def test_glob_reads_every_part_in_name_order(portable: pa.Table, encode: Any, tmp_path: Path) -> None:
    (tmp_path / "part-1.parquet").write_bytes(encode(portable.slice(0, 3), "parquet"))
    (tmp_path / "part-2.parquet").write_bytes(encode(portable.slice(3), "parquet"))
    (tmp_path / "other.parquet").write_bytes(encode(pa.table({"z": [1]}), "parquet"))
    assert fingerprint(read(tmp_path / "part-*.parquet")) == fingerprint(portable)
    assert streamed(str(tmp_path / "part-?.parquet"), batch_rows=4) == fingerprint(portable)
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "x.parquet").write_bytes(encode(portable, "parquet"))
    assert read(str(tmp_path / "**" / "x.parquet")).num_rows == portable.num_rows


def test_glob_with_an_odd_file_names_it(portable: pa.Table, encode: Any, tmp_path: Path) -> None:
    (tmp_path / "p1.csv").write_bytes(encode(portable, "csv"))
    (tmp_path / "p2.csv").write_bytes(
        encode(portable.rename_columns(["id", "amt", "name", "day", "ts"]), "csv")
    )
    with pytest.raises(InputError, match="differ") as err:
        read(tmp_path / "p*.csv")
    assert err.value.path is not None and err.value.path.endswith("p2.csv")
    assert "amt" in str(err.value)
    with pytest.raises(InputError, match="differ"):
        list(read_batches(tmp_path / "p*.csv"))


def test_read_batches_gives_full_batches(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n" + "".join(f"{i}\n" for i in range(1000)))
    sizes = [b.num_rows for b in read_batches(path, batch_rows=300)]
    assert sizes == [300, 300, 300, 100]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_file_without_rows_still_has_its_columns(fmt: str, encode: Any, tmp_path: Path) -> None:
    empty = pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string())})
    path = tmp_path / f"t.{fmt}"
    path.write_bytes(encode(empty, fmt))
    batches = list(read_batches(path))
    assert [b.num_rows for b in batches] == [0]
    assert batches[0].schema.names == read(path).column_names == ["a", "b"]
    assert streamed(path) == fingerprint(read(path))


def test_jsonl_without_records(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("\n")
    for reader in (read, lambda p: list(read_batches(p))):
        with pytest.raises(InputError, match="no JSON records"):
            reader(path)


def test_columns_option(portable: pa.Table, encode: Any, tmp_path: Path) -> None:
    for fmt in ("csv", "parquet", "jsonl"):
        path = tmp_path / f"t.{fmt}"
        path.write_bytes(encode(portable, fmt))
        assert read(path, columns=["name", "id"]).column_names == ["name", "id"]


def test_sqlite_table_round_trip(full: pa.Table, tmp_path: Path, write_sql: WriteSql) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    nan_free = full.set_column(1, "amount", pa.array([10.5, None, None, 1e-3, 123456.789, 0.0]))
    write_sql(url, "t", nan_free)  # SQLite stores NaN as NULL
    got = read(url, table="t")
    assert got.schema.field("flag").type == pa.bool_()
    assert fingerprint(got) == fingerprint(nan_free)
    assert streamed(url, table="t") == fingerprint(nan_free)
    # a query has no declared types: dates stay text, booleans are integers
    by_query = read(url, query="SELECT id, name FROM t WHERE id > 1 ORDER BY id")
    assert by_query.to_pydict()["id"] == [2, 3, 4, 5]


@pytest.mark.postgres
def test_postgres_round_trip(pg_database: str, full: pa.Table, write_sql: WriteSql) -> None:
    write_sql(pg_database, "t", full)
    assert fingerprint(read(pg_database, table="t")) == fingerprint(full)
    assert fingerprint(read(pg_database, query='SELECT * FROM "t" ORDER BY id')) == fingerprint(
        full.sort_by("id")
    )
    assert streamed(pg_database, table="t") == fingerprint(full)
    assert streamed(pg_database, query="SELECT * FROM t WHERE name LIKE '%' OR name IS NULL") == fingerprint(
        full
    )


@pytest.mark.postgres
def test_postgres_types(pg_database: str) -> None:
    engine = sa.create_engine(pg_database)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE k (n numeric(10,2), i int, s smallint, t timestamptz, u uuid, j jsonb)"
        )
        conn.exec_driver_sql(
            "INSERT INTO k VALUES (1.25, 7, 1, '2024-01-01 12:00+02', gen_random_uuid(), '{\"a\": 1}')"
        )
    engine.dispose()
    for got in (read(pg_database, table="k"), read(pg_database, query="SELECT * FROM k")):
        assert got.schema.types[:4] == [pa.float64(), pa.int64(), pa.int64(), pa.timestamp("us", tz="UTC")]
        row = got.to_pylist()[0]
        assert row["n"] == 1.25 and row["t"].hour == 10
        assert len(row["u"]) == 36 and '"a": 1' in row["j"]


@pytest.mark.postgres
def test_postgres_empty_result_keeps_types(pg_database: str, portable: pa.Table, write_sql: WriteSql) -> None:
    write_sql(pg_database, "t", portable)
    got = read(pg_database, query="SELECT id, day FROM t WHERE false")
    assert got.num_rows == 0 and got.schema.types == [pa.int64(), pa.date32()]


def test_mariadb_round_trip(mariadb_url: str, portable: pa.Table, write_sql: WriteSql) -> None:
    write_sql(mariadb_url, "t", portable)
    assert fingerprint(read(mariadb_url, table="t")) == fingerprint(portable)
    assert fingerprint(read(mariadb_url, query="SELECT * FROM t ORDER BY id")) == fingerprint(
        portable.sort_by("id")
    )
    assert streamed(mariadb_url, table="t") == fingerprint(portable)


def test_mariadb_has_no_boolean(mariadb_url: str, full: pa.Table, write_sql: WriteSql) -> None:
    nan_free = full.set_column(1, "amount", pa.array([10.5, None, None, 1e-3, 123456.789, 0.0]))
    write_sql(mariadb_url, "t", nan_free)
    got = read(mariadb_url, table="t")
    assert got.schema.field("flag").type == pa.int64()  # TINYINT(1)
    assert fingerprint(got) != fingerprint(nan_free)
    assert fingerprint(got.drop_columns(["flag"])) == fingerprint(nan_free.drop_columns(["flag"]))


# --- describe and source_info ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("postgresql+psycopg://ann:s3cr3t@db:5432/sales", "postgresql+psycopg://ann:***@db:5432/sales"),
        (
            "mysql+pymysql://root:s3cr3t@h/db?charset=utf8mb4&password=s3cr3t",
            "mysql+pymysql://root:***@h/db?charset=utf8mb4",
        ),
        ("s3://key:s3cr3t@bucket/x.csv", "s3://key:***@bucket/x.csv"),
        ("az://c/x.parquet?sv=2024&sig=s3cr3t&se=2030", "az://c/x.parquet?sv=2024&se=2030"),
        ("gs://b/x.csv?access_token=s3cr3t", "gs://b/x.csv"),
        ("data/AccountKey=s3cr3t;x.csv", "data/x.csv"),
        ("data/train.csv", "data/train.csv"),
    ],
)
def test_describe_hides_secrets(source: str, shown: str) -> None:
    assert describe(source) == shown
    assert "s3cr3t" not in describe(source)


def test_source_info() -> None:
    assert source_info("data/*.parquet") == SourceInfo("data/*.parquet", "file", "parquet")
    info = source_info("sqlite:///x.db", query="SELECT 1")
    assert (info.kind, info.format, info.query) == ("sql", "sql", "SELECT 1")
    assert source_info("abfs://c@acct.dfs.core.windows.net/a.jsonl").kind == "azure"
    assert source_info("s3://b/k", format="csv").to_dict()["format"] == "csv"
    with pytest.raises(InputError, match="exactly one of"):
        source_info("sqlite:///x.db")
    with pytest.raises(InputError, match="exactly one of"):
        source_info("sqlite:///x.db", query="SELECT 1", table="t")
    with pytest.raises(InputError, match="for database URLs"):
        source_info("x.csv", table="t")
    with pytest.raises(InputError, match="file format"):
        source_info("s3://b/noext")
    with pytest.raises(InputError, match="HTTP"):
        source_info("https://example.org/x.csv")


# --- bad input -------------------------------------------------------------------------------------


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty") as err:
        read(path)
    assert err.value.path == str(path) and exit_code(err.value) == 2
    with pytest.raises(InputError, match="empty"):
        list(read_batches(path))


def test_ragged_csv_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n6,7\n")
    for reader in (read, lambda p: list(read_batches(p))):
        with pytest.raises(InputError, match="ragged row: expected 2 columns, got 3") as err:
            reader(path)
        assert err.value.row == 3 and err.value.path == str(path)


def test_missing_file_no_match_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="no file matches"):
        read(tmp_path / "nope-*.csv")
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(InputError, match="folder"):
        read(tmp_path / "d.csv")


def test_unknown_option_and_bad_batch_size(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown option 'delimeter'"):
        read(tmp_path / "x.csv", delimeter=";")
    with pytest.raises(InputError, match="unknown option"):
        read("sqlite:///x.db", table="t", endpoint_override="x")
    with pytest.raises(InputError, match="batch_rows"):
        read_batches(tmp_path / "x.csv", batch_rows=0)


def test_csv_type_change_after_the_first_block_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a\n" + "1\n" * 600_000 + "x\n")
    assert read(path).column("a").type == pa.string()  # the whole-file reader revises its guess
    with pytest.raises(InputError, match="schema="):
        list(read_batches(path))
    assert next(read_batches(path, schema=pa.schema({"a": pa.string()}))).num_rows == 65_536


def test_sqlite_errors(tmp_path: Path, full: pa.Table, write_sql: WriteSql) -> None:
    with pytest.raises(InputError, match="no such SQLite database file"):
        read(f"sqlite:///{tmp_path / 'missing.db'}", table="t")
    url = f"sqlite:///{tmp_path / 'x.db'}"
    write_sql(url, "t", full.drop_columns(["amount"]))
    with pytest.raises(InputError, match="no table 'nope' in sqlite:///") as err:
        read(url, table="nope")
    assert "tables there: t" in str(err.value)
    with pytest.raises(InputError, match=r"query failed on sqlite:///.*syntax error"):
        read(url, query="SELEC 1")
    with pytest.raises(InputError, match=r"query failed.*readonly|query failed.*query_only"):
        read(url, query="DELETE FROM t RETURNING id")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "mysql+pymysql"])
def test_unreachable_database(scheme: str) -> None:
    url = f"{scheme}://ann:{PASSWORD}@127.0.0.1:{_free_port()}/db"
    with pytest.raises(InputError, match=re.escape(f"cannot connect to {scheme}://ann:***@127.0.0.1")) as err:
        read(url, query="SELECT 1")
    assert PASSWORD not in str(err.value) and exit_code(err.value) == 2
    assert err.value.__cause__ is None and err.value.__suppress_context__


@pytest.mark.postgres
def test_postgres_wrong_credentials_and_errors(
    pg_database: str, portable: pa.Table, write_sql: WriteSql
) -> None:
    role = f"mlaudit_r_{uuid.uuid4().hex[:8]}"
    bad = pg_database.replace("postgres@", f"{role}:{PASSWORD}@")
    with pytest.raises(InputError, match=f"cannot connect to .*{role}:\\*\\*\\*@") as err:
        read(bad, table="t")
    assert PASSWORD not in str(err.value)
    write_sql(pg_database, "t", portable)
    with pytest.raises(InputError, match=r"query failed on .*syntax error"):
        read(pg_database, query="SELEC 1")
    with pytest.raises(InputError, match=r'query failed on .*"nope" does not exist'):
        read(pg_database, query="SELECT * FROM nope")
    with pytest.raises(InputError, match="no table 'nope' in postgresql"):
        read(pg_database, table="nope")
    with pytest.raises(InputError, match="query failed"):  # only a SELECT can feed a server-side cursor
        read(pg_database, query="DELETE FROM t RETURNING id")
    assert read(pg_database, table="t").num_rows == portable.num_rows


def test_mariadb_wrong_password_and_errors(mariadb_url: str, portable: pa.Table, write_sql: WriteSql) -> None:
    bad = mariadb_url.replace("root@", f"root:{PASSWORD}@")
    with pytest.raises(InputError, match=r"cannot connect to .*root:\*\*\*@.*Access denied") as err:
        read(bad, table="t")
    assert PASSWORD not in str(err.value)
    write_sql(mariadb_url, "t", portable)
    with pytest.raises(InputError, match=r"query failed on .*syntax"):
        read(mariadb_url, query="SELEC 1")
    with pytest.raises(InputError, match=r"query failed on .*nope"):
        read(mariadb_url, query="SELECT * FROM nope")
    with pytest.raises(InputError, match="no table 'nope' in mysql"):
        read(mariadb_url, table="nope")
    with pytest.raises(InputError, match="READ ONLY"):
        read(mariadb_url, query="DROP TABLE t")
    assert read(mariadb_url, table="t").num_rows == portable.num_rows
