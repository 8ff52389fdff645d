"""Time partitions of a table and their mergeable profiles (pure: Arrow in, profiles out).

A row belongs to the partition that holds its time, in UTC: an ``hour`` or a ``day`` starts on
the hour or at midnight, a ``week`` on ISO Monday 00:00, a ``month`` on the 1st. Every partition
of one partitioned dataset is profiled on one :class:`Layout` — the columns in order, their kinds
and the histogram edges of every numeric/datetime column — so any set of partitions merges into
the profile of their rows (see :mod:`mlaudit.stats.profile`). Values outside the edges are
counted in the histograms' ``below``/``above``.

:class:`PartitionAccumulator` takes record batches in any order and keeps, per partition, one
profile and one streaming fingerprint: memory grows with the number of partitions seen, never
with rows.

>>> import pyarrow as pa
>>> t = pa.table({"ts": [datetime(2026, 1, 1, 5), datetime(2026, 1, 2, 7)], "x": [1.0, 3.0]})
>>> acc = PartitionAccumulator(Layout.infer(t), "ts", "day")
>>> acc.update(t)
>>> [(p.start.isoformat(), p.rows) for p in acc.parts()]
[('2026-01-01T00:00:00+00:00', 1), ('2026-01-02T00:00:00+00:00', 1)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from mlaudit.data.fingerprint import Fingerprinter
from mlaudit.errors import InputError
from mlaudit.stats.kinds import ColumnKind, infer_kinds, numeric_values
from mlaudit.stats.profile import DEFAULT_BINS, EXACT_ITEMS_CAP, ColumnProfile, Profile, profile

if TYPE_CHECKING:
    from mlaudit.stats.drift import ColumnDrift, DriftReport

__all__ = [
    "EVERY",
    "WIDEN",
    "Every",
    "Layout",
    "PartitionAccumulator",
    "PartitionPart",
    "partition_end",
    "partition_starts",
    "profile_drift",
]

Every = Literal["hour", "day", "week", "month"]
EVERY: tuple[Every, ...] = get_args(Every)
WIDEN = 0.1  # first-batch edges cover the batch's range widened by 10 % on each side
LAYOUT_KIND = "mlaudit.partition_layout"
_US = {"hour": 3_600_000_000, "day": 86_400_000_000}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MONDAY_OFFSET_DAYS = 3  # 1970-01-01 was a Thursday; 1969-12-29 a Monday


def _check_every(every: str) -> Every:
    if every not in EVERY:
        raise InputError(f"unknown partition size {every!r}", hint=f"use one of {', '.join(EVERY)}")
    return every


def partition_starts(
    times: pa.Array | pa.ChunkedArray, every: str, *, column: str = "time", first_row: int = 0
) -> np.ndarray:
    """The start (``datetime64[us]``, UTC) of the partition of each value of ``times``.

    Timestamps (naive ones are read as UTC), dates and ISO 8601 text are accepted; a null or
    unparseable time is an :class:`InputError` naming ``column`` and the row (``first_row`` +
    position, counting data rows from 0).

    >>> partition_starts(pa.array(["2026-03-04T10:30:00Z"]), "week").astype(str).tolist()
    ['2026-03-02T00:00:00.000000']
    """
    every = _check_every(every)
    us = _micros(times, column, first_row)
    if every in _US:
        step = _US[every]
        return ((us // step) * step).astype("datetime64[us]")
    days = us // _US["day"]
    if every == "week":
        monday = (days + _MONDAY_OFFSET_DAYS) // 7 * 7 - _MONDAY_OFFSET_DAYS
        return (monday * _US["day"]).astype("datetime64[us]")
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return months.astype("datetime64[us]")


def partition_end(start: datetime, every: str) -> datetime:
    """The (exclusive) end of the partition starting at ``start``.

    >>> partition_end(datetime(2026, 12, 1, tzinfo=UTC), "month").isoformat()
    '2027-01-01T00:00:00+00:00'
    """
    every = _check_every(every)
    if every == "month":
        year, month = divmod(start.year * 12 + start.month, 12)  # month is 0-based here
        return start.replace(year=year, month=month + 1)
    return start + {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[every]


def _as_datetime(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _micros(times: pa.Array | pa.ChunkedArray, column: str, first_row: int) -> np.ndarray:
    if isinstance(times, pa.ChunkedArray):
        times = times.combine_chunks() if times.num_chunks != 1 else times.chunk(0)
    if times.null_count:
        row = int(np.flatnonzero(pc.is_null(times).to_numpy(zero_copy_only=False))[0])
        raise InputError(
            "the time is missing (null)", column=column, row=first_row + row,
            hint="every row needs a time to be put in a partition: fill or drop these rows",
        )  # fmt: skip
    t = times.type
    if pa.types.is_dictionary(t):
        times, t = times.cast(t.value_type), t.value_type
    if pa.types.is_timestamp(t):
        stamps = times if t.tz is not None else times.cast(pa.timestamp(t.unit, tz="UTC"))
    elif pa.types.is_date(t):
        stamps = times.cast(pa.date32()).cast(pa.timestamp("s")).cast(pa.timestamp("s", tz="UTC"))
    elif pa.types.is_string(t) or pa.types.is_large_string(t):
        stamps = _parse_text(times, column, first_row)
    else:
        raise InputError(
            f"the time column has type {t}, not a timestamp, date or ISO 8601 text",
            column=column, hint="pass the column that holds the event time",
        )  # fmt: skip
    micros = stamps.cast(pa.timestamp("us", tz="UTC"), safe=False).cast(pa.int64())
    return np.asarray(micros.to_numpy(zero_copy_only=False), dtype=np.int64)


def _parse_text(values: pa.Array, column: str, first_row: int) -> pa.Array:
    for target in (pa.timestamp("us", tz="UTC"), pa.timestamp("us")):
        try:
            out = values.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return out if target.tz else out.cast(pa.timestamp("us", tz="UTC"))
    parsed = []  # mixed forms (some with an offset, some without): one value at a time
    for i, text in enumerate(values.to_pylist()):
        try:
            stamp = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError(
                f"cannot read {text!r} as a time", column=column, row=first_row + i,
                hint="write times in ISO 8601, e.g. 2026-03-04T10:30:00Z",
            ) from None  # fmt: skip
        parsed.append(stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC))
    return pa.array(parsed, pa.timestamp("us", tz="UTC"))


@dataclass(frozen=True)
class Layout:
    """What every partition of a dataset is profiled on: columns, kinds, histogram edges.

    >>> lay = Layout.infer(pa.table({"x": [0.0, 10.0], "c": ["a", "b"]}))
    >>> (lay.columns, lay.kinds["c"], lay.bins["x"][0], lay.bins["x"][-1])
    (('x', 'c'), 'categorical', -1.0, 11.0)
    """

    columns: tuple[str, ...]
    kinds: dict[str, ColumnKind]
    bins: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @classmethod
    def infer(cls, table: pa.Table, kinds: Mapping[str, ColumnKind] | None = None) -> Layout:
        """Kinds inferred from ``table`` (``kinds`` overrides); for each numeric/datetime column
        :data:`~mlaudit.stats.profile.DEFAULT_BINS` equal-width bins over its finite range widened
        by :data:`WIDEN` on each side (``[0, 1]`` when it has no finite value)."""
        resolved = infer_kinds(table, kinds)
        bins = {
            name: _widened_edges(numeric_values(table.column(name), kind, name))
            for name, kind in resolved.items()
            if kind in ("numeric", "datetime")
        }
        return cls(tuple(table.column_names), resolved, bins)

    @classmethod
    def from_profile(cls, reference: Profile, table: pa.Table) -> Layout:
        """The kinds and edges of a reference profile; numeric/datetime columns the reference has
        no histogram for (no finite value) get edges from ``table`` as in :meth:`infer`."""
        kinds = reference.kinds()
        _same_columns(tuple(kinds), table.column_names, "the reference profile")
        edges = {name: tuple(float(e) for e in v) for name, v in reference.bins().items()}
        fallback = cls.infer(table, kinds).bins
        bins = {n: edges.get(n, fallback[n]) for n in kinds if kinds[n] in ("numeric", "datetime")}
        return cls(tuple(kinds), dict(kinds), bins)

    def select(self, table: pa.Table) -> pa.Table:
        """``table`` with the layout's columns in the layout's order (others: InputError)."""
        _same_columns(self.columns, table.column_names, "the partitioned dataset")
        return table.select(list(self.columns))

    def profile(self, table: pa.Table) -> Profile:
        """The profile of ``table`` (already :meth:`select`-ed) on this layout."""
        return profile(table, kinds=self.kinds, bins={n: np.array(e) for n, e in self.bins.items()})

    def to_bytes(self) -> bytes:
        """Canonical JSON (sorted keys), so equal layouts have equal digests."""
        doc = {
            "kind": LAYOUT_KIND,
            "schema_version": 1,
            "columns": list(self.columns),
            "kinds": self.kinds,
            "bins": {n: list(e) for n, e in self.bins.items()},
        }
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)

    @classmethod
    def from_bytes(cls, data: bytes) -> Layout:
        doc = orjson.loads(data)
        if doc.get("kind") != LAYOUT_KIND or doc.get("schema_version") != 1:
            raise InputError("these bytes are not an mlaudit partition layout (version 1)")
        bins = {n: tuple(float(x) for x in e) for n, e in doc["bins"].items()}
        return cls(tuple(doc["columns"]), dict(doc["kinds"]), bins)


def _widened_edges(values: np.ndarray) -> tuple[float, ...]:
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = (hi - lo) * WIDEN if hi > lo else 0.5
    return tuple(float(e) for e in np.linspace(lo - pad, hi + pad, DEFAULT_BINS + 1))


def _same_columns(expected: Sequence[str], found: Sequence[str], what: str) -> None:
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    if missing or extra:
        column = (missing or extra)[0]
        raise InputError(
            f"the columns differ from those of {what}: missing {missing}, extra {extra}",
            column=column, hint=f"{what} has the columns {', '.join(expected)}",
        )  # fmt: skip


@dataclass
class PartitionPart:
    """One partition's accumulated state: start/end (UTC), rows, profile, fingerprint."""

    start: datetime
    end: datetime
    profile: Profile
    fingerprinter: Fingerprinter

    @property
    def rows(self) -> int:
        return self.profile.rows

    @property
    def fingerprint(self) -> str:
        return self.fingerprinter.hexdigest()


