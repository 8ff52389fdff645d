"""The SQL-like expression parser: semantics against pandas/hand results, errors, safety."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mlaudit.checks import parse_expression
from mlaudit.errors import InputError

TABLE = pa.table(
    {
        "amount": [10, -5, 0, None, 250],
        "status": ["closed", "open", "closed", "open", None],
        "closed_at": [None, None, "2024-01-02", None, "2024-02-01"],
        "score": [0.5, 1.5, None, 2.0, 3.0],
        "order date": [dt.date(2024, 1, 1), dt.date(2024, 3, 1), None, None, None],
        "flag": [True, False, True, None, False],
    }
)


def true_rows(text: str) -> list[int]:
    """Rows where the predicate is TRUE (not FALSE, not NULL)."""
    expr = parse_expression(text).expression
    mask = pc.fill_null(pa.compute.cast(_evaluate(expr), pa.bool_()), False)
    return [i for i, v in enumerate(mask.to_pylist()) if v]


def _evaluate(expr: pc.Expression) -> pa.ChunkedArray:
    index = TABLE.append_column("__i", pa.array(range(TABLE.num_rows)))
    kept = set(index.filter(expr).column("__i").to_pylist())
    return pa.chunked_array([[i in kept for i in range(TABLE.num_rows)]])


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("amount >= 0", [0, 2, 4]),
        ("amount > 0 AND status = 'closed' OR status IS NULL", [0, 4]),  # AND binds tighter
        ("amount > 0 AND (status = 'closed' OR status IS NULL)", [0, 4]),
        ("amount < 0 OR amount > 100 AND status = 'open'", [1]),
        ("(amount < 0 OR amount > 100) AND status IS NULL", [4]),
        ("NOT amount > 0 OR status = 'open'", [1, 2, 3]),
        ("amount + 5 * 2 = 20", [0]),  # * before +
        ("(amount + 5) * 2 = 30", [0]),
        ("amount / 4 = 2.5", [0]),  # true division
        ("-amount = 5", [1]),
        ("amount - -5 = 0", [1]),
        ("closed_at IS NULL", [0, 1, 3]),
        ("closed_at IS NOT NULL", [2, 4]),
        ("status IN ('open', 'pending')", [1, 3]),
        ("status NOT IN ('open')", [0, 2]),  # NULL NOT IN (...) is NULL, as in SQL
        ("amount BETWEEN 0 AND 10", [0, 2]),
        ("amount NOT BETWEEN 0 AND 10", [1, 4]),
        ("status LIKE 'clo%'", [0, 2]),
        ("score >= 1.5 AND score <= 2", [1, 3]),
        ("\"order date\" >= DATE '2024-02-01'", [1]),
        ("flag", [0, 2]),
        ("flag = TRUE AND amount = 10", [0]),
        ("status <> 'open' and amount != 0", [0]),  # keywords are case-insensitive
        ("amount == 10", [0]),
    ],
)
def test_semantics(text: str, rows: list[int]) -> None:
    assert true_rows(text) == rows


def test_columns_and_quoting() -> None:
    parsed = parse_expression("\"order date\" IS NULL OR \"we\"\"ird\" = 'it''s'")
    assert parsed.columns == ("order date", 'we"ird')
    assert parse_expression("straße > 1 AND 名前 = 'x'").columns == ("straße", "名前")


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("amount >", 8),
        ("amount >= 0 AND", 15),
        ("(amount > 1", 11),
        ("amount IN ()", 11),
        ("amount IN (other)", 11),
        ("amount IN (1, 'a')", 14),
        ("a ; b", 2),
        ("status IS 5", 10),
        ("a NOT 5", 6),
        ("a b", 2),
        ("a BETWEEN 1 OR 2", 12),
        ("x.y > 1", 1),
        ("'unterminated", 0),
    ],
)
def test_errors_name_the_position(text: str, position: int) -> None:
    with pytest.raises(InputError, match=f"at position {position}:"):
        parse_expression(text)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('echo hacked')",
        "open('/etc/passwd')",
        "amount.__class__",
        "lambda: 1",
        "[x for x in y]",
        "amount > 0; import os",
        "exec('1')",
        "",
        "   ",
    ],
)
def test_python_is_not_executed(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError):
        parse_expression(text)
    assert "hacked" not in capsys.readouterr().out
