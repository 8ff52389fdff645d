"""``ws.findings``: model findings raised by a person or by a failed audit check, and their workflow.

A finding has a severity (``low|medium|high|critical``), an owner, a due date and a status::

    open → mitigated → closed        (mitigated → open: reopened)
    open → accepted  → closed

Every change is a ledger event in the same transaction as its rows (``finding.raised``,
``finding.updated``, ``finding.commented``; subject ``finding:<id>``) and a row in
``finding_events``. A finding opened from a stored audit (:meth:`Findings.from_audit`) names its
evidence in ``source`` as ``result:<result id>#<check>``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from mlaudit.errors import InputError, NotFound
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import finding_events, findings, models

__all__ = [
    "OPEN_STATUSES",
    "SEVERITIES",
    "STATUSES",
    "TRANSITIONS",
    "Finding",
    "FindingEvent",
    "Findings",
    "readable",
    "require",
]

SEVERITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "mitigated", "accepted", "closed")
OPEN_STATUSES = ("open", "mitigated")  # still to be dealt with (accepted = risk accepted)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("mitigated", "accepted"),
    "mitigated": ("closed", "open"),
    "accepted": ("closed",),
    "closed": (),
}
_FROM_AUDIT_SEVERITY = {"fail": "high", "error": "medium"}


def require(ws: Any, action: str, project: str | None = None) -> None:
    """The workspace's permission check, when the workspace has one (``ws.access``)."""
    access = getattr(ws, "access", None)
    if access is not None:
        access.require(action, project=project)


def readable(ws: Any, names: Any) -> set[str] | None:
    """Which of model ``names`` the actor may read (``inventory.read`` per project); ``None``
    means all of them. Raises PermissionDenied when the actor may read none."""
    access = getattr(ws, "access", None)
    if access is None or access.can("inventory.read"):
        return None
    allowed = {n for n in names if access.can("inventory.read", n)}
    if not allowed:
        access.require("inventory.read")  # raises, naming the roles that may
    return allowed


@dataclass(frozen=True)
class FindingEvent:
    kind: str  # raised | status | comment
    text: str | None
    status: str | None
    created: str
    actor: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Finding:
    id: str
    model: str
    version_id: str | None
    title: str
    severity: str
    status: str
    owner: str | None
    due: str | None
    source: str | None
    updated: str
    created: str
    actor: str
    seq: int
    events: tuple[FindingEvent, ...] = field(default=())

    @property
    def check(self) -> str | None:
        """The audit check this finding came from (``None`` when raised by a person)."""
        if self.source and self.source.startswith("result:") and "#" in self.source:
            return self.source.split("#", 1)[1]
        return None

    @property
    def result_id(self) -> str | None:
        if self.source and self.source.startswith("result:"):
            return self.source.removeprefix("result:").split("#", 1)[0]
        return None

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "events"}
        return data | {
            "check": self.check,
            "result": self.result_id,
            "events": [e.to_dict() for e in self.events],
        }


