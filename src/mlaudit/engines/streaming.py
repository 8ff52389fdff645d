"""The default engine for sources: profile, check and drift in record batches, bounded memory.

A source (a file, a glob, object storage, a SQL query: see :mod:`mlaudit.data.sources`) is
read in batches of ``batch_rows`` rows; each batch is summarised by the in-memory code and the
summaries are merged, so memory holds one batch plus the sketches, whatever the rows.

* :func:`profile_batches` / :func:`profile_source` — two passes: the first infers kinds from
  the first 100,000 rows (as :func:`~mlaudit.stats.kinds.infer_kinds` does in memory) and finds
  each numeric/datetime column's finite min/max, so every batch gets the histogram edges the
  whole table would get (:func:`~mlaudit.stats.profile.default_edges`); the second profiles and
  merges. A source of at most 100,000 rows is read once and profiled in memory.
* :func:`check_source` — the rules of :mod:`mlaudit.checks` batch by batch
  (:mod:`mlaudit.checks.partial`).
* :func:`drift_source` — the reference and the current side as
  :class:`~mlaudit.stats.drift_stream.DriftAccumulator` summaries.

The result equals the in-memory one on the same rows: counts, min/max, histograms and exact
item counts exactly; mean and ``m2`` up to float rounding; quantiles and distinct counts
within the sketches' error (the in-memory KLL sketch is itself randomised). Beyond
``exact_limit`` values the exact-only parts become the documented approximations named in
``details["approximate"]``.

``progress(phase, rows)`` (optional) is called after each batch with the phase (``"scan"``,
``"profile"``, ``"check"``, ``"reference"``, ``"current"``) and the rows done in that phase;
:func:`source_rows` gives the total when the source's metadata knows it (Parquet).

>>> import pyarrow as pa
>>> t = pa.table({"x": [1.0, 2.0, None, 4.0] * 3})
>>> p = profile_batches(lambda: iter(t.to_batches(max_chunksize=5)))
>>> (p.rows, p.column("x").nulls, p.column("x").max)
(12, 3, 4.0)
"""

from __future__ import annotations

import dataclasses
import fnmatch
import glob
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pyarrow as pa

from mlaudit.errors import InputError
from mlaudit.stats.kinds import INFERENCE_ROWS, ColumnKind, check_bins, infer_kinds, numeric_values
from mlaudit.stats.profile import Histogram, Profile, default_edges, profile

if TYPE_CHECKING:
    from mlaudit.checks.rules import Rule
    from mlaudit.checks.suite import CheckReport
    from mlaudit.stats.drift import DriftDetector, DriftReport

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "DEFAULT_EXACT_LIMIT",
    "BatchOpener",
    "Progress",
    "check_source",
    "drift_source",
    "infer_source_kinds",
    "profile_batches",
    "profile_source",
    "selecting",
    "source_rows",
]

DEFAULT_BATCH_ROWS = 65_536
DEFAULT_EXACT_LIMIT = 1_000_000
BatchOpener = Callable[[], Iterable[pa.RecordBatch]]
Progress = Callable[[str, int], None]
_RANGED = ("numeric", "datetime")
_T = TypeVar("_T")


