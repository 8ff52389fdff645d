"""``ws.partitions``: a dataset profiled once per time partition, merged for any time range.

``log`` streams a source in record batches, puts each row in the partition of its time (UTC
hours, days, ISO weeks from Monday, calendar months; see :mod:`mlaudit.stats.partitioning`)
and stores each partition once: a ``dataset_partitions`` row (start, end, rows, profile digest,
content fingerprint, layout digest) + the profile bytes as an artifact + a ``partition.profiled``
event, every partition of one call in one transaction. The same partition logged again with the
same rows is ``unchanged``; other rows for a stored partition are an :class:`InputError` unless
``replace=True``, which stores a new revision (ranges merge the latest one).

The first log fixes the dataset's *layout* — columns, kinds and histogram edges — from a
dataset version's stored profile (``reference="name@v3"``) or from the first batch (equal-width
edges over its range widened by 10 % each side); it is stored once (an artifact, digest in the
``partitioned_datasets`` row and on every partition) and used for every later log, which is
what lets ``profile(name, start, end)`` merge any partitions without reading raw data.

A null or unparseable time is an InputError naming the column and the row (rows counted from 0
in the source's order); nothing is written then.

>>> import mlaudit, tempfile, datetime as dt
>>> ws = mlaudit.open(tempfile.mkdtemp() + "/ws")
>>> rows = {"ts": [dt.datetime(2026, 1, d, 9) for d in (1, 1, 2)], "x": [1.0, 2.0, 4.0]}
>>> [p.status for p in ws.partitions.log("events", rows, time_column="ts").partitions]
['created', 'created']
>>> ws.partitions.profile("events", "2026-01-01", "2026-01-03").column("x").mean
2.3333333333333335
"""

from __future__ import annotations

import builtins
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from mlaudit.artifacts import record_artifact
from mlaudit.errors import InputError, NotFound
from mlaudit.governance.identity import require
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import dataset_partitions, partitioned_datasets

if TYPE_CHECKING:
    from mlaudit.stats.drift import DriftReport
    from mlaudit.stats.kinds import ColumnKind
    from mlaudit.stats.partitioning import Layout, PartitionPart
    from mlaudit.stats.profile import Profile

__all__ = ["Partition", "PartitionLog", "PartitionedDataset", "Partitions", "parse_time"]

Status = Literal["created", "unchanged", "replaced"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,199}$")
_PROFILE = "application/x-mlaudit-profile"
_LAYOUT = "application/x-mlaudit-partition-layout+json"
_RETRIES = 3


