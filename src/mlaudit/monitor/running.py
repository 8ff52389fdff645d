"""Running a monitor: the pending windows of a prediction log, storing one, refreshing labels.

Helpers of :meth:`mlaudit.monitor.monitors.Monitors.run`. A window is stored with its profile
artifact, its result document and its row in one transaction; a window already stored (by this
run or a concurrent one) is skipped inside that transaction, and on PostgreSQL the unique
``(monitor, start, end)`` turns a lost race into an ``IntegrityError`` that means "done".
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from mlaudit.artifacts import record_artifact
from mlaudit.audits import _digest
from mlaudit.monitor.windows import Baseline, Window, count_windows, evaluate, evaluate_rules, parse_size
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import ledger_events, monitor_windows, results

if TYPE_CHECKING:
    import pyarrow as pa

    from mlaudit.monitor.monitors import Monitor, Monitors, MonitorWindow

__all__ = ["baseline", "pending", "refresh", "request_retrain", "store_window"]

_PROFILE = "application/x-mlaudit-profile"
_JSON = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY


def pending(
    svc: Monitors, mon: Monitor, stored: list[MonitorWindow], until: datetime
) -> tuple[pa.Table, list[tuple[Window, pa.Table]]]:
    """The monitor's predictions before ``until`` and its complete windows not stored yet."""
    import numpy as np
    import pyarrow.compute as pc

    from mlaudit.monitor.windows import time_windows

    target = f"{mon.model}@{mon.version_id}" if mon.version_id else mon.model
    table = svc._ws.predictions.scan(target, end=until)
    if table.num_rows == 0:
        return table, []
    table = table.sort_by([("time", "ascending"), ("prediction_id", "ascending")])
    known = {(w.start, w.end) for w in stored}
    spec = mon.spec.window
    times = table.column("time").to_numpy().astype("datetime64[us]")
    if spec.kind == "time":
        size = parse_size(spec.size)
        slide = None if spec.slide is None else parse_size(spec.slide)
        first = pc.min(table.column("time")).as_py()
        windows = time_windows(size, slide, first, until)
    else:
        windows = count_windows(times, int(spec.size), None if spec.slide is None else int(spec.slide))
    out = []
    for w in windows:
        if w.key in known:
            continue
        if w.first_row is not None and w.last_row is not None:
            lo, hi = w.first_row, w.last_row
        else:
            lo = int(np.searchsorted(times, np.datetime64(w.start.replace(tzinfo=None), "us"), "left"))
            hi = int(np.searchsorted(times, np.datetime64(w.end.replace(tzinfo=None), "us"), "left"))
        if hi > lo:  # empty time windows are not stored: predictions may still arrive for them
            out.append((w, table.slice(lo, hi - lo)))
    return table, out


def store_window(
    svc: Monitors, mon: Monitor, base: Baseline, window: Window, rows: pa.Table, series: list[dict[str, Any]]
) -> MonitorWindow | None:
    """Evaluate ``rows`` and store the window (None when it was stored already)."""
    from mlaudit.monitor.monitors import _window

    metrics, document, prof = evaluate(base, rows)
    firing = [o.rule for o in evaluate_rules(mon.spec, [*series, metrics]) if o.firing]
    status = "alert" if firing else "ok"
    start, end = window.key
    document = {
        "kind": "monitor_window",
        "schema_version": 1,
        "monitor": mon.name,
        "model": mon.model,
        "version_id": mon.version_id,
        "reference": mon.spec.reference,
        "start": start,
        "end": end,
        "metrics": metrics,
        "firing": firing,
    } | document
    data = prof.to_bytes()
    store, actor = svc._store, svc._actor
    digest = store.artifacts.put(data)  # bytes first: a row never names missing bytes
    subject = f"monitor:{mon.name}"
    text = orjson.dumps(document, option=_JSON).decode()
    try:
        with store.write(actor) as tx:
            known = tx.conn.execute(
                sa.select(monitor_windows.c.id).where(
                    monitor_windows.c.monitor == mon.name,
                    monitor_windows.c.start == start,
                    monitor_windows.c.end == end,
                )
            ).first()
            if known is not None:
                return None
            record_artifact(tx, digest, len(data), _PROFILE, f"monitor {mon.name} {start}")
            rid, wid, now = uuid.uuid4().hex, uuid.uuid4().hex, utc_now()
            _result(tx, rid, subject, status, text, now, actor)
            summary = {k: metrics.get(k) for k in ("rows", "labelled", "drift.share")}
            payload = {
                "window_id": wid,
                "monitor": mon.name,
                "start": start,
                "end": end,
                "status": status,
                "result_id": rid,
                "profile": digest,
                "document": _digest(text),
                "summary": summary,
            }
            event = tx.record("monitor.window_computed", subject, payload)
            row = {
                "id": wid,
                "monitor": mon.name,
                "start": start,
                "end": end,
                "rows": int(metrics["rows"]),
                "labelled": int(metrics["labelled"]),
                "status": status,
                "result_id": rid,
                "profile": digest,
                "metrics": orjson.dumps(metrics, option=_JSON).decode(),
                "created": now,
                "actor": actor,
                "seq": event.seq,
            }
            tx.conn.execute(sa.insert(monitor_windows).values(**row))
    except sa.exc.IntegrityError:  # PostgreSQL: a concurrent run committed the same window first
        return None
    return _window(row)


