"""The model card (Mitchell et al., "Model Cards for Model Reporting"), from workspace evidence."""

from __future__ import annotations

from typing import Any

from mlaudit.compliance.base import Bullets, Document, Evidence, Fields, Figure, Para, Section, Table, num
from mlaudit.compliance.evidence import ModelEvidence, performance_table, sec, short

__all__ = ["build_card", "group_figure", "groups_table"]

GROUP_METRICS = ("count", "selection_rate", "accuracy", "tpr", "fpr", "precision", "error_rate")


def build_card(g: ModelEvidence) -> Document:
    v = g.version
    sections = [
        _details(g),
        _intended_use(g),
        _factors(g),
        _metrics(g),
        _by_group(g),
        _evaluation_data(g),
        _training_data(g),
        _ethics(g),
        _caveats(g),
    ]
    return Document("card", f"Model card: {v.ref}", v.node, v.ref, sections)


def _details(g: ModelEvidence) -> Section:
    v = g.version
    s = Section("details", "Model details", True).cite(g.registered())
    rows = [
        ("Model", v.model),
        ("Version", f"v{v.number} (id {v.id})"),
        ("Framework / task", f"{v.framework} / {v.task or 'unknown'}"),
        ("Fingerprint", v.fingerprint),
        ("Registered", f"{v.created[:19].replace('T', ' ')} UTC by {v.actor} (ledger seq {v.seq})"),
        ("Owner", v.owner or "—"),
        ("Features", ", ".join(v.features) or "—"),
        ("Target", v.target or "—"),
    ]
    if v.artifact:
        s.cite(Evidence("digest", v.artifact, "stored model artifact"))
    if not v.owner:
        s.gap(
            "No owner recorded: register the version with `--owner TEAM` "
            f"(`mlaudit model register {v.model} ...`)."
        )
    s.add(Fields(tuple(rows)))
    g.facts_block(s, ("developers", "training_procedure"), required=("developers",))
    return s


def _intended_use(g: ModelEvidence) -> Section:
    s = Section("intended-use", "Intended use", True)
    g.facts_block(
        s,
        ("purpose", "intended_use", "users", "out_of_scope_use"),
        required=("purpose", "intended_use", "users", "out_of_scope_use"),
    )
    return s


def _factors(g: ModelEvidence) -> Section:
    v = g.version
    s = Section("factors", "Factors", True).cite(g.registered())
    if not v.sensitive:
        s.gap(
            f"No sensitive attributes registered for {v.ref}: register it with `--sensitive COLUMN` so "
            "audits compare groups."
        )
        return s
    s.add(Para(f"Sensitive attributes registered with the model: {', '.join(v.sensitive)}."))
    if g.latest is not None:
        fair = sec(g.latest.document, "fairness")
        groups = ((fair or {}).get("document") or {}).get("groups") or []
        if groups:
            labels = [
                ", ".join(f"{k}={val}" for k, val in (row.get("group") or {}).items()) for row in groups
            ]
            s.add(Para(f"Groups compared in the latest audit: {'; '.join(labels)}.")).cite(
                g.audit_evidence(g.latest)
            )
    return s


def _metrics(g: ModelEvidence) -> Section:
    s = Section("metrics", "Metrics", True)
    audit = g.labelled or g.latest
    if audit is None:
        g.no_audit_gap(s, "measured performance")
        return s
    s.cite(g.audit_evidence(audit))
    table = performance_table(audit.document)
    if table is None:
        s.gap(
            f"The audit at ledger seq {audit.seq} did not measure performance: "
            "use a suite with `performance`."
        )
        return s
    current = (audit.document.get("inputs") or {}).get("current") or {}
    s.add(
        Para(
            f"From the audit recorded at ledger seq {audit.seq} ({audit.created[:10]}), on "
            f"{num(current.get('rows'))} rows of current data."
        ),
        table,
    )
    if g.labelled is None:
        s.gap(
            "Performance is only estimated from scores (no audit with labelled current data): audit again "
            "once outcomes are known."
        )
    return s


def groups_table(doc: dict[str, Any]) -> Table | None:
    fair = sec(doc, "fairness")
    groups = ((fair or {}).get("document") or {}).get("groups") or []
    if not groups:
        return None
    present = [m for m in GROUP_METRICS if any(m in row for row in groups)]
    rows = tuple(
        (
            ", ".join(f"{k}={val}" for k, val in (row.get("group") or {}).items()),
            *(num(row.get(m)) for m in present),
        )
        for row in groups
    )
    return Table(
        ("group", *present), rows, numeric=tuple(range(1, len(present) + 1)), caption="Metrics by group"
    )


