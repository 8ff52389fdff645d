"""Open every compliance document in headless Chromium: no console error, no network request,
figures drawn, no sideways scrolling on a phone; screenshots kept.

Needs Debian's ``/usr/bin/chromium`` and the ``playwright`` package (never ``playwright
install``). Skipped when either is missing, except with ``CI=true`` where that fails.
Screenshots go to ``$MLAUDIT_SCREENSHOTS`` if set, else to the test's tmp_path.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

import mlaudit
from mlaudit.compliance import KINDS

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SUBJECTS = {"card": "credit-risk", "validation": "credit-risk", "annex-iv": "credit-risk"}

pytestmark = pytest.mark.browser


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is missing (pip install playwright)"
    return None


@pytest.fixture(scope="module")
def browser() -> Any:
    reason = _missing()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MLAUDIT_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(browser: Any, path: Path, width: int, shot: Path) -> dict[str, Any]:
    """Load ``path`` at ``width``, draw every figure, screenshot; return what was seen."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog opened: {d.message}"), d.dismiss()))
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith(("file:", "data:", "blob:")) else problems.append(f"request {r.url}")
        ),
    )
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.evaluate("() => { if (window.mlauditDrawAll) window.mlauditDrawAll(); }")
    drawn = "[...document.querySelectorAll('.plot')].filter(el => el.querySelector('svg.main-svg .trace'))"
    page.wait_for_function(f"{drawn}.length === document.querySelectorAll('.plot').length")
    seen = page.evaluate(
        """() => ({
        slots: document.querySelectorAll('.plot').length,
        sections: document.querySelectorAll('main section').length,
        gaps: document.querySelectorAll('.gaps li').length,
        footer: document.querySelector('.docmeta') !== null,
        overflow: document.documentElement.scrollWidth - window.innerWidth,
    })"""
    )
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    seen["problems"] = problems
    return seen


@pytest.mark.parametrize("kind", KINDS)
def test_documents_render_offline_at_desktop_and_phone_width(
    browser: Any, demo_workspace: Path, tmp_path: Path, shots: Path, kind: str
) -> None:
    subject = SUBJECTS.get(kind, "credit-applications@v1")
    with mlaudit.open(demo_workspace, create=False) as ws:
        made = ws.reports.generate(subject, kind, tmp_path / f"{kind}.html")
    for width in (1280, 390):
        seen = _open(browser, made.path, width, shots / f"doc-{kind}-{width}.png")
        assert seen["problems"] == []
        assert seen["sections"] == len(made.document.sections) + 1  # + the summary
        assert seen["gaps"] == len(made.document.gaps())
        assert seen["footer"]
        assert seen["slots"] == (1 if kind == "card" else 0)
        assert seen["overflow"] <= 0, f"the {kind} page scrolls sideways at {width}px"


def test_the_demo_workspaces_html_reports_render_offline(
    browser: Any, demo_workspace: Path, tmp_path: Path, shots: Path
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
        seen = _open(browser, path, 1280, shots / f"demo-{name}-1280.png")
        assert seen["problems"] == [], name
        assert seen["overflow"] <= 0, name
        if name != "check-stored":
            assert seen["slots"] > 0, name
