"""Model adapters: one protocol over scikit-learn, ONNX, PyTorch, Keras, H2O MOJOs, functions and HTTP.

A :class:`Model` has ``predict(data)``, ``predict_proba(data)`` (``None`` when unsupported,
see ``supports_proba``), ``classes``, ``feature_names``, ``task``, ``framework`` and a
``fingerprint`` (``"sha256:…"`` of the artifact). ``data`` is anything
:func:`mlaudit.frames.to_table` accepts; the model's features are picked from it by name.
:func:`load` turns a path, URL, estimator or function into a Model, and never unpickles a
file unless told ``trust_pickle=True``. Heavy frameworks are imported only by their adapter.

>>> from mlaudit.models import load
>>> model = load(lambda x: x[:, 0] * 2, input="numpy", feature_names=["a"])
>>> model.predict({"a": [1.0, 2.0]}).tolist()
[2.0, 4.0]
"""

from __future__ import annotations

from mlaudit.models.base import BaseModel, Model, Task
from mlaudit.models.callable import CallableModel
from mlaudit.models.h2o import H2OModel
from mlaudit.models.http import HttpModel
from mlaudit.models.keras import KerasModel
from mlaudit.models.loader import load
from mlaudit.models.onnx import OnnxModel
from mlaudit.models.sklearn import SklearnModel
from mlaudit.models.torch import TorchModel

__all__ = [
    "BaseModel",
    "CallableModel",
    "H2OModel",
    "HttpModel",
    "KerasModel",
    "Model",
    "OnnxModel",
    "SklearnModel",
    "Task",
    "TorchModel",
    "load",
]
