"""Quality rules on a Spark DataFrame, as Spark aggregations: the same Results as in memory.

Each rule is first run by the in-memory code on an *empty* Arrow table with the DataFrame's
schema: that validates it (a missing column, a wrong type, a bad expression give the same
``error`` Result) and gives the exact shape of its ``details``. Then:

* row-wise rules (``not_null``, ``range``, ``allowed_values``, ``regex``, ``type``,
  ``expression``) become Spark Column predicates whose offending counts are summed in **one**
  ``df.agg`` pass (with the row count);
* ``unique`` is a ``groupBy(keys).count()``; ``referential`` a left-anti join against a
  broadcast DataFrame of the reference keys; ``freshness`` a ``max`` (then judged in memory on
  that one value); ``row_count`` the count.

Example rows are fetched only for rules with offending rows, in one pass for all row-wise rules
(each partition keeps its first flagged rows per rule; the driver keeps the lowest numbers).
Row numbers count from 0 in partition order (partition 0's rows first):
for a DataFrame read from files without a shuffle that is the order of the files' rows, so
examples equal the in-memory ones; after ``repartition`` they are numbered in the new order.

Differences from memory, by design of Spark: ``regex`` (and the text patterns of ``type``)
run as Java regular expressions, not RE2 (common syntax — classes, quantifiers, groups,
alternation, ``(?i)`` — behaves the same; RE2-only syntax such as ``\\pN`` may not);
``freshness`` of a *text* column takes the largest string, which is the newest timestamp when
they share one ISO format; in ``expression``, NaN compares equal to itself and greater than
every number (Spark's ordering), while Arrow follows IEEE. A predicate given as a
``pyarrow.compute.Expression`` cannot run on Spark (give its text).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mlaudit.checks.expression import _Parser, _tokenize, _unquote
from mlaudit.checks.rules import Rule, parse_rule
from mlaudit.checks.suite import CheckReport, _run_one
from mlaudit.engines.spark import _quote, _run, arrow_schema
from mlaudit.errors import InputError
from mlaudit.frames import to_table
from mlaudit.stats import quality
from mlaudit.stats.result import Result

__all__ = ["check_rules", "spark_predicate"]

_ROW_WISE = ("not_null", "range", "allowed_values", "regex", "type", "expression")


@dataclass
class _Plan:
    rule: Rule
    template: Result
    examples: int
    bad: Any = None  # a Spark Column: TRUE on offending rows
    offending: int | None = None
    result: Result | None = None


def check_rules(
    df: Any, rules: Sequence[Rule | Mapping[str, Any]], *, examples: int = quality.DEFAULT_EXAMPLES
) -> CheckReport:
    """Apply ``rules`` to ``df`` (see the module docstring); Results in rule order."""

    if examples < 0:
        raise InputError(f"examples must be 0 or more, not {examples}")
    resolved = [
        r if isinstance(r, Rule) else parse_rule(i, r, path=None, base_dir=None)
        for i, r in enumerate(rules, start=1)
    ]
    schema = arrow_schema(df)
    empty = schema.empty_table()
    now = dt.datetime.now(dt.UTC)
    plans = []
    for rule in resolved:
        if rule.kind == "freshness" and rule.params.get("now") is None:
            rule = Rule(rule.kind, {**rule.params, "now": now}, rule.name, rule.severity)
        count = int(rule.params.get("examples", examples))
        plans.append(_Plan(rule, _run_one(rule, empty, examples), count))
    live = [p for p in plans if p.template.status != "error"]
    for plan in live:
        if plan.rule.kind in _ROW_WISE:
            try:
                plan.bad = _bad(plan.rule, schema)
            except InputError as exc:
                plan.result = _error(plan, exc.message)
    counted = [p for p in live if p.bad is not None and p.result is None]
    rows = _count(df, counted)
    for plan in live:
        if plan.result is not None:
            continue
        try:
            plan.result = _finish(df, plan, rows)
        except InputError as exc:
            plan.result = _error(plan, exc.message)
    wanted = [p for p in plans if p.offending and p.examples and p.result and p.result.status != "error"]
    found = _examples(df, wanted) if wanted else {}
    results = []
    for plan in plans:
        result = plan.result or plan.template
        details = {**result.details, "rows": rows}
        if id(plan) in found:
            details["examples"] = found[id(plan)]
        results.append(replace(result, details=details))
    return CheckReport(rows, tuple(results))


def spark_predicate(text: str) -> Any:
    """The Spark Column of an :mod:`~mlaudit.checks.expression` predicate (TRUE = passes).

    >>> spark_predicate("amount >= 0 AND status IN ('a', 'b')")  # doctest: +SKIP
    Column<'((amount >= 0) AND ...)'>
    """
    parser = _SparkParser(text)
    value = parser.predicate()
    parser.p.expect_end()
    return value.expr


# ---------------------------------------------------------------------- counting


def _count(df: Any, plans: list[_Plan]) -> int:
    """Rows, and each plan's offending count, in one aggregation (rule by rule if one fails)."""
    from pyspark.sql import functions as F

    sums = [F.sum(F.when(p.bad, 1).otherwise(0)).alias(f"r{i}") for i, p in enumerate(plans)]
    try:
        row = _run(df.agg(F.count(F.lit(1)).alias("rows"), *sums))[0]
        for i, p in enumerate(plans):
            p.offending = int(row[f"r{i}"] or 0)
        return int(row["rows"])
    except InputError:
        if not plans:
            raise
    rows = int(_run(df.agg(F.count(F.lit(1))))[0][0])
    for p in plans:
        try:
            p.offending = int(_run(df.agg(F.sum(F.when(p.bad, 1).otherwise(0))))[0][0] or 0)
        except InputError as exc:
            p.result = _error(p, exc.message)
    return rows


