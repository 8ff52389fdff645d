"""Profiles checked against NumPy / pandas on the same data, plus edge cases and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from datasketches import hll_sketch, kll_doubles_sketch

from mlaudit.cli import main
from mlaudit.errors import InputError
from mlaudit.stats.kinds import infer_kinds
from mlaudit.stats.profile import EXACT_ITEMS_CAP, Histogram, Profile, profile


@pytest.fixture(scope="module")
def rng() -> np.random.Generator:
    return np.random.default_rng(20240501)


def _with_specials(values: np.ndarray, rng: np.random.Generator) -> tuple[pa.Array, np.ndarray]:
    """Sprinkle nulls, NaN, +inf and -inf over ``values``; return the column and the finite rest."""
    values = values.astype(np.float64).copy()
    special = rng.choice(5, size=len(values), p=[0.91, 0.03, 0.03, 0.02, 0.01])
    values[special == 2] = np.nan
    values[special == 3] = np.inf
    values[special == 4] = -np.inf
    column = pa.array(values, mask=special == 1)
    return column, values[special == 0]


# ---- numeric -------------------------------------------------------------------------------


def test_moments_and_counts_match_numpy(rng: np.random.Generator) -> None:
    column, finite = _with_specials(rng.normal(50.0, 7.0, 20_000), rng)
    c = profile(pa.table({"x": column})).column("x")
    raw = column.to_numpy(zero_copy_only=False)
    assert c.kind == "numeric"
    assert c.count == 20_000
    assert c.nulls == column.null_count
    assert c.nan == int(np.isnan(raw).sum()) - column.null_count  # pandas/arrow nulls -> NaN
    assert c.inf == int(np.isinf(raw).sum())
    assert c.valid == len(finite) == c.count - c.nulls - c.nan - c.inf
    assert c.min == finite.min() and c.max == finite.max()
    assert c.mean == pytest.approx(np.mean(finite), rel=1e-12)
    assert c.variance == pytest.approx(np.var(finite, ddof=1), rel=1e-10)
    assert c.std == pytest.approx(np.std(finite, ddof=1), rel=1e-10)


def test_quantiles_within_kll_rank_error(rng: np.random.Generator) -> None:
    values = rng.lognormal(0.0, 1.0, 200_000)
    c = profile({"x": values}).column("x")
    eps = kll_doubles_sketch.get_normalized_rank_error(200, False)
    assert c.quantile_sketch is not None and c.quantile_sketch.is_estimation_mode()
    qs = [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0]
    ordered = np.sort(values)
    for q, v in zip(qs, c.quantiles(qs), strict=True):
        assert v is not None
        rank = np.searchsorted(ordered, v, side="right") / len(values)  # exact rank of the estimate
        assert abs(rank - q) <= eps, (q, v, rank)
    assert c.quantile(0.0) == values.min() and c.quantile(1.0) == values.max()


def test_distinct_estimate_within_hll_bounds(rng: np.random.Generator) -> None:
    values = rng.integers(0, 40_000, 100_000).astype(np.float64)
    c = profile({"x": values}).column("x")
    exact = len(np.unique(values))
    assert c.distinct_sketch.get_lower_bound(3) <= exact <= c.distinct_sketch.get_upper_bound(3)
    assert c.distinct_estimate() == pytest.approx(exact, rel=3 * 1.04 / np.sqrt(2**12))


def test_histogram_matches_numpy_with_same_edges(rng: np.random.Generator) -> None:
    values = rng.normal(0.0, 2.0, 10_000)
    values[:3] = [-1.0, 4.0, 4.0]  # values exactly on inner and last edges
    edges = np.array([-1.0, 0.0, 0.5, 2.0, 4.0])
    h = profile({"x": values}, bins={"x": edges}).column("x").histogram
    expected, _ = np.histogram(values, bins=edges)
    assert h is not None and h.counts == tuple(expected)
    assert h.below == int((values < -1.0).sum()) and h.above == int((values > 4.0).sum())
    assert Histogram.of(values, edges) == h


def test_default_bins_span_the_data(rng: np.random.Generator) -> None:
    values = rng.uniform(3.0, 9.0, 1_000)
    h = profile({"x": values}).column("x").histogram
    assert h is not None and len(h.counts) == 20
    assert (h.edges[0], h.edges[-1]) == (values.min(), values.max())
    assert h.counts == tuple(np.histogram(values, bins=np.array(h.edges))[0])
    constant = profile({"x": [2.0, 2.0]}).column("x").histogram
    assert constant is not None and (constant.edges[0], constant.edges[-1]) == (1.5, 2.5)
    assert sum(constant.counts) == 2


def test_nan_and_inf_stay_out_of_moments_and_sketches() -> None:
    p = profile({"x": [1.0, np.nan, np.inf, -np.inf, 3.0, None]}, bins={"x": np.array([0, 10])})
    c = p.column("x")
    assert (c.count, c.nulls, c.nan, c.inf, c.valid) == (6, 1, 1, 2, 2)
    assert (c.min, c.max, c.mean, c.variance) == (1.0, 3.0, 2.0, 2.0)  # hand-worked
    assert c.quantile_sketch is not None and c.quantile_sketch.n == 2
    assert c.distinct_estimate() == pytest.approx(2.0)
    assert c.histogram is not None and c.histogram.counts == (2,)


# ---- categorical, boolean, datetime, text ----------------------------------------------------


def test_frequent_items_match_pandas_value_counts(rng: np.random.Generator) -> None:
    categories = ["Zürich", "東京", "São Paulo", "🙂", "", "a\u0301", "á"]
    values = rng.choice(categories, 5_000, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05]).tolist()
    values[::97] = [None] * len(values[::97])
    c = profile({"city": values}).column("city")
    expected = pd.Series(values, dtype=object).value_counts(dropna=True)
    assert c.kind == "categorical"
    assert dict(c.top(None)) == {k: int(v) for k, v in expected.items()}
    assert c.top(2) == [(k, int(v)) for k, v in expected.head(2).items()]
    assert c.nulls == pd.Series(values).isna().sum()
    assert c.distinct_estimate() == len(expected)
    assert c.distinct_sketch.get_estimate() == pytest.approx(len(expected), abs=0.01)


def test_huge_cardinality_categorical_is_capped() -> None:
    n = 1_000_000
    ids = pa.array([f"id-{i}" for i in range(n - 30_000)] + ["hot"] * 20_000 + ["warm"] * 10_000)
    p = profile(pa.table({"id": ids}), kinds={"id": "categorical"})
    c = p.column("id")
    assert c.value_counts is None and c.items_sketch is not None
    top = c.top(2)
    assert [v for v, _ in top] == ["hot", "warm"]
    err = c.items_sketch.get_epsilon_for_lg_size(12) * n
    assert abs(top[0][1] - 20_000) <= err and abs(top[1][1] - 10_000) <= err
    assert (
        c.distinct_sketch.get_lower_bound(3) <= n - 29_998 <= c.distinct_sketch.get_upper_bound(3)
    )
    assert len(p.to_bytes()) < 1_000_000  # bounded: no per-value storage


def test_exact_counts_turn_into_a_sketch_past_the_cap_on_merge() -> None:
    half = EXACT_ITEMS_CAP // 2 + 10
    kinds = {"c": "categorical"}
    a = profile({"c": [f"a{i}" for i in range(half)] + ["x"] * 50}, kinds=kinds)
    b = profile({"c": [f"b{i}" for i in range(half)] + ["x"] * 50}, kinds=kinds)
    assert a.column("c").value_counts is not None
    merged = a.merge(b).column("c")
    assert merged.value_counts is None and merged.items_sketch is not None
    assert merged.top(1)[0][0] == "x"
    assert (
        merged.items_sketch.get_lower_bound("x") <= 100 <= merged.items_sketch.get_upper_bound("x")
    )


def test_booleans_match_pandas(rng: np.random.Generator) -> None:
    values = pd.Series(rng.random(1_000) < 0.3, dtype="boolean")
    values[::10] = pd.NA
    c = profile(pd.DataFrame({"ok": values})).column("ok")
    expected = values.value_counts(dropna=True)
    assert c.kind == "boolean"
    assert dict(c.top(None)) == {"true": int(expected[True]), "false": int(expected[False])}
    assert c.nulls == int(values.isna().sum())
    assert c.mean == pytest.approx(values.astype(float).mean())
    assert c.variance == pytest.approx(values.astype(float).var(ddof=1))
    assert (c.min, c.max) == (0.0, 1.0)


def test_datetimes_are_epoch_seconds() -> None:
    stamps = pd.Series(
        pd.to_datetime(["2024-01-01 00:00", "2024-01-02 12:00", None, "1969-12-31 00:00"])
    )
    c = profile(pd.DataFrame({"t": stamps})).column("t")
    epoch = np.array([s.timestamp() for s in stamps.dropna()])
    assert c.kind == "datetime" and c.nulls == 1
    assert (c.min, c.max) == (-86400.0, dt.datetime(2024, 1, 2, 12, tzinfo=dt.UTC).timestamp())
    assert c.mean == pytest.approx(epoch.mean()) and c.variance == pytest.approx(epoch.var(ddof=1))
    zoned = pa.array(
        [dt.datetime(2024, 1, 1, 1, tzinfo=dt.UTC)], pa.timestamp("ms", "Europe/Paris")
    )
    assert profile(pa.table({"t": zoned})).column("t").min == 1704070800.0
    dates = profile({"d": [dt.date(1970, 1, 2)]}).column("d")
    assert (dates.kind, dates.min) == ("datetime", 86400.0)


def test_text_profiles_lengths() -> None:
    sentences = [f"sentence number {i} " * (1 + i % 7) for i in range(300)] + [None]
    c = profile({"note": sentences}).column("note")
    lengths = pd.Series(sentences).dropna().str.len()
    assert c.kind == "text" and c.nulls == 1 and c.valid == 300
    assert (c.min, c.max) == (lengths.min(), lengths.max())
    assert c.mean == pytest.approx(lengths.mean()) and c.std == pytest.approx(lengths.std())
    assert c.distinct_estimate() == pytest.approx(300, abs=1) and c.top() == []


# ---- edge cases and inference ----------------------------------------------------------------


def test_empty_table() -> None:
    schema = {"x": pa.float64(), "c": pa.string(), "b": pa.bool_(), "t": pa.timestamp("us")}
    empty = pa.table({name: pa.array([], t) for name, t in schema.items()})
    p = profile(empty, bins={"x": np.array([0.0, 1.0])})
    assert p.rows == 0 and list(p.columns) == list(schema)
    for c in p.columns.values():
        assert (c.count, c.nulls, c.valid, c.min, c.max, c.mean, c.variance) == (
            0, 0, 0, None, None, None, None
        )  # fmt: skip
        assert c.distinct_estimate() == 0.0 and c.top() == []
        assert c.quantile(0.5) is None
    assert p.column("x").histogram == Histogram((0.0, 1.0), (0,), 0, 0)
    assert p.column("t").histogram is None
    assert Profile.from_bytes(p.to_bytes()) == p
    assert profile(pa.table({})).rows == 0


def test_all_null_column() -> None:
    p = profile(pa.table({"x": pa.array([None] * 4, pa.float64()), "n": pa.nulls(4)}))
    x, n = p.column("x"), p.column("n")
    assert (x.kind, x.count, x.nulls, x.valid, x.mean, x.histogram) == (
        "numeric",
        4,
        4,
        0,
        None,
        None,
    )
    assert (n.kind, n.nulls, n.top()) == ("categorical", 4, [])
    assert x.merge(profile({"x": [1.0, 3.0]}).column("x")).mean == 2.0


def test_infer_kinds_and_overrides() -> None:
    table = pa.table({
        "i": [1, 2], "f": [0.5, None], "b": [True, False], "s": ["a", "b"],
        "t": pa.array([0, 1], pa.timestamp("s")), "d": pa.array(["x", "y"]).dictionary_encode(),
        "long": ["word " * 20, "other " * 20],
    })  # fmt: skip
    assert infer_kinds(table) == {
        "i": "numeric", "f": "numeric", "b": "boolean", "s": "categorical",
        "t": "datetime", "d": "categorical", "long": "text",
    }  # fmt: skip
    ids = pa.table({"id": [f"user-{i}" for i in range(500)]})
    assert infer_kinds(ids) == {"id": "text"}
    assert infer_kinds(ids, {"id": "categorical"}) == {"id": "categorical"}
    with pytest.raises(InputError, match="does not exist"):
        infer_kinds(table, {"nope": "numeric"})
    with pytest.raises(InputError, match="unknown column kind"):
        infer_kinds(table, {"i": "ordinal"})  # type: ignore[dict-item]
    with pytest.raises(InputError, match="cannot profile a column of type list"):
        infer_kinds(pa.table({"l": [[1], [2]]}))


def test_overrides_convert_values() -> None:
    p = profile(
        {"zip": [1010, 2020, 1010], "n": ["1.5", "2.5", None], "flag": ["yes", "no", "yes"]},
        kinds={"zip": "categorical", "n": "numeric", "flag": "boolean"},
    )
    assert p.column("zip").top(1) == [("1010", 2)]
    assert p.column("n").mean == 2.0
    assert p.column("flag").top() == [("true", 2), ("false", 1)]
    with pytest.raises(InputError, match="as numeric") as info:
        profile({"s": ["a", "b"]}, kinds={"s": "numeric"})
    assert info.value.column == "s"
    with pytest.raises(InputError, match="datetimes"):
        profile({"s": ["not a date"]}, kinds={"s": "datetime"})


def test_mixed_types_and_duplicate_names_are_rejected() -> None:
    with pytest.raises(InputError, match="mixed"):
        profile({"x": [1, "a"]})
    twice = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["x", "x"])
    with pytest.raises(InputError, match="more than once"):
        profile(twice)


def test_bad_bins_and_quantiles() -> None:
    with pytest.raises(InputError, match="strictly increasing"):
        profile({"x": [1.0]}, bins={"x": np.array([1.0, 1.0])})
    with pytest.raises(InputError, match="at least 2 finite"):
        profile({"x": [1.0]}, bins={"x": np.array([0.0, np.inf])})
    with pytest.raises(InputError, match="numeric and datetime"):
        profile({"c": ["a"]}, bins={"c": np.array([0.0, 1.0])})
    with pytest.raises(InputError, match="does not exist"):
        profile({"x": [1.0]}, bins={"y": np.array([0.0, 1.0])})
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        profile({"x": [1.0]}).column("x").quantile(1.5)


# ---- merge and serialisation -----------------------------------------------------------------


def test_merge_matches_whole_table(rng: np.random.Generator) -> None:
    values = rng.normal(1e6, 3.0, 30_000)  # large offset: checks the stable (Chan) update
    edges = np.linspace(1e6 - 15, 1e6 + 15, 11)
    parts = [profile({"x": chunk}, bins={"x": edges}) for chunk in np.array_split(values, 7)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    whole = profile({"x": values}, bins={"x": edges})
    m, w = merged.column("x"), whole.column("x")
    assert (m.count, m.min, m.max, m.histogram) == (w.count, w.min, w.max, w.histogram)
    assert m.mean == pytest.approx(np.mean(values), rel=1e-14)
    assert m.variance == pytest.approx(np.var(values, ddof=1), rel=1e-9)
    eps = kll_doubles_sketch.get_normalized_rank_error(200, False)
    ordered = np.sort(values)
    for q, v in zip([0.05, 0.5, 0.95], m.quantiles([0.05, 0.5, 0.95]), strict=True):
        assert abs(np.searchsorted(ordered, v, side="right") / len(values) - q) <= eps


def test_merge_refuses_mismatches() -> None:
    a = profile({"x": [1.0, 2.0]})
    with pytest.raises(InputError, match="different bin edges") as info:
        a.merge(profile({"x": [5.0, 9.0]}))
    assert info.value.column == "x" and "bins=" in (info.value.hint or "")
    with pytest.raises(InputError, match="numeric"):
        a.merge(profile({"x": ["a"]}))
    with pytest.raises(InputError, match="different columns"):
        a.merge(profile({"y": [1.0]}))
    with pytest.raises(InputError, match="no such column"):
        a.column("y")


def test_bytes_round_trip_and_corruption(rng: np.random.Generator) -> None:
    table = pa.table({
        "x": rng.normal(size=5_000), "c": rng.choice(["a", "b", "ü"], 5_000),
        "b": rng.random(5_000) < 0.5, "t": pa.array(np.arange(5_000), pa.timestamp("s")),
        "note": [f"free text {i} " * 5 for i in range(5_000)],
    })  # fmt: skip
    p = profile(table)
    data = p.to_bytes()
    back = Profile.from_bytes(data)
    assert back == p and back.to_bytes() == data
    assert back.column("x").quantiles([0.1, 0.9]) == p.column("x").quantiles([0.1, 0.9])
    assert back.column("c").distinct_sketch.get_estimate() == pytest.approx(3.0, abs=0.01)
    assert back.kinds() == {"x": "numeric", "c": "categorical", "b": "boolean", "t": "datetime",
                            "note": "text"}  # fmt: skip
    with pytest.raises(InputError, match="not an mlaudit profile"):
        Profile.from_bytes(b"\x80\x04pickle")
    with pytest.raises(InputError, match=r"truncated|corrupt"):
        Profile.from_bytes(data[:-100])
    newer = data.replace(b'"schema_version":1', b'"schema_version":9', 1)
    with pytest.raises(InputError, match="schema_version 9"):
        Profile.from_bytes(newer)


def test_to_dict_is_json(rng: np.random.Generator) -> None:
    p = profile({"x": rng.normal(size=100), "c": ["a"] * 100})
    d = json.loads(json.dumps(p.to_dict(), allow_nan=False))
    assert (d["kind"], d["schema_version"], d["rows"]) == ("mlaudit.profile", 1, 100)
    x = d["columns"][0]
    assert x["name"] == "x" and set(x["quantiles"]) == {"0.01", "0.25", "0.5", "0.75", "0.99"}
    assert sum(x["histogram"]["counts"]) == 100
    assert d["columns"][1]["top"] == [{"value": "a", "count": 100}]


def test_bins_helper_lets_current_data_share_reference_edges(rng: np.random.Generator) -> None:
    reference = profile({"x": rng.normal(size=500)})
    current = profile({"x": rng.normal(1.0, size=500)}, bins=reference.bins())
    assert current.column("x").histogram.edges == reference.column("x").histogram.edges  # type: ignore[union-attr]
    assert reference.merge(current).rows == 1_000


def test_hll_sketches_are_datasketches() -> None:
    c = profile({"x": [1.0, 2.0]}).column("x")
    assert isinstance(c.distinct_sketch, hll_sketch)
    assert isinstance(c.quantile_sketch, kll_doubles_sketch)


# ---- CLI -------------------------------------------------------------------------------------


def test_cli_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.csv"
    path.write_text("age,sex,zip\n31,F,1010\n45,M,2020\n,F,1010\n", encoding="utf-8")
    assert main(["data", "profile", str(path), "--json", "--kind", "zip=categorical"]) == 0
    d = json.loads(capsys.readouterr().out)
    columns = {c["name"]: c for c in d["columns"]}
    assert d["rows"] == 3 and d["kind"] == "mlaudit.profile"
    assert (columns["age"]["mean"], columns["age"]["nulls"]) == (38.0, 1)
    assert columns["zip"]["kind"] == "categorical"
    assert columns["zip"]["top"][0] == {"value": "1010", "count": 2}


def test_cli_table_and_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = tmp_path / "data.parquet"
    pq.write_table(
        pa.table({"score": [0.1, 0.9], "when": pa.array([0, 86400], pa.timestamp("s"))}), path
    )
    assert main(["data", "profile", str(path)]) == 0
    text = capsys.readouterr().out
    assert "score" in text and "1970-01-02" in text and "2 rows" in text


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        (lambda p: None, [], "no such file"),
        (lambda p: p.write_bytes(b""), [], "empty"),
        (lambda p: p.write_text("a\n1\n"), ["--kind", "a"], "COL=KIND"),
        (lambda p: p.write_text("a\nx\n"), ["--kind", "a=numeric"], "as numeric"),
    ],
)
def test_cli_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, args: list[str], message: str
) -> None:
    path = tmp_path / "in.csv"
    make(path)  # type: ignore[operator]
    assert main(["data", "profile", str(path), "--json", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err
