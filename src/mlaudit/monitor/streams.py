"""Consume prediction and label records from a message broker into the prediction log.

Delivery is **at least once, writes are idempotent**: a batch (``batch`` messages or
``max_wait_ms`` after its first message, whichever comes first) is validated, stored with
:meth:`PredictionLog.log` under a batch key made from the broker's own positions, and only
then acknowledged. The next batch is pulled only after that (back-pressure). A crash between
store and ack redelivers the batch; its key is known, so nothing is stored twice.

- a message is JSON: one record or a list of records (the columns of
  :mod:`mlaudit.monitor.records`); with ``labels=True`` records are ``prediction_id`` + ``label``
- a record that fails validation (or a message that is not JSON records) goes to the
  ``dead_letters`` table with the reason, then is acknowledged with its batch: never dropped
- a second copy of a ``prediction_id`` in one batch (a redelivery) is counted, not stored
- positions: a source gives each message a ``scope`` (stream + group, topic + partition)
  and an integer ``position`` (JetStream stream sequence, Kafka offset) or ``None``. Keys are
  ``<scope>:<first>-<last>:<count>``; a batch whose ``count`` fills its range is an exact set,
  so a message redelivered in a different grouping is recognised as stored when its position
  lies in such a range. Redis entry ids are not contiguous: its pending entries come back as
  the exact same batch instead (see :mod:`mlaudit.monitor.stream_redis`). MQTT has no
  positions: ids stored before are skipped by ``prediction_id`` (see ``dedupe_ids``).

:func:`consume` runs until ``stop_after`` records were handled, ``idle_stop_ms`` passed with
no message, or SIGTERM/SIGINT (the batch in hand is finished first).
"""

from __future__ import annotations

import bisect
import hashlib
import signal
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import orjson
import sqlalchemy as sa

from mlaudit.errors import InputError, MLAuditError
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import dead_letters, prediction_batches

__all__ = [
    "BrokerUnavailable",
    "ConsumeStats",
    "DeadLetter",
    "Message",
    "Source",
    "batch_key",
    "consume",
    "count_distinct",
    "list_dead_letters",
    "open_source",
]

EXTRA_HINT = "install the stream extra: pip install 'mlaudit[stream]'"


class BrokerUnavailable(MLAuditError):
    """The broker could not be reached (the loop retries until ``retry_for`` runs out)."""


@dataclass(frozen=True)
class Message:
    """One broker message: ``id`` names it in dead letters; see the module docstring."""

    id: str
    payload: bytes
    scope: str
    position: int | None = None
    recovered: bool = False  # a redelivery / a pending entry: stored as its own batch
    handle: Any = None


class Source(Protocol):
    """What a broker module offers the loop."""

    name: str  # the URL without credentials, recorded in dead letters
    dedupe_ids: bool  # no positions: skip prediction ids stored before (MQTT)

    def fetch(self, max_messages: int, timeout: float) -> list[Message]: ...
    def ack(self, messages: list[Message]) -> None: ...
    def batch_key(self, messages: list[Message]) -> str | None: ...
    def close(self) -> None: ...


@dataclass
class ConsumeStats:
    """What :func:`consume` did."""

    source: str
    messages: int = 0
    stored: int = 0
    dead_letters: int = 0
    duplicates: int = 0
    batches: int = 0
    already_stored: int = 0
    retries: int = 0
    latencies: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "latencies"}


@dataclass(frozen=True)
class DeadLetter:
    id: str
    source: str
    message_id: str | None
    payload: bytes
    reason: str
    created: str

    def to_dict(self) -> dict[str, Any]:
        text = self.payload.decode("utf-8", "replace")
        return dict(self.__dict__) | {"payload": text}


