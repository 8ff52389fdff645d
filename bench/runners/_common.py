"""Stdlib-only helpers shared by the runners (each runner runs in its own tool's venv).

Protocol: ``python runners/<tool>.py --reference R.parquet --current C.parquet
--numeric a,b,... --categorical x,y,...`` prints exactly one line ``RESULT {json}`` on stdout.

Timing convention (the same for every tool):
  * ``load_seconds``: reading both Parquet files into the tool's native frame
    (pyarrow.Table for mlaudit, pandas.DataFrame for the others).
  * ``seconds``: from the moment the data sits in that native frame to the per-column
    verdict (set of drifted columns) in hand. Interpreter start and imports are excluded.
Memory: ``peak_rss_mb`` is the process's peak RSS at the end (whole process, including the
load; ``VmHWM``, see ``rss_mb``); ``baseline_rss_mb`` is its RSS after imports, before any data;
``ru_maxrss_mb`` is ``getrusage(RUSAGE_SELF).ru_maxrss`` for reference.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from typing import Any

_T0 = time.perf_counter()


def _status_kib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def rss_mb() -> float:
    """Peak RSS of this process, MB.

    ``VmHWM`` (the high-water mark of this process's own address space) where /proc has it:
    ``ru_maxrss`` also counts the parent's RSS at fork time, which survives the exec, so a
    runner started by a driver that holds 400 MB would never report less than 400 MB.
    """
    hwm = _status_kib("VmHWM")
    return hwm / 1024.0 if hwm is not None else maxrss_mb()


def current_rss_mb() -> float:
    cur = _status_kib("VmRSS")
    return cur / 1024.0 if cur is not None else maxrss_mb()


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


def emit(
    tool: str,
    version: str,
    drifted: list[str],
    load_seconds: float,
    seconds: float,
    baseline_rss_mb: float,
    **extra: Any,
) -> None:
    out = {
        "tool": tool,
        "version": version,
        "drifted": sorted(set(drifted)),
        "load_seconds": round(load_seconds, 4),
        "seconds": round(seconds, 4),
        "peak_rss_mb": round(rss_mb(), 1),
        "baseline_rss_mb": round(baseline_rss_mb, 1),
        "ru_maxrss_mb": round(maxrss_mb(), 1),
        "python": sys.version.split()[0],
    }
    out.update(extra)
    sys.stdout.write("RESULT " + json.dumps(out, default=str) + "\n")
    sys.stdout.flush()
