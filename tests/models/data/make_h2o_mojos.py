"""Regenerate the H2O MOJO fixtures used by tests/models/test_h2o_model.py (not run by the tests).

The h2o 3.46 client in the project's venv refuses ``download_mojo()`` ("MOJO export requires
H2O-3 Secure"); h2o 3.44.0.3 still exports MOJOs. Make a throwaway venv for it (Java 17 on PATH):

    python3 -m venv /tmp/h2o-344
    /tmp/h2o-344/bin/pip install 'h2o==3.44.0.3' pandas numpy
    /tmp/h2o-344/bin/python tests/models/data/make_h2o_mojos.py

It starts a local one-thread H2O cluster, trains three small models on seeded generated data
(numeric and categorical columns, some values missing), downloads their MOJOs next to this file,
writes the scoring data and the cluster's own predictions on it, and shuts the cluster down:

- ``h2o_gbm_binomial.zip``    GBM, 20 trees of depth 3, response ``churn`` (no/yes)
- ``h2o_multinomial.zip``     DRF, 10 trees of depth 4, response ``segment`` (bronze/gold/silver)
- ``h2o_glm_regression.zip``  GLM (gaussian), response ``spend``
- ``h2o_scoring.csv``         200 rows to score: missing values, and an unseen city ``lisbon``
- ``h2o_expected_<model>.csv`` ``model.predict(frame)`` from the cluster: ``predict`` and, for
  classifiers, one probability column per class

H2O always writes ``experimental/modelDetails.json`` (training metrics, for people to read; the
genmodel scorer never opens it) into a MOJO. It is most of the GBM's bytes, so a zip over 50 KB is
rewritten without its ``experimental/`` entries, every other entry copied unchanged (today that
is only the GBM; the other two zips are exactly as H2O wrote them).

Training is seeded, but the MOJO bytes (timestamps, model ids) change on every run, so the tests
compare scores with the expected CSVs, never the zips' hashes.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import h2o
import numpy as np
from h2o.estimators import (
    H2OGeneralizedLinearEstimator,
    H2OGradientBoostingEstimator,
    H2ORandomForestEstimator,
)

HERE = Path(__file__).resolve().parent
FEATURES = ["age", "income", "visits", "city", "plan"]
COLUMNS = ["id", *FEATURES, "churn", "segment", "spend"]
TYPES = {
    "id": "int",
    "age": "real",
    "income": "real",
    "visits": "int",
    "city": "enum",
    "plan": "enum",
    "churn": "enum",
    "segment": "enum",
    "spend": "real",
}
CITIES = ["paris", "rome", "oslo", "berlin"]
PLANS = ["basic", "pro", "max"]
MAX_BYTES = 50 * 1024


def make_rows(rng: np.random.Generator, n: int, start: int) -> list[dict[str, object]]:
    """``n`` customers: features with ~5% missing, and the three responses."""
    age = rng.normal(45, 12, n).round(1)
    income = rng.lognormal(10, 0.5, n).round(0)
    visits = rng.poisson(3, n)
    city = rng.choice(CITIES, size=n, p=[0.4, 0.25, 0.2, 0.15])
    plan = rng.choice(PLANS, size=n, p=[0.5, 0.3, 0.2])
    rome, is_max, is_pro = city == "rome", plan == "max", plan == "pro"
    logit = -0.8 + 0.05 * (age - 45) - 1.2 * is_max + 0.9 * rome + 0.25 * (visits - 3)
    churn = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    wealth = np.log(income) - 10 + 0.6 * is_max + 0.3 * is_pro + rng.normal(0, 0.4, n)
    segment = np.where(wealth > 0.45, "gold", np.where(wealth > -0.2, "silver", "bronze"))
    spend = 20 + 0.8 * age + 0.002 * income + 15 * is_max + 6 * is_pro - 5 * rome + 2 * visits
    spend = spend + rng.normal(0, 5, n)
    rows = []
    for i in range(n):
        row: dict[str, object] = {
            "id": start + i,
            "age": float(age[i]),
            "income": float(income[i]),
            "visits": int(visits[i]),
            "city": str(city[i]),
            "plan": str(plan[i]),
            "churn": str(churn[i]),
            "segment": str(segment[i]),
            "spend": round(float(spend[i]), 3),
        }
        for name in ("age", "income", "city"):
            if rng.random() < 0.05:
                row[name] = None
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            cells = {k: "" if v is None else repr(v) if isinstance(v, float) else v for k, v in row.items()}
            writer.writerow(cells)


def save_mojo(model: object, name: str) -> Path:
    """The model's MOJO as ``name``; one over 50 KB loses its ``experimental/`` folder."""
    target = HERE / name
    with tempfile.TemporaryDirectory() as tmp:
        shutil.move(model.download_mojo(path=tmp), target)  # type: ignore[attr-defined]
    if target.stat().st_size > MAX_BYTES:
        raw = target.read_bytes()
        with zipfile.ZipFile(io.BytesIO(raw)) as source, zipfile.ZipFile(target, "w") as slim:
            for entry in source.infolist():
                if not entry.filename.startswith("experimental/"):
                    slim.writestr(entry, source.read(entry))
    return target


def save_predictions(model: object, frame: h2o.H2OFrame, name: str) -> None:
    pred = model.predict(frame).as_data_frame(use_pandas=True)  # type: ignore[attr-defined]
    pred.to_csv(HERE / name, index=False, float_format="%.17g", lineterminator="\n")


def main() -> None:
    rng = np.random.default_rng(20240517)
    train_rows = make_rows(rng, 1500, 0)
    score_rows = make_rows(rng, 200, 100000)
    # the edge cases the tests look at: an unseen city, missing values alone and together
    score_rows[0]["city"] = "lisbon"
    score_rows[1]["city"] = None
    score_rows[2]["age"] = None
    score_rows[3]["income"] = None
    score_rows[4].update(age=None, income=None, city=None)
    score_rows[5].update(city="lisbon", age=None)
    score_rows[6]["city"] = "lisbon"

    with tempfile.TemporaryDirectory() as tmp:
        train_csv = Path(tmp) / "train.csv"
        write_csv(train_csv, train_rows)
        score_csv = HERE / "h2o_scoring.csv"
        write_csv(score_csv, score_rows)

        h2o.init(nthreads=1, max_mem_size="1G")
        try:
            train = h2o.import_file(str(train_csv), col_types=TYPES)
            score = h2o.import_file(str(score_csv), col_types=TYPES)

            gbm = H2OGradientBoostingEstimator(model_id="gbm_churn", ntrees=20, max_depth=3, seed=1)
            gbm.train(x=FEATURES, y="churn", training_frame=train)
            save_mojo(gbm, "h2o_gbm_binomial.zip")
            save_predictions(gbm, score, "h2o_expected_gbm_binomial.csv")

            drf = H2ORandomForestEstimator(model_id="drf_segment", ntrees=10, max_depth=4, seed=2)
            drf.train(x=FEATURES, y="segment", training_frame=train)
            save_mojo(drf, "h2o_multinomial.zip")
            save_predictions(drf, score, "h2o_expected_multinomial.csv")

            glm = H2OGeneralizedLinearEstimator(model_id="glm_spend", family="gaussian", lambda_=0.0, seed=3)
            glm.train(x=FEATURES, y="spend", training_frame=train)
            save_mojo(glm, "h2o_glm_regression.zip")
            save_predictions(glm, score, "h2o_expected_glm_regression.csv")
        finally:
            h2o.cluster().shutdown()
    for path in sorted(HERE.glob("h2o_*")):
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