class Findings:
    """Findings of one workspace."""

    def __init__(self, store: Store, actor: str, workspace: Any) -> None:
        self._store = store
        self._actor = actor
        self._ws = workspace

    def raise_(
        self,
        model: str,
        title: str,
        severity: str,
        *,
        owner: str | None = None,
        due: str | None = None,
        version: str | None = None,
        source: str | None = None,
    ) -> Finding:
        """Open a finding on ``model`` (``version``: ``"v2"``, ``"2"`` or a version id)."""
        require(self._ws, "finding.raise", model)
        if severity not in SEVERITIES:
            raise InputError(f"unknown severity {severity!r}", hint=f"choose from {', '.join(SEVERITIES)}")
        if not title or not title.strip():
            raise InputError("a finding needs a title")
        version_id = None
        if version is not None:
            ref = version if "@" in version else f"{model}@{version}"
            version_id = self._ws.models.get(ref).id
        due = _date(due)
        with self._store.write(self._actor) as tx:
            if tx.conn.execute(sa.select(models.c.name).where(models.c.name == model)).first() is None:
                raise NotFound(f"no model {model!r}", hint="see `mlaudit model list`")
            return self._insert(tx, model, version_id, title.strip(), severity, owner, due, source)

    def from_audit(self, result_id: str) -> list[Finding]:
        """Open one finding per failed (``high``) or errored (``medium``) check of a stored audit.

        Warnings open nothing; a check that already has a finding on the same model that is not
        closed is skipped. Returns the findings opened.
        """
        stored = self._ws.audits.get(result_id)  # checked against its ledger event
        if stored.kind != "audit_report":
            raise InputError(f"result {result_id} is a {stored.kind}, not an audit_report")
        doc = stored.document
        model = str(doc["model"]["name"])
        version_id = doc["model"].get("id")
        require(self._ws, "finding.raise", model)
        wanted = [f for f in doc.get("findings", []) if f.get("status") in _FROM_AUDIT_SEVERITY]
        opened: list[Finding] = []
        with self._store.write(self._actor) as tx:
            rows = tx.conn.execute(
                sa.select(findings.c.source).where(findings.c.model == model, findings.c.status != "closed")
            ).all()
            taken = {r.source.split("#", 1)[1] for r in rows if r.source and "#" in r.source}
            for item in wanted:
                check = str(item["check"])
                if check in taken:
                    continue
                taken.add(check)
                message = str(item.get("message") or "")
                title = message if message.startswith(check) else f"{check}: {message}".rstrip(": ")
                severity = _FROM_AUDIT_SEVERITY[item["status"]]
                source = f"result:{result_id}#{check}"
                opened.append(self._insert(tx, model, version_id, title, severity, None, None, source))
        return opened

    def update(self, finding_id: str, status: str, comment: str | None = None) -> Finding:
        """Move a finding to ``status`` (see :data:`TRANSITIONS`), with an optional comment."""
        if status not in STATUSES:
            raise InputError(f"unknown status {status!r}", hint=f"choose from {', '.join(STATUSES)}")
        current = self.get(finding_id, _check=False)
        require(self._ws, "finding.update", current.model)
        with self._store.write(self._actor) as tx:
            row = tx.conn.execute(sa.select(findings).where(findings.c.id == finding_id)).one()
            allowed = TRANSITIONS[row.status]
            if status not in allowed:
                raise InputError(
                    f"finding {finding_id} is {row.status}; it cannot become {status}",
                    hint=f"from {row.status}: {', '.join(allowed) or 'no further status'}",
                )
            payload = {"id": finding_id, "model": row.model, "from": row.status, "to": status}
            event = tx.record("finding.updated", f"finding:{finding_id}", payload | {"comment": comment})
            now = utc_now()
            tx.conn.execute(
                sa.update(findings).where(findings.c.id == finding_id).values(status=status, updated=now)
            )
            self._event(tx, finding_id, "status", comment, status, now, event.seq)
        return self.get(finding_id, _check=False)

    def comment(self, finding_id: str, text: str) -> Finding:
        """Add a comment to a finding (ledgered)."""
        if not text or not text.strip():
            raise InputError("the comment is empty")
        current = self.get(finding_id, _check=False)
        require(self._ws, "finding.comment", current.model)
        with self._store.write(self._actor) as tx:
            event = tx.record(
                "finding.commented",
                f"finding:{finding_id}",
                {"id": finding_id, "model": current.model, "text": text.strip()},
            )
            now = utc_now()
            tx.conn.execute(sa.update(findings).where(findings.c.id == finding_id).values(updated=now))
            self._event(tx, finding_id, "comment", text.strip(), None, now, event.seq)
        return self.get(finding_id, _check=False)

    def get(self, finding_id: str, *, _check: bool = True) -> Finding:
        """One finding with its history (raised, status changes, comments)."""
        with self._store.read() as conn:
            row = conn.execute(sa.select(findings).where(findings.c.id == finding_id)).one_or_none()
            if row is None:
                raise NotFound(f"no finding {finding_id!r}", hint="see `mlaudit finding list`")
            events = conn.execute(
                sa.select(finding_events)
                .where(finding_events.c.finding_id == finding_id)
                .order_by(finding_events.c.seq)
            ).all()
        if _check:
            require(self._ws, "inventory.read", row.model)
        return _finding(row, events)

    def list(self, model: str | None = None, status: str | None = None) -> list[Finding]:
        """Findings, oldest first, optionally of one model and/or in one status (only models the
        actor may read)."""
        if model is not None:
            require(self._ws, "inventory.read", model)
        if status is not None and status not in STATUSES:
            raise InputError(f"unknown status {status!r}", hint=f"choose from {', '.join(STATUSES)}")
        query = sa.select(findings).order_by(findings.c.seq)
        if model is not None:
            query = query.where(findings.c.model == model)
        if status is not None:
            query = query.where(findings.c.status == status)
        with self._store.read() as conn:
            found = [_finding(r, ()) for r in conn.execute(query)]
        if model is None and found:
            allowed = readable(self._ws, {f.model for f in found})
            found = [f for f in found if allowed is None or f.model in allowed]
        return found

    def _insert(
        self,
        tx: Any,
        model: str,
        version_id: str | None,
        title: str,
        severity: str,
        owner: str | None,
        due: str | None,
        source: str | None,
    ) -> Finding:
        fid = uuid.uuid4().hex
        row: dict[str, Any] = {
            "id": fid,
            "model": model,
            "version_id": version_id,
            "title": title,
            "severity": severity,
            "status": "open",
            "owner": owner,
            "due": due,
            "source": source,
        }
        event = tx.record("finding.raised", f"finding:{fid}", row)
        now = utc_now()
        full = row | {"updated": now, "created": now, "actor": self._actor, "seq": event.seq}
        tx.conn.execute(sa.insert(findings).values(**full))
        ev = self._event(tx, fid, "raised", title, "open", now, event.seq)
        return _finding(full, [ev])

    def _event(
        self, tx: Any, fid: str, kind: str, text: str | None, status: str | None, now: str, seq: int
    ) -> dict[str, Any]:
        row = {
            "id": uuid.uuid4().hex,
            "finding_id": fid,
            "kind": kind,
            "text": text,
            "status": status,
            "created": now,
            "actor": self._actor,
            "seq": seq,
        }
        tx.conn.execute(sa.insert(finding_events).values(**row))
        return row


def _date(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    from datetime import date

    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InputError(f"not a date: {value!r}", hint="use YYYY-MM-DD") from None


def _get(row: Any, key: str) -> Any:
    return row[key] if isinstance(row, dict) else getattr(row, key)


def _finding(row: Any, events: Any) -> Finding:
    keys = ("id", "model", "version_id", "title", "severity", "status", "owner", "due", "source", "updated")
    values = {k: _get(row, k) for k in keys}
    evs = tuple(
        FindingEvent(
            _get(e, "kind"),
            _get(e, "text"),
            _get(e, "status"),
            _get(e, "created"),
            _get(e, "actor"),
            int(_get(e, "seq")),
        )
        for e in events
    )
    return Finding(
        **values,
        created=_get(row, "created"),
        actor=_get(row, "actor"),
        seq=int(_get(row, "seq")),
        events=evs,
    )
