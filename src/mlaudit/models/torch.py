"""PyTorch models (extra ``mlaudit[torch]``): an in-memory ``nn.Module`` or a TorchScript file.

TorchScript files (``torch.jit.save``) load without Python pickle. A whole module saved with
``torch.save`` is a pickle: it is only loaded with ``trust_pickle=True``. The module gets a
``float32`` tensor ``(rows, features)`` and its output is read as:

- ``(rows,)`` or ``(rows, 1)`` with ``task="binary"``: one logit (or probability, with
  ``output="probabilities"``) of the second class;
- ``(rows, k)`` with ``task="multiclass"`` or ``k`` classes: logits (softmax is applied) or
  probabilities;
- otherwise (``task="regression"`` or no task and no classes): the values themselves.

The fingerprint of a file is the SHA-256 of its bytes; of an in-memory module, of its class
name, TorchScript code (if any) and ``state_dict`` tensors (name, dtype, shape, bytes).

>>> model = TorchModel(torch.nn.Linear(3, 1), task="binary", feature_names=("a", "b", "c"))  # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from mlaudit.errors import InputError
from mlaudit.models.base import (
    BaseModel,
    Task,
    optional_import,
    outputs_to_proba,
    sha256_hex,
    table_to_matrix,
    text_value,
)
from mlaudit.models.loader import is_torch_module

__all__ = ["TorchModel"]

Output = Literal["logits", "probabilities"]


def _torch() -> Any:
    return optional_import("torch", extra="torch", what="PyTorch models")


class TorchModel(BaseModel):
    """A PyTorch module run on CPU in eval mode without gradients, ``batch_size`` rows at a time."""

    framework = "torch"

    def __init__(
        self,
        source: Any,
        *,
        trust_pickle: bool = False,
        feature_names: tuple[str, ...] | list[str] | None = None,
        n_features: int | None = None,
        classes: tuple[Any, ...] | list[Any] | None = None,
        task: Task | None = None,
        output: Output = "logits",
        batch_size: int = 4096,
    ) -> None:
        torch = _torch()
        if output not in ("logits", "probabilities"):
            raise InputError(f"unknown output {output!r}; use 'logits' or 'probabilities'")
        if batch_size < 1:
            raise InputError("batch_size must be >= 1")
        if isinstance(source, (str, os.PathLike)):
            self.module, fingerprint = _load_file(torch, Path(source), trust_pickle)
        elif is_torch_module(source):
            self.module, fingerprint = source, _module_fingerprint(torch, source)
        else:
            raise InputError(f"a {type(source).__name__} is not a torch module or a TorchScript file")
        self.module.eval()
        self.output = output
        self.batch_size = batch_size
        if classes is None and task == "binary":
            classes = (0, 1)
        super().__init__(
            fingerprint=fingerprint,
            feature_names=tuple(feature_names) if feature_names is not None else None,
            n_features=n_features,
            classes=tuple(classes) if classes is not None else None,
            task=task,
        )

    @property
    def supports_proba(self) -> bool:
        return self.task in ("binary", "multiclass")

    def _raw(self, table: pa.Table) -> np.ndarray:
        torch = _torch()
        matrix = table_to_matrix(table)
        try:
            x = torch.from_numpy(np.ascontiguousarray(matrix, dtype=np.float32))
        except (ValueError, TypeError) as exc:
            found = text_value(table)
            raise InputError(
                f"torch models take numbers only: {exc}",
                column=found[0] if found else None,
                row=found[1] if found else None,
            ) from exc
        parts = []
        with torch.no_grad():
            for start in range(0, max(len(x), 1), self.batch_size):
                try:
                    out = self.module(x[start : start + self.batch_size])
                except RuntimeError as exc:  # shape mismatches surface as RuntimeError
                    raise InputError(f"the torch model could not run on this data: {exc}") from exc
                if not isinstance(out, torch.Tensor):
                    raise InputError(f"the torch model returned a {type(out).__name__}, not a tensor")
                parts.append(out.detach().cpu().float().numpy())
        return np.concatenate(parts) if parts else np.empty((0,))

    def _proba_from(self, raw: np.ndarray) -> np.ndarray:
        return outputs_to_proba(
            raw, task=self.task, output=self.output, classes=self._classes, framework="torch"
        )

    def _predict(self, table: pa.Table) -> Any:
        raw = self._raw(table)
        if not self.supports_proba:
            return raw
        proba = self._proba_from(raw)
        labels = np.asarray(self._classes if self._classes is not None else range(proba.shape[1]))
        return labels[proba.argmax(axis=1)]

    def _predict_proba(self, table: pa.Table) -> Any:
        return self._proba_from(self._raw(table))


def _load_file(torch: Any, path: Path, trust_pickle: bool) -> tuple[Any, str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the model file: {exc.strerror or exc}", path=str(path)) from exc
    try:
        with warnings.catch_warnings():  # torch 2.9+ marks TorchScript deprecated; it still loads
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(io.BytesIO(raw), map_location="cpu"), sha256_hex(raw)
    except Exception as script_error:  # not TorchScript: maybe a pickled module
        if not trust_pickle:
            raise InputError(
                "this is not a TorchScript file; a module saved with torch.save is a pickle, and loading "
                "a pickle runs code from the file",
                path=str(path),
                hint="save it with torch.jit.script(model).save(path), or pass trust_pickle=True "
                "(CLI: --trust-pickle) if you trust who made the file",
            ) from script_error
    try:
        module = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=False)
    except Exception as exc:  # unpickling can raise anything the file's code raises
        raise InputError(f"cannot load the torch model: {type(exc).__name__}: {exc}", path=str(path)) from exc
    if not is_torch_module(module):
        raise InputError(
            f"the file holds a {type(module).__name__}, not a module (a state_dict has no architecture)",
            path=str(path),
            hint="build the module in Python, load the state_dict into it and pass the module",
        )
    return module, sha256_hex(raw)


def _module_fingerprint(torch: Any, module: Any) -> str:
    cls = type(module)
    parts = [f"{cls.__module__}.{cls.__qualname__}".encode()]
    code = getattr(module, "code", None)
    if isinstance(code, str):
        parts.append(code.encode())
    for name, tensor in sorted(module.state_dict().items()):
        array = tensor.detach().cpu().contiguous()
        parts.append(f"{name}:{array.dtype}:{tuple(array.shape)}:".encode())
        parts.append(
            array.numpy().tobytes() if array.dtype != torch.bfloat16 else array.float().numpy().tobytes()
        )
    return sha256_hex(b"\x00".join(parts))
