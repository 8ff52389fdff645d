"""ONNX models through onnxruntime (extra ``mlaudit[onnx]``); no pickle is involved.

Inputs: one tensor ``[N, F]`` (features taken positionally, or by ``feature_names=`` if given)
or one ``[N, 1]`` tensor per feature, whose names are then the feature names. Outputs: a
classifier exported by skl2onnx and most converters gives ``(label, probabilities)`` (the
probabilities as a tensor or as ZipMap dictionaries); a single output is the prediction.
Pick other outputs with ``label_output=`` and ``proba_output=``. Classes come from the graph's
``classlabels_*`` attribute when the ``onnx`` package is installed, else from ZipMap keys.

>>> model = OnnxModel("model.onnx")  # doctest: +SKIP
>>> model.predict({"x0": [0.1], "x1": [2.0]})  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from mlaudit.errors import InputError
from mlaudit.models.base import BaseModel, Task, optional_import, sha256_hex, table_to_matrix, text_value

__all__ = ["OnnxModel"]

_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": np.object_,
}


def _onnxruntime() -> Any:
    return optional_import("onnxruntime", extra="onnx", what="ONNX models")


class OnnxModel(BaseModel):
    """A model in an ONNX file (path), or its serialised bytes, run on onnxruntime's CPU provider."""

    framework = "onnx"

    def __init__(
        self,
        source: str | os.PathLike[str] | bytes,
        *,
        feature_names: tuple[str, ...] | list[str] | None = None,
        classes: tuple[Any, ...] | list[Any] | None = None,
        label_output: str | None = None,
        proba_output: str | None = None,
        task: Task | None = None,
    ) -> None:
        ort = _onnxruntime()
        path = None if isinstance(source, bytes) else str(source)
        raw = source if isinstance(source, bytes) else _read(Path(source))
        try:
            self.session = ort.InferenceSession(raw, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
            raise InputError(f"not a valid ONNX model: {exc}", path=path) from exc
        inputs = self.session.get_inputs()
        self.input_names = tuple(i.name for i in inputs)
        self._input_types = tuple(i.type for i in inputs)
        self._per_column = len(inputs) > 1
        n_features: int | None
        names: tuple[str, ...] | None
        if self._per_column:
            names = tuple(feature_names) if feature_names is not None else self.input_names
            n_features = len(names)
        else:
            width = inputs[0].shape[1] if len(inputs[0].shape) == 2 else None
            n_features = width if isinstance(width, int) else None
            names = tuple(feature_names) if feature_names is not None else None
            if names is not None and n_features is not None and len(names) != n_features:
                raise InputError(
                    f"{len(names)} feature names given but the ONNX input takes {n_features} columns",
                    path=path,
                )
        outputs = [o.name for o in self.session.get_outputs()]
        self.label_output = label_output or outputs[0]
        second = outputs[1] if len(outputs) > 1 else None
        self.proba_output = proba_output or second
        for name in (self.label_output, self.proba_output):
            if name is not None and name not in outputs:
                raise InputError(f"the ONNX model has no output {name!r}; it has {outputs}", path=path)
        found = tuple(classes) if classes is not None else _graph_classes(raw)
        if task is None and self.proba_output is None:
            out_type = self.session.get_outputs()[outputs.index(self.label_output)].type
            task = "regression" if out_type in ("tensor(float)", "tensor(double)") else None
        super().__init__(
            fingerprint=sha256_hex(raw),
            feature_names=names,
            n_features=n_features,
            classes=found,
            task=task,
        )

    @property
    def supports_proba(self) -> bool:
        return self.proba_output is not None

    def _feeds(self, table: pa.Table) -> dict[str, np.ndarray]:
        if self._per_column:
            return {
                name: _cast(table_to_matrix(table.select([i])), kind)
                for i, (name, kind) in enumerate(zip(self.input_names, self._input_types, strict=True))
            }
        return {self.input_names[0]: _cast(table_to_matrix(table), self._input_types[0])}

    def _run(self, output: str, table: pa.Table) -> Any:
        try:
            feeds = self._feeds(table)
        except InputError as exc:
            found = text_value(table)
            if found is None:
                raise
            raise InputError(exc.message, column=found[0], row=found[1], hint=exc.hint) from exc
        try:
            return self.session.run([output], feeds)[0]
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"onnxruntime could not run the model on this data: {exc}") from exc

    def _predict(self, table: pa.Table) -> Any:
        return self._run(self.label_output, table)

    def _predict_proba(self, table: pa.Table) -> Any:
        assert self.proba_output is not None  # guarded by supports_proba
        out = self._run(self.proba_output, table)
        if isinstance(out, list):  # ZipMap: one {class: p} dict per row
            if not out:
                return np.empty((0, len(self._classes or ())))
            if self._classes is None:
                self._classes = tuple(out[0])
            return np.array([[row[c] for c in self._classes] for row in out], dtype=float)
        return out


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the model file: {exc.strerror or exc}", path=str(path)) from exc


def _cast(matrix: np.ndarray, onnx_type: str) -> np.ndarray:
    dtype = _DTYPES.get(onnx_type)
    if dtype is None:
        raise InputError(f"mlaudit cannot feed ONNX inputs of type {onnx_type}")
    try:
        if dtype is np.object_:
            return np.array([[None if v is None else str(v) for v in row] for row in matrix], dtype=object)
        return matrix.astype(dtype)
    except (ValueError, TypeError) as exc:
        raise InputError(f"the data cannot be turned into the model's {onnx_type} input: {exc}") from exc


def _graph_classes(raw: bytes) -> tuple[Any, ...] | None:
    """``classlabels_*`` of the graph's classifier node, when the ``onnx`` package can tell."""
    try:
        import onnx
    except ImportError:
        return None
    try:
        graph = onnx.load_from_string(raw).graph
    except Exception:  # onnxruntime already accepted the bytes; no classes is the safe answer
        return None
    for node in graph.node:
        if node.domain == "ai.onnx.ml" and (node.op_type.endswith("Classifier") or node.op_type == "ZipMap"):
            for attr in node.attribute:
                if attr.name in ("classlabels_int64s", "classlabels_ints"):
                    return tuple(int(v) for v in attr.ints)
                if attr.name == "classlabels_strings":
                    return tuple(v.decode() for v in attr.strings)
    return None
