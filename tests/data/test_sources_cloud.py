"""Sources on object storage, against local emulators: S3 (moto), Azure Blob (Azurite), GCS (fake-gcs-server).

Each test gets a fresh bucket/container; endpoints and credentials come from the standard
environment variables set by the fixtures in ``conftest.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from mlaudit.data import Fingerprinter, fingerprint, read, read_batches
from mlaudit.errors import InputError, exit_code

FORMATS = ["csv", "parquet", "jsonl"]
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
Bucket = Emulator = Any  # the fixtures' types live in conftest.py


def check_round_trip(bucket: Bucket, table: pa.Table, encode: Any) -> None:
    expected = fingerprint(table)
    for fmt in FORMATS:
        uri = bucket.put(f"data/t.{fmt}", encode(table, fmt))
        options = {"schema": table.schema} if fmt == "jsonl" else {}
        assert fingerprint(read(uri, **options)) == expected, uri
        streamed = Fingerprinter().update_all(read_batches(uri, batch_rows=4, **options))
        assert streamed.hexdigest() == expected, uri


def check_glob(bucket: Bucket, table: pa.Table, encode: Any) -> None:
    bucket.put("parts/part-0.csv", encode(table.slice(0, 2), "csv"))
    bucket.put("parts/part-1.csv", encode(table.slice(2), "csv"))
    bucket.put("parts/other.csv", encode(pa.table({"z": [1]}), "csv"))
    assert fingerprint(read(bucket.uri("parts/part-*.csv"))) == fingerprint(table)


def check_missing(bucket: Bucket) -> None:
    for uri in (bucket.uri("nope.parquet"), f"{bucket.scheme}://no-such-bucket-x1/k.csv"):
        with pytest.raises(InputError, match=r"no such object|cannot") as err:
            read(uri)
        assert uri in str(err.value) and exit_code(err.value) == 2
    with pytest.raises(InputError, match="no file matches"):
        read(bucket.uri("nope-*.csv"))


def check_empty_and_ragged(bucket: Bucket) -> None:
    uri = bucket.put("empty.csv", b"")
    with pytest.raises(InputError, match="empty") as err:
        read(uri)
    assert err.value.path == uri
    uri = bucket.put("ragged.csv", b"a,b\n1,2\n3\n")
    with pytest.raises(InputError, match="ragged row") as err:
        read(uri)
    assert err.value.row == 3


def test_s3_round_trip(s3_bucket: Bucket, full: pa.Table, encode: Any) -> None:
    check_round_trip(s3_bucket, full, encode)
    check_glob(s3_bucket, full, encode)


def test_s3_bad_input(s3_bucket: Bucket) -> None:
    check_missing(s3_bucket)
    check_empty_and_ragged(s3_bucket)
    assert "moto-secret-never-shown" not in repr(read(s3_bucket.put("x.csv", b"a\n1\n")).schema)


def test_s3_explicit_options(s3_bucket: Bucket, moto_s3: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    uri = s3_bucket.put("x.csv", b"a\n1\n")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    got = read(uri, endpoint_override=f"127.0.0.1:{moto_s3.port}", scheme="http")
    assert got.to_pydict() == {"a": [1]}
    assert read(uri, endpoint_override=moto_s3.endpoint).to_pydict() == {"a": [1]}
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    in_url = f"s3://testing:moto-secret-never-shown@{s3_bucket.name}/x.csv"
    assert read(in_url, endpoint_override=moto_s3.endpoint).to_pydict() == {"a": [1]}
    with pytest.raises(InputError) as err:
        read(in_url.replace("x.csv", "nope.csv"), endpoint_override=moto_s3.endpoint)
    assert "moto-secret-never-shown" not in str(err.value)
    assert err.value.path == f"s3://{s3_bucket.name}/nope.csv"


def test_azure_round_trip(azure_container: Bucket, full: pa.Table, encode: Any) -> None:
    check_round_trip(azure_container, full, encode)
    check_glob(azure_container, full, encode)


def test_azure_abfs_url_and_account_key_variables(
    azure_container: Bucket,
    azurite: Emulator,
    portable: pa.Table,
    encode: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    azure_container.put("t.parquet", encode(portable, "parquet"))
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY)
    monkeypatch.setenv("AZURE_STORAGE_ENDPOINT", f"{azurite.endpoint}/devstoreaccount1")
    uri = f"abfs://{azure_container.name}@devstoreaccount1.dfs.core.windows.net/t.parquet"
    assert fingerprint(read(uri)) == fingerprint(portable)
    monkeypatch.delenv("AZURE_STORAGE_ACCOUNT_NAME")
    with pytest.raises(InputError, match="storage account"):
        read(azure_container.uri("t.parquet"))


def test_azure_bad_input(azure_container: Bucket) -> None:
    check_missing(azure_container)
    check_empty_and_ragged(azure_container)


def test_gcs_round_trip(gcs_bucket: Bucket, full: pa.Table, encode: Any) -> None:
    check_round_trip(gcs_bucket, full, encode)
    check_glob(gcs_bucket, full, encode)


def test_gcs_bad_input(gcs_bucket: Bucket) -> None:
    check_missing(gcs_bucket)
    check_empty_and_ragged(gcs_bucket)


@pytest.mark.postgres
def test_every_source_gives_one_fingerprint(
    s3_bucket: Any,
    azure_container: Any,
    gcs_bucket: Any,
    pg_database: str,
    mariadb_url: str,
    write_sql: Any,
    portable: pa.Table,
    encode: Any,
    tmp_path: Path,
) -> None:
    """The issue's round trip: one table through every kind of source, one fingerprint."""
    expected = fingerprint(portable)
    (tmp_path / "t.csv").write_bytes(encode(portable, "csv"))
    (tmp_path / "t.parquet").write_bytes(encode(portable, "parquet"))
    (tmp_path / "t.jsonl").write_bytes(encode(portable, "jsonl"))
    sqlite = f"sqlite:///{tmp_path / 't.db'}"
    for url in (sqlite, pg_database, mariadb_url):
        write_sql(url, "t", portable)
    sources: list[tuple[str, dict[str, Any]]] = [
        (str(tmp_path / "t.csv"), {}),
        (str(tmp_path / "t.parquet"), {}),
        (str(tmp_path / "t.jsonl"), {"schema": portable.schema}),
        (s3_bucket.put("t.parquet", encode(portable, "parquet")), {}),
        (s3_bucket.put("t.csv", encode(portable, "csv")), {}),
        (azure_container.put("t.parquet", encode(portable, "parquet")), {}),
        (azure_container.put("t.csv", encode(portable, "csv")), {}),
        (gcs_bucket.put("t.parquet", encode(portable, "parquet")), {}),
        (gcs_bucket.put("t.jsonl", encode(portable, "jsonl")), {"schema": portable.schema}),
        (sqlite, {"table": "t"}),
        (pg_database, {"table": "t"}),
        (pg_database, {"query": "SELECT * FROM t ORDER BY id DESC"}),
        (mariadb_url, {"table": "t"}),
        (mariadb_url, {"query": "SELECT id, amount, name, day, ts FROM t"}),
    ]
    for source, options in sources:
        unordered = "DESC" in options.get("query", "")
        got = fingerprint(read(source, **options), unordered=unordered)
        assert got == fingerprint(portable, unordered=unordered), (source, options)
        if not unordered:
            assert got == expected
