"""A small SQL-like predicate language, parsed safely into ``pyarrow.compute`` expressions.

User text is never evaluated as Python: a tokenizer and a recursive-descent parser turn it
into a :class:`pyarrow.compute.Expression`, or raise :class:`InputError` naming the position.

Grammar (keywords are case-insensitive)::

    predicate  := or
    or         := and ("OR" and)*
    and        := not ("AND" not)*
    not        := "NOT" not | comparison
    comparison := sum [ ("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") sum
                      | "IS" ["NOT"] "NULL"
                      | ["NOT"] "IN" "(" literal ("," literal)* ")"
                      | ["NOT"] "BETWEEN" sum "AND" sum
                      | ["NOT"] "LIKE" string ]
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | atom
    atom       := number | 'string' | TRUE | FALSE | NULL | DATE 'iso' | TIMESTAMP 'iso'
                | column | "quoted column" | "(" predicate ")"

Logic is SQL's three-valued logic (a comparison with NULL is NULL). ``/`` is true division.
Strings use single quotes (``'it''s'``); column names that are not plain identifiers (spaces,
keywords, leading digits) use double quotes (``"order date"``). There are no function calls.

>>> parsed = parse_expression("amount >= 0 AND (status = 'closed' OR closed_at IS NULL)")
>>> sorted(parsed.columns)
['amount', 'closed_at', 'status']
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from mlaudit.errors import InputError

__all__ = ["ParsedExpression", "parse_expression"]

_KEYWORDS = frozenset(
    {"AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "LIKE"}
    | {"TRUE", "FALSE", "DATE", "TIMESTAMP"}
)
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")+")
  | (?P<name>[^\W\d]\w*)
  | (?P<op><=|>=|<>|!=|==|[=<>+\-*/(),])
    """,
    re.VERBOSE,
)
_COMPARE = {
    "=": pc.equal,
    "==": pc.equal,
    "!=": pc.not_equal,
    "<>": pc.not_equal,
    "<": pc.less,
    "<=": pc.less_equal,
    ">": pc.greater,
    ">=": pc.greater_equal,
}


@dataclass(frozen=True)
class ParsedExpression:
    """A parsed predicate: its Arrow ``expression``, the ``columns`` it reads, its ``text``."""

    text: str
    expression: pc.Expression
    columns: tuple[str, ...]


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, quoted, name, keyword, op, end
    text: str
    pos: int


@dataclass(frozen=True)
class _Value:
    """An operand while parsing: an Arrow expression, plus the literal it came from, if any."""

    expr: pc.Expression
    literal: Any = None
    is_literal: bool = False