def profile_batches(
    open_batches: BatchOpener,
    *,
    kinds: Mapping[str, ColumnKind] | None = None,
    bins: Mapping[str, np.ndarray] | None = None,
    k: int = 200,
    progress: Progress | None = None,
    open_columns: Callable[[list[str]], Iterable[pa.RecordBatch]] | None = None,
    one_pass_rows: int = INFERENCE_ROWS,
    workers: int | None = 1,
) -> Profile:
    """Profile the batches ``open_batches()`` yields (called once or twice), merging per batch.

    ``kinds``, ``bins`` and ``k`` mean what they mean for :func:`~mlaudit.stats.profile.profile`;
    columns without ``bins`` get the edges of the whole table's finite range, found by a first
    pass (over ``open_columns(names)`` when given: a columnar source reads only those columns).
    A source of at most ``one_pass_rows`` rows (at most 100,000) is profiled in memory at once.
    ``workers`` > 1 (``None``: one per core) profiles batches in that many processes while this
    one reads and merges; at most one batch per worker (plus one) is in flight, so memory stays
    bounded.

    >>> import pyarrow as pa
    >>> t = pa.table({"c": ["a", "b", "a"]})
    >>> profile_batches(lambda: iter(t.to_batches(max_chunksize=1)), one_pass_rows=0).column("c").top(1)
    [('a', 2)]
    """
    head, rest = _head(iter(open_batches()), INFERENCE_ROWS)
    first = _table(head)
    if rest is None and first.num_rows <= one_pass_rows:  # small: one pass, in memory
        _report(progress, "profile", first.num_rows)
        return profile(first, kinds=kinds, bins=bins, k=k)
    resolved = infer_kinds(first.slice(0, INFERENCE_ROWS), kinds)
    schema = first.schema
    del first
    edges = check_bins(bins or {}, resolved)
    needed = [name for name, kind in resolved.items() if kind in _RANGED and name not in edges]
    if needed:
        scan = _chain(head, rest) if open_columns is None else iter(open_columns(needed))
        ranges = _finite_ranges(scan, {n: resolved[n] for n in needed}, progress)
        edges.update({name: default_edges(lo, hi) for name, (lo, hi) in ranges.items()})
        if rest is not None:  # read again (a source within the window is still in ``head``)
            head, rest = [], iter(open_batches())
    # default edges of a range narrower than the float spacing repeat: profile() takes no such
    # bins=, so these columns' histograms are counted here, as the in-memory profile counts them
    tight = {name: e for name, e in edges.items() if not (np.diff(e) > 0).all()}
    given = {name: e for name, e in edges.items() if name not in tight}
    counted: dict[str, Histogram] = {}
    merged: Profile | None = None
    done = 0
    pool = _pool(workers) if rest is not None else None
    try:
        batches = (_conform(b, schema) for b in _chain(head, rest))
        parts = _profiled(pool, _workers(workers), batches, resolved, given, k, list(tight))
        for batch, part in parts:
            for name, e in tight.items():
                values = numeric_values(batch.column(name), resolved[name], name)
                values = values[np.isfinite(values)]
                if len(values):
                    h = Histogram.of(values, e)
                    counted[name] = counted[name].merge(h, name) if name in counted else h
                part.columns[name] = dataclasses.replace(part.columns[name], histogram=None)
            merged = part if merged is None else merged.merge(part)
            done += batch.num_rows
            _report(progress, "profile", done)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if merged is None:
        raise InputError("the source gave no batches the second time it was read")
    for name, h in counted.items():
        merged.columns[name] = dataclasses.replace(merged.columns[name], histogram=h)
    return merged


def profile_source(
    source: str | os.PathLike[str],
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    kinds: Mapping[str, ColumnKind] | None = None,
    bins: Mapping[str, np.ndarray] | None = None,
    k: int = 200,
    progress: Progress | None = None,
    one_pass_rows: int = INFERENCE_ROWS,
    workers: int | None = None,
    **read_options: Any,
) -> Profile:
    """Profile a source (path, glob, ``s3://…``, database URL with ``query=``/``table=``).

    ``read_options`` go to :func:`mlaudit.data.sources.read_batches`; ``one_pass_rows`` and
    ``workers`` (default: one process per core) as for :func:`profile_batches`.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"; _ = p.write_text("a\\n1\\n2\\n3\\n")
    >>> profile_source(p, batch_rows=2).column("a").mean
    2.0
    """
    from mlaudit.data.sources import source_info

    options = dict(read_options)
    sql = "://" in os.fspath(source) and source_info(source, **_sql(options)).kind == "sql"

    def run() -> Profile:
        opener = _opener(source, batch_rows, options)
        columns = None if sql else _opener_of_columns(source, batch_rows, options)
        return profile_batches(
            opener, kinds=kinds, bins=bins, k=k, progress=progress, open_columns=columns,
            one_pass_rows=one_pass_rows, workers=workers,
        )  # fmt: skip

    return _widening(run, [(source, options)])


