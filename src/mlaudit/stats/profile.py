"""Mergeable table profiles: one pass over a table, summaries that add up.

Per column (see :class:`ColumnProfile`): rows, nulls, NaN and ±inf counts, min, max, mean
and ``m2`` (mergeable moments, Chan et al.), a KLL quantile sketch, an HLL distinct-count
sketch, frequent items (exact counts up to :data:`EXACT_ITEMS_CAP` distinct values, then a
frequent-items sketch) and a histogram on fixed edges. Sketches are Apache DataSketches.

The profile of a table equals the merge of the profiles of its parts (exactly for counts,
min/max and exact item counts; up to float rounding for mean/m2; within the sketches'
stated error for quantiles and distinct counts), provided the parts share kinds and bins:

>>> import numpy as np
>>> a = profile({"x": [1.0, 2.0]}, bins={"x": np.array([0.0, 2.0, 4.0])})
>>> b = profile({"x": [3.0, None]}, bins={"x": np.array([0.0, 2.0, 4.0])})
>>> whole = a.merge(b).column("x")
>>> (whole.count, whole.nulls, whole.mean, whole.variance, whole.histogram.counts)
(4, 1, 2.0, 1.0, (1, 2))
>>> Profile.from_bytes(a.to_bytes()).column("x").max
2.0

Edge cases, by design: an empty table gives counts of 0, ``None`` for min/max/mean and
quantiles, and empty sketches; an all-null column likewise (plus its null count). NaN and
±inf are counted in ``nan``/``inf`` and left out of moments, sketches and histograms.
Datetimes are profiled as seconds since 1970-01-01 UTC (so min, max, quantiles and bins are
in that unit). Booleans have mean = share of ``True`` and item counts ``"true"``/``"false"``.
Text columns describe value *length* in characters (moments, quantiles) plus distinct count.
A categorical with more than :data:`EXACT_ITEMS_CAP` distinct values (even millions) keeps
only bounded sketches. Without ``bins=`` a column's histogram has 20 equal-width bins over
its own range, so parts profiled that way do not merge (:class:`InputError`): pass
``bins=reference.bins()``. Mixed-type columns are rejected by :func:`~mlaudit.frames.to_table`.
"""

from __future__ import annotations

import dataclasses
import os
import struct
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from datasketches import (
    frequent_items_error_type,
    frequent_strings_sketch,
    hll_sketch,
    hll_union,
    kll_doubles_sketch,
)

from mlaudit.errors import InputError
from mlaudit.frames import TableLike, is_spark_frame, to_table
from mlaudit.stats.kinds import (
    ColumnKind,
    check_bins,
    infer_kinds,
    numeric_values,
    string_values,
)

__all__ = [
    "EMPTY_STRING_KEY",
    "EXACT_ITEMS_CAP",
    "SCHEMA_VERSION",
    "ColumnKind",
    "ColumnProfile",
    "Histogram",
    "Profile",
    "default_edges",
    "infer_kinds",
    "profile",
]

SCHEMA_VERSION = 1
KIND = "mlaudit.profile"
EXACT_ITEMS_CAP = 10_000
DEFAULT_BINS = 20
HLL_LG_K = 12  # 4 KiB per column, relative standard error ~1.6 %
ITEMS_LG_MAX_K = 12  # frequent-items map of 4096 slots: error <= 0.00085 x total weight
_MAGIC = b"MLAUDIT-PROFILE\n"
# Apache DataSketches' HLL skips empty strings; this key stands in for "" so it is counted.
# Engines that build profiles elsewhere (Spark) must feed the same keys: strings as they are,
# numbers and datetimes as float64 (datetimes in epoch seconds), booleans as "true"/"false".
EMPTY_STRING_KEY = "\x00mlaudit:empty-string"
_SCALARS = ("name", "kind", "count", "nulls", "nan", "inf", "valid", "min", "max", "mean", "m2")
_SKETCHES = ("quantile_sketch", "distinct_sketch", "items_sketch")
_PARALLEL_CELLS = 200_000  # rows x columns above which columns are profiled in threads


