"""whylogs: profile both tables, then its drift report (calculate_drift_scores, default algorithms).

Defaults: KS test on the KLL sketches for numeric columns, chi-square on frequent items for
strings; drift_category "DRIFT" = p < 0.05 ("POSSIBLE_DRIFT" 0.05-0.15 is not counted).
Native frame: pandas.DataFrame. Timed: both profiles (why.log) + the drift scores.
"""

from __future__ import annotations

import os

os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")  # no usage telemetry (no network here)

import _common  # noqa: I001
import warnings

import pandas as pd
import whylogs as why
from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

warnings.filterwarnings("ignore")


def main() -> None:
    a = _common.parse_args()
    base = _common.current_rss_mb()
    clk = _common.Clock()
    ref = pd.read_parquet(a.reference)
    cur = pd.read_parquet(a.current)
    load = clk.lap()

    ref_view = why.log(ref).view()
    cur_view = why.log(cur).view()
    profile_secs = clk.lap()
    scores = calculate_drift_scores(target_view=cur_view, reference_view=ref_view, with_thresholds=True)
    drift_secs = clk.lap()
    drifted = [c for c, s in scores.items() if s and s.get("drift_category") == "DRIFT"]
    algos = sorted({str(s.get("algorithm")) for s in scores.values() if s})
    unscored = sorted(c for c, s in scores.items() if not s)
    _common.emit(
        "whylogs",
        f"whylogs {why.__version__}, pandas {pd.__version__}",
        drifted,
        load,
        profile_secs + drift_secs,
        base,
        profile_seconds=round(profile_secs, 4),
        compare_seconds=round(drift_secs, 4),
        methods=algos,
        unscored=unscored,
    )


if __name__ == "__main__":
    main()
