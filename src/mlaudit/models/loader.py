"""``load()``: one door from a file, URL or in-memory object to a :class:`~mlaudit.models.Model`.

What is loaded, when ``framework`` is not given:

- ``http://…`` / ``https://…``: :class:`HttpModel`;
- an ``*.onnx`` file, ``bytes`` or an ``onnx.ModelProto``: :class:`OnnxModel` (no pickle);
- ``*.pt`` / ``*.pth`` or a torch ``nn.Module``: :class:`TorchModel` (TorchScript needs no pickle;
  a module saved with ``torch.save`` only with ``trust_pickle=True``);
- ``*.keras`` (Keras 3 zip) or a ``keras.Model``: :class:`KerasModel` (PyTorch backend, safe mode,
  no pickle);
- ``*.zip`` / ``*.mojo`` holding an H2O MOJO (``model.ini``): :class:`H2OModel`, scored by H2O's
  Java runtime without a cluster (a zip without ``model.ini`` is refused);
- ``*.pkl`` / ``*.pickle`` / ``*.joblib`` / ``*.sav`` (or any file starting like a pickle):
  :class:`SklearnModel`, only with ``trust_pickle=True``;
- an object with ``predict`` (sklearn, Pipelines, LightGBM, XGBoost): :class:`SklearnModel`;
- a plain function: :class:`CallableModel`;
- an existing Model: returned as it is.

``**options`` go to the adapter (e.g. ``timeout=`` for HTTP, ``input="numpy"`` for a callable).

>>> model = load(lambda t: [0] * t.num_rows, feature_names=["a"])
>>> model.framework, model.predict({"a": [1, 2], "b": [3, 4]}).tolist()
('callable', [0, 0])
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from mlaudit.errors import InputError
from mlaudit.models.base import Model


def is_torch_module(obj: object) -> bool:
    """True for a torch ``nn.Module`` (TorchScript included), without importing torch."""
    return any(c.__name__ == "Module" and c.__module__.startswith("torch.") for c in type(obj).__mro__)


def is_keras_model(obj: object) -> bool:
    """True for a ``keras.Model``, without importing keras (with the torch backend it is also a torch
    ``nn.Module``, so this is asked first)."""
    return any(c.__name__ == "Model" and c.__module__.startswith("keras.") for c in type(obj).__mro__)


__all__ = ["Framework", "load"]

Framework = Literal["sklearn", "lightgbm", "xgboost", "onnx", "torch", "keras", "h2o", "callable", "http"]
_FRAMEWORKS = ("sklearn", "lightgbm", "xgboost", "onnx", "torch", "keras", "h2o", "callable", "http")
_LATER = {
    "tensorflow": "SavedModel",
}
_TORCH_SUFFIXES = (".pt", ".pth", ".ptl", ".torchscript")
_H2O_SUFFIXES = (".zip", ".mojo")


def load(
    source: Any,
    *,
    framework: str | None = None,
    trust_pickle: bool = False,
    **options: Any,
) -> Model:
    """A :class:`Model` for ``source`` (path, URL, bytes, estimator or function); see the module docstring."""
    if framework is not None and framework not in _FRAMEWORKS:
        if framework in _LATER:
            raise _not_yet(framework)
        raise InputError(f"unknown framework {framework!r}; use one of {', '.join(_FRAMEWORKS)}")
    if isinstance(source, Model) and not callable(getattr(source, "fit", None)):
        if options:
            raise InputError(f"options {sorted(options)} cannot be applied to an already loaded model")
        return source
    if (isinstance(source, str) and source.startswith(("http://", "https://"))) or framework == "http":
        if not isinstance(source, str):
            raise InputError("framework='http' needs a URL string")
        from mlaudit.models.http import HttpModel

        return HttpModel(source, **options)
    if isinstance(source, (bytes, bytearray)):
        if framework not in (None, "onnx"):
            raise InputError("raw bytes are only accepted for ONNX models (serialised ModelProto)")
        return _onnx(bytes(source), options)
    if isinstance(source, (str, os.PathLike)):
        return _load_file(Path(source), framework, trust_pickle, options)
    if framework == "keras" or (framework is None and is_keras_model(source)):
        from mlaudit.models.keras import KerasModel

        return KerasModel(source, **options)
    if framework == "h2o":
        raise InputError("H2O models are loaded from MOJO zip files (model.download_mojo()), not objects")
    if framework == "torch" or (framework is None and is_torch_module(source)):
        from mlaudit.models.torch import TorchModel

        return TorchModel(source, trust_pickle=trust_pickle, **options)
    if hasattr(source, "SerializeToString") and framework in (None, "onnx"):
        return _onnx(source.SerializeToString(), options)  # an onnx.ModelProto
    if framework == "callable" or (
        framework is None and callable(source) and not callable(getattr(source, "predict", None))
    ):
        from mlaudit.models.callable import CallableModel

        return CallableModel(source, **options)
    from mlaudit.models.sklearn import SklearnModel

    return SklearnModel(source, **options)


def _load_file(path: Path, framework: str | None, trust_pickle: bool, options: dict[str, Any]) -> Model:
    if not path.exists():
        raise InputError("no such model file", path=str(path))
    if path.is_dir():
        if (path / "saved_model.pb").exists():
            raise _not_yet("tensorflow", path)
        raise InputError("is a folder, not a model file", path=str(path), hint=_SUPPORTED)
    suffix = path.suffix.lower()
    if framework == "onnx" or (framework is None and suffix == ".onnx"):
        return _onnx(path, options)
    if framework == "torch" or (framework is None and suffix in _TORCH_SUFFIXES):
        from mlaudit.models.torch import TorchModel

        return TorchModel(path, trust_pickle=trust_pickle, **options)
    if framework == "keras" or (framework is None and suffix == ".keras"):
        from mlaudit.models.keras import KerasModel

        return KerasModel(path, **options)
    if framework == "h2o" or (framework is None and suffix in _H2O_SUFFIXES):
        from mlaudit.models.h2o import H2OModel

        return H2OModel(path, **options)
    from mlaudit.models.sklearn import PICKLE_SUFFIXES, SklearnModel, load_pickle

    if framework in ("sklearn", "lightgbm", "xgboost") or suffix in PICKLE_SUFFIXES or _looks_pickled(path):
        estimator, raw = load_pickle(path, trust_pickle=trust_pickle)
        return SklearnModel(estimator, artifact=raw, **options)
    raise InputError("cannot tell which kind of model this file holds", path=str(path), hint=_SUPPORTED)


_SUPPORTED = (
    "supported now: .onnx, .pt/.pth (TorchScript), .keras (Keras 3), .zip/.mojo (H2O MOJO), "
    "pickle/joblib (with trust_pickle=True), http(s) URLs; or pass framework="
)


def _onnx(source: Path | bytes, options: dict[str, Any]) -> Model:
    from mlaudit.models.onnx import OnnxModel

    return OnnxModel(source, **options)


def _looks_pickled(path: Path) -> bool:
    """Pickle protocol 2+ starts with 0x80; joblib's compressed files with zlib/gzip magic."""
    try:
        with path.open("rb") as handle:
            head = handle.read(2)
    except OSError:
        return False
    return head[:1] == b"\x80" or head in (b"\x78\x9c", b"\x78\x01", b"\x78\xda", b"\x1f\x8b")


def _not_yet(framework: str, path: Path | None = None) -> InputError:
    return InputError(
        f"{framework} models ({_LATER[framework]}) are not supported by this version of mlaudit yet",
        path=str(path) if path is not None else None,
        hint="export the model to ONNX, or wrap it in a Python function and pass that",
    )