def open_source(url: str, *, batch: int) -> Source:
    """The source for ``redis://``, ``nats://``, ``mqtt://`` or ``kafka://`` URLs."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("redis", "rediss"):
        from mlaudit.monitor.stream_redis import RedisSource

        return RedisSource(url, batch=batch)
    if scheme == "nats":
        from mlaudit.monitor.stream_nats import NatsSource

        return NatsSource(url, batch=batch)
    if scheme in ("mqtt", "mqtts"):
        from mlaudit.monitor.stream_mqtt import MqttSource

        return MqttSource(url, batch=batch)
    if scheme == "kafka":
        from mlaudit.monitor.stream_kafka import KafkaSource

        return KafkaSource(url, batch=batch)
    raise InputError(
        f"unknown stream source {url!r}",
        hint="use redis://HOST:PORT/STREAM?group=G, nats://HOST:PORT/SUBJECT?stream=S&durable=D, "
        "mqtt://HOST:PORT/TOPIC?client_id=C or kafka://HOST:PORT/TOPIC?group=G",
    )


# --- the loop -----------------------------------------------------------------------------------


class _Stop:
    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.requested = True


def consume(
    ws: Any,
    source: Source,
    model: str,
    *,
    labels: bool = False,
    batch: int = 500,
    max_wait_ms: int = 500,
    stop_after: int | None = None,
    idle_stop_ms: int | None = None,
    retry_for: float = 120.0,
    on_batch: Callable[[ConsumeStats], None] | None = None,
) -> ConsumeStats:
    """Consume ``source`` into ``ws.predictions`` for ``model`` (``NAME@vN``; a name with labels)."""
    from mlaudit.governance.identity import require

    if batch < 1 or max_wait_ms < 0:
        raise InputError("--batch must be at least 1 and --max-wait-ms at least 0")
    name = model.split("@", 1)[0]
    if not labels and "@" not in model:
        raise InputError(f"name the model version, e.g. {model}@v1", hint="see `mlaudit model list`")
    version = None if labels else ws.models.get(model)
    ws.models.get(name)
    require(ws.store, ws.actor, "prediction.log", project=name)
    stop = _Stop()
    previous = _install(stop)
    stats = ConsumeStats(source=source.name)
    store = _Writer(ws, source, model, version, labels)
    buffer: deque[Message] = deque()
    idle_since = time.monotonic()
    try:
        while not stop.requested:
            if stop_after is not None and stats.messages >= stop_after:
                break
            want = batch if stop_after is None else min(batch, stop_after - stats.messages)
            messages = _collect(source, buffer, want, max_wait_ms / 1000, stop, stats, retry_for)
            if not messages:
                if idle_stop_ms is not None and time.monotonic() - idle_since > idle_stop_ms / 1000:
                    break
                continue
            idle_since = time.monotonic()
            store.handle(messages, stats)
            _retry(partial(source.ack, messages), stats, retry_for)
            stats.messages += len(messages)
            stats.batches += 1
            if on_batch is not None:
                on_batch(stats)
    finally:
        _restore(previous)
        source.close()
    return stats


def _install(stop: _Stop) -> list[tuple[int, Any]]:
    try:
        return [(s, signal.signal(s, stop)) for s in (signal.SIGTERM, signal.SIGINT)]
    except ValueError:  # not the main thread: the caller stops us another way
        return []


def _restore(previous: list[tuple[int, Any]]) -> None:
    for s, handler in previous:
        signal.signal(s, handler)


def _retry(call: Callable[[], Any], stats: ConsumeStats, retry_for: float) -> Any:
    """Run ``call``, retrying while the broker is unavailable (up to ``retry_for`` seconds)."""
    deadline = time.monotonic() + retry_for
    pause = 0.1
    while True:
        try:
            return call()
        except BrokerUnavailable:
            if time.monotonic() > deadline:
                raise
            stats.retries += 1
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def _collect(
    source: Source,
    buffer: deque[Message],
    want: int,
    max_wait: float,
    stop: _Stop,
    stats: ConsumeStats,
    retry_for: float,
) -> list[Message]:
    """Up to ``want`` messages, all fresh or all recovered, ``max_wait`` after the first."""
    got: list[Message] = []
    deadline: float | None = None
    while (len(got) < want or (got and got[0].recovered)) and not (stop.requested and not got):
        if not buffer:
            left = 1.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                break
            fetched = _retry(partial(source.fetch, want - len(got), min(left, 1.0)), stats, retry_for)
            buffer.extend(fetched)
            if not fetched:
                if deadline is None:
                    return got  # nothing yet: let the caller check stop/idle
                continue
        if got and buffer[0].recovered != got[0].recovered:
            break
        got.append(buffer.popleft())
        if deadline is None:
            deadline = time.monotonic() + max_wait
        if got[0].recovered and not buffer:
            break  # a recovered batch is exactly what came back: never topped up
    return got


# --- storing a batch ----------------------------------------------------------------------------


class _Writer:
    def __init__(self, ws: Any, source: Source, model: str, version: Any, labels: bool) -> None:
        self.ws, self.source, self.model, self.version, self.labels = ws, source, model, version, labels
        self.seen: set[str] | None = None

    def handle(self, messages: list[Message], stats: ConsumeStats) -> None:
        fresh = self._not_stored(messages)
        stats.already_stored += len(messages) - len(fresh)
        groups: dict[str, list[Message]] = {}
        for m in fresh:  # one stored batch per scope (a Kafka partition), each with its own key
            groups.setdefault(m.scope, []).append(m)
        for group in groups.values():
            self._store(group, stats)

    def _store(self, fresh: list[Message], stats: ConsumeStats) -> None:
        records: list[dict[str, Any]] = []
        origins: list[tuple[Message, int]] = []
        bad: list[tuple[Message, str | None, bytes, str]] = []
        for m in fresh:
            parsed = _parse(m)
            if isinstance(parsed, str):
                bad.append((m, m.id, m.payload, parsed))
                continue
            for i, r in enumerate(parsed):
                records.append(r)
                origins.append((m, i))
        records, origins, dups = self._dedupe(records, origins)
        stats.duplicates += dups
        # records with other columns (one without `time`, say) are stored as their own batch:
        # in one table the missing cells would be nulls, which the log refuses
        shapes: dict[tuple[str, ...], list[int]] = {}
        for i, r in enumerate(records):
            shapes.setdefault(tuple(sorted(k for k in r if k != "_sent")), []).append(i)
        parts: list[list[int]] = []
        for indexes in shapes.values():
            good, rejected = self._validate([records[i] for i in indexes])
            parts.append([indexes[g] for g in good])
            for index, reason in rejected:
                m, i = origins[indexes[index]]
                bad.append((m, f"{m.id}#{i}", orjson.dumps(records[indexes[index]]), reason))
        if bad:
            stats.dead_letters += _store_dead_letters(self.ws, self.source.name, bad)
        key = self.source.batch_key(fresh)
        stored = [p for p in parts if p]
        # the plain key (read back as "these positions are stored") is written last
        for n in reversed(range(len(stored))):
            self._log([records[i] for i in stored[n]], key if n == 0 or key is None else f"{key}/{n}", stats)

    def _log(self, records: list[dict[str, Any]], key: str | None, stats: ConsumeStats) -> None:
        sent = [r.get("_sent") for r in records]
        kept = [{k: v for k, v in r.items() if k != "_sent"} for r in records]
        log = self.ws.predictions.log_labels if self.labels else self.ws.predictions.log
        result = log(self.model, kept, batch_key=key)
        if result.created:
            stats.stored += len(kept)
        else:
            stats.already_stored += len(kept)
        if self.seen is not None:
            self.seen.update(str(r["prediction_id"]) for r in kept)
        now = time.time()
        stats.latencies.extend(now - s for s in sent if isinstance(s, float))

    def _not_stored(self, messages: list[Message]) -> list[Message]:
        scopes = {m.scope for m in messages if m.position is not None}
        if not scopes:
            return messages
        ranges = {s: _stored_ranges(self.ws, s) for s in scopes}
        return [m for m in messages if m.position is None or not _covered(ranges[m.scope], m.position)]

    def _dedupe(
        self, records: list[dict[str, Any]], origins: list[tuple[Message, int]]
    ) -> tuple[list[dict[str, Any]], list[tuple[Message, int]], int]:
        if self.source.dedupe_ids and self.seen is None and not self.labels:
            self.seen = _stored_ids(self.ws, self.model)
        seen = set(self.seen or ())
        keep_r, keep_o = [], []
        for r, o in zip(records, origins, strict=True):
            pid = r.get("prediction_id")
            if isinstance(pid, str | int) and not isinstance(pid, bool):
                if str(pid) in seen:
                    continue
                seen.add(str(pid))
            keep_r.append(r)
            keep_o.append(o)
        return keep_r, keep_o, len(records) - len(keep_r)

    def _validate(self, records: list[dict[str, Any]]) -> tuple[list[int], list[tuple[int, str]]]:
        """Indexes of good records and (index, reason) of bad ones: the log's own checks."""
        if not records:
            return [], []
        # columns first, per record: in a batch a missing key would just be a null cell
        bad = [(i, why) for i, r in enumerate(records) if (why := self._columns(r)) is not None]
        if not bad:
            try:
                self._check(records)
                return list(range(len(records))), []
            except InputError:
                pass
        rejected = {i for i, _ in bad}
        good: list[int] = []
        for i, r in enumerate(records):
            if i in rejected:
                continue
            try:
                self._check([r])
                good.append(i)
            except InputError as exc:
                bad.append((i, str(exc)))
        return good, sorted(bad)

    def _columns(self, record: dict[str, Any]) -> str | None:
        need = ["prediction_id", "label"] if self.labels else ["prediction_id", *self.version.features]
        missing = [k for k in need if record.get(k) is None]
        if missing:
            return f"missing value(s) for {', '.join(missing)}"
        if not self.labels and not any(
            k in ("prediction", "score") or k.startswith("proba_") for k in record
        ):
            return "the record has no output column (prediction, proba_<class> or score)"
        return None

    def _check(self, records: list[dict[str, Any]]) -> None:
        from datetime import UTC, datetime

        from mlaudit.monitor.records import as_table, prepare_labels, prepare_predictions

        table = as_table([{k: v for k, v in r.items() if k != "_sent"} for r in records])
        now = datetime.now(UTC)
        if self.labels:
            prepare_labels(table, now=now)
        else:
            prepare_predictions(table, features=self.version.features, classes=self.version.classes, now=now)


