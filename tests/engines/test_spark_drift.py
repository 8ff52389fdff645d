"""Drift on Spark equals DriftDetector().fit(ref).compare(cur) on the same rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlaudit.engines import spark as spark_engine
from mlaudit.errors import InputError
from mlaudit.stats.drift import DriftDetector


@pytest.fixture(scope="module")
def sides(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, pa.Table, Any, pa.Table]:
    rng = np.random.default_rng(7)
    n = 12_000

    def table(shift: float, cats: int, seed: int) -> pa.Table:
        r = np.random.default_rng(seed)
        x = r.normal(shift, 1.0, n)
        x[::101] = np.nan
        return pa.table({
            "x": x,  # drifts by 0.5 sd
            "y": r.normal(0.0, 1.0, n),  # clean
            "c": [f"c{v}" for v in r.integers(0, cats, n)],  # drifts: categories vanish
            "e": [f"é{v}" for v in r.integers(0, 4, n)],  # clean
            "b": r.integers(0, 2, n).astype(bool),
            "t": pa.array(r.integers(1_700_000_000, 1_700_100_000, n) * 1_000_000, pa.timestamp("us")),
        })  # fmt: skip

    folder = tmp_path_factory.mktemp("drift")
    ref, cur = table(0.0, 5, int(rng.integers(1000))), table(0.5, 3, int(rng.integers(1000)))
    pq.write_table(ref, folder / "ref.parquet")
    pq.write_table(cur, folder / "cur.parquet")
    return folder / "ref.parquet", ref, folder / "cur.parquet", cur


def test_drift_equals_in_memory_below_the_limit(spark: Any, sides: Any) -> None:
    ref_path, ref, cur_path, cur = sides
    rdf = spark_engine.read(spark, ref_path).repartition(3)
    cdf = spark_engine.read(spark, cur_path).repartition(2)
    report = spark_engine.compare(spark_engine.fit(rdf, DriftDetector()), cdf)
    whole = DriftDetector().fit(ref).compare(cur)
    assert report.to_dict() == whole.to_dict()
    assert set(report.drifted_columns) == {"x", "c"}


def test_small_limit_keeps_decisions_and_says_approximate(spark: Any, sides: Any) -> None:
    ref_path, ref, cur_path, cur = sides
    rdf = spark_engine.read(spark, ref_path).repartition(3)
    cdf = spark_engine.read(spark, cur_path).repartition(3)
    detector = spark_engine.fit(rdf, DriftDetector(columns=["x", "y", "c", "e"]), limit=2_000)
    report = spark_engine.compare(detector, cdf, limit=2_000)
    whole = DriftDetector(columns=["x", "y", "c", "e"]).fit(ref).compare(cur)
    assert report.drifted_columns == whole.drifted_columns == ("x", "c")
    assert "approximate" in report.column("x").details and "approximate" in report.column("y").details
    assert report.column("c").to_dict() == whole.column("c").to_dict()  # categorical: exact


def test_detector_hooks_and_errors(spark: Any, sides: Any) -> None:
    ref_path, ref, cur_path, cur = sides
    rdf = spark_engine.read(spark, ref_path)
    with pytest.raises(InputError, match="multivariate"):
        spark_engine.fit(rdf, DriftDetector(multivariate=True))
    with pytest.raises(InputError, match="no such column"):
        spark_engine.fit(rdf, DriftDetector(columns=["nope"]))
    detector = spark_engine.fit(rdf, DriftDetector(columns=["x", "b"], kinds={"b": "categorical"}))
    with pytest.raises(InputError, match="no such column"):
        spark_engine.compare(detector, spark_engine.read(spark, cur_path).select("x"))
    empty = spark_engine.compare(detector, spark_engine.read(spark, cur_path).limit(0))
    assert (
        empty.to_dict()
        == DriftDetector(columns=["x", "b"], kinds={"b": "categorical"})
        .fit(ref)
        .compare(cur.slice(0, 0))
        .to_dict()
    )
