"""The Spark engine: profiles, quality checks and drift of a Spark DataFrame (``mlaudit[spark]``).

Every partition summarises its Arrow batches (``DataFrame.mapInArrow``) with the same
``mlaudit.stats`` code the in-memory path uses and sends back only the summary's bytes; the
driver merges them. No raw rows are collected (example rows of failing checks aside).

* :func:`profile` — kinds from the Spark schema, strings judged on the first 100,000 rows by a
  Spark aggregation (the in-memory rule); one pass for the finite min/max of numeric and
  datetime columns (so histograms get the whole table's edges,
  :func:`~mlaudit.stats.profile.default_edges`); one pass that profiles and merges.
* :func:`check` — the quality rules as Spark aggregations (:mod:`mlaudit.engines.spark_rules`).
* :func:`fit` / :func:`compare` — drift from
  :class:`~mlaudit.stats.drift_stream.DriftAccumulator` summaries built per partition.

Results equal the in-memory ones on the same rows (counts, min/max, histograms and exact
item counts exactly; mean/m2 up to float rounding; quantiles and distinct counts within the
sketches' error). Spark reads timestamps as microseconds (a nanosecond Parquet column loses
its nanoseconds), and ``read`` of CSV/JSON infers types with Spark's reader, not Arrow's.

Workers need ``mlaudit`` (and ``pyarrow``) installed in the Python Spark runs
(``PYSPARK_PYTHON``); on a cluster the source path must be readable by every executor.

>>> spark = session("local[1]")  # doctest: +SKIP
>>> profile(read(spark, "data.parquet")).rows  # doctest: +SKIP
1000
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import pyarrow as pa

from mlaudit.errors import InputError
from mlaudit.frames import file_format
from mlaudit.stats.kinds import (
    INFERENCE_ROWS,
    TEXT_DISTINCT_SHARE,
    TEXT_MEAN_LENGTH,
    TEXT_MIN_VALUES,
    ColumnKind,
    check_bins,
    infer_kinds,
    numeric_values,
)
from mlaudit.stats.profile import Profile, default_edges

if TYPE_CHECKING:
    from mlaudit.checks.suite import CheckReport
    from mlaudit.stats.drift import DriftDetector, DriftReport

__all__ = [
    "EXACT_LIMIT",
    "arrow_schema",
    "check",
    "compare",
    "fit",
    "infer_kinds_spark",
    "profile",
    "read",
    "session",
]

_RANGED = ("numeric", "datetime")
# Drift summaries cross the JVM one column at a time; 100,000 values (1.6 MB) per column keep
# them well inside a default 1 GiB driver heap (1,000,000 per column hung it on 17 columns).
EXACT_LIMIT = 100_000
_BATCH_ROWS = 262_144  # Arrow batches (10,000 rows each from Spark) are profiled in groups this big


def _pyspark() -> Any:
    try:
        import pyspark
    except ImportError as exc:
        raise InputError("the Spark engine needs pyspark", hint="pip install 'mlaudit[spark]'") from exc
    return pyspark


def session(master: str | None = None, *, app_name: str = "mlaudit") -> Any:
    """A Spark session on ``master`` (``None``: ``local[*]``), created or reused.

    Local masters get ``spark.ui.enabled=false`` and, unless already set, ``SPARK_LOCAL_IP``
    127.0.0.1 and ``PYSPARK_PYTHON`` this Python. New sessions use UTC as their time zone and
    print no progress bars; an existing session is reused as it is.

    >>> session("local[1]").sparkContext.master  # doctest: +SKIP
    'local[1]'
    """
    _pyspark()
    from pyspark.sql import SparkSession

    master = master or "local[*]"
    local = master.startswith("local")
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise InputError(
            "Spark needs Java (17 or newer) and none was found",
            hint="install a JDK (e.g. apt-get install openjdk-17-jre-headless) or set JAVA_HOME",
        )
    builder = SparkSession.builder.master(master).appName(app_name)
    builder = builder.config("spark.sql.session.timeZone", "UTC")
    builder = builder.config("spark.ui.showConsoleProgress", "false")  # no bars over CLI output
    if local:  # a new local JVM logs errors only (a cluster keeps its own logging)
        log4j = Path(__file__).with_name("log4j2.properties").as_uri()
        builder = builder.config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={log4j}")
    # pyspark 4 warns on every mapInArrow that pandas 3 is untested; the engine uses no pandas
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    if local:
        builder = builder.config("spark.ui.enabled", "false")
    try:
        return builder.getOrCreate()
    except Exception as exc:  # py4j/JVM start-up failures have no common base class
        raise InputError(
            f"cannot start Spark on {master}: {_first_line(exc)}",
            hint="check JAVA_HOME, SPARK_LOCAL_IP and the master URL",
        ) from exc


def read(spark: Any, source: str | Path) -> Any:
    """A DataFrame of a Parquet, CSV or JSON Lines path or glob (format from the suffix).

    CSV is read with a header and Spark's type inference (close to Arrow's: integers, doubles,
    booleans, timestamps; Spark leaves dates it cannot parse as strings). Object-store URLs
    (``s3a://``) work when the cluster is configured for them.

    >>> read(session(), "data/*.parquet").count()  # doctest: +SKIP
    1000
    """
    text = os.fspath(source)
    fmt = file_format(text.rstrip("/*") if text.endswith("/*") else text)
    try:
        if fmt == "parquet":
            return spark.read.parquet(text)
        if fmt == "jsonl":
            return spark.read.json(text)
        sep = "\t" if text.lower().endswith((".tsv", ".tsv.gz")) else ","
        return spark.read.csv(text, header=True, inferSchema=True, sep=sep)
    except Exception as exc:  # AnalysisException: path does not exist, unreadable
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"Spark cannot read the source: {first}", path=text) from exc


def arrow_schema(df: Any) -> pa.Schema:
    """The Arrow schema of ``df``'s batches in ``mapInArrow`` (timestamps in UTC)."""
    from pyspark.sql.pandas.types import to_arrow_type

    fields = []
    for f in df.schema.fields:
        try:
            try:
                t = to_arrow_type(f.dataType, timezone="UTC")
            except TypeError:  # pyspark 3.5: no timezone argument
                t = to_arrow_type(f.dataType)
        except Exception as exc:  # unsupported nested types
            raise InputError(f"cannot read a Spark column of type {f.dataType}", column=f.name) from exc
        fields.append(pa.field(f.name, t))
    return pa.schema(fields)


def infer_kinds_spark(df: Any, overrides: Mapping[str, ColumnKind] | None = None) -> dict[str, ColumnKind]:
    """Kinds as :func:`~mlaudit.stats.kinds.infer_kinds` gives them, without collecting rows.

    Non-string columns take their kind from the type; string columns are judged on Spark
    aggregates (count, total length, distinct count) of the first 100,000 rows.
    """
    from pyspark.sql import functions as F

    schema = arrow_schema(df)
    empty = schema.empty_table()
    names = schema.names
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError("the column name appears more than once", column=dup)
    string_cols = [
        n
        for n in names
        if n not in (overrides or {})
        and (pa.types.is_string(schema.field(n).type) or pa.types.is_large_string(schema.field(n).type))
    ]
    kinds = infer_kinds(empty, {**{n: "categorical" for n in string_cols}, **(overrides or {})})
    if not string_cols:
        return kinds
    head = df.select(*[F.col(_quote(n)) for n in string_cols]).limit(INFERENCE_ROWS)
    aggs = []
    for i, n in enumerate(string_cols):
        c = F.col(_quote(n))
        aggs += [F.count(c).alias(f"n{i}"), F.sum(F.length(c)).alias(f"l{i}")]
        aggs.append(F.count_distinct(c).alias(f"d{i}"))
    row = head.agg(*aggs).collect()[0]
    for i, n in enumerate(string_cols):
        count, length, distinct = row[f"n{i}"], row[f"l{i}"] or 0, row[f"d{i}"]
        long = bool(count) and length / count > TEXT_MEAN_LENGTH
        varied = count >= TEXT_MIN_VALUES and distinct > TEXT_DISTINCT_SHARE * count
        kinds[n] = "text" if long or varied else "categorical"
    return kinds


def profile(
    df: Any,
    *,
    kinds: Mapping[str, ColumnKind] | None = None,
    bins: Mapping[str, np.ndarray] | None = None,
    k: int = 200,
) -> Profile:
    """The profile of a Spark DataFrame, equal to :func:`mlaudit.stats.profile.profile` of its rows.

    ``kinds``, ``bins`` and ``k`` mean what they mean in memory. Column order is kept; an empty
    DataFrame gives the empty-table profile.

    >>> profile(spark.range(3).toDF("x")).column("x").mean  # doctest: +SKIP
    1.0
    """
    from mlaudit.stats.profile import profile as profile_table

    resolved = infer_kinds_spark(df, kinds)
    edges = check_bins(bins or {}, resolved)
    if not 8 <= k <= 65535:
        raise InputError(f"k must be between 8 and 65535, not {k}")
    needed = {n: kind for n, kind in resolved.items() if kind in _RANGED and n not in edges}
    if needed:
        ranges = _finite_ranges(df, needed)
        edges.update({n: default_edges(lo, hi) for n, (lo, hi) in ranges.items()})

    def profile_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        merged: Profile | None = None
        for table in _grouped(batches):
            part = profile_table(table, kinds=resolved, bins=edges, k=k)
            merged = part if merged is None else merged.merge(part)
        if merged is not None:
            yield pa.RecordBatch.from_pydict({"profile": [merged.to_bytes()]})

    rows = _run(df.mapInArrow(profile_partition, "profile binary"))
    result: Profile | None = None
    for (data,) in rows:
        part = Profile.from_bytes(bytes(data))
        result = part if result is None else result.merge(part)
    if result is None:
        return profile_table(arrow_schema(df).empty_table(), kinds=resolved, bins=edges, k=k)
    return result


def check(df: Any, rules: Any, *, examples: int = 5) -> CheckReport:
    """Run quality ``rules`` (Rule objects or YAML-shaped dicts) on a Spark DataFrame.

    See :mod:`mlaudit.engines.spark_rules` for how each rule runs and how example rows are
    numbered.

    >>> check(df, [{"rule": "not_null", "column": "id"}]).passed  # doctest: +SKIP
    True
    """
    from mlaudit.engines.spark_rules import check_rules

    return check_rules(df, rules, examples=examples)


def fit(df: Any, detector: DriftDetector, *, limit: int = EXACT_LIMIT) -> DriftDetector:
    """Fit ``detector`` on a Spark DataFrame (the reference); returns ``detector``.

    Equal to ``detector.fit(rows)`` while every column has at most ``limit`` finite values;
    beyond, see :mod:`mlaudit.stats.drift_stream`. ``multivariate=True`` is an InputError.

    >>> fit(reference_df, DriftDetector()).columns_  # doctest: +SKIP
    ('age', 'income')
    """
    from mlaudit.stats.drift_stream import DriftAccumulator, fit_accumulated

    if detector.multivariate:
        raise InputError(
            "multivariate drift needs the rows in memory; the Spark engine cannot run it",
            hint="drop multivariate=True, or compare a sample loaded in memory",
        )
    names = list(detector.columns) if detector.columns is not None else list(df.columns)
    _require(df, names, "reference")
    selected = df.select(*[_quote(n) for n in names])
    overrides = {n: k for n, k in (detector.kinds or {}).items() if n in names or n not in df.columns}
    kinds = infer_kinds_spark(selected, overrides)
    side = _accumulate(selected, lambda seed: DriftAccumulator(kinds, limit=limit, seed=seed))
    fit_accumulated(detector, side)
    if detector.keep_profile:
        detector.profile_ = profile(selected, kinds=kinds)
    return detector


def compare(detector: DriftDetector, df: Any, *, limit: int = EXACT_LIMIT) -> DriftReport:
    """Compare a Spark DataFrame (the current data) with a fitted ``detector``.

    >>> compare(fit(reference_df, DriftDetector()), current_df).drifted_columns  # doctest: +SKIP
    ('income',)
    """
    from mlaudit.stats.drift_stream import DriftAccumulator, compare_accumulated

    template = detector.current_accumulator(limit=limit)
    names = list(detector.columns_)
    _require(df, names, "current")
    kinds, edges = template.kinds, template.edges
    side = _accumulate(
        df.select(*[_quote(n) for n in names]),
        lambda seed: DriftAccumulator(kinds, limit=limit, seed=seed, edges=edges),
    )
    return compare_accumulated(detector, side)


# ---------------------------------------------------------------------- helpers


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _require(df: Any, names: list[str], role: str) -> None:
    for name in names:
        if name not in df.columns:
            raise InputError(
                f"the {role} data has no such column",
                column=name,
                hint="pass columns=[...] to compare only the columns both sides have",
            )


def _run(df: Any) -> list[Any]:
    """Collect a (small) summary DataFrame; Spark failures become InputError."""
    try:
        return list(df.collect())
    except InputError:
        raise
    except Exception as exc:  # Py4JJavaError / PythonException from a worker
        _raise_from_spark(exc)


def _raise_from_spark(exc: Exception) -> NoReturn:
    text = str(exc)
    mark = "mlaudit.errors.InputError: "
    if mark in text:  # a worker's InputError: its message, not the Java stack
        raise InputError(text.split(mark, 1)[1].strip().splitlines()[0]) from exc
    raise InputError(f"the Spark job failed: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _grouped(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.Table]:
    """Spark's batches gathered into tables of about :data:`_BATCH_ROWS` rows."""
    held: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        held.append(batch)
        rows += batch.num_rows
        if rows >= _BATCH_ROWS:
            yield pa.Table.from_batches(held)
            held, rows = [], 0
    if held:
        yield pa.Table.from_batches(held)


def _finite_ranges(df: Any, kinds: Mapping[str, ColumnKind]) -> dict[str, tuple[float, float]]:
    """Each column's finite min/max (datetimes in epoch seconds), as ``numeric_values`` sees them.

    Plain numbers, timestamps and dates: one Spark aggregation. Other types (decimals,
    intervals, kinds overridden onto text): a pass over Arrow batches with ``numeric_values``.
    """
    from pyspark.sql import functions as F

    native: dict[str, Any] = {}
    for name in kinds:
        expr = _epoch_or_number(df, name, kinds[name])
        if expr is not None:
            native[name] = expr
    out: dict[str, tuple[float, float]] = {}
    if native:
        aggs = []
        for i, expr in enumerate(native.values()):
            aggs += [F.min(expr).alias(f"lo{i}"), F.max(expr).alias(f"hi{i}")]
        row = _run(df.agg(*aggs))[0]
        for i, name in enumerate(native):
            if row[f"lo{i}"] is not None:
                out[name] = (_seconds(row[f"lo{i}"], df, name), _seconds(row[f"hi{i}"], df, name))
    rest = {n: k for n, k in kinds.items() if n not in native}
    if rest:
        out.update(_arrow_ranges(df, rest))
    return out


_NUMBERS = ("ByteType", "ShortType", "IntegerType", "LongType", "FloatType", "DoubleType")
_UTC = ("UTC", "Etc/UTC", "GMT", "Z", "+00:00", "Etc/GMT")


def _epoch_or_number(df: Any, name: str, kind: ColumnKind) -> Any:
    """A Spark expression whose min/max give the column's finite range, or None (use Arrow)."""
    from pyspark.sql import functions as F

    c = F.col(_quote(name))
    spark_type = type(df.schema[name].dataType).__name__
    if kind == "numeric" and spark_type in _NUMBERS:
        x = c.cast("double")
        return F.when(~F.isnan(x) & (F.abs(x) != float("inf")), x)
    if kind != "datetime":
        return None
    if spark_type == "TimestampType":
        return F.unix_micros(c)
    if spark_type == "DateType":
        return F.unix_date(c)
    utc = df.sparkSession.conf.get("spark.sql.session.timeZone") in _UTC
    if spark_type == "TimestampNTZType" and utc:  # wall-clock time read as UTC, as in memory
        return F.unix_micros(c.cast("timestamp"))
    return None


def _seconds(value: Any, df: Any, name: str) -> float:
    """``value`` from :func:`_epoch_or_number` as ``numeric_values`` gives it (float64)."""
    spark_type = type(df.schema[name].dataType).__name__
    if spark_type == "DateType":
        return float(int(value) * 86_400)
    if spark_type in ("TimestampType", "TimestampNTZType"):
        return float(np.float64(int(value)) / np.float64(1_000_000.0))
    return float(value)


def _arrow_ranges(df: Any, kinds: Mapping[str, ColumnKind]) -> dict[str, tuple[float, float]]:
    """Finite min/max by ``numeric_values`` on each partition's Arrow batches."""
    names = list(kinds)

    def ranges(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        lo: dict[str, float] = {}
        hi: dict[str, float] = {}
        for batch in batches:
            for name in names:
                values = numeric_values(batch.column(name), kinds[name], name)
                finite = values[np.isfinite(values)]
                if len(finite):
                    a, b = float(finite.min()), float(finite.max())
                    lo[name] = min(lo.get(name, a), a)
                    hi[name] = max(hi.get(name, b), b)
        found = list(lo)
        yield pa.RecordBatch.from_pydict(
            {"name": found, "lo": [lo[n] for n in found], "hi": [hi[n] for n in found]},
            schema=pa.schema([("name", pa.string()), ("lo", pa.float64()), ("hi", pa.float64())]),
        )

    out: dict[str, tuple[float, float]] = {}
    selected = df.select(*[_quote(n) for n in names])
    for name, a, b in _run(selected.mapInArrow(ranges, "name string, lo double, hi double")):
        old = out.get(name, (a, b))
        out[name] = (min(old[0], a), max(old[1], b))
    return out


def _accumulate(df: Any, make: Any) -> Any:
    """One :class:`DriftAccumulator` per partition (seeded by partition id), merged."""
    from mlaudit.stats.drift_stream import DriftAccumulator

    def partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        context = TaskContext.get()
        acc = make(context.partitionId() if context is not None else 0)
        for batch in batches:
            acc.update(batch)
        # one row per column: a message carries one column's sample (at most `limit` values)
        names, states = zip(*((n, part.to_bytes()) for n, part in acc.split()), strict=True)
        yield pa.RecordBatch.from_pydict({"name": list(names), "state": list(states)})

    def merge(a: bytes, b: bytes) -> bytes:
        return DriftAccumulator.from_bytes(a).merge(DriftAccumulator.from_bytes(b)).to_bytes()

    def joined(parts: list[tuple[str, bytes]]) -> Any:
        if not parts:
            return make(0)
        order = {name: i for i, name in enumerate(make(0).kinds)}
        ranked = sorted(parts, key=lambda p: order[p[0]])
        return DriftAccumulator.joined([DriftAccumulator.from_bytes(b) for _, b in ranked])

    # merged per column on the executors: the driver receives one merged state per column
    frame = df.mapInArrow(partition, "name string, state binary")
    try:
        states = frame.rdd.map(lambda row: (row[0], bytes(row[1])))
    except (AttributeError, NotImplementedError):  # Spark Connect has no RDDs: merge here
        by_name: dict[str, bytes] = {}
        for name, data in _run(frame):
            by_name[name] = merge(by_name[name], bytes(data)) if name in by_name else bytes(data)
        return joined(list(by_name.items()))
    try:
        return joined(states.reduceByKey(merge).collect())
    except Exception as exc:  # Py4JJavaError / PythonException from a worker
        _raise_from_spark(exc)
