"""frames.to_table: everything users have in, a pyarrow.Table out; clear errors otherwise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlaudit.errors import InputError
from mlaudit.frames import to_table

EXPECTED = pa.table({"age": [31, 45], "sex": ["F", "M"]})


@pytest.mark.parametrize(
    "data",
    [
        EXPECTED,
        EXPECTED.to_batches()[0],
        pd.DataFrame({"age": [31, 45], "sex": ["F", "M"]}),
        pl.DataFrame({"age": [31, 45], "sex": ["F", "M"]}),
        pl.DataFrame({"age": [31, 45], "sex": ["F", "M"]}).lazy(),
        {"age": [31, 45], "sex": ["F", "M"]},
    ],
    ids=["arrow", "batch", "pandas", "polars", "polars-lazy", "dict"],
)
def test_same_table_from_every_input(data: object) -> None:
    table = to_table(data)
    assert table.column_names == ["age", "sex"]
    assert table.column("age").to_pylist() == [31, 45]
    assert table.column("sex").to_pylist() == ["F", "M"]


def test_numpy_arrays() -> None:
    table = to_table(np.arange(6, dtype=float).reshape(3, 2))
    assert table.column_names == ["x0", "x1"] and table.column("x1").to_pylist() == [1.0, 3.0, 5.0]
    structured = np.array([(1, 2.5)], dtype=[("a", "i8"), ("b", "f8")])
    assert to_table(structured).column_names == ["a", "b"]
    with pytest.raises(InputError, match="1-D or 2-D"):
        to_table(np.zeros((2, 2, 2)))


def test_files(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("age,sex\n31,F\n45,M\n", encoding="utf-8")
    pq.write_table(EXPECTED, tmp_path / "t.parquet")
    (tmp_path / "t.jsonl").write_text('{"age": 31, "sex": "F"}\n{"age": 45, "sex": "M"}\n')
    for name in ("t.csv", "t.parquet", "t.jsonl"):
        assert to_table(tmp_path / name).equals(EXPECTED), name


def test_unicode_csv(tmp_path: Path) -> None:
    f = tmp_path / "u.csv"
    f.write_text("name,city\nZoë,Zürich\n李,北京\n", encoding="utf-8")
    assert to_table(f).column("city").to_pylist() == ["Zürich", "北京"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"empty \(0 bytes\)"),
        (b"a,b\n1,2\n3\n", "ragged row"),
        (b"name\n\xff\xfeabc\n", "not valid UTF-8"),
    ],
)
def test_bad_csv(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        to_table(f)
    assert info.value.path == str(f)


def test_ragged_row_names_the_row(tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text("a,b\n1,2\n3,4\n5\n")
    with pytest.raises(InputError) as info:
        to_table(f)
    assert info.value.row == 4  # for CSV files, row is the line number (header = line 1)


def test_header_only_is_an_empty_table(tmp_path: Path) -> None:
    f = tmp_path / "h.csv"
    f.write_text("a,b\n")
    table = to_table(f)
    assert table.num_rows == 0 and table.column_names == ["a", "b"]


def test_missing_and_unknown(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        to_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="file format"):
        to_table(tmp_path / "data.xlsx")
    with pytest.raises(InputError, match="cannot use a set"):
        to_table({1, 2})


def test_dict_errors() -> None:
    with pytest.raises(InputError, match="different lengths") as info:
        to_table({"a": [1, 2], "b": [1]})
    assert info.value.column == "b"
    with pytest.raises(InputError, match="mixed or unsupported") as info:
        to_table({"a": [1, "x"]})
    assert info.value.column == "a"


def test_records() -> None:
    table = to_table([{"age": 31, "sex": "F"}, {"age": 45}])
    assert table.column("sex").to_pylist() == ["F", None]
    with pytest.raises(InputError) as info:
        to_table([{"a": 1}, {"a": "x"}])
    assert info.value.column == "a"
