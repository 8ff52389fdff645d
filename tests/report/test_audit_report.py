"""The audit report rendered from a real audit's JSON: summary first, every section, escaped."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression

from mlaudit.audit import run_audit
from mlaudit.audit.result import TITLES
from mlaudit.errors import InputError
from mlaudit.models import load
from mlaudit.report import HtmlReport, audit_html, render_audit
from mlaudit.report.format import esc

NASTY = "<script>alert(1)</script>"
SMALL = "tiny<b>group</b>"  # below the minimum group size: shown, not judged


def make_table(n: int, *, seed: int, shift: float = 0.0, labelled: bool = True) -> pa.Table:
    """x1, x2 numeric, region, sex (with a hostile group name and a tiny group), y."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(shift, 1, n)
    x2 = rng.normal(0, 1, n)
    sex = rng.choice(np.array(["F", NASTY]), n).astype(object)
    sex[:12] = SMALL
    region = rng.choice(np.array(["N", "S", "E", "W"]), n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x1 - x2)))).astype(int)
    cols: dict[str, Any] = {"x1": x1, "x2": x2, "region": region, "sex": sex.tolist()}
    if labelled:
        cols["y"] = y
    return pa.table(cols)


def audit_documents() -> dict[str, dict[str, Any]]:
    """{"full": labelled current data, "nolabels": performance estimated}, as JSON dicts."""
    train, ref = make_table(1500, seed=1), make_table(1500, seed=2)
    est = LogisticRegression().fit(np.column_stack([train["x1"], train["x2"]]), np.asarray(train["y"]))
    model = load(est, feature_names=["x1", "x2"])
    cur = make_table(1500, seed=3, shift=0.9)
    full = run_audit(model, ref, cur, suite="full", labels="y", sensitive=["sex"], train=train)
    unlabelled = make_table(1500, seed=3, shift=0.9, labelled=False)
    nolabels = run_audit(model, ref, unlabelled, suite="full", labels="y", sensitive=["sex"])
    # through JSON, as a stored result would come back
    return {k: json.loads(json.dumps(r.to_dict())) for k, r in (("full", full), ("nolabels", nolabels))}


@pytest.fixture(scope="module")
def docs() -> dict[str, dict[str, Any]]:
    return audit_documents()


def _text(html: str) -> str:
    """Visible text (tags dropped), for order checks."""
    return re.sub(r"<[^>]+>", " ", html)


def test_summary_comes_first_with_verdict_and_failing_checks(docs: dict[str, dict[str, Any]]) -> None:
    doc = docs["full"]
    html = audit_html(doc)
    assert doc["status"] == "fail"
    assert "Model audit: sklearn model" in html
    assert 'class="verdict bad"' in html and "Audit failed" in html
    summary = html[html.index('id="summary"') : html.index('id="checks"')]
    failing = [f for f in doc["findings"] if f["status"] == "fail"]
    assert failing
    for f in doc["findings"]:
        assert esc(f["message"]) in summary
    assert "What to do:" in summary
    assert "consider retraining" in summary  # drift advice
    assert "Collect more data" in summary  # weak segments advice
    # worst first: every fail before every warn
    positions = [summary.index(esc(f["message"])) for f in doc["findings"]]
    assert positions == sorted(positions)
    order = [html.index(f'id="{a}"') for a in ("summary", "checks", "s-0", "inputs")]
    assert order == sorted(order)


def test_every_check_and_every_section_is_shown(docs: dict[str, dict[str, Any]]) -> None:
    for doc in docs.values():
        html = audit_html(doc)
        table = html[html.index('id="checks"') : html.index('id="s-0"')]
        for s in doc["sections"]:
            assert f">{s['title']} " in html, s["title"]
            for r in s["results"]:
                assert f"<code>{r['check']}</code>" in table.replace("&#x27;", "'")
        assert {s["name"] for s in doc["sections"]} <= set(TITLES)


def test_figures_and_section_contents(docs: dict[str, dict[str, Any]]) -> None:
    html = audit_html(docs["full"])
    blob = json.loads(re.search(r'id="mlaudit-figures">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    kinds = {fid: [t["type"] for t in f["data"]] for fid, f in blob.items()}
    assert len(blob) >= 6  # performance, fairness, calibration, stability, importance, robustness
    assert all(kinds.values())
    perf = next(f for f in blob.values() if f["data"][0].get("error_x", {}).get("arrayminus"))
    assert [t["name"] for t in perf["data"]] == ["reference", "current"]
    assert "Four-fifths rule" in html and "not judged" in html and 'class="greyed"' in html
    assert "Reliability curve" in html and "perfectly calibrated" in json.dumps(blob)
    assert "gap (train − holdout)" in html and "margin over the baseline" in html
    assert "q-value" in html and "Data-quality rule results" in html
    # drift table: summaries only, no raw values
    assert "Drift test of every feature" in html and "ks" in html


def test_estimated_performance_and_skipped_sections(docs: dict[str, dict[str, Any]]) -> None:
    doc = docs["nolabels"]
    html = audit_html(doc)
    assert "Labels pending" in html and "current (estimated)" in html
    skipped = [s for s in doc["sections"] if s["skipped"]]
    assert skipped
    for s in skipped:
        assert f"Skipped: {s['skipped']}" in _text(html).replace("&#x27;", "'")
    assert "Skipped sections" in html
    assert doc["notes"][0].split(":")[0] in html


def test_hostile_names_are_escaped(docs: dict[str, dict[str, Any]]) -> None:
    for doc in docs.values():
        html = render_audit(doc).html
        assert NASTY not in html
        assert "<b>group</b>" not in html
        # the escaped name is there in the text and (with Plotly's entities) in the figures
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "\\u003cscript" in html
        assert html.count("<script") == html.count("</script>")


def test_inputs_lineage_and_recorded(docs: dict[str, dict[str, Any]]) -> None:
    doc = dict(docs["full"])
    doc["model"] = {"name": "credit", "version": 2, "ref": "credit@v2", "framework": "sklearn",
                    "fingerprint": "sha256:" + "ab" * 32}  # fmt: skip
    doc["inputs"] = {**doc["inputs"], "reference": {**doc["inputs"]["reference"], "dataset": "loans@v3",
                                                    "fingerprint": "sha256:" + "cd" * 32}}  # fmt: skip
    doc["recorded"] = {"result": "r-123", "seq": 42, "run": "run-9", "workspace": "/tmp/ws"}
    html = audit_html(doc)
    assert "<title>Model audit: credit@v2</title>" in html
    inputs = html[html.index('id="inputs"') :]
    for text in ("loans@v3", "cd" * 32, "ab" * 32, "r-123", "42", "run-9", "ledger seq"):
        assert text in inputs
    assert "Not recorded" in audit_html(docs["full"])


def test_page_is_small_and_self_contained(docs: dict[str, dict[str, Any]]) -> None:
    report = render_audit(docs["full"])
    assert isinstance(report, HtmlReport)
    assert len(report.html.encode()) < 5_000_000
    assert "Content-Security-Policy" in report.html
    markup = report.html[: report.html.index('<script type="application/json"')]
    assert not re.search(r'(src|href)="https?://', markup)


def test_rejects_what_is_not_an_audit() -> None:
    with pytest.raises(InputError):
        audit_html({"kind": "drift_report"})
