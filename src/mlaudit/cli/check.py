"""``mlaudit check SOURCE --rules RULES.yaml | --suggest``: data quality rules from the shell.

Exit 0 when every rule passes or only warns, 1 when a rule fails or cannot run (``error``),
2 for bad input (an unreadable SOURCE, a malformed rules file, a column not in the data).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from mlaudit.cli._common import JsonOpt, RecordOpt, WorkspaceOpt, err, out, print_json, record_result
from mlaudit.cli.stats import (
    BatchRowsOpt,
    EngineOpt,
    QueryOpt,
    SparkMasterOpt,
    TableOpt,
    check_engine,
    progress_bar,
    require_files,
    resolve_batch_rows,
    source_name,
    sql_options,
)
from mlaudit.errors import InputError

__all__ = ["register"]

_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "error": "bold red"}


def register(app: typer.Typer) -> None:
    """Add the top-level ``check`` command to ``app``."""
    app.command("check")(check)


def check(
    source: str = typer.Argument(
        ..., help="Data to check: a csv, parquet or jsonl file, a glob, s3://… or a database URL."
    ),
    rules: Path | None = typer.Option(
        None, "--rules", "-r", help="YAML rules file (see examples/rules.yaml).",
        show_default=False,
    ),
    suggest: bool = typer.Option(
        False, "--suggest", help="Infer a starter rules file from SOURCE and print it as YAML."
    ),
    out_file: Path | None = typer.Option(
        None, "--out", "-o", help="With --suggest: write the rules file here instead of stdout.",
        show_default=False,
    ),
    examples: int = typer.Option(
        5, "--examples", min=0, help="Offending rows to show per rule."
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report to this file.", show_default=False
    ),
    md: Path | None = typer.Option(
        None, "--md", help="Also write the report as Markdown (GitHub-flavoured) here.", show_default=False
    ),
    junit: Path | None = typer.Option(
        None, "--junit", help="Also write JUnit XML (one test case per rule) for CI.", show_default=False
    ),
    json_mode: bool = JsonOpt,
    record: str | None = RecordOpt,
    workspace: str | None = WorkspaceOpt,
    engine: str = EngineOpt,
    spark_master: str | None = SparkMasterOpt,
    batch_rows: int | None = BatchRowsOpt,
    exact_limit: int | None = typer.Option(
        None, "--exact-limit", min=1, show_default=False,
        help="Distinct keys the unique rule counts exactly when streaming (default: setting "
        "exact_limit); beyond, an HLL estimate that the report names.",
    ),
    query: str | None = QueryOpt,
    table_name: str | None = TableOpt,
) -> None:
    """Check SOURCE against data quality rules; exit 1 when a rule fails.

    SOURCE is streamed in record batches (the default engine), so it may be larger than memory.

    Example: mlaudit check orders.csv --rules rules.yaml --json
    """
    from mlaudit.frames import read_file

    chosen = check_engine(engine, spark_master, query, table_name)
    require_files(record, source)
    if suggest == (rules is not None):
        raise InputError("pass either --rules FILE or --suggest",
                         hint="--suggest --out rules.yaml writes a starter file")
    if suggest and (html or md or junit):
        raise InputError("--html, --md and --junit go with --rules, not --suggest")
    if out_file is not None and not suggest:
        raise InputError("--out goes with --suggest; --rules output goes to stdout")
    if suggest:
        if chosen == "spark" or query or table_name:
            raise InputError("--suggest reads a file into memory: drop --engine, --query and --table")
        _suggest(read_file(source), source, out_file, json_mode)
        return
    assert rules is not None  # guaranteed by the either/or check above
    report = _run(source, rules, examples, chosen, spark_master, batch_rows, exact_limit,
                  sql_options(query, table_name), json_mode)  # fmt: skip
    _write_reports(report.to_dict(), source, html, md, junit)
    if record:
        record_result(
            workspace, record, "check_report", report.to_dict(), "pass" if report.passed else "fail",
            {"data": source, "rules": rules},
        )
    if json_mode:
        print_json(report.to_dict())
    else:
        _show(report, source)
    if not report.passed:
        raise typer.Exit(1)


def _run(
    source: str,
    rules_file: Path,
    examples: int,
    engine: str,
    spark_master: str | None,
    batch_rows: int | None,
    exact_limit: int | None,
    options: dict[str, Any],
    json_mode: bool,
) -> Any:
    from mlaudit.checks import load_rules

    if engine == "spark":
        from mlaudit.engines import spark as spark_engine

        frame = spark_engine.read(spark_engine.session(spark_master), source)
        return spark_engine.check(
            frame, load_rules(rules_file, schema=spark_engine.arrow_schema(frame)), examples=examples
        )
    from mlaudit.config import get_settings
    from mlaudit.data.sources import read_batches
    from mlaudit.engines.streaming import check_source

    size = resolve_batch_rows(batch_rows)
    first = next(iter(read_batches(source, batch_rows=size, **options)), None)
    rules = load_rules(rules_file, schema=first.schema if first is not None else None)
    limit = exact_limit if exact_limit is not None else get_settings().exact_limit
    with progress_bar(json_mode, source, "checking") as tick:
        return check_source(
            rules, source, examples=examples, batch_rows=size, exact_limit=limit, progress=tick,
            **options,
        )  # fmt: skip


def _write_reports(
    document: dict[str, Any], source: str, html: Path | None, md: Path | None, junit: Path | None
) -> None:
    from mlaudit.report.html import write_html

    if html is not None:
        from mlaudit.report.check_report import check_html

        write_html(check_html(document, source=source_name(source)), html)
    if md is not None:
        from mlaudit.report.markdown import to_markdown

        write_html(to_markdown(document), md)
    if junit is not None:
        from mlaudit.report.junit import to_junit

        write_html(to_junit(document, name=f"mlaudit check {source_name(source)}"), junit)


def _suggest(table: Any, source: str, out_file: Path | None, json_mode: bool) -> None:
    from mlaudit.checks import rules_to_yaml, suggest_rules

    suggested = suggest_rules(table)
    if json_mode and out_file is None:
        print_json({"kind": "suggested_rules", "schema_version": 1,
                    "rules": [r.to_dict() for r in suggested]})
        return
    comment = (
        f"Starter rules inferred by `mlaudit check {Path(source).name} --suggest` "
        f"from {table.num_rows} rows.\n"
        "Review before use: ranges are the observed min/max widened by 10%."
    )
    text = rules_to_yaml(suggested, comment=comment)
    if out_file is None:
        sys.stdout.write(text)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the rules file: {exc}", path=str(out_file)) from exc
    err.print(f"wrote {len(suggested)} rules to {out_file}")


def _show(report: Any, source: str) -> None:
    table = Table(title=escape(f"{source}: {report.rows} rows"), title_justify="left")
    for header in ("rule", "column", "status", "offending", "example"):
        table.add_column(header, justify="right" if header == "offending" else "left")
    for result in report.results:
        d = result.details
        column = d.get("column") or ",".join(d.get("columns") or []) or ""
        offending = "" if d.get("offending") is None else str(d["offending"])
        style = _STYLE[result.status]
        table.add_row(escape(result.check), escape(column), f"[{style}]{result.status}[/]",
                      offending, escape(_example(result)))
    out.print(table)
    counts = {s: sum(r.status == s for r in report.results) for s in _STYLE}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    verdict = "[green]passed[/]" if report.passed else "[red]failed[/]"
    out.print(f"{len(report.results)} rules: {summary or 'none'} — {verdict}")


def _example(result: Any) -> str:
    d = result.details
    if result.status == "error":
        return str(d.get("reason", ""))
    if d.get("examples"):
        first = d["examples"][0]
        values = ", ".join(f"{k}={v!r}" for k, v in first["values"].items())
        return f"row {first['row']}: {values}" if values else f"row {first['row']}"
    if result.status == "pass":
        return ""
    if d.get("rule") == "freshness":
        return f"newest {d.get('newest')}, max_age {d.get('max_age')}"
    if d.get("rule") == "row_count":
        bounds = ", ".join(f"{k} {d[k]}" for k in ("min", "max") if d.get(k) is not None)
        return f"{d.get('rows')} rows; {bounds}"
    if result.value is None:
        return ""
    if result.threshold is None:
        return f"value {result.value:g}"
    return f"value {result.value:g}, threshold {result.threshold:g}"
