"""A plain Python function as a model.

The function gets the selected features as a ``pyarrow.Table`` (``input="table"``, the
default), a 2-D NumPy array (``input="numpy"``) or a pandas DataFrame (``input="pandas"``)
and returns one prediction per row. ``proba=`` is an optional second function returning
``(rows, classes)`` probabilities (or P(positive) for a binary model).

The fingerprint is the SHA-256 of the function's qualified name and source code (its bytecode
and constants when the source is not available), so editing the function changes it.

>>> model = CallableModel(lambda x: x.sum(axis=1), input="numpy", feature_names=("a", "b"))
>>> model.predict({"a": [1, 2], "b": [10, 20], "c": [0, 0]}).tolist()
[11, 22]
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Literal

import pyarrow as pa

from mlaudit.errors import InputError
from mlaudit.models.base import BaseModel, Task, sha256_hex, table_to_matrix

__all__ = ["CallableModel", "InputKind"]

InputKind = Literal["table", "numpy", "pandas"]


class CallableModel(BaseModel):
    """Wrap ``predict`` (and optionally ``proba``) functions as a :class:`~mlaudit.models.Model`."""

    framework = "callable"

    def __init__(
        self,
        predict: Callable[[Any], Any],
        *,
        proba: Callable[[Any], Any] | None = None,
        input: InputKind = "table",
        feature_names: tuple[str, ...] | list[str] | None = None,
        classes: tuple[Any, ...] | list[Any] | None = None,
        task: Task | None = None,
    ) -> None:
        if not callable(predict):
            raise InputError(f"a {type(predict).__name__} is not callable, so it cannot be a model")
        if proba is not None and not callable(proba):
            raise InputError(f"proba must be callable, not a {type(proba).__name__}")
        if input not in ("table", "numpy", "pandas"):
            raise InputError(f"unknown input kind {input!r}; use 'table', 'numpy' or 'pandas'")
        self.function = predict
        self.proba_function = proba
        self.input = input
        parts = [_function_bytes(predict)] + ([_function_bytes(proba)] if proba is not None else [])
        super().__init__(
            fingerprint=sha256_hex(b"\x00".join(parts)),
            feature_names=tuple(feature_names) if feature_names is not None else None,
            classes=tuple(classes) if classes is not None else None,
            task=task,
        )

    @property
    def supports_proba(self) -> bool:
        return self.proba_function is not None

    @property
    def name(self) -> str:
        qualname = getattr(self.function, "__qualname__", type(self.function).__qualname__)
        return f"callable model {qualname!r}"

    def _convert(self, table: pa.Table) -> Any:
        if self.input == "numpy":
            return table_to_matrix(table)
        if self.input == "pandas":
            return table.to_pandas()
        return table

    def _predict(self, table: pa.Table) -> Any:
        return self.function(self._convert(table))

    def _predict_proba(self, table: pa.Table) -> Any:
        assert self.proba_function is not None  # guarded by supports_proba
        return self.proba_function(self._convert(table))


def _function_bytes(function: Callable[..., Any]) -> bytes:
    qualname = getattr(function, "__qualname__", type(function).__qualname__)
    name = f"{getattr(function, '__module__', '?')}.{qualname}"
    target: Any = function if inspect.isroutine(function) else type(function)
    try:
        body = inspect.getsource(target).encode()
    except (OSError, TypeError):  # defined in a REPL, a builtin, or a callable object
        code = getattr(function, "__code__", None)
        body = code.co_code + repr(code.co_consts).encode() if code is not None else b""
    return name.encode() + b"\x00" + body
