"""``ws.monitors``: a model version watched over windows of its prediction log.

A monitor binds a model version (or, without ``@vN``, whichever version logged predictions of
the model) to a kept reference dataset version, a window (``{"kind": "time", "size": "1h"}`` or
``{"kind": "count", "size": 1000}``, tumbling or with a ``slide``) and alert rules. ``run``
computes every complete window not stored yet (see :mod:`mlaudit.monitor.windows`): rows,
labelled rows, drift against the reference, the model output's shift, realised performance on
labelled rows and the label-free estimate. Each window is one ``monitor_windows`` row, one stored
result (kind ``monitor_window``) and one profile artifact, written in one transaction with a
``monitor.window_computed`` event; the unique ``(monitor, start, end)`` decides between
concurrent runs. Rules are then evaluated and handed to ``ws.alerts``.

>>> ws.monitors.create("credit-hourly", "credit@v1", reference="holdout@v1",
...                    rules=["drift.share>0.3"])  # doctest: +SKIP
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mlaudit.errors import InputError, NotFound
from mlaudit.governance.identity import require
from mlaudit.monitor.windows import RuleOutcome, evaluate_rules, iso, parse_size
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import monitor_windows, monitors

if TYPE_CHECKING:
    from mlaudit.monitor.windows import Baseline

__all__ = ["Monitor", "MonitorRun", "MonitorSpec", "MonitorWindow", "Monitors", "parse_rule"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")
_RULE = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(<=|>=|<|>)\s*(-?[0-9.eE+-]+)\s*(?:x(\d+))?\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WindowSpec(_Strict):
    kind: Literal["time", "count"]
    size: str | int
    slide: str | int | None = None

    @model_validator(mode="after")
    def _sizes(self) -> WindowSpec:
        if self.kind == "time":
            size = parse_size(self.size)
            if self.slide is not None and parse_size(self.slide) > size:
                raise ValueError("the slide is longer than the window")
        else:
            for value in (self.size, self.slide):
                if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                    raise ValueError(f"a count window size or slide is a positive integer, not {value!r}")
            if self.slide is not None and int(self.slide) > int(self.size):
                raise ValueError("the slide is longer than the window")
        return self


class RuleSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    metric: str = Field(min_length=1)
    op: Literal["<", ">", "<=", ">="]
    threshold: float
    consecutive: int = Field(1, ge=1)
    change: Literal["delta", "relative"] | None = None


class RetrainSpec(_Strict):
    drift_share: float
    estimated_drop: float
    metric: str = "roc_auc"


class MonitorSpec(_Strict):
    """A monitor's definition, stored as JSON in ``monitors.spec`` (strict: unknown keys refused)."""

    kind: Literal["mlaudit.monitor"] = "mlaudit.monitor"
    schema_version: Literal[1] = 1
    model: str
    version: str | None = None
    reference: str
    label: str | None = None
    window: WindowSpec
    rules: list[RuleSpec] = []
    notify: list[str] = []
    metrics: list[str] = []
    min_labels: int = Field(50, ge=1)
    retrain: RetrainSpec | None = None

    @model_validator(mode="after")
    def _unique_rules(self) -> MonitorSpec:
        names = [r.name for r in self.rules]
        if len(set(names)) < len(names):
            raise ValueError(f"rule names must be unique: {names}")
        return self


def parse_rule(text: str) -> dict[str, Any]:
    """``"drift.share>0.3"`` or ``"estimated.roc_auc<0.7 x2"`` (two windows in a row) → a rule."""
    m = _RULE.match(text)
    if not m:
        raise InputError(
            f"not a rule: {text!r}", hint='write METRIC OP NUMBER [xN], e.g. "drift.share>0.3 x2"'
        )
    metric, op, threshold, times = m.groups()
    try:
        value = float(threshold)
    except ValueError:
        raise InputError(f"not a number in rule {text!r}: {threshold!r}") from None
    return {
        "name": text.strip(),
        "metric": metric,
        "op": op,
        "threshold": value,
        "consecutive": int(times or 1),
    }


def validate_spec(data: dict[str, Any]) -> MonitorSpec:
    try:
        return MonitorSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if first["type"] == "extra_forbidden":
            raise InputError(f"invalid monitor spec: unknown key {where!r}") from None
        raise InputError(f"invalid monitor spec: {where}: {first['msg']}") from None