@dataclass(frozen=True)
class Histogram:
    """Counts of finite values on fixed ``edges`` (NumPy's rule: the last bin is closed).

    ``below``/``above`` count values outside ``[edges[0], edges[-1]]``.

    >>> Histogram.of(np.array([0.5, 1.0, 7.0]), np.array([0.0, 1.0, 2.0]))
    Histogram(edges=(0.0, 1.0, 2.0), counts=(1, 1), below=0, above=1)
    """

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    below: int = 0
    above: int = 0

    @classmethod
    def of(cls, values: np.ndarray, edges: np.ndarray) -> Histogram:
        """Count finite ``values`` into the bins of validated ``edges``."""
        distinct, counts = np.unique(values, return_counts=True)
        return cls.of_distinct(distinct, counts, edges)

    @classmethod
    def of_distinct(cls, distinct: np.ndarray, counts: np.ndarray, edges: np.ndarray) -> Histogram:
        """Like :meth:`of`, from sorted distinct values and their counts (no pass over rows)."""
        below_edge = np.concatenate(([0], np.cumsum(counts)))  # values below distinct[i]
        at = below_edge[np.searchsorted(distinct, edges, side="left")]
        at[-1] = below_edge[np.searchsorted(distinct, edges[-1], side="right")]  # closed last bin
        return cls(
            tuple(float(e) for e in edges),
            tuple(int(c) for c in np.diff(at)),
            int(at[0]),
            int(below_edge[-1] - at[-1]),
        )

    def merge(self, other: Histogram, column: str = "") -> Histogram:
        """Add the counts of a histogram with the same edges (else :class:`InputError`)."""
        if self.edges != other.edges:
            raise InputError(
                "cannot merge histograms with different bin edges (re-binning is impossible)",
                column=column or None,
                hint="profile every part with the same bins=, e.g. bins=reference.bins()",
            )
        counts = tuple(a + b for a, b in zip(self.counts, other.counts, strict=True))
        return Histogram(self.edges, counts, self.below + other.below, self.above + other.above)


