"""``mlaudit fairness SOURCE`` (registered on a fresh Typer app until it is wired)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import typer
from fairlearn.metrics import demographic_parity_difference
from typer.testing import CliRunner

import mlaudit
from mlaudit.cli import fairness as fairness_cli
from mlaudit.cli import main
from mlaudit.errors import exit_code


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    fairness_cli.register(app)

    @app.callback()
    def _root() -> None:  # keep "fairness" a sub-command, as in the real CLI
        pass

    return app


def _run(app: typer.Typer, *args: str) -> tuple[int, str]:
    """Exit code as ``mlaudit.cli.main`` maps it, and stdout."""
    result = CliRunner().invoke(app, ["fairness", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return exit_code(result.exception), str(result.exception)
    return result.exit_code, result.stdout


def _write(tmp_path: Path, name: str, biased: bool) -> Path:
    rng = np.random.default_rng(0)
    n = 2000
    sex = rng.choice(np.array(["F", "M"]), n)
    y = rng.integers(0, 2, n)
    p = (rng.random(n) < 0.3 + 0.4 * y - (0.2 * (sex == "F") if biased else 0)).astype(np.int64)
    table = pa.table(
        {
            "label": np.where(y == 1, "approved", "denied"),
            "pred": np.where(p == 1, "approved", "denied"),
            "y": y,
            "p": p,
            "score": rng.random(n),
            "sex": sex,
            "age": rng.choice(np.array(["<40", "40+"]), n),
        }
    )
    path = tmp_path / name
    if name.endswith(".csv"):
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    return path


def test_json_output_and_exit_codes(app: typer.Typer, tmp_path: Path) -> None:
    fair, biased = _write(tmp_path, "fair.parquet", False), _write(tmp_path, "biased.csv", True)
    code, stdout = _run(app, str(fair), "--y-true", "y", "--y-pred", "p", "--sensitive", "sex", "--json")
    doc = orjson.loads(stdout)
    assert code == 0 and doc["passed"] is True
    assert (doc["kind"], doc["schema_version"]) == ("fairness_report", 1)
    assert [g["group"] for g in doc["groups"]] == [{"sex": "F"}, {"sex": "M"}]
    assert {"count", "judged", "selection_rate", "tpr", "fpr"} <= set(doc["groups"][0])
    code, stdout = _run(app, str(biased), "--y-true", "y", "--y-pred", "p", "--sensitive", "sex", "--json")
    doc = orjson.loads(stdout)
    assert code == 1 and doc["passed"] is False
    table = pacsv.read_csv(biased).to_pandas()
    expected = demographic_parity_difference(table.y, table.p, sensitive_features=table.sex)
    assert doc["disparities"]["demographic_parity_difference"] == pytest.approx(expected, abs=1e-9)
    assert {r["check"]: r["status"] for r in doc["results"]}[
        "fairness:demographic_parity_difference"
    ] == "fail"


def test_labels_scores_intersections_and_thresholds(app: typer.Typer, tmp_path: Path) -> None:
    path = _write(tmp_path, "d.parquet", True)
    code, stdout = _run(
        app,
        str(path),
        "--y-true",
        "label",
        "--y-pred",
        "pred",
        "--positive",
        "approved",
        "--y-score",
        "score",
        "--sensitive",
        "sex",
        "--sensitive",
        "age",
        "--threshold",
        "demographic_parity_difference=0.9",
        "--threshold",
        "equalized_odds_difference=none",
        "--threshold",
        "demographic_parity_ratio=0",
        "--bootstrap",
        "20",
        "--json",
    )
    doc = orjson.loads(stdout)
    assert code == 0, stdout
    assert len(doc["groups"]) == 4 and doc["groups"][0]["group"] == {"sex": "F", "age": "40+"}
    assert "calibration_gap" in doc["groups"][0] and "calibration_gap_difference" in doc["disparities"]
    assert doc["thresholds"] == {"demographic_parity_difference": 0.9, "demographic_parity_ratio": 0.0}
    assert doc["bootstrap"] == {"n": 20, "confidence": 0.95}


def test_human_output(app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # a wide table, whatever terminal the suite runs in
    path = _write(tmp_path, "d.csv", True)
    code, stdout = _run(
        app, str(path), "--y-true", "y", "--y-pred", "p", "--sensitive", "sex,age", "--bootstrap", "20"
    )
    assert code == 1
    for text in ("sex=F, age=40+", "demographic_parity_difference", "four-fifths rule", "failed"):
        assert text in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--y-true", "nope", "--y-pred", "p", "--sensitive", "sex"], "column 'nope'"),
        (["--y-true", "label", "--y-pred", "pred", "--sensitive", "sex"], "--positive"),
        (["--y-true", "y", "--y-pred", "p", "--sensitive", "one"], "only one group"),
        (["--y-true", "y", "--y-pred", "p", "--sensitive", "sex", "--threshold", "x"], "NAME=X"),
        (
            ["--y-true", "y", "--y-pred", "p", "--sensitive", "sex", "--threshold", "typo_ratio=1"],
            "typo_ratio",
        ),
    ],
)
def test_bad_input_exits_2(app: typer.Typer, tmp_path: Path, args: list[str], message: str) -> None:
    path = _write(tmp_path, "d.parquet", False)
    table = pq.read_table(path)
    pq.write_table(table.append_column("one", pa.array(["all"] * table.num_rows)), path)
    code, text = _run(app, str(path), *args)
    assert code == 2 and message in text


def test_record_keeps_the_report(
    app: typer.Typer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "d.csv", True)
    ws_dir = str(tmp_path / "ws")
    assert main(["init", ws_dir]) == 0
    capsys.readouterr()
    code, _ = _run(
        app,
        str(path),
        "--y-true",
        "y",
        "--y-pred",
        "p",
        "--sensitive",
        "sex",
        "--bootstrap",
        "0",
        "--record",
        "model:credit",
        "-w",
        ws_dir,
        "--json",
    )
    assert code == 1
    with mlaudit.open(ws_dir, create=False) as ws:
        stored = ws.audits.list(subject="model:credit")
        assert [(r.kind, r.status) for r in stored] == [("fairness_report", "fail")]
        assert stored[0].document["groups"][0]["group"] == {"sex": "F"}
        assert ws.ledger.verify().ok
