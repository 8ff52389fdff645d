"""``ws.alerts``: alerts raised by monitors, and the delivery of their notices.

A monitor calls :meth:`Alerts.update` after each window with each rule's condition. At most
one alert per (monitor, rule) is firing: the first firing condition opens one (ledger event
``alert.fired``) and queues one ``firing`` notice per channel; further firing conditions change
nothing; the first clear condition resolves it (``alert.resolved``) and queues a ``resolved``
notice. The notices are rows of ``notifications`` written in the alert's transaction; the
unique (alert, kind, channel, target) makes "queued once" hold under concurrent runners.

:meth:`Alerts.deliver` sends the due pending notices. Each is claimed first (an UPDATE guarded
by the attempt count it read) so two deliverers never both send it; a failure is retried with
exponential back-off and jitter until ``max_attempts``, a refusal (SSRF check, 4xx, redirect)
fails at once. A sent notice is never sent again. Delivery is at-least-once towards the
receiver when a connection drops after the body went out: webhooks carry
``Idempotency-Key: <notification id>`` for receivers to dedupe on.
"""

from __future__ import annotations

import builtins
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlaudit.errors import InputError, NotFound
from mlaudit.governance.findings import readable, require
from mlaudit.monitor import notify as _notify
from mlaudit.store import Store
from mlaudit.store.tables import alerts, monitors, notifications

__all__ = ["Alert", "Alerts", "DeliveryReport", "Notification", "backoff"]

State = Literal["firing", "resolved"]
_TS = "%Y-%m-%dT%H:%M:%S.%fZ"
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 3600.0


def _ts(when: datetime | str | None) -> str:
    if when is None:
        return datetime.now(UTC).strftime(_TS)
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime(_TS)


def _parse(ts: str) -> datetime:
    return datetime.strptime(ts, _TS).replace(tzinfo=UTC)


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, …): 30 s doubling up to an
    hour, times a jitter factor in [0.5, 1) so that retries of many notices spread out."""
    base = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempt - 1))
    return float(base * (0.5 + 0.5 * (rng or random).random()))


@dataclass(frozen=True)
class Alert:
    id: str
    monitor: str
    rule: str
    state: State
    opened: str
    resolved: str | None
    window_id: str | None
    value: float | None
    message: str
    created: str
    actor: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Notification:
    id: str
    alert_id: str
    kind: State
    channel: str
    target: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    last_error: str | None
    next_attempt: str | None
    updated: str
    created: str

    def to_dict(self) -> dict[str, Any]:
        """As JSON, with the target's secrets (URL paths) left out."""
        return dict(self.__dict__) | {"target": _notify.redact_target(self.channel, self.target)}


@dataclass
class DeliveryReport:
    """What one :meth:`Alerts.deliver` pass did: ids sent, failed for good, to be retried."""

    sent: list[str] = field(default_factory=builtins.list)
    failed: list[str] = field(default_factory=builtins.list)
    retrying: list[str] = field(default_factory=builtins.list)
    errors: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "alert_delivery", "schema_version": 1, "sent": self.sent, "failed": self.failed,
            "retrying": self.retrying, "errors": self.errors,
        }  # fmt: skip


def _alert(row: Any) -> Alert:
    m = row._mapping
    return Alert(
        m["id"], m["monitor"], m["rule"], m["state"], m["opened"], m["resolved"], m["window_id"],
        m["value"], m["message"], m["created"], m["actor"], m["seq"],
    )  # fmt: skip


def _notification(row: Any) -> Notification:
    m = row._mapping
    return Notification(**{c.name: m[c.name] for c in notifications.c})


def _lock(conn: Connection, monitor: str, rule: str) -> None:
    """Serialise updates of one (monitor, rule) on PostgreSQL (SQLite writers are serial)."""
    if conn.dialect.name == "postgresql":
        key = {"k": f"{monitor}\n{rule}"}
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(727274007, hashtext(:k))"), key)