def _finish(df: Any, plan: _Plan, rows: int) -> Result:
    from pyspark.sql import functions as F

    rule, template = plan.rule, plan.template
    params = rule.params
    if rule.kind == "row_count":
        return _run_one(rule, pa.table({"_": pa.nulls(rows)}), 0)
    if rule.kind == "freshness":
        column = params["column"]
        newest = _arrow_table(df.agg(F.max(F.col(_quote(column))).alias(column)))
        if newest.num_rows == 0:
            newest = arrow_schema(df.select(_quote(column))).empty_table()
        return _run_one(rule, newest, 0)
    if rule.kind == "unique":
        keys = [params["column"]] if params.get("column") else list(params["columns"])
        groups = _repeated(df, keys)
        row = _run(groups.agg(F.count(F.lit(1)), F.sum("__n")))[0]
        plan.offending = int(row[1] or 0)
        template = replace(template, details={**template.details, "duplicate_keys": int(row[0])})
    elif rule.kind == "referential":
        plan.offending = int(_run(_unreferenced(df, rule).agg(F.count(F.lit(1))))[0][0])
    return _judge(plan, template, rows)


def _judge(plan: _Plan, template: Result, rows: int) -> Result:
    """A row-wise Result from the template and the offending count."""
    offending = int(plan.offending or 0)
    details = {**template.details, "rows": rows, "offending": offending, "examples": []}
    rate = plan.rule.params.get("max_null_rate") if plan.rule.kind == "not_null" else None
    if rate is not None:
        value = offending / rows if rows else 0.0
        bad = value > rate
    else:
        value, bad = float(offending), offending > 0
    status = plan.rule.severity if bad else "pass"
    return Result(template.check, status, value, template.threshold, details)


def _error(plan: _Plan, reason: str) -> Result:
    details = {**plan.template.details, "offending": None, "examples": []}
    details["reason"] = f"cannot run on this data: {reason}"
    return Result(plan.template.check, "error", None, None, details)


# ---------------------------------------------------------------------- predicates


def _bad(rule: Rule, schema: pa.Schema) -> Any:
    """The Spark Column that is TRUE on the rows ``rule`` finds offending (NULL = fine)."""
    from pyspark.sql import functions as F

    p = rule.params
    if rule.kind == "expression":
        if not isinstance(p["expr"], str):
            raise InputError("a pyarrow expression cannot run on Spark; give the predicate as text")
        return ~F.coalesce(spark_predicate(p["expr"]), F.lit(False))
    name = p["column"]
    c = F.col(_quote(name))
    t = schema.field(name).type
    floating = pa.types.is_floating(t)
    if rule.kind == "not_null":
        return c.isNull() | F.isnan(c) if floating and p.get("nan_is_null", True) else c.isNull()
    if rule.kind == "range":
        parts = []
        if p.get("min") is not None:
            low = _lit(quality._bound(p["min"], t).as_py(), t)
            parts.append(c < low if p.get("min_inclusive", True) else c <= low)
        if p.get("max") is not None:
            high = _lit(quality._bound(p["max"], t).as_py(), t)
            parts.append(c > high if p.get("max_inclusive", True) else c >= high)
        out = parts[0] if len(parts) == 1 else parts[0] | parts[1]
        # Spark orders NaN above every number: decide NaN explicitly, as Arrow does
        return F.when(F.isnan(c), F.lit(not p.get("allow_nan", False))).otherwise(out) if floating else out
    if rule.kind == "allowed_values":
        allowed = pa.array(list(p["values"])).cast(t).to_pylist()
        return c.isNotNull() & ~c.isin(*[_lit(v, t) for v in allowed if v is not None])
    if rule.kind == "regex":
        flags = "(?iu)" if p.get("ignore_case") else ""
        return ~c.rlike(flags + _java_anchored(p["pattern"]))
    return _type_bad(c, t, p["kind"])