@dataclass(frozen=True, eq=False)
class ColumnProfile:
    """The mergeable summary of one column. Sketch objects are shared: treat them as read-only.

    ``count`` is rows (nulls included); ``valid`` is the number of values that entered the
    moments and sketches (numeric/datetime: finite values; other kinds: non-null values);
    ``m2`` is the sum of squared deviations from ``mean``. ``min``/``max``/``mean``/``m2``
    are ``None``/0 for categorical columns. Exact item counts (``value_counts``, sorted by count
    then value) are kept while there are at most :data:`EXACT_ITEMS_CAP` distinct values;
    past that ``items_sketch`` takes over.
    Two profiles are equal when their fields and what their sketches report agree (KLL
    bytes; HLL estimate and bounds; frequent items with bounds): HLL and frequent-items
    bytes depend on insertion order, so bytes are not compared for those.

    >>> c = profile({"c": ["a", "b", "a", None]}).column("c")
    >>> (c.kind, c.count, c.nulls, c.top(1), c.distinct_estimate())
    ('categorical', 4, 1, [('a', 2)], 2.0)
    """

    name: str
    kind: ColumnKind
    count: int
    nulls: int
    nan: int
    inf: int
    valid: int
    min: float | None
    max: float | None
    mean: float | None
    m2: float
    quantile_sketch: kll_doubles_sketch | None
    distinct_sketch: hll_sketch
    value_counts: tuple[tuple[str, int], ...] | None
    items_sketch: frequent_strings_sketch | None
    histogram: Histogram | None

    @property
    def variance(self) -> float | None:
        """Sample variance (``m2 / (valid - 1)``, ddof=1); ``None`` below two values."""
        if self.mean is None or self.valid < 2:
            return None
        return self.m2 / (self.valid - 1)

    @property
    def std(self) -> float | None:
        """Sample standard deviation (ddof=1); ``None`` below two values."""
        v = self.variance
        return None if v is None else float(np.sqrt(v))

    def quantile(self, q: float) -> float | None:
        """Approximate ``q``-quantile (0 <= q <= 1) from the KLL sketch; ``None`` when empty."""
        return self.quantiles([q])[0]

    def quantiles(self, qs: Sequence[float]) -> list[float | None]:
        """Approximate quantiles (rank error: ``quantile_sketch.normalized_rank_error(False)``).

        ``q=0`` and ``q=1`` give the exact min and max of the values in the sketch.
        """
        for q in qs:
            if not 0.0 <= q <= 1.0:
                raise InputError(f"quantiles must lie in [0, 1], not {q}", column=self.name)
        sk = self.quantile_sketch
        if sk is None or sk.is_empty():
            return [None] * len(qs)
        ends = {0.0: sk.get_min_value(), 1.0: sk.get_max_value()}  # exact, unlike rank 0 / 1
        found = sk.get_quantiles(list(qs)) if len(qs) else []
        return [float(ends.get(q, v)) for q, v in zip(qs, found, strict=True)]

    def distinct_estimate(self) -> float:
        """Distinct non-null values: exact while item counts are exact, else the HLL estimate."""
        if self.value_counts is not None:
            return float(len(self.value_counts))
        return float(self.distinct_sketch.get_estimate())

    def top(self, n: int | None = 10) -> list[tuple[str, int]]:
        """The ``n`` most frequent values with their counts (estimates once past the cap).

        Empty for kinds without item counts (numeric, datetime, text); ``n=None`` gives all.
        """
        if self.value_counts is not None:
            return list(self.value_counts[:n])
        if self.items_sketch is None:
            return []
        rows = self.items_sketch.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES)
        ranked = sorted(((str(r[0]), int(r[1])) for r in rows), key=lambda t: (-t[1], t[0]))
        return ranked[:n]

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """The profile of both parts together (associative and commutative)."""
        if other.name != self.name or other.kind != self.kind:
            raise InputError(
                f"cannot merge column {other.name!r} ({other.kind}) into "
                f"{self.name!r} ({self.kind})",
                column=self.name,
                hint="profile every part with the same kinds=, e.g. kinds=reference.kinds()",
            )
        valid = self.valid + other.valid
        mean, m2 = _merge_moments(self.valid, self.mean, self.m2, other.valid, other.mean, other.m2)
        counts, items = _merge_items(self, other)
        return ColumnProfile(
            self.name, self.kind, self.count + other.count, self.nulls + other.nulls,
            self.nan + other.nan, self.inf + other.inf, valid,
            _pick(min, self.min, other.min), _pick(max, self.max, other.max), mean, m2,
            _merge_kll(self.quantile_sketch, other.quantile_sketch),
            _merge_hll(self.distinct_sketch, other.distinct_sketch), counts, items,
            _merge_histograms(self.histogram, other.histogram, self.name),
        )  # fmt: skip

    def to_dict(self, quantiles: Sequence[float] = (0.01, 0.25, 0.5, 0.75, 0.99)) -> dict[str, Any]:
        """A JSON-able summary (sketches reduced to quantiles, distinct estimate, top 10)."""
        out: dict[str, Any] = {key: getattr(self, key) for key in _SCALARS if key != "m2"}
        out.update(std=self.std, distinct=self.distinct_estimate(), quantiles=None, histogram=None)
        out["top"] = [{"value": v, "count": c} for v, c in self.top(10)]
        if self.quantile_sketch is not None:
            qv = self.quantiles(quantiles)
            out["quantiles"] = {f"{q:g}": v for q, v in zip(quantiles, qv, strict=True)}
        if self.histogram is not None:
            out["histogram"] = dataclasses.asdict(self.histogram)
        return out

    def _state(self) -> tuple[Any, ...]:
        return (
            *(getattr(self, key) for key in _SCALARS), self.value_counts, self.histogram,
            _sketch_bytes(self.quantile_sketch), _hll_view(self.distinct_sketch),
            _items_view(self.items_sketch),
        )  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ColumnProfile):
            return NotImplemented
        return self._state() == other._state()

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class Profile:
    """The profile of a table: ``rows`` and one :class:`ColumnProfile` per column, in order.

    >>> p = profile({"age": [31, 45, 27]})
    >>> (p.rows, p.column("age").max, p.to_dict()["kind"])
    (3, 45.0, 'mlaudit.profile')
    """

    rows: int
    columns: dict[str, ColumnProfile]

    def column(self, name: str) -> ColumnProfile:
        """The profile of column ``name`` (:class:`InputError` if there is none)."""
        if name not in self.columns:
            raise InputError(
                "no such column in the profile",
                column=name,
                hint=f"columns are: {', '.join(self.columns) or '(none)'}",
            )
        return self.columns[name]

    def kinds(self) -> dict[str, ColumnKind]:
        """Each column's kind: pass as ``kinds=`` when profiling parts to merge later."""
        return {name: c.kind for name, c in self.columns.items()}

    def bins(self) -> dict[str, np.ndarray]:
        """Each histogram's edges: pass as ``bins=`` so that other profiles merge/compare."""
        return {
            name: np.array(c.histogram.edges)
            for name, c in self.columns.items()
            if c.histogram is not None
        }

    def merge(self, other: Profile) -> Profile:
        """The profile of both tables stacked (same columns, kinds and bins required)."""
        if list(self.columns) != list(other.columns):
            raise InputError(
                "cannot merge profiles of tables with different columns: "
                f"{list(self.columns)} vs {list(other.columns)}",
                hint="select the same columns, in the same order, before profiling each part",
            )
        merged = {name: c.merge(other.columns[name]) for name, c in self.columns.items()}
        return Profile(self.rows + other.rows, merged)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary for ``--json``: ``kind``, ``schema_version``, ``rows``, ``columns``."""
        return {
            "kind": KIND,
            "schema_version": SCHEMA_VERSION,
            "rows": self.rows,
            "columns": [c.to_dict() for c in self.columns.values()],
        }

    def _repr_html_(self) -> str:
        """The profile as a report in a notebook (an isolated iframe)."""
        summary = f"{self.rows} rows, columns: {', '.join(self.columns)}"
        try:
            from mlaudit.report.profile_report import render_profile

            return render_profile(self)._repr_html_()
        except (ImportError, InputError) as exc:  # no plotly (the report extra): no page
            from html import escape

            return f"<pre>{escape(summary)}</pre><p>(no HTML report: {escape(str(exc))})</p>"

    def to_bytes(self) -> bytes:
        """A versioned envelope: magic, 4-byte header length, JSON header, sketch bytes."""
        blobs = bytearray()
        columns = []
        for c in self.columns.values():
            refs: dict[str, list[int] | None] = {}
            for key in _SKETCHES:
                data = _sketch_bytes(getattr(c, key))
                refs[key] = None if data is None else [len(blobs), len(data)]
                blobs += data or b""
            h = c.histogram
            column: dict[str, Any] = {key: getattr(c, key) for key in _SCALARS}
            column["value_counts"] = c.value_counts
            column["histogram"] = None if h is None else [h.edges, h.counts, h.below, h.above]
            columns.append({**column, "sketches": refs})
        header = orjson.dumps(
            {"kind": KIND, "schema_version": SCHEMA_VERSION, "rows": self.rows, "columns": columns}
        )
        return _MAGIC + struct.pack(">I", len(header)) + header + bytes(blobs)

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        """Read :meth:`to_bytes` output; anything else is an :class:`InputError`."""
        try:
            return _decode(bytes(data))
        except InputError:
            raise
        except (ValueError, KeyError, TypeError, IndexError, RuntimeError, struct.error) as exc:
            raise InputError(f"corrupt profile bytes: {exc}") from exc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return self.rows == other.rows and self.columns == other.columns

    __hash__ = None  # type: ignore[assignment]


def profile(
    data: TableLike,
    *,
    kinds: Mapping[str, ColumnKind] | None = None,
    bins: Mapping[str, np.ndarray] | None = None,
    k: int = 200,
) -> Profile:
    """Profile every column of ``data`` (anything :func:`mlaudit.frames.to_table` accepts).

    ``kinds`` overrides inferred kinds (:func:`infer_kinds`). ``bins`` gives histogram edges
    for numeric/datetime columns (strictly increasing, finite; datetimes in epoch seconds);
    columns without are binned into 20 equal-width bins over their own finite range. ``k``
    is the KLL accuracy parameter (200: rank error about 1.3 %).

    >>> p = profile({"x": [1.0, float("nan"), float("inf"), 3.0]})
    >>> c = p.column("x")
    >>> (c.count, c.nan, c.inf, c.mean, c.quantile(1.0))
    (4, 1, 1, 2.0, 3.0)
    """
    if is_spark_frame(data):  # partitions profiled where they lie, then merged
        from mlaudit.engines.spark import profile as profile_spark

        return profile_spark(data, kinds=kinds, bins=bins, k=k)
    table = to_table(data)
    names = table.column_names
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError("the column name appears more than once", column=dup)
    resolved = infer_kinds(table, kinds)
    edges = check_bins(bins or {}, resolved)
    if not 8 <= k <= 65535:
        raise InputError(f"k must be between 8 and 65535, not {k}")

    def one(name: str) -> ColumnProfile:
        return _profile_column(name, table.column(name), resolved[name], edges.get(name), k)

    workers = min(len(names), os.cpu_count() or 1)
    if workers > 1 and table.num_rows * len(names) >= _PARALLEL_CELLS:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(one, names))
    else:
        results = [one(name) for name in names]
    return Profile(table.num_rows, dict(zip(names, results, strict=True)))


def _profile_column(
    name: str, column: pa.ChunkedArray, kind: ColumnKind, edges: np.ndarray | None, k: int
) -> ColumnProfile:
    base = {
        "name": name, "kind": kind, "count": len(column), "nulls": column.null_count,
        "nan": 0, "inf": 0, "valid": 0, "min": None, "max": None, "mean": None, "m2": 0.0,
        "quantile_sketch": None, "distinct_sketch": hll_sketch(HLL_LG_K),
        "value_counts": None, "items_sketch": None, "histogram": None,
    }  # fmt: skip
    if kind == "boolean":
        flags = numeric_values(column, kind, name)
        base.update(_moments(flags))
        trues = int(flags.sum())
        pairs = [(v, c) for v, c in (("true", trues), ("false", len(flags) - trues)) if c]
        return _with_items(base, pairs)
    if kind == "categorical":
        strings = string_values(column, name)
        base["valid"] = len(strings)
        vc = pc.value_counts(strings)
        if len(vc) <= EXACT_ITEMS_CAP:
            values, counts = vc.field("values").to_pylist(), vc.field("counts").to_pylist()
            return _with_items(base, list(zip(values, counts, strict=True)))
        # past the cap: stream (heavy items first) into the sketches, 64k Python objects at a time
        vc = vc.take(pc.sort_indices(vc.field("counts"), sort_keys=[("", "descending")]))
        chunks = (vc.slice(i, 65_536) for i in range(0, len(vc), 65_536))
        lists = ((c.field("values").to_pylist(), c.field("counts").to_pylist()) for c in chunks)
        base["items_sketch"] = _items_sketch(lists, base["distinct_sketch"])
        return ColumnProfile(**base)
    if kind == "text":
        strings = string_values(column, name)
        lengths = pc.utf8_length(strings).to_numpy().astype(np.float64)
        _feed_hll_strings(base["distinct_sketch"], pc.unique(strings).to_pylist())
        base.update(_moments(lengths))
        base["quantile_sketch"] = _kll(lengths, k)
        return ColumnProfile(**base)
    values = numeric_values(column, kind, name)
    finite_mask = np.isfinite(values)
    finite = values if finite_mask.all() else values[finite_mask]
    nan = int(np.count_nonzero(np.isnan(values)))
    base.update(nan=nan, inf=len(values) - len(finite) - nan)
    base.update(_moments(finite))
    base["quantile_sketch"] = _kll(finite, k)
    distinct, counts = np.unique(finite, return_counts=True)
    _feed_hll(base["distinct_sketch"], distinct.tolist())
    if edges is None and len(finite):
        edges = default_edges(float(distinct[0]), float(distinct[-1]))
    if edges is not None:
        base["histogram"] = Histogram.of_distinct(distinct, counts, edges)
    return ColumnProfile(**base)


def default_edges(lo: float, hi: float) -> np.ndarray:
    """The histogram edges a column gets without ``bins=``: 20 equal-width bins over its
    finite range ``[lo, hi]`` (a constant column gets ``[lo - 0.5, hi + 0.5]``).

    Engines that profile a table in parts compute the whole table's finite min/max first and
    pass ``bins={col: default_edges(lo, hi)}`` so the parts merge into exactly the in-memory
    profile.

    >>> default_edges(0.0, 2.0)[:3].tolist()
    [0.0, 0.1, 0.2]
    """
    lo, hi = (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)
    return np.linspace(lo, hi, DEFAULT_BINS + 1)


def _with_items(base: dict[str, Any], pairs: list[tuple[str, int]]) -> ColumnProfile:
    _feed_hll_strings(base["distinct_sketch"], [v for v, _ in pairs])
    base["value_counts"], base["items_sketch"] = _items(pairs)
    return ColumnProfile(**base)


def _moments(values: np.ndarray) -> dict[str, Any]:
    n = len(values)
    if n == 0:
        return {"valid": 0}
    mean = float(values.mean())
    dev = values - mean
    return {
        "valid": n,
        "min": float(values.min()),
        "max": float(values.max()),
        "mean": mean,
        "m2": float(np.dot(dev, dev)),
    }


def _merge_moments(
    na: int, ma: float | None, m2a: float, nb: int, mb: float | None, m2b: float
) -> tuple[float | None, float]:
    """Chan, Golub & LeVeque's pairwise update of (count, mean, sum of squared deviations)."""
    if nb == 0 or mb is None:
        return ma, m2a
    if na == 0 or ma is None:
        return mb, m2b
    n = na + nb
    delta = mb - ma
    # the weighted average is symmetric in a and b, unlike ma + delta * nb / n
    mean = (na * ma + nb * mb) / n
    return mean, m2a + m2b + delta * delta * (na * nb / n)


