"""``mlaudit lineage NODE`` as a user runs it: formats, flags and exit codes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import typer

import mlaudit
import mlaudit.lineage
from mlaudit.cli import lineage as lineage_cli
from mlaudit.cli import main


@pytest.fixture(autouse=True)
def _wired() -> None:
    """Register the command on the app if cli/__init__.py does not (yet)."""
    from mlaudit.cli import app

    if not any(c.name == "lineage" for c in app.registered_commands):
        lineage_cli.register(app)


@pytest.fixture
def ws_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """prep: raw → train; train (January): train → credit@1; train (March): train → credit@2."""
    target = str(tmp_path / "ws")
    with mlaudit.open(target) as ws:
        for month, run_id, job, source, made in [
            ("01", "1", "prep", "dataset:raw@1", "dataset:train@1"),
            ("01", "2", "train", "dataset:train@1", "model:credit@1"),
            ("03", "3", "train", "dataset:train@1", "model:credit@2"),
        ]:
            monkeypatch.setattr(mlaudit.lineage, "utc_now", lambda m=month: f"2024-{m}-01T00:00:00.000000Z")
            with ws.run(job, run_id=f"{run_id}0000000-0000-4000-8000-000000000000") as run:
                run.consumes(source).produces(made)
    return target


def test_text_tree_is_the_default(ws_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lineage", "model:credit@1", "-w", ws_dir]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "model:credit@1",
        "└─ produced by run mlaudit/train 20000000 (completed)",
        "   └─ dataset:train@1",
        "      └─ produced by run mlaudit/prep 10000000 (completed)",
        "         └─ dataset:raw@1",
    ]


def test_json_downstream_depth_and_as_of(ws_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["lineage", "dataset:raw@1", "--downstream", "--depth", "1", "--format", "json", "-w", ws_dir]
    assert main(args) == 0
    doc = orjson.loads(capsys.readouterr().out)
    assert (doc["direction"], doc["depth"], doc["partial"]) == ("downstream", 1, True)
    assert {n["id"] for n in doc["nodes"]} == {
        "dataset:raw@1",
        "run:10000000-0000-4000-8000-000000000000",
        "dataset:train@1",
    }
    assert (
        main(
            [
                "lineage",
                "dataset:train@1",
                "--downstream",
                "-f",
                "json",
                "--as-of",
                "2024-02-01",
                "-w",
                ws_dir,
            ]
        )
        == 0
    )
    models = {n["id"] for n in orjson.loads(capsys.readouterr().out)["nodes"] if n["kind"] == "model"}
    assert models == {"model:credit@1"}


def test_dot_and_openlineage(ws_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lineage", "credit@2", "--format", "dot", "-w", ws_dir]) == 0
    dot = capsys.readouterr().out
    assert (
        dot.startswith("digraph lineage {")
        and '"dataset:raw@1" [label="dataset:raw@1", shape=ellipse];' in dot
    )
    assert main(["lineage", "model:credit@2", "--format", "openlineage", "-w", ws_dir]) == 0
    events = orjson.loads(capsys.readouterr().out)
    assert [(e["eventType"], e["job"]["name"]) for e in events] == [
        ("START", "prep"),
        ("COMPLETE", "prep"),
        ("START", "train"),
        ("COMPLETE", "train"),
    ]


def test_errors_exit_2(ws_dir: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["lineage", "model:nope@1", "-w", ws_dir]) == 2
    assert "model:nope@1" in capsys.readouterr().err
    assert main(["lineage", "model:credit@1", "--as-of", "soon", "-w", ws_dir]) == 2
    assert "not an ISO date" in capsys.readouterr().err
    assert main(["lineage", "model:credit@1", "--format", "svg", "-w", ws_dir]) == 2
    assert main(["lineage", "model:credit@1", "-w", str(tmp_path / "missing")]) == 2


def test_register_adds_one_command() -> None:
    app = typer.Typer()
    lineage_cli.register(app)
    assert [c.name for c in app.registered_commands] == ["lineage"]
