"""The gateway's side of the prediction log: PII hashing, the background writer, and the
champion/challenger comparison.

:class:`PiiHasher` replaces the values of PII columns with a salted SHA-256 (an HMAC keyed per
workspace), so the log can still join and count by them but never holds them raw.
:class:`PredictionWriter` is a thread fed by a queue: each served request becomes one job
(``ws.predictions.log(ref, records, batch_key=request id)``) written off the request path; a
failed write is retried with back-off (the batch key makes a retry that did land harmless),
and on shutdown the queue is drained; what still cannot be written is spooled to a JSON Lines
file named in an error log line, never dropped silently. :func:`compare` reads both logs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from mlaudit.errors import InputError
from mlaudit.store import Store

__all__ = ["Comparison", "Job", "PiiHasher", "PredictionWriter", "compare", "pii_columns", "workspace_salt"]

log = logging.getLogger("mlaudit.gateway")

_SALT_CONTEXT = b"mlaudit-gateway-pii-salt\x00"


def workspace_salt(store: Store) -> bytes:
    """A per-workspace secret: derived from the signing key when it is reachable (so it is not
    stored anywhere), otherwise from the workspace id (then it is a salt, not a secret)."""
    try:
        from cryptography.hazmat.primitives import serialization

        raw = store.signing_key().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
    except InputError:
        log.warning("no signing key here: PII hashes are salted with the (public) workspace id")
        raw = b""
    return hashlib.sha256(_SALT_CONTEXT + raw + store.meta.workspace_id.encode()).digest()


class PiiHasher:
    """Replaces the values of ``columns`` in records by ``sha256:<hex>`` (HMAC-SHA-256, keyed)."""

    def __init__(self, salt: bytes, columns: Iterable[str]) -> None:
        self._salt = salt
        self.columns = tuple(sorted(set(columns)))

    def value(self, value: Any) -> str | None:
        if value is None:
            return None
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        return "sha256:" + hmac.new(self._salt, text.encode(), hashlib.sha256).hexdigest()

    def records(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not self.columns:
            return records
        return [r | {c: self.value(r[c]) for c in self.columns if c in r} for r in records]


def pii_columns(ws: Any, version: Any) -> list[str]:
    """Columns tagged as PII in the training datasets of model version ``version``."""
    found: set[str] = set()
    for node in version.trained_on:
        if not str(node).startswith("dataset:"):
            continue
        try:
            dataset = ws.datasets.get(str(node).removeprefix("dataset:"))
        except LookupError:
            continue
        found.update(str(f.get("column")) for f in dataset.pii if f.get("column"))
    return sorted(found)


@dataclass
class Job:
    """One batch for the log; ``records`` may be computed late (the challenger's scores)."""

    ref: str
    actor: str
    batch_key: str
    records: list[dict[str, Any]] | None = None
    make: Callable[[], list[dict[str, Any]]] | None = None
    attempts: int = 0

    def materialise(self) -> list[dict[str, Any]]:
        if self.records is None:
            assert self.make is not None
            self.records = self.make()
            self.make = None
        return self.records


@dataclass
class WriterStats:
    written: int = 0
    rows: int = 0
    retries: int = 0
    failed: int = 0  # jobs that could not be prepared (the challenger failed to score) — logged
    spooled: int = 0
    last_error: str | None = None
    spool_files: list[str] = field(default_factory=list)


class PredictionWriter:
    """Writes :class:`Job` batches into the prediction log from one background thread."""

    def __init__(
        self,
        store: Store,
        *,
        spool_dir: Path,
        retry_base: float = 0.2,
        retry_max: float = 10.0,
        drain_attempts: int = 3,
    ) -> None:
        self._store = store
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._spool_dir = spool_dir
        self._retry_base = retry_base
        self._retry_max = retry_max
        self._drain_attempts = drain_attempts
        self._stop = threading.Event()
        self._pending = 0
        self._lock = threading.Condition()
        self.stats = WriterStats()
        self._thread = threading.Thread(target=self._run, name="mlaudit-gateway-log", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: Job) -> None:
        with self._lock:
            self._pending += 1
        self._queue.put(job)

    @property
    def pending(self) -> int:
        return self._pending

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every submitted job was written (or given up on); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    def close(self, timeout: float = 60.0) -> None:
        """Drain the queue (a few attempts per job), spool what is left, stop the thread."""
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout)
        rest: list[Job] = []
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                rest.append(job)
        if rest:  # the thread did not finish in time: keep the records
            self._spool(rest)

    # --- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                if self._stop.is_set():
                    return
                continue
            self._write(job)

    def _write(self, job: Job) -> None:
        from mlaudit.workspace import Workspace

        while True:
            try:
                records = job.materialise()
            except Exception as exc:  # the challenger could not score: nothing to retry
                self.stats.failed += 1
                self.stats.last_error = f"{job.ref}: {exc}"
                log.error("not logged: %s batch %s could not be prepared: %s", job.ref, job.batch_key, exc)
                self._done()
                return
            try:
                Workspace(self._store, job.actor).predictions.log(job.ref, records, batch_key=job.batch_key)
            except Exception as exc:
                job.attempts += 1
                self.stats.retries += 1
                self.stats.last_error = f"{job.ref}: {exc}"
                log.warning("logging %s batch %s failed (attempt %d): %s",
                            job.ref, job.batch_key, job.attempts, exc)  # fmt: skip
                if self._stop.is_set() and job.attempts >= self._drain_attempts:
                    self._spool([job])
                    self._done()
                    return
                time.sleep(min(self._retry_max, self._retry_base * 2 ** min(job.attempts, 10)))
                continue
            self.stats.written += 1
            self.stats.rows += len(records)
            self._done()
            return

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1
            self._lock.notify_all()

    def _spool(self, jobs: list[Job]) -> None:
        """Jobs that could not be written: one JSON line each (hashed records, ref, batch key),
        to be replayed with ``ws.predictions.log``."""
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        path = self._spool_dir / f"unlogged-{time.strftime('%Y%m%dT%H%M%S')}-{threading.get_ident()}.jsonl"
        with path.open("ab") as fh:
            for job in jobs:
                try:
                    records = job.materialise()
                except Exception:  # a challenger that cannot score: nothing to keep
                    continue
                line = {"ref": job.ref, "actor": job.actor, "batch_key": job.batch_key, "records": records}
                fh.write(orjson.dumps(line, default=str) + b"\n")
        self.stats.spooled += len(jobs)
        self.stats.spool_files.append(str(path))
        log.error("%d prediction batch(es) could not be logged; they are kept in %s", len(jobs), path)


