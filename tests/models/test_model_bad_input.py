"""Bad input to models: every failure is an InputError (exit 2) naming the model, column or row.

Covers issue 5's "Must show — bad input" for models: features that do not match the data,
columns of the wrong type, models that raise, wrong-shaped or non-probability ``predict_proba``,
and HTTP models that time out, answer garbage, the wrong count or HTTP 500 (real local servers).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from mlaudit.errors import InputError, exit_code
from mlaudit.models import CallableModel, HttpModel, load

TRAIN = pd.DataFrame({"age": [20.0, 30.0, 40.0, 50.0], "income": [1.0, 0.0, 1.0, 0.0]})
Y = [0, 1, 0, 1]


def _raises(call: Callable[[], Any]) -> InputError:
    """The InputError ``call`` raises; it maps to exit code 2."""
    with pytest.raises(InputError) as info:
        call()
    assert exit_code(info.value) == 2
    return info.value


@pytest.fixture(scope="module")
def frame_model() -> Any:
    return load(LogisticRegression().fit(TRAIN, Y))


# --- features that do not match the data ------------------------------------------------------


def test_missing_feature_columns_are_named(frame_model: Any) -> None:
    error = _raises(lambda: frame_model.predict({"age": [1.0], "other": [2.0]}))
    assert "lacks 1 of the model's 2 features: 'income'" in str(error)
    assert error.column == "income"
    wide = load(LogisticRegression().fit(pd.DataFrame({"a": [0.0, 1.0], "b": [1.0, 0.0]}), [0, 1]))
    error = _raises(lambda: wide.predict({"c": [1.0]}))
    assert "lacks 2 of the model's 2 features: 'a', 'b'" in str(error)


def test_extra_columns_are_ignored(frame_model: Any) -> None:
    data = {"age": [25.0, 45.0], "income": [1.0, 0.0], "name": ["x", "y"], "id": [1, 2]}
    only = {k: data[k] for k in ("age", "income")}
    assert frame_model.predict(data).tolist() == frame_model.predict(only).tolist()


def test_wrong_width_for_a_model_without_names() -> None:
    model = load(LogisticRegression().fit(TRAIN.to_numpy(), Y))
    error = _raises(lambda: model.predict({"age": [1.0]}))
    assert "the data has 1 columns but the model takes 2 features" in str(error)


@pytest.mark.parametrize("fitted_on", ["frame", "array"])
def test_text_where_the_model_wants_numbers_names_the_column(fitted_on: str) -> None:
    model = load(LogisticRegression().fit(TRAIN if fitted_on == "frame" else TRAIN.to_numpy(), Y))
    data = {"age": [25.0, 35.0, 45.0], "income": ["1", "2", "lots"]}
    error = _raises(lambda: model.predict(data))
    assert (error.column, error.row) == ("income", 2)
    assert "sklearn model LogisticRegression" in str(error) and "'lots'" in str(error)
    assert "column 'income'" in str(error)
    assert "Traceback" not in str(error)


def test_numbers_written_as_text_still_work(frame_model: Any) -> None:
    assert frame_model.predict({"age": ["25", "45"], "income": ["1", "0"]}).shape == (2,)


# --- models that raise -----------------------------------------------------------------------


class _Exploding(ClassifierMixin, BaseEstimator):
    def fit(self, X: Any, y: Any) -> _Exploding:
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X: Any) -> Any:
        raise RuntimeError("the GPU caught fire")

    def predict_proba(self, X: Any) -> Any:
        raise MemoryError("out of memory")


def test_an_estimator_raising_is_named_with_its_error() -> None:
    model = load(_Exploding().fit(TRAIN, Y))
    error = _raises(lambda: model.predict(TRAIN))
    assert "the sklearn model _Exploding could not predict this data" in str(error)
    assert "RuntimeError: the GPU caught fire" in str(error)
    assert isinstance(error.__cause__, RuntimeError)
    error = _raises(lambda: model.predict_proba(TRAIN))
    assert "MemoryError: out of memory" in str(error)


def test_a_function_raising_is_named_with_its_error() -> None:
    def explode(table: pa.Table) -> Any:
        return 1 / 0

    error = _raises(lambda: CallableModel(explode).predict({"a": [1, 2]}))
    assert "callable model 'test_a_function_raising_is_named_with_its_error.<locals>.explode'" in str(error)
    assert "ZeroDivisionError: division by zero" in str(error)
    assert isinstance(error.__cause__, ZeroDivisionError)


def test_wrong_number_of_predictions() -> None:
    model = CallableModel(lambda t: [0])
    assert "returned 1 predictions for 3 rows" in str(_raises(lambda: model.predict({"a": [1, 2, 3]})))


# --- predict_proba that is not (rows, classes) probabilities ---------------------------------


def _proba_model(proba: Callable[[pa.Table], Any], classes: tuple[Any, ...] | None = (0, 1)) -> CallableModel:
    return CallableModel(lambda t: np.zeros(t.num_rows), proba=proba, classes=classes)


DATA = {"a": [1.0, 2.0, 3.0]}


@pytest.mark.parametrize(
    ("proba", "shape"),
    [
        (lambda t: np.full((t.num_rows, 3), 1 / 3), "(3, 3)"),  # 3 columns for 2 classes
        (lambda t: np.full((t.num_rows, 2, 1), 0.5), "(3, 2, 1)"),  # not 2-D
    ],
)
def test_proba_with_the_wrong_number_of_columns(proba: Callable[[pa.Table], Any], shape: str) -> None:
    error = _raises(lambda: _proba_model(proba).predict_proba(DATA))
    assert f"returned probabilities of shape {shape}, not (rows, 2)" in str(error)
    assert "callable model" in str(error)


def test_sklearn_proba_columns_must_match_classes() -> None:
    class ThreeColumns(_Exploding):
        def predict_proba(self, X: Any) -> Any:
            return np.full((len(X), 3), 1 / 3)

    error = _raises(lambda: load(ThreeColumns().fit(TRAIN, Y)).predict_proba(TRAIN))
    assert "sklearn model ThreeColumns returned probabilities of shape (4, 3), not (rows, 2)" in str(error)


@pytest.mark.parametrize(
    ("values", "message", "row"),
    [
        ([[0.2, 0.8], [1.3, -0.3], [0.5, 0.5]], "outside [0, 1]: [1.3, -0.3]", 1),
        ([0.2, 2.5, 0.4], "outside [0, 1]", 1),  # P(positive) only: a logit, not a probability
        ([[0.2, 0.8], [0.5, 0.5], [0.4, 0.4]], "sum to 0.8, not 1", 2),
        ([[0.2, 0.8], [float("nan"), 0.5], [0.5, 0.5]], "outside [0, 1]: [nan, 0.5]", 1),
    ],
)
def test_proba_that_is_not_probabilities_names_the_row(values: Any, message: str, row: int) -> None:
    error = _raises(lambda: _proba_model(lambda t: np.asarray(values)).predict_proba(DATA))
    assert message in str(error) and error.row == row


def test_proba_within_float_rounding_is_accepted() -> None:
    values = np.asarray([[0.1, 0.9], [0.3, 0.7], [0.5, 0.5]], dtype=np.float32) + np.float32(1e-7)
    proba = _proba_model(lambda t: values, classes=None).predict_proba(DATA)
    assert proba is not None and proba.shape == (3, 2)


def test_proba_that_is_not_numbers() -> None:
    error = _raises(lambda: _proba_model(lambda t: [["a", "b"]] * t.num_rows).predict_proba(DATA))
    assert "returned probabilities that are not numbers" in str(error)


# --- HTTP models: real local servers ---------------------------------------------------------

Behaviour = Callable[["_Handler", dict[str, Any]], None]


class _Handler(BaseHTTPRequestHandler):
    behaviour: Behaviour
    calls: list[int]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append(len(body["instances"]))
        self.behaviour(self, body)

    def send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the slow server writes after the client gave up


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], tuple[str, list[int]]]]:
    servers: list[_Server] = []

    def start(behaviour: Behaviour) -> tuple[str, list[int]]:
        calls: list[int] = []
        handler = type("H", (_Handler,), {"behaviour": staticmethod(behaviour), "calls": calls})
        server = _Server(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        # credentials in the URL and a secret query parameter: neither may appear in a message
        return f"http://scorer:hunter2@127.0.0.1:{server.server_address[1]}/predict?token=s3cr3t", calls

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _http_error(url: str, call: Callable[[HttpModel], Any], **options: Any) -> InputError:
    model = HttpModel(url, backoff=0.01, **options)
    started = time.monotonic()
    error = _raises(lambda: call(model))
    assert time.monotonic() - started < 5, "the model must not hang"
    text = str(error)
    assert "127.0.0.1" in text and "/predict" in text  # names the URL ...
    assert "hunter2" not in text and "scorer" not in text and "s3cr3t" not in text  # ... without secrets
    return error


def _answer(payload: Any) -> Behaviour:
    return lambda h, body: h.send(200, json.dumps(payload).encode())


def test_http_timeout(serve: Any) -> None:
    def slow(handler: _Handler, body: dict[str, Any]) -> None:
        time.sleep(1.0)
        handler.send(200, b'{"predictions": [0]}')

    url, calls = serve(slow)
    error = _http_error(url, lambda m: m.predict({"age": [1]}), timeout=0.2, retries=1)
    assert "failed after 2 attempts: no answer within 0.2 s" in str(error)
    assert len(calls) == 2


def test_http_not_json(serve: Any) -> None:
    url, _ = serve(lambda h, body: h.send(200, b"<html>Internal proxy page</html>"))
    error = _http_error(url, lambda m: m.predict({"age": [1]}), timeout=1.0, retries=0)
    assert "answered something that is not JSON: '<html>Internal proxy page</html>'" in str(error)


def test_http_wrong_number_of_predictions(serve: Any) -> None:
    url, _ = serve(_answer({"predictions": [1, 0]}))
    error = _http_error(url, lambda m: m.predict({"age": [1, 2, 3]}), timeout=1.0)
    assert "(rows 0-2) answered 2 predictions for 3 instances" in str(error)


def test_http_500_is_retried_then_reported(serve: Any) -> None:
    url, calls = serve(lambda h, body: h.send(500, b"Traceback (most recent call last): boom"))
    error = _http_error(url, lambda m: m.predict({"age": [1]}), timeout=1.0, retries=1)
    assert "failed after 2 attempts: HTTP 500" in str(error) and "boom" in str(error)
    assert len(calls) == 2


def test_http_connection_refused_names_the_url_without_secrets() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://scorer:hunter2@127.0.0.1:{port}/predict?token=s3cr3t"
    error = _http_error(url, lambda m: m.predict({"age": [1]}), timeout=1.0, retries=0)
    assert "connection failed" in str(error)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"predictions": [0, 1], "probabilities": [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]}, "shape (2, 3)"),
        ({"predictions": [0, 1], "probabilities": [[0.2, 0.3], [0.1, 0.9]]}, "sum to 0.5, not 1"),
        ({"predictions": [0, 1], "probabilities": [[0.2, 0.8], [0.1]]}, "not rows of numbers"),
        ({"predictions": [0, 1], "probabilities": "soon"}, "answered a str probabilities for 2"),
    ],
)
def test_http_bad_probabilities(serve: Any, payload: Any, message: str) -> None:
    url, _ = serve(_answer(payload))
    error = _http_error(url, lambda m: m.predict_proba({"age": [1, 2]}), timeout=1.0, classes=[0, 1])
    assert message in str(error)


def test_http_bad_url_does_not_echo_credentials() -> None:
    error = _raises(lambda: HttpModel("ftp://scorer:hunter2@example.org/predict"))
    assert "not an http(s) URL" in str(error) and "hunter2" not in str(error)
