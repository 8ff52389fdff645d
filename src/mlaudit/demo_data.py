"""The demo's bundled synthetic data: a credit-scoring table, generated deterministically.

``credit_tables(seed)`` returns (reference, current): the reference is what a model was
trained on; the current month has known problems planted in it, so the demo has something
to find — income shifted up, utilisation more spread out, more applicants from one region,
a few missing and impossible ages, and some duplicated customer ids.

Both periods also carry ``sex``, a protected attribute, and a planted *label bias*: in the
recorded outcomes, women who repaid were marked as defaulted slightly more often than men
(:data:`LABEL_BIAS`), as biased historical decisions would. A model trained on these labels
with ``sex`` as a feature learns the bias; the demo's audit is there to catch it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["DEMO_RULES", "LABEL_BIAS", "PLANTED_DRIFT", "bureau_rows", "credit_tables"]

LABEL_BIAS = 0.08  # share of women's repaid loans recorded as defaulted

# income is shifted, and credit_limit and balance are computed from it, so they move too.
PLANTED_DRIFT = ("income", "credit_limit", "balance", "utilisation", "region")

DEMO_RULES = """\
# Data quality rules for the demo's credit applications (see examples/rules.yaml for all rules).
rules:
  - rule: not_null
    column: customer_id
  - rule: unique
    column: customer_id
  - rule: not_null
    column: age
    max_null_rate: 0.001
  - rule: range
    column: age
    min: 18
    max: 100
  - rule: range
    column: utilisation
    min: 0
    max: 1.5
    severity: warn
  - rule: allowed_values
    column: region
    values: [north, south, east, west, central]
  - rule: expression
    name: limit_covers_balance
    expr: "balance <= credit_limit * 1.5"
  - rule: row_count
    min: 1000
"""


def _table(rng: np.random.Generator, n: int, *, start_id: int, shifted: bool) -> pa.Table:
    age = rng.normal(42, 12, n).clip(18, 95).round()
    income = rng.lognormal(10.6 + (0.12 if shifted else 0.0), 0.45, n).round(-1)
    spread = 0.27 if shifted else 0.2
    utilisation = rng.normal(0.35, spread, n).clip(0, 1.4).round(3)
    credit_limit = (income * rng.uniform(0.15, 0.35, n)).round(-2)
    balance = (credit_limit * utilisation).round(2)
    late = rng.poisson(0.4 + 0.8 * utilisation, n)
    regions = np.array(["north", "south", "east", "west", "central"])
    shares = [0.30, 0.22, 0.18, 0.18, 0.12] if shifted else [0.20, 0.22, 0.18, 0.22, 0.18]
    region = rng.choice(regions, n, p=shares)
    employment = rng.choice(
        ["employed", "self-employed", "retired", "student"], n, p=[0.62, 0.18, 0.12, 0.08]
    )
    logit = -4.2 + 6.0 * utilisation + 0.7 * late - 0.000006 * income + 0.6 * (age < 25)
    default = rng.random(n) < 1 / (1 + np.exp(-logit))
    ids = np.arange(start_id, start_id + n)
    extra = {}
    if shifted:  # the current month's export gained a column: a schema change between versions
        extra["channel"] = rng.choice(["web", "branch", "phone"], n, p=[0.6, 0.3, 0.1])
    age_col: list[float | None] = age.tolist()
    if shifted:  # planted data-quality problems in the current month
        for i in rng.choice(n, 6, replace=False):
            age_col[int(i)] = None
        for i in rng.choice(n, 3, replace=False):
            age_col[int(i)] = 7.0
        dup = rng.choice(n, 4, replace=False)
        ids[dup[:2]] = ids[dup[2:]]
    return pa.table(
        {
            "customer_id": pa.array(ids, pa.int64()),
            "age": pa.array(age_col, pa.float64()),
            "income": income,
            "credit_limit": credit_limit,
            "balance": balance,
            "utilisation": utilisation,
            "late_payments": pa.array(late, pa.int64()),
            "region": region,
            "employment": employment,
            "defaulted": pa.array(default),
            **extra,
        }
    )


def bureau_rows(reference: pa.Table, seed: int = 7) -> list[tuple[int, int, str, str]]:
    """Rows of the demo's credit-bureau SQL table: (customer_id, bureau_score, email, phone).

    Emails and phone numbers are synthetic (example.org / +47 555 …) and there for PII discovery.
    """
    rng = np.random.default_rng(seed)
    ids = reference.column("customer_id").to_pylist()
    scores = rng.normal(640, 70, len(ids)).clip(300, 850).round().astype(int)
    return [
        (int(i), int(s), f"customer{i}@example.org", f"+47 555 {int(i) % 100000:05d}")
        for i, s in zip(ids, scores, strict=True)
    ]


def credit_tables(seed: int = 2026, rows: int = 20_000) -> tuple[pa.Table, pa.Table]:
    """(reference, current) tables of ``rows`` each; the same seed gives the same bytes."""
    rng = np.random.default_rng(seed)
    reference = _table(rng, rows, start_id=100_000, shifted=False)
    current = _table(rng, rows, start_id=200_000, shifted=True)
    protected = np.random.default_rng([seed, 1])  # its own stream: the columns above stay as they were
    return _with_bias(reference, protected), _with_bias(current, protected)


def _with_bias(table: pa.Table, rng: np.random.Generator) -> pa.Table:
    """Add ``sex`` and flip :data:`LABEL_BIAS` of women's repaid loans to defaulted."""
    n = table.num_rows
    sex = rng.choice(np.array(["female", "male"]), n)
    defaulted = table.column("defaulted").to_numpy(zero_copy_only=False).copy()
    flip = (sex == "female") & ~defaulted & (rng.random(n) < LABEL_BIAS)
    defaulted[flip] = True
    index = table.column_names.index("defaulted")
    table = table.set_column(index, "defaulted", pa.array(defaulted))
    return table.add_column(index, "sex", pa.array(sex))
