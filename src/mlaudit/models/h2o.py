"""H2O MOJO models (extra ``mlaudit[h2o]``), scored by H2O's own Java runtime without a cluster.

A MOJO is a zip whose ``model.ini`` names the algorithm, the category (``Binomial``,
``Multinomial``, ``Ordinal``, ``Regression``), the columns (features, then the response) and the
categorical domains. mlaudit reads that itself; scoring runs
``java -cp <jar> hex.genmodel.tools.PredictCsv`` on temporary CSV files, one JVM per call, with a
timeout. The jar is ``genmodel_jar=`` if given (an ``h2o-genmodel.jar``), else the ``h2o.jar``
inside the installed ``h2o`` Python package (it holds the genmodel classes); no H2O cluster is
started and nothing is unpickled. Output is read in hexadecimal floating point, so probabilities
are exactly the doubles Java computed.

Predicted labels are the MOJO's own (a binomial model uses its stored threshold, not 0.5).
Classes are the response domain; a domain of integers only (``"0"``, ``"1"``) gives ``int``
classes and labels, so they compare equal to an integer target column. The fingerprint is the
SHA-256 of the zip's bytes, and those bytes (held in memory) are what is scored.

>>> model = load("gbm.zip")  # doctest: +SKIP
>>> model.classes, model.feature_names  # doctest: +SKIP
(('no', 'yes'), ('age', 'income', 'city'))
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from mlaudit.errors import InputError
from mlaudit.models.base import BaseModel, Task, sha256_hex

__all__ = ["H2OModel", "find_genmodel_jar", "read_model_ini"]

_CATEGORIES: dict[str, Task] = {
    "Binomial": "binary",
    "Multinomial": "multiclass",
    "Ordinal": "multiclass",
    "Regression": "regression",
}
_MAX_INI = 64 * 1024 * 1024
_INTEGER = re.compile(r"^-?\d+$")
_PREDICTOR = "hex.genmodel.tools.PredictCsv"
_JAVA_HINT = "install a Java runtime (java on PATH)"
_FAILED_LINE = re.compile(r"Prediction failed on line (\d+)")
_FROM_COLUMN = re.compile(r"from column: ([^,]+),")


def read_model_ini(raw: bytes, path: str | None = None) -> dict[str, Any]:
    """``model.ini`` of a MOJO zip: ``{"info": {...}, "columns": [...], "domains": {index: [levels]}}``."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise InputError("not an H2O MOJO: the file is not a zip archive", path=path) from exc
    with archive:
        try:
            entry = archive.getinfo("model.ini")
        except KeyError as exc:
            raise InputError(
                "not an H2O MOJO: the zip has no model.ini",
                path=path,
                hint="download the model with model.download_mojo(); POJOs and other zips are not read",
            ) from exc
        if entry.file_size > _MAX_INI:
            raise InputError("not an H2O MOJO: model.ini is implausibly large", path=path)
        text = archive.read(entry).decode("utf-8", errors="replace")
        info: dict[str, str] = {}
        columns: list[str] = []
        domain_files: dict[int, str] = {}
        section = ""
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith("[") and stripped.endswith("]"):
                section = stripped[1:-1]
            elif section == "info" and "=" in stripped:
                key, _, value = stripped.partition("=")
                info[key.strip()] = value.strip()
            elif section == "columns":
                columns.append(line.rstrip("\r\n"))
            elif section == "domains" and ":" in stripped:
                number, _, rest = stripped.partition(":")
                parts = rest.split(maxsplit=1)
                if len(parts) == 2 and number.strip().isdigit():
                    domain_files[int(number)] = parts[1]
        domains: dict[int, list[str]] = {}
        for index, name in domain_files.items():
            try:
                levels = archive.read(f"domains/{name}").decode("utf-8", errors="replace")
            except KeyError as exc:
                raise InputError(f"broken H2O MOJO: no domains/{name} in the zip", path=path) from exc
            domains[index] = levels.splitlines()
    if "category" not in info or not columns:
        raise InputError("not an H2O MOJO: model.ini lacks [info] category or [columns]", path=path)
    return {"info": info, "columns": columns, "domains": domains}


def find_genmodel_jar() -> Path | None:
    """The ``h2o.jar`` shipped inside the installed ``h2o`` Python package (not imported), if any."""
    spec = importlib.util.find_spec("h2o")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        jar = Path(folder) / "backend" / "bin" / "h2o.jar"
        if jar.is_file():
            return jar
    return None


