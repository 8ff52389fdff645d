"""Helpers for the findings / tiering / inventory / gate tests: a workspace with a model, stored
audit reports written directly (no model scoring), approvals and lifecycle status (through
``ws.lifecycle``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sklearn.dummy import DummyClassifier

import mlaudit
from mlaudit.store.tables import results


def workspace(tmp_path: Path, *names: str) -> mlaudit.Workspace:
    """A workspace with one in-memory model version per name (``credit@v1`` ...)."""
    ws = mlaudit.open(tmp_path / "ws")
    for i, name in enumerate(names or ("credit",)):
        clf = DummyClassifier(strategy="constant", constant=i % 2).fit(np.zeros((4, 2)), [0, 1, 0, 1])
        ws.models.register(name, clf, features=["a", "b"])
    return ws


def audit(
    ws: mlaudit.Workspace,
    ref: str,
    *,
    suite: str = "full",
    checks: dict[str, str] | None = None,
    created: str | None = None,
) -> str:
    """Store an audit_report of ``ref`` with these check statuses (ledgered); returns its id."""
    v = ws.models.get(ref)
    checks = checks if checks is not None else {"performance:roc_auc": "pass"}
    order = ("pass", "warn", "error", "fail")
    status = max(checks.values(), key=order.index) if checks else "pass"
    document = {
        "kind": "audit_report",
        "schema_version": 1,
        "status": status,
        "passed": status in ("pass", "warn"),
        "model": {"name": v.model, "version": v.number, "ref": v.ref, "id": v.id, "node": v.node},
        "suite": {"name": suite},
        "sections": [
            {"name": c.split(":")[0], "status": s, "results": [{"check": c, "status": s}]}
            for c, s in checks.items()
        ],
        "findings": [
            {"check": c, "status": s, "section": c.split(":")[0], "message": f"{c} is {s}"}
            for c, s in checks.items()
            if s != "pass"
        ],
    }
    stored = ws.audits.record(
        "audit_report", v.node, document, status=status, summary={"suite": suite, "not_passed": {}}
    )
    if created is not None:  # back-date it (the ledger event keeps its own time)
        with ws.store.write(ws.actor) as tx:
            tx.conn.execute(sa.update(results).where(results.c.id == stored.id).values(created=created))
    return stored.id


def approve(ws: mlaudit.Workspace, ref: str, role: str, actor: str, decision: str = "approve") -> None:
    """Record ``actor``'s decision through ``ws.lifecycle.approve`` (submitting the version for
    validation first when it is still a draft)."""
    if ws.models.get(ref).status == "draft":
        ws.lifecycle.transition(ref, "in_validation", "ready for validation")
    with mlaudit.open(ws.location, create=False, actor=actor) as other:
        other.lifecycle.approve(ref, decision, f"{decision} as {role}", role=role)


def set_status(ws: mlaudit.Workspace, ref: str, status: str, actor: str = "checker") -> None:
    """Move a version to ``status`` through the lifecycle (as ``actor``, who is not its maker)."""
    with mlaudit.open(ws.location, create=False, actor=actor) as other:
        other.lifecycle.transition(ref, status, f"to {status}")