def refresh(svc: Monitors, mon: Monitor, base: Baseline, table: pa.Table) -> list[MonitorWindow]:
    """Recompute realised performance of stored windows that have more labels now."""
    import numpy as np
    import pyarrow.compute as pc

    from mlaudit.monitor.monitors import _window
    from mlaudit.monitor.windows import realised

    store, actor = svc._store, svc._actor
    out = []
    times = table.column("time").to_numpy().astype("datetime64[us]") if table.num_rows else None
    for w in svc.windows(mon.name):
        if times is None:
            break
        lo = int(np.searchsorted(times, np.datetime64(w.start.rstrip("Z"), "us"), "left"))
        hi = int(np.searchsorted(times, np.datetime64(w.end.rstrip("Z"), "us"), "left"))
        if mon.spec.window.kind == "count":
            hi = min(hi, lo + int(mon.spec.window.size))
        rows = table.slice(lo, hi - lo)
        labelled = int(pc.sum(pc.is_valid(rows.column("label"))).as_py() or 0)
        if labelled <= w.labelled:
            continue
        perf, perf_doc = realised(base, rows)
        metrics = {k: v for k, v in w.metrics.items() if not k.startswith("performance.")}
        metrics |= perf | {"labelled": labelled}
        old = svc._ws.audits.get(w.result_id).document if w.result_id else {}
        document = old | {"performance": perf_doc, "metrics": metrics, "replaces": w.result_id}
        text = orjson.dumps(document, option=_JSON).decode()
        subject = f"monitor:{mon.name}"
        with store.write(actor) as tx:
            rid, now = uuid.uuid4().hex, utc_now()
            _result(tx, rid, subject, w.status, text, now, actor)
            payload = {
                "window_id": w.id,
                "monitor": mon.name,
                "start": w.start,
                "end": w.end,
                "result_id": rid,
                "replaces": w.result_id,
                "labelled": labelled,
                "document": _digest(text),
            }
            tx.record("monitor.window_updated", subject, payload)
            values = {
                "labelled": labelled,
                "result_id": rid,
                "metrics": orjson.dumps(metrics, option=_JSON).decode(),
            }
            tx.conn.execute(sa.update(monitor_windows).where(monitor_windows.c.id == w.id).values(**values))
        out.append(_window(w.to_dict() | values))
    return out


def _result(tx: Any, rid: str, subject: str, status: str, text: str, now: str, actor: str) -> None:
    event = tx.record(
        "result.recorded",
        subject,
        {"id": rid, "kind": "monitor_window", "status": status, "document": _digest(text), "inputs": {}},
    )
    tx.conn.execute(
        sa.insert(results).values(
            id=rid,
            kind="monitor_window",
            subject=subject,
            status=status,
            created=now,
            actor=actor,
            seq=event.seq,
            document=text,
        )
    )


def baseline(svc: Monitors, mon: Monitor) -> Baseline:
    import numpy as np

    from mlaudit.monitor.windows import fit_baseline

    spec = mon.spec
    version = _version(svc, mon)
    ref = svc._ws.datasets.get(spec.reference)
    data: pa.Table = svc._ws.datasets.data(ref)
    label = spec.label or version.target
    labels = data.column(label).to_numpy(zero_copy_only=False) if label in data.column_names else None
    scorer = svc._ws.models.load(version.ref, trust_pickle=True)  # trusted when registered
    task = version.task or ("binary" if len(version.classes) == 2 else "multiclass")
    scores = None
    if task == "binary":
        proba = scorer.predict_proba(data.select(version.features))
        scores = None if proba is None else np.asarray(proba)[:, -1]
    elif task == "regression":
        scores = np.asarray(scorer.predict(data.select(version.features)), dtype=float)
    return fit_baseline(
        data,
        features=version.features,
        task=task,
        classes=version.classes,
        scores=scores,
        labels=labels,
        metrics=spec.metrics,
        min_labels=spec.min_labels,
    )


def _version(svc: Monitors, mon: Monitor) -> Any:
    if mon.version_id:
        return svc._ws.models.get(f"{mon.model}@{mon.version_id}")
    deployed = svc._ws.lifecycle.deployed_at(mon.model, datetime.now(UTC))
    return deployed or svc._ws.models.get(mon.model)


def request_retrain(svc: Monitors, mon: Monitor, window: MonitorWindow) -> bool:
    """Open one finding and record ``monitor.retrain_requested`` the first time both conditions hold."""
    rule = mon.spec.retrain
    if rule is None:
        return False
    share = window.metrics.get("drift.share")
    drop = window.metrics.get(f"estimated.{rule.metric}.drop")
    if share is None or drop is None or share < rule.drift_share or drop < rule.estimated_drop:
        return False
    subject = f"monitor:{mon.name}"
    with svc._store.write(svc._actor) as tx:
        done = tx.conn.execute(
            sa.select(ledger_events.c.seq).where(
                ledger_events.c.action == "monitor.retrain_requested", ledger_events.c.subject == subject
            )
        ).first()
        if done is not None:
            return False
        payload = {
            "monitor": mon.name,
            "model": mon.model,
            "version_id": mon.version_id,
            "window_id": window.id,
            "start": window.start,
            "end": window.end,
            "drift_share": share,
            "estimated_drop": drop,
            "metric": rule.metric,
        }
        tx.record("monitor.retrain_requested", subject, payload)
    title = (
        f"retraining requested by monitor {mon.name}: {share:.0%} of features drifted and estimated "
        f"{rule.metric} dropped by {drop:.3f} in window {window.start}"
    )
    svc._ws.findings.raise_(mon.model, title, "high", source=subject)
    # the "retrain" event also goes out to the monitor's channels (webhook, Slack, e-mail), as a
    # firing alert of the rule "retrain", so pipelines can start retraining from it
    svc._ws.alerts.update(
        monitor=mon.name, rule="retrain", firing=True, value=share, message=title,
        window_id=window.id, notify=mon.spec.notify,
    )  # fmt: skip
    return True