# --- champion / challenger ---------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Champion vs challenger on the prediction ids both logged."""

    champion: str
    challenger: str
    shared: int  # prediction ids in both logs
    agreement: float | None  # share of shared ids with the same prediction
    mean_abs_score_diff: float | None  # mean |score_a - score_b| (score: P(last class) or value)
    labelled: int  # shared ids with a label
    champion_metrics: dict[str, float | None]
    challenger_metrics: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "gateway_comparison", "schema_version": 1, **self.__dict__}


def compare(ws: Any, champion: str, challenger: str) -> Comparison:
    """Agreement, mean absolute score difference and (on labelled ids) realised accuracy and
    ROC AUC of two model versions over the prediction ids both logged."""
    import numpy as np

    a, b = ws.predictions.scan(champion), ws.predictions.scan(challenger)
    va, vb = ws.models.get(champion), ws.models.get(challenger)
    rows_a = _by_id(a, va.classes)
    rows_b = _by_id(b, vb.classes)
    shared = [i for i in rows_a if i in rows_b]
    empty: dict[str, float | None] = {"accuracy": None, "roc_auc": None}
    if not shared:
        return Comparison(va.ref, vb.ref, 0, None, None, 0, empty, dict(empty))
    agree = float(np.mean([rows_a[i][0] == rows_b[i][0] for i in shared]))
    pairs = [(rows_a[i][1], rows_b[i][1]) for i in shared]
    diffs = [abs(x - y) for x, y in pairs if x is not None and y is not None]
    mad = float(np.mean(diffs)) if diffs else None
    labels = {i: rows_a[i][2] if rows_a[i][2] is not None else rows_b[i][2] for i in shared}
    labelled = [i for i in shared if labels[i] is not None]
    positive = va.classes[-1] if va.classes else None
    return Comparison(
        va.ref,
        vb.ref,
        len(shared),
        agree,
        mad,
        len(labelled),
        _metrics([rows_a[i] for i in labelled], [labels[i] for i in labelled], positive),
        _metrics([rows_b[i] for i in labelled], [labels[i] for i in labelled], positive),
    )


def _by_id(table: Any, classes: list[Any]) -> dict[str, tuple[Any, float | None, Any]]:
    """prediction id → (prediction, score, label)."""
    names = table.column_names
    ids = table.column("prediction_id").to_pylist()
    preds = table.column("prediction").to_pylist() if "prediction" in names else [None] * len(ids)
    last = f"proba_{classes[-1]}" if classes else None
    if last is not None and last in names:
        scores = table.column(last).to_pylist()
    elif "score" in names:
        scores = table.column("score").to_pylist()
    else:
        scores = [p if isinstance(p, int | float) and not isinstance(p, bool) else None for p in preds]
    labels = table.column("label").to_pylist() if "label" in names else [None] * len(ids)
    return {i: (p, s, y) for i, p, s, y in zip(ids, preds, scores, labels, strict=True)}


def _metrics(
    rows: list[tuple[Any, float | None, Any]], labels: list[Any], positive: Any
) -> dict[str, float | None]:
    import numpy as np

    if not rows:
        return {"accuracy": None, "roc_auc": None}
    accuracy = float(np.mean([_same(r[0], y) for r, y in zip(rows, labels, strict=True)]))
    scores = [r[1] for r in rows]
    auc = None
    if positive is not None and all(s is not None and math.isfinite(s) for s in scores):
        auc = _auc(np.array([_same(y, positive) for y in labels]), np.array(scores, dtype=float))
    return {"accuracy": accuracy, "roc_auc": auc}


def _same(a: Any, b: Any) -> bool:
    """Equal, also when a label arrived as text or a number for a boolean class ("1" vs True)."""
    if a == b:
        return True
    return str(a).lower() == str(b).lower() or (
        isinstance(a, bool | int | float) and isinstance(b, bool | int | float) and float(a) == float(b)
    )


def _auc(y: Any, s: Any) -> float | None:
    """ROC AUC as the Mann-Whitney statistic (ties count half); None with one class only."""
    from scipy.stats import rankdata

    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return None
    ranks = rankdata(s)
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))