class PartitionAccumulator:
    """Profiles and fingerprints per partition, fed batch by batch (see the module docstring).

    The fingerprint of a partition follows the order its rows arrive in (the source's order).
    """

    def __init__(self, layout: Layout, time_column: str, every: str) -> None:
        if time_column not in layout.columns:
            raise InputError(
                "no such time column", column=time_column, hint=f"columns are: {', '.join(layout.columns)}"
            )
        self.layout = layout
        self.time_column = time_column
        self.every = _check_every(every)
        self.rows = 0
        self._parts: dict[int, PartitionPart] = {}

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Split ``batch`` by partition and add each slice's profile and fingerprint."""
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        table = self.layout.select(table)
        n = table.num_rows
        if n:
            starts = partition_starts(
                table.column(self.time_column), self.every, column=self.time_column, first_row=self.rows
            ).astype(np.int64)
            keys, inverse, counts = np.unique(starts, return_inverse=True, return_counts=True)
            order = np.argsort(inverse, kind="stable")  # keeps the source's order in a partition
            bounds = np.concatenate(([0], np.cumsum(counts)))
            for i, key in enumerate(keys.tolist()):
                idx = order[bounds[i] : bounds[i + 1]]
                part = table if counts[i] == n else table.take(pa.array(idx))
                self._add(int(key), part)
        self.rows += n

    def _add(self, key: int, part: pa.Table) -> None:
        prof = self.layout.profile(part)
        known = self._parts.get(key)
        if known is None:
            start = _as_datetime(key)
            fp = Fingerprinter()
            fp.update(part)
            self._parts[key] = PartitionPart(start, partition_end(start, self.every), prof, fp)
            return
        known.fingerprinter.update(part)
        known.profile = known.profile.merge(prof)

    def parts(self) -> list[PartitionPart]:
        """The partitions seen so far, oldest first."""
        return [self._parts[k] for k in sorted(self._parts)]


