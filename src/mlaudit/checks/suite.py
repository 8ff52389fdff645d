"""Running rules over a table: :func:`run_rules` → :class:`CheckReport`.

>>> import pyarrow as pa
>>> from mlaudit.checks.rules import Rule
>>> report = run_rules(pa.table({"id": [1, 2, 2]}), [Rule.of("unique", column="id")])
>>> report.passed, report.results[0].details["offending"]
(False, 2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from mlaudit.checks.rules import Rule, parse_rule
from mlaudit.errors import InputError
from mlaudit.frames import TableLike, is_spark_frame, to_table
from mlaudit.stats.quality import DEFAULT_EXAMPLES
from mlaudit.stats.result import Result, Status, worst

__all__ = ["CheckReport", "run_rules"]


@dataclass(frozen=True)
class CheckReport:
    """The Results of a set of rules on one table; ``passed`` unless a rule failed or errored."""

    rows: int
    results: tuple[Result, ...]

    @property
    def status(self) -> Status:
        return worst([r.status for r in self.results])

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "check_report",
            "schema_version": 1,
            "rows": self.rows,
            "results": [r.to_dict() for r in self.results],
            "passed": self.passed,
        }

    def _repr_html_(self) -> str:
        """The check report in a notebook (an isolated iframe)."""
        summary = "\n".join(f"{r.status:5} {r.check}" for r in self.results)
        try:
            from mlaudit.report.check_report import render_check

            return render_check(self.to_dict())._repr_html_()
        except (ImportError, InputError) as exc:  # no plotly (the report extra): no page
            from html import escape

            return f"<pre>{escape(summary)}</pre><p>(no HTML report: {escape(str(exc))})</p>"


def run_rules(
    data: TableLike,
    rules: Sequence[Rule | Mapping[str, Any]],
    *,
    examples: int = DEFAULT_EXAMPLES,
) -> CheckReport:
    """Apply each rule to ``data`` (any table-like) and collect the Results in rule order.

    ``rules`` are :class:`Rule` objects or their YAML-shaped dicts. ``examples`` is how many
    offending rows each Result shows (a rule's own ``examples`` parameter wins). A column
    missing from the data gives that rule an ``error`` Result; it does not stop the others.
    """
    if is_spark_frame(data):  # rules as Spark aggregations
        from mlaudit.engines.spark_rules import check_rules

        return check_rules(data, rules, examples=examples)
    table = to_table(data)
    if examples < 0:
        raise InputError(f"examples must be 0 or more, not {examples}")
    resolved = [
        r if isinstance(r, Rule) else parse_rule(i, r, path=None, base_dir=None)
        for i, r in enumerate(rules, start=1)
    ]
    return CheckReport(table.num_rows, tuple(_run_one(r, table, examples) for r in resolved))


def _run_one(rule: Rule, table: pa.Table, examples: int) -> Result:
    try:
        return rule.run(table, examples=examples)
    except (pa.ArrowException, TypeError, OverflowError) as exc:
        # The data defeated the rule (an odd type, an overflow): report it, run the rest.
        name = rule.name or f"{rule.kind}({','.join(rule.columns)})"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        details = {"rule": rule.kind, "rows": table.num_rows, "offending": None, "examples": [],
                   "reason": f"cannot run on this data: {reason}"}
        return Result(name, "error", None, None, details)
