"""``mlaudit data ...``: store-less commands over data files (profile; drift joins later).

Each command is a function registered on :data:`data_app`; :func:`register` mounts the
group on the main app as ``mlaudit data``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer
from rich.table import Table

from mlaudit.cli._common import JsonOpt, out, print_json
from mlaudit.errors import InputError

if TYPE_CHECKING:
    from mlaudit.stats.kinds import ColumnKind
    from mlaudit.stats.profile import ColumnProfile, Profile

__all__ = ["data_app", "profile_command", "register"]

data_app = typer.Typer(
    help="Data files and dataset versions: profile a file; log, list and show versions.",
    no_args_is_help=True,
)


@data_app.command("profile")
def profile_command(
    source: Path = typer.Argument(..., help="A .csv, .parquet or .jsonl file.", show_default=False),
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
) -> None:
    """Profile every column of SOURCE: counts, nulls, NaN/inf, moments, quantiles, top values.

    Example: mlaudit data profile train.csv --kind zip=categorical --json
    """
    from mlaudit.frames import read_file
    from mlaudit.stats.profile import profile

    overrides = parse_kinds(kind)
    result = profile(read_file(source), kinds=overrides)
    if html is not None:
        from mlaudit.report import profile_html, write_html

        write_html(profile_html(result, source=source.name), html)
    if md is not None:
        from mlaudit.report.html import write_html
        from mlaudit.report.markdown import to_markdown

        write_html(to_markdown(result.to_dict()), md)
    if json_out:
        print_json(result.to_dict())
    else:
        out.print(render(result, title=str(source)))


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
