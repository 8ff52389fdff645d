"""The check and fairness pages, rendered from stored JSON: summary first, escaped, complete."""

from __future__ import annotations

import re

import pytest
from result_data import NASTY, SMALL, check_document, check_report, fairness_document, fairness_report

from mlaudit.errors import InputError
from mlaudit.report import HtmlReport, check_html, fairness_html, render_check, render_fairness
from mlaudit.report.format import esc


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def _body(html: str) -> str:
    """The page without its scripts (Plotly and the figure blob)."""
    return re.sub(r"<script\b.*?</script>", "", html, flags=re.DOTALL)


@pytest.fixture(scope="module")
def check_page() -> str:
    return check_html(check_document(), source="orders.csv")


@pytest.fixture(scope="module")
def fairness_page() -> str:
    return fairness_html(fairness_document(), source="scored.csv")


def test_check_page_puts_the_verdict_and_worst_findings_first(check_page: str) -> None:
    text = _text(check_page)
    assert "Data quality check failed" in text and "3 of 7 rules failed; 1 could not run" in text
    first = text.index("Findings, worst first")
    ids = [check_page.index(f'<section id="{i}"') for i in ("summary", "rules", "examples")]
    assert ids == sorted(ids)
    order = [text.index(s, first) for s in ("not_null(missing_column)", "unique(id)", "not_null(email)")]
    assert order == sorted(order)  # error, fail, warn
    assert "What to do" in text and "orders.csv" in text


def test_check_page_shows_every_rule_with_offending_counts_and_examples(check_page: str) -> None:
    for rule in ("not_null(id)", "unique(id)", "range(age)", "allowed_values(city)", "row_count"):
        assert f"<code>{rule}</code>" in check_page
    assert "0.25%" in check_page  # 5 of 2,000 rows break unique(id)
    assert "and 45 more offending row(s)" in check_page  # not_null(email): 50, 5 shown
    assert 'id="fig-shares"' in check_page


def test_check_page_escapes_data_values(check_page: str) -> None:
    body = _body(check_page)
    assert NASTY not in body and "<script>alert" not in body
    assert esc('<script>alert("x")</script>') in body


def test_fairness_page_summary_groups_disparities_and_four_fifths(fairness_page: str) -> None:
    text = _text(fairness_page)
    assert "Fairness check failed" in text and "3 of 3 judged disparities are beyond their limits" in text
    ids = [
        fairness_page.index(f'<section id="{i}"') for i in ("summary", "groups", "disparities", "four-fifths")
    ]
    assert ids == sorted(ids)
    assert "four-fifths rule is flagged" in text
    assert "not judged" in text and fairness_page.count('class="greyed"') == 1
    assert "0.1315" in text  # the bootstrap interval of demographic_parity_difference
    assert "≤ 0.1" in text and "≥ 0.8" in text and "no limit" in text
    assert "Fisher" in text and 'id="fig-groups"' in fairness_page and 'id="fig-disparities"' in fairness_page


def test_fairness_page_escapes_group_names(fairness_page: str) -> None:
    body = _body(fairness_page)
    assert SMALL not in body and NASTY not in body
    assert esc(SMALL) in body
    blob = re.search(r'id="mlaudit-figures">(.*?)</script>', fairness_page, re.DOTALL)
    assert blob is not None and "<script" not in blob.group(1) and "<b>" not in blob.group(1)


def test_a_passing_check_says_so() -> None:
    doc = check_document()
    doc["results"] = [r for r in doc["results"] if r["status"] == "pass"]
    page = check_html(doc)
    assert "Every rule passed" in page and "No findings" in page


def test_fairness_with_too_few_groups_says_it_could_not_be_judged() -> None:
    doc = fairness_document()
    for g in doc["groups"]:
        g["judged"] = False
    reason = {"reason": "0 group(s) with at least 30 rows"}
    doc["results"] = [{**r, "status": "error", "value": None, "details": reason} for r in doc["results"]]
    doc["four_fifths"] = {**doc["four_fifths"], "ratio": None, "flagged": False}
    page = fairness_html(doc)
    assert "Fairness could not be judged" in page and "Lower the minimum group size" in page


@pytest.mark.parametrize("render", [check_html, fairness_html, render_check, render_fairness])
def test_other_documents_are_refused(render: object) -> None:
    with pytest.raises(InputError):
        render({"kind": "drift_report"})  # type: ignore[operator]


def test_notebook_display_of_results_is_an_isolated_iframe(
    drift_case: object, reference_profile: object
) -> None:
    from mlaudit.stats.drift import DriftReport
    from mlaudit.stats.profile import Profile

    drift, _, _ = drift_case  # type: ignore[misc]
    assert isinstance(drift, DriftReport) and isinstance(reference_profile, Profile)
    for obj in (check_report(), fairness_report(), drift, reference_profile):
        html = obj._repr_html_()
        assert html.startswith("<iframe") and 'srcdoc="&lt;!DOCTYPE html&gt;' in html, type(obj)
        assert 'sandbox="allow-scripts"' in html


def test_html_report_wraps_rendered_pages() -> None:
    assert isinstance(render_check(check_document()), HtmlReport)
    assert render_fairness(fairness_document()).title == "Fairness: sex"


def test_notebook_display_without_plotly_is_an_escaped_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    import mlaudit.report.html as html_mod

    def no_plotly() -> str:
        raise InputError("HTML reports need the plotly package", hint="pip install plotly")

    monkeypatch.setattr(html_mod, "plotly_js", no_plotly)
    for obj in (check_report(), fairness_report()):
        html = obj._repr_html_()
        assert html.startswith("<pre>") and "plotly" in html and "<script" not in html
