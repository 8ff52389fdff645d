"""Synthetic reference/current tables with known drift, for the report tests."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

NASTY = '<script>alert("x")</script>'
DRIFTED = ("age", "city", "signup")


def tables(n: int = 4000, seed: int = 7) -> tuple[pa.Table, pa.Table]:
    """(reference, current): ``age``, ``city`` and ``signup`` drift; the rest do not."""
    rng = np.random.default_rng(seed)

    def make(shift: bool) -> pa.Table:
        age = rng.normal(46 if shift else 40, 10, n)
        cities = ["Lyon", "Oslo", "Porto", "Graz"]
        p = [0.2, 0.3, 0.3, 0.2] if shift else [0.4, 0.3, 0.2, 0.1]
        city = rng.choice(cities, n, p=p).astype(object)
        if shift:
            city[: n // 20] = "Atlantis"
        score = rng.normal(0.5, 0.1, n)
        score[:40] = np.nan
        day = 86_400
        start = 1_704_067_200 + (120 * day if shift else 0)
        signup = (start + rng.integers(0, 365 * day, n)).astype("datetime64[s]")
        comment = [f"note {i} " * int(k) for i, k in enumerate(rng.integers(1, 5, n))]
        return pa.table(
            {
                "age": age,
                "income": rng.lognormal(10, 1, n),
                "score": pa.array(score, from_pandas=False),
                "city": pa.array(city.tolist(), pa.string()),
                "member": rng.random(n) < 0.3,
                "signup": pa.array(signup),
                "comment": comment,
                NASTY: rng.choice(["<b>bold</b>", "a & b", "plain"], n).tolist(),
                "constant": np.ones(n),
            }
        )

    return make(False), make(True)