def _parse(m: Message) -> list[dict[str, Any]] | str:
    try:
        value = orjson.loads(m.payload)
    except orjson.JSONDecodeError as exc:
        return f"not JSON: {exc}"
    items = value if isinstance(value, list) else [value]
    if not items:
        return "an empty list of records"
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            return f"record {i} is a {type(item).__name__}, not a JSON object"
    return items


def batch_key(scope: str, messages: list[Message]) -> str:
    """``<scope>:<first>-<last>:<count>`` from integer positions (see the module docstring)."""
    positions = [m.position for m in messages if m.position is not None]
    key = f"{scope}:{min(positions)}-{max(positions)}:{len(positions)}"
    if len(key) > 200:
        digest = hashlib.sha256(scope.encode()).hexdigest()[:24]
        key = f"{scope[:100]}~{digest}:{min(positions)}-{max(positions)}:{len(positions)}"
    return key


def _stored_ranges(ws: Any, scope: str) -> list[tuple[int, int]]:
    """Gap-free position ranges stored under ``scope`` (exact sets), sorted by start."""
    prefix = scope + ":"
    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with ws.store.read() as conn:
        keys = conn.execute(
            sa.select(prediction_batches.c.batch_key).where(
                prediction_batches.c.batch_key.like(like, escape="\\")
            )
        ).scalars()
        found = []
        for key in keys:
            tail = key[len(prefix) :]
            try:
                span, count = tail.split(":")
                first, last = (int(x) for x in span.split("-"))
            except ValueError:
                continue
            if last - first + 1 == int(count):
                found.append((first, last))
    return sorted(found)