def check_source(
    rules: Sequence[Rule | Mapping[str, Any]],
    source: str | os.PathLike[str],
    *,
    examples: int = 5,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    exact_limit: int = DEFAULT_EXACT_LIMIT,
    progress: Progress | None = None,
    **read_options: Any,
) -> CheckReport:
    """Run quality ``rules`` over a source batch by batch (see :mod:`mlaudit.checks.partial`).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"; _ = p.write_text("id\\n1\\n2\\n2\\n")
    >>> check_source([{"rule": "unique", "column": "id"}], p, batch_rows=1).results[0].value
    2.0
    """
    from mlaudit.checks.partial import check_batches

    options = dict(read_options)

    def run() -> CheckReport:
        opener = _opener(source, batch_rows, options)
        return check_batches(rules, opener, examples=examples, exact_limit=exact_limit, progress=progress)

    return _widening(run, [(source, options)])


def infer_source_kinds(
    open_batches: BatchOpener,
    overrides: Mapping[str, ColumnKind] | None = None,
    columns: Sequence[str] | None = None,
) -> dict[str, ColumnKind]:
    """Kinds of ``columns`` (default: all) from the first 100,000 rows, as in memory."""
    head, _ = _head(iter(open_batches()), INFERENCE_ROWS)
    table = _table(head).slice(0, INFERENCE_ROWS)
    if columns is not None:
        _require(table.schema, columns, "reference")
        table = table.select(list(columns))
    return infer_kinds(table, overrides)


def drift_source(
    detector: DriftDetector,
    reference: str | os.PathLike[str] | BatchOpener,
    current: str | os.PathLike[str] | BatchOpener,
    *,
    limit: int = DEFAULT_EXACT_LIMIT,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: Progress | None = None,
) -> DriftReport:
    """Fit ``detector`` on the streamed reference and compare the streamed current side.

    Sources are paths/URLs (read with default options) or batch openers. Equal to
    ``detector.fit(ref).compare(cur)`` while every column has at most ``limit`` finite values;
    beyond, see :mod:`mlaudit.stats.drift_stream`. ``multivariate=True`` is an
    :class:`InputError` (it needs the rows in memory). With ``keep_profile=True`` the
    reference profile is streamed too.

    >>> import pyarrow as pa
    >>> from mlaudit.stats.drift import DriftDetector
    >>> ref = pa.table({"x": [float(i) for i in range(200)]})
    >>> report = drift_source(DriftDetector(), lambda: ref.to_batches(50), lambda: ref.to_batches(70))
    >>> report.drifted_columns
    ()
    """
    from mlaudit.stats.drift_stream import DriftAccumulator, compare_accumulated, fit_accumulated

    if detector.multivariate:
        raise InputError(
            "multivariate drift needs the rows in memory; the streaming engine cannot run it",
            hint="drop --multivariate, or compare files small enough to load with the Python API",
        )
    ref_options: dict[str, Any] = {}
    cur_options: dict[str, Any] = {}

    def run() -> DriftReport:
        ref_open = reference if callable(reference) else _opener(reference, batch_rows, ref_options)
        cur_open = current if callable(current) else _opener(current, batch_rows, cur_options)
        names = list(detector.columns) if detector.columns is not None else None
        kinds = infer_source_kinds(ref_open, detector.kinds, names)
        names = list(kinds)
        side = DriftAccumulator(kinds, limit=limit)
        _accumulate(side, ref_open, "reference", progress)
        fit_accumulated(detector, side)
        if detector.keep_profile:
            detector.profile_ = profile_batches(selecting(ref_open, names), kinds=kinds)
        now = detector.current_accumulator(limit=limit)
        _accumulate(now, cur_open, "current", progress)
        return compare_accumulated(detector, now)

    paths = [(p, o) for p, o in ((reference, ref_options), (current, cur_options)) if not callable(p)]
    return _widening(run, paths)


def source_rows(source: str | os.PathLike[str]) -> int | None:
    """Total rows of a local Parquet file or glob from its metadata; ``None`` when unknown.

    >>> source_rows("no-such.csv") is None
    True
    """
    text = os.fspath(source)
    if "://" in text or not text.lower().endswith((".parquet", ".pq")):
        return None
    try:
        import pyarrow.parquet as pq

        paths = sorted(glob.glob(os.path.expanduser(text), recursive=True))
        return sum(pq.read_metadata(p).num_rows for p in paths) if paths else None
    except (OSError, pa.ArrowException):
        return None


# ---------------------------------------------------------------------- helpers


