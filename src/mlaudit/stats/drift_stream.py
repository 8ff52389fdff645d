"""Drift in bounded memory: a mergeable summary of each side, built batch by batch.

A :class:`DriftAccumulator` holds, per column, what the drift tests need and nothing that
grows with the rows beyond a fixed ``limit``:

* the counts (rows, nulls, NaN, ±inf) and exact moments of the finite values;
* a uniform *bottom-k* sample of the finite values: every value gets a random key and the
  ``limit`` smallest keys are kept — so while a column has at most ``limit`` finite values the
  sample **is** the column, and the union of two samples' smallest keys is again a uniform
  sample (partitions and batches merge in any order);
* exact category counts (categorical and boolean columns);
* on the current side, exact counts on the reference's quantile bins (``edges``).

:func:`fit_accumulated` and :func:`compare_accumulated` turn the reference and current sides
into exactly what :meth:`DriftDetector.fit` / :meth:`~DriftDetector.compare` give on the whole
tables while every column has at most ``limit`` finite values. Beyond that — the documented
approximation — the tests that need every value (KS, Wasserstein, Anderson–Darling) run on
the uniform sample of ``limit`` values, whose p-values and noise allowance are those of a
sample of that size (so the decision rule stays honest: less power, no extra false alarms),
while the binned tests (PSI, JS, Hellinger, chi-square on bins) and every categorical test
still use exact counts. Each such column says so in ``details["approximate"]``.

>>> import numpy as np, pyarrow as pa
>>> from mlaudit.stats.drift import DriftDetector
>>> ref = pa.table({"x": np.arange(1000.0)})
>>> cur = pa.table({"x": np.arange(1000.0) + 500})
>>> det = DriftDetector()
>>> acc = DriftAccumulator({"x": "numeric"})
>>> for batch in ref.to_batches(max_chunksize=300): acc.update(batch)
>>> _ = fit_accumulated(det, acc)
>>> side = det.current_accumulator()
>>> side.update(cur)
>>> whole = DriftDetector().fit(ref).compare(cur)
>>> compare_accumulated(det, side).to_dict() == whole.to_dict()
True
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from mlaudit.errors import InputError
from mlaudit.stats.drift_tests import (
    BINS,
    CategoricalReference,
    NumericReference,
    categorical_reference,
    numeric_reference,
)
from mlaudit.stats.kinds import KINDS, ColumnKind, numeric_values, string_values

if TYPE_CHECKING:
    from mlaudit.stats.drift import DriftDetector, DriftReport

__all__ = ["DEFAULT_LIMIT", "DriftAccumulator", "compare_accumulated", "fit_accumulated"]

DEFAULT_LIMIT = 1_000_000
_MAGIC = b"MLAUDIT-DRIFTACC\n"
_NUMERIC = ("numeric", "datetime")
_CATEGORICAL = ("categorical", "boolean")


@dataclass
class _Column:
    kind: ColumnKind
    rows: int = 0
    nulls: int = 0
    nan: int = 0
    inf: int = 0
    count: int = 0  # finite values (numeric) or non-null values (categorical)
    mean: float = 0.0
    m2: float = 0.0
    values: np.ndarray = field(default_factory=lambda: np.empty(0))
    keys: np.ndarray = field(default_factory=lambda: np.empty(0))
    bins: np.ndarray | None = None  # exact counts on the reference edges (current side)
    categories: Counter[str] = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        """The ``details["reference"|"current"]`` counts the in-memory path reports."""
        if self.kind in _NUMERIC:
            return {"rows": self.rows, "nulls": self.nulls, "nan": self.nan, "inf": self.inf}
        return {"rows": self.rows, "nulls": self.nulls}


class DriftAccumulator:
    """Bounded, mergeable summary of one side of a drift comparison (see the module doc).

    ``kinds`` names the columns and their kinds (infer them once, on the first 100,000 rows,
    as :func:`~mlaudit.stats.kinds.infer_kinds` does); ``limit`` caps the sample of finite
    values kept per numeric column; ``seed`` seeds the sample's keys (give each partition its
    own); ``edges`` are the reference's bin edges, for exact binned counts on the current side.
    """

    def __init__(
        self,
        kinds: Mapping[str, ColumnKind],
        *,
        limit: int = DEFAULT_LIMIT,
        seed: int = 0,
        edges: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        if limit < 1:
            raise InputError(f"the exact limit must be at least 1 value, not {limit}")
        for name, kind in kinds.items():
            if kind not in KINDS:
                raise InputError(f"unknown column kind {kind!r}", column=name)
        self.kinds: dict[str, ColumnKind] = dict(kinds)
        self.limit = limit
        self.seed = seed
        self.edges = {name: np.asarray(e, dtype=np.float64) for name, e in (edges or {}).items()}
        self.rows = 0
        self._rng = np.random.default_rng(seed)
        self.columns: dict[str, _Column] = {}
        for name, kind in self.kinds.items():
            col = _Column(kind)
            if name in self.edges and kind in _NUMERIC:
                col.bins = np.zeros(len(self.edges[name]) + 1, dtype=np.int64)
            self.columns[name] = col

    # ------------------------------------------------------------------ build

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Add one batch (its other columns are ignored; a missing one is an InputError)."""
        for name, col in self.columns.items():
            if name not in batch.schema.names:
                raise InputError(
                    "the data has no such column",
                    column=name,
                    hint=f"columns are: {', '.join(batch.schema.names)}",
                )
            values = batch.column(name)
            col.rows += len(values)
            col.nulls += values.null_count
            if col.kind in _NUMERIC:
                self._numeric(name, col, numeric_values(values, col.kind, name))
            elif col.kind in _CATEGORICAL:
                strings = string_values(values, name)
                col.count += len(strings)
                if len(strings):
                    vc = pc.value_counts(strings)
                    col.categories.update(
                        dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True))
                    )
        self.rows += batch.num_rows

    def _numeric(self, name: str, col: _Column, values: np.ndarray) -> None:
        finite_mask = np.isfinite(values)
        finite = values if finite_mask.all() else values[finite_mask]
        nan = int(np.count_nonzero(np.isnan(values)))
        col.nan += nan
        col.inf += len(values) - len(finite) - nan
        if not len(finite):
            return
        n, mean = len(finite), float(finite.mean())
        dev = finite - mean
        col.count, col.mean, col.m2 = _chan(col.count, col.mean, col.m2, n, mean, float(np.dot(dev, dev)))
        if col.bins is not None:
            col.bins += np.bincount(
                np.searchsorted(self.edges[name], finite, "left"), minlength=len(col.bins)
            )
        keys = self._rng.random(n)
        if len(col.keys) >= self.limit:  # full: only keys below the largest kept can enter
            keep = keys < col.keys.max()
            finite, keys = finite[keep], keys[keep]
        col.values, col.keys = _bottom(
            np.concatenate((col.values, finite)), np.concatenate((col.keys, keys)), self.limit
        )

    def merge(self, other: DriftAccumulator) -> DriftAccumulator:
        """A new accumulator of both parts (same kinds, limit and edges required)."""
        if self.kinds != other.kinds or self.limit != other.limit:
            raise InputError(
                "cannot merge drift summaries with different columns, kinds or limits",
                hint="build every part with the same kinds= and limit=",
            )
        if self.edges.keys() != other.edges.keys() or any(
            not np.array_equal(e, other.edges[n]) for n, e in self.edges.items()
        ):
            raise InputError("cannot merge drift summaries binned on different reference edges")
        out = DriftAccumulator(self.kinds, limit=self.limit, seed=self.seed, edges=self.edges)
        out.rows = self.rows + other.rows
        for name, col in out.columns.items():
            a, b = self.columns[name], other.columns[name]
            col.rows, col.nulls, col.nan, col.inf = (
                a.rows + b.rows,
                a.nulls + b.nulls,
                a.nan + b.nan,
                a.inf + b.inf,
            )
            col.count, col.mean, col.m2 = _chan(a.count, a.mean, a.m2, b.count, b.mean, b.m2)
            col.values, col.keys = _bottom(
                np.concatenate((a.values, b.values)), np.concatenate((a.keys, b.keys)), self.limit
            )
            if a.bins is not None and b.bins is not None:
                col.bins = a.bins + b.bins
            col.categories = a.categories + b.categories
        return out

    def split(self) -> list[tuple[str, DriftAccumulator]]:
        """One single-column summary per column (arrays shared): engines merge columns apart,
        so no one message carries every column's sample."""
        out = []
        for name, col in self.columns.items():
            edges = {name: self.edges[name]} if name in self.edges else None
            part = DriftAccumulator({name: col.kind}, limit=self.limit, seed=self.seed, edges=edges)
            part.rows, part.columns[name] = self.rows, col
            out.append((name, part))
        return out

    @classmethod
    def joined(cls, parts: Sequence[DriftAccumulator]) -> DriftAccumulator:
        """The summary of all columns of single-column ``parts`` (the inverse of :meth:`split`)."""
        if not parts:
            raise InputError("no column summaries to join")
        kinds = {name: kind for part in parts for name, kind in part.kinds.items()}
        edges = {name: e for part in parts for name, e in part.edges.items()}
        out = cls(kinds, limit=parts[0].limit, seed=parts[0].seed, edges=edges)
        out.rows = parts[0].rows
        for part in parts:
            if part.rows != out.rows or part.limit != out.limit:
                raise InputError("cannot join column summaries of different rows or limits")
            out.columns.update(part.columns)
        return out

    # ------------------------------------------------------------------ bytes

    def to_bytes(self) -> bytes:
        """A versioned envelope (magic, header length, JSON header, raw float64/int64 arrays)."""
        blobs = bytearray()

        def put(arr: np.ndarray) -> list[int]:
            data = np.ascontiguousarray(arr).tobytes()
            ref = [len(blobs), len(data)]
            blobs.extend(data)
            return ref

        columns = {}
        for name, c in self.columns.items():
            columns[name] = {
                "kind": c.kind, "rows": c.rows, "nulls": c.nulls, "nan": c.nan, "inf": c.inf,
                "count": c.count, "mean": c.mean, "m2": c.m2, "values": put(c.values),
                "keys": put(c.keys), "bins": None if c.bins is None else put(c.bins),
                "categories": list(c.categories.items()),
            }  # fmt: skip
        header = orjson.dumps(
            {
                "kind": "mlaudit.drift_accumulator",
                "schema_version": 1,
                "limit": self.limit,
                "seed": self.seed,
                "rows": self.rows,
                "edges": {n: e.tolist() for n, e in self.edges.items()},
                "columns": columns,
            }
        )
        return _MAGIC + struct.pack(">I", len(header)) + header + bytes(blobs)

    @classmethod
    def from_bytes(cls, data: bytes) -> DriftAccumulator:
        """Read :meth:`to_bytes` output; anything else is an :class:`InputError`."""
        try:
            if not data.startswith(_MAGIC):
                raise InputError("these bytes are not an mlaudit drift summary (bad magic)")
            start = len(_MAGIC) + 4
            (size,) = struct.unpack(">I", data[len(_MAGIC) : start])
            header = orjson.loads(data[start : start + size])
            if header.get("schema_version") != 1:
                raise InputError(f"unsupported drift summary version {header.get('schema_version')!r}")
            blobs = memoryview(data)[start + size :]

            def get(ref: list[int], dtype: type) -> np.ndarray:
                off, length = ref
                if off < 0 or off + length > len(blobs):
                    raise InputError("truncated drift summary bytes")
                return np.frombuffer(blobs[off : off + length], dtype=dtype).copy()

            kinds = {n: c["kind"] for n, c in header["columns"].items()}
            edges = {n: np.array(e, dtype=np.float64) for n, e in header["edges"].items()}
            out = cls(kinds, limit=int(header["limit"]), seed=int(header["seed"]), edges=edges)
            out.rows = int(header["rows"])
            for name, c in header["columns"].items():
                col = out.columns[name]
                col.rows, col.nulls, col.nan, col.inf = c["rows"], c["nulls"], c["nan"], c["inf"]
                col.count, col.mean, col.m2 = c["count"], c["mean"], c["m2"]
                col.values, col.keys = get(c["values"], np.float64), get(c["keys"], np.float64)
                col.bins = None if c["bins"] is None else get(c["bins"], np.int64)
                col.categories = Counter({str(k): int(v) for k, v in c["categories"]})
            return out
        except InputError:
            raise
        except (ValueError, KeyError, TypeError, IndexError, struct.error) as exc:
            raise InputError(f"corrupt drift summary bytes: {exc}") from exc