def _covered(ranges: list[tuple[int, int]], position: int) -> bool:
    i = bisect.bisect_right(ranges, (position, float("inf"))) - 1
    return i >= 0 and ranges[i][0] <= position <= ranges[i][1]


def _stored_ids(ws: Any, model: str) -> set[str]:
    try:
        table = ws.predictions.scan(model.split("@", 1)[0], columns=[])
    except MLAuditError:
        return set()
    return {str(v) for v in table.column("prediction_id").to_pylist()}


# --- dead letters -------------------------------------------------------------------------------


def _store_dead_letters(ws: Any, source: str, bad: list[tuple[Message, str | None, bytes, str]]) -> int:
    """Insert the dead letters not stored before (a redelivery names the same message id)."""
    ids = [b[1] for b in bad]
    with ws.store.write(ws.actor) as tx:
        known = set(
            tx.conn.execute(
                sa.select(dead_letters.c.message_id).where(
                    dead_letters.c.source == source, dead_letters.c.message_id.in_(ids)
                )
            ).scalars()
        )
        rows = [
            {
                "id": uuid.uuid4().hex,
                "source": source,
                "message_id": message_id,
                "payload": payload,
                "reason": reason[:2000],
                "created": utc_now(),
            }
            for _, message_id, payload, reason in bad
            if message_id not in known
        ]
        if rows:
            tx.conn.execute(sa.insert(dead_letters), rows)
    return len(bad)


def list_dead_letters(ws: Any, *, source: str | None = None, limit: int = 1000) -> list[DeadLetter]:
    """Dead letters, newest first (``source`` filters on the source URL)."""
    query = sa.select(dead_letters).order_by(dead_letters.c.created.desc()).limit(limit)
    if source is not None:
        query = query.where(dead_letters.c.source == source)
    with ws.store.read() as conn:
        return [DeadLetter(**r._asdict()) for r in conn.execute(query)]


def count_distinct(ws: Any, model: str) -> tuple[int, int]:
    """``(rows stored, distinct prediction ids)`` of ``model``: equal when none was stored twice."""
    import pyarrow.compute as pc

    from mlaudit.monitor.reading import read_batches

    batches = ws.predictions.batches(model, kind="predictions")
    table = read_batches(ws.store, batches, {}, lo=None, hi=None, columns=[])
    rows = ws.predictions.count(model)
    ids = table.column("prediction_id") if table.num_rows else None
    return rows, (0 if ids is None else int(pc.count_distinct(ids).as_py()))
