"""EU AI Act, Annex IV: technical documentation of a high-risk AI system, points 1–9.

Each point is filled only from workspace evidence. Test logs are the recorded audits with their
date, who ran them and their ledger seq; whether a signed checkpoint seals each one is stated,
because Annex IV asks for test logs "dated and signed by the responsible persons".
"""

from __future__ import annotations

from mlaudit.compliance.base import Document, Evidence, Fields, Para, Section, Table, num
from mlaudit.compliance.card import groups_table
from mlaudit.compliance.evidence import AUDIT_HEADERS, ModelEvidence, audit_row, performance_table, short

__all__ = ["build_annex_iv"]


def build_annex_iv(g: ModelEvidence, attestation: dict[str, str]) -> Document:
    v = g.version
    sealed = max((cp.tree_size for cp in g.ws.ledger.checkpoints()), default=0)
    sections = [
        _general(g),
        _development(g, sealed),
        _oversight(g),
        _performance(g),
        _risk(g),
        _changes(g),
        _standards(attestation),
        _declaration(g),
        _post_market(g),
    ]
    doc = Document(
        "annex-iv", f"EU AI Act Annex IV technical documentation: {v.ref}", v.node, v.ref, sections
    )
    doc.attestation = dict(attestation)
    return doc


def _general(g: ModelEvidence) -> Section:
    v = g.version
    s = Section("general", "1. General description of the AI system", True).cite(g.registered())
    g.facts_block(
        s,
        ("purpose", "intended_use", "developers", "users"),
        required=("purpose", "intended_use", "developers"),
    )
    where = f"artifact {v.artifact}" if v.artifact else (v.uri or "an in-process function")
    s.add(
        Fields(
            (
                ("Version", f"{v.ref}, registered {v.created[:10]} by {v.actor} (ledger seq {v.seq})"),
                ("Versions of the model", ", ".join(x.ref for x in g.versions)),
                ("Software", f"{v.framework} model, {v.task or 'task unknown'}; stored as {where}"),
                ("Inputs", ", ".join(v.features) or "—"),
                ("Output", f"prediction of {v.target}" if v.target else "—"),
            )
        )
    )
    return s


def _development(g: ModelEvidence, sealed: int) -> Section:
    v = g.version
    s = Section("development", "2. Detailed description of the elements and of the development process", True)
    text = g.fact(s, "training_procedure")
    if text:
        s.add(Fields((("Training procedure", text),)))
    if g.training:
        s.add(
            Para(
                "Data requirements — training data (each has a datasheet: "
                "`mlaudit report DATASET@vN --kind datasheet`):"
            )
        )
        s.add(
            Table(
                ("dataset", "rows", "columns", "fingerprint", "logged by", "ledger seq"),
                tuple(
                    (d.ref, num(d.rows), num(d.columns), short(d.fingerprint), d.actor, str(d.seq))
                    for d in g.training
                ),
                numeric=(1, 2, 5),
            )
        )
        for d in g.training:
            s.cite(Evidence("dataset", d.ref, f"dataset.version_logged {d.fingerprint[:23]}…", d.seq))
    else:
        s.gap(f"No training data recorded for {v.ref}: register it with `--trained-on DATASET@vN`.")
    if not g.all_audits:
        g.no_audit_gap(s, "validation or testing log")
        return s
    s.add(
        Para(
            "Validation and testing procedures — the test log (every recorded audit of the model; each "
            "entry is a ledger event carrying the report's digest and the actor who ran it):"
        )
    )
    rows = []
    for a in sorted(g.all_audits, key=lambda x: x.seq):
        rows.append((*audit_row(a), "yes" if a.seq < sealed else "no"))
        s.cite(g.audit_evidence(a))
    s.add(Table((*AUDIT_HEADERS, "sealed by signed checkpoint"), tuple(rows), numeric=(5,)))
    unsealed = [a.seq for a in g.all_audits if a.seq >= sealed]
    if unsealed:
        s.gap(
            f"Test log entries at ledger seq {', '.join(map(str, sorted(unsealed)))} are not yet "
            "covered by a "
            "signed checkpoint: run `mlaudit ledger checkpoint`."
        )
    return s


