"""Quality rules batch by batch: mergeable partial results that add up to :func:`run_rules`.

Each rule of :mod:`mlaudit.checks` keeps a small state per batch (:class:`PartialRule`) that
merges with the state of the batches after it (or of another partition), and gives exactly
the :class:`~mlaudit.stats.result.Result` that :func:`~mlaudit.checks.run_rules` gives on all
the rows together:

* row-wise rules (``not_null``, ``range``, ``allowed_values``, ``regex``, ``type``,
  ``referential``, ``expression``) add up ``offending`` and keep the first ``examples``
  offending rows, numbered from 0 over the whole source; ``not_null`` with ``max_null_rate``
  recomputes the rate from the sums; a rule that cannot run on a batch gives ``error``;
* ``row_count`` is judged on the total, ``freshness`` on the newest value over all batches
  (one ``now`` for every batch); ``referential`` reads its reference once;
* ``unique`` counts every key exactly (Arrow group-by, merged) while there are at most
  ``exact_limit`` distinct keys, then re-reads the source once to find the first offending
  rows for the examples. Past ``exact_limit`` distinct keys the keys already counted stay
  exact (their duplicates are certain) and new keys only enter an HLL sketch of the distinct
  count: ``offending`` and ``duplicate_keys`` are then lower bounds, the rule also fails when
  the rows with a key exceed the HLL's upper bound on the distinct keys (3 standard errors),
  and ``details["approximate"]`` says so with the estimate.

>>> import pyarrow as pa
>>> t = pa.table({"id": [1, 2, 2, None, 3, 3]})
>>> report = check_batches([{"rule": "unique", "column": "id"}], lambda: t.to_batches(2))
>>> report.results[0].details["offending"], [e["row"] for e in report.results[0].details["examples"]]
(4, [1, 2, 4, 5])
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from datasketches import hll_sketch, hll_union

from mlaudit.checks.rules import Rule, parse_rule
from mlaudit.checks.suite import CheckReport
from mlaudit.errors import InputError
from mlaudit.frames import to_table
from mlaudit.stats import quality
from mlaudit.stats.result import Result

__all__ = ["PartialRule", "UniqueKeys", "check_batches", "partial_rule"]

_ROW_WISE = {"not_null", "range", "allowed_values", "regex", "type", "referential", "expression"}
_HLL_LG_K = 14  # 16 KiB; relative standard error ~0.8 %


class PartialRule:
    """The mergeable state of one rule over some rows (row-wise, row_count and freshness).

    ``update(batch, offset)`` adds a batch whose first row is row ``offset`` of the source;
    ``merge(other)`` adds the state of the rows after these; ``result()`` is the Result.
    """

    def __init__(self, rule: Rule, examples: int, now: dt.datetime) -> None:
        self.rule = rule
        self.examples = int(rule.params.get("examples", examples))
        self.params = {k: v for k, v in rule.params.items() if k != "examples"}
        if rule.kind == "freshness" and self.params.get("now") is None:
            self.params["now"] = now
        if rule.kind == "referential":
            self.params["reference"] = _load_reference(self.params)
        self.rows = 0
        self.offending = 0
        self.found: list[dict[str, Any]] = []
        self.first: Result | None = None  # the first batch's Result: the shape of the details
        self.error: Result | None = None
        self.newest: Result | None = None  # freshness: the Result of the newest batch

    def _run(self, table: pa.Table) -> Result:
        try:
            return quality_rule(self.rule.kind)(
                table, name=self.rule.name, severity=self.rule.severity,
                examples=self.examples, **self.params,
            )  # fmt: skip
        except (pa.ArrowException, TypeError, OverflowError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            name = self.rule.name or f"{self.rule.kind}({','.join(self.rule.columns)})"
            details = {"rule": self.rule.kind, "rows": table.num_rows, "offending": None,
                       "examples": [], "reason": f"cannot run on this data: {reason}"}  # fmt: skip
            return Result(name, "error", None, None, details)

    def update(self, batch: pa.RecordBatch | pa.Table, offset: int) -> None:
        """Add the rows of ``batch`` (row ``offset`` onwards of the source)."""
        table = to_table(batch)
        self.rows += table.num_rows
        if self.rule.kind == "row_count":
            if self.first is None:
                self.first = self._run(table.slice(0, 0))
            return
        result = self._run(table)
        self._add(result, offset)

    def _add(self, result: Result, offset: int) -> None:
        if self.first is None:
            self.first = result
        if result.status == "error":
            self.error = self.error or result
            return
        if self.rule.kind == "freshness":
            if _newest(result) is not None and (
                self.newest is None or _newest(result) > _newest(self.newest)
            ):
                self.newest = result
            return
        self.offending += int(result.details["offending"])
        room = self.examples - len(self.found)
        if room > 0:
            self.found += [{**e, "row": e["row"] + offset} for e in result.details["examples"][:room]]

    def merge(self, other: PartialRule) -> PartialRule:
        """This state followed by ``other``'s rows (a new object; same rule, same ``now``)."""
        out = copy.copy(self)
        out.rows = self.rows + other.rows
        out.offending = self.offending + other.offending
        room = max(self.examples - len(self.found), 0)
        out.found = self.found + [{**e, "row": e["row"] + self.rows} for e in other.found[:room]]
        out.first, out.error = self.first or other.first, self.error or other.error
        if other.newest is not None and (self.newest is None or _newest(other.newest) > _newest(self.newest)):
            out.newest = other.newest
        return out

    def result(self) -> Result:
        """The Result over every row added."""
        result = self._result()
        reference = self.rule.params.get("reference")
        if self.rule.kind == "referential" and isinstance(reference, (str, os.PathLike)):
            return replace(result, details={**result.details, "reference": str(reference)})
        return result

    def _result(self) -> Result:
        if self.first is None:
            raise InputError("no rows were added to this rule (not even an empty batch)")
        if self.rule.kind == "row_count":
            return self._run(pa.table([pa.nulls(self.rows)], names=["_"]).select([]))
        if self.error is not None:
            return _with_rows(self.error, self.rows)
        if self.rule.kind == "freshness":
            return _with_rows(self.newest or self.first, self.rows)
        first = self.first
        details = {**first.details, "rows": self.rows, "offending": self.offending,
                   "examples": self.found}  # fmt: skip
        rate = self.params.get("max_null_rate") if self.rule.kind == "not_null" else None
        if rate is not None:
            value = self.offending / self.rows if self.rows else 0.0
            bad = value > rate
        else:
            value, bad = float(self.offending), self.offending > 0
        status = self.rule.severity if bad else "pass"
        return Result(first.check, status, value, first.threshold, details)


