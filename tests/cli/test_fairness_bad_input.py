"""``mlaudit fairness`` on bad files: exit code 2, a message naming the file, column and row,
and no Python traceback (issue 5, "Must show — bad input")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlaudit.cli import main


def _csv(tmp_path: Path, text: str, name: str = "preds.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _rows(make: str, n: int = 40) -> str:
    """``n`` CSV rows from a template using {i}, {y}, {p}, {s} (two balanced groups)."""
    return "".join(make.format(i=i, y=i % 2, p=(i // 2) % 2, s="FM"[i % 2]) for i in range(n))


def _run(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> tuple[int, str]:
    code = main(["fairness", str(path), "--bootstrap", "0", *args])
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text
    return code, " ".join(text.split())  # Rich may wrap long lines


BASE = ("--y-true", "y", "--y-pred", "p", "--sensitive", "s")


@pytest.mark.parametrize(
    ("csv", "args", "expected"),
    [
        # a prediction outside the labels (an unseen class)
        ("y,p,s\n" + _rows("{y},{p},{s}\n") + "1,2,F\n", BASE, ["column 'p', row 40", "found 2"]),
        (
            "y,p,s\n"
            + _rows("{y},{p},{s}\n").replace("0,", "denied,").replace("1,", "approved,")
            + "approved,maybe,M\n",
            (*BASE, "--positive", "approved"),
            ["column 'p', row 40", "prediction 'maybe' is not one of the labels"],
        ),
        # labels with three classes
        (
            "y,p,s\n" + _rows("{y},{p},{s}\n") + "2,1,M\n",
            (*BASE, "--positive", "1"),
            ["labels must be binary"],
        ),
        # integers and text mixed in one label column
        ("y,p,s\n" + _rows("{y},{p},{s}\n") + "yes,1,M\n", BASE, ["column 'y'", "must hold 0/1 values"]),
        # missing and infinite labels
        ("y,p,s\n" + _rows("{y},{p},{s}\n") + ",1,M\n", BASE, ["column 'y', row 40", "missing value"]),
        ("y,p,s\n" + _rows("{y},{p},{s}\n") + "inf,1,M\n", BASE, ["column 'y', row 40", "found inf"]),
        # scores outside [0, 1], missing, not numbers
        (
            "y,p,s,score\n" + _rows("{y},{p},{s},0.5\n") + "1,1,M,1.7\n",
            (*BASE, "--y-score", "score"),
            ["column 'score', row 40", "scores in [0, 1], found 1.7"],
        ),
        (
            "y,p,s,score\n" + _rows("{y},{p},{s},0.5\n") + "1,1,M,NaN\n",
            (*BASE, "--y-score", "score"),
            ["column 'score', row 40", "y_score has a missing value"],
        ),
        (
            "y,p,s,score\n" + _rows("{y},{p},{s},high\n"),
            (*BASE, "--y-score", "score"),
            ["column 'score'", "must hold numeric scores"],
        ),
        # a sensitive column with one group
        ("y,p,s\n" + _rows("{y},{p},all\n"), BASE, ["only one group ({'s': 'all'})", "nothing to compare"]),
        # no rows, a missing column
        ("y,p,s\n", BASE, ["the table has no rows"]),
        (
            "y,p,s\n" + _rows("{y},{p},{s}\n"),
            ("--y-true", "label", "--y-pred", "p", "--sensitive", "s"),
            ["column 'label'", "no y_true column 'label'"],
        ),
        (
            "y,p,s\n" + _rows("{y},{p},{s}\n"),
            (*BASE[:4], "--sensitive", "race"),
            ["no sensitive column 'race'"],
        ),
    ],
)
def test_bad_files_exit_2_naming_file_column_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], csv: str, args: tuple[str, ...], expected: list[str]
) -> None:
    path = _csv(tmp_path, csv)
    code, text = _run(capsys, path, *args)
    assert code == 2, text
    assert f"file '{path}'" in text
    for part in expected:
        assert part in text, text


def test_empty_and_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = _csv(tmp_path, "")
    code, text = _run(capsys, empty, *BASE)
    assert code == 2 and f"file '{empty}'" in text and "empty" in text
    code, text = _run(capsys, tmp_path / "nope.csv", *BASE)
    assert code == 2 and "no such file" in text


def test_one_group_in_json_mode_is_still_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _csv(tmp_path, "y,p,s\n" + _rows("{y},{p},all\n"))
    code, text = _run(capsys, path, *BASE, "--json")
    assert code == 2 and "only one group" in text


def test_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    path = _csv(tmp_path, "y,p,s,score\n" + _rows("{y},{p},{s},0.5\n") + "1,1,M,-3\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mlaudit.cli import main; main()",
            "fairness",
            str(path),
            *BASE,
            "--y-score",
            "score",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    message = " ".join(proc.stderr.split())
    assert f"file '{path}', column 'score', row 40" in message and "found -3.0" in message
