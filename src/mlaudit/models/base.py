"""The one small protocol every model adapter follows, and what adapters share.

A :class:`Model` takes anything :func:`mlaudit.frames.to_table` accepts, picks the columns named
by ``feature_names`` (extra columns are ignored; missing ones are an :class:`InputError` that
names them) and answers ``predict`` / ``predict_proba``. ``predict_proba`` returns ``None``
when the model has no probabilities (``supports_proba`` says so up front), never raises
``AttributeError``.

>>> from mlaudit.models import load
>>> model = load(lambda x: x[:, 0] > 0, input="numpy")
>>> model.predict({"a": [1.0, -1.0]}).tolist()
[True, False]
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa

from mlaudit.errors import InputError, MLAuditError
from mlaudit.frames import TableLike, to_table

__all__ = ["BaseModel", "Model", "Task", "sha256_hex", "table_to_matrix", "text_value"]

_PROBA_TOLERANCE = 1e-3  # float32 models' rows sum to 1 within ~1e-7; this leaves room

Task = Literal["binary", "multiclass", "regression"]


@runtime_checkable
class Model(Protocol):
    """What mlaudit needs from a model, whatever its framework."""

    @property
    def framework(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def feature_names(self) -> tuple[str, ...] | None: ...

    @property
    def classes(self) -> tuple[Any, ...] | None: ...

    @property
    def task(self) -> Task | None: ...

    @property
    def supports_proba(self) -> bool: ...

    def predict(self, data: TableLike) -> np.ndarray: ...

    def predict_proba(self, data: TableLike) -> np.ndarray | None: ...


def sha256_hex(data: bytes) -> str:
    """``"sha256:<hex>"`` of ``data``, the form every fingerprint in mlaudit takes.

    >>> sha256_hex(b"")[:15]
    'sha256:e3b0c442'
    """
    return "sha256:" + hashlib.sha256(data).hexdigest()


def table_to_matrix(table: pa.Table) -> np.ndarray:
    """A 2-D NumPy array of ``table``'s columns: numeric stays numeric, strings make it ``object``.

    Nulls become NaN in numeric columns and ``None`` in string columns.

    >>> table_to_matrix(pa.table({"a": [1, 2], "b": [0.5, None]})).tolist()
    [[1.0, 0.5], [2.0, nan]]
    """
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        columns.append(column.to_numpy(zero_copy_only=False))
    if not columns:
        return np.empty((table.num_rows, 0))
    if any(c.dtype.kind in "OUS" for c in columns):
        return np.column_stack([c.astype(object) for c in columns])
    return np.column_stack(columns)


def text_value(table: pa.Table) -> tuple[str, int, Any] | None:
    """The first (column, row, value) of ``table`` holding text that is not a number, or ``None``.

    >>> text_value(pa.table({"a": [1.0, 2.0], "b": ["3", "oops"]}))
    ('b', 1, 'oops')
    """
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        for row, value in enumerate(column.to_pylist()):
            if value is None:
                continue
            try:
                float(value)
            except ValueError:
                return name, row, value
    return None


def optional_import(module: str, *, extra: str, what: str) -> Any:
    """Import an optional framework, or say which extra installs it (InputError, exit 2)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise InputError(f"{what} need {module}", hint=f"pip install 'mlaudit[{extra}]'") from exc


