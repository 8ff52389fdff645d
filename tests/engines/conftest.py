"""The shared Spark session for the engine tests: one ``local[2]`` session per test run.

Without pyspark or Java the Spark tests are skipped, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

import pytest


def _missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'mlaudit[spark]')"
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        return "Java is not installed (Spark needs a JDK 17+)"
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """A local[2] Spark session (UI off, 4 shuffle partitions, UTC), stopped at the end."""
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs Spark: {reason}")
        pytest.skip(reason)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("mlaudit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def nasty_table(n: int = 21_000, seed: int = 0) -> Any:
    """Nulls, NaN, ±inf, unicode categories, an all-null column, 10,500 distinct categories,
    naive and UTC timestamps, dates, booleans, long text."""
    import datetime as dt

    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[::97] = np.nan
    x[::501] = np.inf
    x[::703] = -np.inf
    xs = pa.array(x, mask=np.arange(n) % 11 == 0)
    cats = ["a", "é", "日本", "", "Ünïcode ☃", "b"]
    start = dt.datetime(2024, 1, 1)
    seconds = rng.integers(0, 10**7, n)
    return pa.table({
        "x": xs,
        "i": pa.array(rng.integers(-50, 100, n), mask=np.arange(n) % 13 == 0),
        "c": pa.array([None if v == 6 else cats[v] for v in rng.integers(0, 7, n)]),
        "big": pa.array([f"k{v}" for v in rng.permutation(np.arange(n) % 10_500)]),
        "empty": pa.nulls(n, pa.float64()),
        "ts": pa.array([start + dt.timedelta(seconds=int(s)) for s in seconds], pa.timestamp("us")),
        "tz": pa.array([start + dt.timedelta(seconds=int(s), microseconds=7) for s in seconds],
                       pa.timestamp("us", tz="UTC")),
        "d": pa.array([(start + dt.timedelta(days=int(s) % 400)).date() for s in seconds]),
        "b": pa.array([None if v == 2 else bool(v) for v in rng.integers(0, 3, n)]),
        "text": pa.array([f"a fairly long sentence of free text number {v} about things" for v in range(n)]),
    })  # fmt: skip


@pytest.fixture(scope="session")
def nasty_parquet(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(path, table): the nasty table written to one Parquet file (several row groups)."""
    import pyarrow.parquet as pq

    table = nasty_table()
    path = tmp_path_factory.mktemp("spark") / "nasty.parquet"
    pq.write_table(table, path, row_group_size=6_000)
    return path, pq.read_table(path)
