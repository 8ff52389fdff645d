"""Upstream / downstream queries: depth limits, ``partial``, as-of, run and job roots, cycles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import mlaudit
import mlaudit.lineage
from mlaudit.lineage import LineageGraph


class Clock:
    """A fake ``utc_now`` for the lineage module: one second per call from a given day."""

    def __init__(self, day: str) -> None:
        self.day = day
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.day}T00:00:{self.n:02d}.000000Z"


def build(ws: mlaudit.Workspace, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """raw → ingest → clean; clean + ref → features → feat1 → train → m1, feat1 → report → html;
    a month later: clean → features → feat2 → train → m2."""
    runs = {}
    monkeypatch.setattr(mlaudit.lineage, "utc_now", Clock("2024-01-10"))
    for name, ins, outs in [
        ("ingest", ["dataset:raw@1"], ["dataset:clean@1"]),
        ("features", ["dataset:clean@1", "dataset:ref@1"], ["dataset:feat@1"]),
        ("train", ["dataset:feat@1"], ["model:m@1"]),
        ("report", ["dataset:feat@1"], ["ol:file//reports/r.html"]),
    ]:
        with ws.run(name) as run:
            for i in ins:
                run.consumes(i)
            for o in outs:
                run.produces(o)
        runs[name] = run.node
    monkeypatch.setattr(mlaudit.lineage, "utc_now", Clock("2024-02-10"))
    for name, ins, outs in [
        ("features", ["dataset:clean@1"], ["dataset:feat@2"]),
        ("train", ["dataset:feat@2"], ["model:m@2"]),
    ]:
        with ws.run(name) as run:
            run.consumes(ins[0]).produces(outs[0])
        runs[name + "2"] = run.node
    return runs


def data(graph: LineageGraph) -> set[str]:
    return {n.id for n in graph.nodes if n.kind not in ("run", "job")}


@pytest.fixture
def ws(workspace_target: dict[str, str]) -> Iterator[mlaudit.Workspace]:
    target = workspace_target.pop("target")
    with mlaudit.open(target, **workspace_target) as workspace:  # type: ignore[arg-type]
        yield workspace


def test_queries_on_both_backends(ws: mlaudit.Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = build(ws, monkeypatch)
    up = ws.lineage.upstream("model:m@1")
    assert data(up) == {"model:m@1", "dataset:feat@1", "dataset:clean@1", "dataset:ref@1", "dataset:raw@1"}
    assert up.ids("run") == {runs["train"], runs["features"], runs["ingest"]}
    assert (up.depth_reached, up.partial, len(up.edges)) == (3, False, 7)
    assert {(e.src, e.dst, e.kind) for e in up.edges} >= {
        (runs["train"], "model:m@1", "produced"),
        ("dataset:ref@1", runs["features"], "consumed"),
    }
    assert up.node(runs["train"]).info["status"] == "completed"
    assert up.node("dataset:raw@1").depth == 3

    # partial is True exactly when one more hop would add something
    assert data(ws.lineage.upstream("model:m@1", depth=2)) == {
        "model:m@1",
        "dataset:feat@1",
        "dataset:clean@1",
        "dataset:ref@1",
    }
    assert ws.lineage.upstream("model:m@1", depth=2).partial
    assert not ws.lineage.upstream("model:m@1", depth=3).partial
    zero = ws.lineage.upstream("model:m@1", depth=0)
    assert (data(zero), zero.partial, zero.edges) == ({"model:m@1"}, True, ())
    assert not ws.lineage.upstream("dataset:raw@1", depth=0).partial

    # downstream = impact analysis
    down = ws.lineage.downstream("dataset:clean@1")
    assert data(down) == {
        "dataset:clean@1",
        "dataset:feat@1",
        "dataset:feat@2",
        "model:m@1",
        "model:m@2",
        "ol:file//reports/r.html",
    }
    assert down.node("ol:file//reports/r.html").kind == "external"

    # as of a date: what existed then
    jan = ws.lineage.downstream("dataset:clean@1", as_of="2024-01-31")
    assert data(jan) == {"dataset:clean@1", "dataset:feat@1", "model:m@1", "ol:file//reports/r.html"}
    assert jan.as_of == "2024-01-31T23:59:59.999999Z"
    assert data(ws.lineage.upstream("model:m@2", as_of="2024-01-31")) == {"model:m@2"}
    # the February train run declared model:m@2 at its clock's 7th second
    assert data(ws.lineage.upstream("model:m@2", as_of="2024-02-10T00:00:06.9Z")) == {"model:m@2"}
    assert data(ws.lineage.upstream("model:m@2", as_of="2024-02-10T00:00:07Z")) == {
        "model:m@2",
        "dataset:feat@2",
        "dataset:clean@1",
        "dataset:raw@1",
    }

    # runs and jobs as roots
    assert data(ws.lineage.upstream(runs["features"])) == {
        "dataset:clean@1",
        "dataset:ref@1",
        "dataset:raw@1",
    }
    assert data(ws.lineage.downstream(runs["features"], depth=1)) == {"dataset:feat@1"}
    assert ws.lineage.downstream(runs["features"], depth=1).partial
    job = ws.lineage.downstream("job:mlaudit/features")
    assert data(job) == {
        "dataset:feat@1",
        "dataset:feat@2",
        "model:m@1",
        "model:m@2",
        "ol:file//reports/r.html",
    }
    assert job.node("job:mlaudit/features").kind == "job"

    with pytest.raises(mlaudit.NotFound, match="dataset:nope@1"):
        ws.lineage.upstream("dataset:nope@1")
    with pytest.raises(mlaudit.NotFound, match="run:0000"):
        ws.lineage.downstream("run:0000")


def test_cycles_end_and_bare_names_resolve(tmp_path: Path) -> None:
    with mlaudit.open(tmp_path / "ws") as ws:
        with ws.run("a") as run:
            run.consumes("dataset:x@1").produces("dataset:y@1")
        with ws.run("b") as run:
            run.consumes("dataset:y@1").produces("dataset:x@1")
        graph = ws.lineage.upstream("dataset:x@1")
        assert data(graph) == {"dataset:x@1", "dataset:y@1"} and len(graph.edges) == 4
        assert not graph.partial
        assert ws.lineage.resolve("y@1") == "dataset:y@1"
        with ws.run("c") as run:
            run.consumes("dataset:y@1").produces("model:y@1")
        assert ws.lineage.resolve("y@1") == "model:y@1"  # models first
        with pytest.raises(mlaudit.InputError, match="depth"):
            ws.lineage.upstream("dataset:x@1", depth=-1)


R1, R2, R3 = (f"{d}0000000-0000-4000-8000-000000000000" for d in "123")


def test_renderings(tmp_path: Path) -> None:
    with mlaudit.open(tmp_path / "ws") as ws:
        for rid, job, ins, out in [
            (R1, "a", ["dataset:raw@1"], "dataset:feat@1"),
            (R2, "b", ["dataset:feat@1"], "model:m@1"),
            (R3, "c", ["dataset:feat@1", "dataset:raw@1"], "ol:file//r.html"),
        ]:
            with ws.run(job, run_id=rid) as run:
                for i in ins:
                    run.consumes(i, columns=["x"])
                run.produces(out, columns={"y": ["x"]})
        graph = ws.lineage.downstream("dataset:raw@1")
        assert graph.to_text().splitlines() == [
            "dataset:raw@1",
            "├─ consumed by run mlaudit/a 10000000 (completed)",
            "│  └─ dataset:feat@1",
            "│     ├─ consumed by run mlaudit/b 20000000 (completed)",
            "│     │  └─ model:m@1",
            "│     └─ consumed by run mlaudit/c 30000000 (completed)",
            "│        └─ ol:file//r.html",
            "└─ consumed by run mlaudit/c 30000000 (completed) (see above)",
        ]
        cut = ws.lineage.upstream("model:m@1", depth=1).to_text()
        assert cut.splitlines()[-1] == "(partial: cut at depth 1; more upstream nodes exist)"

        dot = graph.to_dot()
        assert dot.startswith("digraph lineage {") and dot.endswith("}")
        assert f'"dataset:feat@1" -> "run:{R2}" [tooltip="consumed", label="x"];' in dot
        assert '"model:m@1" [label="model:m@1", shape=box, style="rounded"];' in dot
        assert '"dataset:raw@1" [label="dataset:raw@1", shape=ellipse, style="filled"];' in dot

        doc = graph.to_dict()
        assert (doc["kind"], doc["schema_version"], doc["root"], doc["direction"], doc["partial"]) == (
            "lineage_graph",
            1,
            "dataset:raw@1",
            "downstream",
            False,
        )
        assert doc["nodes"][0] == {"id": "dataset:raw@1", "kind": "dataset", "depth": 0, "info": {}}
        edge = next(e for e in doc["edges"] if e["dst"] == "model:m@1")
        assert (edge["src"], edge["kind"], edge["run"], edge["columns"]) == (
            f"run:{R2}",
            "produced",
            f"run:{R2}",
            {"y": ["x"]},
        )
