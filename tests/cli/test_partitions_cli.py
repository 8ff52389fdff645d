"""``mlaudit data partition log | list | profile | drift``: output shapes, exit codes, bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import mlaudit
from mlaudit.cli import main


def _valid(doc: dict[str, Any], name: str) -> None:
    from importlib.resources import files

    schema = orjson.loads((files("mlaudit.schemas") / f"{name}.schema.json").read_bytes())
    jsonschema.Draft202012Validator(schema).validate(doc)


def _events(path: Path, n: int = 1400, days: int = 14) -> Path:
    rng = np.random.default_rng(0)
    seconds = np.sort(rng.integers(0, days * 86_400, n))
    ts = np.datetime64("2026-01-01T00:00:00", "s") + seconds.astype("timedelta64[s]")
    x = rng.normal(0.0, 1.0, n) + (seconds >= 7 * 86_400) * 2.0
    table = pa.table({"ts": pa.array(ts, pa.timestamp("s")), "x": x, "c": rng.choice(["a", "b"], n)})
    pacsv.write_csv(table, path)
    return path


def test_log_list_profile_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = str(tmp_path / "ws")
    source = _events(tmp_path / "events.csv")
    assert main(["init", where]) == 0
    capsys.readouterr()
    log = ["data", "partition", "log", "events", str(source), "--time-column", "ts", "-w", where]
    assert main([*log, "--every", "week", "--json"]) == 0
    doc = orjson.loads(capsys.readouterr().out)
    assert (doc["every"], doc["rows"], doc["created"]) == ("week", 1400, 3)
    assert [p["start"][:10] for p in doc["partitions"]] == ["2025-12-29", "2026-01-05", "2026-01-12"]
    assert main([*log, "--every", "week"]) == 0
    assert "0 created, 3 unchanged" in capsys.readouterr().out
    assert main(["data", "partition", "list", "events", "-w", where, "--json"]) == 0
    listed = orjson.loads(capsys.readouterr().out)
    assert [p["id"] for p in listed["partitions"]] == [p["id"] for p in doc["partitions"]]

    profile = ["data", "partition", "profile", "events", "--from", "2026-01-05", "--to", "2026-01-19"]
    profile += ["-w", where]
    html = tmp_path / "range.html"
    assert main([*profile, "--json", "--html", str(html)]) == 0
    got = orjson.loads(capsys.readouterr().out)
    with mlaudit.open(where, create=False) as ws:
        want = ws.partitions.profile("events", "2026-01-05", "2026-01-19").to_dict()

    def exact(doc: dict[str, Any]) -> dict[str, Any]:  # merging KLL sketches is randomised
        return doc | {"columns": [{k: v for k, v in c.items() if k != "quantiles"} for c in doc["columns"]]}

    assert exact(got) == exact(orjson.loads(orjson.dumps(want))) and got["kind"] == "mlaudit.profile"
    _valid(got, "profile")
    assert html.read_text().lstrip().lower().startswith("<!doctype html")
    assert main(profile) == 0
    assert "2 partition(s)" in capsys.readouterr().out

    assert main(["data", "partition", "log", "daily", str(source), "--time-column", "ts", "-w", where]) == 0
    capsys.readouterr()
    drift = ["data", "partition", "drift", "daily", "--reference", "2026-01-01..2026-01-08",
             "--current", "2026-01-08..2026-01-15", "-w", where]  # fmt: skip
    assert main([*drift, "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    _valid(report, "drift_report")
    assert report["drifted_columns"] == ["x"] and [c["test"] for c in report["columns"]] == ["psi", "chi2"]
    assert main([*drift, "--fail-on-drift"]) == 1
    assert "psi" in capsys.readouterr().out
    assert main(["data", "partition", "drift", "daily", "--reference", "2026-01-01", "--current", "x..y",
                 "-w", where]) == 2  # fmt: skip
    assert "FROM..TO" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("ts,x\n", None, "no rows"),
        ("ts,x\n2026-01-01T00:00:00Z,1\n,2\n", "'ts', row 1", "missing"),
        ("ts,x\n2026-01-01,1\nsoon,2\n", "'ts', row 1", "cannot read 'soon'"),
        ("ts,x\n1,1\n2,2\n", "'ts'", "not a timestamp"),
        ("when,x\n2026-01-01,1\n", "'ts'", "no such time column"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, column: str | None, message: str
) -> None:
    where = str(tmp_path / "ws")
    mlaudit.open(where).close()
    (tmp_path / "bad.csv").write_text(text)
    argv = ["data", "partition", "log", "events", str(tmp_path / "bad.csv"), "--time-column", "ts"]
    argv += ["-w", where]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and (column is None or f"column {column}" in err), err
    with mlaudit.open(where, create=False) as ws:
        assert ws.partitions.names() == [] and len(ws.ledger.log()) == 1


def test_permission_denied_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = str(tmp_path / "ws")
    with mlaudit.open(where, actor="root") as ws:
        ws.access.add_user("root", admin=True)
        ws.access.add_user("tester")  # the CLI's user in tests (MLAUDIT_USER), without a role
        ws.access.grant("tester", "viewer")
    source = _events(tmp_path / "events.csv", n=50, days=2)
    argv = ["data", "partition", "log", "events", str(source), "--time-column", "ts", "-w", where]
    assert main(argv) == 4
    assert "may not dataset.log" in capsys.readouterr().err
