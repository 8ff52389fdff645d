"""Prediction-log benchmark: batch uploads on SQLite and PostgreSQL.

    .venv/bin/python bench/prediction_log.py [--backends sqlite,postgres] [--rows 500,5000]

Per backend and batch size: records/s and p50/p99 latency of ``ws.predictions.log`` per batch
(20 features, two class probabilities, a prediction, a segment, a batch key each), with the
batch given as a pyarrow Table and as a list of dicts (what a JSON request body becomes);
then the time of one ``scan`` (with labels for half the ids joined) over everything logged.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import sqlalchemy as sa
from sklearn.dummy import DummyClassifier

import mlaudit

PG_ADMIN = os.environ.get("MLAUDIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FEATURES = [f"f{i}" for i in range(20)]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_batch(rng: np.random.Generator, n: int, start: int) -> pa.Table:
    p1 = rng.uniform(size=n)
    cols: dict[str, Any] = {
        "prediction_id": [f"id-{start + i}" for i in range(n)],
        "time": [T0 + timedelta(seconds=start + i) for i in range(n)],
    }
    cols.update({f: rng.normal(size=n) for f in FEATURES})
    cols.update(
        prediction=(p1 > 0.5).astype(np.int64),
        proba_0=1 - p1,
        proba_1=p1,
        segment=rng.choice(["north", "south", "east"], size=n),
    )
    return pa.table(cols)


def measure(
    ws: mlaudit.Workspace, rows: int, batches: int, as_records: bool, offset: int
) -> dict[str, float]:
    rng = np.random.default_rng(rows)
    inputs: list[Any] = [make_batch(rng, rows, offset + i * rows) for i in range(batches)]
    if as_records:
        inputs = [t.to_pylist() for t in inputs]
    latencies = []
    t_all = time.perf_counter()
    for i, data in enumerate(inputs):
        t = time.perf_counter()
        ws.predictions.log("bench@v1", data, batch_key=f"{uuid.uuid4().hex}-{i}")
        latencies.append(time.perf_counter() - t)
    total = time.perf_counter() - t_all
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"rate": rows * batches / total, "p50": q[49] * 1000, "p99": q[98] * 1000}


def run(target: dict[str, str], label: str, sizes: list[int]) -> list[str]:
    lines = []
    with mlaudit.open(**target, actor="bench") as ws:
        clf = DummyClassifier(strategy="prior").fit(np.zeros((4, len(FEATURES))), [0, 1, 0, 1])
        ws.models.register("bench", clf, features=FEATURES)
        offset = 0
        for rows in sizes:
            batches = max(20, 100_000 // rows)
            for as_records in (False, True):
                m = measure(ws, rows, batches, as_records, offset)
                offset += rows * batches
                kind = "list of dicts" if as_records else "Arrow table"
                cells = [label, f"{rows:,}", str(batches), kind, f"{m['rate']:,.0f}", f"{m['p50']:.1f}"]
                lines.append("| " + " | ".join([*cells, f"{m['p99']:.1f}"]) + " |")
                print(lines[-1], flush=True)
        ids = [f"id-{i}" for i in range(0, offset, 2)]
        ws.predictions.log_labels("bench", pa.table({"prediction_id": ids, "label": [1] * len(ids)}))
        t = time.perf_counter()
        table = ws.predictions.scan("bench")
        took = time.perf_counter() - t
        assert table.num_rows == offset == ws.predictions.count("bench")
        what = f"scan + label join of {offset:,} rows"
        lines.append(f"| {label} | {what} | | | {offset / took:,.0f} | {took * 1000:.0f} | |")
        print(lines[-1], flush=True)
        assert ws.ledger.verify().ok
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--rows", default="500,5000")
    args = parser.parse_args()
    sizes = [int(x) for x in args.rows.split(",")]
    print(f"python {sys.version.split()[0]}, pyarrow {pa.__version__}, {os.cpu_count()} CPUs")
    print("| backend | rows/batch | batches | input | records/s | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "sqlite":
                run({"target": f"{tmp}/ws"}, "SQLite", sizes)
                continue
            name = f"mlaudit_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
            try:
                url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
                target = {"target": url, "signing_key": f"{tmp}/k.pem", "artifacts": f"{tmp}/artifacts"}
                run(target, "PostgreSQL", sizes)
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.dispose()


if __name__ == "__main__":
    main()