def _type_bad(c: Any, t: pa.DataType, kind: str) -> Any:
    from pyspark.sql import functions as F

    if quality._stored_as(t, kind):
        return F.lit(False)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return ~c.rlike(_java_anchored(quality._TEXT_PATTERNS[kind]))
    if kind == "integer" and pa.types.is_floating(t):
        inf = float("inf")
        return F.when(F.isnan(c) | (F.abs(c) == inf), True).otherwise((c % 1) != 0)
    if kind == "boolean" and pa.types.is_integer(t):
        return F.when(c.isNull(), True).otherwise(~c.isin(0, 1))  # as Arrow's is_in: null offends
    return c.isNotNull()


def _java_anchored(pattern: str) -> str:
    return rf"\A(?:{pattern})\z"


def _lit(value: Any, t: pa.DataType | None = None) -> Any:
    """A Spark literal; datetimes as ISO text cast in Spark (no local-time-zone surprises)."""
    from pyspark.sql import functions as F

    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            return F.lit(value.astimezone(dt.UTC).isoformat()).cast("timestamp")
        naive_column = t is not None and pa.types.is_timestamp(t) and t.tz is None
        return F.lit(value.isoformat()).cast("timestamp_ntz" if naive_column or t is None else "timestamp")
    if isinstance(value, dt.date):
        return F.lit(value.isoformat()).cast("date")
    return F.lit(value)


@dataclass(frozen=True)
class _SV:
    expr: Any
    literal: Any = None
    is_literal: bool = False


