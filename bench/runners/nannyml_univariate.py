"""NannyML's UnivariateDriftCalculator with its default methods (Jensen-Shannon for both kinds)
and default thresholds (reference chunks' mean + 3 std).

``--chunks N`` (default 10 = NannyML's DefaultChunker) splits reference and analysis into N
chunks each; a column is flagged when any method alerts on any analysis chunk. With
``--chunks 1`` (a single chunk for the current data) the reference has one chunk, its standard
deviation is 0 and the threshold collapses to the reference value (0): every column alerts.
Native frame: pandas.DataFrame. Timed: fit + calculate + reading the alerts.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")  # no usage telemetry (no network here)

import _common  # noqa: I001
import warnings

import nannyml as nml
import pandas as pd

warnings.filterwarnings("ignore")


def main() -> None:
    chunks = 10
    if "--chunks" in sys.argv:
        i = sys.argv.index("--chunks")
        chunks = int(sys.argv[i + 1])
        del sys.argv[i : i + 2]
    a = _common.parse_args()
    base = _common.current_rss_mb()
    clk = _common.Clock()
    ref = pd.read_parquet(a.reference)
    cur = pd.read_parquet(a.current)
    load = clk.lap()

    calc = nml.UnivariateDriftCalculator(
        column_names=a.numeric + a.categorical,
        treat_as_categorical=a.categorical,
        chunk_number=chunks,
    )
    calc.fit(ref)
    res = calc.calculate(cur).filter(period="analysis").to_df()
    alert_cols = [c for c in res.columns if c[-1] == "alert"]
    drifted = sorted({c[0] for c in alert_cols if bool(res[c].any())})
    secs = clk.lap()
    methods = sorted({c[1] for c in alert_cols})
    _common.emit(
        "nannyml",
        f"nannyml {nml.__version__}, pandas {pd.__version__}",
        drifted,
        load,
        secs,
        base,
        methods=methods,
        chunks=chunks,
    )


if __name__ == "__main__":
    main()