# ---------------------------------------------------------------------- fit / compare


def fit_accumulated(detector: DriftDetector, reference: DriftAccumulator) -> DriftDetector:
    """Fit ``detector`` from the reference side's summary; returns ``detector``.

    Equal to ``detector.fit(table)`` while every numeric column had at most ``limit`` finite
    values. Past that, the reference state is fitted on the uniform sample (its bins, IQR and
    sorted sample) with the standard deviation from the exact moments, and ``reference_sampled``
    is true in every column's details.
    """
    from mlaudit.stats.drift import TEXT_SKIP, _Fitted

    detector._check_options()
    if detector.multivariate:
        raise InputError(
            "multivariate drift needs the rows in memory; it is not available from a streamed "
            "or Spark summary",
            hint="drop --multivariate, or compare a sample loaded in memory",
        )
    names = list(detector.columns) if detector.columns is not None else list(reference.kinds)
    for name in names:
        if name not in reference.kinds:
            raise InputError("the reference data has no such column", column=name)
    kinds = {name: reference.kinds[name] for name in names}
    plan = detector._plan(names, kinds)
    fitted: list[_Fitted] = []
    for name in names:
        col, (test, threshold) = reference.columns[name], plan[name]
        if col.kind == "text":
            fitted.append(_Fitted("text", "skipped", threshold, {"rows": col.rows}, None, TEXT_SKIP))
            continue
        state: NumericReference | CategoricalReference
        if col.kind in _NUMERIC:
            state = _numeric_state(col, detector.sample_size)
        else:
            cats = list(col.categories)
            state = categorical_reference(cats, np.array([col.categories[c] for c in cats], dtype=np.int64))
        fitted.append(_Fitted(col.kind, test, threshold, col.counts(), state))
    detector._fitted(kinds, names, fitted, reference.rows)
    return detector


