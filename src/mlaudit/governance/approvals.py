"""Maker-checker approvals of model versions, and their re-check against the ledger.

A version in validation gets decisions (``approve`` or ``reject``) from a ``validator`` or an
``approver``. The *makers* of a version may not decide on it: whoever registered it
(``model_versions.actor``), anyone named in the model's ``developers`` fact, and whoever
submitted it for validation. No role, group membership or admin grant lifts that rule; it
holds in open mode too. Each decision records identity, role, rationale and the evidence it
was based on — the SHA-256 of the latest stored ``audit_report`` of the version, as its
``result.recorded`` ledger event gives it; without an audit a decision is refused.

The ``approvals`` row is not hashed itself: :func:`verify` compares every row with the ledger
event it was written with (``approval.recorded`` at the row's ``seq``), and the maker-checker
rule with the ledger's own record of who registered and submitted the version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlaudit.store import ledger as _ledger
from mlaudit.store.tables import model_facts, model_transitions, results, users

__all__ = ["APPROVAL_ACTIONS", "Approval", "evidence_of", "is_maker", "makers", "verify"]

DECISIONS = ("approve", "reject")
DECIDING_ROLES = ("validator", "approver")
# "model.approval_recorded" is accepted for rows written by older helpers with the same shape.
APPROVAL_ACTIONS = ("approval.recorded", "model.approval_recorded")
_COMPARED = ("version_id", "role", "decision", "rationale", "evidence")


@dataclass(frozen=True)
class Approval:
    id: str
    version_id: str
    role: str
    decision: str
    rationale: str
    evidence: str | None
    created: str
    actor: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _mentions(text: str, names: set[str]) -> bool:
    low = text.lower()
    return any(n and re.search(rf"(?<![\w.@-]){re.escape(n.lower())}(?![\w@-])", low) for n in names)


def makers(conn: Connection, version: Any) -> dict[str, str]:
    """Who made ``version`` by name → why: ``{"dev": "registered it", "bob": "submitted it ..."}``
    (people named in the ``developers`` fact are matched by :func:`is_maker`)."""
    found: dict[str, str] = {version.actor: "registered it"}
    submitted = conn.execute(
        sa.select(model_transitions.c.actor).where(
            model_transitions.c.version_id == version.id, model_transitions.c.to_status == "in_validation"
        )
    ).scalars()
    for who in submitted:
        found.setdefault(who, "submitted it for validation")
    return found


def is_maker(conn: Connection, version: Any, actor: str) -> str | None:
    """Why ``actor`` may not decide on ``version`` (None when they may).

    ``developers`` is free text; a person is a developer when their user name, display name
    or e-mail appears in it as a word.
    """
    found = makers(conn, version)
    if actor in found:
        return found[actor]
    dev = conn.execute(
        sa.select(model_facts.c.value).where(
            model_facts.c.model == version.model, model_facts.c.field == "developers"
        )
    ).scalar_one_or_none()
    if dev:
        row = conn.execute(sa.select(users).where(users.c.name == actor)).one_or_none()
        names = {actor} | ({row.display_name, row.email} - {None} if row is not None else set())
        if _mentions(dev, names):
            return "is named in the model's developers"
    return None


def evidence_of(conn: Connection, version: Any) -> tuple[str | None, str | None]:
    """(digest, result id) of the latest stored ``audit_report`` of ``version`` per the ledger."""
    row = conn.execute(
        sa.select(results.c.id, results.c.seq)
        .where(results.c.kind == "audit_report", results.c.subject == version.node)
        .order_by(results.c.seq.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return None, None
    event = next(_ledger.events(conn, start=int(row.seq), limit=1), None)
    if event is None or event.seq != int(row.seq):
        return None, row.id
    return event.data.get("document"), row.id


def verify(conn: Connection, version_ids: set[str] | None = None) -> list[str]:
    """Problems found comparing ``approvals`` rows with the ledger (empty list: all agree)."""
    from mlaudit.registry import _version
    from mlaudit.store.tables import approvals, model_versions

    query = sa.select(approvals).order_by(approvals.c.seq)
    if version_ids is not None:
        query = query.where(approvals.c.version_id.in_(version_ids))
    rows = conn.execute(query).all()
    versions = {r.id: _version(r) for r in conn.execute(sa.select(model_versions))}
    problems: list[str] = []
    seen: set[int] = set()
    for row in rows:
        v = versions.get(row.version_id)
        name = f"{v.ref} ({row.version_id})" if v else f"version {row.version_id}"
        where = f"{name}: approval {row.id} (seq {row.seq})"
        seen.add(int(row.seq))
        event = next(_ledger.events(conn, start=int(row.seq), limit=1), None)
        if event is None or event.seq != int(row.seq) or event.action not in APPROVAL_ACTIONS:
            problems.append(f"{where} has no approval event in the ledger")
            continue
        data = event.data
        if event.actor != row.actor:
            problems.append(
                f"{where}: actor is {row.actor!r} in the database but {event.actor!r} in the ledger"
            )
        for key in _COMPARED:
            if getattr(row, key) != data.get(key):
                problems.append(
                    f"{where}: {key} is {getattr(row, key)!r} in the database "
                    f"but {data.get(key)!r} in the ledger"
                )
        if v is not None:
            why = _ledger_maker(conn, v, event.actor)
            if why:
                problems.append(f"{where}: {event.actor} {why} and may not decide on it (maker-checker)")
    for event in _ledger.events(conn, action="approval.recorded"):
        vid = event.data.get("version_id")
        if event.seq not in seen and (version_ids is None or vid in version_ids):
            problems.append(
                f"version {vid}: the approval recorded at seq {event.seq} is missing from the database"
            )
    return problems


def _ledger_maker(conn: Connection, version: Any, actor: str) -> str | None:
    """The maker-checker rule answered from the ledger alone (registration and submissions)."""
    registered = next(_ledger.events(conn, start=version.seq, limit=1), None)
    if registered is not None and registered.actor == actor:
        return "registered it"
    for event in _ledger.events(conn, action="model.transitioned", subject=version.node):
        data = orjson.loads(event.payload)
        if data.get("to") == "in_validation" and event.actor == actor:
            return "submitted it for validation"
    return None