def quality_rule(kind: str) -> Callable[..., Result]:
    """The in-memory function of rule ``kind`` (``referential`` takes a loaded reference)."""
    if kind == "referential":
        return quality.referential
    from mlaudit.checks.rules import RULES

    return RULES[kind]


def partial_rule(rule: Rule, *, examples: int = 5, now: dt.datetime | None = None) -> PartialRule:
    """An empty partial state for ``rule`` (not for ``unique``: see :func:`check_batches`).

    >>> p = partial_rule(Rule.of("not_null", column="x"))
    >>> p.update(pa.table({"x": [1, None]}), 0); p.update(pa.table({"x": [None]}), 2)
    >>> p.result().details["offending"], [e["row"] for e in p.result().details["examples"]]
    (2, [1, 2])
    """
    return PartialRule(rule, examples, now or dt.datetime.now(dt.UTC))


class UniqueKeys:
    """Mergeable exact key counts for the ``unique`` rule, approximate past ``exact_limit``."""

    def __init__(self, keys: Sequence[str], exact_limit: int) -> None:
        if exact_limit < 1:
            raise InputError(f"the exact limit must be at least 1 key, not {exact_limit}")
        self.keys = list(keys)
        self.limit = exact_limit
        self.parts: list[pa.Table] = []
        self.counted: pa.Table | None = None
        self.pending = 0
        self.valid = 0
        self.hll: hll_sketch | None = None  # set once the keys pass the limit

    def update(self, batch: pa.Table) -> None:
        """Count the keys of ``batch`` (rows with a null in the key are skipped)."""
        part = batch.select(self.keys)
        valid = pc.is_valid(part.column(0))
        for name in self.keys[1:]:
            valid = pc.and_(valid, pc.is_valid(part.column(name)))
        part = part.filter(valid)
        self.valid += part.num_rows
        if part.num_rows == 0:
            return
        part = pa.table([quality._plain(part.column(n)) for n in self.keys], names=self.keys)
        counts = part.group_by(self.keys).aggregate([([], "count_all")])
        counts = counts.rename_columns([*self.keys, "n"])
        if self.hll is not None:
            _feed(self.hll, counts.select(self.keys))
            assert self.counted is not None
            counts = counts.join(self.counted.select(self.keys), self.keys, join_type="left semi")
        self._add(counts)

    def _add(self, counts: pa.Table) -> None:
        self.parts.append(counts)
        self.pending += counts.num_rows
        if self.pending > max(self.limit // 4, 65_536, self.counted.num_rows if self.counted else 0):
            self.compact()

    def compact(self) -> pa.Table:
        """Merge the counted parts into one table of (keys..., n); switch to HLL past the limit."""
        tables = ([self.counted] if self.counted is not None else []) + self.parts
        if not tables:
            return pa.table({})
        merged = pa.concat_tables(tables, promote_options="default")
        merged = merged.group_by(self.keys).aggregate([("n", "sum")])
        self.counted = merged.rename_columns([*self.keys, "n"])
        self.parts, self.pending = [], 0
        if self.hll is None and self.counted.num_rows > self.limit:
            self.hll = hll_sketch(_HLL_LG_K)
            _feed(self.hll, self.counted.select(self.keys))
        return self.counted

    def merge(self, other: UniqueKeys) -> UniqueKeys:
        """Both sets of counts (a new object)."""
        out = UniqueKeys(self.keys, self.limit)
        out.valid = self.valid + other.valid
        for side in (self, other):
            out.parts += ([side.counted] if side.counted is not None else []) + side.parts
        hlls = [s.hll for s in (self, other) if s.hll is not None]
        if hlls:
            union = hll_union(_HLL_LG_K)
            for h in hlls:
                union.update(h)
            out.hll = union.get_result()
        out.compact()
        return out

    def repeated(self) -> pa.Table:
        """The keys counted more than once, with their counts."""
        counted = self.compact()
        if counted.num_columns == 0:
            return counted
        return counted.filter(pc.greater(counted.column("n"), 1))


def check_batches(
    rules: Sequence[Rule | Mapping[str, Any]],
    open_batches: Callable[[], Iterable[pa.RecordBatch]],
    *,
    examples: int = quality.DEFAULT_EXAMPLES,
    exact_limit: int = 1_000_000,
    now: dt.datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> CheckReport:
    """Run ``rules`` over the batches of ``open_batches()`` (read twice when a ``unique`` rule
    finds duplicates, for its examples); equal to :func:`~mlaudit.checks.run_rules`."""
    if examples < 0:
        raise InputError(f"examples must be 0 or more, not {examples}")
    resolved = [
        r if isinstance(r, Rule) else parse_rule(i, r, path=None, base_dir=None)
        for i, r in enumerate(rules, start=1)
    ]
    clock = now or dt.datetime.now(dt.UTC)
    states: list[PartialRule | UniqueKeys | None] = [
        None if rule.kind == "unique" else PartialRule(rule, examples, clock) for rule in resolved
    ]
    # unique rules: the Result shape (or error) from the first batch, then exact key counts
    shapes: dict[int, Result] = {}
    rows = 0
    for batch in open_batches():
        table = to_table(batch)
        for i, rule in enumerate(resolved):
            if rule.kind == "unique" and i not in shapes:
                shapes[i] = _unique_template(rule, table, examples)
                if shapes[i].status != "error":
                    states[i] = UniqueKeys(rule.columns, exact_limit)
            state = states[i]
            if isinstance(state, UniqueKeys):
                try:
                    state.update(table)
                except (pa.ArrowException, TypeError, OverflowError) as exc:
                    states[i] = None
                    reason = f"cannot group by {list(rule.columns)}: {_first(exc)}"
                    shapes[i] = replace(
                        shapes[i], status="error", value=None, threshold=None,
                        details={**shapes[i].details, "offending": None, "reason": reason},
                    )  # fmt: skip
            elif state is not None:
                state.update(table, rows)
        rows += table.num_rows
        if progress is not None:
            progress("check", rows)
    results: list[Result] = []
    for i, rule in enumerate(resolved):
        state = states[i]
        if isinstance(state, PartialRule):
            results.append(state.result())
        elif isinstance(state, UniqueKeys):
            results.append(_unique_result(rule, shapes[i], state, rows, open_batches, examples))
        elif i in shapes:
            results.append(_with_rows(shapes[i], rows))
        else:
            raise InputError("the source gave no batches (not even its columns)")
    return CheckReport(rows, tuple(results))


# ---------------------------------------------------------------------- helpers


def _first(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _load_reference(params: dict[str, Any]) -> pa.Table | pa.Array | pa.ChunkedArray:
    reference = params["reference"]
    if isinstance(reference, (pa.Array, pa.ChunkedArray)):
        return reference
    table = to_table(reference)
    column = params.get("reference_column") or params["column"]
    if column not in table.column_names:
        return table  # the rule reports the missing column
    # the distinct keys once, instead of once per batch
    return pc.unique(pc.drop_null(quality._plain(table.column(column))))


def _newest(result: Result) -> Any:
    return result.details.get("newest")


def _with_rows(result: Result, rows: int) -> Result:
    return replace(result, details={**result.details, "rows": rows})


def _unique_template(rule: Rule, table: pa.Table, examples: int) -> Result:
    limit = int(rule.params.get("examples", examples))
    params = {k: v for k, v in rule.params.items() if k != "examples"}
    try:
        return quality.unique(table.slice(0, 0), name=rule.name, severity=rule.severity,
                              examples=limit, **params)  # fmt: skip
    except (pa.ArrowException, TypeError, OverflowError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        name = rule.name or f"{rule.kind}({','.join(rule.columns)})"
        details = {"rule": rule.kind, "rows": 0, "offending": None, "examples": [],
                   "reason": f"cannot run on this data: {reason}"}  # fmt: skip
        return Result(name, "error", None, None, details)


def _unique_result(
    rule: Rule,
    template: Result,
    state: UniqueKeys,
    rows: int,
    open_batches: Callable[[], Iterable[pa.RecordBatch]],
    examples: int,
) -> Result:
    repeated = state.repeated()
    offending = int(pc.sum(repeated.column("n")).as_py() or 0) if repeated.num_rows else 0
    limit = int(rule.params.get("examples", examples))
    found = _unique_examples(state.keys, repeated, open_batches, limit) if offending else []
    details = {**template.details, "rows": rows, "offending": offending, "examples": found,
               "duplicate_keys": repeated.num_rows}  # fmt: skip
    bad = offending > 0
    if state.hll is not None:
        upper = state.hll.get_upper_bound(3)
        estimate = state.hll.get_estimate()
        bad = bad or state.valid > upper
        details["approximate"] = {
            "method": "hll",
            "counted_keys": state.limit,
            "rows_with_key": state.valid,
            "distinct_estimate": estimate,
            "distinct_upper": upper,
            "repeated_rows_estimate": max(0.0, state.valid - estimate),
            "note": f"more than {state.limit:,} distinct keys: duplicates of the first keys are "
            "exact (offending and duplicate_keys are lower bounds); beyond, the distinct count "
            "is an HLL estimate",
        }
    status = rule.severity if bad else "pass"
    return Result(template.check, status, float(offending), template.threshold, details)


def _unique_examples(
    keys: list[str], repeated: pa.Table, open_batches: Callable[[], Iterable[pa.RecordBatch]], n: int
) -> list[dict[str, Any]]:
    """The first ``n`` rows (over the whole source) whose key is in ``repeated``."""
    found: list[dict[str, Any]] = []
    if n <= 0:
        return found
    offset = 0
    dup = repeated.select(keys)
    for batch in open_batches():
        table = to_table(batch).select(keys)
        index = quality._row_index(table)
        indexed = table.append_column(index, pa.array(range(offset, offset + table.num_rows), pa.int64()))
        offset += table.num_rows
        if len(keys) == 1:
            values = quality._plain(indexed.column(keys[0]))
            mask = pc.and_(pc.is_valid(values), pc.is_in(values, value_set=quality._plain(dup.column(0))))
            hits = indexed.filter(mask)
        else:
            hits = indexed.join(dup, keys, join_type="left semi").sort_by(index)
        for row in hits.slice(0, n - len(found)).to_pylist():
            number = row.pop(index)
            found.append({"row": int(number), "values": {k: quality._json_value(row[k]) for k in keys}})
        if len(found) >= n:
            break
    return found


def _feed(sketch: hll_sketch, keys: pa.Table) -> None:
    """Each distinct key into the HLL: its columns as text, joined by U+001F (vectorised)."""
    try:
        texts = [pc.cast(c, pa.string()) for c in keys.columns]
        joined = texts[0] if len(texts) == 1 else pc.binary_join_element_wise(*texts, "\x1f")
        values: list[Any] = joined.to_pylist()
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):  # lists, structs
        values = [repr(row) for row in zip(*(c.to_pylist() for c in keys.columns), strict=True)]
    deque(map(sketch.update, values), maxlen=0)
