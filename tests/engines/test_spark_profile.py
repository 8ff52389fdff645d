"""The Spark engine's profile equals the in-memory profile of the same Parquet file."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mlaudit.engines import spark as spark_engine
from mlaudit.errors import InputError
from mlaudit.frames import is_spark_frame, to_table
from mlaudit.stats.profile import ColumnProfile, Profile, profile


def assert_same(spark_side: Profile, memory: Profile) -> None:
    """Counts, min/max, histograms, item counts exactly; moments to 1e-12; sketches within error."""
    assert spark_side.rows == memory.rows
    assert list(spark_side.columns) == list(memory.columns)
    for name, a in spark_side.columns.items():
        _same_column(a, memory.columns[name])


def _same_column(a: ColumnProfile, b: ColumnProfile) -> None:
    exact = ("kind", "count", "nulls", "nan", "inf", "valid", "min", "max", "value_counts", "histogram")
    for key in exact:
        assert getattr(a, key) == getattr(b, key), (a.name, key)
    if b.mean is None:
        assert a.mean is None
    else:
        assert a.mean == pytest.approx(b.mean, rel=1e-12, abs=1e-12)
        assert a.m2 == pytest.approx(b.m2, rel=1e-12, abs=1e-9)
    if b.quantile_sketch is not None and not b.quantile_sketch.is_empty():
        assert a.quantile_sketch is not None
        eps = b.quantile_sketch.normalized_rank_error(False) + a.quantile_sketch.normalized_rank_error(False)
        for v in b.quantile_sketch.get_quantiles([i / 20 for i in range(21)]):
            assert abs(a.quantile_sketch.get_rank(v) - b.quantile_sketch.get_rank(v)) <= eps, a.name
    if b.value_counts is not None:  # exact distinct count: inside the Spark side's HLL bounds
        hll = a.distinct_sketch
        assert hll.get_lower_bound(3) <= len(b.value_counts) <= hll.get_upper_bound(3)
    elif b.items_sketch is not None:
        assert a.items_sketch is not None
        assert a.items_sketch.total_weight == b.items_sketch.total_weight
        assert a.distinct_estimate() == pytest.approx(b.distinct_estimate(), rel=0.05)


def test_profile_of_partitions_equals_in_memory(spark: Any, nasty_parquet: Any) -> None:
    path, table = nasty_parquet
    df = spark_engine.read(spark, path).repartition(3)
    assert is_spark_frame(df) and not is_spark_frame(table)
    got = spark_engine.profile(df)
    want = profile(table)
    assert_same(got, want)
    big = got.column("big")
    assert big.kind == "categorical" and big.value_counts is None  # past the exact-items cap
    assert got.column("empty").histogram is None and got.column("empty").nulls == table.num_rows
    assert got.column("text").kind == "text"
    assert got.column("tz").min == want.column("tz").min  # microseconds of tz-aware stamps kept


def test_kinds_bins_and_k_are_honoured(spark: Any, nasty_parquet: Any) -> None:
    path, table = nasty_parquet
    df = spark_engine.read(spark, path).select("x", "i", "c").repartition(2)
    edges = np.array([-3.0, 0.0, 3.0])
    options: dict[str, Any] = {"kinds": {"i": "categorical"}, "bins": {"x": edges}, "k": 100}
    assert_same(spark_engine.profile(df, **options), profile(table.select(["x", "i", "c"]), **options))
    with pytest.raises(InputError, match="does not exist"):
        spark_engine.profile(df, kinds={"nope": "numeric"})


def test_empty_dataframe_gives_the_empty_table_profile(spark: Any, nasty_parquet: Any) -> None:
    path, table = nasty_parquet
    df = spark_engine.read(spark, path).limit(0)
    assert spark_engine.profile(df) == profile(table.slice(0, 0))


def test_the_python_api_accepts_spark_frames(spark: Any, nasty_parquet: Any) -> None:
    path, table = nasty_parquet
    df = spark_engine.read(spark, path).select("i", "c")
    assert_same(profile(df), profile(table.select(["i", "c"])))
    with pytest.raises(InputError, match="Spark"):
        to_table(df)


def test_csv_and_jsonl_sources(spark: Any, tmp_path: Any) -> None:
    import pyarrow as pa

    from mlaudit.frames import read_file

    (tmp_path / "t.csv").write_text("a,b,s\n1,2.5,x\n2,,y\n3,4.0,\n")
    (tmp_path / "t.jsonl").write_text('{"a": 1, "s": "x"}\n{"a": 2, "s": null}\n')
    for name in ("t.csv", "t.jsonl"):
        got = spark_engine.profile(spark_engine.read(spark, tmp_path / name))
        want = profile(read_file(tmp_path / name))
        assert got.kinds() == want.kinds()
        assert got.column("a").mean == want.column("a").mean
    with pytest.raises(InputError):
        spark_engine.read(spark, tmp_path / "missing.parquet")
    schema = spark_engine.arrow_schema(spark.createDataFrame([(1,)], "a int"))
    assert pa.types.is_int32(schema.field("a").type)


def test_decimals_and_text_read_as_datetimes(spark: Any, tmp_path: Any) -> None:
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    values = [decimal.Decimal(f"{i}.{i % 100:02d}") for i in range(-500, 1500)]
    stamps = [f"2024-0{1 + i % 9}-1{i % 10}T0{i % 10}:00:00" for i in range(2000)]
    table = pa.table({"dec": pa.array(values, pa.decimal128(12, 2)), "when": stamps})
    pq.write_table(table, tmp_path / "dec.parquet")
    df = spark_engine.read(spark, tmp_path / "dec.parquet").repartition(2)
    kinds: dict[str, Any] = {"when": "datetime"}
    assert_same(spark_engine.profile(df, kinds=kinds), profile(table, kinds=kinds))