def _pool(workers: int | None) -> ProcessPoolExecutor | None:
    """A pool of ``workers`` processes (``None``: one per core); ``None`` for one worker.

    Workers come from a fork server, not a fork of this process: forking a process whose Arrow
    thread pools are running is unsafe.
    """
    n = _workers(workers)
    if n <= 1:
        return None
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["mlaudit.stats.profile"])
    return ProcessPoolExecutor(max_workers=n, mp_context=ctx)


def _workers(workers: int | None) -> int:
    return (os.cpu_count() or 1) if workers is None else workers


def _profile_part(
    batch: pa.RecordBatch, kinds: Mapping[str, ColumnKind], bins: Mapping[str, np.ndarray], k: int
) -> bytes:
    return profile(batch, kinds=kinds, bins=bins, k=k).to_bytes()


def _profiled(
    pool: ProcessPoolExecutor | None,
    workers: int,
    batches: Iterator[pa.RecordBatch],
    kinds: Mapping[str, ColumnKind],
    bins: Mapping[str, np.ndarray],
    k: int,
    keep: Sequence[str],
) -> Iterator[tuple[pa.RecordBatch, Profile]]:
    """Each batch's ``keep`` columns (same rows) with the batch's profile, in order; in
    ``pool``'s processes when there is one, with at most ``workers + 1`` batches in flight and
    only the ``keep`` columns held here meanwhile."""
    if pool is None:
        for batch in batches:
            yield batch.select(list(keep)), profile(batch, kinds=kinds, bins=bins, k=k)
        return
    pending: deque[tuple[pa.RecordBatch, Future[bytes]]] = deque()
    for batch in batches:
        future = pool.submit(_profile_part, batch, dict(kinds), dict(bins), k)
        pending.append((batch.select(list(keep)), future))
        del batch
        if len(pending) > workers:
            kept, done = pending.popleft()
            yield kept, Profile.from_bytes(done.result())
    while pending:
        kept, done = pending.popleft()
        yield kept, Profile.from_bytes(done.result())


def _opener(source: str | os.PathLike[str], batch_rows: int, options: Mapping[str, Any]) -> BatchOpener:
    from mlaudit.data.sources import read_batches

    read_batches(source, batch_rows=batch_rows, **options)  # check the source and options now

    def open_batches() -> Iterator[pa.RecordBatch]:
        schema = None
        for batch in read_batches(source, batch_rows=batch_rows, **options):
            schema = schema or batch.schema
            yield _conform(batch, schema)

    return open_batches


_CONVERSION = re.compile(r"In CSV column #(\d+): Row #\d+: CSV conversion error to ([\w\[\], ]+?):")
_WIDER = {"null": pa.int64(), "int": pa.float64()}


def _widening(run: Callable[[], _T], sources: Sequence[tuple[str | os.PathLike[str], dict[str, Any]]]) -> _T:
    """``run()``, re-run with a wider CSV column type each time a later block of a CSV source
    does not parse as the type guessed from its first block (int → float → text, as the
    whole-file CSV reader of the in-memory path would infer)."""
    while True:
        try:
            return run()
        except InputError as exc:
            if not any(_widen(source, options, exc) for source, options in sources):
                raise


def _widen(source: str | os.PathLike[str], options: dict[str, Any], exc: InputError) -> bool:
    """Widen the column of ``options["schema"]`` that ``exc`` reports; False if it is not that."""
    from mlaudit.data.sources import read_batches, source_info

    match = _CONVERSION.search(exc.message)
    text = os.fspath(source)
    if match is None or "://" in text or source_info(text, **_sql(options)).format != "csv":
        return False
    if exc.path is None or not fnmatch.fnmatch(exc.path, os.path.abspath(os.path.expanduser(text))):
        return False
    header = {k: v for k, v in options.items() if k != "columns"}
    schema = options.get("schema") or next(iter(read_batches(source, batch_rows=1, **header))).schema
    index = int(match.group(1))
    if index >= len(schema):
        return False
    field = schema.field(index)
    kind = "null" if pa.types.is_null(field.type) else "int" if pa.types.is_integer(field.type) else ""
    wider = _WIDER.get(kind, pa.string())
    if field.type == wider:
        return False
    options["schema"] = schema.set(index, field.with_type(wider))
    return True