class _SparkParser:
    """:mod:`mlaudit.checks.expression`'s grammar, building Spark Columns (SQL three-valued logic)."""

    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text.strip():
            raise InputError("the expression is empty")
        self.p = _Parser(text, _tokenize(text))

    def predicate(self) -> _SV:
        left = self.conjunction()
        while self.p.take("keyword", "OR"):
            left = _SV(left.expr | self.conjunction().expr)
        return left

    def conjunction(self) -> _SV:
        left = self.negation()
        while self.p.take("keyword", "AND"):
            left = _SV(left.expr & self.negation().expr)
        return left

    def negation(self) -> _SV:
        if self.p.take("keyword", "NOT"):
            return _SV(~self.negation().expr)
        return self.comparison()

    def comparison(self) -> _SV:
        from pyspark.sql import functions as F

        p = self.p
        left = self.sum()
        tok = p.tok
        ops = {"=": "__eq__", "==": "__eq__", "!=": "__ne__", "<>": "__ne__", "<": "__lt__",
               "<=": "__le__", ">": "__gt__", ">=": "__ge__"}  # fmt: skip
        if tok.kind == "op" and tok.text in ops:
            p.i += 1
            right = self.sum()
            return _SV(getattr(left.expr, ops[tok.text])(right.expr))
        if p.take("keyword", "IS"):
            negate = p.take("keyword", "NOT")
            p.need("keyword", "NULL", "NULL after IS")
            return _SV(left.expr.isNotNull() if negate else left.expr.isNull())
        negate = p.take("keyword", "NOT")
        if p.take("keyword", "IN"):
            p.need("op", "(", "'(' after IN")
            values = [self.unary().literal]
            while p.take("op", ","):
                values.append(self.unary().literal)
            p.need("op", ")", "',' or ')' in IN (…)")
            found = left.expr.isin(*[_lit(v) for v in values])
            result = F.when(left.expr.isNull(), F.lit(None).cast("boolean")).otherwise(found)
        elif p.take("keyword", "BETWEEN"):
            low = self.sum()
            p.need("keyword", "AND", "AND in BETWEEN … AND …")
            high = self.sum()
            result = (left.expr >= low.expr) & (left.expr <= high.expr)
        elif p.take("keyword", "LIKE"):
            pattern = _unquote(p.tok.text, "'")
            p.i += 1
            result = left.expr.like(pattern)
        elif negate:
            raise p.fail("expected IN, BETWEEN or LIKE after NOT")
        else:
            return left
        return _SV(~result if negate else result)

    def sum(self) -> _SV:
        left = self.product()
        while self.p.at("op", "+") or self.p.at("op", "-"):
            op = self.p.tok.text
            self.p.i += 1
            right = self.product()
            left = _SV(left.expr + right.expr if op == "+" else left.expr - right.expr)
        return left

    def product(self) -> _SV:
        from pyspark.sql import functions as F

        left = self.unary()
        while self.p.at("op", "*") or self.p.at("op", "/"):
            op = self.p.tok.text
            self.p.i += 1
            right = self.unary()
            if op == "*":
                left = _SV(left.expr * right.expr)
            else:  # true division; x / 0 is ±inf or NaN, as in Arrow
                num, den = left.expr.cast("double"), right.expr.cast("double")
                left = _SV(F.when(den == 0, num * F.lit(float("inf"))).otherwise(num / den))
        return left

    def unary(self) -> _SV:
        if self.p.take("op", "-"):
            inner = self.unary()
            if inner.is_literal and isinstance(inner.literal, (int, float)):
                return _literal(-inner.literal)
            return _SV(-inner.expr)
        if self.p.take("op", "+"):
            return self.unary()
        return self.atom()

    def atom(self) -> _SV:
        from pyspark.sql import functions as F

        p = self.p
        tok = p.tok
        p.i += 1
        if tok.kind == "number":
            return _literal(int(tok.text) if re.fullmatch(r"\d+", tok.text) else float(tok.text))
        if tok.kind == "string":
            return _literal(_unquote(tok.text, "'"))
        if tok.kind == "keyword" and tok.text in ("TRUE", "FALSE", "NULL"):
            return _literal({"TRUE": True, "FALSE": False, "NULL": None}[tok.text])
        if tok.kind == "keyword" and tok.text in ("DATE", "TIMESTAMP"):
            raw = _unquote(p.tok.text, "'")
            p.i += 1
            stamp = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return _literal(stamp.date() if tok.text == "DATE" else stamp)
        if tok.kind in ("name", "quoted"):
            name = tok.text if tok.kind == "name" else _unquote(tok.text, '"')
            return _SV(F.col(_quote(name)))
        if tok.kind == "op" and tok.text == "(":
            inner = self.predicate()
            p.need("op", ")", "')'")
            return inner
        p.i -= 1
        raise p.fail("expected a value, a column or '('")


def _literal(value: Any) -> _SV:
    from pyspark.sql import functions as F

    return _SV(F.lit(None) if value is None else _lit(value), value, True)


# ---------------------------------------------------------------------- set rules


def _repeated(df: Any, keys: list[str]) -> Any:
    """The keys (no nulls) that occur more than once, with their row count ``__n``."""
    from pyspark.sql import functions as F

    cols = [F.col(_quote(k)) for k in keys]
    valid = cols[0].isNotNull()
    for c in cols[1:]:
        valid = valid & c.isNotNull()
    counts = df.filter(valid).groupBy(*cols).agg(F.count(F.lit(1)).alias("__n"))
    return counts.filter(F.col("__n") > 1)


