"""Seeded synthetic reference/current tables with a known set of drifted columns.

20 numeric + 5 categorical columns. The drifted columns get modest, realistic shifts
(0.10-0.25 sigma mean shifts, a +-25 % variance change, a 10-point category share change);
every other column has exactly the same distribution in reference and current.

Written chunk by chunk (1M rows per Parquet row group) so that 10M-row tables are made
without holding them in memory. Imported only by ``bench/drift.py`` (mlaudit's venv):
needs numpy + pyarrow.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

CHUNK_ROWS = 1_000_000

Gen = Callable[[np.random.Generator, int], np.ndarray]


@dataclass(frozen=True)
class NumCol:
    name: str
    ref: Gen
    cur: Gen
    drift: str | None = None  # human description of the drift, None = no drift


def _normal(loc: float, scale: float) -> Gen:
    return lambda r, n: r.normal(loc, scale, n)


def _lognormal(mu: float, sigma: float, shift: float = 0.0) -> Gen:
    return lambda r, n: r.lognormal(mu, sigma, n) + shift


def _lognormal_sd(mu: float, sigma: float) -> float:
    return math.sqrt((math.exp(sigma**2) - 1.0) * math.exp(2 * mu + sigma**2))


def _gamma(shape: float, scale: float, shift: float = 0.0) -> Gen:
    return lambda r, n: r.gamma(shape, scale, n) + shift


def _exponential(scale: float) -> Gen:
    return lambda r, n: r.exponential(scale, n)


def _uniform(lo: float, hi: float) -> Gen:
    return lambda r, n: r.uniform(lo, hi, n)


def _poisson(lam: float) -> Gen:
    return lambda r, n: r.poisson(lam, n).astype(np.float64)


def _student_t(df: float, loc: float, scale: float) -> Gen:
    return lambda r, n: loc + scale * r.standard_t(df, n)


def _rounded_normal(loc: float, scale: float, lo: float, hi: float) -> Gen:
    return lambda r, n: np.clip(np.round(r.normal(loc, scale, n)), lo, hi)


def _bimodal(a: float, b: float, scale: float, p: float) -> Gen:
    def g(r: np.random.Generator, n: int) -> np.ndarray:
        pick = r.random(n) < p
        return np.where(pick, r.normal(a, scale, n), r.normal(b, scale, n))

    return g


def _beta(a: float, b: float) -> Gen:
    return lambda r, n: r.beta(a, b, n)


def _scaled_var(base: Gen, mean: float, factor_var: float) -> Gen:
    f = math.sqrt(factor_var)
    return lambda r, n: mean + (base(r, n) - mean) * f


def _numeric_columns() -> list[NumCol]:
    cols: list[NumCol] = []

    def same(name: str, g: Gen) -> None:
        cols.append(NumCol(name, g, g))

    same("num_00", _normal(0.0, 1.0))
    same("num_01", _normal(50.0, 10.0))
    # drift: +0.10 sigma mean shift on a normal column
    cols.append(NumCol("num_02", _normal(100.0, 15.0), _normal(101.5, 15.0), "mean +0.10 sd"))
    same("num_03", _lognormal(3.0, 0.5))
    same("num_04", _exponential(2.0))
    # drift: +0.25 sigma mean shift on a skewed (log-normal) column, additive
    sd5 = _lognormal_sd(8.0, 0.75)
    cols.append(NumCol("num_05", _lognormal(8.0, 0.75), _lognormal(8.0, 0.75, 0.25 * sd5), "mean +0.25 sd"))
    same("num_06", _uniform(0.0, 1.0))
    same("num_07", _poisson(3.0))
    # drift: variance +25 % on a normal column, same mean
    cols.append(NumCol("num_08", _normal(0.0, 2.0), _scaled_var(_normal(0.0, 2.0), 0.0, 1.25), "var +25 %"))
    same("num_09", _student_t(5.0, 0.0, 1.0))
    same("num_10", _rounded_normal(40.0, 12.0, 18.0, 90.0))
    # drift: +0.15 sigma mean shift on a gamma column (shape 2, scale 3 -> sd = sqrt(18))
    cols.append(NumCol("num_11", _gamma(2.0, 3.0), _gamma(2.0, 3.0, 0.15 * math.sqrt(18.0)), "mean +0.15 sd"))
    same("num_12", _bimodal(-2.0, 2.0, 1.0, 0.4))
    same("num_13", _beta(2.0, 5.0))
    # drift: Poisson(4) -> Poisson(4.4): integer-valued (many ties), mean +0.20 sd
    cols.append(NumCol("num_14", _poisson(4.0), _poisson(4.4), "mean +0.20 sd (Poisson 4->4.4)"))
    same("num_15", _gamma(0.5, 10.0))
    same("num_16", _normal(-5.0, 0.1))
    # drift: variance -25 % on a uniform column, same centre
    cols.append(
        NumCol(
            "num_17",
            _uniform(0.0, 10.0),
            _scaled_var(_uniform(0.0, 10.0), 5.0, 0.75),
            "var -25 %",
        )
    )
    same("num_18", _lognormal(0.0, 1.0))
    same("num_19", _rounded_normal(1000.0, 300.0, 0.0, 5000.0))
    return cols


@dataclass(frozen=True)
class CatCol:
    name: str
    levels: list[str]
    ref_p: np.ndarray
    cur_p: np.ndarray
    drift: str | None = None


def _shift_share(p: np.ndarray, idx: int, delta: float) -> np.ndarray:
    """Move level ``idx``'s share by ``delta`` (absolute), rescaling the others."""
    q = p.copy()
    q[idx] = p[idx] + delta
    rest = np.ones(len(p), dtype=bool)
    rest[idx] = False
    q[rest] = p[rest] * (1.0 - q[idx]) / p[rest].sum()
    return q


