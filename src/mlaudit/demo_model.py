"""The demo's model story: train a credit-scoring model, register it, audit it twice.

The training labels carry the planted label bias of :mod:`mlaudit.demo_data` and the model
uses ``sex`` as a feature, so it learns the bias; the current month has drifted. The first
audit runs before the month's outcomes are known (performance estimated from the scores),
the second after they arrive, with the full suite; both are recorded in the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["FEATURES", "model_story", "train_credit_model"]

NUMERIC = ("age", "income", "credit_limit", "balance", "utilisation", "late_payments")
CATEGORICAL = ("region", "employment", "sex")
FEATURES = NUMERIC + CATEGORICAL
TARGET = "defaulted"


def train_credit_model(train: pa.Table, categorical: Sequence[str] = CATEGORICAL) -> Any:
    """A scikit-learn pipeline (impute, scale, one-hot, logistic regression) fitted on ``train``
    with the numeric features and ``categorical``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), list(NUMERIC)),
            ("cat", OneHotEncoder(handle_unknown="ignore"), list(categorical)),
        ]
    )
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=1000))])
    frame = train.select([*NUMERIC, *categorical]).to_pandas()
    return model.fit(frame, train.column(TARGET).to_numpy(zero_copy_only=False))


def model_story(
    ws: Any, out: Path, reference: pa.Table, current: pa.Table, say: Callable[..., None]
) -> dict[str, Any]:
    """Steps 7–9 of the demo; returns what the summary needs."""
    import joblib

    folder = out / "model"
    folder.mkdir()
    n_train = int(reference.num_rows * 0.7)
    order = np.random.default_rng(5).permutation(reference.num_rows)
    train = reference.take(pa.array(np.sort(order[:n_train])))
    holdout = reference.take(pa.array(np.sort(order[n_train:])))
    train_v = ws.datasets.log("credit-train", train, keep_data=True, pii=False).version
    holdout_v = ws.datasets.log("credit-holdout", holdout, keep_data=True, pii=False).version
    model = train_credit_model(train)
    artifact = folder / "credit-risk.joblib"
    joblib.dump(model, artifact)
    version = ws.models.register(
        "credit-risk",
        artifact,
        trust_pickle=True,  # we just made this file ourselves
        trained_on=[train_v],
        features=list(FEATURES),
        target=TARGET,
        sensitive=["sex"],
        owner="credit-risk-team",
    ).version
    ws.models.describe(  # what only people can say; ethical considerations left for the reader to fill
        "credit-risk",
        purpose="Estimate the probability that a credit-card customer defaults within 12 months.",
        intended_use="Rank applications for manual review by credit officers; not an automatic decline.",
        limitations="Trained on one year of synthetic applications; not validated for business customers.",
        developers="credit-risk-team (demo data scientist)",
    )
    say(
        f"7. model trained on {train_v.ref} ({train.num_rows:,} rows; logistic regression, features "
        f"include sex) and registered as {version.ref} ({version.fingerprint[:19]}…)"
    )

    month = folder / "current-month.parquet"
    pq.write_table(current, month)
    unlabelled = folder / "current-month-unlabelled.parquet"
    pq.write_table(current.drop_columns([TARGET]), unlabelled)
    early = ws.audit(version.ref, reference=holdout_v.ref, current=unlabelled, suite="quick")
    est = early.section("performance")
    auc = next((r for r in est.results if r.check == "estimated:roc_auc"), None)
    say(
        f"8. audit before this month's outcomes are known (suite quick): {early.status.upper()}; "
        + (f"estimated ROC AUC {auc.value:.3f} " if auc and auc.value is not None else "")
        + f"({len(early.findings())} findings)"
    )

    audit = ws.audit(version.ref, reference=holdout_v.ref, current=month, suite="full")
    pages = []
    try:
        from mlaudit.report import audit_html, write_html

        pages.append(write_html(audit_html(audit.to_dict()), out / "reports" / "audit.html"))
    except ImportError:  # the report extra (Plotly) is not installed
        pass
    counts = audit.counts()
    say(
        f"9. audit once outcomes arrived (suite full): [bold]{audit.status.upper()}[/] — "
        f"{counts['pass']} passed, {counts['warn']} warned, {counts['fail']} failed, {counts['error']} errors"
    )
    for f in audit.findings():
        if f["status"] in ("fail", "error") or f["section"] in ("fairness", "weak_segments", "performance"):
            say(f"     {f['status']:>5}  {f['message']}")
    return {
        "model": version.ref,
        "early_audit": early.status,
        "audit": audit.status,
        "audit_failed": sorted(r.check for r in audit.results() if r.status in ("fail", "error")),
        "audit_result": (audit.recorded or {}).get("result"),
        "estimated_roc_auc": auc.value if auc else None,
        "pages": [str(p) for p in pages],
        "train": train,
    }