class Alerts:
    """Alerts of one workspace and their notifications (``ws.alerts``)."""

    def __init__(self, store: Store, actor: str, workspace: Any = None) -> None:
        self._store = store
        self._actor = actor
        self._ws = workspace

    # --- raising and resolving ----------------------------------------------------------------

    def update(
        self,
        *,
        monitor: str,
        rule: str,
        firing: bool,
        value: float | None = None,
        message: str = "",
        window_id: str | None = None,
        notify: builtins.list[str] | tuple[str, ...] = (),
    ) -> Alert | None:
        """Report rule ``rule`` of ``monitor`` as ``firing`` or clear after a window.

        Returns the alert opened or resolved, the one already firing (unchanged) or None (clear
        and nothing was firing). ``notify`` lists channel specs (``webhook:URL``, ``slack:URL``,
        ``email:ADDRESS``) that get a notice when an alert opens and when it resolves.
        """
        if not monitor or not rule:
            raise InputError("an alert needs a monitor and a rule name")
        channels = list(dict.fromkeys(_notify.parse_channel(spec) for spec in notify))
        value = None if value is None else float(value)
        with self._store.write(self._actor) as tx:
            conn = tx.conn
            _lock(conn, monitor, rule)
            row = conn.execute(
                sa.select(alerts).where(
                    alerts.c.monitor == monitor, alerts.c.rule == rule, alerts.c.state == "firing"
                ).order_by(alerts.c.seq.desc()).limit(1)
            ).first()  # fmt: skip
            if firing and row is not None:
                return _alert(row)
            if not firing and row is None:
                return None
            subject = f"monitor:{monitor}"
            if firing:
                aid = uuid.uuid4().hex
                event = tx.record(
                    "alert.fired", subject,
                    {"id": aid, "monitor": monitor, "rule": rule, "value": value, "message": message,
                     "window_id": window_id, "channels": sorted({c for c, _ in channels})},
                )  # fmt: skip
                conn.execute(
                    sa.insert(alerts).values(
                        id=aid, monitor=monitor, rule=rule, state="firing", opened=event.ts, resolved=None,
                        window_id=window_id, value=value, message=message, created=event.ts,
                        actor=self._actor, seq=event.seq,
                    )
                )  # fmt: skip
                kind: State = "firing"
            else:
                assert row is not None
                aid = row._mapping["id"]
                event = tx.record(
                    "alert.resolved", subject,
                    {"id": aid, "monitor": monitor, "rule": rule, "value": value, "message": message,
                     "window_id": window_id},
                )  # fmt: skip
                conn.execute(
                    sa.update(alerts).where(alerts.c.id == aid).values(state="resolved", resolved=event.ts)
                )
                kind = "resolved"
            self._queue(conn, aid, kind, channels, event.ts)
            result = conn.execute(sa.select(alerts).where(alerts.c.id == aid)).one()
        return _alert(result)

    def _queue(self, conn: Connection, aid: str, kind: State, channels: Any, now: str) -> None:
        for channel, target in channels:
            exists = conn.execute(
                sa.select(notifications.c.id).where(
                    notifications.c.alert_id == aid, notifications.c.kind == kind,
                    notifications.c.channel == channel, notifications.c.target == target,
                )
            ).first()  # fmt: skip
            if exists is None:
                conn.execute(
                    sa.insert(notifications).values(
                        id=uuid.uuid4().hex, alert_id=aid, kind=kind, channel=channel, target=target,
                        status="pending", attempts=0, last_error=None, next_attempt=None, updated=now,
                        created=now,
                    )
                )  # fmt: skip

    # --- reading ------------------------------------------------------------------------------

    def _model_of(self, conn: Connection, monitor: str) -> str | None:
        return conn.execute(sa.select(monitors.c.model).where(monitors.c.name == monitor)).scalar()

    def get(self, alert_id: str) -> Alert:
        """One alert by id (a unique prefix of at least 6 characters also works)."""
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(alerts).where(alerts.c.id.startswith(alert_id, autoescape=True)).limit(2)
            ).all() if len(alert_id) >= 6 else []  # fmt: skip
            if len(rows) != 1:
                raise NotFound(f"no alert {alert_id!r}" + (" (ambiguous prefix)" if rows else ""),
                               hint="list them with `mlaudit alert list`")  # fmt: skip
            alert = _alert(rows[0])
            require(self._ws, "inventory.read", self._model_of(conn, alert.monitor))
        return alert

    def list(self, monitor: str | None = None, state: State | None = None) -> builtins.list[Alert]:
        """Alerts, newest first, of ``monitor`` (all by default) in ``state`` (both by default)."""
        if state is not None and state not in ("firing", "resolved"):
            raise InputError(f"unknown alert state {state!r}", hint="firing or resolved")
        query = sa.select(alerts, monitors.c.model).select_from(
            alerts.outerjoin(monitors, monitors.c.name == alerts.c.monitor)
        ).order_by(alerts.c.seq.desc())  # fmt: skip
        if monitor is not None:
            query = query.where(alerts.c.monitor == monitor)
        if state is not None:
            query = query.where(alerts.c.state == state)
        with self._store.read() as conn:
            rows = conn.execute(query).all()
        models = {r._mapping["model"] for r in rows if r._mapping["model"] is not None}
        if monitor is not None:
            require(self._ws, "inventory.read", next(iter(models), None))
            allowed = None
        else:
            allowed = readable(self._ws, models) if models else None
            if allowed is None and not models:
                require(self._ws, "inventory.read")
        return [_alert(r) for r in rows if allowed is None or r._mapping["model"] in allowed]

    def notifications(self, alert_id: str) -> builtins.list[Notification]:
        """The notices of one alert, oldest first."""
        alert = self.get(alert_id)
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(notifications).where(notifications.c.alert_id == alert.id)
                .order_by(notifications.c.created, notifications.c.kind, notifications.c.channel)
            ).all()  # fmt: skip
        return [_notification(r) for r in rows]

    # --- delivery -----------------------------------------------------------------------------

    def deliver(
        self,
        now: datetime | str | None = None,
        max_attempts: int = 8,
        *,
        limit: int = 500,
        config: _notify.DeliveryConfig | None = None,
    ) -> DeliveryReport:
        """Send the pending notices due at ``now`` (default: the clock) once each.

        A failed attempt is retried after :func:`backoff` until ``max_attempts`` attempts;
        refusals are not retried. ``config`` defaults to the settings (SMTP, webhook_*).
        """
        if max_attempts < 1:
            raise InputError("max_attempts must be at least 1")
        require(self._ws, "alert.manage")
        if config is None:
            from mlaudit.config import get_settings

            config = _notify.DeliveryConfig.from_settings(get_settings())
        stamp = _ts(now)
        report = DeliveryReport()
        with self._store.read() as conn:
            due = conn.execute(
                sa.select(notifications).where(
                    notifications.c.status == "pending",
                    sa.or_(notifications.c.next_attempt.is_(None), notifications.c.next_attempt <= stamp),
                ).order_by(notifications.c.created, notifications.c.id).limit(limit)
            ).all()  # fmt: skip
        for row in due:
            self._deliver_one(_notification(row), stamp, max_attempts, config, report)
        return report

    def _deliver_one(
        self,
        n: Notification,
        stamp: str,
        max_attempts: int,
        config: _notify.DeliveryConfig,
        report: DeliveryReport,
    ) -> None:
        attempt = n.attempts + 1
        retry_at = _parse(stamp) + timedelta(seconds=backoff(attempt))
        with self._store.write(self._actor) as tx:  # claim: only one deliverer wins this attempt
            claimed = tx.conn.execute(
                sa.update(notifications).where(
                    notifications.c.id == n.id, notifications.c.status == "pending",
                    notifications.c.attempts == n.attempts,
                ).values(attempts=attempt, next_attempt=_ts(retry_at), updated=stamp)
            ).rowcount  # fmt: skip
            alert = None
            if claimed == 1:
                row = tx.conn.execute(sa.select(alerts).where(alerts.c.id == n.alert_id)).first()
                alert = _alert(row) if row is not None else None
        if claimed != 1:
            return  # another deliverer holds it
        if alert is None:
            outcome = _notify.Outcome(False, False, "the alert no longer exists")
        else:
            outcome = _notify.send(n.channel, n.target, payload(n, alert, stamp), config)
        if outcome.ok:
            status, report_list = "sent", report.sent
        elif not outcome.retry or attempt >= max_attempts:
            status, report_list = "failed", report.failed
        else:
            status, report_list = "pending", report.retrying
        with self._store.write(self._actor) as tx:
            tx.conn.execute(
                sa.update(notifications)
                .where(notifications.c.id == n.id, notifications.c.attempts == attempt)
                .values(status=status, last_error=outcome.error, updated=stamp,
                        next_attempt=_ts(retry_at) if status == "pending" else None)
            )  # fmt: skip
        report_list.append(n.id)
        if outcome.error:
            report.errors[n.id] = outcome.error


def payload(n: Notification, alert: Alert, sent: str) -> dict[str, Any]:
    """The versioned notification document (see :mod:`mlaudit.monitor.notify`)."""
    return {
        "kind": _notify.PAYLOAD_KIND,
        "schema_version": _notify.PAYLOAD_SCHEMA_VERSION,
        "notification_id": n.id,
        "event": n.kind,
        "sent": sent,
        "alert": {
            "id": alert.id, "monitor": alert.monitor, "rule": alert.rule, "state": alert.state,
            "value": alert.value, "message": alert.message, "window_id": alert.window_id,
            "opened": alert.opened, "resolved": alert.resolved,
        },
    }  # fmt: skip