def _kll(values: np.ndarray, k: int) -> kll_doubles_sketch:
    sketch = kll_doubles_sketch(k)
    if len(values):
        arr = np.ascontiguousarray(values, dtype=np.float64)
        # the binding rejects read-only (zero-copy Arrow) buffers
        sketch.update(arr if arr.flags.writeable else arr.copy())
    return sketch


def _feed_hll(sketch: hll_sketch, distinct: Iterable[Any]) -> None:
    """One C call per distinct value; "" becomes :data:`EMPTY_STRING_KEY` (HLL ignores "")."""
    deque(map(sketch.update, distinct), maxlen=0)


def _feed_hll_strings(sketch: hll_sketch, distinct: Sequence[str]) -> None:
    _feed_hll(sketch, distinct)
    if "" in distinct:
        sketch.update(EMPTY_STRING_KEY)


def _items(
    pairs: list[tuple[str, int]],
) -> tuple[tuple[tuple[str, int], ...] | None, frequent_strings_sketch | None]:
    if len(pairs) <= EXACT_ITEMS_CAP:
        return tuple(sorted(pairs, key=lambda p: (-p[1], p[0]))), None
    pairs.sort(key=lambda p: -p[1])  # heavy items first: fewer purges
    values, counts = zip(*pairs, strict=True)
    return None, _items_sketch([(values, counts)])


