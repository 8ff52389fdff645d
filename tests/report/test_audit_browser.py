"""Open the audit report in headless Chromium: no console error, no network, figures drawn.

Same rules as ``test_browser.py``: Debian's ``/usr/bin/chromium`` through Playwright, skipped
when either is missing except with ``CI=true``; screenshots to ``$MLAUDIT_SCREENSHOTS`` or
the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_audit_report import audit_documents

from mlaudit.report import render_audit

pytestmark = pytest.mark.browser
MEASURES = {"sections": "document.querySelectorAll('section.audit-section').length"}


def test_audit_report_renders_offline_at_desktop_and_phone_width(
    open_page: Any, tmp_path: Path, shots: Path
) -> None:
    docs = audit_documents()
    for name, widths in (("full", (1280, 390)), ("nolabels", (390,))):
        doc = docs[name]
        path = render_audit(doc).save(tmp_path / f"audit-{name}.html")
        for width in widths:
            seen = open_page(path, width, shots / f"audit-{name}-{width}.png", MEASURES)
            assert seen["problems"] == []
            assert seen["plotly"] > 0
            assert seen["drawn"] == seen["slots"] >= 5
            assert seen["sections"] == len(doc["sections"])
            assert seen["overflow"] <= 0, f"the page scrolls sideways at {width}px"
