"""Compliance documents from the demo workspace: every kind, HTML and Markdown, evidence and
gaps per required section, gaps that appear when evidence is missing, and signing."""

from __future__ import annotations

import html
import re
from pathlib import Path

import joblib
import numpy as np
import pyarrow as pa
import pytest

import mlaudit
from mlaudit.cli import main
from mlaudit.compliance import KINDS

SUBJECTS = {
    "card": "credit-risk",
    "validation": "credit-risk",
    "annex-iv": "credit-risk",
    "datasheet": "credit-applications@v1",
}


@pytest.mark.parametrize("fmt", ["html", "md"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_with_evidence_and_gaps(
    demo_workspace: Path, tmp_path: Path, kind: str, fmt: str
) -> None:
    with mlaudit.open(demo_workspace, create=False) as ws:
        made = ws.reports.generate(SUBJECTS[kind], kind, tmp_path / f"{kind}.{fmt}")
        event = ws.ledger.log(action="report.generated")[-1]
    text = made.path.read_text(encoding="utf-8")
    doc = made.document
    assert "Evidence and gaps" in text
    assert doc.id in text and doc.workspace_id in text and "victor" in text  # the footer
    for section in doc.required():
        assert (section.title if fmt == "md" else html.escape(section.title)) in text
        assert section.evidence or section.gaps, f"{kind}: {section.title} has neither evidence nor gaps"
        for gap in section.gaps:
            shown = gap if fmt == "md" else re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(gap))
            assert shown in text
    summary = doc.summary()
    assert f"{summary['complete']} of {summary['required_sections']} required sections complete" in text
    assert event.data["digest"] == made.digest and event.data["kind"] == kind and event.data["format"] == fmt
    assert event.data["signer"] == "victor" and event.data["gaps"] == len(doc.gaps())
    assert event.subject == doc.subject
    if fmt == "html":
        assert "Content-Security-Policy" in text and "@media print" in text
        assert not re.search(r"""(src|href)=["']https?:""", text.split("<script", 1)[0])  # plotly.js aside


def _sections(made: object) -> dict[str, object]:
    return {s.key: s for s in made.document.sections}  # type: ignore[attr-defined]


def test_demo_card_shows_real_evidence_and_the_ethics_gap(demo_workspace: Path, tmp_path: Path) -> None:
    with mlaudit.open(demo_workspace, create=False) as ws:
        made = ws.reports.generate("credit-risk", "card", tmp_path / "card.md")
        audit = ws.audits.list(kind="audit_report")[0]
    s = _sections(made)
    assert s["ethics"].gaps == [  # type: ignore[attr-defined]
        "No ethical considerations recorded: run "
        '`mlaudit model describe credit-risk --ethical-considerations "..."`.'
    ]
    assert s["metrics"].complete and audit.id in {e.ref for e in s["metrics"].evidence}  # type: ignore[attr-defined]
    text = made.path.read_text()
    assert "roc_auc" in text and "sex=female" in text and "credit-train@v1" in text
    assert "Estimate the probability that a credit-card customer defaults" in text  # the demo's description


def test_missing_audit_and_description_are_gaps_in_the_right_sections(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > 0).astype(int)
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    path = tmp_path / "m.joblib"
    joblib.dump(LogisticRegression().fit(pd.DataFrame({"a": x[:, 0], "b": x[:, 1]}), y), path)
    with mlaudit.open(tmp_path / "ws") as ws:
        ws.datasets.log("train", pa.table({"a": x[:, 0], "b": x[:, 1], "y": y}))
        ws.models.register("tiny", path, trust_pickle=True, trained_on=["train@v1"], target="y")
        card = _sections(ws.reports.generate("tiny", "card", tmp_path / "card.md"))
        validation = _sections(ws.reports.generate("tiny", "validation", tmp_path / "v.md"))
        annex = _sections(ws.reports.generate("tiny", "annex-iv", tmp_path / "a.md"))
        sheet = _sections(ws.reports.generate("train@v1", "datasheet", tmp_path / "d.md"))
    for key in ("metrics", "evaluation-data", "caveats"):
        assert any("No audit of tiny@v1 is recorded" in g for g in card[key].gaps), key  # type: ignore[attr-defined]
    assert any("--purpose" in g for g in card["intended-use"].gaps)  # type: ignore[attr-defined]
    assert any("No sensitive attributes" in g for g in card["factors"].gaps)  # type: ignore[attr-defined]
    assert not card["metrics-by-group"].required  # type: ignore[attr-defined]
    assert card["training-data"].complete  # type: ignore[attr-defined]
    assert any("owner" in g for g in card["details"].gaps)  # type: ignore[attr-defined]
    assert any("No audit" in g for g in validation["outcomes"].gaps)  # type: ignore[attr-defined]
    assert any("--opinion" in g for g in validation["summary"].gaps)  # type: ignore[attr-defined]
    assert any("post-market" in g for g in annex["post-market"].gaps)  # type: ignore[attr-defined]
    assert any("validation or testing log" in g for g in annex["development"].gaps)  # type: ignore[attr-defined]
    assert any("not recorded" in g for g in sheet["collection"].gaps)  # type: ignore[attr-defined]
    assert any("No quality or drift result" in g for g in sheet["quality"].gaps)  # type: ignore[attr-defined]
    assert sheet["uses"].complete  # the model was trained on it  # type: ignore[attr-defined]


def test_describe_then_the_gap_closes_and_opinion_is_recorded(demo_workspace: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "ws"
    shutil.copytree(demo_workspace, copy)
    with mlaudit.open(copy, create=False) as ws:
        ws.models.describe("credit-risk", ethical_considerations="Uses sex as a feature; see fairness.")
        card = _sections(ws.reports.generate("credit-risk", "card", tmp_path / "card.html"))
        made = ws.reports.generate(
            "credit-risk",
            "validation",
            tmp_path / "v.md",
            validator="J. Smith",
            opinion="Fit with conditions.",
        )
        event = ws.ledger.log(action="report.generated")[-1]
        described = ws.ledger.log(action="model.described")[-1]
    assert card["ethics"].complete  # type: ignore[attr-defined]
    assert described.data["changed"] == {"ethical_considerations": "Uses sex as a feature; see fairness."}
    assert _sections(made)["summary"].complete  # type: ignore[attr-defined]
    assert event.data["validator"] == "J. Smith" and event.data["opinion"] == "Fit with conditions."
    assert "“Fit with conditions.”" in made.path.read_text()


def test_describe_refuses_unknown_fields_and_missing_models(tmp_path: Path) -> None:
    with mlaudit.open(tmp_path / "ws") as ws:
        with pytest.raises(mlaudit.NotFound):
            ws.models.describe("nope", purpose="x")
        with pytest.raises(mlaudit.InputError, match="allowed: purpose, intended_use"):
            ws.models.describe("nope", purpse="x")  # type: ignore[arg-type]


def test_cli_describe_from_file_and_report_verify_catches_one_byte(
    demo_workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(demo_workspace, ws)
    facts = tmp_path / "facts.yaml"
    facts.write_text("users: credit officers\nout-of-scope-use: business customers\n")
    assert main(["model", "describe", "credit-risk", "--from-file", str(facts), "-w", str(ws)]) == 0
    assert main(["model", "describe", "credit-risk", "--colour", "x", "-w", str(ws)]) == 2
    page = tmp_path / "card.html"
    assert main(["report", "credit-risk", "--kind", "card", "--html", str(page), "-w", str(ws)]) == 0
    capsys.readouterr()
    assert main(["report", "verify", str(page), "-w", str(ws)]) == 0
    said = capsys.readouterr().out
    assert said.startswith("OK: card for credit-risk@v2, generated by victor at ") and "ledger seq" in said
    data = bytearray(page.read_bytes())
    data[len(data) // 2] ^= 0x01  # one byte
    edited = tmp_path / "edited.html"
    edited.write_bytes(bytes(data))
    assert main(["report", "verify", str(edited), "-w", str(ws)]) == 3
    assert "not a document this workspace generated" in capsys.readouterr().err
    assert main(["report", "verify", str(page), "-w", str(ws)]) == 0
    # bad input: no output file, two output files, an unknown kind, an option of another kind
    for args in (
        ["--kind", "card"],
        ["--kind", "card", "--html", "a.html", "--md", "a.md"],
        ["--kind", "poster", "--html", str(tmp_path / "a.html")],
        ["--kind", "card", "--opinion", "fine", "--html", str(tmp_path / "a.html")],
    ):
        assert main(["report", "credit-risk", *args, "-w", str(ws)]) == 2, args
    assert main(["report", "make", "credit-applications@v1", "--kind", "datasheet", "--md",
                 str(tmp_path / "d.md"), "-w", str(ws), "--json"]) == 0  # fmt: skip
    import orjson

    said = capsys.readouterr().out
    out = orjson.loads(said[said.index("{") :])
    assert out["kind"] == "datasheet" and out["summary"]["gaps"] == len(out["gaps"]) >= 1


def test_pdf_is_printed_by_chromium_and_is_what_gets_recorded(demo_workspace: Path, tmp_path: Path) -> None:
    import shutil

    if shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed")
    with mlaudit.open(demo_workspace, create=False) as ws:
        made = ws.reports.generate("credit-risk", "card", tmp_path / "card.pdf")
        data = made.path.read_bytes()
        assert data.startswith(b"%PDF") and b"/Type /Page" in data
        assert ws.reports.verify(made.path).format == "pdf"


def test_pdf_without_chromium_is_an_input_error(
    demo_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with (
        mlaudit.open(demo_workspace, create=False) as ws,
        pytest.raises(mlaudit.InputError, match="chromium"),
    ):
        ws.reports.generate("credit-risk", "card", tmp_path / "card.pdf")
    assert not (tmp_path / "card.pdf").exists()
