"""Pure statistics: Arrow tables and arrays in, small frozen results out.

No I/O, no store, no printing. Functions live in their modules (``mlaudit.stats.drift.drift``,
``mlaudit.stats.profile.profile``); the package exports the result types. This is the hot
path, so everything here is vectorised.
Profiles (:mod:`~mlaudit.stats.profile`) summarise a table in mergeable sketches; drift
(:mod:`~mlaudit.stats.drift`) compares a fitted reference with current data; quality
(:mod:`~mlaudit.stats.quality`) holds the data-quality rule functions.
"""

from __future__ import annotations

from mlaudit.stats.drift import ColumnDrift, DriftDetector, DriftReport
from mlaudit.stats.profile import ColumnProfile, Profile
from mlaudit.stats.result import Result, Status, worst

__all__ = [
    "ColumnDrift",
    "ColumnProfile",
    "DriftDetector",
    "DriftReport",
    "Profile",
    "Result",
    "Status",
    "worst",
]