def parse_time(value: datetime | str) -> str:
    """A time as the store writes partition bounds (UTC, fixed width; naive = UTC).

    >>> parse_time("2026-01-02")
    '2026-01-02T00:00:00.000000Z'
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError(
                f"not a time: {value!r}", hint="use ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00Z"
            ) from None
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(stamp: datetime) -> str:
    return parse_time(stamp)


@dataclass(frozen=True)
class PartitionedDataset:
    """A partitioned dataset: its time column, partition size and layout digest."""

    name: str
    time_column: str
    every: str
    layout: str
    created: str
    actor: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Partition:
    """One stored revision of one partition; ``status`` says what the last ``log`` did."""

    id: str
    dataset: str
    start: str
    end: str
    revision: int
    rows: int
    profile: str
    fingerprint: str
    layout: str
    created: str
    actor: str
    seq: int
    status: Status | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None or k != "status"}


@dataclass(frozen=True)
class PartitionLog:
    """What :meth:`Partitions.log` did: the rows read and every partition they fell in."""

    dataset: PartitionedDataset
    rows: int
    partitions: tuple[Partition, ...]

    def count(self, status: Status) -> int:
        return sum(p.status == status for p in self.partitions)

    def to_dict(self) -> dict[str, Any]:
        d = self.dataset
        return {
            "dataset": d.name,
            "time_column": d.time_column,
            "every": d.every,
            "layout": d.layout,
            "rows": self.rows,
            "created": self.count("created"),
            "unchanged": self.count("unchanged"),
            "replaced": self.count("replaced"),
            "partitions": [p.to_dict() for p in self.partitions],
        }


class _LayoutRace(Exception):
    """Another writer fixed a different layout first: profile again on the stored one."""


class Partitions:
    """The partitioned datasets of one workspace."""

    def __init__(self, store: Store, actor: str, workspace: Any) -> None:
        self._store = store
        self._actor = actor
        self._ws = workspace

    # --- writing ---------------------------------------------------------------------------------

    def log(
        self,
        name: str,
        data: Any,
        *,
        time_column: str,
        every: str = "day",
        kinds: Mapping[str, ColumnKind] | None = None,
        reference: str | None = None,
        replace: bool = False,
        batch_rows: int = 65_536,
        query: str | None = None,
        table: str | None = None,
    ) -> PartitionLog:
        """Profile ``data`` (a source path/URL streamed in batches, or any table-like) per
        partition of ``time_column`` and store each partition once (see the module docstring).

        ``kinds`` and ``reference`` (``"name@vN"``: its stored profile's kinds and bins) apply
        to the first log only, which fixes the layout; later logs use the stored layout.
        """
        from mlaudit.stats.partitioning import EVERY

        require(self._store, self._actor, "dataset.log")
        if not isinstance(name, str) or not _NAME.match(name) or "@" in name:
            raise InputError(
                f"not a usable dataset name: {name!r}",
                hint="letters, digits, '.', '_', '-', '/'; at most 200 characters",
            )
        if every not in EVERY:
            raise InputError(f"unknown partition size {every!r}", hint=f"use one of {', '.join(EVERY)}")
        if batch_rows < 1:
            raise InputError(f"batch_rows must be at least 1, not {batch_rows}")
        for _ in range(_RETRIES):
            known = self._dataset(name)
            if known is not None and (known.every != every or known.time_column != time_column):
                raise InputError(
                    f"{name!r} is partitioned by {known.time_column!r} every {known.every}, "
                    f"not by {time_column!r} every {every}",
                    column=time_column,
                    hint="use the same --time-column and --every as the first log, or another name",
                )
            layout = self._layout_bytes(known.layout) if known is not None else None
            parts, rows, layout = self._accumulate(
                data, layout, time_column, every, kinds, reference, batch_rows, query, table
            )
            source = _describe(data)
            try:
                return self._store_parts(
                    name, time_column, every, layout, parts, rows, replace, reference, source
                )
            except _LayoutRace:
                continue
        raise InputError(f"the layout of {name!r} kept changing under concurrent first logs; try again")

    def _accumulate(
        self,
        data: Any,
        layout: Layout | None,
        time_column: str,
        every: str,
        kinds: Mapping[str, ColumnKind] | None,
        reference: str | None,
        batch_rows: int,
        query: str | None,
        table: str | None,
    ) -> tuple[list[PartitionPart], int, Layout]:
        import pyarrow as pa

        from mlaudit.stats.partitioning import Layout, PartitionAccumulator

        batches = self._batches(data, batch_rows, query, table)
        first = next(batches, None)
        if first is None:
            raise InputError("the source has no rows")
        first_table = pa.Table.from_batches([first]) if isinstance(first, pa.RecordBatch) else first
        if time_column not in first_table.column_names:
            raise InputError(
                "no such time column in the source",
                column=time_column,
                hint=f"columns are: {', '.join(first_table.column_names) or '(none)'}",
            )
        if layout is None:
            if reference is not None:
                ref = self._ws.datasets.get(reference)
                layout = Layout.from_profile(self._ws.datasets.profile(ref), first_table)
            else:
                layout = Layout.infer(first_table, kinds)
        acc = PartitionAccumulator(layout, time_column, every)
        acc.update(first_table)
        for batch in batches:
            acc.update(batch)
        if acc.rows == 0:
            raise InputError("the source has no rows", hint="nothing to profile; no partition was stored")
        return acc.parts(), acc.rows, layout

    @staticmethod
    def _batches(data: Any, batch_rows: int, query: str | None, table: str | None) -> Iterator[Any]:
        if isinstance(data, (str, os.PathLike)):
            from mlaudit.data.sources import read_batches

            return iter(read_batches(data, query=query, table=table, batch_rows=batch_rows))
        from mlaudit.frames import to_table

        whole = to_table(data)
        if whole.num_rows == 0:
            return iter([whole])
        return iter([whole.slice(i, batch_rows) for i in range(0, whole.num_rows, batch_rows)])

    def _store_parts(
        self,
        name: str,
        time_column: str,
        every: str,
        layout: Layout,
        parts: builtins.list[PartitionPart],
        rows: int,
        replace: bool,
        reference: str | None,
        source: str | None,
    ) -> PartitionLog:
        layout_bytes = layout.to_bytes()
        layout_digest = self._store.artifacts.put(layout_bytes)
        starts = [_text(p.start) for p in parts]
        with self._store.read() as conn:
            known = _latest(conn, name, starts)
        blobs: dict[str, tuple[bytes, str]] = {}

        def put(start: str, part: PartitionPart) -> tuple[bytes, str]:
            if start not in blobs:  # bytes before rows: a row never names missing bytes
                data = part.profile.to_bytes()
                blobs[start] = (data, self._store.artifacts.put(data))
            return blobs[start]

        for start, part in zip(starts, parts, strict=True):
            old = known.get(start)
            if old is not None and old.fingerprint != part.fingerprint and not replace:
                raise _changed(name, start, old, part)
            if old is None or old.fingerprint != part.fingerprint:
                put(start, part)  # unchanged partitions leave no stray bytes behind
        for attempt in range(_RETRIES):
            try:
                with self._store.write(self._actor) as tx:
                    ds = self._fix_layout(
                        tx, name, time_column, every, layout, layout_bytes, layout_digest, reference
                    )
                    latest = _latest(tx.conn, name, starts)
                    stored = [
                        self._store_one(tx, name, p, put, layout_digest, latest, replace, source)
                        for p in parts
                    ]
                return PartitionLog(ds, rows, tuple(stored))
            except sa.exc.IntegrityError:  # PostgreSQL: a concurrent log stored the same partition first
                if attempt == _RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    def _fix_layout(
        self,
        tx: Any,
        name: str,
        time_column: str,
        every: str,
        layout: Layout,
        data: bytes,
        digest: str,
        reference: str | None,
    ) -> PartitionedDataset:
        row = tx.conn.execute(
            sa.select(partitioned_datasets).where(partitioned_datasets.c.name == name)
        ).one_or_none()
        if row is not None:
            if row.layout != digest:
                raise _LayoutRace
            return PartitionedDataset(**(row._asdict() | {"seq": int(row.seq)}))
        record_artifact(tx, digest, len(data), _LAYOUT, f"{name} partition layout")
        payload = {
            "dataset": name,
            "time_column": time_column,
            "every": every,
            "layout": digest,
            "columns": list(layout.columns),
            "kinds": layout.kinds,
            "reference": reference,
        }
        event = tx.record("partitioned_dataset.created", f"dataset:{name}", payload)
        values = {
            "name": name,
            "time_column": time_column,
            "every": every,
            "layout": digest,
            "created": utc_now(),
            "actor": self._actor,
            "seq": event.seq,
        }
        tx.conn.execute(sa.insert(partitioned_datasets).values(**values))
        return PartitionedDataset(**values)

    def _store_one(
        self,
        tx: Any,
        name: str,
        part: PartitionPart,
        put: Callable[[str, PartitionPart], tuple[bytes, str]],
        layout: str,
        latest: dict[str, Any],
        replace: bool,
        source: str | None,
    ) -> Partition:
        start, end, fp = _text(part.start), _text(part.end), part.fingerprint
        old = latest.get(start)
        if old is not None and old.fingerprint == fp:
            return _partition(old._asdict(), "unchanged")
        if old is not None and not replace:
            raise _changed(name, start, old, part)
        blob, digest = put(start, part)
        record_artifact(tx, digest, len(blob), _PROFILE, f"{name} partition {start[:19]}Z")
        pid, revision = uuid.uuid4().hex, (old.revision + 1 if old is not None else 1)
        payload = {
            "dataset": name,
            "partition_id": pid,
            "start": start,
            "end": end,
            "revision": revision,
            "rows": part.rows,
            "profile": digest,
            "fingerprint": fp,
            "layout": layout,
            "replaces": old.id if old is not None else None,
            "source": source,
        }
        event = tx.record("partition.profiled", f"dataset:{name}", payload)
        row = {
            "id": pid,
            "dataset": name,
            "start": start,
            "end": end,
            "revision": revision,
            "rows": part.rows,
            "profile": digest,
            "fingerprint": fp,
            "layout": layout,
            "created": utc_now(),
            "actor": self._actor,
            "seq": event.seq,
        }
        tx.conn.execute(sa.insert(dataset_partitions).values(**row))
        return _partition(row, "created" if old is None else "replaced")

    # --- reading ---------------------------------------------------------------------------------

    def get(self, name: str) -> PartitionedDataset:
        """The partitioned dataset ``name`` (NotFound when it was never logged)."""
        require(self._store, self._actor, "dataset.read")
        found = self._dataset(name)
        if found is None:
            raise NotFound(
                f"no partitioned dataset {name!r}", hint="log one with `mlaudit data partition log`"
            )
        return found

    def layout(self, name: str) -> Layout:
        """The columns, kinds and histogram edges every partition of ``name`` is profiled on."""
        return self._layout_bytes(self.get(name).layout)

    def list(self, name: str, *, revisions: bool = False) -> builtins.list[Partition]:
        """The partitions of ``name``, oldest first: the latest revision of each (or all)."""
        self.get(name)
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(dataset_partitions)
                .where(dataset_partitions.c.dataset == name)
                .order_by(dataset_partitions.c.start, dataset_partitions.c.revision)
            ).all()
        if revisions:
            return [_partition(r._asdict()) for r in rows]
        latest = {r.start: r for r in rows}  # ordered by revision: the last one wins
        return [_partition(r._asdict()) for r in latest.values()]

    def covering(self, name: str, start: datetime | str, end: datetime | str) -> builtins.list[Partition]:
        """The latest revision of each partition lying wholly inside ``[start, end)``."""
        lo, hi = parse_time(start), parse_time(end)
        if lo >= hi:
            raise InputError(f"the range [{lo}, {hi}) is empty", hint="--from must be before --to")
        return [p for p in self.list(name) if p.start >= lo and p.end <= hi]

    def profile(self, name: str, start: datetime | str, end: datetime | str) -> Profile:
        """The merged profile of the partitions inside ``[start, end)``, from stored profiles only."""
        from mlaudit.stats.profile import Profile

        parts = self.covering(name, start, end)
        if not parts:
            raise NotFound(
                f"no partition of {name!r} lies inside [{parse_time(start)}, {parse_time(end)})",
                hint=f"see `mlaudit data partition list {name}`",
            )
        merged: Profile | None = None
        for p in parts:
            part = Profile.from_bytes(self._store.artifacts.get(p.profile))
            merged = part if merged is None else merged.merge(part)
        assert merged is not None
        return merged

    def drift(
        self,
        name: str,
        *,
        reference: tuple[datetime | str, datetime | str],
        current: tuple[datetime | str, datetime | str],
        tests: Mapping[str, str] | None = None,
        thresholds: Mapping[str, float] | None = None,
        alpha: float = 0.05,
    ) -> DriftReport:
        """Drift between two merged ranges, on the stored histograms and category counts
        (:func:`mlaudit.stats.partitioning.profile_drift`; the time column is left out)."""
        from mlaudit.stats.partitioning import profile_drift

        ds = self.get(name)
        ref = self.profile(name, *reference)
        cur = self.profile(name, *current)
        columns = [c for c in ref.columns if c != ds.time_column]
        return profile_drift(ref, cur, columns=columns, tests=tests, thresholds=thresholds, alpha=alpha)

    def names(self) -> builtins.list[str]:
        with self._store.read() as conn:
            query = sa.select(partitioned_datasets.c.name).order_by(partitioned_datasets.c.name)
            return builtins.list(conn.execute(query).scalars())

    def _dataset(self, name: str) -> PartitionedDataset | None:
        with self._store.read() as conn:
            row = conn.execute(
                sa.select(partitioned_datasets).where(partitioned_datasets.c.name == name)
            ).one_or_none()
        return None if row is None else PartitionedDataset(**(row._asdict() | {"seq": int(row.seq)}))

    def _layout_bytes(self, digest: str) -> Layout:
        from mlaudit.stats.partitioning import Layout

        return Layout.from_bytes(self._store.artifacts.get(digest))


def _changed(name: str, start: str, old: Any, part: PartitionPart) -> InputError:
    return InputError(
        f"partition {start[:19]}Z of {name!r} is stored with other rows ({old.rows:,} rows, "
        f"{old.fingerprint[:19]}…; now {part.rows:,} rows, {part.fingerprint[:19]}…)",
        hint="pass replace=True (--replace) to store a new revision; nothing was written",
    )


def _describe(data: Any) -> str | None:
    """The source for the ledger, credentials stripped (None for in-memory tables)."""
    if not isinstance(data, (str, os.PathLike)):
        return None
    from mlaudit.data.sources import describe

    return describe(data)


def _latest(conn: Any, name: str, starts: builtins.list[str]) -> dict[str, Any]:
    """The latest stored revision of each of these partition starts."""
    out: dict[str, Any] = {}
    for i in range(0, len(starts), 500):
        rows = conn.execute(
            sa.select(dataset_partitions)
            .where(dataset_partitions.c.dataset == name, dataset_partitions.c.start.in_(starts[i : i + 500]))
            .order_by(dataset_partitions.c.revision)
        ).all()
        out.update({r.start: r for r in rows})
    return out


def _partition(row: Mapping[str, Any], status: Status | None = None) -> Partition:
    r = dict(row)
    return Partition(
        **(
            r
            | {"rows": int(r["rows"]), "revision": int(r["revision"]), "seq": int(r["seq"]), "status": status}
        )
    )
