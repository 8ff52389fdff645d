"""Keras 3 models (extra ``mlaudit[keras]``): a ``.keras`` file or an in-memory ``keras.Model``.

Keras runs on its PyTorch backend (``KERAS_BACKEND=torch`` is set before Keras is first imported,
unless the variable is already set), so TensorFlow is not needed. A ``.keras`` file is a zip of
``config.json`` and ``model.weights.h5``; it is loaded with ``safe_mode=True``, which builds only
registered layers and refuses ``Lambda`` layers holding Python bytecode: nothing from the file is
unpickled or run. The file is read once; its bytes are what is hashed and what is loaded.

The model must take one input ``(rows, features)`` and give one output. Keras does not know the
column names, so pass ``feature_names=`` (otherwise columns are taken in order, and their count
must match the input width). The output is read as:

- ``(rows, 1)`` from a sigmoid: the probability of the second class (binary, classes ``(0, 1)``);
- ``(rows, k)`` from a softmax: class probabilities (multiclass, classes ``0..k-1``);
- anything else: regression values.

``task=`` and ``classes=`` override this; ``output="logits"`` says a classifier's output has no
final sigmoid/softmax (mlaudit applies it). The fingerprint of a file is the SHA-256 of its
bytes; of an in-memory model, of its class, JSON config and weights.

>>> model = load("churn.keras", feature_names=["age", "tenure", "spend"])  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from mlaudit.errors import InputError
from mlaudit.models.base import BaseModel, Task, outputs_to_proba, sha256_hex, table_to_matrix
from mlaudit.models.loader import is_keras_model

__all__ = ["KerasModel"]

Output = Literal["auto", "probabilities", "logits"]

_SAFE_MODE_HINT = (
    "the file has a Lambda layer (Python code); rebuild the model with registered layers "
    "(keras.saving.register_keras_serializable) or export it to ONNX"
)


def _keras() -> Any:
    """``keras``, on the torch backend unless ``KERAS_BACKEND`` says otherwise."""
    import importlib
    import sys

    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        return importlib.import_module("keras")
    except ImportError as exc:
        backend = os.environ.get("KERAS_BACKEND", "torch")
        raise InputError(
            f"Keras models need keras 3 with its {backend} backend: {exc}",
            hint="pip install 'mlaudit[keras]' (it uses PyTorch; unset KERAS_BACKEND or set it to torch)",
        ) from exc


class KerasModel(BaseModel):
    """A Keras 3 model scored with ``model.predict`` (inference mode), ``batch_size`` rows at a time."""

    framework = "keras"

    def __init__(
        self,
        source: Any,
        *,
        feature_names: tuple[str, ...] | list[str] | None = None,
        classes: tuple[Any, ...] | list[Any] | None = None,
        task: Task | None = None,
        output: Output = "auto",
        batch_size: int = 4096,
    ) -> None:
        if output not in ("auto", "probabilities", "logits"):
            raise InputError(f"unknown output {output!r}; use 'auto', 'probabilities' or 'logits'")
        if task not in (None, "binary", "multiclass", "regression"):
            raise InputError(f"unknown task {task!r}; use 'binary', 'multiclass' or 'regression'")
        if batch_size < 1:
            raise InputError("batch_size must be >= 1")
        keras = _keras()
        path: str | None = None
        if isinstance(source, (str, os.PathLike)):
            path = str(source)
            self.model, fingerprint = _load_file(keras, Path(source))
        elif is_keras_model(source):
            self.model, fingerprint = source, _model_fingerprint(source)
        else:
            raise InputError(f"a {type(source).__name__} is not a keras.Model or a .keras file")
        n_features, width, activation = _signature(self.model, path)
        names = tuple(str(n) for n in feature_names) if feature_names is not None else None
        if names is not None and n_features is not None and len(names) != n_features:
            raise InputError(
                f"{len(names)} feature names given but the Keras model takes {n_features} inputs",
                path=path,
            )
        self.output_activation = activation
        self.batch_size = batch_size
        if task is None and classes is None:
            if activation == "sigmoid" and width == 1:
                task = "binary"
            elif activation == "softmax" and width is not None and width >= 2:
                classes = tuple(range(width))
            else:
                task = "regression"
        if classes is None and task == "binary":
            classes = (0, 1)
        if classes is None and task == "multiclass" and width is not None and width >= 2:
            classes = tuple(range(width))
        if output == "auto":
            output = "probabilities" if activation in ("sigmoid", "softmax") else "logits"
        self.output = output
        super().__init__(
            fingerprint=fingerprint,
            feature_names=names,
            n_features=n_features,
            classes=tuple(classes) if classes is not None else None,
            task=task,
        )

    @property
    def supports_proba(self) -> bool:
        return self.task in ("binary", "multiclass")

    def _raw(self, table: pa.Table) -> np.ndarray:
        matrix = table_to_matrix(table)
        try:
            x = np.ascontiguousarray(matrix, dtype=np.float32)
        except (ValueError, TypeError) as exc:
            raise InputError(f"Keras models take numbers only: {exc}") from exc
        if len(x) == 0:
            return np.empty((0,))
        try:
            out = self.model.predict(x, batch_size=self.batch_size, verbose=0)
        except (ValueError, RuntimeError, TypeError) as exc:  # shape mismatches, dtype problems
            raise InputError(f"the Keras model could not run on this data: {exc}") from exc
        if isinstance(out, (list, tuple, dict)):
            raise InputError("the Keras model gives several outputs; mlaudit scores one-output models")
        return np.asarray(out, dtype=np.float64)

    def _proba_from(self, raw: np.ndarray) -> np.ndarray:
        return outputs_to_proba(
            raw, task=self.task, output=self.output, classes=self._classes, framework="Keras"
        )

    def _predict(self, table: pa.Table) -> Any:
        raw = self._raw(table)
        if not self.supports_proba:
            return raw
        if raw.size == 0:
            return np.empty((0,))
        proba = self._proba_from(raw)
        labels = np.asarray(self._classes if self._classes is not None else range(proba.shape[1]))
        return labels[proba.argmax(axis=1)]

    def _predict_proba(self, table: pa.Table) -> Any:
        raw = self._raw(table)
        if raw.size == 0:
            return np.empty((0, len(self._classes or ())))
        return self._proba_from(raw)


def _load_file(keras: Any, path: Path) -> tuple[Any, str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the model file: {exc.strerror or exc}", path=str(path)) from exc
    if not raw.startswith(b"PK"):
        raise InputError(
            "not a Keras 3 model file (a .keras file is a zip archive)",
            path=str(path),
            hint="save it with model.save('model.keras'); legacy .h5 and SavedModel folders are not read",
        )
    # keras reads by name and wants the .keras suffix: load the very bytes that were hashed
    with tempfile.TemporaryDirectory(prefix="mlaudit-keras-") as tmp:
        copy = Path(tmp) / "model.keras"
        copy.write_bytes(raw)
        try:
            model = keras.saving.load_model(copy, compile=False, safe_mode=True)
        except ValueError as exc:
            if "safe_mode" in str(exc) or "Lambda" in str(exc):
                raise InputError(
                    "Keras refused to load this model in safe mode (it holds Python code)",
                    path=str(path),
                    hint=_SAFE_MODE_HINT,
                ) from exc
            raise InputError(f"cannot load the Keras model: {exc}", path=str(path)) from exc
        except Exception as exc:  # bad zip, missing config, unknown layer class (TypeError), h5py errors
            raise InputError(
                f"cannot load the Keras model: {type(exc).__name__}: {exc}",
                path=str(path),
                hint="custom layers must be registered with keras.saving.register_keras_serializable "
                "and imported before loading",
            ) from exc
    if not is_keras_model(model):
        raise InputError(f"the file holds a {type(model).__name__}, not a keras.Model", path=str(path))
    return model, sha256_hex(raw)


def _signature(model: Any, path: str | None) -> tuple[int | None, int | None, str | None]:
    """(input width, output width, final activation name) where the model's graph says so."""
    try:
        inputs, outputs = list(model.inputs), list(model.outputs)
    except (AttributeError, ValueError):  # a subclassed model has no symbolic inputs/outputs
        return None, None, None
    if len(inputs) != 1 or len(outputs) != 1:
        raise InputError(
            f"the Keras model has {len(inputs)} inputs and {len(outputs)} outputs; "
            "mlaudit scores models with one (rows, features) input and one output",
            path=path,
        )
    in_shape, out_shape = tuple(inputs[0].shape), tuple(outputs[0].shape)
    if len(in_shape) != 2:
        raise InputError(
            f"the Keras model's input has shape {in_shape}; mlaudit scores tabular (rows, features) inputs",
            path=path,
        )
    n_features = in_shape[1] if isinstance(in_shape[1], int) else None
    width = (out_shape[1] if isinstance(out_shape[1], int) else None) if len(out_shape) == 2 else None
    if len(out_shape) == 1:
        width = 1
    history = getattr(outputs[0], "_keras_history", None)
    layer = getattr(history, "operation", None)
    return n_features, width, _activation_name(layer)


def _activation_name(layer: Any) -> str | None:
    if layer is None:
        return None
    kind = type(layer).__name__
    if kind == "Softmax":
        return "softmax"
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    name = getattr(activation, "__name__", None)
    return str(name) if name is not None else None


def _model_fingerprint(model: Any) -> str:
    cls = type(model)
    parts = [f"{cls.__module__}.{cls.__qualname__}".encode()]
    with contextlib.suppress(Exception):  # a subclassed model without get_config: weights still identify it
        parts.append(model.to_json().encode())
    for weight in model.get_weights():
        array = np.ascontiguousarray(weight)
        parts.append(f"{array.dtype}:{array.shape}:".encode())
        parts.append(array.tobytes())
    return sha256_hex(b"\x00".join(parts))
