"""Rule declarations: the registry of rule names, :class:`Rule`, and loading rules from YAML.

The registry :data:`RULES` maps each YAML ``rule:`` name to one function
``f(table, *, <params>, severity, examples, name) -> Result``; a rule's parameters are that
function's keyword-only parameters (those without a default are required). Adding a rule is
one function in :mod:`mlaudit.stats.quality` plus one line here.

>>> Rule.of("range", column="age", min=18, max=120, severity="warn").to_dict()
{'rule': 'range', 'column': 'age', 'min': 18, 'max': 120, 'severity': 'warn'}
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from mlaudit.checks.expression import parse_expression
from mlaudit.errors import InputError
from mlaudit.frames import to_table
from mlaudit.stats import quality
from mlaudit.stats.result import Result

__all__ = ["RULES", "Rule", "load_rules", "parse_rule", "parse_rules", "validate_rules"]

Severity = Literal["fail", "warn"]


def _expression(
    table: pa.Table,
    *,
    expr: str | pc.Expression,
    severity: Severity = "fail",
    examples: int = quality.DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """Rows where the SQL-like predicate ``expr`` is not TRUE (see :mod:`.expression`)."""
    if isinstance(expr, pc.Expression):
        return quality.expression(table, predicate=expr, severity=severity, examples=examples,
                                  name=name)
    parsed = parse_expression(expr)
    return quality.expression(table, predicate=parsed.expression, columns=parsed.columns,
                              expr=parsed.text, severity=severity, examples=examples, name=name)


def _referential(
    table: pa.Table,
    *,
    column: str,
    reference: Any,
    reference_column: str | None = None,
    severity: Severity = "fail",
    examples: int = quality.DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """``column``'s values must exist in ``reference`` (a table, an array, or a file path)."""
    is_path = isinstance(reference, (str, os.PathLike))
    ref = reference if isinstance(reference, (pa.Array, pa.ChunkedArray)) else to_table(reference)
    result = quality.referential(table, column=column, reference=ref,
                                 reference_column=reference_column, severity=severity,
                                 examples=examples, name=name)
    if not is_path:
        return result
    return replace(result, details={**result.details, "reference": str(reference)})


RULES: dict[str, Callable[..., Result]] = {
    "not_null": quality.not_null,
    "range": quality.range_,
    "allowed_values": quality.allowed_values,
    "regex": quality.regex,
    "unique": quality.unique,
    "type": quality.type_,
    "row_count": quality.row_count,
    "freshness": quality.freshness,
    "referential": _referential,
    "expression": _expression,
}
_SET_BY_RULE = ("severity", "name")  # Rule fields, not params


