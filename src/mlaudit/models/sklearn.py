"""scikit-learn and everything with its API (Pipelines, LightGBM's and XGBoost's sklearn classes).

In-memory estimators are used directly. Files (pickle / joblib) are only unpickled when the
caller says ``trust_pickle=True`` (CLI: ``--trust-pickle``): unpickling runs code from the file.

The fingerprint of a file is the SHA-256 of its bytes. For an in-memory estimator it is the
SHA-256 of a stable serialisation: class names, ``get_params()`` and the fitted state
(NumPy arrays by dtype, shape and bytes; LightGBM/XGBoost boosters by their text dump). Only
when the estimator holds something that walk does not know is the hash taken over its pickle
bytes instead (``fingerprint_basis == "pickle"``), which can differ across library versions.

>>> from sklearn.linear_model import LogisticRegression
>>> model = SklearnModel(LogisticRegression().fit([[0.0], [1.0]], [0, 1]))
>>> model.task, model.classes
('binary', (0, 1))
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from mlaudit.errors import InputError
from mlaudit.models.base import BaseModel, Task, sha256_hex, table_to_matrix

__all__ = ["PICKLE_SUFFIXES", "SklearnModel", "load_pickle", "pickle_refused"]

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".sav", ".pck")
FingerprintBasis = Literal["file", "state", "pickle"]


def pickle_refused(path: str | os.PathLike[str]) -> InputError:
    """The error for a pickle file opened without ``trust_pickle=True``."""
    return InputError(
        "this model file is a pickle, and loading a pickle runs code from the file; "
        "it is not loaded unless you say you trust it",
        path=str(path),
        hint="pass trust_pickle=True (CLI: --trust-pickle) if you trust who made the file, "
        "or export the model to ONNX (e.g. with skl2onnx), which loads without any pickle",
    )


def load_pickle(path: str | os.PathLike[str], *, trust_pickle: bool) -> tuple[Any, bytes]:
    """Unpickle the estimator in ``path`` (pickle or joblib) if trusted; return it and the file bytes."""
    p = Path(path)
    if not trust_pickle:
        raise pickle_refused(p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the model file: {exc.strerror or exc}", path=str(p)) from exc
    try:
        import joblib  # scikit-learn depends on it; it also reads plain pickles

        obj = joblib.load(p)
    except Exception as exc:  # unpickling can raise anything the file's code raises
        raise InputError(
            f"cannot unpickle the model: {type(exc).__name__}: {exc}",
            path=str(p),
            hint="load it with the same library versions it was saved with",
        ) from exc
    return obj, raw


class SklearnModel(BaseModel):
    """An estimator with ``predict`` (and maybe ``predict_proba``), e.g. a fitted sklearn Pipeline.

    ``feature_names`` defaults to the estimator's ``feature_names_in_`` (set when it was fitted on
    a DataFrame); such estimators get a pandas DataFrame, others a NumPy array.
    """

    framework = "sklearn"

    def __init__(
        self,
        estimator: Any,
        *,
        artifact: bytes | None = None,
        feature_names: tuple[str, ...] | list[str] | None = None,
        task: Task | None = None,
    ) -> None:
        if not callable(getattr(estimator, "predict", None)):
            raise InputError(
                f"a {type(estimator).__name__} has no predict method, so it cannot be used as a model",
                hint="pass a fitted estimator, or framework='callable' for a plain function",
            )
        self.estimator = estimator
        names = feature_names if feature_names is not None else getattr(estimator, "feature_names_in_", None)
        self._wants_frame = getattr(estimator, "feature_names_in_", None) is not None
        n_features = getattr(estimator, "n_features_in_", None)
        raw_classes = getattr(estimator, "classes_", None)
        classes = tuple(_plain(c) for c in raw_classes) if raw_classes is not None else None
        if artifact is not None:
            fingerprint, self.fingerprint_basis = sha256_hex(artifact), "file"
        else:
            fingerprint, self.fingerprint_basis = _fingerprint_in_memory(estimator)
        super().__init__(
            fingerprint=fingerprint,
            feature_names=tuple(str(n) for n in names) if names is not None else None,
            n_features=int(n_features) if n_features is not None else None,
            classes=classes,
            task=task or _task_of(estimator, classes),
        )
        self.framework = _framework_of(estimator)

    @property
    def supports_proba(self) -> bool:
        return callable(getattr(self.estimator, "predict_proba", None))

    @property
    def name(self) -> str:
        return f"{self.framework} model {type(self.estimator).__name__}"

    def _input(self, table: pa.Table) -> Any:
        if self._wants_frame:
            try:
                return table.to_pandas()
            except ImportError:  # no pandas: sklearn accepts the array, with a warning about names
                pass
        return table_to_matrix(table)

    def _predict(self, table: pa.Table) -> Any:
        return self._call("predict", table)

    def _predict_proba(self, table: pa.Table) -> Any:
        return self._call("predict_proba", table)

    def _call(self, method: str, table: pa.Table) -> Any:
        try:
            return getattr(self.estimator, method)(self._input(table))
        except Exception as exc:  # an estimator can raise anything: name it, the cause and the column
            raise self.model_error(method, exc, table) from exc


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _framework_of(estimator: Any) -> str:
    module = type(estimator).__module__.split(".")[0]
    return module if module in ("lightgbm", "xgboost", "catboost") else "sklearn"


def _task_of(estimator: Any, classes: tuple[Any, ...] | None) -> Task | None:
    from sklearn.base import is_classifier, is_regressor

    try:
        if is_regressor(estimator):
            return "regression"
        classifier = is_classifier(estimator)
    except Exception:  # third-party tags can be broken; fall back to classes_ below
        classifier = False
    if classifier or classes is not None:
        if classes is None:
            return None
        return "binary" if len(classes) == 2 else "multiclass"
    return None


class _Unknown(Exception):
    """The state walk met something it cannot serialise stably."""


def _fingerprint_in_memory(estimator: Any) -> tuple[str, FingerprintBasis]:
    try:
        return sha256_hex(b"".join(_state_bytes(estimator, depth=0))), "state"
    except _Unknown:
        try:
            return sha256_hex(pickle.dumps(estimator, protocol=5)), "pickle"
        except Exception as exc:
            raise InputError(
                f"cannot fingerprint this {type(estimator).__name__}: it is neither walkable nor picklable",
                hint="save it to a file (ONNX or, if you trust it, pickle) and load the file",
            ) from exc


def _state_bytes(value: Any, *, depth: int) -> list[bytes]:
    """Canonical bytes of ``value``: type tags, sorted keys, arrays by dtype/shape/bytes."""
    if depth > 50:
        raise _Unknown("too deep")
    if value is None or isinstance(value, (bool, int, float, complex, str)):
        return [f"{type(value).__name__}:{value!r};".encode()]
    if isinstance(value, bytes):
        return [b"bytes:%d:" % len(value), value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            return [f"objarray{value.shape}:".encode(), *_state_bytes(value.tolist(), depth=depth + 1)]
        head = f"array:{value.dtype.str}:{value.shape}:".encode()
        return [head, np.ascontiguousarray(value).tobytes()]
    if isinstance(value, np.generic):
        return [f"np:{value.dtype.str}:".encode(), value.tobytes()]
    if isinstance(value, (list, tuple)):
        out = [f"{type(value).__name__}[{len(value)}]:".encode()]
        for item in value:
            out.extend(_state_bytes(item, depth=depth + 1))
        return out
    if isinstance(value, (set, frozenset)):
        return [b"set:", *_state_bytes(sorted(value, key=repr), depth=depth + 1)]
    if isinstance(value, dict):
        out = [f"dict[{len(value)}]:".encode()]
        for key in sorted(value, key=repr):
            out.extend(_state_bytes(key, depth=depth + 1))
            out.extend(_state_bytes(value[key], depth=depth + 1))
        return out
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return [f"ref:{getattr(value, '__module__', '?')}.{value.__qualname__};".encode()]
    dump = getattr(value, "model_to_string", None) or getattr(value, "save_raw", None)
    if callable(dump) and type(value).__module__.split(".")[0] in ("lightgbm", "xgboost"):
        text = dump()
        blob = bytes(text) if isinstance(text, (bytes, bytearray)) else str(text).encode()
        return [f"booster:{type(value).__qualname__}:".encode(), blob]
    if hasattr(value, "get_params") and hasattr(value, "__dict__"):
        cls = type(value)
        state = {k: v for k, v in vars(value).items() if not k.startswith("__")}
        return [f"est:{cls.__module__}.{cls.__qualname__}:".encode(), *_state_bytes(state, depth=depth + 1)]
    raise _Unknown(type(value).__name__)
