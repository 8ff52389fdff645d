"""Open every compliance document in headless Chromium: no console error, no network request,
figures drawn, no sideways scrolling on a phone; screenshots kept.

Needs Debian's ``/usr/bin/chromium`` and the ``playwright`` package (never ``playwright
install``). Skipped when either is missing, except with ``CI=true`` where that fails.
Screenshots go to ``$MLAUDIT_SCREENSHOTS`` if set, else to the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mlaudit
from mlaudit.compliance import KINDS

SUBJECTS = {"card": "credit-risk", "validation": "credit-risk", "annex-iv": "credit-risk"}

pytestmark = pytest.mark.browser
MEASURES = {
    "sections": "document.querySelectorAll('main section').length",
    "gaps": "document.querySelectorAll('.gaps li').length",
    "footer": "document.querySelector('.docmeta') !== null",
}


@pytest.mark.parametrize("kind", KINDS)
def test_documents_render_offline_at_desktop_and_phone_width(
    open_page: Any, demo_workspace: Path, tmp_path: Path, shots: Path, kind: str
) -> None:
    subject = SUBJECTS.get(kind, "credit-applications@v1")
    with mlaudit.open(demo_workspace, create=False) as ws:
        made = ws.reports.generate(subject, kind, tmp_path / f"{kind}.html")
    for width in (1280, 390):
        seen = open_page(made.path, width, shots / f"doc-{kind}-{width}.png", MEASURES)
        assert seen["problems"] == []
        assert seen["sections"] == len(made.document.sections) + 1  # + the summary
        assert seen["gaps"] == len(made.document.gaps())
        assert seen["footer"]
        assert seen["slots"] == (1 if kind == "card" else 0)
        assert seen["overflow"] <= 0, f"the {kind} page scrolls sideways at {width}px"


def test_the_demo_workspaces_html_reports_render_offline(
    open_page: Any, demo_workspace: Path, tmp_path: Path, shots: Path
) -> None:
    """Every HTML report kind, from what the demo left: its drift, profile and audit pages, and
    the stored check, fairness (from the audit) and audit results re-rendered from the ledgered
    documents."""
    from mlaudit.report import audit_html, check_html, fairness_html, write_html

    reports = demo_workspace.parent / "reports"
    pages = {name: reports / f"{name}.html" for name in ("drift", "profile", "audit")}
    with mlaudit.open(demo_workspace, create=False) as ws:
        check = ws.audits.list(kind="check_report")[0].document
        audit = ws.audits.list(kind="audit_report")[0].document
    fairness = next(s["document"] for s in audit["sections"] if s["name"] == "fairness")
    pages["check-stored"] = write_html(check_html(check), tmp_path / "check.html")
    pages["fairness-stored"] = write_html(fairness_html(fairness), tmp_path / "fairness.html")
    pages["audit-stored"] = write_html(audit_html(audit), tmp_path / "audit.html")
    for name, path in pages.items():
        seen = open_page(path, 1280, shots / f"demo-{name}-1280.png", MEASURES)
        assert seen["problems"] == [], name
        assert seen["overflow"] <= 0, name
        if name != "check-stored":
            assert seen["slots"] > 0, name
