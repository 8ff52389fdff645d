"""The streaming engine: profiles of sources read in batches equal the in-memory profiles."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlaudit.checks import load_rules, run_rules
from mlaudit.cli import main
from mlaudit.data.sources import read
from mlaudit.engines.streaming import drift_source, profile_batches, profile_source, source_rows
from mlaudit.errors import InputError
from mlaudit.stats.drift import DriftDetector
from mlaudit.stats.profile import EXACT_ITEMS_CAP, ColumnProfile, Profile, profile


def assert_same(streamed: Profile, whole: Profile) -> None:
    """Counts, min/max, histograms and item counts exactly; moments to float rounding;
    sketches within their error."""
    assert streamed.rows == whole.rows
    assert list(streamed.columns) == list(whole.columns)
    for name, a in streamed.columns.items():
        b = whole.columns[name]
        _same_column(a, b)


def _same_column(a: ColumnProfile, b: ColumnProfile) -> None:
    exact = ("kind", "count", "nulls", "nan", "inf", "valid", "min", "max", "value_counts", "histogram")
    for key in exact:
        assert getattr(a, key) == getattr(b, key), (a.name, key)
    if b.mean is None:
        assert a.mean is None
    else:
        # float rounding, relative to the magnitude of the values (Chan's merge vs one pass)
        size = max(1.0, abs(b.min or 0.0), abs(b.max or 0.0))
        assert abs(a.mean - b.mean) <= 1e-12 * size
        assert abs(a.m2 - b.m2) <= 1e-10 * max(1.0, b.m2, b.valid * size * size * 1e-6)
    if b.quantile_sketch is not None and not b.quantile_sketch.is_empty():
        assert a.quantile_sketch is not None
        eps = b.quantile_sketch.normalized_rank_error(False) + a.quantile_sketch.normalized_rank_error(False)
        values = np.sort(np.array(b.quantile_sketch.get_quantiles([i / 20 for i in range(21)])))
        for v in values:  # ranks of the same value agree within both sketches' error
            assert abs(a.quantile_sketch.get_rank(v) - b.quantile_sketch.get_rank(v)) <= eps
    ea, eb = a.distinct_estimate(), b.distinct_estimate()
    assert ea == pytest.approx(eb, rel=0.05)
    if b.value_counts is None and b.items_sketch is not None:
        assert a.items_sketch is not None
        assert a.items_sketch.total_weight == b.items_sketch.total_weight


def nasty_table(n: int = 3000, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[::17] = np.nan
    x[5::29] = np.inf
    x[7::31] = -np.inf
    start = dt.datetime(2024, 1, 1)
    return pa.table(
        {
            "x": pa.array(x, mask=np.arange(n) % 13 == 0),
            "const": np.full(n, 3.5),
            "allnull": pa.nulls(n, pa.float64()),
            "when": [
                start + dt.timedelta(hours=int(h)) if h % 11 else None for h in rng.integers(0, 9000, n)
            ],
            "flag": pa.array(rng.random(n) < 0.3, mask=np.arange(n) % 10 == 0),
            "cat": [["α", "β", "", "δ", None][i % 5] for i in range(n)],
            "text": [f"free text number {i} " * (1 + i % 4) for i in range(n)],
            "n": rng.integers(-5, 5, n),
        }
    )


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_batches_equal_in_memory(size: int) -> None:
    table = nasty_table(300 if size == 1 else 3000)
    streamed = profile_batches(lambda: iter(table.to_batches(max_chunksize=size)), one_pass_rows=0)
    assert_same(streamed, profile(table))


def test_two_passes_over_more_than_the_inference_window() -> None:
    table = nasty_table(130_000, seed=1)
    whole = profile(table)
    calls: list[str] = []
    streamed = profile_batches(
        lambda: iter(table.to_batches(max_chunksize=20_000)), progress=lambda phase, rows: calls.append(phase)
    )
    assert_same(streamed, whole)
    assert calls.count("scan") == 7 and calls.count("profile") == 7


def test_categories_past_the_exact_cap() -> None:
    n = 2 * EXACT_ITEMS_CAP + 500
    table = pa.table({"id": [f"k{i % (EXACT_ITEMS_CAP + 300)}" for i in range(n)], "v": np.arange(n) * 0.5})
    streamed = profile_batches(
        lambda: iter(table.to_batches(max_chunksize=4096)), kinds={"id": "categorical"}, one_pass_rows=0
    )
    whole = profile(table, kinds={"id": "categorical"})
    assert whole.column("id").value_counts is None
    assert_same(streamed, whole)


def test_kinds_and_bins_are_honoured() -> None:
    table = nasty_table(500)
    bins = {"x": np.array([-1.0, 0.0, 1.0])}
    streamed = profile_batches(
        lambda: iter(table.to_batches(max_chunksize=50)),
        kinds={"n": "categorical"},
        bins=bins,
        one_pass_rows=0,
    )
    assert_same(streamed, profile(table, kinds={"n": "categorical"}, bins=bins))


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=32)), max_size=60),
    st.integers(1, 9),
)
def test_property_any_batching_gives_the_same_profile(values: list[float | None], size: int) -> None:
    table = pa.table({"v": pa.array(values, pa.float64()), "c": [str(i % 3) for i in range(len(values))]})
    batches = table.to_batches(max_chunksize=size) or [pa.RecordBatch.from_pylist([], schema=table.schema)]
    assert_same(profile_batches(lambda: iter(batches), one_pass_rows=0), profile(table))


def test_csv_parquet_and_sqlite_sources(tmp_path: Path) -> None:
    table = nasty_table(2000).drop_columns(["allnull", "when"])
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=300)
    pcsv.write_csv(table.drop_columns(["flag"]), tmp_path / "t.csv")
    for path in (tmp_path / "t.parquet", tmp_path / "t.csv"):
        assert_same(profile_source(path, batch_rows=170, one_pass_rows=0), profile(read(path)))
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (a REAL, b TEXT)")
        conn.executemany(
            "INSERT INTO t VALUES (?, ?)", [(i / 3 if i % 5 else None, f"v{i % 4}") for i in range(700)]
        )
    url = f"sqlite:///{db}"
    streamed = profile_source(url, query="SELECT a, b FROM t", batch_rows=64, one_pass_rows=0)
    assert_same(streamed, profile(read(url, query="SELECT a, b FROM t")))
    assert source_rows(tmp_path / "t.parquet") == 2000 and source_rows(tmp_path / "t.csv") is None


def test_empty_file_and_bad_source(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.float64()), "b": pa.array([], pa.string())}), path)
    assert_same(profile_source(path, one_pass_rows=0), profile(read(path)))
    with pytest.raises(InputError) as info:
        profile_source(tmp_path / "nope.parquet")
    assert "nope.parquet" in str(info.value)


def test_drift_source_equals_in_memory(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    ref = pa.table({"x": rng.normal(size=4000), "c": rng.choice(["a", "b", "c"], 4000)})
    cur = pa.table(
        {"x": rng.normal(0.2, 1, size=3000), "c": rng.choice(["a", "b", "c"], 3000, p=[0.5, 0.3, 0.2])}
    )
    pq.write_table(ref, tmp_path / "ref.parquet")
    pq.write_table(cur, tmp_path / "cur.parquet")
    whole = DriftDetector().fit(ref).compare(cur)
    streamed = drift_source(
        DriftDetector(), tmp_path / "ref.parquet", tmp_path / "cur.parquet", batch_rows=333
    )
    assert streamed.to_dict() == whole.to_dict()
    with pytest.raises(InputError, match="multivariate"):
        drift_source(DriftDetector(multivariate=True), tmp_path / "ref.parquet", tmp_path / "cur.parquet")
    small = drift_source(DriftDetector(), tmp_path / "ref.parquet", tmp_path / "cur.parquet", limit=500)
    x = next(c for c in small.columns if c.name == "x")
    assert "approximate" in x.details


_MEMORY_SCRIPT = """
import gc, resource, sys
from mlaudit.engines.streaming import profile_source
from mlaudit.stats.profile import profile
profile({"a": [1.0], "b": [1], "c": ["x"]})  # warm up: imports, thread pools
gc.collect()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
p = profile_source(sys.argv[1], batch_rows=int(sys.argv[2]))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(p.rows, (after - before) // 1024)
"""


def test_memory_stays_bounded(tmp_path: Path) -> None:
    """3M rows x 3 columns (about 75 MiB of values) profiled in 20k-row batches: the peak RSS
    grows by far less than the data (a batch, its copies and the sketches)."""
    path = tmp_path / "big.parquet"
    rng = np.random.default_rng(0)
    schema = pa.schema([("a", pa.float64()), ("b", pa.int64()), ("c", pa.string())])
    with pq.ParquetWriter(path, schema) as writer:
        for _ in range(30):
            n = 100_000
            writer.write_table(
                pa.table({"a": rng.normal(size=n), "b": rng.integers(0, 1000, n),
                          "c": pa.array(rng.choice(["x", "y", "z"], n))}, schema=schema)
            )  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_SCRIPT, str(path), "20000"], capture_output=True, text=True, check=True
    )
    rows, growth_mib = (int(v) for v in done.stdout.split())
    assert rows == 3_000_000
    # measured: all 3M rows at once grow the peak by ~600 MiB, batches of 20k rows by ~40 MiB
    # (before Parquet was read one row group at a time, the reader's I/O cache grew with the file)
    assert growth_mib < 80, growth_mib


@pytest.mark.parametrize("module", ["mlaudit.engines.streaming", "mlaudit.checks.partial"])
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_csv_types_widen_past_the_first_block(tmp_path: Path) -> None:
    """A CSV whose later rows do not fit the type guessed from the first block (ints, then a
    float; empties, then numbers; ints, then text) streams like the whole-file reader reads it."""
    path = tmp_path / "late.csv"
    lines = ["a,b,c"] + [f"{i},,{i}" for i in range(120_000)] + ["1.5,2.5,x"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from mlaudit.frames import read_file

    whole = read_file(path)
    assert [str(t) for t in whole.schema.types] == ["double", "double", "string"]
    streamed = profile_source(path, batch_rows=10_000, one_pass_rows=0)
    assert streamed.kinds() == profile(whole).kinds()
    assert_same(streamed, profile(whole))


def test_glob_with_an_all_null_file(tmp_path: Path) -> None:
    """A later file whose column is all null (type null) merges like the concatenated table."""
    start = dt.datetime(2024, 1, 1)
    first = pa.table({"t": [start + dt.timedelta(days=i) for i in range(150_000)], "v": np.arange(150_000.0)})
    pq.write_table(first, tmp_path / "a.parquet")
    pq.write_table(pa.table({"t": pa.nulls(10), "v": np.arange(10.0)}), tmp_path / "b.parquet")
    streamed = profile_source(tmp_path / "*.parquet", batch_rows=40_000, one_pass_rows=0)
    assert_same(streamed, profile(read(tmp_path / "*.parquet")))


def test_spark_engine_from_the_cli(spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--engine spark`` on data profile, check and drift reaches engines.spark (on the shared
    local[2] session of the ``spark`` fixture) and gives the in-memory counts and decisions."""
    rng = np.random.default_rng(5)
    ref = pa.table({"x": rng.normal(0, 1, 3000), "c": rng.choice(np.array(["a", "b"]), 3000)})
    cur = pa.table({"x": rng.normal(0.5, 1, 2000), "c": rng.choice(np.array(["a", "b"]), 2000)})
    pq.write_table(ref, tmp_path / "ref.parquet")
    pq.write_table(cur, tmp_path / "cur.parquet")
    spark = ["--engine", "spark", "--spark-master", "local[2]", "--json"]
    assert main(["data", "profile", str(tmp_path / "ref.parquet"), *spark]) == 0
    doc = json.loads(capsys.readouterr().out)
    whole = profile(ref)
    assert doc["rows"] == 3000 and doc["columns"][0]["max"] == whole.column("x").max
    assert doc["columns"][1]["top"] == [{"value": v, "count": n} for v, n in whole.column("c").top(2)]
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {rule: range, column: x, min: -2, max: 2}\n", encoding="utf-8")
    assert main(["check", str(tmp_path / "ref.parquet"), "--rules", str(rules), *spark]) == 1
    checked = json.loads(capsys.readouterr().out)
    expected = run_rules(ref, load_rules(rules)).results[0]
    assert checked["results"][0]["details"]["offending"] == expected.details["offending"]
    assert main(["drift", str(tmp_path / "ref.parquet"), str(tmp_path / "cur.parquet"), *spark]) == 0
    drift = json.loads(capsys.readouterr().out)
    assert drift["drifted_columns"] == list(DriftDetector().fit(ref).compare(cur).drifted_columns)


def test_range_narrower_than_the_float_spacing() -> None:
    """Large ids (1e17 + a few units): the default edges repeat, the histogram still matches."""
    table = pa.table({"id": np.array([1e17, 1e17 + 16, 1e17 + 32] * 50), "z": np.arange(150.0)})
    streamed = profile_batches(lambda: iter(table.to_batches(max_chunksize=40)), one_pass_rows=0)
    whole = profile(table)
    a, b = streamed.column("id"), whole.column("id")
    assert not (np.diff(b.histogram.edges) > 0).all()
    # m2 is ~1e34 x float spacing here: only the exact fields are comparable
    assert (a.histogram, a.count, a.min, a.max, a.valid) == (b.histogram, b.count, b.min, b.max, b.valid)


def test_worker_processes_give_the_same_profile() -> None:
    table = pa.concat_tables([nasty_table(3000, seed=s) for s in range(40)])  # 120,000 rows
    batches = table.to_batches(max_chunksize=9_000)
    in_processes = profile_batches(lambda: iter(batches), workers=2, one_pass_rows=0)
    assert_same(in_processes, profile(table))
    assert_same(in_processes, profile_batches(lambda: iter(batches), workers=1, one_pass_rows=0))