def _params_of(kind: str) -> tuple[set[str], set[str]]:
    """(required, allowed) parameter names of rule ``kind``, read from its function."""
    sig = inspect.signature(RULES[kind])
    kw = [p for p in sig.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    allowed = {p.name for p in kw} - set(_SET_BY_RULE)
    required = {p.name for p in kw if p.default is inspect.Parameter.empty}
    return required, allowed


@dataclass(frozen=True)
class Rule:
    """One declared rule: its registry ``kind``, its ``params``, an optional ``name``, a severity.

    Parameters are checked when the rule is made (unknown or missing ones, a broken regex or
    expression raise :class:`InputError`); columns are checked against data by
    :func:`validate_rules` or, at run time, give an ``error`` Result.

    >>> Rule.of("not_null", column="id").run(pa.table({"id": [1, None]})).status
    'fail'
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None
    severity: Severity = "fail"

    @classmethod
    def of(cls, kind: str, /, *, name: str | None = None, severity: Severity = "fail",
           **params: Any) -> Rule:
        """``Rule.of("range", column="age", min=0)`` — a rule with keyword parameters."""
        return cls(kind, dict(params), name, severity)

    def __post_init__(self) -> None:
        if self.kind not in RULES:
            raise InputError(f"unknown rule {self.kind!r}",
                             hint=f"known rules: {', '.join(sorted(RULES))}")
        if self.severity not in ("fail", "warn"):
            raise InputError(f"severity must be 'fail' or 'warn', not {self.severity!r}")
        if self.name is not None and not isinstance(self.name, str):
            raise InputError(f"name must be text, not {self.name!r}")
        required, allowed = _params_of(self.kind)
        unknown = sorted(set(self.params) - allowed)
        if unknown:
            raise InputError(f"unknown parameter {unknown[0]!r} for rule {self.kind!r}",
                             hint=f"allowed: {', '.join(sorted(allowed))}")
        missing = sorted(required - set(self.params))
        if missing:
            raise InputError(f"missing required parameter {missing[0]!r} for rule {self.kind!r}")
        self._check_values()

    def _check_values(self) -> None:
        """Catch bad parameter values now rather than when the rule runs."""
        p = self.params
        for key in ("column", "reference_column"):
            if key in p and p[key] is not None and not isinstance(p[key], str):
                raise InputError(f"{key!r} must be a column name, not {p[key]!r}")
        if self.kind == "expression" and isinstance(p["expr"], str):
            parse_expression(p["expr"])
        elif self.kind == "regex":
            quality.validate_regex(p["pattern"])
        elif self.kind in ("range", "row_count") and p.get("min") is None and p.get("max") is None:
            raise InputError(f"the {self.kind} rule needs 'min', 'max' or both")
        elif self.kind == "unique":
            cols = p.get("columns")
            if ("column" in p) == (cols is not None) or (
                cols is not None and (isinstance(cols, str) or not cols)
            ):
                raise InputError("the unique rule needs 'column', or 'columns' as a list")
        elif self.kind == "type" and p["kind"] not in quality.KINDS:
            raise InputError(f"unknown kind {p['kind']!r}; use one of {', '.join(quality.KINDS)}")
        elif self.kind == "allowed_values" and (
            isinstance(p["values"], (str, bytes)) or not isinstance(p["values"], Sequence)
        ):
            raise InputError("allowed_values needs 'values' as a list")
        elif self.kind == "freshness":
            quality.parse_duration(p["max_age"])
        elif self.kind == "not_null" and p.get("max_null_rate") is not None:
            rate = p["max_null_rate"]
            if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise InputError(f"max_null_rate must be a number from 0 to 1, not {rate!r}")

    @property
    def label(self) -> str:
        """How messages name this rule: ``range 'adult_age'`` or ``range``."""
        return f"{self.kind} {self.name!r}" if self.name else self.kind

    @property
    def columns(self) -> tuple[str, ...]:
        """The data columns this rule reads."""
        p = self.params
        if self.kind == "expression":
            expr = p["expr"]
            return parse_expression(expr).columns if isinstance(expr, str) else ()
        names = [p["column"]] if isinstance(p.get("column"), str) else []
        names += list(p.get("columns") or [])
        return tuple(names)

    def run(self, table: pa.Table, *, examples: int = quality.DEFAULT_EXAMPLES) -> Result:
        """Apply the rule to ``table`` (examples: how many offending rows to show)."""
        params = {"examples": examples, **self.params}
        return RULES[self.kind](table, name=self.name, severity=self.severity, **params)

    def to_dict(self) -> dict[str, Any]:
        """The YAML form: ``{"rule": kind, "name"?: …, **params, "severity"?: "warn"}``."""
        out: dict[str, Any] = {"rule": self.kind}
        if self.name:
            out["name"] = self.name
        for key, value in self.params.items():
            out[key] = str(value) if isinstance(value, os.PathLike) else value
        if self.severity != "fail":
            out["severity"] = self.severity
        return out


def parse_rules(
    data: Any, *, path: str | None = None, base_dir: str | Path | None = None
) -> list[Rule]:
    """Rules from parsed YAML: ``{"rules": [{"rule": "not_null", "column": "id"}, …]}`` or a list.

    ``path`` names the rules file in errors; relative ``reference`` paths of referential rules
    are resolved against ``base_dir``.

    >>> [r.kind for r in parse_rules({"rules": [{"rule": "row_count", "min": 1}]})]
    ['row_count']
    """
    if isinstance(data, Mapping):
        extra = sorted(set(data) - {"rules", "version"})
        if extra:
            raise InputError(f"unknown top-level key {extra[0]!r}", path=path,
                             hint="a rules file is a mapping with a 'rules:' list")
        data = data.get("rules")
    if data is None:
        raise InputError("no rules found", path=path, hint="start the file with 'rules:'")
    if not isinstance(data, list):
        raise InputError("'rules' must be a list of rules", path=path)
    return [parse_rule(i, item, path, base_dir) for i, item in enumerate(data, start=1)]


def parse_rule(
    index: int, item: Any, path: str | None = None, base_dir: str | Path | None = None
) -> Rule:
    """Rule number ``index`` (1-based, for messages) from its YAML mapping ``item``."""
    where = f"rule #{index}"
    if not isinstance(item, Mapping):
        raise InputError(f"{where}: expected a mapping with a 'rule:' key, got {item!r}", path=path)
    body = {str(k): v for k, v in item.items()}
    kind = body.pop("rule", None)
    name = body.pop("name", None)
    if kind is None:
        raise InputError(f"{where}: missing the 'rule:' key", path=path,
                         hint=f"known rules: {', '.join(sorted(RULES))}")
    where = f"{where} ({kind} {name!r})" if name else f"{where} ({kind})"
    try:
        severity = body.pop("severity", "fail")
        if kind == "referential" and isinstance(body.get("reference"), str) and base_dir:
            ref = Path(body["reference"])
            body["reference"] = str(ref if ref.is_absolute() else Path(base_dir) / ref)
            if not Path(body["reference"]).exists():
                raise InputError(f"reference file {body['reference']!r} does not exist")
        return Rule(str(kind), body, name, severity)
    except InputError as exc:
        raise InputError(f"{where}: {exc.message}", path=path, column=exc.column,
                         hint=exc.hint) from exc


def load_rules(path: str | os.PathLike[str], *, schema: pa.Schema | None = None) -> list[Rule]:
    """Read a YAML rules file (format: :mod:`mlaudit.checks`); check columns against ``schema``.

    Any problem — unreadable file, bad YAML, unknown rule or parameter, a column not in
    ``schema`` — is an :class:`InputError` naming the file and the rule.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("no such rules file", path=str(p)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the rules file: {exc}", path=str(p)) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        at = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
        raise InputError(f"not valid YAML{at}: {problem}", path=str(p)) from exc
    rules = parse_rules(data, path=str(p), base_dir=p.parent)
    if schema is not None:
        validate_rules(rules, schema, path=str(p))
    return rules


def validate_rules(rules: Sequence[Rule], schema: pa.Schema, *, path: str | None = None) -> None:
    """Raise :class:`InputError` for the first rule that reads a column not in ``schema``.

    >>> validate_rules([Rule.of("not_null", column="id")], pa.schema([("id", pa.int64())]))
    """
    names = set(schema.names)
    for index, rule in enumerate(rules, start=1):
        for column in rule.columns:
            if column not in names:
                raise InputError(
                    f"rule #{index} ({rule.label}): no column {column!r} in the data",
                    path=path, column=column,
                    hint=f"columns: {', '.join(schema.names)}",
                )
