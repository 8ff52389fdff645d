"""Ledger benchmark: appends, verification and inclusion proofs on SQLite and PostgreSQL.

    .venv/bin/python bench/ledger.py [--events 1000000] [--backends sqlite,postgres]

Measures, per backend: single durable appends/s (one event per transaction, SQLite with
synchronous=FULL), appends/s in batches of 1,000, verify events/s over the whole ledger, and
inclusion-proof latency (p50/p99 over 500 random events) at the full size. Writes the table
into docs/benchmarks.md between the ledger markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

import mlaudit

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("MLAUDIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BATCH = 1000


def run(target: str, key: str, events: int, label: str) -> dict[str, float | str]:
    ws = mlaudit.open(target, signing_key=key, actor="bench")
    t = time.perf_counter()
    singles = 300
    for i in range(singles):
        ws.ledger.record("bench.single", f"item:{i}", {"i": i})
    single_rate = singles / (time.perf_counter() - t)

    payload = {"dataset": "credit", "rows": 100_000, "fingerprint": "sha256:" + "ab" * 32}
    todo = events - ws.ledger.size()
    t = time.perf_counter()
    done = 0
    while done < todo:
        n = min(BATCH, todo - done)
        ws.ledger.record_batch(
            [("bench.batch", f"item:{done + j}", payload | {"i": done + j}) for j in range(n)]
        )
        done += n
        if done % 100_000 < BATCH:
            print(f"  {label}: {done:,} / {todo:,} appended", file=sys.stderr)
    batch_rate = done / (time.perf_counter() - t)

    t = time.perf_counter()
    result = ws.ledger.verify()
    verify_s = time.perf_counter() - t
    assert result.ok, result

    size = ws.ledger.size()
    rng = random.Random(7)
    latencies = []
    for _ in range(500):
        seq = rng.randrange(size)
        t = time.perf_counter()
        proof = ws.ledger.prove(seq)
        latencies.append((time.perf_counter() - t) * 1000)
        assert proof.verify()
    latencies.sort()
    ws.close()
    return {
        "backend": label,
        "events": size,
        "single": single_rate,
        "batched": batch_rate,
        "verify": size / verify_s,
        "verify_s": verify_s,
        "proof_p50": statistics.median(latencies),
        "proof_p99": latencies[int(len(latencies) * 0.99) - 1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs alone.")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                rows.append(run(f"{tmp}/ws", f"{tmp}/ws/keys/ledger.pem", args.events, "SQLite"))
            elif backend == "postgres":
                name = f"mlaudit_bench_{uuid.uuid4().hex[:8]}"
                admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
                with admin.connect() as c:
                    c.exec_driver_sql(f'CREATE DATABASE "{name}"')
                try:
                    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
                    rows.append(run(url, f"{tmp}/pg.pem", args.events, "PostgreSQL 15"))
                finally:
                    with admin.connect() as c:
                        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    table = [
        f"Command: `.venv/bin/python bench/ledger.py --events {args.events}` "
        f"({os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}).",
        "",
        "| backend | events | single durable appends/s | batched appends/s (1,000/tx) "
        "| verify events/s | verify time | inclusion proof p50 / p99 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        table.append(
            f"| {r['backend']} | {r['events']:,} | {r['single']:,.0f} | {r['batched']:,.0f} "
            f"| {r['verify']:,.0f} | {r['verify_s']:.1f} s | {r['proof_p50']:.2f} / {r['proof_p99']:.2f} ms |"
        )
    text = "\n".join(table)
    print(text)
    if not args.no_write:
        _write_section("ledger", text)


def _write_section(name: str, text: str) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    current = doc.read_text() if doc.exists() else ""
    if start in current and end in current:
        before, rest = current.split(start, 1)
        after = rest.split(end, 1)[1]
        current = f"{before}{start}\n{text}\n{end}{after}"
    else:
        current = f"{current.rstrip()}\n\n{start}\n{text}\n{end}\n"
    doc.write_text(current)


if __name__ == "__main__":
    main()