# ---------------------------------------------------------------- drift between two profiles

PROFILE_TESTS = ("psi", "js", "hellinger", "chi2")
_DEFAULT_PROFILE_TEST = {"numeric": "psi", "datetime": "psi", "categorical": "chi2", "boolean": "chi2"}


def profile_drift(
    reference: Profile,
    current: Profile,
    *,
    columns: Sequence[str] | None = None,
    tests: Mapping[str, str] | None = None,
    thresholds: Mapping[str, float] | None = None,
    alpha: float = 0.05,
) -> DriftReport:
    """Drift between two profiles on the same layout, from their counts alone (exact on bins).

    Numeric/datetime columns: the histogram cells (``below``, each bin, ``above``) compared with
    ``psi`` by default (``js``/``hellinger``/``chi2`` by ``tests=``), a chi-square p-value on the
    same cells; categorical/boolean columns: ``chi2`` on the exact category counts. The decision
    rule is :mod:`mlaudit.stats.drift`'s: Benjamini–Hochberg-corrected p below ``alpha`` and an
    effect above threshold + noise. Text columns, and categories past the exact-count cap, are
    skipped with a reason.

    >>> e = np.array([0.0, 1.0, 2.0])
    >>> a = profile({"x": [0.5] * 50 + [1.5] * 50}, bins={"x": e})
    >>> b = profile({"x": [0.5] * 90 + [1.5] * 10}, bins={"x": e})
    >>> r = profile_drift(a, b)
    >>> (r.column("x").test, r.drifted_columns)
    ('psi', ('x',))
    """
    from mlaudit.stats.drift import DriftReport

    names = list(columns) if columns is not None else list(reference.columns)
    for name in names:
        if name not in current.columns or name not in reference.columns:
            raise InputError("the column is missing from one of the profiles", column=name)
    raw = [
        _column_drift(reference.column(n), current.column(n), (tests or {}).get(n), (thresholds or {}).get(n))
        for n in names
    ]
    return DriftReport(
        reference.rows, current.rows, tuple(_decided(raw, alpha)), alpha=alpha, correction="bh"
    )


