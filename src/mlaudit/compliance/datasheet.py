"""The datasheet of a dataset version (Gebru et al., "Datasheets for Datasets"), from evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mlaudit.compliance.base import Bullets, Document, Evidence, Fields, Para, Section, Table, num
from mlaudit.errors import MLAuditError
from mlaudit.store.tables import datasets

if TYPE_CHECKING:
    from mlaudit.audits import StoredResult
    from mlaudit.datasets import DatasetVersion
    from mlaudit.governance.retention import Erasure
    from mlaudit.lineage_graph import LineageGraph
    from mlaudit.workspace import Workspace

__all__ = ["build_datasheet"]


def build_datasheet(ws: Workspace, ref: str) -> Document:
    v = ws.datasets.get(ref)
    logged = Evidence("ledger", str(v.seq), f"dataset.version_logged {v.ref} {v.fingerprint[:23]}…", v.seq)
    up = _graph(ws, v, "upstream")
    down = _graph(ws, v, "downstream")
    sections = [
        _motivation(ws, v),
        _composition(ws, v, logged),
        _collection(ws, v, up, logged),
        _preprocessing(ws, up),
        _pii(v, logged),
        _quality(ws, v),
        _uses(ws, v, down),
    ]
    return Document("datasheet", f"Datasheet: {v.ref}", v.node, v.ref, sections)


def _graph(ws: Workspace, v: DatasetVersion, direction: str) -> LineageGraph | None:
    try:
        return ws.lineage.graph(v.node, "upstream" if direction == "upstream" else "downstream")
    except MLAuditError:
        return None


def _run_evidence(
    ws: Workspace, section: Section, graph: LineageGraph | None, depth: int | None = None
) -> None:
    """Cite the ledger events that completed the lineage runs of ``graph``."""
    for n in graph.nodes if graph else ():
        if n.kind == "run" and (depth is None or n.depth == depth):
            for e in ws.ledger.log(subject=n.id, action="lineage.run_completed"):
                section.cite(Evidence("ledger", str(e.seq), f"lineage run {n.info.get('name', n.id)}", e.seq))


def _motivation(ws: Workspace, v: DatasetVersion) -> Section:
    s = Section("motivation", "Motivation", True)
    with ws.store.read() as conn:
        text = conn.execute(sa.select(datasets.c.description).where(datasets.c.name == v.dataset)).scalar()
    if text:
        s.add(Para(str(text)))
    else:
        s.gap(
            f"No motivation recorded for dataset {v.dataset} (why it was created, by whom, for what task): "
            "the workspace holds no description of it yet; write it into this datasheet by hand."
        )
    return s


def _when(ts: str) -> str:
    return ts[:19].replace("T", " ")


def _kept(v: DatasetVersion, erasure: Erasure | None) -> str:
    if erasure is not None:
        return f"erased on {_when(erasure.created)} UTC by {erasure.actor} ({erasure.reason})"
    return "yes (Parquet snapshot)" if v.data else "no"


def _composition(ws: Workspace, v: DatasetVersion, logged: Evidence) -> Section:
    s = Section("composition", "Composition", True).cite(logged)
    erasure = ws.retention.erasure(v.ref) if v.erased else None
    s.add(
        Fields(
            (
                ("Version", f"{v.ref} (id {v.id})"),
                ("Rows × columns", f"{num(v.rows)} × {num(v.columns)}"),
                ("Fingerprint", v.fingerprint + (" (row order ignored)" if v.unordered else "")),
                ("Logged", f"{v.created[:19].replace('T', ' ')} UTC by {v.actor} (ledger seq {v.seq})"),
                ("Raw data kept", _kept(v, erasure)),
            )
        )
    )
    columns: dict[str, Any] = {}
    if erasure is not None:
        s.cite(Evidence("ledger", str(erasure.seq), f"dataset.erased {v.ref}", erasure.seq))
        s.add(
            Para(
                f"Raw data erased on {_when(erasure.created)} UTC by {erasure.actor} ({erasure.reason}). "
                "The fingerprint, schema and row count remain, and the ledger still verifies: it never "
                "held the data."
            )
        )
    if v.profile:
        try:
            columns = {c["name"]: c for c in ws.datasets.profile(v).to_dict()["columns"]}
            s.cite(Evidence("digest", v.profile, "stored profile"))
        except MLAuditError:
            if erasure is None:
                s.gap(f"The stored profile of {v.ref} could not be read from the artifact store.")
            else:
                s.add(Para("The stored profile was erased with the data: no column statistics remain."))
    else:
        s.gap(f"No profile stored for {v.ref}: log the data again with `mlaudit data log`.")
    rows = []
    for field in v.schema:
        c = columns.get(field["name"], {})
        rng = f"{num(c.get('min'))} – {num(c.get('max'))}" if c.get("min") is not None else "—"
        distinct = num(round(c["distinct"])) if isinstance(c.get("distinct"), (int, float)) else "—"
        rows.append((field["name"], field["type"], c.get("kind", "—"), num(c.get("nulls")), distinct, rng))
    s.add(Table(("column", "type", "kind", "nulls", "distinct (≈)", "range"), tuple(rows), numeric=(3, 4)))
    return s


def _collection(ws: Workspace, v: DatasetVersion, up: LineageGraph | None, logged: Evidence) -> Section:
    s = Section("collection", "Collection process and provenance", True).cite(logged)
    _run_evidence(ws, s, up)
    rows = [("Source", v.source or "—")]
    if v.query:
        rows.append(("Query", v.query))
    s.add(Fields(tuple(rows)))
    if v.source:
        s.add(Para("Credentials are stripped from the source before it is stored."))
    inputs = sorted(
        n.info.get("ref", n.id) for n in (up.nodes if up else ()) if n.depth > 0 and n.kind != "run"
    )
    if inputs:
        s.add(Para("Recorded upstream (lineage):"), Bullets(tuple(inputs)))
    if not v.source and not inputs:
        s.gap(
            f"Where {v.ref} came from is not recorded: it was logged from an in-memory table with no "
            "lineage run producing it (log it from its source, or inside `ws.run(...)`)."
        )
    return s


def _preprocessing(ws: Workspace, up: LineageGraph | None) -> Section:
    s = Section("preprocessing", "Preprocessing", False)
    _run_evidence(ws, s, up, depth=1)
    runs = [n for n in (up.nodes if up else ()) if n.kind == "run" and n.depth == 1]
    if not runs:
        s.add(Para("No lineage run produced this version: it was logged as collected."))
        return s
    rows = []
    for n in runs:
        facets = n.info.get("facets") or {}
        commit = ((facets.get("git") or {}).get("commit") or "")[:12] or "—"
        params = ", ".join(f"{k}={val}" for k, val in (facets.get("parameters") or {}).items()) or "—"
        rows.append(
            (
                str(n.info.get("name", n.id)),
                str(n.info.get("started", ""))[:19],
                str(n.info.get("actor", "")),
                params,
                commit,
            )
        )
    s.add(Table(("job", "started", "by", "parameters", "git commit"), tuple(rows)))
    return s


def _pii(v: DatasetVersion, logged: Evidence) -> Section:
    s = Section("pii", "Personal data found", True).cite(logged)
    if v.pii:
        s.add(
            Table(
                ("column", "type", "share of sample", "masked example"),
                tuple(
                    (
                        str(f.get("column")),
                        str(f.get("pii_type")),
                        num(f.get("share") or f.get("fraction")),
                        str((f.get("examples") or ["—"])[0]),
                    )
                    for f in v.pii
                ),
                numeric=(2,),
            )
        )
    else:
        s.add(
            Para(
                "No PII findings are recorded for this version (none were found in the sample scanned "
                "when it was logged, or the scan was turned off)."
            )
        )
    return s


def _results_for(ws: Workspace, v: DatasetVersion) -> list[StoredResult]:
    found = ws.audits.list(subject=v.node) + ws.audits.list(subject=f"dataset:{v.dataset}")
    return sorted({r.id: r for r in found if r.kind != "audit_report"}.values(), key=lambda r: -r.seq)


def _quality(ws: Workspace, v: DatasetVersion) -> Section:
    s = Section("quality", "Quality and drift results", True)
    rows = []
    for r in _results_for(ws, v):
        scope = "this version" if r.subject == v.node else f"dataset {v.dataset} (any version)"
        rows.append((r.kind, r.status, r.created[:19].replace("T", " "), r.actor, scope, str(r.seq)))
        s.cite(Evidence("result", r.id, f"{r.kind} ({r.status})", r.seq))
    for a in ws.audits.list(kind="audit_report", limit=10_000):
        roles = [
            k for k, info in (a.document.get("inputs") or {}).items() if (info or {}).get("dataset") == v.ref
        ]
        if roles:
            rows.append(
                (
                    "model audit",
                    a.status,
                    a.created[:19].replace("T", " "),
                    a.actor,
                    f"{', '.join(roles)} data of {a.subject.split('@')[0]}",
                    str(a.seq),
                )
            )
            s.cite(Evidence("result", a.id, f"audit report using {v.ref} as {', '.join(roles)}", a.seq))
    if rows:
        s.add(
            Table(
                ("result", "status", "recorded (UTC)", "by", "about", "ledger seq"), tuple(rows), numeric=(5,)
            )
        )
    else:
        s.gap(
            f"No quality or drift result is recorded for {v.ref}: run `mlaudit check FILE --rules RULES "
            f"--record {v.node}` or `mlaudit drift REF CUR --record {v.node}`."
        )
    return s


def _uses(ws: Workspace, v: DatasetVersion, down: LineageGraph | None) -> Section:
    s = Section("uses", "Uses", True)
    _run_evidence(ws, s, down)
    nodes = [n for n in (down.nodes if down else ()) if n.depth > 0]
    models = sorted({n.id for n in nodes if n.kind == "model"})
    runs = sorted({str(n.info.get("name", n.id)) for n in nodes if n.kind == "run"})
    data = sorted({str(n.info.get("ref", n.id)) for n in nodes if n.kind == "dataset"})
    refs = {m.node: m.ref for m in ws.models.list()}
    items = [f"model {refs.get(m, m)} was produced by a run that read it" for m in models]
    items += [f"dataset {d} was derived from it" for d in data]
    items += [f"job {r} read it" for r in runs]
    if items:
        s.add(Para("Recorded downstream (lineage):"), Bullets(tuple(items)))
    else:
        s.gap(f"No recorded use of {v.ref}: no lineage run consumed it.")
    return s
