"""``--engine``/``--batch-rows``/``--exact-limit`` on data profile, check and drift: streamed
sources give the in-memory results."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlaudit.checks import load_rules, run_rules
from mlaudit.cli import main
from mlaudit.stats.drift import DriftDetector
from mlaudit.stats.profile import profile


@pytest.fixture
def big(tmp_path: Path) -> Path:
    rng = np.random.default_rng(7)
    n = 120_500  # past the 100,000-row inference window: two passes
    x = rng.normal(10, 3, n)
    x[::97] = np.nan
    table = pa.table(
        {
            "x": pa.array(x, mask=np.arange(n) % 50 == 0),
            "id": np.arange(n) % 90_000,
            "city": rng.choice(np.array(["Zürich", "Genève", "Basel", ""]), n),
            "ok": rng.random(n) < 0.4,
        }
    )
    path = tmp_path / "big.parquet"
    pq.write_table(table, path, row_group_size=10_000)
    return path


def _without_quantiles(doc: dict[str, Any]) -> dict[str, Any]:
    """The profile JSON less the sketches' answers (quantiles; HLL distinct counts past the
    exact items) and with moments rounded."""
    for c in doc["columns"]:
        c.pop("quantiles")
        c["distinct"] = None
        for key in ("mean", "std"):
            if c[key] is not None:
                c[key] = round(c[key], 9)
    return doc


def test_profile_streamed_equals_in_memory(big: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "profile", str(big), "--batch-rows", "1000", "--json"]) == 0
    streamed = json.loads(capsys.readouterr().out)
    table = pq.read_table(big)
    whole = json.loads(json.dumps(profile(table).to_dict()))
    x = table.column("x").drop_null().to_numpy()
    x = np.sort(x[np.isfinite(x)])
    for q, v in streamed["columns"][0]["quantiles"].items():  # KLL k=200: rank error ~1.3 %
        assert abs(np.searchsorted(x, v, side="right") / len(x) - float(q)) < 0.03, q
    for a, b in zip(streamed["columns"], whole["columns"], strict=True):
        assert a["distinct"] == pytest.approx(b["distinct"], rel=0.03)  # HLL: ~1.6 % error
    assert _without_quantiles(streamed) == _without_quantiles(whole)


def test_profile_sql_source_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "t.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (a REAL, b TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", [(i * 0.5, f"k{i % 3}") for i in range(50)])
    page = tmp_path / "p.html"
    args = ["data", "profile", f"sqlite:///{db}", "--query", "SELECT * FROM t", "--json", "--html", str(page)]
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"] == 50 and doc["columns"][0]["max"] == 24.5
    assert page.read_text().startswith("<!DOCTYPE html>") or "<html" in page.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "profile", "{dir}/nope.parquet"], "nope.parquet"),
        (["data", "profile", "{dir}/*.tsv"], "no file matches"),
        (["data", "profile", "{dir}/x.csv", "--spark-master", "local[2]"], "--engine spark"),
        (["data", "profile", "{dir}/x.csv", "--engine", "duck"], "arrow or spark"),
        (["check", "{dir}/nope.csv", "--rules", "{dir}/r.yaml"], "nope.csv"),
        (["drift", "{dir}/nope.parquet", "{dir}/nope.parquet"], "nope.parquet"),
        (["drift", "{dir}/x.csv", "{dir}/x.csv", "--engine", "spark", "--multivariate"], "multivariate"),
    ],
)
def test_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "x.csv").write_text("a\n1\n")
    (tmp_path / "r.yaml").write_text("rules:\n  - rule: not_null\n    column: a\n")
    assert main([a.replace("{dir}", str(tmp_path)) for a in args] + ["--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and message in captured.err


def test_check_streamed_equals_run_rules(
    big: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "rules:\n"
        "  - {rule: not_null, column: x, max_null_rate: 0.01}\n"
        "  - {rule: range, column: x, min: 0, max: 20}\n"
        "  - {rule: unique, column: id}\n"
        "  - {rule: allowed_values, column: city, values: [Zürich, Genève, Basel]}\n"
        "  - {rule: row_count, min: 1000}\n"
        '  - {rule: expression, expr: "x > 1 OR ok"}\n',
        encoding="utf-8",
    )
    assert main(["check", str(big), "--rules", str(rules), "--batch-rows", "4096", "--json"]) == 1
    streamed = json.loads(capsys.readouterr().out)
    table = pq.read_table(big)
    whole = json.loads(json.dumps(run_rules(table, load_rules(rules)).to_dict()))
    assert streamed == whole
    assert main(["check", str(big), "--rules", str(rules), "--exact-limit", "1000", "--json"]) == 1
    approx = json.loads(capsys.readouterr().out)["results"][2]
    assert approx["details"]["approximate"]["method"] == "hll"


def test_drift_streamed_equals_in_memory(
    big: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = pq.read_table(big)
    current = table.slice(0, 60_000).set_column(
        0, "x", pa.array(np.random.default_rng(1).normal(10.5, 3, 60_000))
    )
    cur_path = tmp_path / "cur.parquet"
    pq.write_table(current, cur_path)
    page = tmp_path / "d.html"
    args = ["drift", str(big), str(cur_path), "--columns", "x,city,ok", "--batch-rows", "5000", "--json"]
    assert main([*args, "--html", str(page)]) == 0
    streamed = json.loads(capsys.readouterr().out)
    whole = DriftDetector(columns=["x", "city", "ok"]).fit(table).compare(current).to_dict()
    assert streamed == json.loads(json.dumps(whole))
    assert "x" in streamed["drifted_columns"] and page.stat().st_size > 1000
    assert main([*args, "--exact-limit", "5000"]) == 0
    approx = json.loads(capsys.readouterr().out)
    x = next(c for c in approx["columns"] if c["name"] == "x")
    assert "uniform sample" in x["details"]["approximate"]["note"]


def test_drift_past_the_exact_limit_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(3)
    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    pq.write_table(pa.table({"x": rng.normal(0, 1, 5_000), "c": rng.choice(list("ab"), 5_000)}), ref)
    pq.write_table(pa.table({"x": rng.normal(1, 1, 5_000), "c": rng.choice(list("ab"), 5_000)}), cur)
    md, html = tmp_path / "drift.md", tmp_path / "drift.html"
    argv = ["drift", str(ref), str(cur), "--exact-limit", "500", "--md", str(md), "--html", str(html)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "x: approximate — ks ran on a uniform sample of 500 of the 5,000 finite values" in printed
    assert "c: approximate" not in printed  # category counts are exact
    assert "## Approximations" in md.read_text() and "uniform sample of 500" in md.read_text()
    assert "Approximate: ks ran on a uniform sample of 500" in html.read_text()
    assert main(["drift", str(ref), str(cur), "--json", "--exact-limit", "500"]) == 0
    doc = json.loads(capsys.readouterr().out)
    x = next(c for c in doc["columns"] if c["name"] == "x")
    assert x["drifted"] and x["details"]["approximate"]["sample"] == 500
