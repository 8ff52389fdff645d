"""Open the reports in headless Chromium: no console error, no network, plots drawn.

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

from mlaudit.report import HtmlReport, drift_html, profile_html

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
        overflow: document.documentElement.scrollWidth - window.innerWidth,
    })"""
    )
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    seen["problems"] = problems
    return seen


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MLAUDIT_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_drift_report_renders_offline_at_desktop_and_phone_width(
    browser: Any, drift_case: Any, tmp_path: Path, shots: Path
) -> None:
    report, ref, cur = drift_case
    path = HtmlReport(drift_html(report, ref, cur, reference_name="train.parquet")).save(
        tmp_path / "drift.html"
    )
    for width in (1280, 390):
        seen = _open(browser, path, width, shots / f"drift-{width}.png")
        assert seen["problems"] == []
        assert seen["slots"] == len(ref.columns)  # the severity chart + all but the text column
        assert seen["drawn"] == seen["slots"]
        assert seen["bars"] > 0
        assert seen["overflow"] <= 0, f"the page scrolls sideways at {width}px"


def test_profile_report_renders_offline(
    browser: Any, reference_profile: Any, tmp_path: Path, shots: Path
) -> None:
    path = HtmlReport(profile_html(reference_profile)).save(tmp_path / "profile.html")
    seen = _open(browser, path, 390, shots / "profile-390.png")
    assert seen["problems"] == []
    assert seen["drawn"] == seen["slots"] == len(reference_profile.columns) - 1  # text: no plot
    assert seen["overflow"] <= 0
