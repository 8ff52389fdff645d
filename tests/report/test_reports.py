"""Structure of the profile and drift pages: summary first, every column, escaping, size."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from report_data import DRIFTED, NASTY

import mlaudit.report as report_pkg
from mlaudit.errors import InputError
from mlaudit.report import current_profile, drift_html, profile_html, render_drift, render_profile
from mlaudit.report.html import plotly_js
from mlaudit.stats.drift import DriftDetector
from mlaudit.stats.profile import profile

ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the ids and text of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _without_bundle(html: str) -> str:
    return html.replace(plotly_js(), "")


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(_without_bundle(html))
    return parser.tags


def _assert_offline(html: str) -> None:
    """No external resource: no script src, no stylesheet link, no http(s) URL in markup."""
    for tag, attrs in _tags(html):
        assert not (tag == "script" and "src" in attrs), attrs
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag
        for name, value in attrs.items():
            assert not re.match(r"\s*(https?:)?//", value or ""), (tag, name, value)
    assert not re.search(r"https?://", _without_bundle(html))
    assert "@import" not in html and "@font-face" not in html


def _summary(html: str) -> str:
    return html.split('id="summary"', 1)[1].split('id="columns"', 1)[0]


@pytest.fixture(scope="module")
def drift_page(drift_case: Any) -> str:
    report, ref, cur = drift_case
    return drift_html(report, ref, cur, reference_name="<b>train</b>.csv", current_name="june.csv")


def test_drift_summary_comes_first_and_lists_the_drifted_columns(drift_page: str, drift_case: Any) -> None:
    report = drift_case[0]
    assert set(report.drifted_columns) == set(DRIFTED)
    summary = _summary(drift_page)
    assert (
        drift_page.index('id="summary"') < drift_page.index('id="columns"') < drift_page.index('id="details"')
    )
    assert "3 of 9 columns drifted" in summary
    drifted_list = summary.split("Drifted columns, worst first", 1)[1].split("</ol>", 1)[0]
    assert re.findall(r"<code>([^<]*)</code>", drifted_list) == sorted(
        DRIFTED, key=lambda n: -report.column(n).effect / report.column(n).threshold
    )
    assert "text column: not tested" in summary  # the skipped column, with its reason
    assert "What to do" in summary and "never seen" in summary  # advice for new categories


def test_drift_page_has_a_section_and_a_table_row_per_column(drift_page: str, drift_case: Any) -> None:
    report = drift_case[0]
    sections = re.findall(r'<article class="col" id="(col-\d+)"', drift_page)
    assert len(sections) == len(report.columns)
    table = drift_page.split('id="columns"', 1)[1].split('id="details"', 1)[0]
    assert table.count('badge drifted"') == 3 and table.count('badge skipped"') == 1
    assert table.count('badge ok"') == len(report.columns) - 4
    for link in re.findall(r'href="#(col-\d+)"', table):
        assert link in sections
    assert "&lt;b&gt;train&lt;/b&gt;.csv" in drift_page
    assert "< 1e-300" in drift_page or re.search(r"\d\.\de-\d{2,3}", drift_page)  # tiny p-values


def test_drift_page_escapes_column_names_and_values(drift_page: str) -> None:
    page = _without_bundle(drift_page)
    assert NASTY not in page and "<b>bold</b>" not in page and "<b>train" not in page
    assert ESCAPED in page
    scripts = [attrs for tag, attrs in _tags(drift_page) if tag == "script"]
    assert len(scripts) == 3  # figures JSON, Plotly, runtime: nothing injected
    _assert_offline(drift_page)


def test_profile_page_structure_alerts_and_escaping(reference_profile: Any) -> None:
    html = profile_html(reference_profile, title="<T>", source="s3://bucket/<x>.csv")
    summary = _summary(html)
    assert "3 of 9 columns need a look" in summary
    for name in ("score", "comment", "constant"):
        assert f"<code>{name}</code>" in summary
    assert len(re.findall(r'<article class="col" id="col-\d+"', html)) == len(reference_profile.columns)
    page = _without_bundle(html)
    assert NASTY not in page and ESCAPED in page and "&lt;T&gt;" in page
    assert "s3://bucket/&lt;x&gt;.csv" in page
    _assert_offline(html.replace("s3://bucket/&lt;x&gt;.csv", ""))


def test_empty_and_all_null_tables_render_without_figures() -> None:
    html = profile_html(profile({"x": np.array([], dtype=float)}))
    assert "The table has no rows." in html and "<script>" not in html
    nulls = profile({"x": [None, None]})
    assert "has no usable values" in profile_html(nulls)


def test_skipped_and_missing_columns_render(tmp_path: Path) -> None:
    ref = {"x": [1.0, 2.0, 3.0] * 20, "y": [None] * 60}
    det = DriftDetector(keep_profile=True).fit(ref)
    out = render_drift(det, {"x": [2.0] * 60, "y": [None] * 60}, title="w")
    assert "the reference has no" in out.html and 'badge skipped"' in out.html
    assert out.save(tmp_path / "w.html").stat().st_size == len(out.html.encode())


def test_render_drift_needs_a_reference_profile() -> None:
    det = DriftDetector().fit({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match="keep_profile=True"):
        render_drift(det, {"x": [1.0, 2.0, 3.0]})
    html = render_drift(det, {"x": [1.0, 2.0]}, reference=profile({"x": [1.0, 2.0, 3.0]})).html
    assert 'id="fig-0"' in html


def test_current_profile_shares_the_reference_bins_and_needs_its_columns() -> None:
    ref = profile({"x": [0.0, 10.0], "c": ["a", "b"]})
    cur = current_profile(ref, {"c": ["a"], "x": [50.0], "extra": [1]})
    assert list(cur.columns) == ["x", "c"]
    assert cur.column("x").histogram.edges == ref.column("x").histogram.edges
    assert cur.column("x").histogram.above == 1
    with pytest.raises(InputError, match="lacks a column"):
        current_profile(ref, {"x": [1.0]})


def test_million_row_report_is_the_bundle_plus_little() -> None:
    rng = np.random.default_rng(3)
    n = 1_000_000
    ref = {"a": rng.normal(0, 1, n), "b": rng.choice(["x", "y", "z"], n), "c": rng.exponential(1, n)}
    cur = {"a": rng.normal(0.3, 1, n), "b": rng.choice(["x", "y", "w"], n), "c": rng.exponential(1, n)}
    html = render_drift(DriftDetector(keep_profile=True).fit(ref), cur).html
    assert len(html.encode()) - len(plotly_js().encode()) < 150_000
    assert "a" in re.findall(r"<code>([^<]*)</code>", _summary(html))


def test_render_profile_accepts_tables_and_profiles() -> None:
    table = {"x": [1.0, 2.0]}
    assert render_profile(table).html == render_profile(profile(table)).html


def test_exported_names() -> None:
    public = {n for n in dir(report_pkg) if not n.startswith("_")} - {"annotations"}
    modules = {
        "audit_plots",
        "audit_report",
        "blocks",
        "check_report",
        "drift_report",
        "fairness_report",
        "format",
        "html",
        "junit",
        "markdown",
        "parts",
        "plots",
        "profile_report",
    }
    assert set(report_pkg.__all__) == public - modules
