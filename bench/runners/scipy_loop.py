"""The plain SciPy loop users write: KS per numeric column, chi-square per categorical, p < 0.05.

No multiple-testing correction (that is what people write). Native frame: pandas.DataFrame.
"""

from __future__ import annotations

import _common
import numpy as np
import pandas as pd
import scipy
from scipy import stats

ALPHA = 0.05


def main() -> None:
    a = _common.parse_args()
    base = _common.current_rss_mb()
    clk = _common.Clock()
    ref = pd.read_parquet(a.reference)
    cur = pd.read_parquet(a.current)
    load = clk.lap()

    drifted: list[str] = []
    for col in a.numeric:
        x = ref[col].dropna().to_numpy()
        y = cur[col].dropna().to_numpy()
        if stats.ks_2samp(x, y).pvalue < ALPHA:
            drifted.append(col)
    for col in a.categorical:
        counts = pd.concat([ref[col].value_counts(), cur[col].value_counts()], axis=1).fillna(0)
        table = counts.to_numpy(dtype=np.float64).T  # 2 x k
        if stats.chi2_contingency(table).pvalue < ALPHA:
            drifted.append(col)
    secs = clk.lap()
    _common.emit(
        "scipy",
        f"scipy {scipy.__version__}, pandas {pd.__version__}",
        drifted,
        load,
        secs,
        base,
        methods=["ks_2samp", "chi2_contingency"],
    )


if __name__ == "__main__":
    main()
