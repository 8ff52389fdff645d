"""Open the check and fairness reports in headless Chromium: no console error, no network,
figures drawn, no sideways scrolling at desktop or phone width.

Same rules as ``test_browser.py``: Debian's ``/usr/bin/chromium`` through Playwright, skipped
when either is missing except with ``CI=true``; screenshots to ``$MLAUDIT_SCREENSHOTS`` or
the test's tmp_path.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest
from result_data import check_document, fairness_document

from mlaudit.report.check_report import render_check
from mlaudit.report.fairness_report import render_fairness

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

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
    page.wait_for_function("typeof window.mlauditDrawAll === 'function'")
    page.evaluate("window.mlauditDrawAll()")
    drawn = "[...document.querySelectorAll('.plot')].filter(el => el.querySelector('svg.main-svg .trace'))"
    page.wait_for_function(f"{drawn}.length === document.querySelectorAll('.plot').length")
    seen = page.evaluate(
        """() => ({
        slots: document.querySelectorAll('.plot').length,
        drawn: [...document.querySelectorAll('.plot.js-plotly-plot')]
            .filter(el => el.querySelector('svg.main-svg .trace') !== null).length,
        bars: document.querySelectorAll('.plot .trace.bars path').length,
        points: document.querySelectorAll('.plot .scatterlayer .point').length,
        greyed: document.querySelectorAll('tr.greyed').length,
        scripts: [...document.querySelectorAll('script')].filter(s => s.src).length,
        overflow: document.documentElement.scrollWidth - window.innerWidth,
    })"""
    )
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    seen["problems"] = problems
    return seen


def test_check_report_renders_offline_at_desktop_and_phone_width(
    browser: Any, tmp_path: Path, shots: Path
) -> None:
    path = render_check(check_document(), source="orders.csv").save(tmp_path / "check.html")
    for width in (1280, 390):
        seen = _open(browser, path, width, shots / f"check-{width}.png")
        assert seen["problems"] == []
        assert seen["slots"] == seen["drawn"] == 1
        assert seen["bars"] >= 4  # unique, range, allowed_values, not_null(email) (+ passing ones)
        assert seen["scripts"] == 0
        assert seen["overflow"] <= 0, f"the page scrolls sideways at {width}px"


def test_fairness_report_renders_offline_at_desktop_and_phone_width(
    browser: Any, tmp_path: Path, shots: Path
) -> None:
    path = render_fairness(fairness_document(), source="scored.csv").save(tmp_path / "fairness.html")
    for width in (1280, 390):
        seen = _open(browser, path, width, shots / f"fairness-{width}.png")
        assert seen["problems"] == []
        assert seen["slots"] == seen["drawn"] == 2  # groups, disparities
        assert seen["bars"] > 0 and seen["points"] > 0
        assert seen["greyed"] == 1  # the group below the minimum size
        assert seen["overflow"] <= 0, f"the page scrolls sideways at {width}px"
