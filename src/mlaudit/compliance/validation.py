"""The model validation report, in the structure banking supervisors expect (SR 11-7 style).

Executive summary and the validator's opinion (given by a person, never generated), conceptual
soundness, ongoing monitoring, outcomes analysis, the findings table and limitations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlaudit.compliance.base import Bullets, Document, Fields, Para, Section, Table, num
from mlaudit.compliance.evidence import ModelEvidence, performance_table, sec

if TYPE_CHECKING:
    from mlaudit.audits import StoredResult

__all__ = ["build_validation", "result_value"]

SOUNDNESS = ("leakage", "overfitting", "underfitting", "robustness")


def build_validation(g: ModelEvidence, attestation: dict[str, str]) -> Document:
    v = g.version
    sections = [
        _summary(g, attestation),
        _soundness(g),
        _monitoring(g),
        _outcomes(g),
        _findings(g),
        _limitations(g),
    ]
    doc = Document("validation", f"Model validation report: {v.ref}", v.node, v.ref, sections)
    doc.attestation = dict(attestation)
    return doc


def result_value(doc: dict[str, Any], *checks: str) -> dict[str, Any] | None:
    """The first Result of an audit report whose check is one of ``checks``."""
    for s in doc.get("sections", []):
        for r in s.get("results", []):
            if r.get("check") in checks:
                return dict(r)
    return None


def _summary(g: ModelEvidence, attestation: dict[str, str]) -> Section:
    v = g.version
    s = Section("summary", "Executive summary and validator's opinion", True)
    rows = [("Model", f"{v.ref} ({v.framework}, {v.task or 'task unknown'})"), ("Owner", v.owner or "—")]
    audit = g.latest
    if audit is not None:
        c = audit.document.get("counts") or {}
        rows.append(
            (
                "Latest audit",
                f"{audit.status.upper()} on {audit.created[:10]} (suite "
                f"{(audit.document.get('suite') or {}).get('name', '?')}, ledger seq {audit.seq}): "
                f"{c.get('pass', 0)} passed, {c.get('warn', 0)} warned, {c.get('fail', 0)} failed, "
                f"{c.get('error', 0)} errors",
            )
        )
        s.cite(g.audit_evidence(audit))
    else:
        g.no_audit_gap(s, "test evidence to summarise")
    validator = attestation.get("validator") or None
    if validator:
        rows.append(("Validator", f"{validator} (given when this document was generated)"))
    else:
        fact = g.fact(s, "validator", required=False)
        if fact:
            rows.append(("Validator", fact))
        else:
            s.gap(
                f"No validator named: a person independent of the developers must validate the model "
                f"(`mlaudit model describe {v.model} --validator NAME`, or `--validator NAME` here)."
            )
    s.add(Fields(tuple(rows)))
    opinion = attestation.get("opinion")
    if opinion:
        s.add(Para("Validator's opinion, as given:"), Para(f"“{opinion}”"))
    else:
        s.gap(
            "No validator's opinion: a person must give it — generate the report with "
            f'`mlaudit report {v.model} --kind validation --validator NAME --opinion "..."`.'
        )
    return s


def _soundness(g: ModelEvidence) -> Section:
    v = g.version
    s = Section("soundness", "Conceptual soundness", True).cite(g.registered())
    s.add(
        Fields(
            (
                ("Model type", f"{v.framework} {v.task or ''}".strip()),
                ("Features", ", ".join(v.features) or "—"),
                ("Target", v.target or "—"),
                ("Training data", ", ".join(d.ref for d in g.training) or "—"),
            )
        )
    )
    if not g.training:
        s.gap(f"No training data recorded for {v.ref}: register it with `--trained-on DATASET@vN`.")
    text = g.fact(s, "training_procedure")
    if text:
        s.add(Fields((("Training procedure", text),)))
    audit = next((a for a in g.audits if any(sec(a.document, n) for n in SOUNDNESS)), None)
    if audit is None:
        s.gap(
            f"No leakage, overfitting or underfitting test is recorded for {v.ref}: run "
            f"`mlaudit audit {v.ref} ... --suite full`."
        )
        return s
    s.cite(g.audit_evidence(audit))
    rows = []
    for name in SOUNDNESS:
        part = sec(audit.document, name)
        if part is None:
            continue
        for r in part.get("results", []):
            rows.append((part.get("title", name), r["status"], _said(audit, r["check"]) or "passed"))
        if part.get("skipped"):
            rows.append((part.get("title", name), "skipped", str(part["skipped"])))
    s.add(
        Table(
            ("test", "status", "what it found"),
            tuple(rows),
            caption=f"From the audit at ledger seq {audit.seq}",
        )
    )
    return s


def _said(audit: StoredResult, check: str) -> str | None:
    for f in audit.document.get("findings") or []:
        if f.get("check") == check:
            return str(f.get("message"))
    return None


def _monitoring(g: ModelEvidence) -> Section:
    s = Section("monitoring", "Ongoing monitoring", True)
    if not g.all_audits:
        g.no_audit_gap(s, "monitoring record")
        return s
    refs = {x.node: x.ref for x in g.versions}
    rows = []
    for a in sorted(g.all_audits, key=lambda x: x.seq):
        d = a.document
        drift = result_value(d, "drift:share")
        psi = result_value(d, "validation:score_stability")
        perf = result_value(
            d, "performance:roc_auc", "estimated:roc_auc", "performance:accuracy", "estimated:accuracy"
        )
        perf_text = "—"
        if perf:
            how = "est. " if perf["check"].startswith("estimated") else ""
            perf_text = f"{how}{perf['check'].partition(':')[2]} {num(perf.get('value'))}"
        rows.append(
            (
                a.created[:19].replace("T", " "),
                refs.get(a.subject, a.subject),
                str((d.get("suite") or {}).get("name", "?")),
                num(drift.get("value")) if drift else "—",
                num(psi.get("value")) if psi else "—",
                perf_text,
                a.status,
                str(a.seq),
            )
        )
        s.cite(g.audit_evidence(a))
    s.add(
        Table(
            (
                "audited (UTC)",
                "version",
                "suite",
                "drifted share",
                "score PSI",
                "performance",
                "status",
                "ledger seq",
            ),
            tuple(rows),
            numeric=(3, 4, 7),
            caption="Every recorded audit of the model, oldest first",
        )
    )
    if len(g.all_audits) < 2:
        s.gap(
            "Only one audit is recorded: monitoring needs audits repeated over time "
            "(schedule `mlaudit audit`)."
        )
    return s


def _outcomes(g: ModelEvidence) -> Section:
    v = g.version
    s = Section("outcomes", "Outcomes analysis", True)
    audit = g.labelled
    if audit is None:
        if g.latest is None:
            g.no_audit_gap(s, "outcomes analysis")
        else:
            s.gap(f"No audit of {v.ref} with known outcomes (labels): audit again once outcomes are known.")
        return s
    s.cite(g.audit_evidence(audit))
    table = performance_table(audit.document)
    if table is not None:
        s.add(table)
    else:
        s.gap(f"The audit at ledger seq {audit.seq} did not measure performance.")
    cal = result_value(audit.document, "validation:calibration")
    if cal is not None:
        s.add(
            Para(
                f"Calibration: expected calibration error {num(cal.get('value'))} (limit "
                f"{num(cal.get('threshold'))}) — {cal['status']}."
            )
        )
    else:
        s.gap(f"Calibration was not tested for {v.ref}: use a suite with `calibration`.")
    weak = result_value(audit.document, "validation:weak_segments")
    if weak is not None:
        segs = (weak.get("details") or {}).get("segments") or []
        metric = (weak.get("details") or {}).get("metric", "metric")
        if segs:
            s.add(
                Table(
                    ("weak segment", "rows", f"{metric} inside", "elsewhere"),
                    tuple(
                        (
                            str(x.get("description")),
                            num(x.get("size")),
                            num(x.get("metric_inside")),
                            num(x.get("metric_outside")),
                        )
                        for x in segs
                    ),
                    numeric=(1, 2, 3),
                    caption="Segments where the model does significantly worse",
                )
            )
        else:
            s.add(Para("No weak segment was found."))
    return s


def _findings(g: ModelEvidence) -> Section:
    v = g.version
    s = Section("findings", "Findings", True)
    if g.latest is None:
        g.no_audit_gap(s, "findings table")
        return s
    s.cite(g.audit_evidence(g.latest))
    findings = g.latest.document.get("findings") or []
    if not findings:
        s.add(Para(f"Every check of the latest audit (ledger seq {g.latest.seq}) passed."))
        return s
    owner = v.owner or "unassigned"
    rows = tuple((str(i), f["check"], f["status"], f["message"], owner) for i, f in enumerate(findings, 1))
    s.add(
        Table(
            ("#", "check", "severity", "finding", "owner"),
            rows,
            numeric=(0,),
            caption=f"Every result of the latest audit (ledger seq {g.latest.seq}) that did not pass",
        )
    )
    if not v.owner:
        s.gap(f"The findings have no owner: register {v.model} with `--owner TEAM`.")
    return s


def _limitations(g: ModelEvidence) -> Section:
    s = Section("limitations", "Limitations", True)
    g.facts_block(s, ("limitations", "out_of_scope_use"), required=("limitations",))
    notes = [n for a in g.audits[:1] for n in a.document.get("notes") or []]
    if notes:
        s.add(Para("Notes from the latest audit:"), Bullets(tuple(str(n) for n in notes)))
    return s
