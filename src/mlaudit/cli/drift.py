"""``mlaudit drift REFERENCE CURRENT``: compare two files column by column.

Exit 0 when the comparison ran (drift is information), 1 with ``--fail-on-drift`` when a
column drifted, 2 for bad input.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from mlaudit.cli._common import JsonOpt, RecordOpt, WorkspaceOpt, out, print_json, record_result
from mlaudit.cli.stats import (
    BatchRowsOpt,
    EngineOpt,
    SparkMasterOpt,
    check_engine,
    progress_bar,
    require_files,
    resolve_batch_rows,
    source_name,
)
from mlaudit.errors import InputError
from mlaudit.stats.drift import DriftDetector, DriftReport

if TYPE_CHECKING:
    from mlaudit.stats.profile import Profile

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the top-level ``drift`` command to ``app``."""
    app.command("drift")(drift_command)


def drift_command(
    reference: str = typer.Argument(
        ..., help="Reference data: a csv, parquet or jsonl file, a glob, s3://, az://, gs://."
    ),
    current: str = typer.Argument(..., help="Current data to compare with the reference."),
    json_mode: bool = JsonOpt,
    columns: str | None = typer.Option(
        None, "--columns", help="Comma-separated columns to compare (default: all reference columns)."
    ),
    test: list[str] = typer.Option(
        [],
        "--test",
        help="COL=TEST, e.g. age=psi (numeric: ks, wasserstein, anderson, psi, js, "
        "hellinger; categorical: chi2, psi, js, hellinger). Repeatable.",
    ),
    threshold: list[str] = typer.Option(
        [], "--threshold", help="Effect threshold: X for every column, or COL=X. Repeatable."
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level after correction."),
    correction: str = typer.Option("bh", "--correction", help="bh, bonferroni or none."),
    multivariate: bool = typer.Option(
        False, "--multivariate",
        help="Add a domain classifier and a PCA reconstruction check (reads both sources into "
        "memory; not with --engine spark).",
    ),
    fail_on_drift: bool = typer.Option(
        False, "--fail-on-drift", help="Exit 1 when any column drifted (for CI gates)."
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report (plots, summary) to this file."
    ),
    md: Path | None = typer.Option(
        None, "--md", help="Also write the report as Markdown (GitHub-flavoured) here.", show_default=False
    ),
    record: str | None = RecordOpt,
    workspace: str | None = WorkspaceOpt,
    engine: str = EngineOpt,
    spark_master: str | None = SparkMasterOpt,
    batch_rows: int | None = BatchRowsOpt,
    exact_limit: int | None = typer.Option(
        None, "--exact-limit", min=1, show_default=False,
        help="Finite values per column above which KS, Wasserstein and Anderson run on a uniform "
        "sample of this size (the report says so); default: setting exact_limit.",
    ),
) -> None:
    """Compare CURRENT with REFERENCE: a significance test and an effect size per column.

    Both sources are streamed in record batches (the default engine), so they may be larger
    than memory; --multivariate reads them into memory.
    """
    chosen = check_engine(engine, spark_master)
    require_files(record, reference, current)
    if multivariate and chosen == "spark":
        raise InputError(
            "multivariate drift needs the rows in memory; it is not available on Spark",
            hint="drop --multivariate, or run it with the default engine on a sample",
        )
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    tests = dict(_pair(item, "--test") for item in test)
    compared = names if names is not None else _columns_of(reference, batch_rows)
    thresholds = _thresholds(threshold, compared)
    detector = DriftDetector(
        columns=names,
        tests=tests or None,
        thresholds=thresholds or None,
        alpha=alpha,
        correction=correction,  # type: ignore[arg-type]  # checked by the detector
        multivariate=multivariate,
        keep_profile=html is not None,
    )
    report, current_side = _compare(
        detector, reference, current, chosen, spark_master, batch_rows, exact_limit, json_mode
    )
    if html is not None:
        from mlaudit.report import drift_html, write_html

        reference_profile = detector.profile_
        assert reference_profile is not None  # keep_profile=True above
        page = drift_html(
            report,
            reference_profile,
            current_side(reference_profile),
            reference_name=source_name(reference),
            current_name=source_name(current),
        )
        write_html(page, html)
    if md is not None:
        from mlaudit.report.html import write_html
        from mlaudit.report.markdown import to_markdown

        write_html(to_markdown(report.to_dict()), md)
    if record:
        record_result(
            workspace,
            record,
            "drift_report",
            report.to_dict(),
            "fail" if report.drifted_columns else "pass",
            {"reference": reference, "current": current},
        )
    if json_mode:
        print_json(report.to_dict())
    else:
        _print_table(report)
    if fail_on_drift and report.drifted_columns:
        raise typer.Exit(1)


def _columns_of(source: str, batch_rows: int | None) -> list[str]:
    from mlaudit.data.sources import read_batches

    first = next(iter(read_batches(source, batch_rows=resolve_batch_rows(batch_rows))), None)
    return first.schema.names if first is not None else []


def _compare(
    detector: DriftDetector,
    reference: str,
    current: str,
    engine: str,
    spark_master: str | None,
    batch_rows: int | None,
    exact_limit: int | None,
    json_mode: bool,
) -> tuple[DriftReport, Callable[[Profile], Profile]]:
    """The report, and how to profile the current side with the reference's kinds and bins."""
    from mlaudit.config import get_settings

    limit = exact_limit if exact_limit is not None else get_settings().exact_limit
    if engine == "spark" and exact_limit is None:
        from mlaudit.engines.spark import EXACT_LIMIT

        limit = min(limit, EXACT_LIMIT)
    if detector.multivariate:  # needs the rows: the in-memory path
        from mlaudit.data.sources import read
        from mlaudit.report import current_profile

        ref_table, cur_table = read(reference), read(current)
        report = detector.fit(ref_table).compare(cur_table)
        return report, lambda ref: current_profile(ref, cur_table)
    if engine == "spark":
        from mlaudit.engines import spark as spark_engine

        spark = spark_engine.session(spark_master)
        ref_frame, cur_frame = spark_engine.read(spark, reference), spark_engine.read(spark, current)
        spark_engine.fit(ref_frame, detector, limit=limit)
        report = spark_engine.compare(detector, cur_frame, limit=limit)

        def spark_side(ref: Profile) -> Profile:
            frame = cur_frame.select(*ref.columns)
            return spark_engine.profile(frame, kinds=ref.kinds(), bins=ref.bins(), k=200)

        return report, spark_side
    from mlaudit.engines.streaming import drift_source, profile_source

    size = resolve_batch_rows(batch_rows)
    with progress_bar(json_mode, reference, "drift", {"current": current}) as tick:
        report = drift_source(detector, reference, current, limit=limit, batch_rows=size, progress=tick)

    def streamed_side(ref: Profile) -> Profile:
        return profile_source(
            current, batch_rows=size, kinds=ref.kinds(), bins=ref.bins(), columns=list(ref.columns)
        )

    return report, streamed_side


def _pair(item: str, option: str) -> tuple[str, str]:
    name, sep, value = item.rpartition("=")
    if not sep or not name or not value:
        raise InputError(f"{option} expects COL=VALUE, not {item!r}")
    return name, value


def _thresholds(items: list[str], columns: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        if "=" in item:
            name, value = _pair(item, "--threshold")
            out[name] = _number(value)
        else:
            every = _number(item)
            out.update({name: every for name in columns if name not in out})
    return out


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--threshold expects a number, not {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise InputError(f"--threshold must be a number >= 0, not {text!r}")
    return value


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.4g}"
    return str(value)


def _print_table(report: DriftReport) -> None:
    table = Table(title=f"Drift: {report.reference_rows} reference rows, {report.current_rows} current rows")
    for header in ("column", "kind", "test", "statistic", "p (adj.)", "effect", "threshold", "drifted"):
        table.add_column(header, justify="right" if header not in ("column", "kind", "test") else "left")
    for c in report.columns:
        effect = f"{_fmt(c.effect)} {c.effect_name}" if c.effect_name else _fmt(c.effect)
        verdict = "[bold red]yes[/]" if c.drifted else ("skipped" if c.skipped else "no")
        table.add_row(
            c.name, c.kind, c.test, _fmt(c.statistic), _fmt(c.p_adjusted), effect, _fmt(c.threshold), verdict
        )
    out.print(table)
    share = f"{len(report.drifted_columns)}/{len(report.columns)} columns drifted"
    verdict = "dataset drift" if report.dataset_drift else "no dataset drift"
    out.print(f"{share} ({report.share_drifted:.0%}); {verdict}")
    approximate = [c for c in report.columns if isinstance(c.details.get("approximate"), dict)]
    for c in report.columns:
        if c.skipped:
            out.print(f"  {c.name}: skipped — {c.details.get('reason', '')}")
        elif c in approximate and len(approximate) <= 3:
            note = c.details["approximate"].get("note", "")
            out.print(f"  {c.name}: approximate — {note} (--exact-limit to raise)")
    if len(approximate) > 3:
        sample = max(c.details["approximate"].get("sample", 0) for c in approximate)
        out.print(
            f"  approximate in {len(approximate)} columns: value tests ran on a uniform sample of "
            f"{sample:,} values per column, binned and category counts are exact (--exact-limit to raise)"
        )
    if report.multivariate:
        for name, res in report.multivariate.items():
            state = "skipped" if "skipped" in res else ("drifted" if res.get("drifted") else "clean")
            out.print(f"  multivariate {name}: {state}")
