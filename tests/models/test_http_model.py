"""HTTP adapter against real local servers (http.server in a thread on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from mlaudit.errors import InputError
from mlaudit.models import HttpModel, load

Behaviour = Callable[["_Handler", dict[str, Any]], None]


class _Handler(BaseHTTPRequestHandler):
    behaviour: Behaviour
    calls: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.calls.append({"path": self.path, "body": body})
        self.behaviour(self, body)

    def send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the slow server writes after the client gave up: a broken pipe is expected


@pytest.fixture
def serve() -> Iterator[Callable[[Behaviour], tuple[str, list[dict[str, Any]]]]]:
    servers: list[_Server] = []

    def start(behaviour: Behaviour) -> tuple[str, list[dict[str, Any]]]:
        calls: list[dict[str, Any]] = []
        handler = type("H", (_Handler,), {"behaviour": staticmethod(behaviour), "calls": calls})
        server = _Server(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", calls

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _scorer(handler: _Handler, body: dict[str, Any]) -> None:
    rows = body["instances"]
    preds = [int(r["age"] > 40) for r in rows]
    proba = [[1 - p, p] for p in preds]
    handler.send(200, json.dumps({"predictions": preds, "probabilities": proba}).encode())


DATA = {"age": [31, 45, 52, 19, 60], "city": ["Paris", "Lyon", None, "Nice", "Paris"], "id": [1, 2, 3, 4, 5]}


def test_batches_and_columns(serve: Any) -> None:
    url, calls = serve(_scorer)
    model = load(f"{url}/predict", feature_names=["age", "city"], batch_size=2, classes=[0, 1])
    assert isinstance(model, HttpModel) and model.framework == "http"
    assert model.predict(DATA).tolist() == [0, 1, 1, 0, 1]
    assert [len(c["body"]["instances"]) for c in calls] == [2, 2, 1]
    assert calls[0] == {
        "path": "/predict",
        "body": {"instances": [{"age": 31, "city": "Paris"}, {"age": 45, "city": "Lyon"}]},
    }
    assert calls[1]["body"]["instances"][0]["city"] is None
    proba = model.predict_proba(DATA)
    assert proba is not None and proba.shape == (5, 2)
    np.testing.assert_array_equal(proba[:, 1], [0, 1, 1, 0, 1])
    assert model.task == "binary"


def test_configurable_fields_and_rows(serve: Any) -> None:
    def tf_serving(handler: _Handler, body: dict[str, Any]) -> None:
        handler.send(200, json.dumps({"outputs": [[sum(r)] for r in body["inputs"]]}).encode())

    url, calls = serve(tf_serving)
    model = HttpModel(
        url,
        feature_names=("age", "id"),
        instances_key="inputs",
        predictions_key="outputs",
        probabilities_key=None,
        row_format="rows",
    )
    assert model.predict(DATA).tolist() == [32, 47, 55, 23, 65]
    assert calls[0]["body"] == {"inputs": [[31, 1], [45, 2], [52, 3], [19, 4], [60, 5]]}
    assert not model.supports_proba and model.predict_proba(DATA) is None


def test_timeout_is_retried_then_reported(serve: Any) -> None:
    def slow(handler: _Handler, body: dict[str, Any]) -> None:
        time.sleep(1.5)
        _scorer(handler, body)

    url, calls = serve(slow)
    model = HttpModel(url, timeout=0.3, retries=1, backoff=0.05)
    with pytest.raises(InputError, match=r"failed after 2 attempts: no answer within 0.3 s"):
        model.predict({"age": [1]})
    assert len(calls) == 2


def test_5xx_is_retried_until_it_works(serve: Any) -> None:
    state = {"n": 0}

    def flaky(handler: _Handler, body: dict[str, Any]) -> None:
        state["n"] += 1
        if state["n"] < 3:
            handler.send(503, b"busy")
        else:
            _scorer(handler, body)

    url, calls = serve(flaky)
    model = HttpModel(url, retries=2, backoff=0.01)
    assert model.predict({"age": [50]}).tolist() == [1]
    assert len(calls) == 3


def test_4xx_is_not_retried(serve: Any) -> None:
    url, calls = serve(lambda h, b: h.send(422, b'{"detail": "bad field"}'))
    with pytest.raises(InputError, match=r"answered HTTP 422: .*bad field"):
        HttpModel(url, retries=3, backoff=0.01).predict({"age": [1]})
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"<html>oops</html>", "not JSON: '<html>oops</html>'"),
        (b'{"result": [1, 2]}', r"without 'predictions' \(got \['result'\]\)"),
        (b'{"predictions": [1, 2]}', "answered 2 predictions for 3 instances"),
        (b'{"predictions": 7}', "answered a int predictions for 3 instances"),
        (b"[1, 2, 3]", r"without 'predictions' \(got list\)"),
    ],
)
def test_garbage_answers(serve: Any, payload: bytes, message: str) -> None:
    url, _ = serve(lambda h, b: h.send(200, payload))
    with pytest.raises(InputError, match=message):
        HttpModel(url, retries=0).predict({"age": [1, 2, 3]})


def test_bad_probabilities(serve: Any) -> None:
    url, _ = serve(lambda h, b: h.send(200, b'{"predictions": [1], "probabilities": [["x", "y"]]}'))
    with pytest.raises(InputError, match="not rows of numbers"):
        HttpModel(url).predict_proba({"age": [1]})
    url, _ = serve(lambda h, b: h.send(200, b'{"predictions": [1]}'))
    with pytest.raises(InputError, match="probabilities_key=None"):
        HttpModel(url).predict_proba({"age": [1]})


def test_connection_refused() -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(InputError, match="failed after 2 attempts: connection failed"):
        HttpModel(f"http://127.0.0.1:{port}/predict", retries=1, backoff=0.01).predict({"age": [1]})


def test_redirects_same_host_only(serve: Any) -> None:
    other, other_calls = serve(_scorer)

    def redirect(handler: _Handler, body: dict[str, Any]) -> None:
        if handler.path == "/old":
            handler.send(307, b"", {"Location": "/new"})
        elif handler.path == "/new":
            _scorer(handler, body)
        else:
            handler.send(308, b"", {"Location": f"{other}/predict"})

    url, calls = serve(redirect)
    assert HttpModel(f"{url}/old").predict({"age": [50]}).tolist() == [1]
    assert [c["path"] for c in calls] == ["/old", "/new"]
    with pytest.raises(InputError, match="redirected to another host"):
        HttpModel(f"{url}/away").predict({"age": [50]})
    assert other_calls == []


def test_bad_options() -> None:
    with pytest.raises(InputError, match="not an http"):
        HttpModel("ftp://example/predict")
    with pytest.raises(InputError, match="batch_size must be >= 1"):
        HttpModel("http://127.0.0.1:1/predict", batch_size=0)


def test_values_json_cannot_carry_directly(serve: Any) -> None:
    import datetime as dt
    from decimal import Decimal

    import pyarrow as pa

    url, calls = serve(
        lambda h, b: h.send(200, json.dumps({"predictions": [0] * len(b["instances"])}).encode())
    )
    table = pa.table(
        {
            "price": pa.array([Decimal("1.50"), None], pa.decimal128(5, 2)),
            "day": [dt.date(2026, 1, 2), dt.date(2026, 1, 3)],
            "x": [float("nan"), 2.0],
        }
    )
    assert HttpModel(url).predict(table).tolist() == [0, 0]
    assert calls[0]["body"]["instances"][0] == {"price": 1.5, "day": "2026-01-02", "x": None}
    assert HttpModel(url).predict(table.slice(0, 0)).shape == (0,)
    assert len(calls) == 1  # no request for no rows
