"""Recording runs: ``with ws.run(job) as run``, its rows, ledger events and code facets."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

import mlaudit
from mlaudit.lineage import code_facets, node_id, parse_as_of
from mlaudit.store.tables import lineage_edges, lineage_runs


@dataclass(frozen=True)
class FakeVersion:
    """Stands in for DatasetVersion / ModelVersion: anything with a ``.node``."""

    node: str


@pytest.fixture
def ws(tmp_path: Path) -> mlaudit.Workspace:
    workspace = mlaudit.open(tmp_path / "ws")
    yield workspace  # type: ignore[misc]
    workspace.close()


def _runs(ws: mlaudit.Workspace) -> list[sa.Row]:  # type: ignore[type-arg]
    with ws.store.read() as conn:
        return list(conn.execute(sa.select(lineage_runs)))


def _edges(ws: mlaudit.Workspace) -> list[tuple[str, str, object]]:
    with ws.store.read() as conn:
        rows = conn.execute(sa.select(lineage_edges).order_by(lineage_edges.c.id))
        return [(r.node, r.direction, r.columns and orjson.loads(r.columns)) for r in rows]


def test_a_run_writes_its_row_edges_and_two_ledger_events(ws: mlaudit.Workspace) -> None:
    with ws.run("feature-pipeline", parameters={"window": 7}) as run:
        assert [r.status for r in _runs(ws)] == ["running"]
        run.consumes(FakeVersion("dataset:raw@a1"), columns=["age", "income"])
        run.consumes("ol:s3://bucket/lookup.csv")
        run.produces("dataset:features@b2", columns={"age_bucket": ["age"], "ratio": ["income", "age"]})
    (row,) = _runs(ws)
    assert (row.id, row.job, row.namespace, row.status, row.actor) == (
        run.id,
        "feature-pipeline",
        "mlaudit",
        "completed",
        "tester",
    )
    assert row.ended >= row.started
    assert orjson.loads(row.facets)["parameters"] == {"window": 7}
    assert _edges(ws) == [
        ("dataset:raw@a1", "consumed", ["age", "income"]),
        ("ol:s3://bucket/lookup.csv", "consumed", None),
        ("dataset:features@b2", "produced", {"age_bucket": ["age"], "ratio": ["income", "age"]}),
    ]
    started, completed = ws.ledger.log(action="lineage.*")
    assert (started.action, started.subject) == ("lineage.run_started", f"run:{run.id}")
    assert completed.action == "lineage.run_completed"
    payload = completed.to_dict()["payload"]
    assert payload["run"] == run.id and payload["job"] == "job:mlaudit/feature-pipeline"
    assert payload["consumed"] == ["dataset:raw@a1", "ol:s3://bucket/lookup.csv"]
    assert payload["produced"] == ["dataset:features@b2"]
    assert "git_commit" in payload
    assert ws.ledger.verify().ok


def test_a_failing_block_marks_the_run_failed_and_re_raises(ws: mlaudit.Workspace) -> None:
    with pytest.raises(ZeroDivisionError), ws.run("train") as run:
        run.consumes("dataset:train@1")
        _ = 1 / 0
    (row,) = _runs(ws)
    assert row.status == "failed" and row.ended is not None
    assert _edges(ws) == [("dataset:train@1", "consumed", None)]
    event = ws.ledger.log(action="lineage.run_failed")[0].to_dict()
    assert event["payload"]["error"] == "ZeroDivisionError"


def test_repeated_declarations_merge_their_columns(ws: mlaudit.Workspace) -> None:
    with ws.run("job") as run:
        run.consumes("dataset:a@1", columns=["x"]).consumes("dataset:a@1", columns=["y", "x"])
        run.produces("model:m@1", columns={"p": ["x"]}).produces(
            "model:m@1", columns={"p": ["y"], "q": ["x"]}
        )
    assert _edges(ws) == [
        ("dataset:a@1", "consumed", ["x", "y"]),
        ("model:m@1", "produced", {"p": ["x", "y"], "q": ["x"]}),
    ]


def test_bad_nodes_and_closed_runs_are_input_errors(ws: mlaudit.Workspace) -> None:
    with pytest.raises(mlaudit.InputError, match="not a dataset or model node"):
        node_id("run:123")
    with pytest.raises(mlaudit.InputError, match="cannot use int"):
        node_id(42)
    run = ws.run("job")
    with pytest.raises(mlaudit.InputError, match="not open"):
        run.consumes("dataset:a@1")
    with run:
        pass
    with pytest.raises(mlaudit.InputError, match="not open"):
        run.produces("dataset:b@1")
    assert _runs(ws)[0].status == "completed"


def test_as_of_accepts_dates_and_times() -> None:
    assert parse_as_of("2024-02-29") == "2024-02-29T23:59:59.999999Z"
    assert parse_as_of("2024-03-01T01:30:00+01:00") == "2024-03-01T00:30:00.000000Z"
    assert parse_as_of("2024-03-01T00:30:00Z") == "2024-03-01T00:30:00.000000Z"
    with pytest.raises(mlaudit.InputError, match="not an ISO date"):
        parse_as_of("last tuesday")


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def test_code_facets_inside_a_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "pipelines").mkdir(parents=True)
    script = repo / "pipelines" / "features.py"
    script.write_text("print('hi')\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    head = _git(repo, "rev-parse", "HEAD")
    assert code_facets(script) == {
        "git": {"commit": head, "dirty": False},
        "code_path": "pipelines/features.py",
    }
    script.write_text("print('changed')\n")
    assert code_facets(script)["git"] == {"commit": head, "dirty": True}


def test_a_run_started_from_a_script_records_its_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    script = repo / "job.py"
    script.write_text(
        "import sys, mlaudit\n"
        "with mlaudit.open(sys.argv[1]) as ws:\n"
        "    with ws.run('nightly') as run:\n"
        "        run.consumes('dataset:a@1').produces('dataset:b@1')\n"
    )
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    import sys

    subprocess.run([sys.executable, str(script), str(tmp_path / "ws")], check=True, cwd=tmp_path)
    with mlaudit.open(tmp_path / "ws", create=False) as ws:
        facets = orjson.loads(_runs(ws)[0].facets)
        payload = ws.ledger.log(action="lineage.run_completed")[0].to_dict()["payload"]
    head = _git(repo, "rev-parse", "HEAD")
    assert facets == {"git": {"commit": head, "dirty": False}, "code_path": "job.py"}
    assert payload["git_commit"] == head


def test_no_git_binary_or_no_repository_gives_no_facets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "plain" / "x.py"
    outside.parent.mkdir()
    outside.write_text("")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert code_facets(outside) == {}
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert code_facets(outside) == {}
    with mlaudit.open(tmp_path / "ws") as ws, ws.run("job") as run:
        run.consumes("dataset:a@1")
    assert run.facets == {} and run.status == "completed"
