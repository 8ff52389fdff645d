"""Load test of the server's prediction logging (issue 8): batches of predictions POSTed to a real
`mlaudit serve --workers N` on 127.0.0.1 at a fixed rate for a fixed time; reports records/s and
the latency distribution per batch, then checks that every record sent is in the store.

The load is open-loop: batch i is due at start + i / rate and its latency counts from that due
time, so a slow server cannot hide its queueing by slowing the sender (no coordinated omission).

    .venv/bin/python bench/server_load.py --seconds 300 --rate 5000 --batch 250 [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MLAUDIT = str(Path(sys.executable).parent / "mlaudit")
FEATURES = [f"f{i}" for i in range(10)]
PASSWORD = "load-test-password-1"


def setup(target: str, kwargs: dict[str, str]) -> str:
    """A workspace with an admin, a service user and a model; returns the service user's token."""
    from sklearn.linear_model import LogisticRegression

    import mlaudit

    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, len(FEATURES)))
    y = (x[:, 0] > 0).astype(int)
    with mlaudit.open(target, actor="admin", **kwargs) as ws:
        ws.access.add_user("admin", admin=True)
        ws.access.add_user("scorer")
        ws.access.grant("scorer", "contributor", project="credit")
        ws.models.register("credit", LogisticRegression().fit(x, y), features=FEATURES)
    with mlaudit.open(target, actor="scorer", **kwargs) as ws:
        secret, _ = ws.credentials.create_token("load-test", scopes=["write"], days=1)
    return secret


def batch_records(i: int, size: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    x = rng.normal(size=(size, len(FEATURES))).round(4)
    p = 1 / (1 + np.exp(-x[:, 0]))
    return [
        {"prediction_id": f"b{i}-{j}", **dict(zip(FEATURES, row.tolist(), strict=True)),
         "prediction": int(pj > 0.5), "proba_1": float(round(pj, 6)), "proba_0": float(round(1 - pj, 6))}
        for j, (row, pj) in enumerate(zip(x, p, strict=True))
    ]  # fmt: skip


async def run_load(
    url: str, token: str, rate: float, batch: int, seconds: float, senders: int
) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    total = int(seconds * rate / batch)
    bodies = [batch_records(i % 50, batch, rng) for i in range(50)]  # pre-built payload shapes
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent_rows = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    start = time.perf_counter() + 0.5
    limits = httpx.Limits(max_connections=senders, max_keepalive_connections=senders)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits,
                                 headers={"Authorization": f"Bearer {token}"}) as client:  # fmt: skip

        async def scheduler() -> None:
            for i in range(total):
                due = start + i * batch / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                queue.put_nowait(i)
            for _ in range(senders):
                queue.put_nowait(-1)

        async def sender() -> None:
            nonlocal sent_rows
            while (i := await queue.get()) >= 0:
                due = start + i * batch / rate
                records = [{**r, "prediction_id": f"{i}-{j}"} for j, r in enumerate(bodies[i % 50])]
                response = await client.post(
                    "/api/v1/models/credit/versions/1/predictions",
                    json={"records": records},
                    headers={"Idempotency-Key": f"load-{i}"},
                )
                latencies.append(time.perf_counter() - due)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code == 201:
                    sent_rows += batch

        t0 = time.perf_counter()
        await asyncio.gather(scheduler(), *(sender() for _ in range(senders)))
        elapsed = time.perf_counter() - max(t0, start)
    lat = np.array(latencies) * 1000
    return {
        "batches": total, "records_sent": total * batch, "records_ok": sent_rows, "statuses": statuses,
        "elapsed_s": elapsed, "records_per_s": sent_rows / elapsed,
        "p50_ms": float(np.percentile(lat, 50)), "p95_ms": float(np.percentile(lat, 95)),
        "p99_ms": float(np.percentile(lat, 99)), "max_ms": float(lat.max()),
        "mean_ms": statistics.fmean(lat.tolist()),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--rate", type=float, default=5000, help="records per second offered")
    parser.add_argument("--batch", type=int, default=250, help="records per request")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--senders", type=int, default=16, help="concurrent client connections")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--out", type=Path, default=None, help="append a Markdown row to this file")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="mlaudit-load-"))
    kwargs: dict[str, str] = {}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLAUDIT_")}
    dbname = None
    if args.postgres:
        import sqlalchemy as sa

        dbname = f"mlaudit_load_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(
            "postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
        target = f"postgresql+psycopg://postgres@127.0.0.1:5432/{dbname}"
        kwargs = {"signing_key": str(tmp / "ledger.pem"), "artifacts": str(tmp / "artifacts")}
        env.update(MLAUDIT_SIGNING_KEY=kwargs["signing_key"], MLAUDIT_ARTIFACTS=kwargs["artifacts"])
    else:
        target = str(tmp / "ws")
    token = setup(target, kwargs)
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [MLAUDIT, "serve", "--workers", str(args.workers), "--port", str(port), "-w", target],
        env={**env, "MLAUDIT_ALLOWED_HOSTS": '["127.0.0.1"]'},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        result = asyncio.run(run_load(url, token, args.rate, args.batch, args.seconds, args.senders))
    finally:
        server.terminate()
        server.wait(30)
    import mlaudit

    with mlaudit.open(target, actor="admin", **kwargs) as ws:
        stored = ws.predictions.count("credit")
        verified = ws.ledger.verify().ok
    if dbname:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{dbname}" WITH (FORCE)')
    backend = "PostgreSQL" if args.postgres else "SQLite"
    result.update(stored=stored, ledger_ok=verified, backend=backend)
    ok = stored == result["records_ok"] == result["records_sent"]
    print(f"{backend}, {args.workers} server processes, {args.senders} connections, batches of {args.batch}, "
          f"offered {args.rate:.0f} records/s for {args.seconds:.0f} s")  # fmt: skip
    r = result
    print(f"  accepted {r['records_per_s']:,.0f} records/s; batch latency p50 {r['p50_ms']:.0f} ms, "
          f"p95 {r['p95_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, max {r['max_ms']:.0f} ms")  # fmt: skip
    print(f"  statuses {result['statuses']}; sent {result['records_sent']:,}, stored {stored:,} "
          f"({'equal' if ok else 'NOT EQUAL'}); ledger verifies: {verified}")  # fmt: skip
    if args.out:
        row = (f"| {backend} | {args.workers} | {args.batch} | {args.rate:,.0f} | {args.seconds:.0f} | "
               f"{result['records_per_s']:,.0f} | {result['p50_ms']:.0f} | {result['p99_ms']:.0f} | "
               f"{result['max_ms']:.0f} | {result['records_sent']:,} | {stored:,} | "
               f"{platform.machine()}, {os.cpu_count()} cores |\n")  # fmt: skip
        with args.out.open("a") as fh:
            fh.write(row)
    sys.exit(0 if ok and verified else 1)


if __name__ == "__main__":
    main()
