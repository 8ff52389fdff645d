"""Fingerprints: the same logical table gives one fingerprint whatever its types, chunks or library."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import random

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlaudit.data import Fingerprinter, fingerprint, normalize
from mlaudit.data.fingerprint import normalized_type
from mlaudit.errors import InputError


def sample() -> pa.Table:
    return pa.table(
        {
            "i": [1, None, 3, 4, -5],
            "x": [1.5, float("nan"), None, -0.0, 2.0],
            "s": ["ü", "", None, "東京 🚀", "d"],
            "b": [True, None, False, True, True],
            "d": [dt.date(2024, 1, 1), None, dt.date(1969, 12, 31), dt.date(2000, 1, 1), None],
            "ts": pa.array(
                [dt.datetime(2024, 1, 1, 10, 0, 0, 123456), None, dt.datetime(1999, 1, 1), None, None],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )


def test_format_and_determinism() -> None:
    fp = fingerprint(sample())
    assert fp.startswith("sha256:") and len(fp) == len("sha256:") + 64
    assert fp == fingerprint(sample())


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5])
def test_same_across_chunkings(size: int) -> None:
    t = sample()
    chunked = pa.Table.from_batches(t.to_batches(max_chunksize=size))
    assert fingerprint(chunked) == fingerprint(t)
    assert Fingerprinter().update_all(t.to_batches(max_chunksize=size)).hexdigest() == fingerprint(t)


def test_sliced_arrays_hash_like_fresh_ones() -> None:
    t = sample()
    sliced = t.slice(1, 3)
    fresh = pa.Table.from_pylist(sliced.to_pylist(), schema=t.schema)
    assert fingerprint(sliced) == fingerprint(fresh)


@settings(max_examples=60, deadline=None)
@given(
    ints=st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=40),
    cuts=st.lists(st.integers(0, 40), max_size=5),
    seed=st.integers(0, 1000),
)
def test_streaming_equals_whole_table(ints: list[int | None], cuts: list[int], seed: int) -> None:
    rng = random.Random(seed)
    n = len(ints)
    words = [
        None if rng.random() < 0.2 else "".join(rng.choices("aé東 ", k=rng.randint(0, 4))) for _ in range(n)
    ]
    floats = [rng.choice([None, float("nan"), 0.0, -0.0, rng.random()]) for _ in range(n)]
    t = pa.table({"i": pa.array(ints, pa.int64()), "s": words, "f": pa.array(floats, pa.float64())})
    bounds = sorted({0, n, *(c for c in cuts if c <= n)})
    parts = [t.slice(a, b - a) for a, b in itertools.pairwise(bounds)] or [t]
    assert Fingerprinter().update_all(parts).hexdigest() == fingerprint(t)


def test_types_normalize_across_sources() -> None:
    t = sample()
    variant = pa.table(
        {
            "i": pa.array([1, None, 3, 4, -5], pa.int16()),
            "x": pa.array([1.5, float("nan"), None, 0.0, 2.0], pa.float32()),
            "s": pa.array(["ü", "", None, "東京 🚀", "d"], pa.large_string()).dictionary_encode(),
            "b": t["b"],
            "d": pa.array(
                [dt.date(2024, 1, 1), None, dt.date(1969, 12, 31), dt.date(2000, 1, 1), None], pa.date64()
            ),
            "ts": t["ts"].cast(pa.timestamp("ns")),  # naive, read as UTC
        }
    )
    assert fingerprint(variant) == fingerprint(t)
    assert normalize(variant).schema == normalize(t).schema
    assert [str(x) for x in normalize(t).schema.types] == [
        "int64", "double", "string", "bool", "date32[day]", "timestamp[us, tz=UTC]"
    ]  # fmt: skip


def test_timezones_compare_by_instant() -> None:
    utc = pa.array([dt.datetime(2024, 1, 1, 10, 0)], pa.timestamp("us", tz="UTC"))
    paris = utc.cast(pa.timestamp("ms", tz="Europe/Paris"))
    assert fingerprint(pa.table({"t": paris})) == fingerprint(pa.table({"t": utc}))


def test_decimals_are_floats() -> None:
    dec = pa.array([decimal.Decimal("1.25"), None], pa.decimal128(10, 2))
    assert fingerprint(pa.table({"n": dec})) == fingerprint(pa.table({"n": [1.25, None]}))


def test_pandas_polars_and_arrow_inputs_agree() -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    t = pa.table(
        {
            "i": [1, 2, 3],
            "x": [0.5, None, 2.0],
            "s": ["a", None, "ü"],
            "b": [True, False, True],
            "ts": pa.array([dt.datetime(2024, 1, 1, 10), dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 3)]),
        }
    )
    frame = pd.DataFrame(
        {
            "i": [1, 2, 3],
            "x": [0.5, np.nan, 2.0],  # pandas' missing float
            "s": ["a", None, "ü"],
            "b": [True, False, True],
            "ts": pd.to_datetime(
                [dt.datetime(2024, 1, 1, 10), dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 3)]
            ),
        }
    )
    assert fingerprint(frame) == fingerprint(t)
    assert fingerprint(pl.from_arrow(t)) == fingerprint(t)
    assert fingerprint(t.to_pydict()) == fingerprint(t.drop_columns(["ts"]).append_column("ts", t["ts"]))


def test_nan_is_not_null_and_negative_zero_is_zero() -> None:
    assert fingerprint({"x": [float("nan")]}) != fingerprint({"x": pa.array([None], pa.float64())})
    assert fingerprint({"x": [-0.0]}) == fingerprint({"x": [0.0]})
    other_nan = np.array([np.uint64(0x7FF8000000000001)]).view(np.float64)
    assert fingerprint({"x": other_nan}) == fingerprint({"x": [float("nan")]})


def test_empty_string_is_not_null() -> None:
    assert fingerprint({"s": [""]}) != fingerprint({"s": pa.array([None], pa.string())})
    assert fingerprint({"s": ["ab", ""]}) != fingerprint({"s": ["a", "b"]})


def test_all_null_column_fingerprints_the_same_whatever_its_type() -> None:
    typed = pa.table({"a": pa.array([None, None], pa.int64())})
    untyped = pa.table({"a": pa.nulls(2)})
    assert fingerprint(typed) == fingerprint(untyped)
    fp = Fingerprinter()
    fp.update(pa.record_batch({"a": pa.nulls(2)}))
    fp.update(pa.record_batch({"a": pa.array([7], pa.int32())}))
    assert fp.hexdigest() == fingerprint({"a": pa.array([None, None, 7], pa.int64())})


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.set_column(0, "i", pa.array([1, None, 3, 4, -6])),
        lambda t: t.set_column(2, "s", pa.array(["ü", "", None, "東京 🚀", "e"])),
        lambda t: t.set_column(1, "x", pa.array([1.5, None, None, -0.0, 2.0])),
        lambda t: t.take([1, 0, 2, 3, 4]),
        lambda t: t.rename_columns(["i", "x", "s", "b", "d", "when"]),
        lambda t: t.select(["x", "i", "s", "b", "d", "ts"]),
        lambda t: t.slice(0, 4),
        lambda t: t.set_column(0, "i", pa.array([1.0, None, 3.0, 4.0, -5.0])),
    ],
    ids=[
        "int",
        "string",
        "nan-to-null",
        "swap-rows",
        "rename",
        "reorder-columns",
        "drop-row",
        "int-to-float",
    ],
)
def test_any_change_changes_the_fingerprint(change: object) -> None:
    t = sample()
    assert fingerprint(change(t)) != fingerprint(t)  # type: ignore[operator]


def test_unordered_ignores_row_order_only() -> None:
    t = sample()
    rows = list(range(t.num_rows))
    random.Random(3).shuffle(rows)
    shuffled = t.take(rows)
    assert fingerprint(shuffled) != fingerprint(t)
    assert fingerprint(shuffled, unordered=True) == fingerprint(t, unordered=True)
    assert fingerprint(t, unordered=True) != fingerprint(t)
    changed = shuffled.set_column(0, "i", pa.array([9] * t.num_rows))
    assert fingerprint(changed, unordered=True) != fingerprint(t, unordered=True)


def test_unordered_with_duplicate_rows_and_names() -> None:
    t = pa.Table.from_arrays([pa.array([1, 1, 2]), pa.array(["a", "a", None])], names=["k", "k"])
    assert fingerprint(t.take([2, 0, 1]), unordered=True) == fingerprint(t, unordered=True)


def test_empty_and_columnless_tables() -> None:
    empty = pa.table({"a": pa.array([], pa.int64())})
    assert fingerprint(empty) == Fingerprinter().update_all([empty]).hexdigest()
    assert fingerprint(empty) != fingerprint(pa.table({"b": pa.array([], pa.int64())}))
    assert fingerprint(pa.table({})) == Fingerprinter().hexdigest()


def test_batches_must_keep_their_columns_and_types() -> None:
    fp = Fingerprinter()
    fp.update(pa.record_batch({"a": [1]}))
    with pytest.raises(InputError, match="differ from the first batch"):
        fp.update(pa.record_batch({"b": [1]}))
    with pytest.raises(InputError, match="changed type") as err:
        fp.update(pa.record_batch({"a": ["x"]}))
    assert err.value.column == "a"
    assert fp.rows == 1


def test_unsupported_types_and_overflow_are_input_errors() -> None:
    with pytest.raises(InputError, match="cannot fingerprint") as err:
        fingerprint(pa.table({"l": pa.array([[1, 2]])}))
    assert err.value.column == "l"
    with pytest.raises(InputError, match="does not fit") as err:
        fingerprint(pa.table({"u": pa.array([2**64 - 1], pa.uint64())}))
    assert err.value.column == "u"
    assert normalized_type(pa.uint8()) == pa.int64()


def test_large_column_is_vectorised_and_stable() -> None:
    n = 200_000
    rng = np.random.default_rng(0)
    t = pa.table({"x": rng.normal(size=n), "s": pa.array(rng.integers(0, 1000, n).astype(str))})
    assert fingerprint(t) == Fingerprinter().update_all(t.to_batches(max_chunksize=7_777)).hexdigest()