def parse_expression(text: str) -> ParsedExpression:
    """Parse SQL-like ``text`` (see the module docstring) into a :class:`ParsedExpression`.

    >>> parse_expression("age BETWEEN 18 AND 120").columns
    ('age',)
    >>> parse_expression("__import__('os')")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mlaudit.errors.InputError: expression error at position 10: expected an operator or the end, ...
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("the expression is empty", hint="write a predicate such as amount >= 0")
    parser = _Parser(text, _tokenize(text))
    value = parser.predicate()
    parser.expect_end()
    return ParsedExpression(text, value.expr, tuple(dict.fromkeys(parser.columns)))


def _error(text: str, pos: int, message: str) -> InputError:
    near = f"near {text[pos : pos + 20]!r} " if pos < len(text) else ""
    return InputError(f"expression error at position {pos}: {message} ({near}in {text!r})")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _error(text, pos, f"unexpected character {text[pos]!r}")
        kind = match.lastgroup or "op"
        word = match.group()
        if kind == "name" and word.upper() in _KEYWORDS:
            tokens.append(_Token("keyword", word.upper(), pos))
        elif kind != "space":
            tokens.append(_Token(kind, word, pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.columns: list[str] = []

    # -- token helpers --
    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def at(self, kind: str, text: str | None = None) -> bool:
        tok = self.tok
        return tok.kind == kind and (text is None or tok.text == text)

    def take(self, kind: str, text: str | None = None) -> bool:
        if self.at(kind, text):
            self.i += 1
            return True
        return False

    def fail(self, message: str, tok: _Token | None = None) -> InputError:
        tok = tok or self.tok
        got = "the end" if tok.kind == "end" else repr(tok.text)
        return _error(self.text, tok.pos, f"{message}, got {got}")

    def need(self, kind: str, text: str, what: str) -> None:
        if not self.take(kind, text):
            raise self.fail(f"expected {what}")

    def expect_end(self) -> None:
        if not self.at("end"):
            raise self.fail("expected an operator or the end")

    # -- grammar --
    def predicate(self) -> _Value:
        left = self.conjunction()
        while self.take("keyword", "OR"):
            left = _Value(pc.or_kleene(left.expr, self.conjunction().expr))
        return left

    def conjunction(self) -> _Value:
        left = self.negation()
        while self.take("keyword", "AND"):
            left = _Value(pc.and_kleene(left.expr, self.negation().expr))
        return left

    def negation(self) -> _Value:
        if self.take("keyword", "NOT"):
            return _Value(pc.invert(self.negation().expr))
        return self.comparison()

    def comparison(self) -> _Value:
        left = self.sum()
        tok = self.tok
        if tok.kind == "op" and tok.text in _COMPARE:
            self.i += 1
            right = self.sum()
            return _Value(_COMPARE[tok.text](left.expr, right.expr))
        if self.take("keyword", "IS"):
            negate = self.take("keyword", "NOT")
            self.need("keyword", "NULL", "NULL after IS")
            test = pc.is_valid(left.expr) if negate else pc.is_null(left.expr)
            return _Value(test)
        negate = self.take("keyword", "NOT")
        if self.take("keyword", "IN"):
            result = self.in_list(left)
        elif self.take("keyword", "BETWEEN"):
            low = self.sum()
            self.need("keyword", "AND", "AND in BETWEEN … AND …")
            high = self.sum()
            result = pc.and_kleene(
                pc.greater_equal(left.expr, low.expr), pc.less_equal(left.expr, high.expr)
            )
        elif self.take("keyword", "LIKE"):
            if not self.at("string"):
                raise self.fail("expected a 'pattern' after LIKE")
            pattern = _unquote(self.tok.text, "'")
            self.i += 1
            result = pc.match_like(left.expr, pattern)
        elif negate:
            raise self.fail("expected IN, BETWEEN or LIKE after NOT")
        else:
            return left
        return _Value(pc.invert(result) if negate else result)

    def in_list(self, left: _Value) -> pc.Expression:
        self.need("op", "(", "'(' after IN")
        values: list[Any] = []
        while True:
            tok = self.tok
            item = self.unary()
            if not item.is_literal or item.literal is None:
                raise self.fail("expected a literal value (not a column or NULL) in IN (…)", tok)
            if values and _family(item.literal) != _family(values[0]):
                raise _error(self.text, tok.pos, "IN (…) mixes types of values")
            values.append(item.literal)
            if not self.take("op", ","):
                break
        self.need("op", ")", "',' or ')' in IN (…)")
        value_set = pa.array(values)
        # SQL: NULL IN (…) is NULL, not FALSE.
        found = pc.is_in(left.expr, value_set=value_set)
        return pc.if_else(pc.is_valid(left.expr), found, pa.scalar(None, pa.bool_()))

    def sum(self) -> _Value:
        left = self.product()
        while self.at("op", "+") or self.at("op", "-"):
            op = self.tok.text
            self.i += 1
            right = self.product()
            fn = pc.add_checked if op == "+" else pc.subtract_checked
            left = _Value(fn(left.expr, right.expr))
        return left

    def product(self) -> _Value:
        left = self.unary()
        while self.at("op", "*") or self.at("op", "/"):
            op = self.tok.text
            self.i += 1
            right = self.unary()
            if op == "*":
                left = _Value(pc.multiply_checked(left.expr, right.expr))
            else:  # true division, as users expect from 7 / 2
                f64 = pa.float64()
                left = _Value(pc.divide(left.expr.cast(f64), right.expr.cast(f64)))
        return left

    def unary(self) -> _Value:
        if self.take("op", "-"):
            inner = self.unary()
            if inner.is_literal and isinstance(inner.literal, (int, float)):
                return _literal(-inner.literal)
            return _Value(pc.negate_checked(inner.expr))
        if self.take("op", "+"):
            return self.unary()
        return self.atom()

    def atom(self) -> _Value:
        tok = self.tok
        if tok.kind == "number":
            self.i += 1
            is_int = re.fullmatch(r"\d+", tok.text) is not None
            return _literal(int(tok.text) if is_int else float(tok.text))
        if tok.kind == "string":
            self.i += 1
            return _literal(_unquote(tok.text, "'"))
        if tok.kind == "keyword" and tok.text in ("TRUE", "FALSE", "NULL"):
            self.i += 1
            return _literal({"TRUE": True, "FALSE": False, "NULL": None}[tok.text])
        if tok.kind == "keyword" and tok.text in ("DATE", "TIMESTAMP"):
            self.i += 1
            return self.typed_literal(tok)
        if tok.kind in ("name", "quoted"):
            self.i += 1
            name = tok.text if tok.kind == "name" else _unquote(tok.text, '"')
            self.columns.append(name)
            return _Value(pc.field(name))
        if self.take("op", "("):
            inner = self.predicate()
            self.need("op", ")", "')'")
            return inner
        raise self.fail("expected a value, a column or '('")

    def typed_literal(self, keyword: _Token) -> _Value:
        if not self.at("string"):
            raise self.fail(f"expected an ISO date in quotes after {keyword.text}")
        raw = _unquote(self.tok.text, "'")
        try:
            stamp = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise self.fail(f"{raw!r} is not an ISO date") from exc
        self.i += 1
        return _literal(stamp.date() if keyword.text == "DATE" else stamp)


def _literal(value: Any) -> _Value:
    scalar = pa.scalar(value, pa.null()) if value is None else pa.scalar(value)
    return _Value(pc.scalar(scalar), value, True)


def _family(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (dt.date, dt.datetime)):
        return "date"
    return type(value).__name__


def _unquote(token: str, quote: str) -> str:
    return token[1:-1].replace(quote * 2, quote)
