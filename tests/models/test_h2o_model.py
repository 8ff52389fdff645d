"""H2O adapter: MOJOs scored by H2O's own Java runtime (PredictCsv), no cluster.

The h2o 3.46.0.12 Python client refuses ``download_mojo()`` ("MOJO export requires H2O-3 Secure"),
so these tests cannot train a model in a cluster and export it. Two kinds of MOJO are tested:

- GLM MOJOs written here (``model.ini`` + domains, the open format H2O's genmodel reads) with known
  coefficients, the Java scorer's answers checked against the GLM formula computed in NumPy;
- real models trained by an H2O 3.44.0.3 cluster and exported by it (a GBM, a DRF, a GLM in
  ``data/h2o_*.zip``), checked against the cluster's own predictions on the same rows
  (``data/h2o_expected_*.csv``). ``data/make_h2o_mojos.py`` regenerates them; the tests need only
  the installed h2o package's jar and Java.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import mlaudit
from mlaudit.audit import run_audit
from mlaudit.cli import main
from mlaudit.errors import InputError
from mlaudit.models import H2OModel, load

pytest.importorskip(
    "h2o", reason="H2O MOJOs are scored with the h2o package's jar (pip install 'mlaudit[h2o]')"
)

if shutil.which("java") is None:
    if os.environ.get("CI") == "true":
        pytest.fail("H2O tests need Java (java on PATH) in CI", pytrace=False)
    pytest.skip("H2O MOJOs are scored by Java, and java is not on PATH", allow_module_level=True)

DATA = Path(__file__).parent / "data"


def glm_mojo(
    path: Path,
    *,
    category: str,
    family: str,
    link: str,
    features: list[str],
    response: str,
    domains: dict[str, list[str]],
    beta: list[float],
    threshold: float = 0.5,
) -> Path:
    """A GLM MOJO: categorical features first (one-hot, first level dropped), then numeric ones,
    intercept last (per class for multinomial); missing values imputed (means 0, first level)."""
    cats = [f for f in features if f in domains]
    nums = [f for f in features if f not in domains]
    assert features == cats + nums, "GLM MOJOs list categorical columns first"
    offsets = [0]
    for c in cats:
        offsets.append(offsets[-1] + len(domains[c]) - 1)
    columns = [*features, response]
    indexed = [(i, domains[c]) for i, c in enumerate(columns) if c in domains]
    n_classes = len(domains[response]) if response in domains else 1
    ini = [
        "[info]",
        "h2o_version = 3.46.0.7",
        "mojo_version = 1.00",
        "license = Apache License Version 2.0",
        "algo = glm",
        "algorithm = Generalized Linear Modeling",
        "endianness = LITTLE_ENDIAN",
        f"category = {category}",
        "uuid = 1",
        "supervised = true",
        f"n_features = {len(features)}",
        f"n_classes = {n_classes}",
        f"n_columns = {len(columns)}",
        f"n_domains = {len(indexed)}",
        "balance_classes = false",
        f"default_threshold = {threshold!r}",
        "prior_class_distrib = null",
        "model_class_distrib = null",
        "timestamp = 2026-01-01T00:00:00.000Z",
        "use_all_factor_levels = false",
        f"cats = {len(cats)}",
        f"cat_modes = {[0] * len(cats)}",
        f"cat_offsets = {offsets}",
        f"nums = {len(nums)}",
        f"num_means = {[0.0] * len(nums)}",
        "mean_imputation = true",
        f"beta = {[float(b) for b in beta]}",
        f"family = {family}",
        f"link = {link}",
        "",
        "[columns]",
        *columns,
        "",
        "[domains]",
        *(f"{i}: {len(levels)} d{k:03d}.txt" for k, (i, levels) in enumerate(indexed)),
    ]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.ini", "\n".join(ini) + "\n")
        for k, (_, levels) in enumerate(indexed):
            archive.writestr(f"domains/d{k:03d}.txt", "\n".join(levels) + "\n")
    return path


BINOMIAL: dict[str, Any] = {
    "category": "Binomial",
    "family": "binomial",
    "link": "logit",
    "features": ["city", "age", "income"],
    "response": "churn",
    "domains": {"city": ["paris", "rome", "oslo"], "churn": ["no", "yes"]},
    "beta": [0.7, -0.4, 1.5, -0.8, 0.2],  # rome, oslo, age, income, intercept
    "threshold": 0.3,
}


def _binomial_p(city: list[str | None], age: np.ndarray, income: np.ndarray) -> np.ndarray:
    cat = np.array([{"rome": 0.7, "oslo": -0.4}.get(c or "", 0.0) for c in city])
    eta = cat + 1.5 * np.nan_to_num(age) - 0.8 * np.nan_to_num(income) + 0.2
    return 1.0 / (1.0 + np.exp(-eta))


@pytest.fixture(scope="module")
def customers() -> pa.Table:
    rng = np.random.default_rng(5)
    n = 200
    city = rng.choice(["paris", "rome", "oslo", 'a, quoted "town"'], size=n).tolist()
    income = rng.normal(size=n)
    income[3] = np.nan  # imputed with the mean (0)
    city[4] = None  # imputed with the mode (paris)
    return pa.table({"id": np.arange(n), "income": income, "age": rng.normal(size=n), "city": city})


def test_binomial_mojo(tmp_path: Path, customers: pa.Table) -> None:
    path = glm_mojo(tmp_path / "churn.zip", **BINOMIAL)
    model = load(path)
    assert isinstance(model, H2OModel) and model.framework == "h2o"
    assert model.task == "binary" and model.classes == ("no", "yes") and model.supports_proba
    assert model.feature_names == ("city", "age", "income")
    assert model.fingerprint == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    expected = _binomial_p(
        customers.column("city").to_pylist(),
        customers.column("age").to_numpy(),
        customers.column("income").to_numpy(zero_copy_only=False),
    )
    proba = model.predict_proba(customers)  # columns found by name, "id" ignored, unseen city = NA
    assert proba is not None and proba.shape == (200, 2)
    np.testing.assert_allclose(proba[:, 1], expected, rtol=1e-12)
    np.testing.assert_allclose(proba[:, 0], 1.0 - expected, rtol=1e-12)
    pred = model.predict(customers)
    np.testing.assert_array_equal(pred, np.where(expected >= 0.3, "yes", "no"))  # the MOJO's threshold
    assert (expected < 0.5).any() and (pred == "yes").sum() > (expected >= 0.5).sum()
    assert model.predict(customers.slice(0, 0)).shape == (0,)
    with pytest.raises(InputError, match="lacks 1 of the model's 3 features: 'age'"):
        model.predict(customers.drop_columns(["age"]))


def test_integer_classes_and_overrides(tmp_path: Path) -> None:
    spec = dict(BINOMIAL, domains={"city": ["paris", "rome", "oslo"], "churn": ["0", "1"]})
    path = glm_mojo(tmp_path / "int.mojo", **spec)
    model = load(path)  # .mojo works too
    assert model.classes == (0, 1)
    data = {"city": ["rome", "paris"], "age": [2.0, -2.0], "income": [0.0, 0.0]}
    assert model.predict(data).tolist() == [1, 0]
    renamed = load(path, framework="h2o", classes=["stay", "leave"], feature_names=["town", "years", "pay"])
    assert renamed.classes == ("stay", "leave")
    assert renamed.predict({"town": ["rome"], "years": [2.0], "pay": [0.0]}).tolist() == ["leave"]
    with pytest.raises(InputError, match="3 classes given but the MOJO's response has 2"):
        load(path, classes=["a", "b", "c"])


def test_regression_and_multinomial(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    x = rng.normal(size=(150, 2))
    reg = glm_mojo(
        tmp_path / "reg.zip",
        category="Regression",
        family="gaussian",
        link="identity",
        features=["a", "b"],
        response="v",
        domains={},
        beta=[2.0, -1.0, 0.5],
    )
    model = load(reg)
    assert model.task == "regression" and model.classes is None and not model.supports_proba
    assert model.predict_proba({"a": [1.0], "b": [1.0]}) is None
    np.testing.assert_allclose(model.predict(x), 2 * x[:, 0] - x[:, 1] + 0.5, rtol=1e-12)  # positional

    beta = np.array([[1.0, 0.5, 0.1], [-1.0, 0.2, 0.0], [0.0, -0.3, 0.2]])  # per class: a, b, intercept
    multi = glm_mojo(
        tmp_path / "multi.zip",
        category="Multinomial",
        family="multinomial",
        link="multinomial",
        features=["a", "b"],
        response="level",
        domains={"level": ["high", "low", "mid"]},
        beta=beta.ravel().tolist(),
    )
    model = load(multi)
    assert model.task == "multiclass" and model.classes == ("high", "low", "mid")
    eta = x @ beta[:, :2].T + beta[:, 2]
    expected = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    proba = model.predict_proba({"a": x[:, 0], "b": x[:, 1]})
    assert proba is not None
    np.testing.assert_allclose(proba, expected, rtol=1e-12)
    labels = np.array(["high", "low", "mid"])[expected.argmax(axis=1)]
    np.testing.assert_array_equal(model.predict({"a": x[:, 0], "b": x[:, 1]}), labels)


def test_refusals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = glm_mojo(tmp_path / "churn.zip", **BINOMIAL)
    model = load(path)
    with pytest.raises(InputError, match="Unable to parse value: abc") as info:
        model.predict({"city": ["rome", "oslo"], "age": ["1.0", "abc"], "income": [0.0, 1.0]})
    assert info.value.row == 1 and info.value.column == "age"
    missing_java = H2OModel(path, java=str(tmp_path / "no-java"))
    with pytest.raises(InputError, match="cannot run Java") as info:
        missing_java.predict({"city": ["rome"], "age": [1.0], "income": [0.0]})
    assert info.value.hint == "install a Java runtime (java on PATH)"
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(InputError, match="no java was found") as info:
        model.predict({"city": ["rome"], "age": [1.0], "income": [0.0]})
    assert info.value.hint == "install a Java runtime (java on PATH)" and info.value.exit_code == 2
    monkeypatch.undo()
    with pytest.raises(InputError, match="no such jar"):
        H2OModel(path, genmodel_jar=tmp_path / "missing.jar").predict(
            {"city": ["rome"], "age": [1], "income": [0]}
        )

    clustering = tmp_path / "kmeans.zip"
    with zipfile.ZipFile(clustering, "w") as archive:
        archive.writestr("model.ini", "[info]\ncategory = Clustering\nn_features = 1\n\n[columns]\nx\n")
    with pytest.raises(InputError, match="H2O Clustering models cannot be scored here"):
        load(clustering)
    not_zip = tmp_path / "model.mojo"
    not_zip.write_bytes(b"hello")
    with pytest.raises(InputError, match="not an H2O MOJO: the file is not a zip archive"):
        load(not_zip)
    with pytest.raises(InputError, match="loaded from MOJO zip files"):
        load(object(), framework="h2o")


def test_h2o_mojo_fixture_scores() -> None:
    """The committed MOJO (tests/models/data/h2o_glm_binomial.zip, made by ``glm_mojo(**BINOMIAL)``)."""
    path = DATA / "h2o_glm_binomial.zip"
    model = load(path)
    assert model.classes == ("no", "yes") and model.feature_names == ("city", "age", "income")
    data = {"city": ["rome", "oslo", "paris"], "age": [0.5, -1.0, 2.0], "income": [1.0, 0.0, -0.5]}
    proba = model.predict_proba(data)
    assert proba is not None
    expected = _binomial_p(data["city"], np.array(data["age"]), np.array(data["income"]))
    np.testing.assert_allclose(proba[:, 1], expected, rtol=1e-12)


def test_register_and_load_back(
    tmp_path: Path, customers: pa.Table, capsys: pytest.CaptureFixture[str]
) -> None:
    path = glm_mojo(tmp_path / "churn.zip", **BINOMIAL)
    ws = mlaudit.open(tmp_path / "ws")
    where = ws.location
    ws.close()
    assert main(["model", "register", "churn", str(path), "-w", where, "--json"]) == 0
    doc = orjson.loads(capsys.readouterr().out)
    assert doc["framework"] == "h2o" and doc["task"] == "binary" and doc["classes"] == ["no", "yes"]
    assert doc["features"] == ["city", "age", "income"] and doc["ref"] == "churn@v1"
    with mlaudit.open(where) as ws:
        loaded = ws.models.load("churn@v1")  # stored bytes written back as a .zip
        np.testing.assert_array_equal(loaded.predict(customers), load(path).predict(customers))


# --- MOJOs trained and exported by an H2O cluster (tests/models/data/make_h2o_mojos.py) --------

FEATURES = ("age", "income", "visits", "city", "plan")
TRAINED: dict[str, dict[str, Any]] = {
    "gbm_binomial": {
        "task": "binary",
        "classes": ("no", "yes"),
        "algorithm": "Gradient Boosting Machine",
        "features": FEATURES,
    },
    "multinomial": {
        "task": "multiclass",
        "classes": ("bronze", "gold", "silver"),
        "algorithm": "Distributed Random Forest",
        "features": FEATURES,
    },
    "glm_regression": {
        "task": "regression",
        "classes": None,
        "algorithm": "Generalized Linear Modeling",
        "features": ("city", "plan", "age", "income", "visits"),  # H2O's GLM puts categoricals first
    },
}
UNSEEN = [0, 5, 6]  # rows whose city is "lisbon", a level no model was trained on
MISSING = [1, 2, 3, 4, 5]  # rows with a missing city, age and/or income


@pytest.fixture(scope="module")
def scoring() -> pa.Table:
    """The 200 rows the cluster scored: empty cells are missing values (nulls), strings included."""
    options = pacsv.ConvertOptions(strings_can_be_null=True)
    return pacsv.read_csv(DATA / "h2o_scoring.csv", convert_options=options)


def _expected(name: str) -> pa.Table:
    return pacsv.read_csv(DATA / f"h2o_expected_{name}.csv")


def test_trained_fixtures_are_as_documented(scoring: pa.Table) -> None:
    assert scoring.num_rows == 200
    city = scoring.column("city").to_pylist()
    assert [i for i, c in enumerate(city) if c == "lisbon"] == UNSEEN
    for i in MISSING:
        assert None in [scoring.column(c)[i].as_py() for c in ("age", "income", "city")]
    for name in TRAINED:
        path = DATA / f"h2o_{name}.zip"
        with zipfile.ZipFile(path) as archive:
            assert "h2o_version = 3.44.0.3" in archive.read("model.ini").decode()
        assert path.stat().st_size < 50 * 1024


@pytest.mark.parametrize("name", list(TRAINED))
def test_trained_mojo_scores_as_the_cluster_did(name: str, scoring: pa.Table) -> None:
    spec = TRAINED[name]
    path = DATA / f"h2o_{name}.zip"
    model = load(path)  # framework found from the .zip
    assert isinstance(model, H2OModel) and model.framework == "h2o"
    assert model.task == spec["task"] and model.classes == spec["classes"]
    assert model.feature_names == spec["features"] and model.algorithm == spec["algorithm"]
    assert model.fingerprint == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    expected = _expected(name)
    pred = model.predict(scoring)  # by name: id, labels and the other responses are ignored
    assert pred.shape == (200,)
    if spec["task"] == "regression":
        assert not model.supports_proba and model.predict_proba(scoring) is None
        np.testing.assert_allclose(pred, expected.column("predict").to_numpy(), rtol=1e-9, atol=1e-6)
        return
    np.testing.assert_array_equal(pred, np.asarray(expected.column("predict").to_pylist()))
    proba = model.predict_proba(scoring)
    assert proba is not None and proba.shape == (200, len(spec["classes"]))
    cluster = np.column_stack([expected.column(c).to_numpy() for c in spec["classes"]])
    np.testing.assert_allclose(proba, cluster, rtol=0, atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
    if spec["task"] == "binary":  # labels follow the MOJO's F1 threshold, not 0.5 ...
        assert ((proba[:, 1] < 0.5) & (pred == "yes")).any()
    else:  # ... a multinomial model's follow the largest probability
        np.testing.assert_array_equal(pred, np.array(spec["classes"])[proba.argmax(axis=1)])


@pytest.mark.parametrize("name", list(TRAINED))
def test_trained_mojo_unseen_category_and_missing_values(name: str, scoring: pa.Table) -> None:
    """An unseen level is scored as a missing one, and missing values are scored (not NA), as the
    cluster did; the GLM imputes the training mode of city (paris) for both."""
    model = load(DATA / f"h2o_{name}.zip")
    rows = scoring.take(UNSEEN + MISSING)
    city = rows.column_names.index("city")
    n = rows.num_rows

    def scores(table: pa.Table) -> np.ndarray:
        out = model.predict_proba(table) if model.supports_proba else model.predict(table)
        assert out is not None
        return np.asarray(out, dtype=float)

    got = scores(rows)
    assert np.isfinite(got).all()
    expected = _expected(name).take(UNSEEN + MISSING)
    columns = model.classes or ("predict",)
    cluster = np.column_stack([expected.column(c).to_numpy() for c in columns])
    np.testing.assert_allclose(got.reshape(n, -1), cluster, rtol=0, atol=1e-6)
    k = len(UNSEEN)
    as_missing = scores(rows.set_column(city, "city", pa.array([None] * n, pa.string())))
    np.testing.assert_array_equal(got[:k], as_missing[:k])
    as_paris = scores(rows.set_column(city, "city", pa.array(["paris"] * n)))
    assert np.array_equal(got[:k], as_paris[:k]) == (name == "glm_regression")


def test_trained_mojo_takes_pandas_categoricals(scoring: pa.Table) -> None:
    frame = scoring.to_pandas()
    frame["city"] = frame["city"].astype("category")
    frame["plan"] = frame["plan"].astype("category")
    proba = load(DATA / "h2o_gbm_binomial.zip").predict_proba(frame)
    assert proba is not None
    expected = _expected("gbm_binomial")
    np.testing.assert_allclose(proba[:, 1], expected.column("yes").to_numpy(), rtol=0, atol=1e-6)


def test_trained_gbm_registered_and_audited(
    tmp_path: Path, scoring: pa.Table, capsys: pytest.CaptureFixture[str]
) -> None:
    path = DATA / "h2o_gbm_binomial.zip"
    ws = mlaudit.open(tmp_path / "ws")
    where = ws.location
    ws.close()
    assert main(["model", "register", "churn-gbm", str(path), "-w", where, "--json"]) == 0
    doc = orjson.loads(capsys.readouterr().out)
    assert doc["framework"] == "h2o" and doc["task"] == "binary" and doc["classes"] == ["no", "yes"]
    assert doc["features"] == list(FEATURES) and doc["ref"] == "churn-gbm@v1"
    with mlaudit.open(where) as ws:
        model = ws.models.load("churn-gbm@v1")
    assert model.fingerprint == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    reference, current = scoring.slice(0, 100), scoring.slice(100, 100)
    report = run_audit(model, reference, current, labels="churn", suite="quick")
    assert report.task == "binary" and report.features == FEATURES
    performance = report.section("performance")
    assert performance.skipped is None and performance.results
    assert all(r.status != "error" for r in performance.results), performance.results
    assert performance.document is not None and {"current", "reference"} <= set(performance.document)
    checks = {r.check for r in performance.results}
    assert "performance:roc_auc_drop" in checks and "performance:accuracy_drop" in checks
    assert report.section("drift").results
