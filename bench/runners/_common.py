"""Stdlib-only helpers shared by the runners (each runner runs in its own tool's venv).

Protocol: ``python runners/<tool>.py --reference R.parquet --current C.parquet
--numeric a,b,... --categorical x,y,...`` prints exactly one line ``RESULT {json}`` on stdout.

Timing convention (the same for every tool):
  * ``load_seconds``: reading both Parquet files into the tool's native frame
    (pyarrow.Table for mlaudit, pandas.DataFrame for the others).
  * ``seconds``: from the moment the data sits in that native frame to the per-column
    verdict (set of drifted columns) in hand. Interpreter start and imports are excluded.
Memory: ``peak_rss_mb`` is ``getrusage(RUSAGE_SELF).ru_maxrss`` at the end (whole process,
including the load); ``baseline_rss_mb`` is the same reading after imports, before any data.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from typing import Any

_T0 = time.perf_counter()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", required=True)
    ap.add_argument("--current", required=True)
    ap.add_argument("--numeric", required=True)
    ap.add_argument("--categorical", required=True)
    a = ap.parse_args()
    a.numeric = [c for c in a.numeric.split(",") if c]
    a.categorical = [c for c in a.categorical.split(",") if c]
    return a


class Clock:
    def __init__(self) -> None:
        self.t = time.perf_counter()

    def lap(self) -> float:
        now = time.perf_counter()
        dt, self.t = now - self.t, now
        return dt


def emit(tool: str, version: str, drifted: list[str], load_seconds: float, seconds: float,
         baseline_rss_mb: float, **extra: Any) -> None:
    out = {
        "tool": tool,
        "version": version,
        "drifted": sorted(set(drifted)),
        "load_seconds": round(load_seconds, 4),
        "seconds": round(seconds, 4),
        "peak_rss_mb": round(rss_mb(), 1),
        "baseline_rss_mb": round(baseline_rss_mb, 1),
        "python": sys.version.split()[0],
    }
    out.update(extra)
    sys.stdout.write("RESULT " + json.dumps(out, default=str) + "\n")
    sys.stdout.flush()
