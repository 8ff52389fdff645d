"""``Workspace.audit`` and ``mlaudit audit``: evidence in the ledger and lineage, exit codes."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import orjson
import pyarrow.parquet as pq
import pytest
from audit_data import make_table
from sklearn.linear_model import LogisticRegression

import mlaudit
from mlaudit.cli import main


@pytest.fixture()
def setup(tmp_path: Path) -> dict[str, Path]:
    train, ref, cur, drifted = (
        make_table(2000, seed=s, shift=1.0 if s == 34 else 0.0) for s in (31, 32, 33, 34)
    )
    paths = {}
    for name, table in (("train", train), ("ref", ref), ("cur", cur), ("drifted", drifted)):
        paths[name] = tmp_path / f"{name}.parquet"
        pq.write_table(table, paths[name])
    paths["nolabels"] = tmp_path / "nolabels.parquet"
    pq.write_table(cur.drop(["y"]), paths["nolabels"])
    paths["missing_x2"] = tmp_path / "missing_x2.parquet"
    pq.write_table(cur.drop(["x2"]), paths["missing_x2"])
    x = np.column_stack([train.column("x1").to_numpy(), train.column("x2").to_numpy()])
    paths["model"] = tmp_path / "model.joblib"
    joblib.dump(LogisticRegression().fit(x, train.column("y").to_numpy()), paths["model"])
    ws = tmp_path / "ws"
    paths["ws"] = ws
    assert main(["init", str(ws)]) == 0
    assert main(["data", "log", "train", str(paths["train"]), "--keep-data", "-w", str(ws)]) == 0
    assert main(["data", "log", "holdout", str(paths["ref"]), "-w", str(ws)]) == 0  # data not kept
    assert (
        main(
            [
                "model",
                "register",
                "credit",
                str(paths["model"]),
                "--trust-pickle",
                "--features",
                "x1,x2",
                "--target",
                "y",
                "--sensitive",
                "sex",
                "--trained-on",
                "train@v1",
                "-w",
                str(ws),
            ]
        )
        == 0
    )
    return paths


def _audit(paths: dict[str, Path], *args: str) -> list[str]:
    return ["audit", "credit", "-w", str(paths["ws"]), *args]


def test_clean_audit_exits_0_and_is_ledgered_with_lineage(
    setup: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = main(_audit(setup, "--reference", str(setup["ref"]), "--current", str(setup["cur"]), "--json"))
    doc = orjson.loads(capsys.readouterr().out)
    assert code == 0, doc["findings"]
    assert doc["passed"] and doc["model"]["ref"] == "credit@v1"
    assert doc["labels"] == "y" and doc["sensitive"] == ["sex"]  # from the registration
    assert doc["inputs"]["train"]["dataset"] == "train@v1"  # kept training data found
    with mlaudit.open(setup["ws"], create=False) as ws:
        stored = ws.audits.get(doc["recorded"]["result"])
        assert stored.kind == "audit_report" and stored.status == doc["status"]
        version = ws.models.get("credit")
        assert stored.subject == version.node
        event = next(e for e in ws.ledger.log() if e.seq == stored.seq)
        payload = orjson.loads(event.payload) if isinstance(event.payload, (str, bytes)) else event.payload
        assert payload["inputs"]["model"] == version.fingerprint
        assert payload["inputs"]["current"] == doc["inputs"]["current"]["fingerprint"]
        assert payload["summary"]["counts"] == doc["counts"] and payload["summary"]["suite"] == "quick"
        graph = ws.lineage.downstream(version.node)
        runs = [n for n in graph.nodes if n.kind == "run"]
        assert any(n.info.get("job", "").endswith("audit/credit") for n in runs)
        consumed = {e.src for e in graph.edges}
        assert version.node in consumed
        up = ws.lineage.upstream(version.node)
        assert ws.datasets.get("train@v1").node in up.ids()
        assert ws.ledger.verify().ok


def test_drifted_data_fails_with_exit_1_and_readable_findings(
    setup: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    page = setup["ws"].parent / "audit.html"
    argv = ["--reference", str(setup["ref"]), "--current", str(setup["drifted"]), "--suite", "full"]
    code = main(_audit(setup, *argv, "--html", str(page)))
    out = capsys.readouterr()
    assert code == 1
    html = page.read_text()
    assert "Model audit: credit@v1" in html and "Audit failed" in html
    assert "FAILED" in out.out and "Findings" in out.out and "feature 'x1' drifted" in out.out
    assert "recorded as result" in out.err
    assert "Traceback" not in out.out + out.err


def test_no_labels_estimates_and_no_record_leaves_no_evidence(
    setup: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with mlaudit.open(setup["ws"], create=False) as ws:
        before = len(ws.ledger.log())
    capsys.readouterr()
    code = main(
        _audit(
            setup,
            "--reference",
            str(setup["ref"]),
            "--current",
            str(setup["nolabels"]),
            "--no-record",
            "--json",
        )
    )
    doc = orjson.loads(capsys.readouterr().out)
    assert code in (0, 1)
    checks = [r["check"] for s in doc["sections"] for r in s["results"]]
    assert "estimated:roc_auc" in checks and "performance:roc_auc" not in checks
    assert "recorded" not in doc
    with mlaudit.open(setup["ws"], create=False) as ws:
        assert len(ws.ledger.log()) == before


def test_bad_input_exits_2_without_traceback(
    setup: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    cases = [
        (_audit(setup, "--reference", str(setup["ref"]), "--current", str(setup["missing_x2"])), "x2"),
        (_audit(setup, "--reference", "holdout@v1", "--current", str(setup["cur"])), "kept no data"),
        (_audit(setup, "--reference", "nothing-here", "--current", str(setup["cur"])), "neither a file"),
        (
            _audit(
                setup, "--reference", str(setup["ref"]), "--current", str(setup["cur"]), "--suite", "nope"
            ),
            "no suite",
        ),
        (
            [
                "audit",
                "ghost",
                "-w",
                str(setup["ws"]),
                "--reference",
                str(setup["ref"]),
                "--current",
                str(setup["cur"]),
            ],
            "no model version",
        ),
    ]
    for argv, expected in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err


def test_workspace_audit_accepts_kept_dataset_versions_and_tables(setup: dict[str, Path]) -> None:
    with mlaudit.open(setup["ws"], create=False) as ws:
        ws.datasets.log("holdout-kept", source=setup["ref"], keep_data=True)
        report = ws.audit("credit@v1", reference="holdout-kept@v1", current=pq.read_table(setup["cur"]))
        assert report.inputs["reference"]["dataset"] == "holdout-kept@v1"
        assert report.inputs["current"]["source"].startswith("in-memory")
        assert report.recorded is not None
        run_graph = ws.lineage.downstream(ws.datasets.get("holdout-kept@v1").node)
        assert any(n.kind == "run" for n in run_graph.nodes)
