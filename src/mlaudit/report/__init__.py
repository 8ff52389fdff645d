"""Reports: self-contained HTML pages (a data profile, drift between two tables, rule checks,
fairness, model audits), Markdown for every report kind, and JUnit XML for audits and checks.

A report is one ``.html`` file that opens offline anywhere: CSS, figure data and Plotly's
JavaScript (from the installed ``plotly`` package) are inside it, fonts are the system's,
and a Content-Security-Policy blocks every network request. Figures are drawn from
profiles, never from rows, so a report of a billion rows is as small as one of a thousand.
Each page puts its summary first (what failed, how badly, what to do), then a table of
every column with a status badge, then one section per column.

>>> from mlaudit.stats.drift import DriftDetector
>>> from mlaudit.stats.profile import profile
>>> ref = {"x": [float(i) for i in range(200)]}
>>> page = profile_html(profile(ref), source="train.csv")
>>> detector = DriftDetector(keep_profile=True).fit(ref)
>>> report = render_drift(detector, {"x": [float(i) + 80 for i in range(200)]})
>>> ("Column details" in page, "Dataset drift" in report.html)
(True, True)

Importing this package needs ``plotly`` only when a page with figures is rendered.
"""

from __future__ import annotations

from mlaudit.report.audit_report import audit_html, render_audit
from mlaudit.report.check_report import check_html, render_check
from mlaudit.report.drift_report import current_profile, drift_html, render_drift
from mlaudit.report.fairness_report import fairness_html, render_fairness
from mlaudit.report.html import HtmlReport, write_html
from mlaudit.report.junit import to_junit
from mlaudit.report.markdown import to_markdown
from mlaudit.report.profile_report import profile_html, render_profile

__all__ = [
    "HtmlReport",
    "audit_html",
    "check_html",
    "current_profile",
    "drift_html",
    "fairness_html",
    "profile_html",
    "render_audit",
    "render_check",
    "render_drift",
    "render_fairness",
    "render_profile",
    "to_junit",
    "to_markdown",
    "write_html",
]
