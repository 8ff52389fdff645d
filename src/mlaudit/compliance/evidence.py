"""Gathering what the workspace holds about a model version, once per document.

Everything a document says comes from here: the registered version, the human-written facts,
the recorded audits (their stored reports, checked against the ledger), the training datasets
and the ledger events of the model. Helpers turn those into blocks, evidence and gaps that
several documents share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlaudit.compliance.base import Evidence, Fields, Section, Table, interval, num
from mlaudit.errors import NotFound

if TYPE_CHECKING:
    from mlaudit.audits import StoredResult
    from mlaudit.datasets import DatasetVersion
    from mlaudit.registry import ModelFact, ModelVersion
    from mlaudit.store.ledger import Event
    from mlaudit.workspace import Workspace

__all__ = ["ModelEvidence", "audit_row", "fact_label", "gather_model", "performance_rows", "sec", "short"]

FACT_LABELS = {
    "purpose": "Purpose",
    "intended_use": "Intended use",
    "out_of_scope_use": "Out-of-scope use",
    "users": "Intended users",
    "limitations": "Limitations",
    "ethical_considerations": "Ethical considerations",
    "training_procedure": "Training procedure",
    "developers": "Developers",
    "validator": "Validator",
    "risk_owner": "Risk owner",
}


def fact_label(key: str) -> str:
    return FACT_LABELS.get(key, key.replace("_", " ").capitalize())


@dataclass
class ModelEvidence:
    """What the workspace holds about one model version."""

    ws: Workspace
    version: ModelVersion
    facts: dict[str, ModelFact]
    versions: list[ModelVersion]
    audits: list[StoredResult]  # this version's audit reports, newest first
    all_audits: list[StoredResult]  # every version's, newest first
    training: list[DatasetVersion]
    events: list[Event]  # ledger events about the model and its versions

    @property
    def name(self) -> str:
        return self.version.model

    @property
    def latest(self) -> StoredResult | None:
        return self.audits[0] if self.audits else None

    @property
    def labelled(self) -> StoredResult | None:
        """The newest audit whose current data had labels (measured, not estimated, performance)."""
        for a in self.audits:
            if (a.document.get("inputs", {}).get("current") or {}).get("labelled"):
                return a
        return None

    def registered(self) -> Evidence:
        v = self.version
        return Evidence(
            "ledger", str(v.seq), f"model.version_registered {v.ref} {v.fingerprint[:23]}…", v.seq
        )

    def audit_evidence(self, audit: StoredResult) -> Evidence:
        suite = (audit.document.get("suite") or {}).get("name", "?")
        return Evidence("result", audit.id, f"audit report (suite {suite}, {audit.status})", audit.seq)

    def fact(self, section: Section, key: str, *, required: bool = True) -> str | None:
        """The text of fact ``key`` (cited), or a gap naming the command that records it."""
        f = self.facts.get(key)
        if f is not None:
            section.cite(Evidence("ledger", str(f.seq), f"model.described {key} by {f.actor}", f.seq))
            return f.value
        if required:
            flag = key.replace("_", "-")
            section.gap(
                f"No {fact_label(key).lower()} recorded: run "
                f'`mlaudit model describe {self.name} --{flag} "..."`.'
            )
        return None

    def facts_block(self, section: Section, keys: tuple[str, ...], required: tuple[str, ...]) -> None:
        rows = []
        for key in keys:
            value = self.fact(section, key, required=key in required)
            if value is not None:
                rows.append((fact_label(key), value))
        if rows:
            section.add(Fields(tuple(rows)))

    def no_audit_gap(self, section: Section, what: str) -> None:
        section.gap(
            f"No audit of {self.version.ref} is recorded, so there is no {what}: run "
            f"`mlaudit audit {self.version.ref} --reference DATA --current DATA --suite full`."
        )


def gather_model(ws: Workspace, ref: str) -> ModelEvidence:
    """Collect the evidence about model version ``ref`` (``NAME`` is its latest version)."""
    version = ws.models.get(ref)
    versions = [v for v in ws.models.list() if v.model == version.model]
    nodes = {v.node for v in versions}
    all_audits = [
        ws.audits.get(r.id)  # re-read: checks the stored report against its ledger digest
        for r in ws.audits.list(kind="audit_report", limit=10_000)
        if r.subject in nodes
    ]
    audits = [a for a in all_audits if a.subject == version.node]
    training = []
    for node in version.trained_on:
        if node.startswith("dataset:"):
            try:
                training.append(ws.datasets.get(node.removeprefix("dataset:")))
            except NotFound:
                continue
    subjects = {f"model:{version.model}"} | nodes
    events = [e for e in ws.ledger.log(action="model.*") if e.subject in subjects]
    return ModelEvidence(
        ws, version, ws.models.facts(version.model), versions, audits, all_audits, training, events
    )


def sec(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    """Section ``name`` of a stored audit report, or None when the suite did not have it."""
    for s in doc.get("sections", []):
        if s.get("name") == name:
            return dict(s)
    return None


def performance_rows(doc: dict[str, Any]) -> list[tuple[str, ...]]:
    """Rows (metric, reference, current, 95% interval, threshold, status, how) of an audit's
    performance: every metric it computed, with the limit and status where the suite judged it."""
    s = sec(doc, "performance") or {}
    judged: dict[str, dict[str, Any]] = {}
    for r in s.get("results", []):
        metric = r["check"].partition(":")[2]
        if not metric.endswith("_drop"):
            judged[metric] = r
    body = s.get("document") or {}
    measured = "current" in body
    current = (body.get("current") if measured else body.get("estimated")) or {}
    reference = (body.get("reference") if measured else body.get("reference_estimate")) or {}
    ref_values = {m.get("name"): m.get("value") for m in reference.get("metrics") or []}
    how = "measured" if measured else "estimated (no labels)"
    rows: list[tuple[str, ...]] = []
    seen = set()
    for m in current.get("metrics") or []:
        name = str(m.get("name"))
        seen.add(name)
        r = judged.get(name, {})
        lower = m.get("lower", m.get("lower_band"))
        upper = m.get("upper", m.get("upper_band"))
        rows.append((name, num(ref_values.get(name)), num(m.get("value")), interval(lower, upper),
                     num(r.get("threshold")), str(r.get("status", "—")), how))  # fmt: skip
    for name, r in judged.items():  # judged but not in the full report (older documents)
        if name not in seen:
            d = r.get("details") or {}
            rows.append((name, "—", num(r.get("value")), _band(d),
                         num(r.get("threshold")), r["status"], how))  # fmt: skip
    return rows


def _band(d: dict[str, Any]) -> str:
    return interval(d.get("lower", d.get("lower_band")), d.get("upper", d.get("upper_band")))


def performance_table(doc: dict[str, Any]) -> Table | None:
    rows = performance_rows(doc)
    if not rows:
        return None
    return Table(
        ("metric", "reference", "current", "interval (95%)", "threshold", "status", "how"),
        tuple(rows),
        numeric=(1, 2, 3, 4),
        caption="Performance on the reference and current data of the audit; bootstrap intervals on the "
        "current data; threshold and status where the suite judged the metric",
    )


def short(digest: str | None, n: int = 19) -> str:
    """``sha256:9408c51d7a20…`` for tables (the full value is in the evidence list)."""
    return "—" if not digest else (digest if len(digest) <= n else digest[:n] + "…")


def audit_row(audit: StoredResult) -> tuple[str, ...]:
    """(date, actor, suite, status, counts, seq, result id) of one recorded audit."""
    d = audit.document
    c = d.get("counts") or {}
    counts = ", ".join(f"{c.get(k, 0)} {k}" for k in ("pass", "warn", "fail", "error"))
    return (
        audit.created[:19].replace("T", " ") + " UTC",
        audit.actor,
        str((d.get("suite") or {}).get("name", "?")),
        audit.status,
        counts,
        str(audit.seq),
        audit.id[:12],
    )


AUDIT_HEADERS = ("date", "run by", "suite", "status", "results", "ledger seq", "result")