class BaseModel(ABC):
    """Shared behaviour of the adapters: feature selection, task inference, the ``Model`` fields.

    Subclasses set ``framework`` and implement ``_predict(table)`` (and ``_predict_proba(table)``
    when ``supports_proba`` is true); the public methods check the input first.
    """

    framework: str = "unknown"

    def __init__(
        self,
        *,
        fingerprint: str,
        feature_names: tuple[str, ...] | None = None,
        n_features: int | None = None,
        classes: tuple[Any, ...] | None = None,
        task: Task | None = None,
    ) -> None:
        self._fingerprint = fingerprint
        self._feature_names = tuple(str(n) for n in feature_names) if feature_names is not None else None
        self._n_features = len(self._feature_names) if self._feature_names is not None else n_features
        self._classes = classes
        self._task = task

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def feature_names(self) -> tuple[str, ...] | None:
        return self._feature_names

    @property
    def n_features(self) -> int | None:
        """How many input columns the model takes, where it is known."""
        return self._n_features

    @property
    def classes(self) -> tuple[Any, ...] | None:
        return self._classes

    @property
    def task(self) -> Task | None:
        if self._task is not None:
            return self._task
        if self._classes is not None:
            return "binary" if len(self._classes) == 2 else "multiclass"
        return None

    @property
    def supports_proba(self) -> bool:
        return False

    @property
    def name(self) -> str:
        """The model as messages name it, e.g. ``"sklearn model LogisticRegression"``."""
        return f"{self.framework} model"

    def model_error(self, method: str, exc: BaseException, table: pa.Table) -> InputError:
        """The InputError for ``exc`` raised by the model in ``method``: names the model, the
        original error and, for a conversion error, the first column holding text."""
        found = text_value(table) if isinstance(exc, (ValueError, TypeError)) else None
        where = ""
        if found is not None:
            where = f"; column {found[0]!r} holds text ({found[2]!r}) where the model may want numbers"
        return InputError(
            f"the {self.name} could not {method.replace('_', ' ')} this data: "
            f"{type(exc).__name__}: {exc}{where}",
            column=found[0] if found else None,
            row=found[1] if found else None,
            hint="check that the columns have the types the model was trained on",
        )

    def _guarded(self, call: Callable[[pa.Table], Any], table: pa.Table, method: str) -> Any:
        try:
            return call(table)
        except MLAuditError:
            raise
        except Exception as exc:  # a model can raise anything: say which model, keep the cause
            raise self.model_error(method, exc, table) from exc

    def predict(self, data: TableLike) -> np.ndarray:
        """Predictions for each row of ``data``: labels for classifiers, values for regressors."""
        table = self.select_features(data)
        out = np.asarray(self._guarded(self._predict, table, "predict"))
        return self._check_length(out, table.num_rows, "predictions")

    def predict_proba(self, data: TableLike) -> np.ndarray | None:
        """Class probabilities, shape ``(rows, len(classes))``; ``None`` if the model has none."""
        if not self.supports_proba:
            return None
        table = self.select_features(data)
        proba = self._guarded(self._predict_proba, table, "predict_proba")
        if proba is None:
            return None
        try:
            proba = np.asarray(proba, dtype=float)
        except (ValueError, TypeError) as exc:
            raise InputError(f"the {self.name} returned probabilities that are not numbers: {exc}") from exc
        shape = proba.shape
        if proba.ndim == 1:  # some frameworks give P(positive) only for binary models
            proba = np.column_stack([1.0 - proba, proba])
        proba = self._check_length(proba, table.num_rows, "probability rows")
        k = len(self._classes) if self._classes is not None else None
        if proba.ndim != 2 or (k is not None and proba.shape[1] != k):
            raise InputError(
                f"the {self.name} returned probabilities of shape {shape}, not (rows, {k or 'classes'})",
                hint="predict_proba must give one column per class, in the order of classes",
            )
        self._check_probabilities(proba)
        return proba

    def _check_probabilities(self, proba: np.ndarray) -> None:
        """InputError naming the first row outside [0, 1] or not summing to 1."""
        tol = _PROBA_TOLERANCE
        outside = ~((proba >= -tol) & (proba <= 1 + tol)).all(axis=1)  # NaN is outside too
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            raise InputError(
                f"the {self.name} returned probabilities outside [0, 1]: {proba[row].tolist()}",
                row=row,
                hint="is it returning scores or logits instead of probabilities?",
            )
        off = np.abs(proba.sum(axis=1) - 1.0) > tol
        if off.any():
            row = int(np.flatnonzero(off)[0])
            raise InputError(
                f"the {self.name} returned probabilities that sum to {proba[row].sum():.6g}, not 1: "
                f"{proba[row].tolist()}",
                row=row,
                hint="each row of predict_proba must sum to 1",
            )

    def select_features(self, data: TableLike) -> pa.Table:
        """``data`` as a table holding exactly the model's features, in the model's order.

        A plain 2-D NumPy array is taken positionally and must be as wide as the model's input.
        """
        names = self._feature_names
        if isinstance(data, np.ndarray) and data.dtype.names is None:
            array = data.reshape(-1, 1) if data.ndim == 1 else data
            if array.ndim != 2:
                raise InputError(f"a NumPy array must be 1-D or 2-D, not {array.ndim}-D")
            self._check_width(array.shape[1])
            if names is not None:
                return pa.table({name: array[:, i] for i, name in enumerate(names)})
            return to_table(array)
        table = to_table(data)
        if names is None:
            self._check_width(table.num_columns)
            return table
        missing = [n for n in names if n not in table.column_names]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise InputError(
                f"the data lacks {len(missing)} of the model's {len(names)} features: {shown}",
                column=missing[0],
                hint="add or rename these columns; columns the model does not use are ignored",
            )
        return table.select(list(names))

    def _check_width(self, width: int) -> None:
        if self._n_features is not None and width != self._n_features:
            raise InputError(
                f"the data has {width} columns but the model takes {self._n_features} features",
                hint="pass exactly the model's input columns, in training order",
            )

    def _check_length(self, out: np.ndarray, rows: int, what: str) -> np.ndarray:
        if out.ndim == 2 and out.shape[1] == 1 and what == "predictions":
            out = out[:, 0]
        if out.ndim == 0 or out.shape[0] != rows:
            got = "a scalar" if out.ndim == 0 else str(out.shape[0])
            raise InputError(f"the {self.framework} model returned {got} {what} for {rows} rows")
        return out

    @abstractmethod
    def _predict(self, table: pa.Table) -> Any:
        """Raw predictions for ``table`` (already checked and column-selected); each adapter's own."""

    def _predict_proba(self, table: pa.Table) -> Any:
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.framework} {self._fingerprint[:19]}>"


def outputs_to_proba(
    raw: np.ndarray, *, task: Any, output: str, classes: Sequence[Any] | None, framework: str
) -> np.ndarray:
    """A network's outputs as ``(rows, classes)`` probabilities: one binary output through a
    sigmoid (unless already probabilities), several through a softmax (Keras and torch share it)."""
    if task == "binary" and (raw.ndim == 1 or raw.shape[1] == 1):
        p = raw.reshape(-1)
        p = p if output == "probabilities" else 1.0 / (1.0 + np.exp(-p))
        return np.column_stack([1.0 - p, p])
    if raw.ndim != 2:
        raise InputError(f"a classifier's output must be (rows, classes), not {raw.shape}")
    if classes is not None and raw.shape[1] != len(classes):
        raise InputError(f"the {framework} model gives {raw.shape[1]} outputs for {len(classes)} classes")
    if output == "probabilities":
        return raw
    shifted: np.ndarray = np.exp(raw - raw.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True))
