"""``mlaudit drift REFERENCE CURRENT`` (registered on a fresh Typer app until it is wired)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from mlaudit.cli import drift as drift_cli
from mlaudit.errors import InputError


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    drift_cli.register(app)

    @app.callback()
    def _root() -> None:  # keep "drift" a sub-command, as in the real CLI
        pass

    return app


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(0)
    n = 3000
    ref = pa.table({"age": rng.normal(40, 10, n), "sex": rng.choice(np.array(["F", "M"]), n)})
    same = pa.table({"age": rng.normal(40, 10, n), "sex": rng.choice(np.array(["F", "M"]), n)})
    moved = pa.table({"age": rng.normal(50, 10, n), "sex": rng.choice(np.array(["F", "M"]), n)})
    paths = (tmp_path / "ref.parquet", tmp_path / "same.parquet", tmp_path / "moved.csv")
    pq.write_table(ref, paths[0])
    pq.write_table(same, paths[1])
    moved.to_pandas().to_csv(paths[2], index=False)
    return paths


def test_json_output_has_the_design_shape(app: typer.Typer, files: tuple[Path, Path, Path]) -> None:
    result = CliRunner().invoke(app, ["drift", str(files[0]), str(files[2]), "--json"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert data["drifted_columns"] == ["age"]
    assert data["columns"][0]["test"] == "ks" and data["dataset_drift"] is True


def test_fail_on_drift_exits_1_only_when_a_column_drifted(
    app: typer.Typer, files: tuple[Path, Path, Path]
) -> None:
    runner = CliRunner()
    moved = runner.invoke(app, ["drift", str(files[0]), str(files[2]), "--fail-on-drift"])
    assert moved.exit_code == 1
    assert "age" in moved.stdout and "yes" in moved.stdout
    same = runner.invoke(app, ["drift", str(files[0]), str(files[1]), "--fail-on-drift"])
    assert same.exit_code == 0
    assert "0/2 columns drifted" in same.stdout


def test_options_reach_the_detector(app: typer.Typer, files: tuple[Path, Path, Path]) -> None:
    args = [
        "drift",
        str(files[0]),
        str(files[2]),
        "--json",
        "--columns",
        "age",
        "--test",
        "age=psi",
        "--threshold",
        "age=5",
        "--alpha",
        "0.01",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (col,) = orjson.loads(result.stdout)["columns"]
    assert (col["name"], col["test"], col["threshold"], col["drifted"]) == ("age", "psi", 5.0, False)
    both = CliRunner().invoke(app, ["drift", str(files[0]), str(files[1]), "--json", "--threshold", "0.5"])
    assert [c["threshold"] for c in orjson.loads(both.stdout)["columns"]] == [0.5, 0.5]


def test_bad_input_is_an_input_error(app: typer.Typer, files: tuple[Path, Path, Path]) -> None:
    result = CliRunner().invoke(app, ["drift", str(files[0]), str(files[1]), "--test", "age"])
    assert isinstance(result.exception, InputError)
    missing = CliRunner().invoke(app, ["drift", str(files[0]), str(files[1]), "--columns", "nope"])
    assert isinstance(missing.exception, InputError) and missing.exception.column == "nope"