def compare_accumulated(detector: DriftDetector, current: DriftAccumulator) -> DriftReport:
    """Compare the current side's summary with a fitted ``detector`` (see the module doc)."""
    from mlaudit.stats.drift import compare_categories, compare_numeric, skipped_column

    if not hasattr(detector, "references_"):
        raise InputError("this DriftDetector is not fitted yet", hint="fit it on the reference first")
    if detector.multivariate_ is not None:
        raise InputError("multivariate drift needs the rows in memory", hint="drop --multivariate")
    raw = []
    for name in detector.columns_:
        ref = detector.references_[name]
        if name not in current.columns:
            raise InputError("the current data has no such column", column=name)
        col = current.columns[name]
        if ref.skip is not None or ref.state is None:
            raw.append(skipped_column(name, ref, {"rows": col.rows}))
        elif isinstance(ref.state, NumericReference):
            values = np.sort(col.values)
            extra: dict[str, Any] = {}
            exact_bins = None
            if col.count > values.size:
                edges = current.edges.get(name)
                if col.bins is not None and edges is not None and np.array_equal(edges, ref.state.edges):
                    exact_bins = col.bins
                binned = "binned counts are exact" if exact_bins is not None else "bins from the sample"
                extra["approximate"] = {
                    "method": "uniform sample",
                    "sample": int(values.size),
                    "values": int(col.count),
                    "note": f"{ref.test} ran on a uniform sample of {values.size:,} of the "
                    f"{col.count:,} finite values; {binned}",
                }
            raw.append(compare_numeric(name, ref, values, col.counts(), bin_counts=exact_bins, details=extra))
        else:
            cats = list(col.categories)
            raw.append(compare_categories(name, ref, cats, [col.categories[c] for c in cats], col.counts()))
    return detector._report(raw, current.rows)