def group_figure(doc: dict[str, Any], fid: str) -> Figure | None:
    fair = sec(doc, "fairness")
    groups = ((fair or {}).get("document") or {}).get("groups") or []
    metrics = [m for m in ("selection_rate", "tpr", "fpr", "error_rate") if any(m in r for r in groups)]
    if not groups or not metrics:
        return None
    colours = ("#1f5fa8", "#c2410c", "#067647", "#6941c6")
    data = [
        {
            "type": "bar",
            "name": m,
            "x": [", ".join(f"{k}={val}" for k, val in (r.get("group") or {}).items()) for r in groups],
            "y": [r.get(m) for r in groups],
            "marker": {"color": colours[i % len(colours)]},
            "hovertemplate": "%{x}: %{y:.3f}<extra>" + m + "</extra>",
        }
        for i, m in enumerate(metrics)
    ]
    layout = {
        "barmode": "group",
        "height": 300,
        "margin": {"l": 50, "r": 10, "t": 10, "b": 40},
        "legend": {"orientation": "h", "y": -0.2},
        "yaxis": {"rangemode": "tozero"},
        "font": {"size": 12},
    }
    return Figure(fid, {"data": data, "layout": layout}, "Metrics by group (latest audit)")


def _by_group(g: ModelEvidence) -> Section:
    s = Section("metrics-by-group", "Metrics by group", bool(g.version.sensitive))
    audit = g.labelled or g.latest
    if audit is None:
        g.no_audit_gap(s, "comparison of groups")
        return s
    table = groups_table(audit.document)
    if table is None:
        s.gap(
            f"The audit at ledger seq {audit.seq} compared no groups: give sensitive attributes "
            "and use a suite with `fairness`."
        )
        return s
    s.cite(g.audit_evidence(audit))
    fig = group_figure(audit.document, "card-groups")
    s.add(*([fig] if fig else []), table)
    fair = sec(audit.document, "fairness") or {}
    judged = [r for r in fair.get("results", [])]
    if judged:
        s.add(
            Table(
                ("disparity", "value", "threshold", "status"),
                tuple(
                    (r["check"].partition(":")[2], num(r.get("value")), num(r.get("threshold")), r["status"])
                    for r in judged
                ),
                numeric=(1, 2),
                caption="Disparities judged by the audit",
            )
        )
    return s


def _evaluation_data(g: ModelEvidence) -> Section:
    s = Section("evaluation-data", "Evaluation data", True)
    audit = g.latest
    if audit is None:
        g.no_audit_gap(s, "evaluation data")
        return s
    s.cite(g.audit_evidence(audit))
    rows = []
    for role, info in (audit.document.get("inputs") or {}).items():
        info = info or {}
        where = info.get("dataset") or info.get("source") or "—"
        rows.append(
            (
                role,
                str(where),
                num(info.get("rows")),
                "yes" if info.get("labelled") else "no",
                short(info.get("fingerprint")),
            )
        )
        if info.get("dataset"):
            s.cite(Evidence("dataset", str(info["dataset"]), f"{role} data of the audit"))
        elif info.get("fingerprint"):
            s.cite(Evidence("digest", str(info["fingerprint"]), f"fingerprint of the {role} data ({where})"))
    s.add(Table(("role", "data", "rows", "labelled", "fingerprint"), tuple(rows), numeric=(2,)))
    return s


def _training_data(g: ModelEvidence) -> Section:
    v = g.version
    s = Section("training-data", "Training data", True)
    if not v.trained_on:
        s.gap(f"No training data recorded for {v.ref}: register it with `--trained-on DATASET@vN`.")
        return s
    s.cite(g.registered())
    rows = []
    for d in g.training:
        rows.append((d.ref, num(d.rows), num(d.columns), short(d.fingerprint), d.source or "in-memory table"))
        s.cite(Evidence("dataset", d.ref, f"dataset.version_logged {d.fingerprint[:23]}…", d.seq))
    missing = [n for n in v.trained_on if n not in {d.node for d in g.training}]
    if rows:
        s.add(Table(("dataset", "rows", "columns", "fingerprint", "source"), tuple(rows), numeric=(1, 2)))
    if missing:
        s.add(Bullets(tuple(f"{n} (not a dataset version of this workspace)" for n in missing)))
    if g.training:
        s.add(
            Para(
                "Datasheet of the training data: "
                f"`mlaudit report {g.training[0].ref} --kind datasheet --html FILE`."
            )
        )
    return s


def _ethics(g: ModelEvidence) -> Section:
    s = Section("ethics", "Ethical considerations", True)
    text = g.fact(s, "ethical_considerations")
    if text:
        s.add(Para(text))
    return s


def _caveats(g: ModelEvidence) -> Section:
    s = Section("caveats", "Caveats and recommendations", True)
    text = g.fact(s, "limitations")
    if text:
        s.add(Fields((("Limitations", text),)))
    if g.latest is None:
        g.no_audit_gap(s, "list of findings")
        return s
    findings = g.latest.document.get("findings") or []
    s.cite(g.audit_evidence(g.latest))
    if findings:
        s.add(
            Para(f"Findings of the latest audit (ledger seq {g.latest.seq}) that did not pass:"),
            Bullets(tuple(f"{f['status']}: {f['message']}" for f in findings)),
        )
    else:
        s.add(Para(f"Every check of the latest audit (ledger seq {g.latest.seq}) passed."))
    return s