def _oversight(g: ModelEvidence) -> Section:
    s = Section("oversight", "3. Monitoring, functioning and control: human oversight", True)
    s.gap(
        "No human-oversight measures are recorded (who reviews outputs, who may override or stop the "
        "system, how they are trained): the workspace holds no governance records yet; write them here."
    )
    return s


def _performance(g: ModelEvidence) -> Section:
    s = Section("performance", "4. Appropriateness of the performance metrics", True)
    audit = g.labelled or g.latest
    if audit is None:
        g.no_audit_gap(s, "measured accuracy")
        return s
    s.cite(g.audit_evidence(audit))
    table = performance_table(audit.document)
    if table is None:
        s.gap(f"The audit at ledger seq {audit.seq} did not measure performance.")
    else:
        s.add(
            Para(f"Accuracy metrics from the audit at ledger seq {audit.seq}, with their thresholds:"), table
        )
    groups = groups_table(audit.document)
    if groups is not None:
        s.add(Para("Performance for the groups of the registered sensitive attributes:"), groups)
    if g.labelled is None:
        s.gap("Performance is only estimated (no audit with labelled current data).")
    return s


def _risk(g: ModelEvidence) -> Section:
    s = Section("risk", "5. Risk management system", True)
    owner = g.fact(s, "risk_owner", required=False)
    if owner:
        s.add(Fields((("Risk owner", owner),)))
    s.gap(
        "No risk management system (Article 9) is documented in the workspace: identified risks, their "
        "estimation and the measures taken must be written by the provider."
    )
    return s


def _changes(g: ModelEvidence) -> Section:
    s = Section("changes", "6. Relevant changes through the lifecycle", True)
    rows = []
    for e in g.events:
        data = e.data if isinstance(e.data, dict) else {}
        if e.action == "model.version_registered":
            detail = (
                f"v{data.get('number')} {data.get('framework', '')} {str(data.get('fingerprint', ''))[:23]}…"
            )
        elif e.action == "model.described":
            detail = "facts: " + ", ".join(sorted((data.get("changed") or {}).keys()))
        else:
            detail = e.subject
        rows.append((str(e.seq), e.ts[:19].replace("T", " "), e.actor, e.action, detail))
        s.cite(Evidence("ledger", str(e.seq), e.action, e.seq))
    s.add(Table(("ledger seq", "when (UTC)", "by", "change", "detail"), tuple(rows), numeric=(0,)))
    return s


def _standards(attestation: dict[str, str]) -> Section:
    s = Section("standards", "7. Harmonised standards applied", True)
    if attestation.get("standards"):
        s.add(Para(attestation["standards"]))
    else:
        s.gap(
            "No harmonised standards or other specifications are listed: give them with "
            '`--standards "..."` when generating this document.'
        )
    return s


def _declaration(g: ModelEvidence) -> Section:
    s = Section("declaration", "8. EU declaration of conformity", True)
    s.gap(
        f"No EU declaration of conformity (Article 47) for {g.version.ref}: the provider must draw it up "
        "and attach a copy."
    )
    return s


def _post_market(g: ModelEvidence) -> Section:
    s = Section("post-market", "9. Post-market monitoring", True)
    if not g.all_audits:
        s.gap(
            f"No post-market monitoring is recorded: audit {g.version.ref} on production data regularly "
            f"(`mlaudit audit {g.version.ref} --reference DATA --current DATA`)."
        )
        return s
    rows = tuple(audit_row(a) for a in sorted(g.all_audits, key=lambda x: x.seq))
    for a in g.all_audits:
        s.cite(g.audit_evidence(a))
    s.add(
        Para("Audits of the model on current data, oldest first (the evaluation system in use):"),
        Table(AUDIT_HEADERS, rows, numeric=(5,)),
    )
    return s
