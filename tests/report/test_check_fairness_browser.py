"""Open the check and fairness reports in headless Chromium: no console error, no network,
figures drawn, no sideways scrolling at desktop or phone width.

Same rules as ``test_browser.py``: Debian's ``/usr/bin/chromium`` through Playwright, skipped
when either is missing except with ``CI=true``; screenshots to ``$MLAUDIT_SCREENSHOTS`` or
the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from result_data import check_document, fairness_document

from mlaudit.report.check_report import render_check
from mlaudit.report.fairness_report import render_fairness

pytestmark = pytest.mark.browser
MEASURES = {
    "points": "document.querySelectorAll('.plot .scatterlayer .point').length",
    "greyed": "document.querySelectorAll('tr.greyed').length",
    "scripts": "[...document.querySelectorAll('script')].filter(s => s.src).length",
}


def test_check_report_renders_offline_at_desktop_and_phone_width(
    open_page: Any, tmp_path: Path, shots: Path
) -> None:
    path = render_check(check_document(), source="orders.csv").save(tmp_path / "check.html")
    for width in (1280, 390):
        seen = open_page(path, width, shots / f"check-{width}.png", MEASURES)
        assert seen["problems"] == []
        assert seen["slots"] == seen["drawn"] == 1
        assert seen["bars"] >= 4  # unique, range, allowed_values, not_null(email) (+ passing ones)
        assert seen["scripts"] == 0
        assert seen["overflow"] <= 0, f"the page scrolls sideways at {width}px"


def test_fairness_report_renders_offline_at_desktop_and_phone_width(
    open_page: Any, tmp_path: Path, shots: Path
) -> None:
    path = render_fairness(fairness_document(), source="scored.csv").save(tmp_path / "fairness.html")
    for width in (1280, 390):
        seen = open_page(path, width, shots / f"fairness-{width}.png", MEASURES)
        assert seen["problems"] == []
        assert seen["slots"] == seen["drawn"] == 2  # groups, disparities
        assert seen["bars"] > 0 and seen["points"] > 0
        assert seen["greyed"] == 1  # the group below the minimum size
        assert seen["overflow"] <= 0, f"the page scrolls sideways at {width}px"