class H2OModel(BaseModel):
    """An H2O MOJO (zip file) scored by ``PredictCsv`` in a fresh JVM for each call."""

    framework = "h2o"

    def __init__(
        self,
        source: str | os.PathLike[str],
        *,
        feature_names: tuple[str, ...] | list[str] | None = None,
        classes: tuple[Any, ...] | list[Any] | None = None,
        task: Task | None = None,
        genmodel_jar: str | os.PathLike[str] | None = None,
        java: str | None = None,
        java_options: Sequence[str] = (),
        timeout: float = 600.0,
    ) -> None:
        if not isinstance(source, (str, os.PathLike)):
            raise InputError(f"H2O models are MOJO zip files; got a {type(source).__name__}")
        if timeout <= 0:
            raise InputError("timeout must be > 0 seconds")
        path = Path(source)
        self.path = str(path)
        try:
            self._raw_mojo = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the model file: {exc.strerror or exc}", path=self.path) from exc
        ini = read_model_ini(self._raw_mojo, self.path)
        info: dict[str, str] = ini["info"]
        columns: list[str] = ini["columns"]
        self.algorithm = info.get("algorithm", info.get("algo", "unknown"))
        self.category = info["category"]
        found_task = _CATEGORIES.get(self.category)
        if found_task is None:
            raise InputError(
                f"H2O {self.category} models cannot be scored here; mlaudit scores "
                "Binomial, Multinomial, Ordinal and Regression MOJOs",
                path=self.path,
            )
        n_features = int(info.get("n_features", len(columns) - 1))
        response = info.get("response_column") or columns[-1]
        self.response = response
        names = tuple(feature_names) if feature_names is not None else tuple(columns[:n_features])
        if len(names) != n_features:
            raise InputError(
                f"{len(names)} feature names given but the MOJO takes {n_features} features", path=self.path
            )
        self._domains = {columns[i]: levels for i, levels in ini["domains"].items() if i < len(columns)}
        pairs = zip(names, columns[:n_features], strict=True)
        self._feature_domains = {n: self._domains[c] for n, c in pairs if c in self._domains}
        self._mojo_names = tuple(columns[:n_features])
        self._levels: tuple[str, ...] | None = None  # the response domain as PredictCsv writes it
        self._labels: tuple[Any, ...] | None = None
        if found_task != "regression":
            domain = self._domains.get(response)
            if not domain:
                raise InputError(f"broken H2O MOJO: no domain for the response {response!r}", path=self.path)
            self._levels = tuple(domain)
            integers = all(_INTEGER.match(v) for v in domain)
            self._labels = tuple(int(v) for v in domain) if integers else self._levels
            if classes is not None and len(classes) != len(domain):
                raise InputError(
                    f"{len(classes)} classes given but the MOJO's response has {len(domain)}: {list(domain)}",
                    path=self.path,
                )
        self.java = java
        self.java_options = tuple(java_options)
        self.timeout = timeout
        self.genmodel_jar = Path(genmodel_jar) if genmodel_jar is not None else None
        super().__init__(
            fingerprint=sha256_hex(self._raw_mojo),
            feature_names=names,
            classes=tuple(classes) if classes is not None else self._labels,
            task=task or found_task,
        )

    @property
    def supports_proba(self) -> bool:
        return self.task in ("binary", "multiclass") and self._levels is not None

    def _predict(self, table: pa.Table) -> Any:
        _, rows = self._score(table)
        if self._levels is None:
            return _numbers([row[0] for row in rows])
        wanted = self._classes if self._classes is not None else self._labels
        assert wanted is not None and len(wanted) == len(self._levels)  # checked in __init__
        lookup = dict(zip(self._levels, wanted, strict=True))
        lookup["NA"] = None  # no prediction (H2O could not score the row)
        unknown = next((row[0] for row in rows if row[0] not in lookup), None)
        if unknown is not None:
            raise InputError(f"the H2O model predicted {unknown!r}, not one of {list(self._levels)}")
        labels = [lookup[row[0]] for row in rows]
        if any(label is None for label in labels):
            return np.array(labels, dtype=object)
        return np.asarray(labels)  # str or int labels, like the classes

    def _predict_proba(self, table: pa.Table) -> Any:
        assert self._levels is not None  # guarded by supports_proba
        k = len(self._levels)
        header, rows = self._score(table)
        if not rows:
            return np.empty((0, k))
        if len(header) < 1 + k:
            raise InputError(f"PredictCsv gave columns {header}; expected a label and {k} probabilities")
        return np.column_stack([_numbers([row[1 + i] for row in rows]) for i in range(k)])

    def _score(self, table: pa.Table) -> tuple[list[str], list[list[str]]]:
        """PredictCsv's header and rows (strings) for ``table``."""
        if table.num_rows == 0:
            return [], []
        java = self._find_java()
        jar = self._find_jar()
        with tempfile.TemporaryDirectory(prefix="mlaudit-h2o-") as tmp:
            folder = Path(tmp)
            mojo, source, target = folder / "model.zip", folder / "input.csv", folder / "output.csv"
            mojo.write_bytes(self._raw_mojo)
            _write_csv(self._input_table(table), source)
            command = [
                java,
                *self.java_options,
                "-cp",
                str(jar),
                _PREDICTOR,
                "--mojo",
                str(mojo),
                "--input",
                str(source),
                "--output",
                str(target),
            ]
            try:
                done = subprocess.run(command, capture_output=True, timeout=self.timeout, check=False)
            except subprocess.TimeoutExpired as exc:
                raise InputError(
                    f"H2O scoring took longer than {self.timeout:g} s and was stopped",
                    path=self.path,
                    hint="score fewer rows at a time, or pass a larger timeout=",
                ) from exc
            except OSError as exc:
                raise InputError(f"cannot run Java ({java}): {exc}", hint=_JAVA_HINT) from exc
            if done.returncode != 0 or not target.exists():
                raise _failure(done, self.path)
            with target.open(newline="", encoding="utf-8", errors="replace") as handle:
                lines = list(csv.reader(handle))
        if not lines:
            raise InputError("H2O PredictCsv wrote no predictions", path=self.path)
        header, rows = lines[0], lines[1:]
        if len(rows) != table.num_rows:
            raise InputError(f"H2O gave {len(rows)} predictions for {table.num_rows} rows", path=self.path)
        return header, rows

    def _input_table(self, table: pa.Table) -> pa.Table:
        """Columns named as the MOJO names them, values as PredictCsv reads them."""
        import pyarrow.compute as pc

        columns = []
        for name, column in zip(table.column_names, table.columns, strict=True):
            kind = column.type
            if pa.types.is_dictionary(kind):
                column = column.cast(kind.value_type)
                kind = kind.value_type
            if pa.types.is_boolean(kind):
                column = column.cast(pa.int8())
            elif pa.types.is_floating(kind):
                column = pc.if_else(pc.is_nan(column), pa.scalar(None, kind), column)
            elif pa.types.is_integer(kind) and name in self._feature_domains:
                column = column.cast(pa.string())  # category codes: "3", not "3.0"
            columns.append(column)
        return pa.table(dict(zip(self._mojo_names, columns, strict=True)))

    def _find_java(self) -> str:
        if self.java is not None:
            return self.java
        home = os.environ.get("JAVA_HOME")
        if home and (Path(home) / "bin" / "java").is_file():
            return str(Path(home) / "bin" / "java")
        found = shutil.which("java")
        if found is None:
            raise InputError("H2O MOJO models are scored by Java, and no java was found", hint=_JAVA_HINT)
        return found

    def _find_jar(self) -> Path:
        if self.genmodel_jar is not None:
            if not self.genmodel_jar.is_file():
                raise InputError("no such jar", path=str(self.genmodel_jar))
            return self.genmodel_jar
        jar = find_genmodel_jar()
        if jar is None:
            raise InputError(
                "H2O MOJO models need H2O's Java runtime (the h2o package's h2o.jar, or an h2o-genmodel.jar)",
                hint="pip install 'mlaudit[h2o]', or pass genmodel_jar='path/to/h2o-genmodel.jar'",
            )
        return jar


