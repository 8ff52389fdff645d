"""``mlaudit demo``: the whole audit story on bundled synthetic data, in a fresh workspace.

Each step uses the public API and leaves evidence in the workspace's ledger; later features
add their part of the story here.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
from rich.console import Console
from rich.table import Table

import mlaudit
from mlaudit.errors import InputError

__all__ = ["run_demo"]

MARKER = ".mlaudit-demo"


def _prepare(out: Path) -> None:
    if out.exists():
        if not out.is_dir():
            raise InputError("the demo folder is a file", path=str(out))
        if (out / MARKER).exists():
            shutil.rmtree(out)  # a previous demo: start again
        elif any(out.iterdir()):
            raise InputError(
                "the demo folder exists and is not an earlier demo; refusing to overwrite it",
                path=str(out),
                hint="pass --out with a new or empty folder",
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("created by `mlaudit demo`; safe to delete\n")


def _join(bureau_db: Path, ref_path: Path) -> Any:
    """The pipeline's work: applications joined with bureau scores (what a feature job does)."""
    from mlaudit.data import read

    left = read(ref_path)
    right = read(f"sqlite:///{bureau_db}", query="SELECT customer_id, bureau_score FROM bureau_scores")
    return left.join(right, "customer_id")


def _write_reports(out: Path, ref_profile: Any, detector: Any, report: Any, current: Any) -> list[Path]:
    """The HTML reports, when the report extra (Plotly) is installed."""
    try:
        import plotly  # noqa: F401
    except ImportError:
        return []
    from mlaudit.report import current_profile, drift_html, profile_html, write_html

    folder = out / "reports"
    folder.mkdir(exist_ok=True)
    drift_page = drift_html(
        report,
        detector.profile_,
        current_profile(detector.profile_, current),
        reference_name="reference.csv",
        current_name="current.csv",
    )
    return [
        write_html(drift_page, folder / "drift.html"),
        write_html(profile_html(ref_profile, source="reference.csv"), folder / "profile.html"),
    ]