def _column_drift(
    ref: ColumnProfile, cur: ColumnProfile, test: str | None, threshold: float | None
) -> ColumnDrift:
    from mlaudit.stats.drift import ColumnDrift
    from mlaudit.stats.drift_tests import (
        CATEGORICAL_TESTS,
        DEFAULT_THRESHOLDS,
        CategoricalPair,
        categorical_reference,
    )

    kind = ref.kind
    test = test or _DEFAULT_PROFILE_TEST.get(kind, "skipped")
    if test not in PROFILE_TESTS and kind != "text":
        raise InputError(
            f"test {test!r} needs raw values", column=ref.name, hint=f"use one of {PROFILE_TESTS}"
        )
    limit = float(threshold if threshold is not None else DEFAULT_THRESHOLDS.get(test, 0.0))
    counts = {
        "reference": {"rows": ref.count, "nulls": ref.nulls},
        "current": {"rows": cur.count, "nulls": cur.nulls},
    }

    def skipped(reason: str) -> ColumnDrift:
        details = {**counts, "reason": reason}
        return ColumnDrift(ref.name, kind, "skipped", None, None, None, None, None, limit, False, details)

    if kind == "text":
        return skipped("text column: not tested for drift")
    ref_cells, cur_cells = _cells(ref), _cells(cur)
    if ref_cells is None or cur_cells is None:
        return skipped(f"more than {EXACT_ITEMS_CAP} categories: counts are sketched, not exact")
    (ref_keys, ref_counts), (cur_keys, cur_counts) = ref_cells, cur_cells
    if sum(ref_counts) == 0 or sum(cur_counts) == 0:
        return skipped("no values on one side")
    pair = CategoricalPair(
        categorical_reference(ref_keys, np.asarray(ref_counts)), cur_keys, np.asarray(cur_counts)
    )
    outcome = CATEGORICAL_TESTS[test](pair)
    details = {**counts, **outcome.details, "noise": outcome.noise, "exact": True}
    if kind in ("numeric", "datetime"):  # cells are bins, not categories: report their counts
        for key in ("missing_categories", "unseen_categories", "unseen_count"):
            details.pop(key, None)
        details["bins"] = {"cells": "below, each bin, above", "reference": ref_counts, "current": cur_counts}
    p = None if outcome.p_value is None else float(outcome.p_value)
    return ColumnDrift(
        ref.name, kind, test, float(outcome.statistic), p, None, float(outcome.effect),
        outcome.effect_name, limit, False, details,
    )  # fmt: skip


def _cells(c: ColumnProfile) -> tuple[list[str], list[int]] | None:
    if c.kind in ("numeric", "datetime"):
        h = c.histogram
        counts = [h.below, *h.counts, h.above] if h is not None else [0]
        width = len(str(len(counts)))
        return [f"{i:0{width}d}" for i in range(len(counts))], [int(x) for x in counts]
    if c.value_counts is None:
        return None
    return [v for v, _ in c.value_counts], [int(n) for _, n in c.value_counts]


def _decided(raw: list[ColumnDrift], alpha: float) -> list[ColumnDrift]:
    from dataclasses import replace

    from scipy import stats

    tested = [i for i, c in enumerate(raw) if c.p_value is not None]
    p = np.array([raw[i].p_value for i in tested], dtype=np.float64)
    adjusted = stats.false_discovery_control(p, method="bh") if p.size else p
    out = list(raw)
    for i, q in zip(tested, np.asarray(adjusted).tolist(), strict=True):
        c = raw[i]
        effect = c.effect or 0.0
        drifted = q < alpha and effect - c.details.get("noise", 0.0) > c.threshold
        out[i] = replace(c, p_adjusted=float(q), drifted=bool(drifted))
    return out
