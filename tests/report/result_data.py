"""Check and fairness reports with known problems (and hostile strings), as stored JSON."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa

from mlaudit.checks import run_rules
from mlaudit.checks.rules import Rule
from mlaudit.stats.fairness import assess_fairness

NASTY = '<script>alert("x")</script>|pipe\nline'
SMALL = "tiny<b>group</b>"  # below the minimum group size: listed, not judged


def check_report(n: int = 2000, seed: int = 5) -> Any:
    """A CheckReport where not_null, unique, range and allowed_values fail, a warn, an error."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    ids[10:14] = 3  # duplicates
    age = rng.integers(18, 90, n).astype(float)
    age[[5, 50, 500]] = [7, 150, -1]
    city = rng.choice(["Lyon", "Oslo", "Porto"], n).astype(object)
    city[[20, 21]] = NASTY
    email = [None if i % 40 == 0 else f"user{i}@example.org" for i in range(n)]
    table = pa.table({"id": ids, "age": age, "city": city.tolist(), "email": email})
    rules = [
        Rule.of("not_null", column="id"),
        Rule.of("unique", column="id"),
        Rule.of("range", column="age", min=18, max=120),
        Rule.of("allowed_values", column="city", values=["Lyon", "Oslo", "Porto"]),
        Rule.of("not_null", column="email", severity="warn"),
        Rule.of("row_count", min=100),
        Rule.of("not_null", column="missing_column"),
    ]
    return run_rules(table, rules)


def check_document() -> dict[str, Any]:
    return json.loads(json.dumps(check_report().to_dict()))


def fairness_report(n: int = 3000, seed: int = 11) -> Any:
    """Three groups (one hostile name, one too small to judge) with a planted selection gap."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["F", "M", NASTY], dtype=object), n, p=[0.45, 0.45, 0.10])
    sex[:12] = SMALL
    y_true = (rng.random(n) < 0.3).astype(int)
    rate = np.where(sex == "M", 0.45, 0.30)
    y_pred = (rng.random(n) < rate).astype(int)
    score = np.clip(rate + rng.normal(0, 0.1, n), 0, 1)
    table = pa.table({"sex": sex.tolist(), "y": y_true, "pred": y_pred, "score": score})
    return assess_fairness(table, y_true="y", y_pred="pred", y_score="score", sensitive=["sex"], seed=0)


def fairness_document() -> dict[str, Any]:
    return json.loads(json.dumps(fairness_report().to_dict()))
