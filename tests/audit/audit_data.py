"""Generated data for the audit tests."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def make_table(n: int, *, seed: int, shift: float = 0.0, bias: float = 0.0) -> pa.Table:
    """x1, x2 numeric, region categorical, sex protected; y from a logistic model of x1, x2.

    ``bias`` flips that share of group F's negatives to positive (label bias)."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(shift, 1, n)
    x2 = rng.normal(0, 1, n)
    sex = rng.choice(np.array(["F", "M"]), n)
    region = rng.choice(np.array(["N", "S", "E", "W"]), n)
    p = 1 / (1 + np.exp(-(1.5 * x1 - x2)))
    y = rng.random(n) < p
    y |= (sex == "F") & (rng.random(n) < bias)
    return pa.table({"x1": x1, "x2": x2, "region": region, "sex": sex, "y": y.astype(int)})
