"""Evidently's DataDriftPreset with its defaults (evidently 0.7.x API: Report, Dataset,
DataDefinition; 0.4-0.6 had a different API and are not supported here).

Column types are declared explicitly (numeric / categorical), as a user would. A column is
drifted when its ValueDrift test fails (``Report(include_tests=True)``: the tool's own verdict,
its score against the default per-method threshold).
Native frame: pandas.DataFrame. Timed: Dataset wrapping + Report.run + reading the verdict.
"""

from __future__ import annotations

import warnings

import _common
import evidently
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset

warnings.filterwarnings("ignore")


def main() -> None:
    a = _common.parse_args()
    base = _common.current_rss_mb()
    clk = _common.Clock()
    ref = pd.read_parquet(a.reference)
    cur = pd.read_parquet(a.current)
    load = clk.lap()

    definition = DataDefinition(numerical_columns=a.numeric, categorical_columns=a.categorical)
    ref_ds = Dataset.from_pandas(ref, data_definition=definition)
    cur_ds = Dataset.from_pandas(cur, data_definition=definition)
    snapshot = Report([DataDriftPreset()], include_tests=True).run(current_data=cur_ds, reference_data=ref_ds)
    result = snapshot.dict()
    run_secs = clk.lap()

    drifted: list[str] = []
    methods: dict[str, str] = {}
    for test in result.get("tests", []):
        params = test.get("metric_config", {}).get("params", {}) or {}
        col = params.get("column")
        if col is None:
            continue
        methods[col] = str(params.get("method"))
        if test.get("status") in ("FAIL", "WARNING"):
            drifted.append(col)
    _common.emit(
        "evidently",
        f"evidently {evidently.__version__}, pandas {pd.__version__}",
        drifted,
        load,
        run_secs,
        base,
        methods=sorted(set(methods.values())),
    )


if __name__ == "__main__":
    main()