@dataclass(frozen=True)
class Monitor:
    name: str
    model: str
    version_id: str | None
    spec: MonitorSpec
    disabled: str | None
    updated: str
    created: str
    actor: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"spec": self.spec.model_dump()}


@dataclass(frozen=True)
class MonitorWindow:
    id: str
    monitor: str
    start: str
    end: str
    rows: int
    labelled: int
    status: str
    result_id: str | None
    profile: str | None
    metrics: dict[str, Any]
    created: str
    actor: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class MonitorRun:
    """What :meth:`Monitors.run` did: windows stored and updated, rule outcomes per stored window."""

    monitor: str
    stored: list[MonitorWindow] = field(default_factory=list)
    updated: list[MonitorWindow] = field(default_factory=list)
    outcomes: dict[str, list[RuleOutcome]] = field(default_factory=dict)
    retrain_requested: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "monitor": self.monitor,
            "stored": [w.to_dict() for w in self.stored],
            "updated": [w.to_dict() for w in self.updated],
            "outcomes": {k: [o.__dict__ for o in v] for k, v in self.outcomes.items()},
            "retrain_requested": self.retrain_requested,
        }


class Monitors:
    """The monitors of one workspace."""

    def __init__(self, store: Store, actor: str, workspace: Any) -> None:
        self._store = store
        self._actor = actor
        self._ws = workspace

    # --- definitions -----------------------------------------------------------------------------

    def create(
        self,
        name: str,
        model_ref: str,
        *,
        reference: str,
        window: dict[str, Any] | None = None,
        slide: str | int | None = None,
        rules: builtins.list[dict[str, Any] | str] | None = None,
        notify: builtins.list[str] | None = None,
        metrics: builtins.list[str] | None = None,
        retrain: dict[str, Any] | None = None,
        label: str | None = None,
        min_labels: int = 50,
    ) -> Monitor:
        """Define monitor ``name`` on ``model_ref`` (``"credit@v2"``, or ``"credit"``: any version)."""
        if not isinstance(name, str) or not _NAME.match(name):
            raise InputError(f"monitor name {name!r}: letters, digits, '.', '_', '-' (at most 200)")
        version = self._ws.models.get(model_ref)
        require(self._store, self._actor, "monitor.manage", project=version.model)
        ref = self._ws.datasets.get(reference)
        if ref.data is None:
            raise InputError(
                f"the reference {ref.ref} kept no data", hint="log it with `mlaudit data log --keep-data`"
            )
        win = dict(window or {"kind": "time", "size": "1h"})
        if slide is not None:
            win["slide"] = slide
        spec = validate_spec(
            {
                "model": version.model,
                "version": version.ref if "@" in model_ref else None,
                "reference": ref.ref,
                "label": label,
                "window": win,
                "rules": [parse_rule(r) if isinstance(r, str) else r for r in rules or []],
                "notify": list(notify or []),
                "metrics": list(metrics or []),
                "min_labels": min_labels,
                "retrain": retrain,
            }
        )
        version_id = version.id if spec.version else None
        now = utc_now()
        with self._store.write(self._actor) as tx:
            if tx.conn.execute(sa.select(monitors.c.name).where(monitors.c.name == name)).first():
                raise InputError(f"monitor {name!r} already exists", hint="pick another name")
            payload = {
                "name": name,
                "model": version.model,
                "version_id": version_id,
                "spec": spec.model_dump(),
            }
            event = tx.record("monitor.created", f"monitor:{name}", payload)
            row = {
                "name": name,
                "model": version.model,
                "version_id": version_id,
                "spec": spec.model_dump_json(),
                "disabled": None,
                "updated": now,
                "created": now,
                "actor": self._actor,
                "seq": event.seq,
            }
            tx.conn.execute(sa.insert(monitors).values(**row))
        return _monitor(row)

    def get(self, name: str) -> Monitor:
        with self._store.read() as conn:
            row = conn.execute(sa.select(monitors).where(monitors.c.name == name)).one_or_none()
        if row is None:
            raise NotFound(f"no monitor {name!r}", hint="see `mlaudit monitor list`")
        return _monitor(row._asdict())

    def list(self) -> list[Monitor]:
        with self._store.read() as conn:
            return [
                _monitor(r._asdict()) for r in conn.execute(sa.select(monitors).order_by(monitors.c.name))
            ]

    def disable(self, name: str) -> Monitor:
        mon = self.get(name)
        require(self._store, self._actor, "monitor.manage", project=mon.model)
        now = utc_now()
        with self._store.write(self._actor) as tx:
            tx.record("monitor.disabled", f"monitor:{name}", {"name": name})
            tx.conn.execute(
                sa.update(monitors).where(monitors.c.name == name).values(disabled=now, updated=now)
            )
        return self.get(name)

    def windows(self, name: str) -> builtins.list[MonitorWindow]:
        """The stored windows of monitor ``name``, oldest first."""
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(monitor_windows)
                .where(monitor_windows.c.monitor == name)
                .order_by(monitor_windows.c.start, monitor_windows.c.end)
            )
            return [_window(r._asdict()) for r in rows]

    # --- running ---------------------------------------------------------------------------------

    def run(self, name: str, *, until: datetime | None = None, refresh_labels: bool = False) -> MonitorRun:
        """Compute and store every complete window not stored yet (and, with ``refresh_labels``,
        recompute realised performance of stored windows whose labels arrived since)."""
        from mlaudit.monitor.running import pending, refresh, store_window

        mon = self.get(name)
        require(self._store, self._actor, "monitor.run", project=mon.model)
        if mon.disabled:
            raise InputError(f"monitor {name!r} was disabled on {mon.disabled}")
        out = MonitorRun(name)
        base: Baseline | None = None
        stored = self.windows(name)
        table, todo = pending(self, mon, stored, until or datetime.now(UTC))
        series = [w.metrics for w in stored]
        for window, rows in todo:
            base = base or self._baseline(mon)
            saved = store_window(self, mon, base, window, rows, series)
            if saved is None:  # another run stored it first
                continue
            series.append(saved.metrics)
            out.stored.append(saved)
            out.outcomes[saved.id] = self._alert(mon, saved, series)
            out.retrain_requested |= self._retrain(mon, saved)
        if refresh_labels:
            base = base or self._baseline(mon)
            out.updated = refresh(self, mon, base, table)
        return out

    def _baseline(self, mon: Monitor) -> Baseline:
        from mlaudit.monitor.running import baseline

        return baseline(self, mon)

    def _alert(
        self, mon: Monitor, window: MonitorWindow, series: builtins.list[dict[str, Any]]
    ) -> builtins.list[RuleOutcome]:
        outcomes = evaluate_rules(mon.spec, series)
        alerts = getattr(self._ws, "alerts", None)
        if alerts is not None:
            for o in outcomes:
                alerts.update(
                    monitor=mon.name,
                    rule=o.rule,
                    firing=o.firing,
                    value=o.value,
                    message=o.message,
                    window_id=window.id,
                    notify=mon.spec.notify,
                )
        return outcomes

    def _retrain(self, mon: Monitor, window: MonitorWindow) -> bool:
        from mlaudit.monitor.running import request_retrain

        return request_retrain(self, mon, window)

    # --- profiles --------------------------------------------------------------------------------

    def profile(self, name: str, start: datetime | str, end: datetime | str) -> Any:
        """The merged profile of the stored windows inside ``[start, end)`` (non-overlapping ones)."""
        from mlaudit.stats.profile import Profile

        lo, hi = (_text(v) for v in (start, end))
        merged: Profile | None = None
        last_end = ""
        for w in self.windows(name):
            if w.start < lo or w.end > hi or w.start < last_end or w.profile is None:
                continue
            part = Profile.from_bytes(self._store.artifacts.get(w.profile))
            merged = part if merged is None else merged.merge(part)
            last_end = w.end
        if merged is None:
            raise NotFound(f"monitor {name!r} has no stored window inside [{lo}, {hi})")
        return merged


def _text(value: datetime | str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return iso(value if value.tzinfo else value.replace(tzinfo=UTC))


def _monitor(row: dict[str, Any]) -> Monitor:
    return Monitor(**(row | {"spec": MonitorSpec.model_validate_json(row["spec"]), "seq": int(row["seq"])}))


def _window(row: dict[str, Any]) -> MonitorWindow:
    r = row | {"metrics": orjson.loads(row["metrics"]), "seq": int(row["seq"])}
    return MonitorWindow(**(r | {"rows": int(r["rows"]), "labelled": int(r["labelled"])}))
