"""``ws.predictions``: the prediction log — model predictions, and labels that arrive later.

Each batch is one Parquet file (zstd) stored as a content-addressed artifact, one
``prediction_batches`` row and one ledger event (``predictions.logged`` or
``predictions.labels_logged`` with model, version, rows, digest and batch key, never the
values), all in one transaction. A ``batch_key`` makes a batch idempotent: sending the same
records again under it returns the first batch and stores nothing; different records under a
used key are an error. With several writers the unique ``batch_key`` column is the arbiter:
the loser of a race gets the winner's batch back.

:meth:`PredictionLog.scan` reads predictions in a time range, keeps the first copy of an id
sent twice, and joins the latest label of each id (left join).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import orjson
import sqlalchemy as sa

from mlaudit.artifacts import record_artifact
from mlaudit.errors import InputError, NotFound
from mlaudit.governance.identity import require
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import ledger_events, model_versions, prediction_batches

if TYPE_CHECKING:  # pyarrow is imported when a batch is logged or read, not with mlaudit
    import pyarrow as pa

__all__ = ["LogResult", "PredictionBatch", "PredictionLog", "PredictionSummary"]

Kind = Literal["predictions", "labels"]
_PARQUET = "application/vnd.apache.parquet"
_EVENTS = {"predictions": "predictions.logged", "labels": "predictions.labels_logged"}
_RETRIES = 3


@dataclass(frozen=True)
class PredictionBatch:
    """One stored batch (a row of ``prediction_batches``)."""

    id: str
    model: str
    version_id: str | None
    kind: str
    rows: int
    artifact: str
    first_time: str | None
    last_time: str | None
    batch_key: str | None
    created: str
    actor: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LogResult:
    """What :meth:`PredictionLog.log` did: ``created`` is False when the batch key was known."""

    batch: PredictionBatch
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {"created": self.created, **self.batch.to_dict()}


@dataclass(frozen=True)
class PredictionSummary:
    """Counts for ``mlaudit predictions show``; ``predictions`` counts distinct ids."""

    model: str
    batches: int
    stored_predictions: int
    predictions: int
    stored_labels: int
    labelled: int
    unmatched_labels: int
    first_time: str | None
    last_time: str | None

    @property
    def labelled_fraction(self) -> float | None:
        return self.labelled / self.predictions if self.predictions else None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"labelled_fraction": self.labelled_fraction}


class PredictionLog:
    """Predictions and labels of the models of one workspace."""

    def __init__(self, store: Store, actor: str, workspace: Any) -> None:
        self._store = store
        self._actor = actor
        self._ws = workspace

    # --- writing ------------------------------------------------------------------------------

    def log(self, model_ref: str, records: Any, *, batch_key: str | None = None) -> LogResult:
        """Store a batch of predictions of model version ``model_ref`` (``"credit@v2"``).

        ``records``: a pyarrow Table, pandas/polars frame, list of dicts or file path (see
        :mod:`mlaudit.monitor.records` for the columns).

        >>> ws.predictions.log("credit@v1", rows, batch_key="2026-11-23/0001")  # doctest: +SKIP
        """
        if "@" not in model_ref:
            raise InputError(
                f"name the model version the predictions came from, e.g. {model_ref}@v1",
                hint="see `mlaudit model list`",
            )
        version = self._ws.models.get(model_ref)
        require(self._store, self._actor, "prediction.log", project=version.model)
        key = _check_key(batch_key)
        from mlaudit.monitor.records import as_table, prepare_predictions

        table, digest = prepare_predictions(
            as_table(records), features=version.features, classes=version.classes, now=_now()
        )
        return self._store_batch(version.model, version.id, "predictions", table, digest, key)

    def log_labels(self, model: str, records: Any, *, batch_key: str | None = None) -> LogResult:
        """Store labels (``prediction_id``, ``label``, optional ``time``) of model ``model``."""
        name = model.split("@", 1)[0]
        self._ws.models.get(name)  # NotFound for an unknown model
        require(self._store, self._actor, "prediction.log", project=name)
        key = _check_key(batch_key)
        from mlaudit.monitor.records import as_table, prepare_labels

        table, digest = prepare_labels(as_table(records), now=_now())
        return self._store_batch(name, None, "labels", table, digest, key)

    def _store_batch(
        self, model: str, version_id: str | None, kind: Kind, table: pa.Table, digest: str, key: str | None
    ) -> LogResult:
        if key is not None:
            known = self._known(key, model, version_id, kind, digest)
            if known is not None:
                return known
        import pyarrow.compute as pc

        from mlaudit.monitor.records import to_parquet

        data = to_parquet(table)
        artifact = self._store.artifacts.put(data)  # bytes first: a row never names missing bytes
        times = table.column("time")
        first, last = (_iso(v.as_py()) for v in (pc.min(times), pc.max(times)))
        for attempt in range(_RETRIES):
            try:
                return self._insert(
                    model, version_id, kind, table.num_rows, (artifact, len(data)), first, last, key, digest
                )
            except sa.exc.IntegrityError:
                # another writer committed the same batch key (or the same artifact) first
                if key is not None:
                    known = self._known(key, model, version_id, kind, digest)
                    if known is not None:
                        return known
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _insert(
        self,
        model: str,
        version_id: str | None,
        kind: Kind,
        rows: int,
        artifact: tuple[str, int],
        first: str,
        last: str,
        key: str | None,
        digest: str,
    ) -> LogResult:
        with self._store.write(self._actor) as tx:
            if key is not None:  # inside the write lock on SQLite: no race there at all
                row = tx.conn.execute(
                    sa.select(prediction_batches).where(prediction_batches.c.batch_key == key)
                ).one_or_none()
                if row is not None:
                    return self._compare(_batch(row), model, version_id, kind, digest, tx.conn)
            digest_of_file, size = artifact
            record_artifact(tx, digest_of_file, size, _PARQUET, f"{model} {kind}")
            bid = uuid.uuid4().hex
            payload = {
                "model": model,
                "version_id": version_id,
                "kind": kind,
                "batch_id": bid,
                "rows": rows,
                "artifact": digest_of_file,
                "input": digest,
                "first_time": first,
                "last_time": last,
                "batch_key": key,
            }
            subject = f"model:{model}@{version_id}" if version_id else f"model:{model}"
            event = tx.record(_EVENTS[kind], subject, payload)
            values: dict[str, Any] = {
                "id": bid,
                "model": model,
                "version_id": version_id,
                "kind": kind,
                "rows": rows,
                "artifact": digest_of_file,
                "first_time": first,
                "last_time": last,
                "batch_key": key,
                "created": utc_now(),
                "actor": self._actor,
                "seq": event.seq,
            }
            tx.conn.execute(sa.insert(prediction_batches).values(**values))
        return LogResult(PredictionBatch(**values), created=True)

    def _known(
        self, key: str, model: str, version_id: str | None, kind: Kind, digest: str
    ) -> LogResult | None:
        with self._store.read() as conn:
            row = conn.execute(
                sa.select(prediction_batches).where(prediction_batches.c.batch_key == key)
            ).one_or_none()
            return None if row is None else self._compare(_batch(row), model, version_id, kind, digest, conn)

    def _compare(
        self,
        batch: PredictionBatch,
        model: str,
        version_id: str | None,
        kind: Kind,
        digest: str,
        conn: sa.Connection,
    ) -> LogResult:
        payload = conn.execute(
            sa.select(ledger_events.c.payload).where(ledger_events.c.seq == batch.seq)
        ).scalar_one()
        same = (batch.model, batch.version_id, batch.kind) == (model, version_id, kind)
        if not same or orjson.loads(payload).get("input") != digest:
            raise InputError(
                f"batch key {batch.batch_key!r} was already used for different records "
                f"(batch {batch.id} of {batch.model}, {batch.kind}, {batch.rows} rows, seq {batch.seq})",
                hint="use a new batch key for new records",
            )
        return LogResult(batch, created=False)

    # --- reading ------------------------------------------------------------------------------

    def batches(self, model: str, *, kind: Kind | None = None) -> list[PredictionBatch]:
        """Stored batches of ``model`` (``"credit"`` or one version ``"credit@v2"``), oldest first."""
        name, version_id = self._resolve(model)
        query = sa.select(prediction_batches).where(prediction_batches.c.model == name)
        if version_id is not None:
            query = query.where(
                sa.or_(prediction_batches.c.version_id == version_id, prediction_batches.c.kind == "labels")
            )
        if kind is not None:
            query = query.where(prediction_batches.c.kind == kind)
        with self._store.read() as conn:
            return [_batch(r) for r in conn.execute(query.order_by(prediction_batches.c.seq))]

    def count(self, model: str, kind: Kind = "predictions") -> int:
        """Rows stored (every batch, before de-duplication): count in = count stored."""
        name, version_id = self._resolve(model)
        query = sa.select(sa.func.coalesce(sa.func.sum(prediction_batches.c.rows), 0)).where(
            prediction_batches.c.model == name, prediction_batches.c.kind == kind
        )
        if version_id is not None and kind == "predictions":
            query = query.where(prediction_batches.c.version_id == version_id)
        with self._store.read() as conn:
            return int(conn.execute(query).scalar_one())

    def scan(
        self,
        model: str,
        *,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """Predictions of ``model`` (name or ``name@vN``) with ``start <= time < end``.

        Columns: ``prediction_id``, ``time``, ``model_version``, the stored columns (or only
        ``columns``), then ``label`` and ``label_time`` of the latest label logged for the id
        (null when none). An id logged twice keeps its first copy (within the range).
        """
        lo, hi = _when(start, "start"), _when(end, "end")
        preds = self._predictions(model, lo, hi, columns)
        from mlaudit.monitor.reading import join_labels, latest_labels

        return join_labels(preds, latest_labels(self._read(self.batches(model, kind="labels"))))

    def unmatched_labels(self, model: str) -> pa.Table:
        """The latest labels whose ``prediction_id`` matches no logged prediction of ``model``."""
        name = model.split("@", 1)[0]
        ids = self._predictions(name, None, None, [])
        from mlaudit.monitor.reading import latest_labels, unmatched

        return unmatched(latest_labels(self._read(self.batches(name, kind="labels"))), ids)

    def summary(self, model: str, *, since: datetime | str | None = None) -> PredictionSummary:
        """Counts, labelled share and time range of ``model``'s predictions (from ``since``)."""
        import pyarrow.compute as pc

        name = model.split("@", 1)[0]
        table = self.scan(model, start=since, columns=[])
        labels = self.batches(name, kind="labels")
        times = table.column("time")
        return PredictionSummary(
            model=model,
            batches=len(self.batches(model, kind="predictions")),
            stored_predictions=self.count(model),
            predictions=table.num_rows,
            stored_labels=sum(b.rows for b in labels),
            labelled=table.num_rows - table.column("label").null_count,
            unmatched_labels=self.unmatched_labels(name).num_rows,
            first_time=_iso(pc.min(times).as_py()) if table.num_rows else None,
            last_time=_iso(pc.max(times).as_py()) if table.num_rows else None,
        )

    def _predictions(
        self, model: str, lo: datetime | None, hi: datetime | None, columns: list[str] | None
    ) -> pa.Table:
        query = self.batches(model, kind="predictions")
        if lo is not None:
            query = [b for b in query if b.last_time is None or b.last_time >= _iso(lo)]
        if hi is not None:
            query = [b for b in query if b.first_time is None or b.first_time < _iso(hi)]
        from mlaudit.monitor.reading import read_batches

        return read_batches(self._store, query, self._numbers(model), lo=lo, hi=hi, columns=columns)

    def _read(self, labels: list[PredictionBatch]) -> pa.Table:
        from mlaudit.monitor.reading import read_batches

        return read_batches(self._store, labels, {}, lo=None, hi=None, columns=None)

    def _numbers(self, model: str) -> dict[str, int]:
        name = model.split("@", 1)[0]
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(model_versions.c.id, model_versions.c.number).where(model_versions.c.model == name)
            )
            return {r.id: int(r.number) for r in rows}

    def _resolve(self, model: str) -> tuple[str, str | None]:
        if "@" in model:
            version = self._ws.models.get(model)
            return version.model, version.id
        with self._store.read() as conn:
            known = conn.execute(
                sa.select(model_versions.c.id).where(model_versions.c.model == model).limit(1)
            ).first()
        if known is None:
            raise NotFound(f"no model {model!r}", hint="see `mlaudit model list`")
        return model, None


def _iso(value: datetime) -> str:
    """A timestamp as the ledger writes them (fixed width, so text order is time order)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now() -> datetime:
    return datetime.now(UTC)


def _check_key(key: str | None) -> str | None:
    if key is not None and (not isinstance(key, str) or not key.strip() or len(key) > 200):
        raise InputError("a batch key is a non-empty string of at most 200 characters", hint=repr(key)[:60])
    return key


def _when(value: datetime | str | None, what: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError(f"{what} {value!r} is not an ISO 8601 time") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _batch(row: Any) -> PredictionBatch:
    r = row._asdict()
    return PredictionBatch(**(r | {"rows": int(r["rows"]), "seq": int(r["seq"])}))
