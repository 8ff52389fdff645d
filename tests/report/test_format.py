from __future__ import annotations

import pytest

from mlaudit.report.format import esc, fmt_datetime, fmt_int, fmt_num, fmt_p, fmt_pct, plot_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"), (float("nan"), "—"), (float("inf"), "∞"), (0.0, "0"), (12.0, "12"),
        (0.5004, "0.5004"), (855.74, "855.7"), (35041.7, "35,042"), (2.5, "2.5"),
        (1234567.0, "1.235e+06"), (0.000012345, "1.234e-05"), (-0.25, "-0.25"),
    ],
)  # fmt: skip
def test_fmt_num(value: float | None, text: str) -> None:
    assert fmt_num(value) == text


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (None, "—"),
        (0.0, "< 1e-300"),
        (3e-12, "3.0e-12"),
        (0.0004, "4.0e-04"),
        (0.04123, "0.0412"),
        (1.0, "1"),
    ],
)
def test_fmt_p_is_scientific_when_tiny(p: float | None, text: str) -> None:
    assert fmt_p(p) == text


def test_fmt_pct_int_and_datetime() -> None:
    assert [fmt_pct(s) for s in (0.0, 0.5, 0.0412, 0.004, 0.00001)] == [
        "0%",
        "50%",
        "4.1%",
        "0.40%",
        "< 0.01%",
    ]
    assert fmt_int(1234567) == "1,234,567"
    assert fmt_datetime(1_704_067_200) == "2024-01-01"
    assert fmt_datetime(1_704_067_261) == "2024-01-01 00:01:01"


def test_escaping_for_html_and_for_plotly() -> None:
    assert esc('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert plot_text('<b>"x"</b>&') == '&lt;b&gt;"x"&lt;/b&gt;&amp;'  # Plotly knows no &quot;
