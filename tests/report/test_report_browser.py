"""Open the reports in headless Chromium: no console error, no network, plots drawn.

Needs Debian's ``/usr/bin/chromium`` and the ``playwright`` package (never ``playwright
install``). Skipped when either is missing, except with ``CI=true`` where that fails.
Screenshots go to ``$MLAUDIT_SCREENSHOTS`` if set, else to the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlaudit.report import HtmlReport, drift_html, profile_html

pytestmark = pytest.mark.browser


def test_drift_report_renders_offline_at_desktop_and_phone_width(
    open_page: Any, drift_case: Any, tmp_path: Path, shots: Path
) -> None:
    report, ref, cur = drift_case
    path = HtmlReport(drift_html(report, ref, cur, reference_name="train.parquet")).save(
        tmp_path / "drift.html"
    )
    for width in (1280, 390):
        seen = open_page(path, width, shots / f"drift-{width}.png")
        assert seen["problems"] == []
        assert seen["slots"] == len(ref.columns)  # the severity chart + all but the text column
        assert seen["drawn"] == seen["slots"]
        assert seen["bars"] > 0
        assert seen["overflow"] <= 0, f"the page scrolls sideways at {width}px"


def test_profile_report_renders_offline(
    open_page: Any, reference_profile: Any, tmp_path: Path, shots: Path
) -> None:
    path = HtmlReport(profile_html(reference_profile)).save(tmp_path / "profile.html")
    seen = open_page(path, 390, shots / "profile-390.png")
    assert seen["problems"] == []
    assert seen["drawn"] == seen["slots"] == len(reference_profile.columns) - 1  # text: no plot
    assert seen["overflow"] <= 0
