"""``ws.exceptions``: policy exceptions — a recorded, expiring acceptance of one failing gate rule.

An exception names a model (every version) or one model version (``"credit@v2"``), one gate
rule (:data:`WAIVABLE`: ``tier``, ``findings``, ``validation_age``, ``status``,
``suite:NAME``, ``approvals:ROLE``; ``approvals:verified`` — approvals that disagree with the
ledger — is never waivable), a rationale and an expiry. While it is *active* (granted, not
expired, not revoked) the gate (:func:`mlaudit.governance.policy.run_gate`) reports that rule
as ``waived`` instead of ``fail``, naming the exception, who granted it and until when.

Granting needs ``exception.grant`` (approver, admin) and follows maker-checker: whoever
registered, submitted or developed a version (:func:`~.lifecycle.check_independent`) may not
grant an exception for it — for a model-wide exception, for any of the model's versions.
Every change is a ledger event in the same transaction as its row: ``exception.granted``,
``exception.revoked`` (with the reason).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlaudit.errors import InputError, NotFound
from mlaudit.governance.findings import readable, require
from mlaudit.governance.inventory import parse_ts
from mlaudit.governance.lifecycle import check_independent
from mlaudit.governance.permissions import ROLES
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import model_versions, models, policy_exceptions

__all__ = ["WAIVABLE", "Exceptions", "PolicyException", "active_exceptions", "check_rule"]

WAIVABLE = ("tier", "findings", "validation_age", "status", "suite:NAME", "approvals:ROLE")
_SUITE = re.compile(r"^suite:[A-Za-z0-9][A-Za-z0-9._\-]{0,60}$")


def check_rule(rule: str) -> str:
    """``rule`` when it names a gate rule an exception may waive, else :class:`InputError`."""
    rule = rule.strip()
    if rule in ("tier", "findings", "validation_age", "status") or _SUITE.match(rule):
        return rule
    role = rule.removeprefix("approvals:")
    if rule.startswith("approvals:") and role in ROLES:
        return rule
    why = (
        "approvals that disagree with the ledger cannot be waived"
        if rule == "approvals:verified"
        else f"not a gate rule: {rule!r}"
    )
    raise InputError(why, hint=f"waivable rules: {', '.join(WAIVABLE)} (as `mlaudit gate` names them)")


@dataclass(frozen=True)
class PolicyException:
    id: str
    model: str
    version_id: str | None  # None: every version of the model
    ref: str  # "credit" or "credit@v2"
    rule: str
    rationale: str
    expires: str
    revoked: str | None
    revoked_by: str | None
    created: str
    actor: str
    seq: int

    def active_at(self, moment: datetime) -> bool:
        """Granted by ``moment``, not yet expired and not revoked by then."""
        return (
            parse_ts(self.created) <= moment < parse_ts(self.expires)
            and (self.revoked is None or parse_ts(self.revoked) > moment)
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _refs(conn: Connection, ids: set[str]) -> dict[str, str]:
    rows = conn.execute(
        sa.select(model_versions.c.id, model_versions.c.model, model_versions.c.number).where(
            model_versions.c.id.in_(ids)
        )
    ).all()
    return {r.id: f"{r.model}@v{r.number}" for r in rows}


def _load(conn: Connection, query: Any) -> list[PolicyException]:
    rows = conn.execute(query.order_by(policy_exceptions.c.seq)).all()
    refs = _refs(conn, {r.version_id for r in rows if r.version_id})
    out = []
    for r in rows:
        ref = refs.get(r.version_id, r.model) if r.version_id else r.model
        out.append(
            PolicyException(r.id, r.model, r.version_id, ref, r.rule, r.rationale, r.expires, r.revoked,
                            r.revoked_by, r.created, r.actor, int(r.seq))
        )  # fmt: skip
    return out


def active_exceptions(
    conn: Connection, model: str, version_id: str | None, moment: datetime
) -> list[PolicyException]:
    """Exceptions of ``model`` active at ``moment`` that apply to ``version_id`` (model-wide ones
    and those of that version; ``version_id=None``: of any version), oldest first."""
    query = sa.select(policy_exceptions).where(policy_exceptions.c.model == model)
    if version_id is not None:
        query = query.where(
            sa.or_(policy_exceptions.c.version_id.is_(None), policy_exceptions.c.version_id == version_id)
        )
    return [e for e in _load(conn, query) if e.active_at(moment)]


class Exceptions:
    """Policy exceptions of one workspace (``ws.exceptions``)."""

    def __init__(self, store: Store, actor: str, workspace: Any) -> None:
        self._store = store
        self._actor = actor
        self._ws = workspace

    def grant(self, target: str, rule: str, rationale: str, expires: str) -> PolicyException:
        """Accept the failing gate ``rule`` for ``target`` (``"credit"``: every version,
        ``"credit@v2"``: that version) until ``expires`` (ISO 8601; a bare date is midnight UTC)."""
        rule = check_rule(rule)
        if not rationale or not rationale.strip():
            raise InputError("an exception needs a rationale (why the risk is accepted)", hint="--rationale")
        try:
            until = parse_ts(expires.strip()).astimezone(UTC)
        except ValueError:
            raise InputError(f"not a date or time: {expires!r}", hint="--expires YYYY-MM-DD") from None
        now = utc_now()
        if until <= parse_ts(now):
            raise InputError(
                f"the expiry {expires} is not in the future", hint="exceptions must expire later"
            )
        model = target.split("@", 1)[0]
        version = self._ws.models.get(target) if "@" in target else None
        require(self._ws, "exception.grant", model)
        with self._store.write(self._actor) as tx:
            conn = tx.conn
            if conn.execute(sa.select(models.c.name).where(models.c.name == model)).first() is None:
                raise NotFound(f"no model {model!r}", hint="see `mlaudit model list`")
            from mlaudit.registry import _version

            if version is not None:
                checked = [version]
            else:
                every = sa.select(model_versions).where(model_versions.c.model == model)
                checked = [_version(r) for r in conn.execute(every)]
            for v in checked:
                check_independent(conn, v, self._actor, "grant a policy exception for it")
            eid = uuid.uuid4().hex
            payload = {
                "id": eid,
                "model": model,
                "version_id": version.id if version is not None else None,
                "ref": version.ref if version is not None else model,
                "rule": rule,
                "rationale": rationale.strip(),
                "expires": until.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            subject = version.node if version is not None else f"model:{model}"
            event = tx.record("exception.granted", subject, payload)
            row = {k: payload[k] for k in ("id", "model", "version_id", "rule", "rationale", "expires")}
            conn.execute(
                sa.insert(policy_exceptions).values(**row, created=event.ts, actor=self._actor, seq=event.seq)
            )
        return self.get(eid)

    def revoke(self, exception_id: str, reason: str) -> PolicyException:
        """End an exception now (``exception.revoked``, with the reason); the gate stops waiving."""
        if not reason or not reason.strip():
            raise InputError("revoking an exception needs a reason", hint="--reason")
        current = self.get(exception_id)
        require(self._ws, "exception.revoke", current.model)
        with self._store.write(self._actor) as tx:
            row = tx.conn.execute(
                sa.select(policy_exceptions).where(policy_exceptions.c.id == exception_id).with_for_update()
            ).one()
            if row.revoked is not None:
                raise InputError(
                    f"exception {exception_id} was already revoked ({row.revoked} by {row.revoked_by})"
                )
            event = tx.record(
                "exception.revoked",
                f"exception:{exception_id}",
                {"id": exception_id, "model": row.model, "rule": row.rule, "reason": reason.strip()},
            )
            tx.conn.execute(
                sa.update(policy_exceptions)
                .where(policy_exceptions.c.id == exception_id)
                .values(revoked=event.ts, revoked_by=self._actor)
            )
        return self.get(exception_id)

    def get(self, exception_id: str) -> PolicyException:
        with self._store.read() as conn:
            found = _load(conn, sa.select(policy_exceptions).where(policy_exceptions.c.id == exception_id))
        if not found:
            raise NotFound(f"no policy exception {exception_id!r}", hint="see `mlaudit exception list`")
        require(self._ws, "inventory.read", found[0].model)
        return found[0]

    def active(
        self, model: str, version_id: str | None = None, at: str | datetime | None = None
    ) -> list[PolicyException]:
        """Exceptions of ``model`` active ``at`` (default now) for ``version_id`` (None: any)."""
        require(self._ws, "inventory.read", model)
        moment = at if isinstance(at, datetime) else parse_ts(at or utc_now())
        with self._store.read() as conn:
            return active_exceptions(conn, model, version_id, moment)

    def list(self, model: str | None = None) -> list[PolicyException]:
        """Every exception (active, expired, revoked), oldest first; only models the actor may read."""
        query = sa.select(policy_exceptions)
        if model is not None:
            require(self._ws, "inventory.read", model)
            query = query.where(policy_exceptions.c.model == model)
        with self._store.read() as conn:
            found = _load(conn, query)
        if model is None and found:
            allowed = readable(self._ws, {e.model for e in found})
            found = [e for e in found if allowed is None or e.model in allowed]
        return found