def _sql(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: options[k] for k in ("query", "table", "format") if k in options}


def _opener_of_columns(
    source: str | os.PathLike[str], batch_rows: int, options: Mapping[str, Any]
) -> Callable[[list[str]], Iterator[pa.RecordBatch]] | None:
    """Reading only some columns of a file source (``None`` when ``columns=`` is already set)."""
    from mlaudit.data.sources import read_batches

    if "columns" in options:
        return None

    def open_columns(names: list[str]) -> Iterator[pa.RecordBatch]:
        return read_batches(source, batch_rows=batch_rows, columns=names, **options)

    return open_columns


def selecting(open_batches: BatchOpener, names: Sequence[str]) -> BatchOpener:
    """``open_batches`` yielding only the columns ``names`` (an InputError names a missing one)."""

    def selected() -> Iterator[pa.RecordBatch]:
        for batch in open_batches():
            _require(batch.schema, names, "data")
            yield batch.select(list(names))

    return selected


def _head(
    batches: Iterator[pa.RecordBatch], rows: int
) -> tuple[list[pa.RecordBatch], Iterator[pa.RecordBatch] | None]:
    """The first batches holding more than ``rows`` rows, and the rest (``None``: no more)."""
    head: list[pa.RecordBatch] = []
    seen = 0
    for batch in batches:
        head.append(batch)
        seen += batch.num_rows
        if seen > rows:
            return head, batches
    if not head:
        raise InputError("the source gave no batches (not even its columns)")
    return head, None


def _chain(head: list[pa.RecordBatch], rest: Iterable[pa.RecordBatch] | None) -> Iterator[pa.RecordBatch]:
    yield from head
    if rest is not None:
        yield from rest


def _table(batches: list[pa.RecordBatch]) -> pa.Table:
    """Batches as one table; null-typed columns of early batches take later batches' types."""
    schemas = [b.schema for b in batches]
    if all(s == schemas[0] for s in schemas):
        return pa.Table.from_batches(batches)
    tables = [pa.Table.from_batches([b]) for b in batches]
    return pa.concat_tables(tables, promote_options="default")


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` with its all-null (``null``-typed) columns cast to ``schema``'s types, as
    concatenating the files of a glob in memory would."""
    if batch.schema == schema or batch.schema.names != schema.names:
        return batch
    columns = [
        col.cast(schema.field(i).type) if pa.types.is_null(col.type) else col
        for i, col in enumerate(batch.columns)
    ]
    return pa.RecordBatch.from_arrays(columns, names=schema.names)


def _finite_ranges(
    batches: Iterable[pa.RecordBatch],
    kinds: Mapping[str, ColumnKind],
    progress: Progress | None,
) -> dict[str, tuple[float, float]]:
    """Each column's finite min and max (datetimes in epoch seconds); absent: no finite value."""
    lo: dict[str, float] = {}
    hi: dict[str, float] = {}
    done = 0
    for batch in batches:
        _require(batch.schema, list(kinds), "data")
        for name, kind in kinds.items():
            if pa.types.is_null(batch.column(name).type):
                continue  # an all-null part of a glob: no values
            values = numeric_values(batch.column(name), kind, name)
            finite = values[np.isfinite(values)]
            if len(finite):
                a, b = float(finite.min()), float(finite.max())
                lo[name] = min(lo.get(name, a), a)
                hi[name] = max(hi.get(name, b), b)
        done += batch.num_rows
        _report(progress, "scan", done)
    return {name: (lo[name], hi[name]) for name in lo}


def _accumulate(side: Any, open_batches: BatchOpener, phase: str, progress: Progress | None) -> None:
    done = 0
    for batch in open_batches():
        side.update(batch)
        done += batch.num_rows
        _report(progress, phase, done)


def _require(schema: pa.Schema, names: Sequence[str], role: str) -> None:
    for name in names:
        if name not in schema.names:
            raise InputError(
                f"the {role} has no such column",
                column=name,
                hint=f"columns are: {', '.join(schema.names) or '(none)'}",
            )


def _report(progress: Progress | None, phase: str, rows: int) -> None:
    if progress is not None:
        progress(phase, rows)
