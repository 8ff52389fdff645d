"""`--html FILE` on drift and data profile writes a self-contained report."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from mlaudit.cli import main


def _files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    pacsv.write_csv(pa.table({"x": rng.normal(0, 1, 3000), "c": rng.choice(["a", "b"], 3000)}), ref)
    pacsv.write_csv(pa.table({"x": rng.normal(0.5, 1, 3000), "c": rng.choice(["a", "b"], 3000)}), cur)
    return ref, cur


def _no_network(page: str) -> None:
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=[\"']https?:", page)


def test_drift_html(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path)
    out = tmp_path / "reports" / "drift.html"
    out.parent.mkdir()
    assert main(["drift", str(ref), str(cur), "--html", str(out), "--json"]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Data drift" in page and "ref.csv" in page and "cur.csv" in page
    assert "1 of 2 columns drifted" in page
    _no_network(page)


def test_profile_html(tmp_path: Path) -> None:
    ref, _ = _files(tmp_path)
    out = tmp_path / "profile.html"
    assert main(["data", "profile", str(ref), "--html", str(out), "--json"]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Data profile" in page and "3,000" in page
    _no_network(page)


def test_html_to_a_missing_folder_is_bad_input(tmp_path: Path) -> None:
    ref, cur = _files(tmp_path)
    assert main(["drift", str(ref), str(cur), "--html", str(tmp_path / "no" / "such" / "d.html")]) == 2
