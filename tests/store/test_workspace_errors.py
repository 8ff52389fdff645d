"""Bad input to the workspace and ledger: clear messages and the documented exit codes."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import mlaudit
from mlaudit.cli import main


def test_workspace_path_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "not-a-folder"
    f.write_text("x")
    assert main(["init", str(f)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    with pytest.raises(mlaudit.InputError):
        mlaudit.open(f)


def test_folder_with_other_files_is_not_taken_over(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(mlaudit.InputError, match="holds other files"):
        mlaudit.open(tmp_path)


def test_missing_workspace_is_not_created_by_readers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ledger", "verify", "-w", str(tmp_path / "nope")]) == 2
    assert "mlaudit init" in capsys.readouterr().err
    assert not (tmp_path / "nope").exists()


def test_unreachable_database_hides_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = "postgresql+psycopg://auditor:s3cret@127.0.0.1:1/nowhere"
    assert main(["init", url, "--key", str(tmp_path / "k.pem")]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the workspace database" in err
    assert "s3cret" not in err and "***" in err


def test_unsupported_database(tmp_path: Path) -> None:
    with pytest.raises(mlaudit.InputError, match="unsupported workspace database"):
        mlaudit.open("oracle://x@y/z")


def test_corrupt_key_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws_dir = tmp_path / "ws"
    assert main(["init", str(ws_dir)]) == 0
    (ws_dir / "keys" / "ledger.pem").write_text(
        "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n"
    )
    capsys.readouterr()
    assert main(["ledger", "checkpoint", "-w", str(ws_dir)]) == 2
    assert "signing key file is corrupt" in capsys.readouterr().err
    assert main(["ledger", "verify", "-w", str(ws_dir)]) == 2


def test_missing_key_for_database_url(pg_database: str) -> None:
    with pytest.raises(mlaudit.InputError, match="needs a file for its signing key"):
        mlaudit.open(pg_database)


def test_checkpoint_from_another_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["init", str(a)]) == 0 and main(["init", str(b)]) == 0
    assert main(["ledger", "checkpoint", "-w", str(b), "--export", str(tmp_path / "b.json")]) == 0
    capsys.readouterr()
    assert (
        main(["ledger", "verify", "-w", str(a), "--checkpoint", str(tmp_path / "b.json"), "--json"])
        == 3
    )
    report = orjson.loads(capsys.readouterr().out)
    assert report["ok"] is False and "from workspace" in report["reason"]


def test_garbage_checkpoint_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    assert main(["init", str(ws)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["ledger", "verify", "-w", str(ws), "--checkpoint", str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_prove_unknown_seq(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    assert main(["init", str(ws)]) == 0
    assert main(["ledger", "prove", "99", "-w", str(ws)]) == 2
    assert "no event 99" in capsys.readouterr().err