def current_accumulator(
    detector: DriftDetector, *, limit: int = DEFAULT_LIMIT, seed: int = 0
) -> DriftAccumulator:
    """An empty current-side summary for a fitted ``detector``: its kinds and reference bins."""
    if not hasattr(detector, "references_"):
        raise InputError("this DriftDetector is not fitted yet", hint="fit it on the reference first")
    edges = {
        name: f.state.edges
        for name, f in detector.references_.items()
        if isinstance(f.state, NumericReference)
    }
    return DriftAccumulator(detector.kinds_, limit=limit, seed=seed, edges=edges)


# ---------------------------------------------------------------------- helpers


def _numeric_state(col: _Column, sample_size: int) -> NumericReference:
    values = np.sort(col.values)
    if col.count <= values.size:  # every finite value is here: the in-memory fit, exactly
        return numeric_reference(values, sample_size=sample_size)
    sample = numeric_reference(values, sample_size=sample_size, bins=BINS)
    std = math.sqrt(col.m2 / (col.count - 1)) if col.count > 1 else 0.0
    return NumericReference(
        sample=sample.sample,
        count=col.count,
        sampled=True,
        std=std if math.isfinite(std) else 0.0,
        iqr=sample.iqr,
        edges=sample.edges,
        bin_counts=sample.bin_counts,
        spread=sample.spread,
    )


def _bottom(values: np.ndarray, keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` entries with the smallest keys (all of them when there are at most ``k``)."""
    if len(keys) <= k:
        return values, keys
    idx = np.argpartition(keys, k - 1)[:k]
    return values[idx], keys[idx]


def _chan(na: int, ma: float, m2a: float, nb: int, mb: float, m2b: float) -> tuple[int, float, float]:
    if nb == 0:
        return na, ma, m2a
    if na == 0:
        return nb, mb, m2b
    n = na + nb
    delta = mb - ma
    return n, (na * ma + nb * mb) / n, m2a + m2b + delta * delta * (na * nb / n)
