"""mlaudit: ``DriftDetector().fit(reference).compare(current)`` with all defaults.

Native frame: pyarrow.Table (pyarrow.parquet.read_table). ``seconds`` = fit + compare
(the "profile + all default tests" number); ``compare_seconds`` = compare alone
(the reference already fitted, as when monitoring many windows).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import _common
import pyarrow as pa
import pyarrow.parquet as pq

import mlaudit
from mlaudit.stats.drift import DriftDetector


def _source_digest() -> str:
    """The mlaudit tree is not always committed when benchmarked: fingerprint the drift code."""
    h = hashlib.sha256()
    stats_dir = Path(mlaudit.__file__).parent / "stats"
    for f in sorted(stats_dir.glob("*.py")):
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def main() -> None:
    a = _common.parse_args()
    base = _common.current_rss_mb()
    clk = _common.Clock()
    ref = pq.read_table(a.reference)
    cur = pq.read_table(a.current)
    load = clk.lap()
    input_bytes = ref.nbytes + cur.nbytes

    det = DriftDetector().fit(ref)
    fit_secs = clk.lap()
    report = det.compare(cur)
    drifted = list(report.drifted_columns)
    compare_secs = clk.lap()
    tests = sorted({c.test for c in report.columns})
    _common.emit(
        "mlaudit",
        f"mlaudit {getattr(mlaudit, '__version__', '?')} (stats/*.py sha256 {_source_digest()}), "
        f"pyarrow {pa.__version__}",
        drifted,
        load,
        fit_secs + compare_secs,
        base,
        fit_seconds=round(fit_secs, 4),
        compare_seconds=round(compare_secs, 4),
        input_mb=round(input_bytes / 2**20, 1),
        methods=tests,
    )


if __name__ == "__main__":
    main()