def _failure(done: subprocess.CompletedProcess[bytes], path: str) -> InputError:
    """PredictCsv's failure as an InputError: its innermost cause, and the row when it names one."""
    lines = (done.stderr + done.stdout).decode("utf-8", errors="replace").strip().splitlines()
    causes = [line.partition(": ")[2] or line for line in lines if line.startswith("Caused by:")]
    row = column = None
    for line in lines:
        found = _FAILED_LINE.search(line)
        if found:
            row = int(found.group(1)) - 1  # PredictCsv counts data lines from 1
            break
    if causes:
        found = _FROM_COLUMN.search(causes[-1])
        column = found.group(1) if found else None
        message = causes[-1]
    else:
        message = " | ".join(lines[-5:]) if lines else f"exit code {done.returncode}"
    return InputError(
        f"H2O could not score this data with {Path(path).name}: {message}",
        column=column,
        row=row,
        hint="check that the columns have the types the model was trained on",
    )


def _write_csv(table: pa.Table, path: Path) -> None:
    import pyarrow.csv as pacsv

    try:
        pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(f"the data cannot be written for H2O to score: {exc}") from exc


def _numbers(values: list[str]) -> np.ndarray:
    """PredictCsv's numbers (hexadecimal by default, ``NA`` for missing) as float64."""
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        if value in ("NA", "", "NaN"):
            out[i] = np.nan
            continue
        try:
            out[i] = float.fromhex(value) if "x" in value.lower() else float(value)
        except ValueError as exc:
            raise InputError(f"H2O returned a value that is not a number: {value!r}") from exc
    return out