def _categorical_columns() -> list[CatCol]:
    def zipf(k: int, s: float) -> np.ndarray:
        w = 1.0 / np.arange(1, k + 1) ** s
        return w / w.sum()

    def lv(prefix: str, k: int) -> list[str]:
        return [f"{prefix}{i:02d}" for i in range(k)]

    p0 = np.array([0.5, 0.3, 0.2])
    p1 = np.array([0.30, 0.25, 0.20, 0.15, 0.10])
    p2 = zipf(8, 1.0)
    p3 = zipf(12, 0.8)
    p4 = zipf(40, 1.1)
    return [
        CatCol("cat_0", lv("a", 3), p0, p0),
        # drift: share of level b00 30 % -> 40 % (+10 points)
        CatCol("cat_1", lv("b", 5), p1, _shift_share(p1, 0, 0.10), "b00 share +10 pts"),
        CatCol("cat_2", lv("c", 8), p2, p2),
        # drift: share of level d01 -10 points (others scaled up)
        CatCol("cat_3", lv("d", 12), p3, _shift_share(p3, 1, -0.10), "d01 share -10 pts"),
        CatCol("cat_4", lv("e", 40), p4, p4),
    ]


NUMERIC = _numeric_columns()
CATEGORICAL = _categorical_columns()
NUMERIC_NAMES = [c.name for c in NUMERIC]
CATEGORICAL_NAMES = [c.name for c in CATEGORICAL]
DRIFTED = {c.name: c.drift for c in NUMERIC if c.drift} | {c.name: c.drift for c in CATEGORICAL if c.drift}


def _chunk(which: str, rows: int, seed: int, chunk_idx: int) -> pa.Table:
    side = 0 if which == "reference" else 1
    arrays: dict[str, pa.Array] = {}
    for j, col in enumerate(NUMERIC):
        rng = np.random.default_rng([seed, side, chunk_idx, j])
        gen = col.ref if side == 0 else col.cur
        arrays[col.name] = pa.array(gen(rng, rows), type=pa.float64())
    for j, ccol in enumerate(CATEGORICAL):
        rng = np.random.default_rng([seed, side, chunk_idx, 100 + j])
        p = ccol.ref_p if side == 0 else ccol.cur_p
        idx = rng.choice(len(p), size=rows, p=p).astype(np.int32)
        dictarr = pa.DictionaryArray.from_arrays(pa.array(idx), pa.array(ccol.levels))
        arrays[ccol.name] = dictarr.cast(pa.string())  # plain strings, as users have them
    return pa.table(arrays)


def write_table(path: Path, which: str, rows: int, seed: int) -> int:
    """Write ``rows`` rows of the reference or current table; return its in-memory Arrow bytes."""
    nbytes = 0
    writer: pq.ParquetWriter | None = None
    try:
        done = 0
        chunk_idx = 0
        while done < rows:
            n = min(CHUNK_ROWS, rows - done)
            t = _chunk(which, n, seed, chunk_idx)
            nbytes += t.nbytes
            if writer is None:
                writer = pq.ParquetWriter(path, t.schema, compression="snappy")
            writer.write_table(t, row_group_size=CHUNK_ROWS)
            done += n
            chunk_idx += 1
    finally:
        if writer is not None:
            writer.close()
    return nbytes


if __name__ == "__main__":  # used by drift.py, so that the driver itself stays small
    import sys

    _path, _which, _rows, _seed = sys.argv[1:5]
    print(write_table(Path(_path), _which, int(_rows), int(_seed)))
