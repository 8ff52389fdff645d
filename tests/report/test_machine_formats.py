"""Markdown for every report kind and JUnit XML for audits and checks, from stored JSON."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pytest
from result_data import NASTY, check_document, fairness_document
from test_audit_report import audit_documents

from mlaudit.errors import InputError
from mlaudit.report import to_junit, to_markdown
from mlaudit.report.markdown import cell
from mlaudit.stats.performance import evaluate

_PIPE = re.compile(r"(?<!\\)\|")


@pytest.fixture(scope="module")
def audits() -> dict[str, dict[str, Any]]:
    return audit_documents()


def performance_document() -> dict[str, Any]:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 400)
    score = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    seg = np.where(rng.random(400) < 0.5, "a|b", "c")
    return evaluate(y, y_score=score, segments=seg, n_boot=50).to_dict()


def _tables_are_well_formed(md: str) -> int:
    """Every table row has as many cells as its header; returns how many tables there are."""
    tables, width = 0, None
    for line in md.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        cells = len(_PIPE.findall(line))
        if width is None:
            width, tables = cells, tables + 1
        assert cells == width, line
    return tables


def test_cells_escape_pipes_newlines_and_markup() -> None:
    assert cell(NASTY) == '&lt;script&gt;alert("x")&lt;/script&gt;\\|pipe<br>line'
    assert cell(None) == "" and cell("[x](y) *b* `c`") == "\\[x\\](y) \\*b\\* \\`c\\`"


def test_every_kind_renders_summary_first_with_well_formed_tables(
    drift_case: Any, reference_profile: Any, audits: dict[str, dict[str, Any]]
) -> None:
    drift, _, _ = drift_case
    docs = {
        "profile": reference_profile.to_dict(),
        "drift": drift.to_dict(),
        "check": check_document(),
        "fairness": fairness_document(),
        "audit": audits["full"],
        "audit-nolabels": audits["nolabels"],
        "performance": performance_document(),
    }
    for name, doc in docs.items():
        md = to_markdown(doc)
        lines = md.splitlines()
        assert lines[0].startswith("# ") and lines[1] == "", name
        assert _tables_are_well_formed(md) >= 1, name
        assert "<script" not in md and "<b>" not in md, name
        assert "\n## Findings" not in md or md.index("## Findings") < md.index("\n|"), name


def test_markdown_says_what_failed(drift_case: Any, audits: dict[str, dict[str, Any]]) -> None:
    check = to_markdown(check_document())
    assert (
        check.startswith("# Data quality: failed") and "❌ fail unique(id): 5 of 2,000 rows offend" in check
    )
    assert "## Example rows" in check and "*null*" in check
    fair = to_markdown(fairness_document())
    assert "❌ fail demographic_parity_ratio is 0.621" in fair and "*not judged*" in fair
    assert "**flagged**" in fair
    drift = to_markdown(drift_case[0].to_dict())
    assert drift.startswith("# Data drift: no dataset drift") and "**3 of 9 columns drifted**" in drift
    assert "❌ drifted: age" in drift and "❌ drifted: city" in drift
    audit = to_markdown(audits["full"])
    assert (
        audit.startswith("# Model audit of") and "*What to do:*" in audit and "## Fairness details" in audit
    )
    nolabels = to_markdown(audits["nolabels"])
    assert "⏭️ skipped" in nolabels and "❌ error" in nolabels


def test_markdown_refuses_unknown_kinds() -> None:
    with pytest.raises(InputError):
        to_markdown({"kind": "lineage_graph"})
    with pytest.raises(InputError):
        to_markdown([])  # type: ignore[arg-type]


def test_audit_junit_has_a_suite_per_section_and_a_case_per_result(audits: dict[str, dict[str, Any]]) -> None:
    for doc in audits.values():
        root = ET.fromstring(to_junit(doc))
        assert root.tag == "testsuites"
        suites = root.findall("testsuite")
        assert [s.get("name") for s in suites] == [s["title"] for s in doc["sections"]]
        counts = doc["counts"]
        assert int(root.get("failures") or -1) == counts["fail"]
        assert int(root.get("errors") or -1) == counts["error"]
        assert int(root.get("skipped") or -1) == counts["skipped"]
        assert int(root.get("tests") or -1) == sum(max(1, len(s["results"])) for s in doc["sections"])
        for suite, section in zip(suites, doc["sections"], strict=True):
            props = {p.get("name"): p.get("value") for p in suite.iter("property")}
            assert props["suite"] == "full" and props["section"] == section["name"]
            cases = suite.findall("testcase")
            assert {c.get("classname") for c in cases} == {section["name"]}
            if section["skipped"] and not section["results"]:
                assert cases[0].find("skipped") is not None
                continue
            for case, result in zip(cases, section["results"], strict=True):
                assert case.get("name") == result["check"]
                tag = {"fail": "failure", "error": "error", "warn": "system-out"}.get(result["status"])
                children = [c.tag for c in case]
                assert children == ([tag] if tag else []), (result["check"], children)
                if tag in ("failure", "error"):
                    assert case[0].get("message") and "what to do:" in (case[0].text or "")


def test_check_junit_has_a_case_per_rule_and_survives_control_characters() -> None:
    doc = check_document()
    doc["results"][1]["check"] = "unique(id)\x00\x1b[31m"
    root = ET.fromstring(to_junit(doc, name="mlaudit check orders.csv"))
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 7 and root.get("failures") == "3" and root.get("errors") == "1"
    assert cases[1].get("name") == "unique(id)\ufffd\ufffd[31m"
    assert cases[4].find("system-out") is not None  # warn passes, with a note
    failure = cases[3].find("failure")
    assert failure is not None and "<script>alert(" in (failure.text or "")  # the data, escaped by XML


def test_junit_refuses_other_kinds() -> None:
    with pytest.raises(InputError):
        to_junit(fairness_document())
