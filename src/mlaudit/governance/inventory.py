"""The model inventory: every model, retired ones too, with who is accountable and where it stands.

One entry per registered model: owner, developers, validator, purpose, intended use and
restrictions (from the model's documentation facts), every version with its lifecycle status,
the risk tier, the last validation (the newest stored ``audit_report`` of any version), when the
next one is due (last + the tier's ``validation_days``; the strictest frequency when the model
has no tier), whether it is overdue (never audited, or past due) and the open findings; the
latest version's ``inputs`` (the dataset versions it was trained on and its feature count),
its ``upstream_models`` (model versions whose outputs feed those datasets, per the lineage
graph), the model's active policy ``exceptions`` (ids) and its human-oversight record count
(``overrides``: every oversight record, whether or not the person overrode the model).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from mlaudit.governance.findings import OPEN_STATUSES
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import (
    dataset_versions,
    findings,
    model_facts,
    model_versions,
    models,
    oversight_records,
    results,
)

__all__ = ["CSV_FIELDS", "InventoryEntry", "build_inventory", "parse_ts", "to_csv"]


def parse_ts(text: str) -> datetime:
    """A stored timestamp (ISO 8601, ``Z`` or offset; a bare date is midnight UTC) as aware UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class InventoryEntry:
    model: str
    owner: str | None
    developers: str | None
    validator: str | None
    risk_owner: str | None
    purpose: str | None
    intended_use: str | None
    restrictions: str | None
    latest_version: str | None
    status: str | None  # lifecycle status of the latest version
    versions: list[dict[str, Any]]  # {ref, id, status, created}, oldest first
    tier: int | None
    validation_days: int
    last_validation: str | None
    next_validation_due: str | None
    overdue: bool
    open_findings: int
    open_by_severity: dict[str, int]
    inputs: dict[str, Any]  # {"datasets": ["train@v1", ...], "features": n} of the latest version
    upstream_models: list[str]  # model versions upstream of its training data ("scorer@v2")
    exceptions: list[str]  # ids of active policy exceptions
    overrides: int  # human-oversight records of the model (any version)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


CSV_FIELDS = (
    "model", "owner", "developers", "validator", "risk_owner", "purpose", "intended_use",
    "restrictions", "latest_version", "status", "versions", "tier", "validation_days",
    "last_validation", "next_validation_due", "overdue", "open_findings", "inputs", "features",
    "upstream_models", "exceptions", "exception_ids", "overrides",
)  # fmt: skip


