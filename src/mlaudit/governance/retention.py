"""``ws.retention``: legal holds, erasing a dataset version's raw data, and retention periods.

A legal hold names what it keeps (ledgered ``hold.placed`` / ``hold.released``)::

    dataset:NAME        every version of dataset NAME
    dataset:NAME@vN     one version
    model:NAME          the dataset versions any version of model NAME was trained on (the
                        ``trained_on`` nodes recorded at registration) and its prediction log
    model:NAME@vN       the same for one model version

Erasing ``NAME@vN`` (right to erasure) removes its kept Parquet snapshot and its stored profile
(sketches and top values may hold personal data) from the artifact store; the fingerprint,
schema and row count stay. One transaction writes the ``erasures`` row and ``dataset.erased``
(digests and reason, never data), marks the artifacts erased (``artifact.erased``) and deletes
the bytes last, so a failed delete commits nothing. Bytes shared with another version (the same
content logged under another name) are erased for it too, with its own erasure row, and a hold
on either blocks. The ledger still verifies: it never held the bytes.

Retention periods per record type come from a YAML file (built in:
``governance/policies/retention.yaml``, which documents them); :meth:`Retention.plan` lists
the records past their period and the holds that block them, :meth:`Retention.apply` erases.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from pydantic import model_validator

from mlaudit.artifacts import erase_artifacts
from mlaudit.errors import InputError, NotFound
from mlaudit.governance.identity import require
from mlaudit.governance.tiering import _read, _Strict
from mlaudit.store import Store, Tx
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import (
    artifacts,
    dataset_versions,
    datasets,
    erasures,
    legal_holds,
    model_versions,
    models,
    prediction_batches,
    results,
)

__all__ = [
    "RECORD_TYPES",
    "Applied",
    "Erasure",
    "Hold",
    "Period",
    "PlanItem",
    "Retention",
    "RetentionPlan",
    "RetentionPolicy",
    "load_policy",
]

RECORD_TYPES = ("dataset_data", "dataset_profile", "prediction_log", "audit_results", "ledger")
_SUBJECT = re.compile(r"^(?P<kind>dataset|model):(?P<name>[^@\s]+)(?:@(?P<version>v?\d+|[0-9a-f]{32}))?$")


class Period(_Strict):
    days: int | Literal["forever"]
    action: Literal["erase", "flag"] = "erase"

    @model_validator(mode="after")
    def _positive(self) -> Period:
        if self.days != "forever" and int(self.days) <= 0:
            raise ValueError("days must be a positive number of days or 'forever'")
        return self

    def ends(self, created: str) -> datetime | None:
        """When a record made at ``created`` reaches the end of this period (None: never)."""
        return None if self.days == "forever" else _ts(created) + timedelta(days=int(self.days))


class Periods(_Strict):
    dataset_data: Period
    dataset_profile: Period
    prediction_log: Period
    audit_results: Period
    ledger: Period

    @model_validator(mode="after")
    def _evidence(self) -> Periods:
        if self.ledger.days != "forever":
            raise ValueError("ledger: the ledger is kept forever (it holds no raw data; erasing breaks it)")
        if self.audit_results.action != "flag":
            raise ValueError("audit_results: stored results are evidence; their action can only be 'flag'")
        return self


class RetentionPolicy(_Strict):
    """A parsed retention policy; ``source`` is ``builtin:retention`` or a path."""

    name: str
    description: str = ""
    periods: Periods
    source: str = ""


def load_policy(path: str | Path | None = None) -> RetentionPolicy:
    """The built-in retention policy, or the one in the YAML file ``path``."""
    policy: RetentionPolicy = _read(path, "retention", RetentionPolicy, "retention policy")
    return policy


@dataclass(frozen=True)
class Hold:
    id: str
    subject: str
    reason: str
    released: str | None
    released_by: str | None
    created: str
    actor: str
    seq: int

    @property
    def active(self) -> bool:
        return self.released is None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"active": self.active}


@dataclass(frozen=True)
class Erasure:
    id: str
    dataset: str
    version: int
    digests: tuple[str, ...]
    reason: str
    created: str
    actor: str
    seq: int
    already: bool = False  # erase() found everything already erased; this is the last erasure

    @property
    def ref(self) -> str:
        return f"{self.dataset}@v{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"digests": list(self.digests), "ref": self.ref}


@dataclass(frozen=True)
class PlanItem:
    """One record past its retention period."""

    record: str  # a RECORD_TYPES name
    subject: str  # NAME@vN, prediction_batch:ID or result:ID
    created: str
    ended: str  # when its period ended
    action: str  # erase | flag
    digests: tuple[str, ...]
    held_by: tuple[str, ...]  # ids of the active holds that block the erasure

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"digests": list(self.digests), "held_by": list(self.held_by)}


@dataclass(frozen=True)
class RetentionPlan:
    policy: str
    source: str
    now: str
    items: tuple[PlanItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "items": [i.to_dict() for i in self.items]}


@dataclass(frozen=True)
class Applied:
    """What :meth:`Retention.apply` did."""

    plan: RetentionPlan
    erased: tuple[Erasure, ...]
    batches: tuple[str, ...]  # prediction batches whose bytes were erased
    blocked: tuple[tuple[str, str], ...]  # (subject, why) left alone
    flagged: tuple[PlanItem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_dict(),
            "erased": [e.to_dict() for e in self.erased],
            "batches": list(self.batches),
            "blocked": [{"subject": s, "why": w} for s, w in self.blocked],
            "flagged": [f.to_dict() for f in self.flagged],
        }


class Retention:
    """Legal holds, erasures and retention periods of one workspace."""

    def __init__(self, store: Store, actor: str, workspace: Any) -> None:
        self._store = store
        self._actor = actor
        self._ws = workspace

    # --- legal holds ------------------------------------------------------------------------

    def hold(self, subject: str, reason: str) -> Hold:
        """Place a legal hold on ``subject`` (see the module doc); nothing it covers is erased."""
        require(self._store, self._actor, "retention.manage")
        why = _reason(reason)
        with self._store.write(self._actor) as tx:
            subject = _normalise(tx.conn, subject)
            hid, now = uuid.uuid4().hex, utc_now()
            event = tx.record("hold.placed", subject, {"id": hid, "subject": subject, "reason": why})
            row = {"id": hid, "subject": subject, "reason": why, "created": now, "actor": self._actor}
            tx.conn.execute(sa.insert(legal_holds).values(**row, seq=event.seq))
        return Hold(hid, subject, why, None, None, now, self._actor, event.seq)

    def release(self, hold_id: str, reason: str) -> Hold:
        """Release an active hold (ledgered with the reason)."""
        require(self._store, self._actor, "retention.manage")
        why = _reason(reason)
        with self._store.write(self._actor) as tx:
            row = tx.conn.execute(sa.select(legal_holds).where(legal_holds.c.id == hold_id)).one_or_none()
            if row is None:
                raise NotFound(f"no legal hold {hold_id!r}", hint="see `mlaudit hold list --all`")
            if row.released is not None:
                raise InputError(
                    f"hold {hold_id} was already released on {row.released} by {row.released_by}"
                )
            tx.record("hold.released", row.subject, {"id": hold_id, "subject": row.subject, "reason": why})
            now = utc_now()
            tx.conn.execute(
                sa.update(legal_holds)
                .where(legal_holds.c.id == hold_id)
                .values(released=now, released_by=self._actor)
            )
        return Hold(**(row._asdict() | {"released": now, "released_by": self._actor}))

    def holds(self, active_only: bool = True) -> list[Hold]:
        """Legal holds, oldest first (only the active ones unless ``active_only=False``)."""
        require(self._store, self._actor, "dataset.read")
        query = sa.select(legal_holds).order_by(legal_holds.c.seq)
        if active_only:
            query = query.where(legal_holds.c.released.is_(None))
        with self._store.read() as conn:
            return [Hold(**r._asdict()) for r in conn.execute(query).all()]

    def held(self, ref: str) -> list[Hold]:
        """The active holds that cover dataset version ``ref`` (``NAME@vN``)."""
        version = self._ws.datasets.get(ref.removeprefix("dataset:"))
        with self._store.read() as conn:
            return [h for h, ids, _ in _coverage(conn) if version.id in ids]

    # --- erasure ----------------------------------------------------------------------------

    def erase(self, ref: str, reason: str) -> Erasure:
        """Erase the raw data (kept snapshot and stored profile) of dataset version ``ref``.

        Refused (InputError) under an active legal hold, naming it. When everything is erased
        already, returns the last erasure with ``already=True`` and records nothing.
        """
        require(self._store, self._actor, "dataset.erase")
        why = _reason(reason)
        if "@" not in ref:
            raise InputError(f"name the version to erase: {ref}@vN", hint="see `mlaudit data versions NAME`")
        v = self._ws.datasets.get(ref)
        wanted = [d for d in (v.data, v.profile) if d is not None]
        with self._store.write(self._actor) as tx:
            erasure = _erase(tx, self._store, v.id, wanted, why)
        if erasure is not None:
            return erasure
        last = self.erasure(v.ref)
        if last is None:
            raise InputError(f"nothing to erase: {v.ref} kept no data snapshot and no profile")
        return Erasure(**(last.__dict__ | {"already": True}))

    def erasure(self, ref: str) -> Erasure | None:
        """The last erasure of dataset version ``ref``, or None."""
        v = self._ws.datasets.get(ref)
        with self._store.read() as conn:
            row = conn.execute(
                sa.select(erasures)
                .where(erasures.c.dataset == v.dataset, erasures.c.version == v.number)
                .order_by(erasures.c.seq.desc())
                .limit(1)
            ).one_or_none()
        return None if row is None else _erasure(row)

    # --- retention periods ------------------------------------------------------------------

    def plan(
        self, now: datetime | str | None = None, policy: RetentionPolicy | str | Path | None = None
    ) -> RetentionPlan:
        """The records past their retention period at ``now`` and the holds that block them."""
        require(self._store, self._actor, "dataset.read")
        pol = policy if isinstance(policy, RetentionPolicy) else load_policy(policy)
        at = _ts(now) if isinstance(now, str) else (now or datetime.now(UTC))
        periods = pol.periods
        items: list[PlanItem] = []

        def due(
            kind: str, subject: str, created: str, digests: tuple[str, ...], held: tuple[str, ...]
        ) -> None:
            period: Period = getattr(periods, kind)
            end = period.ends(created)
            if end is not None and end <= at and not set(digests) & gone:
                stamp = end.strftime("%Y-%m-%dT%H:%M:%SZ")
                items.append(PlanItem(kind, subject, created, stamp, period.action, digests, held))

        with self._store.read() as conn:
            coverage = _coverage(conn)
            erased = sa.select(artifacts.c.digest).where(artifacts.c.erased.is_not(None))
            gone = set(conn.execute(erased).scalars())
            dv = dataset_versions.c
            for r in conn.execute(sa.select(dataset_versions).order_by(dv.dataset, dv.number)).all():
                held = tuple(h.id for h, ids, _ in coverage if r.id in ids)
                for kind, digest in (("dataset_data", r.data), ("dataset_profile", r.profile)):
                    if digest:
                        due(kind, f"{r.dataset}@v{r.number}", r.created, (digest,), held)
            for b in conn.execute(sa.select(prediction_batches).order_by(prediction_batches.c.seq)).all():
                held = tuple(h.id for h, _, ms in coverage if {(b.model, None), (b.model, b.version_id)} & ms)
                due("prediction_log", f"prediction_batch:{b.id}", b.created, (b.artifact,), held)
            for res in conn.execute(sa.select(results.c.id, results.c.created).order_by(results.c.seq)):
                due("audit_results", f"result:{res.id}", res.created, (), ())
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return RetentionPlan(pol.name, pol.source, stamp, tuple(items))

    def apply(
        self, now: datetime | str | None = None, policy: RetentionPolicy | str | Path | None = None
    ) -> Applied:
        """Erase what :meth:`plan` lists for erasure and no hold blocks, one transaction per record."""
        require(self._store, self._actor, "retention.manage")
        plan = self.plan(now, policy)
        blocked: list[tuple[str, str]] = []
        per_version: dict[str, list[PlanItem]] = {}
        for item in plan.items:
            if item.action != "erase":
                continue
            if item.held_by:
                blocked.append((item.subject, f"{item.record}: under legal hold {', '.join(item.held_by)}"))
            else:
                per_version.setdefault(item.subject, []).append(item)
        erased: list[Erasure] = []
        batches: list[str] = []
        for subject, items in per_version.items():
            why = "retention: " + "; ".join(
                f"{i.record} period ({plan.policy}) ended {i.ended[:10]}" for i in items
            )
            digests = [d for i in items for d in i.digests]
            with self._store.write(self._actor) as tx:
                if subject.startswith("prediction_batch:"):
                    bid = subject.removeprefix("prediction_batch:")
                    erase_artifacts(tx, self._store, digests, reason=why, when=utc_now())
                    tx.record(
                        "prediction_batch.erased", subject, {"id": bid, "digests": digests, "reason": why}
                    )
                    batches.append(bid)
                    continue
                name, number = subject.rsplit("@v", 1)
                vid = tx.conn.execute(
                    sa.select(dataset_versions.c.id).where(
                        dataset_versions.c.dataset == name, dataset_versions.c.number == int(number)
                    )
                ).scalar_one()
                try:
                    done = _erase(tx, self._store, vid, digests, why)
                except InputError as exc:  # bytes shared with a version under hold
                    blocked.append((subject, str(exc)))
                    continue
            if done is not None:
                erased.append(done)
        flagged = tuple(i for i in plan.items if i.action == "flag")
        return Applied(plan, tuple(erased), tuple(batches), tuple(blocked), flagged)


def _erase(tx: Tx, store: Store, version_id: str, wanted: list[str], reason: str) -> Erasure | None:
    """Erase the ``wanted`` digests of one version inside ``tx`` (None: all erased already)."""
    conn = tx.conn
    gone = set(
        conn.execute(
            sa.select(artifacts.c.digest).where(
                artifacts.c.digest.in_(wanted), artifacts.c.erased.is_not(None)
            )
        ).scalars()
    )
    remaining = [d for d in wanted if d not in gone]
    if not remaining:
        return None
    dv = dataset_versions.c
    affected = conn.execute(
        sa.select(dataset_versions)
        .where(sa.or_(dv.data.in_(remaining), dv.profile.in_(remaining), dv.id == version_id))
        .order_by(dv.id != version_id, dv.dataset, dv.number)
    ).all()
    own = affected[0]
    ids = {r.id for r in affected}
    for h, covered, _ in _coverage(conn):
        if covered & ids:
            raise InputError(
                f"{own.dataset}@v{own.number} is under legal hold {h.id} ({h.subject}, placed {h.created} "
                f"by {h.actor}): {h.reason}",
                hint=f"release it first: `mlaudit hold release {h.id} --reason ...`",
            )
    when = utc_now()
    made: list[Erasure] = []
    for r in affected:
        mine = [d for d in remaining if d in (r.data, r.profile)]
        if not mine:
            continue
        why = reason if r.id == own.id else f"same bytes as {own.dataset}@v{own.number}: {reason}"
        eid = uuid.uuid4().hex
        payload = {"id": eid, "dataset": r.dataset, "version": r.number, "version_id": r.id}
        event = tx.record(
            "dataset.erased", f"dataset:{r.dataset}@{r.id}", payload | {"digests": mine, "reason": why}
        )
        row = {"id": eid, "dataset": r.dataset, "version": r.number, "reason": why, "created": when}
        conn.execute(
            sa.insert(erasures).values(
                **row, digests=orjson.dumps(mine).decode(), actor=tx.actor, seq=event.seq
            )
        )
        made.append(Erasure(eid, r.dataset, r.number, tuple(mine), why, when, tx.actor, event.seq))
    erase_artifacts(
        tx, store, remaining, reason=f"dataset.erased {own.dataset}@v{own.number}: {reason}", when=when
    )
    return made[0]


def _coverage(conn: Any) -> list[tuple[Hold, set[str], set[tuple[str, str | None]]]]:
    """Each active hold with the dataset version ids it covers and the (model, version id or
    None for every version) whose prediction log it covers."""
    out: list[tuple[Hold, set[str], set[tuple[str, str | None]]]] = []
    rows = conn.execute(sa.select(legal_holds).where(legal_holds.c.released.is_(None))).all()
    for row in rows:
        hold = Hold(**row._asdict())
        m = _SUBJECT.match(hold.subject)
        if m is None:
            continue
        name, number = m.group("name"), m.group("version")
        if m.group("kind") == "dataset":
            q = sa.select(dataset_versions.c.id).where(dataset_versions.c.dataset == name)
            if number:
                q = q.where(dataset_versions.c.number == int(number.removeprefix("v")))
            out.append((hold, set(conn.execute(q).scalars()), set()))
            continue
        q = sa.select(model_versions.c.id, model_versions.c.trained_on).where(model_versions.c.model == name)
        if number:
            q = q.where(model_versions.c.number == int(number.removeprefix("v")))
        ids: set[str] = set()
        scope: set[tuple[str, str | None]] = set() if number else {(name, None)}
        for mv in conn.execute(q).all():
            scope.add((name, mv.id))
            for node in orjson.loads(mv.trained_on or "[]"):
                if isinstance(node, str) and node.startswith("dataset:") and "@" in node:
                    ids.add(node.rsplit("@", 1)[1])
        out.append((hold, ids, scope))
    return out


def _normalise(conn: Any, subject: str) -> str:
    """``dataset:NAME``, ``dataset:NAME@vN`` or ``model:NAME[@vN]``, checked to exist."""
    m = _SUBJECT.match(subject.strip())
    if m is None:
        raise InputError(
            f"not a hold subject: {subject!r}", hint="use dataset:NAME, dataset:NAME@vN or model:NAME"
        )
    kind, name, version = m.group("kind"), m.group("name"), m.group("version")
    if kind == "dataset":
        table, parent, col = dataset_versions, datasets.c.name, dataset_versions.c.dataset
    else:
        table, parent, col = model_versions, models.c.name, model_versions.c.model
    if version is None:
        if conn.execute(sa.select(parent).where(parent == name)).first() is None:
            raise NotFound(f"no {kind} {name!r} in this workspace")
        return f"{kind}:{name}"
    q = sa.select(table.c.number).where(col == name)
    digits = version.removeprefix("v")
    q = q.where(table.c.number == int(digits)) if digits.isdigit() else q.where(table.c.id == version)
    number = conn.execute(q).scalar()
    if number is None:
        raise NotFound(f"no {kind} version {name}@{version} in this workspace")
    return f"{kind}:{name}@v{number}"


def _erasure(row: Any) -> Erasure:
    r = row._asdict()
    return Erasure(**(r | {"version": int(r["version"]), "digests": tuple(orjson.loads(r["digests"]))}))


def _reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise InputError("give a reason (it is recorded in the ledger)")
    return reason.strip()


def _ts(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
