"""load(): dispatch, the exported surface, and refusals with messages that say what to do."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import mlaudit.models
from mlaudit.errors import InputError
from mlaudit.models import CallableModel, load


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in vars(mlaudit.models) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(mlaudit.models, n)).__name__ == "module"}
    assert set(mlaudit.models.__all__) == public - modules - {"annotations"}


def test_import_pulls_no_framework() -> None:
    code = (
        "import sys, mlaudit.models; "
        "frameworks = ('onnxruntime', 'onnx', 'lightgbm', 'torch', 'sklearn', 'pandas'); "
        "heavy = [m for m in frameworks if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_existing_model_is_returned_as_is() -> None:
    model = CallableModel(lambda t: [0] * t.num_rows)
    assert load(model) is model
    with pytest.raises(InputError, match="cannot be applied to an already loaded model"):
        load(model, timeout=3)


def test_unknown_and_later_frameworks(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown framework 'caffe'"):
        load(lambda t: t, framework="caffe")
    with pytest.raises(InputError, match=r"tensorflow models \(SavedModel\) are not supported"):
        load(lambda t: t, framework="tensorflow")
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "saved_model.pb").write_bytes(b"")
    with pytest.raises(InputError, match="tensorflow models") as info:
        load(saved)
    assert info.value.path == str(saved)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "not a model")
    with pytest.raises(InputError, match=r"not an H2O MOJO: the zip has no model\.ini") as info:
        load(other)
    assert info.value.path == str(other)


def test_unrecognised_file_and_folder(tmp_path: Path) -> None:
    text = tmp_path / "model.txt"
    text.write_text("hello")
    with pytest.raises(InputError, match="cannot tell which kind of model"):
        load(text)
    with pytest.raises(InputError, match="is a folder"):
        load(tmp_path)


def test_bytes_only_for_onnx() -> None:
    with pytest.raises(InputError, match="only accepted for ONNX"):
        load(b"\x08\x07", framework="sklearn")
    with pytest.raises(InputError, match="needs a URL"):
        load(b"\x08\x07", framework="http")
