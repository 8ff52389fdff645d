"""Pure statistics: Arrow tables and arrays in, small frozen results out.

No I/O, no store, no printing. This is the hot path, so everything here is vectorised.
"""

from __future__ import annotations

from mlaudit.stats.result import Result, Status, worst

__all__ = ["Result", "Status", "worst"]
