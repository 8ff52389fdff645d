"""``ws.lifecycle``: the status of each model version, its transitions and approvals.

::

    draft ──submit──▶ in_validation ──approve──▶ approved ──deploy──▶ deployed ──retire──▶ retired
                        │    ▲   └──reject──▶ rejected                  (draft, approved and
                        └────┘ withdraw (→ draft)                        rejected can retire too)

Each transition checks the permission of its action (``lifecycle.submit``, ...), that it is
in :data:`TRANSITIONS`, and for ``approved``/``rejected`` that a matching decision was
recorded (:meth:`Lifecycle.approve`) since the version was last submitted, by someone who is
not one of its makers (see :mod:`mlaudit.governance.approvals`). The new status, a
``model_transitions`` row and a ``model.transitioned`` ledger event (who, when, from, to,
why) are written in one transaction. Deploying a version retires the model's previously
deployed version ("superseded by vN"), so at most one version of a model is deployed, and
:meth:`Lifecycle.deployed_at` answers which version was deployed at any moment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from mlaudit.errors import InputError, NotFound, PermissionDenied
from mlaudit.governance import approvals as _approvals
from mlaudit.governance.approvals import DECIDING_ROLES, DECISIONS, Approval
from mlaudit.governance.identity import enforced, roles_of
from mlaudit.store import Store
from mlaudit.store.tables import approvals, model_transitions, model_versions

__all__ = ["STATUSES", "TRANSITIONS", "Lifecycle", "Transition", "check_independent"]

STATUSES = ("draft", "in_validation", "approved", "deployed", "retired", "rejected")
TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "in_validation"): "lifecycle.submit",
    ("in_validation", "draft"): "lifecycle.submit",  # withdrawn
    ("in_validation", "approved"): "lifecycle.approve",
    ("in_validation", "rejected"): "lifecycle.reject",
    ("approved", "deployed"): "lifecycle.deploy",
    ("deployed", "retired"): "lifecycle.retire",
    ("approved", "retired"): "lifecycle.retire",
    ("draft", "retired"): "lifecycle.retire",
    ("rejected", "retired"): "lifecycle.retire",
}
_NEEDS_DECISION = {"approved": "approve", "rejected": "reject"}


@dataclass(frozen=True)
class Transition:
    id: str
    version_id: str
    ref: str
    from_status: str
    to_status: str
    reason: str | None
    created: str
    actor: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def check_independent(conn: Any, version: Any, actor: str, what: str = "approve or reject it") -> None:
    """Raise :class:`PermissionDenied` when ``actor`` is one of the makers of ``version`` (it
    registered or submitted it, or is named in the model's developers) and so may not ``what``."""
    why = _approvals.is_maker(conn, version, actor)
    if why:
        raise PermissionDenied(
            f"maker-checker: {actor} {why} ({version.ref}) and may not {what}",
            hint="someone who neither developed, registered nor submitted it must decide",
        )


def _when(value: str | datetime) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Lifecycle:
    """Lifecycle status, transitions and maker-checker approvals of model versions."""

    def __init__(self, store: Store, actor: str, workspace: Any) -> None:
        self._store = store
        self._actor = actor
        self._ws = workspace

    def transition(self, ref: str, to: str, reason: str | None = None) -> Transition:
        """Move version ``ref`` to status ``to`` (see the module doc for the rules)."""
        if to not in STATUSES:
            raise InputError(f"unknown lifecycle status {to!r}", hint=f"one of: {', '.join(STATUSES)}")
        v = self._ws.models.get(ref)
        action = TRANSITIONS.get((v.status, to))
        if action is None:
            nexts = [b for (a, b) in TRANSITIONS if a == v.status]
            raise InputError(
                f"{v.ref} is {v.status}; it cannot go to {to}",
                hint=f"from {v.status}: {', '.join(nexts) or 'nothing (final)'}",
            )
        self._ws.access.require(action, project=v.model)
        with self._store.write(self._actor) as tx:
            conn = tx.conn
            now = conn.execute(
                sa.select(model_versions.c.status).where(model_versions.c.id == v.id).with_for_update()
            ).scalar_one()
            if now != v.status:
                raise InputError(f"{v.ref} changed to {now} meanwhile; try again")
            if to in _NEEDS_DECISION:
                self._check_decided(conn, v, _NEEDS_DECISION[to])
            made = [self._move(tx, v, v.status, to, reason)]
            if to == "deployed":
                others = conn.execute(
                    sa.select(model_versions).where(
                        model_versions.c.model == v.model,
                        model_versions.c.status == "deployed",
                        model_versions.c.id != v.id,
                    )
                ).all()
                from mlaudit.registry import _version

                for other in others:
                    self._move(tx, _version(other), "deployed", "retired", f"superseded by v{v.number}")
        return made[0]

    def history(self, ref: str) -> list[Transition]:
        """Transitions of version ``ref`` (``"credit@v2"``), or of every version of model
        ``ref`` when it has no ``@``; oldest first."""
        if "@" in ref:
            wanted = [self._ws.models.get(ref)]
        else:
            wanted = [v for v in self._ws.models.list() if v.model == ref]
            if not wanted:
                raise NotFound(f"no model {ref!r}", hint="see `mlaudit model list`")
        refs = {v.id: v.ref for v in wanted}
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(model_transitions)
                .where(model_transitions.c.version_id.in_(refs))
                .order_by(model_transitions.c.seq)
            ).all()
        return [
            Transition(r.id, r.version_id, refs[r.version_id], r.from_status, r.to_status, r.reason,
                       r.created, r.actor, int(r.seq))
            for r in rows
        ]  # fmt: skip

    def deployed_at(self, model: str, when: str | datetime) -> Any:
        """The version of ``model`` that was deployed at ``when`` (None if none was)."""
        moment = _when(when)
        current: str | None = None
        for t in self.history(model):
            if _when(t.created) > moment:
                break
            if t.to_status == "deployed":
                current = t.version_id
            elif t.from_status == "deployed" and t.version_id == current:
                current = None
        return None if current is None else self._ws.models.get(f"{model}@{current}")

    def approve(
        self, ref: str, decision: str = "approve", rationale: str = "", role: str = "validator"
    ) -> Approval:
        """Record a maker-checker decision on version ``ref`` (which must be in validation)."""
        if decision not in DECISIONS:
            raise InputError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        if role not in DECIDING_ROLES:
            raise InputError(f"decisions are taken as {' or '.join(DECIDING_ROLES)}, not {role!r}")
        if not rationale.strip():
            raise InputError("a decision needs a rationale", hint="--rationale TEXT")
        v = self._ws.models.get(ref)
        self._ws.access.require("approval.record", project=v.model)
        with self._store.write(self._actor) as tx:
            conn = tx.conn
            if enforced(conn) and role not in roles_of(conn, self._actor, v.model):
                raise PermissionDenied(
                    f"user {self._actor!r} does not hold the {role} role on {v.model!r}",
                    hint=f"decide as a role you hold, or ask an admin to grant {role}",
                )
            status = conn.execute(
                sa.select(model_versions.c.status).where(model_versions.c.id == v.id).with_for_update()
            ).scalar_one()
            if status != "in_validation":
                raise InputError(
                    f"{v.ref} is {status}; decisions are recorded on versions in validation",
                    hint=f"submit it first: `mlaudit model transition {v.ref} in_validation`",
                )
            self._check_independent(conn, v)
            evidence, result_id = _approvals.evidence_of(conn, v)
            if evidence is None:
                raise InputError(
                    f"no audit evidence to base the decision on: {v.ref} has no stored audit report",
                    hint=f"run `mlaudit audit {v.ref} ...` first",
                )
            payload = {
                "version_id": v.id,
                "model": v.model,
                "ref": v.ref,
                "role": role,
                "decision": decision,
                "rationale": rationale.strip(),
                "evidence": evidence,
                "result": result_id,
            }
            event = tx.record("approval.recorded", v.node, payload)
            row = {k: payload[k] for k in ("version_id", "role", "decision", "rationale", "evidence")}
            aid = uuid.uuid4().hex
            conn.execute(
                sa.insert(approvals).values(id=aid, created=event.ts, actor=self._actor, seq=event.seq, **row)
            )
        return Approval(aid, created=event.ts, actor=self._actor, seq=event.seq, **row)

    def approvals(self, ref: str) -> list[Approval]:
        """Decisions recorded on version ``ref``, oldest first."""
        v = self._ws.models.get(ref)
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(approvals).where(approvals.c.version_id == v.id).order_by(approvals.c.seq)
            ).all()
        return [
            Approval(r.id, r.version_id, r.role, r.decision, r.rationale, r.evidence, r.created,
                     r.actor, int(r.seq))
            for r in rows
        ]  # fmt: skip

    def verify_approvals(self, ref: str | None = None) -> list[str]:
        """Approvals rows that disagree with their ledger events or break maker-checker per the
        ledger (of version ``ref``, or all); an empty list means all agree."""
        ids = None if ref is None else {self._ws.models.get(ref).id}
        with self._store.read() as conn:
            return _approvals.verify(conn, ids)

    def _check_independent(self, conn: Any, v: Any) -> None:
        check_independent(conn, v, self._actor)

    def _check_decided(self, conn: Any, v: Any, decision: str) -> None:
        self._check_independent(conn, v)
        since = (
            conn.execute(
                sa.select(sa.func.max(model_transitions.c.seq)).where(
                    model_transitions.c.version_id == v.id, model_transitions.c.to_status == "in_validation"
                )
            ).scalar_one_or_none()
            or 0
        )
        found = (
            conn.execute(
                sa.select(approvals.c.actor).where(
                    approvals.c.version_id == v.id, approvals.c.decision == decision, approvals.c.seq > since
                )
            )
            .scalars()
            .all()
        )
        independent = [a for a in found if not _approvals.is_maker(conn, v, a)]
        if not independent:
            raise PermissionDenied(
                f"{v.ref} has no recorded '{decision}' decision by an independent reviewer "
                "since it was submitted",
                hint=f"`mlaudit model approve {v.ref} --decision {decision} --rationale TEXT` "
                "by a validator or approver",
            )

    def _move(self, tx: Any, v: Any, frm: str, to: str, reason: str | None) -> Transition:
        payload = {
            "version_id": v.id,
            "model": v.model,
            "ref": v.ref,
            "from": frm,
            "to": to,
            "reason": reason,
        }
        event = tx.record("model.transitioned", v.node, payload)
        tid = uuid.uuid4().hex
        tx.conn.execute(
            sa.insert(model_transitions).values(
                id=tid, version_id=v.id, from_status=frm, to_status=to, reason=reason,
                created=event.ts, actor=self._actor, seq=event.seq,
            )
        )  # fmt: skip
        tx.conn.execute(sa.update(model_versions).where(model_versions.c.id == v.id).values(status=to))
        return Transition(tid, v.id, v.ref, frm, to, reason, event.ts, self._actor, event.seq)
