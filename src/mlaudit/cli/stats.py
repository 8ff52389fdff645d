"""``mlaudit data ...``: store-less commands over data files (profile; drift joins later).

Each command is a function registered on :data:`data_app`; :func:`register` mounts the
group on the main app as ``mlaudit data``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer
from rich.table import Table

from mlaudit.cli._common import JsonOpt, out, print_json
from mlaudit.errors import InputError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from mlaudit.engines import Engine
    from mlaudit.stats.kinds import ColumnKind
    from mlaudit.stats.profile import ColumnProfile, Profile

__all__ = ["data_app", "profile_command", "register"]

Progress = Callable[[str, int], None]

data_app = typer.Typer(
    help="Data files and dataset versions: profile a file; log, list and show versions.",
    no_args_is_help=True,
)


EngineOpt = typer.Option(
    "arrow",
    "--engine",
    help="arrow: stream the source in record batches on this machine (bounded memory); "
    "spark: run on Apache Spark (needs mlaudit[spark]).",
)
SparkMasterOpt = typer.Option(
    None, "--spark-master", help="Spark master URL with --engine spark (default local[*]).",
    show_default=False,
)  # fmt: skip
BatchRowsOpt = typer.Option(
    None, "--batch-rows", min=1, help="Rows per batch when streaming (default: setting batch_rows).",
    show_default=False,
)  # fmt: skip
QueryOpt = typer.Option(None, "--query", help="SQL query to run (database URL sources).", show_default=False)
TableOpt = typer.Option(
    None, "--table", help="Table to read whole (database URL sources).", show_default=False
)


@data_app.command("profile")
def profile_command(
    source: str = typer.Argument(
        ..., help="A .csv, .parquet or .jsonl file, a glob, s3://, az://, gs:// or a database URL.",
        show_default=False,
    ),
    json_out: bool = JsonOpt,
    kind: list[str] = typer.Option(
        [],
        "--kind",
        help="Override a column's kind: COL=KIND (numeric, categorical, boolean, datetime, "
        "text). Repeat for more columns.",
        show_default=False,
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report (plots per column) to this file."
    ),
    md: Path | None = typer.Option(
        None, "--md", help="Also write the report as Markdown (GitHub-flavoured) here.", show_default=False
    ),
    engine: str = EngineOpt,
    spark_master: str | None = SparkMasterOpt,
    batch_rows: int | None = BatchRowsOpt,
    query: str | None = QueryOpt,
    table: str | None = TableOpt,
) -> None:
    """Profile every column of SOURCE: counts, nulls, NaN/inf, moments, quantiles, top values.

    SOURCE is streamed in record batches, so it may be larger than memory.

    Example: mlaudit data profile train.csv --kind zip=categorical --json
    """
    overrides = parse_kinds(kind)
    if check_engine(engine, spark_master, query, table) == "spark":
        from mlaudit.engines import spark as spark_engine

        frame = spark_engine.read(spark_engine.session(spark_master), source)
        result = spark_engine.profile(frame, kinds=overrides or None, bins=None, k=200)
    else:
        from mlaudit.engines.streaming import profile_source

        with progress_bar(json_out, source, "profiling") as tick:
            result = profile_source(
                source, batch_rows=resolve_batch_rows(batch_rows), kinds=overrides, progress=tick,
                **sql_options(query, table),
            )  # fmt: skip
    name = source_name(source)
    if html is not None:
        from mlaudit.report import profile_html, write_html

        write_html(profile_html(result, source=name), html)
    if md is not None:
        from mlaudit.report.html import write_html
        from mlaudit.report.markdown import to_markdown

        write_html(to_markdown(result.to_dict()), md)
    if json_out:
        print_json(result.to_dict())
    else:
        out.print(render(result, title=str(source)))


def check_engine(
    engine: str, spark_master: str | None, query: str | None = None, table: str | None = None
) -> Engine:
    """The ``--engine`` value, checked with the options that depend on it."""
    if engine not in ("arrow", "spark"):
        raise InputError(f"--engine must be arrow or spark, not {engine!r}")
    if spark_master is not None and engine != "spark":
        raise InputError("--spark-master goes with --engine spark")
    if engine == "spark" and (query is not None or table is not None):
        raise InputError("--query and --table are for the arrow engine; Spark reads files and globs")
    return "spark" if engine == "spark" else "arrow"


def sql_options(query: str | None, table: str | None) -> dict[str, Any]:
    """``query=``/``table=`` for :func:`mlaudit.data.sources.read_batches`, when given."""
    return {k: v for k, v in (("query", query), ("table", table)) if v is not None}


def resolve_batch_rows(batch_rows: int | None) -> int:
    """``--batch-rows``, else the ``batch_rows`` setting."""
    from mlaudit.config import get_settings

    return batch_rows if batch_rows is not None else get_settings().batch_rows


def source_name(source: str) -> str:
    """A short display name: the file name of a path, the safe form of a URL."""
    from mlaudit.data.sources import describe

    return describe(source) if "://" in source else Path(source).name


def require_files(record: str | None, *sources: str) -> None:
    """``--record`` stores the SHA-256 of its input files: they must be local files."""
    for source in sources:
        if record and not Path(source).is_file():
            raise InputError(
                "--record needs local files (it stores their SHA-256)",
                path=source_name(source),
                hint="record a report of a single local file, or drop --record",
            )


BIG_SOURCE_ROWS = 500_000


@contextmanager
def progress_bar(
    json_mode: bool, source: str, what: str, phases: dict[str, str] | None = None
) -> Iterator[Progress | None]:
    """A Rich progress bar on stderr for a big source (a terminal only, never with --json).

    Yields the ``progress(phase, rows)`` callback of :mod:`mlaudit.engines.streaming` (or None).
    ``phases`` maps a phase to the source it reads when that is not ``source`` (drift's current).
    """
    from mlaudit.cli._common import show_progress
    from mlaudit.engines.streaming import source_rows

    def rows_of(where: str) -> int | None:
        return source_rows(where) if "://" not in where else None

    total = rows_of(source)
    if not show_progress(json_mode) or (total is not None and total < BIG_SOURCE_ROWS):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:  # fmt: skip
        tasks: dict[str, TaskID] = {}

        def tick(phase: str, rows: int) -> None:
            if phase not in tasks:
                size = rows_of(phases[phase]) if phases and phase in phases else total
                tasks[phase] = bar.add_task(f"{what}: {phase}", total=size)
            bar.update(tasks[phase], completed=rows)

        yield tick


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to ``app``."""
    app.add_typer(data_app, name="data")


def parse_kinds(pairs: list[str]) -> dict[str, ColumnKind]:
    """``["zip=categorical"]`` -> ``{"zip": "categorical"}``; malformed items are InputErrors.

    >>> parse_kinds(["zip=categorical", "born = datetime"])
    {'zip': 'categorical', 'born': 'datetime'}
    """
    from mlaudit.stats.kinds import KINDS

    out_kinds: dict[str, ColumnKind] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or value not in KINDS:
            raise InputError(
                f"--kind expects COL=KIND, got {pair!r}", hint=f"KIND is one of {', '.join(KINDS)}"
            )
        out_kinds[name] = value
    return out_kinds


def render(result: Profile, *, title: str = "") -> Table:
    """A Rich table with one row per column of the profile."""
    table = Table(title=f"{title} — {result.rows:,} rows" if title else f"{result.rows:,} rows")
    for header in ("column", "kind", "nulls", "nan/inf", "distinct", "mean", "std", "min",
                   "median", "max", "top"):  # fmt: skip
        justify: Literal["left", "right"] = (
            "left" if header in ("column", "kind", "top") else "right"
        )
        table.add_column(header, justify=justify, overflow="fold", no_wrap=header in ("column", "kind"))
    for c in result.columns.values():
        table.add_row(
            c.name,
            c.kind,
            f"{c.nulls:,}",
            f"{c.nan:,}/{c.inf:,}" if c.kind == "numeric" else "",
            _distinct(c),
            _number(c, c.mean, spread=False),
            _number(c, c.std, spread=True),
            _number(c, c.min, spread=False),
            _number(c, c.quantile(0.5), spread=False),
            _number(c, c.max, spread=False),
            "\n".join(f"{v} ({n:,})" for v, n in c.top(3)),
        )
    return table


def _number(c: ColumnProfile, value: float | None, *, spread: bool) -> str:
    if value is None or c.kind == "categorical":
        return ""
    if c.kind == "datetime":
        if spread:
            return str(dt.timedelta(seconds=round(value)))
        return dt.datetime.fromtimestamp(value, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    size = abs(value)
    if size == 0:
        return "0"
    if size >= 1e12 or size < 1e-3:
        return f"{value:.3e}"
    if size >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _distinct(c: ColumnProfile) -> str:
    """Exact when every value was counted; the sketch estimate (never above the count) otherwise."""
    if c.value_counts is not None:
        return f"{len(c.value_counts):,}"
    valid = c.valid if c.valid is not None else c.count
    estimate = min(c.distinct_estimate(), float(valid))
    return f"≈{estimate:,.0f}"
