"""Partitioned datasets: profiles per partition stored once, merged for any time range.

Checked against independent computations: the in-memory profile of the same rows on the same
layout, NumPy/PyArrow counts and moments, Python's own calendar arithmetic, SciPy's chi-square.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from datasketches import kll_doubles_sketch
from scipy import stats

import mlaudit
from mlaudit.stats.partitioning import Layout, partition_end, partition_starts, profile_drift
from mlaudit.stats.profile import Profile
from mlaudit.store.tables import dataset_partitions, partitioned_datasets

START = datetime(2026, 1, 1, tzinfo=UTC)


def events(n: int = 3000, days: int = 10, seed: int = 0, shift_from: int | None = None) -> pa.Table:
    """Random event rows over ``days`` days (in random order), with nulls, NaN, categories."""
    rng = np.random.default_rng(seed)
    seconds = rng.integers(0, days * 86_400, n)
    ts = np.datetime64("2026-01-01T00:00:00", "us") + seconds.astype("timedelta64[s]")
    x = rng.normal(10.0, 2.0, n)
    if shift_from is not None:
        x[seconds >= shift_from * 86_400] += 3.0
    x[rng.random(n) < 0.02] = np.nan
    amount = pa.array(rng.exponential(100.0, n), mask=rng.random(n) < 0.05)
    return pa.table(
        {
            "ts": pa.array(ts, pa.timestamp("us")),
            "x": x,
            "amount": amount,
            "city": rng.choice(["Oslo", "Lima", "Pune", "Graz"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "ok": rng.random(n) < 0.7,
        }
    )


def rows_between(table: pa.Table, lo: datetime, hi: datetime) -> pa.Table:
    ts = table.column("ts")
    keep = pc.and_(pc.greater_equal(ts, pa.scalar(lo.replace(tzinfo=None), ts.type)),
                   pc.less(ts, pa.scalar(hi.replace(tzinfo=None), ts.type)))  # fmt: skip
    return table.filter(keep)


def count_rows(ws: mlaudit.Workspace, table: sa.Table) -> int:
    with ws.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def assert_same_profile(merged: Profile, expected: Profile, raw: pa.Table) -> None:
    assert merged.rows == expected.rows == raw.num_rows
    eps = 2 * kll_doubles_sketch.get_normalized_rank_error(200, False)
    for name, want in expected.columns.items():
        got = merged.column(name)
        for key in ("count", "nulls", "nan", "inf", "valid", "min", "max", "histogram", "value_counts"):
            assert getattr(got, key) == getattr(want, key), (name, key)
        if want.mean is not None:
            assert got.mean == pytest.approx(want.mean, rel=1e-12, abs=1e-9)
            assert got.m2 == pytest.approx(want.m2, rel=1e-12)
        if want.quantile_sketch is not None and want.kind == "numeric":
            values = np.sort(pc.drop_null(raw.column(name)).to_numpy(zero_copy_only=False))
            values = values[np.isfinite(values)]
            for q in (0.1, 0.5, 0.9):
                v = got.quantile(q)
                rank = np.searchsorted(values, v, side="right") / values.size
                assert abs(rank - q) <= eps, (name, q, rank)


def test_a_merged_range_is_the_profile_of_its_rows(tmp_path: Path) -> None:
    table = events()
    pq.write_table(table, tmp_path / "events.parquet", row_group_size=500)
    with mlaudit.open(tmp_path / "ws") as ws:
        log = ws.partitions.log("events", tmp_path / "events.parquet", time_column="ts", batch_rows=700)
        assert log.rows == 3000 and [p.status for p in log.partitions] == ["created"] * 10
        assert [p.start[:10] for p in log.partitions] == [f"2026-01-{d:02d}" for d in range(1, 11)]
        assert sum(p.rows for p in log.partitions) == 3000
        layout = ws.partitions.layout("events")
        for lo, hi in ((2, 7), (1, 11), (5, 6)):
            a, b = START + timedelta(days=lo - 1), START + timedelta(days=hi - 1)
            raw = rows_between(table, a, b)
            merged = ws.partitions.profile("events", a, b)
            assert_same_profile(merged, layout.profile(raw), raw)
            # and against NumPy directly
            x = raw.column("x").to_numpy()
            finite = x[np.isfinite(x)]
            assert merged.column("x").mean == pytest.approx(finite.mean(), rel=1e-12)
            assert merged.column("x").nan == int(np.isnan(x).sum())
            assert merged.column("amount").nulls == raw.column("amount").null_count
            cities, counts = np.unique(raw.column("city").to_numpy(zero_copy_only=False), return_counts=True)
            want = {str(k): int(v) for k, v in zip(cities, counts, strict=True)}
            assert dict(merged.column("city").value_counts or ()) == want
        # a range that only partly covers a partition leaves it out
        assert ws.partitions.profile("events", "2026-01-02T12:00", "2026-01-04").rows == \
            rows_between(table, START + timedelta(days=2), START + timedelta(days=3)).num_rows  # fmt: skip
        with pytest.raises(mlaudit.NotFound):
            ws.partitions.profile("events", "2026-02-01", "2026-03-01")
        assert ws.ledger.verify().ok


def test_partition_starts_follow_the_utc_calendar() -> None:
    rng = np.random.default_rng(1)
    stamps = [
        datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=int(s))
        for s in rng.integers(0, 3 * 365 * 86_400, 400)
    ]
    arr = pa.array(stamps, pa.timestamp("us", tz="UTC"))

    def python(t: datetime, every: str) -> datetime:
        if every == "hour":
            return t.replace(minute=0, second=0, microsecond=0)
        day = t.replace(hour=0, minute=0, second=0, microsecond=0)
        return {"day": day, "week": day - timedelta(days=day.weekday()), "month": day.replace(day=1)}[every]

    for every in ("hour", "day", "week", "month"):
        got = partition_starts(arr, every).astype("datetime64[us]").tolist()
        want = [python(t, every).replace(tzinfo=None) for t in stamps]
        assert got == want, every
        for start in want[:20]:
            end = partition_end(start.replace(tzinfo=UTC), every)
            assert python(end - timedelta(microseconds=1), every) == start.replace(tzinfo=UTC)
            assert python(end, every) == end
    # offsets, naive text, dates, mixed forms: all read as UTC instants
    text = pa.array(["2026-03-01T01:30:00+02:00", "2026-03-01 10:00:00", "2026-03-02"])
    assert partition_starts(text, "day").astype(str).tolist() == [
        "2026-02-28T00:00:00.000000", "2026-03-01T00:00:00.000000", "2026-03-02T00:00:00.000000",
    ]  # fmt: skip
    dates = pa.array([datetime(2026, 3, 1).date()], pa.date32())
    assert partition_starts(dates, "month").astype(str).tolist() == ["2026-03-01T00:00:00.000000"]
    with pytest.raises(mlaudit.InputError, match="cannot read 'soon'") as info:
        partition_starts(pa.array(["2026-01-01", "soon"]), "day", column="ts", first_row=10)
    assert info.value.column == "ts" and info.value.row == 11


def test_logging_again_is_a_no_op_and_changes_need_replace(tmp_path: Path) -> None:
    table = events(600, days=3, seed=2)
    with mlaudit.open(tmp_path / "ws") as ws:
        first = ws.partitions.log("events", table, time_column="ts")
        files = sorted((tmp_path / "ws" / "artifacts").rglob("*"))
        again = ws.partitions.log("events", table, time_column="ts", batch_rows=50)
        assert sorted((tmp_path / "ws" / "artifacts").rglob("*")) == files  # no stray bytes either
        assert [p.status for p in again.partitions] == ["unchanged"] * 3
        assert [p.id for p in again.partitions] == [p.id for p in first.partitions]
        assert count_rows(ws, dataset_partitions) == 3
        assert len(ws.ledger.log(action="partition.profiled")) == 3
        assert len(ws.ledger.log(action="partitioned_dataset.created")) == 1
        # day 2 with one row less: refused, and nothing is written (not even day 1 or 3)
        day2 = START + timedelta(days=1)
        changed = pa.concat_tables([
            rows_between(table, START, day2),
            rows_between(table, day2, day2 + timedelta(days=1)).slice(1),
            rows_between(table, day2 + timedelta(days=1), day2 + timedelta(days=2)),
        ])  # fmt: skip
        seq = ws.ledger.log()[-1].seq
        with pytest.raises(mlaudit.InputError, match="stored with other rows"):
            ws.partitions.log("events", changed, time_column="ts")
        assert ws.ledger.log()[-1].seq == seq and count_rows(ws, dataset_partitions) == 3
        assert sorted((tmp_path / "ws" / "artifacts").rglob("*")) == files
        replaced = ws.partitions.log("events", changed, time_column="ts", replace=True)
        assert [p.status for p in replaced.partitions] == ["unchanged", "replaced", "unchanged"]
        assert replaced.partitions[1].revision == 2
        assert [p.revision for p in ws.partitions.list("events")] == [1, 2, 1]
        assert len(ws.partitions.list("events", revisions=True)) == 4
        assert ws.partitions.profile("events", "2026-01-01", "2026-01-04").rows == table.num_rows - 1
        payload = ws.ledger.log(action="partition.profiled")[-1].data
        assert payload["replaces"] == first.partitions[1].id and payload["revision"] == 2
        # the same rows as revision 2: unchanged, also with replace=True
        assert ws.partitions.log("events", changed, time_column="ts", replace=True).count("unchanged") == 3
        # other partition size or time column than the first log
        with pytest.raises(mlaudit.InputError, match="every day"):
            ws.partitions.log("events", changed, time_column="ts", every="hour")
        assert ws.ledger.verify().ok


def test_layout_from_a_dataset_version_and_column_checks(tmp_path: Path) -> None:
    table = events(400, days=2, seed=3)
    with mlaudit.open(tmp_path / "ws") as ws:
        ws.datasets.log("holdout", events(2000, days=5, seed=4))
        ref = ws.datasets.profile(ws.datasets.get("holdout@v1"))
        ws.partitions.log("events", table, time_column="ts", reference="holdout@v1")
        layout = ws.partitions.layout("events")
        assert layout.kinds == ref.kinds()
        assert {n: list(e) for n, e in layout.bins.items()} == {n: e.tolist() for n, e in ref.bins().items()}
        merged = ws.partitions.profile("events", "2026-01-01", "2026-01-03")
        assert merged.column("x").histogram.edges == ref.column("x").histogram.edges  # type: ignore[union-attr]
        ref.merge(merged)  # same kinds and bins: the range merges with the reference too
        with pytest.raises(mlaudit.InputError, match="columns differ") as info:
            ws.partitions.log("events", table.append_column("extra", pa.array([1] * 400)), time_column="ts")
        assert info.value.column == "extra"
        with pytest.raises(mlaudit.InputError, match="columns differ"):
            ws.partitions.log("other", table.drop_columns(["x"]), time_column="ts", reference="holdout@v1")
        # first-batch layout: equal-width edges over the batch's range widened by 10 % each side
        ws.partitions.log("plain", table, time_column="ts")
        x = table.column("x").to_numpy()
        lo, hi = np.nanmin(x), np.nanmax(x)
        edges = ws.partitions.layout("plain").bins["x"]
        pad = 0.1 * (hi - lo)
        assert edges[0] == pytest.approx(lo - pad) and edges[-1] == pytest.approx(hi + pad)
        assert Layout.from_bytes(ws.partitions.layout("plain").to_bytes()) == ws.partitions.layout("plain")


def test_drift_between_ranges_uses_exact_counts(tmp_path: Path) -> None:
    table = events(4000, days=14, seed=5, shift_from=7)
    with mlaudit.open(tmp_path / "ws") as ws:
        ws.partitions.log("events", table, time_column="ts", every="week")  # 2026-01-01 is a Thursday
        weeks = [p.start[:10] for p in ws.partitions.list("events")]
        assert weeks == ["2025-12-29", "2026-01-05", "2026-01-12"]
        ws.partitions.log("daily", table, time_column="ts")
        report = ws.partitions.drift(
            "daily", reference=("2026-01-01", "2026-01-08"), current=("2026-01-08", "2026-01-15")
        )
        layout = ws.partitions.layout("daily")
    assert [c.name for c in report.columns] == ["x", "amount", "city", "ok"]  # not the time column
    assert report.column("x").drifted and report.column("x").test == "psi"
    assert not report.column("city").drifted and report.column("city").test == "chi2"
    ref = rows_between(table, START, START + timedelta(days=7))
    cur = rows_between(table, START + timedelta(days=7), START + timedelta(days=14))
    # chi-square on the city counts, by SciPy from the raw rows
    cats = sorted(set(ref.column("city").to_pylist()))
    grid = [
        [ref.column("city").to_pylist().count(c) for c in cats],
        [cur.column("city").to_pylist().count(c) for c in cats],
    ]
    res = stats.chi2_contingency(np.array(grid))
    assert report.column("city").statistic == pytest.approx(res.statistic, rel=1e-12)
    assert report.column("city").p_value == pytest.approx(res.pvalue, rel=1e-9)
    # PSI on the layout's bins (+ below/above), by NumPy from the raw rows
    edges = np.array(layout.bins["x"])

    def cells(t: pa.Table) -> np.ndarray:
        v = t.column("x").to_numpy()
        v = v[np.isfinite(v)]
        inside = np.histogram(v[(v >= edges[0]) & (v <= edges[-1])], edges)[0]
        return np.concatenate(([np.sum(v < edges[0])], inside, [np.sum(v > edges[-1])])).astype(float)

    r, c = cells(ref), cells(cur)
    r, c = np.maximum(r / r.sum(), 1e-4), np.maximum(c / c.sum(), 1e-4)
    assert report.column("x").effect == pytest.approx(float(np.sum((c - r) * np.log(c / r))), rel=1e-12)
    # identical ranges: nothing drifts
    same = profile_drift(layout.profile(ref), layout.profile(ref))
    assert same.drifted_columns == ()


def test_racing_threads_store_each_partition_once(workspace_target: dict[str, str]) -> None:
    table = events(800, days=4, seed=6)
    mlaudit.open(**workspace_target).close()

    def send(worker: int) -> list[str]:
        with mlaudit.open(**workspace_target, create=False) as w:
            return [p.status for p in w.partitions.log("events", table, time_column="ts").partitions]

    with ThreadPoolExecutor(3) as pool:
        statuses = [s for result in pool.map(send, range(3)) for s in result]
    assert statuses.count("created") == 4 and statuses.count("unchanged") == 8
    with mlaudit.open(**workspace_target, create=False) as ws:
        assert count_rows(ws, dataset_partitions) == 4 and count_rows(ws, partitioned_datasets) == 1
        assert len(ws.ledger.log(action="partition.profiled")) == 4
        assert ws.ledger.verify().ok


_WORKER = textwrap.dedent(
    """
    import sys
    import mlaudit

    where, source = sys.argv[1], sys.argv[2]
    with mlaudit.open(where, create=False) as ws:
        for every_try in range(3):
            ws.partitions.log("events", source, time_column="ts", batch_rows=300)
    """
)


def test_two_processes_on_one_sqlite_workspace(tmp_path: Path) -> None:
    where = str(tmp_path / "ws")
    pq.write_table(events(1500, days=6, seed=7), tmp_path / "e.parquet")
    mlaudit.open(where).close()
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, where, str(tmp_path / "e.parquet")],
            cwd=root,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    with mlaudit.open(where, create=False) as ws:
        assert [p.revision for p in ws.partitions.list("events", revisions=True)] == [1] * 6
        assert len(ws.ledger.log(action="partition.profiled")) == 6
        assert ws.partitions.profile("events", "2026-01-01", "2026-01-07").rows == 1500
        assert ws.ledger.verify().ok


def test_a_user_without_dataset_log_is_refused(tmp_path: Path) -> None:
    table = events(200, days=2, seed=8)
    with mlaudit.open(tmp_path / "ws", actor="root") as ws:
        ws.access.add_user("root", admin=True)
        ws.access.add_user("vic")
        ws.access.grant("vic", "viewer")
        ws.access.add_user("cat")
        ws.access.grant("cat", "contributor")
    denied = pytest.raises(mlaudit.PermissionDenied, match=r"may not dataset\.log")
    with mlaudit.open(tmp_path / "ws", actor="vic") as ws, denied:
        ws.partitions.log("events", table, time_column="ts")
    with mlaudit.open(tmp_path / "ws", actor="cat") as ws:
        assert ws.partitions.log("events", table, time_column="ts").count("created") == 2
    with mlaudit.open(tmp_path / "ws", actor="vic") as ws:
        assert len(ws.partitions.list("events")) == 2  # viewers may read
    with mlaudit.open(tmp_path / "ws", actor="nobody") as ws, pytest.raises(mlaudit.PermissionDenied):
        ws.partitions.list("events")


def test_hour_and_month_partitions_are_utc(tmp_path: Path) -> None:
    oslo = pa.array(
        [datetime(2026, 2, 1, 0, 30), datetime(2026, 2, 1, 1, 30), datetime(2026, 3, 1, 0, 15)],
        pa.timestamp("us"),
    ).cast(pa.timestamp("us", tz="UTC"))
    # the same instants, typed in Oslo time (UTC+1 in winter): the partitions do not move
    table = pa.table({"ts": oslo.cast(pa.timestamp("us", tz="Europe/Oslo")), "x": [1.0, 2.0, 3.0]})
    with mlaudit.open(tmp_path / "ws") as ws:
        hours = ws.partitions.log("hourly", table, time_column="ts", every="hour").partitions
        months = ws.partitions.log("monthly", table, time_column="ts", every="month").partitions
    assert [(p.start, p.end, p.rows) for p in hours] == [
        ("2026-02-01T00:00:00.000000Z", "2026-02-01T01:00:00.000000Z", 1),
        ("2026-02-01T01:00:00.000000Z", "2026-02-01T02:00:00.000000Z", 1),
        ("2026-03-01T00:00:00.000000Z", "2026-03-01T01:00:00.000000Z", 1),
    ]
    assert [(p.start[:10], p.end[:10], p.rows) for p in months] == [
        ("2026-02-01", "2026-03-01", 2),
        ("2026-03-01", "2026-04-01", 1),
    ]
