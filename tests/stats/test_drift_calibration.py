"""Drift that doesn't cry wolf: false alarms on identical distributions, power on known drift.

Each reference/current pair is drawn from the same distributions (normal, lognormal,
integer-valued, uniform, skewed categorical); at default settings at most one column may be
flagged in total over 20 repetitions per size. Known changes must be found at 100k rows.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from mlaudit.stats.drift import DriftDetector, drift

SHARES = [0.4, 0.3, 0.15, 0.1, 0.05]


def _mixed(rng: np.random.Generator, n: int, numeric: int, categorical: int) -> pa.Table:
    makers = [
        lambda: rng.normal(size=n),
        lambda: rng.lognormal(size=n),
        lambda: rng.poisson(3, size=n).astype(np.float64),
        lambda: rng.uniform(size=n),
    ]
    cols = {f"x{i}": makers[i % 4]() for i in range(numeric)}
    cats = np.array(list("abcde"))
    cols.update({f"c{j}": rng.choice(cats, p=SHARES, size=n) for j in range(categorical)})
    return pa.table(cols)


@pytest.mark.parametrize(("rows", "numeric", "categorical"), [(1_000, 20, 5), (100_000, 4, 2)])
def test_identical_distributions_give_at_most_one_false_alarm_in_20(
    rows: int, numeric: int, categorical: int
) -> None:
    rng = np.random.default_rng(2024)
    flagged: list[str] = []
    for rep in range(20):
        report = drift(_mixed(rng, rows, numeric, categorical), _mixed(rng, rows, numeric, categorical))
        flagged += [f"{rep}:{name}" for name in report.drifted_columns]
    assert len(flagged) <= 1, flagged


@pytest.mark.slow
def test_identical_distributions_at_one_million_rows() -> None:
    rng = np.random.default_rng(7)
    report = drift(_mixed(rng, 1_000_000, 4, 2), _mixed(rng, 1_000_000, 4, 2))
    assert report.drifted_columns == ()


@pytest.fixture(scope="module")
def detector_100k() -> DriftDetector:
    rng = np.random.default_rng(1)
    n = 100_000
    ref = pa.table(
        {"x": rng.normal(size=n), "c": rng.choice(np.array(["a", "b", "c"]), p=[0.5, 0.3, 0.2], size=n)}
    )
    return DriftDetector().fit(ref)


def _current(
    seed: int, *, loc: float = 0.0, scale: float = 1.0, shares: tuple[float, ...] = (0.5, 0.3, 0.2)
) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = 100_000
    return pa.table(
        {
            "x": rng.normal(loc, scale, size=n),
            "c": rng.choice(np.array(["a", "b", "c"]), p=list(shares), size=n),
        }
    )


def test_known_drift_is_found_at_100k(detector_100k: DriftDetector) -> None:
    assert detector_100k.compare(_current(10)).drifted_columns == ()
    assert detector_100k.compare(_current(11, loc=0.1)).drifted_columns == ("x",)  # 0.1 sd shift
    assert detector_100k.compare(_current(12, scale=np.sqrt(1.2))).drifted_columns == ("x",)  # var +20 %
    assert detector_100k.compare(_current(13, scale=np.sqrt(0.8))).drifted_columns == ("x",)  # var −20 %
    shifted = detector_100k.compare(_current(14, shares=(0.6, 0.2, 0.2)))  # "a" +10 points
    assert shifted.drifted_columns == ("c",)
    col = shifted.column("c")
    assert col.effect is not None and col.effect > col.threshold + col.details["noise"]