def _items_sketch(
    chunks: Iterable[tuple[Sequence[str], Sequence[int]]], hll: hll_sketch | None = None
) -> frequent_strings_sketch:
    sketch = frequent_strings_sketch(ITEMS_LG_MAX_K)
    for values, counts in chunks:
        deque(map(sketch.update, values, counts), maxlen=0)
        if hll is not None:
            _feed_hll_strings(hll, values)
    return sketch


def _merge_items(
    a: ColumnProfile, b: ColumnProfile
) -> tuple[tuple[tuple[str, int], ...] | None, frequent_strings_sketch | None]:
    if a.value_counts is not None and b.value_counts is not None:
        total = Counter(dict(a.value_counts))
        total.update(dict(b.value_counts))
        return _items(list(total.items()))
    if a.items_sketch is None and b.items_sketch is None:
        return None, None  # kinds without item counts
    exact = [zip(*p.value_counts, strict=True) for p in (a, b) if p.value_counts]
    sketch = _items_sketch(exact)  # type: ignore[arg-type]
    for part in (a, b):
        if part.items_sketch is not None:
            sketch.merge(part.items_sketch)
    return None, sketch


def _merge_kll(
    a: kll_doubles_sketch | None, b: kll_doubles_sketch | None
) -> kll_doubles_sketch | None:
    if a is None or b is None:
        return a if b is None else b
    out = kll_doubles_sketch(min(a.k, b.k))
    out.merge(a)
    out.merge(b)
    return out


