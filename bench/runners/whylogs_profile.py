"""whylogs: profile a Parquet file batch by batch (``why.log`` per batch, views merged).

Usage: python whylogs_profile.py FILE BATCH_ROWS — prints ``RESULT {json}`` (rows, seconds).
The same streaming shape as mlaudit's engine: one batch in memory at a time. Timestamps go in
as int64 microseconds: whylogs 1.6.4 fails on ``datetime64`` columns under NumPy 2
(``np.unicode_`` was removed).
"""

from __future__ import annotations

import os

os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")  # no usage telemetry (no network here)

import json
import sys
import time
import warnings

import pyarrow.parquet as pq
import whylogs as why

warnings.filterwarnings("ignore")


def main() -> None:
    path, batch_rows = sys.argv[1], int(sys.argv[2])
    t0 = time.perf_counter()
    merged = None
    rows = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
        frame = batch.to_pandas()
        for name in frame.columns:
            if str(frame[name].dtype).startswith("datetime64"):
                frame[name] = frame[name].astype("int64")
        view = why.log(frame).view()
        merged = view if merged is None else merged.merge(view)
        rows += batch.num_rows
    assert merged is not None
    columns = len(merged.get_columns())
    print("RESULT " + json.dumps({"rows": rows, "columns": columns, "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    main()