def to_csv(entries: list[InventoryEntry]) -> str:
    """The inventory as CSV (versions as ``ref:status``, lists separated by spaces;
    ``exceptions`` is the count, ``exception_ids`` the ids)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for e in entries:
        row = e.to_dict() | {
            "versions": " ".join(f"{v['ref']}:{v['status']}" for v in e.versions),
            "inputs": " ".join(e.inputs["datasets"]),
            "features": e.inputs["features"],
            "upstream_models": " ".join(e.upstream_models),
            "exceptions": len(e.exceptions),
            "exception_ids": " ".join(e.exceptions),
        }
        writer.writerow(["" if row[k] is None else row[k] for k in CSV_FIELDS])
    return buf.getvalue()


def _upstream_models(ws: Any, version: Any) -> list[str]:
    """Model versions (of other models) upstream of ``version`` in the lineage graph."""
    from mlaudit.errors import NotFound

    try:
        graph = ws.lineage.upstream(f"model:{version.model}@{version.id}")
    except NotFound:  # not in the lineage graph (registered without training data)
        return []
    return sorted(
        n.id for n in graph.nodes if n.kind == "model" and not n.id.startswith(f"model:{version.model}@")
    )


def _json_list(text: str | None) -> list[Any]:
    value = orjson.loads(text) if text else []
    return list(value) if isinstance(value, list) else []


def build_inventory(ws: Any, store: Store, *, now: str | None = None) -> list[InventoryEntry]:
    from mlaudit.governance.exceptions import active_exceptions
    from mlaudit.governance.tiering import load_method

    moment = parse_ts(now or utc_now())
    tiers = ws.risk.tiers()
    strictest = min(r.validation_days for r in load_method().tiers)
    with store.read() as conn:
        model_rows = conn.execute(sa.select(models).order_by(models.c.name)).all()
        version_rows = conn.execute(
            sa.select(model_versions).order_by(model_versions.c.model, model_versions.c.number)
        ).all()
        fact_rows = conn.execute(sa.select(model_facts)).all()
        audit_rows = conn.execute(
            sa.select(results.c.subject, sa.func.max(results.c.created).label("last"))
            .where(results.c.kind == "audit_report")
            .group_by(results.c.subject)
        ).all()
        finding_rows = conn.execute(
            sa.select(findings.c.model, findings.c.severity).where(findings.c.status.in_(OPEN_STATUSES))
        ).all()
        counted = sa.select(oversight_records.c.model, sa.func.count()).group_by(oversight_records.c.model)
        oversight = {str(name): int(n) for name, n in conn.execute(counted)}
        waivers = {m.name: [e.id for e in active_exceptions(conn, m.name, None, moment)] for m in model_rows}
        dataset_refs = {
            f"dataset:{d.dataset}@{d.id}": f"{d.dataset}@v{d.number}"
            for d in conn.execute(
                sa.select(dataset_versions.c.id, dataset_versions.c.dataset, dataset_versions.c.number)
            )
        }
    node_ref = {f"model:{v.model}@{v.id}": f"{v.model}@v{v.number}" for v in version_rows}
    versions: dict[str, list[Any]] = defaultdict(list)
    node_model: dict[str, str] = {}
    for v in version_rows:
        versions[v.model].append(v)
        node_model[f"model:{v.model}@{v.id}"] = v.model
    facts: dict[str, dict[str, str]] = defaultdict(dict)
    for f in fact_rows:
        facts[f.model][f.field] = f.value
    last: dict[str, str] = {}
    for a in audit_rows:
        name = node_model.get(a.subject)
        if name is not None and (name not in last or a.last > last[name]):
            last[name] = a.last
    open_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for f in finding_rows:
        open_counts[f.model][f.severity] += 1
    entries = []
    for m in model_rows:
        vs = versions.get(m.name, [])
        latest = vs[-1] if vs else None
        assigned = tiers.get(m.name)
        days = assigned.validation_days if assigned else strictest
        last_at = last.get(m.name)
        due = parse_ts(last_at) + timedelta(days=days) if last_at else None
        fx = facts.get(m.name, {})
        entries.append(
            InventoryEntry(
                model=m.name,
                owner=m.owner or (latest.owner if latest is not None else None) or fx.get("risk_owner"),
                developers=fx.get("developers"),
                validator=fx.get("validator"),
                risk_owner=fx.get("risk_owner"),
                purpose=fx.get("purpose"),
                intended_use=fx.get("intended_use"),
                restrictions=fx.get("out_of_scope_use"),
                latest_version=f"{m.name}@v{latest.number}" if latest is not None else None,
                status=latest.status if latest is not None else None,
                versions=[
                    {"ref": f"{m.name}@v{v.number}", "id": v.id, "status": v.status, "created": v.created}
                    for v in vs
                ],
                tier=assigned.tier if assigned else None,
                validation_days=days,
                last_validation=last_at,
                next_validation_due=due.strftime("%Y-%m-%dT%H:%M:%SZ") if due else None,
                overdue=due is None or moment > due,
                open_findings=sum(open_counts[m.name].values()),
                open_by_severity=dict(open_counts[m.name]),
                inputs={
                    "datasets": [dataset_refs.get(n, n) for n in _json_list(latest.trained_on)]
                    if latest
                    else [],
                    "features": len(_json_list(latest.features)) if latest is not None else 0,
                },
                upstream_models=[node_ref.get(n, n) for n in _upstream_models(ws, latest)] if latest else [],
                exceptions=waivers.get(m.name, []),
                overrides=int(oversight.get(m.name, 0)),
            )
        )
    return entries