def _merge_hll(a: hll_sketch, b: hll_sketch) -> hll_sketch:
    union = hll_union(max(a.lg_config_k, b.lg_config_k))
    union.update(a)
    union.update(b)
    return union.get_result()


def _merge_histograms(a: Histogram | None, b: Histogram | None, column: str) -> Histogram | None:
    # a part without finite values and without bins has no histogram: it adds nothing
    if a is None or b is None:
        return a if b is None else b
    return a.merge(b, column)


def _pick(fn: Any, a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return float(fn(a, b))


def _sketch_bytes(sketch: Any) -> bytes | None:
    if sketch is None:
        return None
    if isinstance(sketch, hll_sketch):
        return bytes(sketch.serialize_compact())
    return bytes(sketch.serialize())


def _hll_view(sketch: hll_sketch) -> tuple[float, ...]:
    bounds = (sketch.get_lower_bound(1), sketch.get_upper_bound(1))
    return (sketch.lg_config_k, sketch.get_estimate(), *bounds)


def _items_view(sketch: frequent_strings_sketch | None) -> tuple[Any, ...] | None:
    if sketch is None:
        return None
    rows = sketch.get_frequent_items(frequent_items_error_type.NO_FALSE_NEGATIVES)
    return (sketch.total_weight, sorted(tuple(r) for r in rows))


def _decode(data: bytes) -> Profile:
    if not data.startswith(_MAGIC):
        raise InputError("these bytes are not an mlaudit profile (bad magic)")
    start = len(_MAGIC) + 4
    (size,) = struct.unpack(">I", data[len(_MAGIC) : start])
    if start + size > len(data):
        raise InputError("truncated profile bytes (header runs past the end)")
    header = orjson.loads(data[start : start + size])
    if header.get("kind") != KIND:
        raise InputError(f"not a profile: kind is {header.get('kind')!r}")
    version = header.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(
            f"unsupported profile schema_version {version!r} (this mlaudit reads {SCHEMA_VERSION})",
            hint="upgrade mlaudit to read newer profiles",
        )
    blobs = data[start + size :]

    def blob(ref: list[int] | None) -> bytes | None:
        if ref is None:
            return None
        off, length = ref
        if off < 0 or off + length > len(blobs):
            raise InputError("truncated profile bytes (a sketch runs past the end)")
        return blobs[off : off + length]

    columns: dict[str, ColumnProfile] = {}
    for c in header["columns"]:
        q, d, i = (blob(c["sketches"][key]) for key in _SKETCHES)
        vc, h = c["value_counts"], c["histogram"]
        scalars: dict[str, Any] = {key: c[key] for key in _SCALARS}
        columns[c["name"]] = ColumnProfile(
            **scalars,
            quantile_sketch=None if q is None else kll_doubles_sketch.deserialize(q),
            distinct_sketch=hll_sketch.deserialize(d),
            value_counts=None if vc is None else tuple((str(v), int(n)) for v, n in vc),
            items_sketch=None if i is None else frequent_strings_sketch.deserialize(i),
            histogram=None if h is None else Histogram(tuple(h[0]), tuple(h[1]), h[2], h[3]),
        )
    return Profile(int(header["rows"]), columns)
