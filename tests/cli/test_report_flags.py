"""``--html``, ``--md`` and ``--junit`` on check, fairness, drift, data profile and audit."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import joblib
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

from mlaudit.cli import main

RULES = """rules:
  - rule: unique
    column: id
  - rule: range
    column: age
    min: 18
  - rule: not_null
    column: age
"""


def _scored(n: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(shift, 1, n), rng.normal(0, 1, n)
    sex = rng.choice(["F", "M|<b>"], n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * x1 - x2)))).astype(int)
    pred = (rng.random(n) < np.where(sex == "F", 0.3, 0.5)).astype(int)
    return pa.table({"x1": x1, "x2": x2, "sex": sex, "y": y, "pred": pred})


@pytest.fixture
def data(tmp_path: Path) -> dict[str, Path]:
    ids = list(range(300))
    ids[5] = 4
    ages = [30.0] * 300
    ages[7] = 9.0
    paths = {"orders": tmp_path / "orders.csv", "rules": tmp_path / "rules.yaml"}
    pacsv.write_csv(pa.table({"id": ids, "age": ages}), paths["orders"])
    paths["rules"].write_text(RULES, encoding="utf-8")
    paths["scored"] = tmp_path / "scored.parquet"
    pq.write_table(_scored(2000, 1), paths["scored"])
    return paths


def test_check_writes_html_markdown_and_junit(data: dict[str, Path], tmp_path: Path) -> None:
    html, md, junit = tmp_path / "check.html", tmp_path / "check.md", tmp_path / "check.xml"
    argv = ["check", str(data["orders"]), "--rules", str(data["rules"]), "--json"]
    assert main([*argv, "--html", str(html), "--md", str(md), "--junit", str(junit)]) == 1
    page = html.read_text(encoding="utf-8")
    assert "Data quality check failed" in page and "orders.csv" in page
    assert md.read_text(encoding="utf-8").startswith("# Data quality: failed")
    root = ET.parse(junit).getroot()
    assert root.get("tests") == "3" and root.get("failures") == "2"
    assert [c.get("name") for c in root.iter("testcase")] == ["unique(id)", "range(age)", "not_null(age)"]


def test_check_report_flags_do_not_go_with_suggest(data: dict[str, Path], tmp_path: Path) -> None:
    assert main(["check", str(data["orders"]), "--suggest", "--md", str(tmp_path / "x.md")]) == 2


def test_fairness_writes_html_and_markdown(data: dict[str, Path], tmp_path: Path) -> None:
    html, md = tmp_path / "fair.html", tmp_path / "fair.md"
    argv = ["fairness", str(data["scored"]), "--y-true", "y", "--y-pred", "pred", "--sensitive", "sex"]
    assert main([*argv, "--html", str(html), "--md", str(md), "--bootstrap", "50", "--json"]) == 1
    page = html.read_text(encoding="utf-8")
    assert "Fairness: sex" in page and "scored.parquet" in page and "M|&lt;b&gt;" in page
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Fairness (sex): failed") and "M\\|&lt;b&gt;" in text


def test_drift_and_profile_write_markdown(data: dict[str, Path], tmp_path: Path) -> None:
    cur = tmp_path / "cur.parquet"
    pq.write_table(_scored(2000, 2, shift=1.0), cur)
    md = tmp_path / "drift.md"
    assert main(["drift", str(data["scored"]), str(cur), "--md", str(md), "--json"]) == 0
    assert md.read_text(encoding="utf-8").startswith("# Data drift:")
    prof = tmp_path / "profile.md"
    assert main(["data", "profile", str(data["scored"]), "--md", str(prof), "--json"]) == 0
    assert prof.read_text(encoding="utf-8").startswith("# Data profile: 2,000 rows × 5 columns")


def test_markdown_to_a_missing_folder_is_bad_input(data: dict[str, Path], tmp_path: Path) -> None:
    assert main(["data", "profile", str(data["scored"]), "--md", str(tmp_path / "no" / "p.md")]) == 2


def test_audit_writes_markdown_and_junit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train, ref, cur = (_scored(1500, s) for s in (11, 12, 13))
    paths = {}
    for name, table in (("train", train), ("ref", ref), ("cur", cur)):
        paths[name] = tmp_path / f"{name}.parquet"
        pq.write_table(table, paths[name])
    x = np.column_stack([train.column("x1").to_numpy(), train.column("x2").to_numpy()])
    joblib.dump(LogisticRegression().fit(x, train.column("y").to_numpy()), tmp_path / "model.joblib")
    ws = str(tmp_path / "ws")
    assert main(["init", ws]) == 0
    register = ["model", "register", "credit", str(tmp_path / "model.joblib"), "--trust-pickle",
                "--features", "x1,x2", "--target", "y", "--sensitive", "sex", "-w", ws]  # fmt: skip
    assert main(register) == 0
    md, junit = tmp_path / "audit.md", tmp_path / "audit.xml"
    argv = ["audit", "credit", "--reference", str(paths["ref"]), "--current", str(paths["cur"]), "-w", ws]
    code = main([*argv, "--md", str(md), "--junit", str(junit), "--no-record", "--json"])
    capsys.readouterr()
    assert code in (0, 1)
    assert md.read_text(encoding="utf-8").startswith("# Model audit of credit@v1")
    root = ET.parse(junit).getroot()
    assert root.get("name") == "mlaudit audit credit@v1"
    assert {s.get("name") for s in root.iter("testsuite")} >= {"Feature drift", "Performance", "Fairness"}
    assert all(c.get("classname") for c in root.iter("testcase"))
