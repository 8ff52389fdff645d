"""Fixtures for the report tests (data in :mod:`report_data`)."""

from __future__ import annotations

import pytest
from report_data import tables

from mlaudit.stats.drift import DriftDetector, DriftReport
from mlaudit.stats.profile import Profile, profile


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: opens reports in headless Chromium")


@pytest.fixture(scope="session")
def drift_case() -> tuple[DriftReport, Profile, Profile]:
    """(report, reference profile, current profile on the reference's bins)."""
    ref, cur = tables()
    det = DriftDetector(keep_profile=True).fit(ref)
    report = det.compare(cur)
    cur_profile = profile(cur, kinds=det.profile_.kinds(), bins=det.profile_.bins())
    return report, det.profile_, cur_profile


@pytest.fixture(scope="session")
def reference_profile() -> Profile:
    return profile(tables()[0])
