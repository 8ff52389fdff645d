"""Data quality checks: rules declared in YAML or Python, run over a table, one Result each.

A rules file is a mapping with a ``rules:`` list. Each rule names its kind with ``rule:``,
may carry a ``name:`` (shown in reports) and ``severity: fail|warn`` (default ``fail``; a
``warn`` rule that is violated does not fail the run), and takes that rule's parameters::

    rules:
      - rule: not_null              # nulls (and NaN) in a column
        column: customer_id
        # max_null_rate: 0.01       # tolerate up to 1% nulls
      - rule: range                 # min and/or max; min_inclusive/max_inclusive; allow_nan
        column: age
        min: 18
        max: 120
        severity: warn
      - rule: allowed_values
        column: status
        values: [open, closed]
      - rule: regex                 # RE2, must match the whole value; ignore_case
        column: zip
        pattern: '\\d{5}'   # single quotes: YAML keeps backslashes
      - rule: unique                # or columns: [a, b] for a compound key
        column: order_id
      - rule: type                  # numeric | integer | string | boolean | datetime
        column: amount
        kind: numeric
      - rule: row_count
        min: 1000
      - rule: freshness             # newest timestamp no older than max_age (30m, 24h, 7d, 1d12h)
        column: updated_at
        max_age: 24h
      - rule: referential           # values must exist in another table (path: relative
        column: customer_id         #   to this file)
        reference: customers.parquet
        reference_column: id
      - rule: expression            # SQL-like row predicate, see mlaudit.checks.expression
        name: non_negative_amounts
        expr: "amount >= 0 AND (status = 'closed' OR closed_at IS NULL)"

Every rule gives a :class:`~mlaudit.stats.result.Result` whose details hold ``offending``
(count), ``rows``, ``examples`` (up to N offending rows with their 0-based ``row`` index) and
the rule's parameters; a rule that cannot run on the data (missing column, wrong type) gives
status ``error``.

>>> import pyarrow as pa
>>> table = pa.table({"age": [25, 17, None]})
>>> report = run_rules(table, [Rule.of("range", column="age", min=18), {"rule": "not_null",
...                                                                      "column": "age"}])
>>> [(r.check, r.status, r.details["offending"]) for r in report.results]
[('range(age)', 'fail', 1), ('not_null(age)', 'fail', 1)]
"""

from __future__ import annotations

from mlaudit.checks.expression import ParsedExpression, parse_expression
from mlaudit.checks.rules import RULES, Rule, load_rules, parse_rules, validate_rules
from mlaudit.checks.suggest import rules_to_yaml, suggest_rules
from mlaudit.checks.suite import CheckReport, run_rules

__all__ = [
    "RULES",
    "CheckReport",
    "ParsedExpression",
    "Rule",
    "load_rules",
    "parse_expression",
    "parse_rules",
    "rules_to_yaml",
    "run_rules",
    "suggest_rules",
    "validate_rules",
]