def run_demo(
    out: str | Path = "./mlaudit-demo", *, quiet: bool = False, rows: int = 20_000
) -> dict[str, Any]:
    """Build the demo in ``out`` and return a summary (what the CLI prints with --json)."""
    from mlaudit.checks import load_rules, run_rules
    from mlaudit.demo_data import DEMO_RULES, PLANTED_DRIFT, bureau_rows, credit_tables
    from mlaudit.stats.drift import DriftDetector
    from mlaudit.stats.profile import profile

    console = Console(quiet=quiet, highlight=False, soft_wrap=True)
    say = console.print
    out = Path(out).absolute()
    _prepare(out)
    data_dir = out / "data"
    data_dir.mkdir()
    say(f"[bold]mlaudit demo[/] in {out}\n")

    # 1. the workspace: database, signing key, genesis event
    ws = mlaudit.open(out / "workspace", actor="demo-data-scientist")
    say(f"1. workspace created: {ws.location} (id {ws.id[:12]}…), signing key in keys/")

    # 2. the data: last year's training table and this month's applications
    reference, current = credit_tables(rows=rows)
    ref_path, cur_path = data_dir / "reference.csv", data_dir / "current.csv"
    pacsv.write_csv(reference, ref_path)
    pacsv.write_csv(current, cur_path)
    rules_path = out / "rules.yaml"
    rules_path.write_text(DEMO_RULES)
    ref_art = ws.artifacts.put_file(ref_path)
    cur_art = ws.artifacts.put_file(cur_path)
    say(f"2. data stored by content: reference {ref_art.digest[:19]}…, current {cur_art.digest[:19]}…")

    # 3. dataset versions: a file and a SQL table, a pipeline run, and next month's schema change
    bureau_db = data_dir / "bureau.db"
    with sqlite3.connect(bureau_db) as db:
        db.execute(
            "CREATE TABLE bureau_scores (customer_id INTEGER, bureau_score INTEGER, email TEXT, phone TEXT)"
        )
        db.executemany("INSERT INTO bureau_scores VALUES (?, ?, ?, ?)", bureau_rows(reference))
    apps = ws.datasets.log("credit-applications", source=ref_path).version
    bureau = ws.datasets.log("bureau-scores", source=f"sqlite:///{bureau_db}", table="bureau_scores").version
    with ws.run("feature-pipeline", parameters={"join": "customer_id"}) as run:
        run.consumes(apps).consumes(bureau)
        features = _join(bureau_db, ref_path)
        feat = ws.datasets.log("training-features", features).version
        run.produces(feat, columns={"bureau_score": [f"{bureau.node}#bureau_score"]})
    pii = ", ".join(f"{f['column']} ({f['pii_type']})" for f in bureau.pii) or "none"
    say(
        f"3. datasets logged: {apps.ref} (file), {bureau.ref} (SQL table; PII found: {pii}); "
        f"feature-pipeline run produced {feat.ref}"
    )
    month2 = ws.datasets.log("credit-applications", source=cur_path)
    change = month2.schema_change or {}
    say(
        f"   next month's file logged as {month2.version.ref}; schema change: "
        f"added {', '.join(change.get('added', [])) or 'nothing'}"
    )
    say("   lineage of the training features:")
    for line in ws.lineage.upstream(feat.node).to_text().splitlines():
        say(f"     {line}")

    # 4. profile the reference (mergeable sketches; kept as evidence)
    ref_profile = profile(reference)
    ws.audits.record(
        "profile",
        "dataset:credit-applications",
        ref_profile.to_dict(),
        status="pass",
        inputs={"data": ref_art.digest},
    )
    say(f"4. reference profiled: {ref_profile.rows:,} rows × {len(ref_profile.columns)} columns")

    # 5. data quality of the current month
    check = run_rules(current, load_rules(rules_path, schema=current.schema))
    check_doc = check.to_dict()
    ws.audits.record(
        "check_report",
        "dataset:credit-applications",
        check_doc,
        status="pass" if check.passed else "fail",
        inputs={"data": cur_art.digest},
    )
    failed = [r for r in check.results if r.status in ("fail", "error")]
    say(
        f"5. quality rules: {len(check.results) - len(failed)} of {len(check.results)} pass; "
        + ", ".join(f"{r.check} ({r.details.get('offending', '?')} rows)" for r in failed)
    )

    # 6. drift of the current month against the reference
    features = [c for c in reference.column_names if c != "customer_id"]  # ids always differ
    detector = DriftDetector(columns=features, keep_profile=True).fit(reference)
    report = detector.compare(current)
    ws.audits.record(
        "drift_report",
        "dataset:credit-applications",
        report.to_dict(),
        status="fail" if report.drifted_columns else "pass",
        inputs={"reference": ref_art.digest, "current": cur_art.digest},
    )
    say(
        f"6. drift: {len(report.drifted_columns)} of {len(report.columns)} columns drifted "
        f"({', '.join(report.drifted_columns) or 'none'}); planted in the data: "
        f"{', '.join(PLANTED_DRIFT)}"
    )

    reports = _write_reports(out, ref_profile, detector, report, current)
    for page in reports:
        ws.artifacts.put_file(page, media_type="text/html")
    if reports:
        say(
            f"   reports: {', '.join(str(p.relative_to(out)) for p in reports)} "
            "(open in a browser; kept as artifacts)"
        )

    # 7-9. the model: train on the reference, register, audit before and after labels arrive
    from mlaudit.demo_model import model_story

    (out / "reports").mkdir(exist_ok=True)
    story = model_story(ws, out, reference, current, say)
    reports += [Path(p) for p in story.pop("pages")]

    # 10. governance: people and roles, validation, a finding, maker-checker, the gate, erasure
    from mlaudit.demo_governance import governance_story

    governance = governance_story(ws, story.pop("train"), say)

    # 11. seal the ledger: a signed checkpoint, exported for safekeeping, then verify
    cp_path = out / "checkpoint.json"
    cp = ws.ledger.checkpoint(cp_path)
    result = ws.ledger.verify([cp_path])
    say(
        f"11. ledger: {result.events} events, checkpoint at {cp.tree_size} signed and exported to "
        f"{cp_path.name}; verify: {'[green]OK[/]' if result.ok else '[red]FAILED[/]'}"
    )
    events = ws.ledger.log()
    ws.close()

    # 12. what tampering looks like: edit one stored result's ledger event in a copy
    tampered = out / "tampered-copy"
    shutil.copytree(out / "workspace", tampered)
    victim = next(e for e in events if e.action == "result.recorded")
    with sqlite3.connect(tampered / "mlaudit.db") as db:
        db.execute(
            'UPDATE ledger_events SET payload = replace(payload, \'"status":"fail"\', \'"status":"pass"\') '
            "WHERE action = 'result.recorded'"
        )
    with mlaudit.open(tampered, create=False) as copy:
        bad = copy.ledger.verify([cp_path])
    say(
        f"12. tamper test on a copy (a failed check rewritten as passed): verify says "
        f"[red]first bad seq {bad.first_bad_seq}[/] — {bad.reason}"
    )

    table = Table("seq", "action", "subject", title="The ledger", title_justify="left")
    for e in events:
        table.add_row(str(e.seq), e.action, e.subject)
    say("")
    say(table)
    say("\nTry next (permission checks are on: act as one of the demo's people):")
    ws_arg = f"-w {out / 'workspace'}"
    for cmd in (
        "export MLAUDIT_USER=victor                  # the validator; ana is the admin",
        f"mlaudit gate credit-risk@v2 {ws_arg}",
        f"mlaudit gate credit-risk@v1 {ws_arg}",
        f"mlaudit inventory {ws_arg}",
        f"mlaudit model history credit-risk {ws_arg}",
        f"mlaudit serve {ws_arg}      # then http://127.0.0.1:8765, password mlaudit-demo-password",
        f"mlaudit ledger verify {ws_arg} --checkpoint {cp_path}",
        f"mlaudit ledger log {ws_arg}",
        f"mlaudit ledger prove {victim.seq} {ws_arg}",
        f"mlaudit ledger verify -w {tampered}",
        f"mlaudit audit credit-risk --reference credit-holdout@v1 "
        f"--current {out / 'model' / 'current-month.parquet'} --suite full {ws_arg}",
        f"mlaudit model list {ws_arg}",
        f"mlaudit lineage model:credit-risk {ws_arg}",
        f"mlaudit drift {ref_path} {cur_path}",
        f"mlaudit check {cur_path} --rules {rules_path}",
        f"mlaudit data profile {ref_path}",
        f"mlaudit data versions credit-applications {ws_arg}",
        f"mlaudit lineage dataset:training-features {ws_arg}",
        f"mlaudit lineage dataset:credit-applications@v1 --downstream {ws_arg}",
    ):
        say(f"  {cmd}")
    return {
        "out": str(out),
        "reports": [str(p) for p in reports],
        "workspace": str(out / "workspace"),
        "events": result.events,
        "verified": result.ok,
        "checkpoint": str(cp_path),
        "quality_failed": [r.check for r in failed],
        "drifted_columns": list(report.drifted_columns),
        "datasets": {"applications": apps.ref, "bureau": bureau.ref, "features": feat.ref},
        "schema_change": month2.schema_change,
        "bureau_pii": sorted(f["pii_type"] for f in bureau.pii),
        "planted_drift": list(PLANTED_DRIFT),
        "tampered_first_bad_seq": bad.first_bad_seq,
        **story,
        "governance": governance,
    }