def _unreferenced(df: Any, rule: Rule) -> Any:
    """Rows of ``df`` whose non-null key is not among the reference's keys (left-anti join)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StructField, StructType

    p = rule.params
    column = p["column"]
    reference = p["reference"]
    ref = reference if isinstance(reference, (pa.Array, pa.ChunkedArray)) else to_table(reference)
    if isinstance(ref, pa.Table):
        ref = ref.column(p.get("reference_column") or column)
    keys = pc.unique(pc.drop_null(quality._plain(ref)))
    spark_type = df.schema[column].dataType
    keys = keys.cast(arrow_schema(df.select(_quote(column))).field(0).type)
    spark = df.sparkSession
    table = spark.createDataFrame(
        [(v,) for v in keys.to_pylist()], StructType([StructField("__key", spark_type)])
    )
    c = F.col(_quote(column))
    return df.filter(c.isNotNull()).join(F.broadcast(table), c == F.col("__key"), "left_anti")


# ---------------------------------------------------------------------- examples


def _examples(df: Any, plans: list[_Plan]) -> dict[int, list[dict[str, Any]]]:
    """The first offending rows of each plan (by row number): row-wise rules in one pass."""
    from pyspark.sql import functions as F

    data, row = _numbered(df)
    picked: dict[int, pa.Table] = {}
    row_wise = [p for p in plans if p.bad is not None]
    if row_wise:
        columns = list(dict.fromkeys(c for p in row_wise for c in p.rule.columns))
        flags = [F.coalesce(p.bad, F.lit(False)).alias(f"__bad{i}") for i, p in enumerate(row_wise)]
        any_bad = flags[0]
        for flag in flags[1:]:
            any_bad = any_bad | flag
        selected = data.select(row, *[_quote(c) for c in columns], *flags)
        table = _arrow_table(selected.filter(any_bad), _first_rows([p.examples for p in row_wise]))
        for i, p in enumerate(row_wise):
            mine = table.filter(pc.equal(table.column("__rule"), i))
            picked[id(p)] = mine.sort_by(row).slice(0, p.examples)
    for p in plans:
        rule = p.rule
        if rule.kind == "referential":
            bad = _unreferenced(data, rule)
        elif rule.kind == "unique":
            keys = [rule.params["column"]] if rule.params.get("column") else list(rule.params["columns"])
            repeated = _repeated(df, keys).select(*[_quote(k) for k in keys])
            bad = data.join(repeated, on=keys, how="left_semi")
        else:
            continue
        chosen = bad.orderBy(row).limit(p.examples).select(row, *[_quote(c) for c in rule.columns])
        picked[id(p)] = _arrow_table(chosen).sort_by(row)
    out = {}
    for p in plans:
        columns = list(p.rule.columns)
        out[id(p)] = [
            {"row": int(r[row]), "values": {c: quality._json_value(r[c]) for c in columns}}
            for r in picked[id(p)].select([row, *columns]).to_pylist()
        ]
    return out


def _first_rows(limits: list[int]) -> Any:
    """A partition function keeping, per rule ``i``, its first ``limits[i]`` flagged rows."""

    def keep(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        need = list(limits)
        for batch in batches:
            if not any(need):
                continue
            table = pa.Table.from_batches([batch])
            for i, n in enumerate(need):
                if n:
                    part = table.filter(table.column(f"__bad{i}")).slice(0, n)
                    need[i] -= part.num_rows
                    flags = [f"__bad{j}" for j in range(len(limits))]
                    part = part.drop_columns(flags).append_column(
                        "__rule", pa.array([i] * part.num_rows, pa.int32())
                    )
                    yield from part.to_batches()

    return keep


def _numbered(df: Any) -> tuple[Any, str]:
    """``df`` with a 0-based row number in partition order, and that column's name."""
    from pyspark.sql import functions as F

    name = "__mlaudit_row__"
    while name in df.columns:
        name += "_"
    per = dict(_run(df.select(F.spark_partition_id().alias("p")).groupBy("p").count()))
    offsets, total = [], 0
    for pid in sorted(per):
        offsets += [F.lit(pid), F.lit(total)]
        total += per[pid]
    mid = F.monotonically_increasing_id()
    pid = F.shiftright(mid, 33)
    start = F.element_at(F.create_map(*offsets), pid.cast("int")) if offsets else F.lit(0)
    return df.withColumn(name, mid - F.shiftleft(pid, 33) + start), name


def _arrow_table(df: Any, transform: Any = None) -> pa.Table:
    """Collect a small DataFrame as Arrow, with the types the executors see.

    ``transform`` (batches -> batches) runs on each partition first, where the data lies.
    """

    def encode(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        out = list(transform(batches) if transform is not None else batches)
        if out:
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, out[0].schema) as writer:
                for batch in out:
                    writer.write_batch(batch)
            yield pa.RecordBatch.from_pydict({"ipc": [sink.getvalue().to_pybytes()]})

    collected = _run(df.mapInArrow(encode, "ipc binary"))
    tables = [pa.ipc.open_stream(bytes(b)).read_all() for (b,) in collected]
    if tables:
        return pa.concat_tables(tables)
    schema = arrow_schema(df)
    if transform is not None:  # the shape the transform gives: flags dropped, a rule column
        schema = pa.schema(
            [f for f in schema if not f.name.startswith("__bad")] + [pa.field("__rule", pa.int32())]
        )
    return schema.empty_table()
