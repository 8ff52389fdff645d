"""NannyML's CBPE (confidence-based performance estimation) on the windows of bench/estimation.py.

    python runners/nannyml_cbpe.py --reference R.parquet --analysis A.parquet --window-size N
        [--metrics roc_auc,accuracy] [--repeat K]

Reference columns: ``score`` (positive-class probability), ``y_pred`` (0/1 decision at 0.5),
``y_true``. Analysis columns: ``score``, ``y_pred`` (no labels), rows in window order, every
window ``--window-size`` rows. CBPE runs with its defaults (isotonic calibration when its
check says it is needed, sampling error from the reference) and a ``SizeBasedChunker`` of
``--window-size`` rows, so its chunks are exactly the driver's windows.

Prints one line ``RESULT {json}``: per metric, per window ``value``, ``sampling_error`` and
the confidence band NannyML reports (``lower_confidence_boundary`` /
``upper_confidence_boundary`` = value ± 3 × sampling error, clipped to the metric's range).
Timed (``seconds``, one entry per repeat): ``fit`` + ``estimate`` + reading the result frame,
from the data sitting in pandas DataFrames; imports and Parquet reading excluded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("NML_DISABLE_USAGE_LOGGING", "1")  # no usage telemetry (no network here)

import warnings

import nannyml as nml
import pandas as pd

warnings.filterwarnings("ignore")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True)
    ap.add_argument("--analysis", required=True)
    ap.add_argument("--window-size", type=int, required=True)
    ap.add_argument("--metrics", default="roc_auc,accuracy")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    metrics = [m for m in a.metrics.split(",") if m]
    ref = pd.read_parquet(a.reference)
    ana = pd.read_parquet(a.analysis)

    seconds: list[float] = []
    fit_seconds: list[float] = []
    df = None
    for _ in range(max(1, a.repeat)):
        t0 = time.perf_counter()
        est = nml.CBPE(
            y_pred_proba="score",
            y_pred="y_pred",
            y_true="y_true",
            problem_type="classification_binary",
            metrics=metrics,
            chunker=nml.chunk.SizeBasedChunker(chunk_size=a.window_size),
        )
        est.fit(ref)
        t1 = time.perf_counter()
        df = est.estimate(ana).filter(period="analysis").to_df()
        t2 = time.perf_counter()
        seconds.append(t2 - t0)
        fit_seconds.append(t1 - t0)
    assert df is not None
    out: dict[str, object] = {
        "tool": "nannyml",
        "version": f"nannyml {nml.__version__}, pandas {pd.__version__}",
        "python": sys.version.split()[0],
        "seconds": seconds,
        "fit_seconds": fit_seconds,
        "windows": len(df),
        "calibrated": bool(getattr(est, "needs_calibration", False)),
        "metrics": {},
    }
    for m in metrics:
        out["metrics"][m] = {  # type: ignore[index]
            "value": df[(m, "value")].astype(float).tolist(),
            "sampling_error": df[(m, "sampling_error")].astype(float).tolist(),
            "lower": df[(m, "lower_confidence_boundary")].astype(float).tolist(),
            "upper": df[(m, "upper_confidence_boundary")].astype(float).tolist(),
        }
    sys.stdout.write("RESULT " + json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
