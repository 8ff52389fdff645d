"""The prediction gateway: gated serving, logging with hashed PII, shadow challenger, errors.

A governed model is built here for real: a dataset with an e-mail column (found as PII when
logged), a scikit-learn pipeline registered on it, tier 3, a passing quick audit, submitted by
its maker, approved by a validator, approved and deployed by an approver.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from server_helpers import make_settings

import mlaudit
from mlaudit.cli import main
from mlaudit.errors import PolicyViolation

pytest.importorskip("fastapi")
pd = pytest.importorskip("pandas")

from fastapi.testclient import TestClient  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, roc_auc_score  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from mlaudit.server.gateway import create_gateway  # noqa: E402
from mlaudit.server.gateway_log import Job, PredictionWriter  # noqa: E402


def _frame(n: int, seed: int) -> Any:
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = (a + 0.5 * b + rng.normal(scale=0.3, size=n) > 0).astype(int)
    email = [f"person{seed}x{i}@example.com" for i in range(n)]
    return pd.DataFrame({"a": a, "b": b, "email": email, "y": y})


def _pipeline(columns: list[str], c: float) -> Pipeline:
    """Scores on ``columns`` only; ``email`` is an input (so it is sent and logged) but unused."""
    pick = ColumnTransformer([("keep", "passthrough", columns)], remainder="drop")
    return Pipeline([("pick", pick), ("lr", LogisticRegression(C=c))])


@pytest.fixture
def governed(server_ws: Path) -> dict[str, Any]:
    """``scoring@v1`` deployed (gate passes) and ``scoring@v2`` a draft challenger."""
    train = _frame(600, 1)
    x = train[["a", "b", "email"]]
    champion = _pipeline(["a", "b"], 1.0).fit(x, train["y"])
    challenger = _pipeline(["a"], 0.05).fit(x, train["y"])
    with mlaudit.open(server_ws, actor="dev") as ws:
        data = ws.datasets.log("applicants", train, keep_data=True).version
        assert "email" in {f["column"] for f in data.pii}
        for model in (champion, challenger):
            ws.models.register("scoring", model, features=["a", "b", "email"], target="y",
                               trained_on=[data.ref], trust_pickle=True)  # fmt: skip
        holdout = _frame(400, 2)
        report = ws.audit("scoring@v1", reference=holdout, current=holdout, labels="y", suite="quick")
        assert report.passed, report.status
        ws.lifecycle.transition("scoring@v1", "in_validation", "ready")
    with mlaudit.open(server_ws, actor="val") as ws:
        ws.risk.set_tier("scoring", materiality="low", complexity="low", use="informational")
        assert ws.risk.tier("scoring").tier == 3
        ws.lifecycle.approve("scoring@v1", "approve", "fine on the holdout", role="validator")
        ws.lifecycle.transition("scoring@v1", "approved", "validated")
    with mlaudit.open(server_ws, actor="appr") as ws:
        ws.lifecycle.transition("scoring@v1", "deployed", "go")
        assert ws.risk.gate("scoring@v1").passed
    return {"path": server_ws, "champion": champion, "challenger": challenger}


def _token(path: Path, user: str, scopes: list[str] | None = None) -> dict[str, str]:
    with mlaudit.open(path, actor=user) as ws:
        secret, _ = ws.credentials.create_token("gw", scopes=scopes or ["write"])
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def client(governed: dict[str, Any], tmp_path: Path) -> Iterator[TestClient]:
    app = create_gateway(governed["path"], "scoring", actor="root", settings=make_settings(),
                         hash_columns=["b"], spool_dir=tmp_path / "spool")  # fmt: skip
    with TestClient(app, base_url="https://testserver") as c:
        c.headers.update(_token(governed["path"], "dev"))
        yield c


def _records(n: int, seed: int) -> list[dict[str, Any]]:
    return _frame(n, seed)[["a", "b", "email"]].to_dict("records")  # type: ignore[no-any-return]


def test_refuses_a_version_the_gate_does_not_pass(
    governed: dict[str, Any], capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = governed["path"]
    monkeypatch.setenv("MLAUDIT_USER", "dev")
    with pytest.raises(PolicyViolation) as info:
        create_gateway(path, "scoring@v2", actor="root")
    message = str(info.value)
    assert "release gate refuses scoring@v2" in message
    assert "status: lifecycle status is draft" in message and "suite:quick" in message
    # the CLI: exit 1 with the failing rules
    code = main(["gateway", "scoring@v2", "-w", str(path), "--port", "1"])
    assert code == 1
    assert "status: lifecycle status is draft" in capsys.readouterr().err
    # a model without a deployed version
    with mlaudit.open(path, actor="dev") as ws:
        assert ws.lifecycle.deployed_at("credit", "2999-01-01T00:00:00Z") is None
    with pytest.raises(PolicyViolation, match="credit has no deployed version"):
        create_gateway(path, "credit", actor="root")


def test_serves_the_deployed_version_and_logs_every_prediction(
    client: TestClient, governed: dict[str, Any]
) -> None:
    gateway = client.app.state.gateway  # type: ignore[attr-defined]
    assert gateway.champion.ref == "scoring@v1" and set(gateway.hasher.columns) == {"b", "email"}
    first, second = _records(5, 10), _records(3, 11)
    r1 = client.post("/predict", json={"records": first})
    r2 = client.post("/predict", json={"records": second, "ids": ["x1", "x2", "x3"]})
    assert r1.status_code == 200 and r2.status_code == 200, r1.text + r2.text
    body = r1.json()
    assert body["model"] == "scoring@v1"
    expected = governed["champion"].predict_proba(pd.DataFrame(first))
    got = [[p["proba"]["0"], p["proba"]["1"]] for p in body["predictions"]]
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    labels = governed["champion"].predict(pd.DataFrame(first)).tolist()
    assert [p["prediction"] for p in body["predictions"]] == labels
    assert [p["prediction_id"] for p in r2.json()["predictions"]] == ["x1", "x2", "x3"]

    assert gateway.writer.flush(20)
    with mlaudit.open(governed["path"], actor="root") as ws:
        assert ws.predictions.count("scoring@v1") == 8
        batches = ws.predictions.batches("scoring@v1", kind="predictions")
        assert {b.batch_key for b in batches} == {r1.headers["x-request-id"], r2.headers["x-request-id"]}
        assert {b.actor for b in batches} == {"dev"}
        logged = ws.predictions.scan("scoring@v1").to_pylist()
    ids = {p["prediction_id"] for p in body["predictions"]} | {"x1", "x2", "x3"}
    assert {row["prediction_id"] for row in logged} == ids
    sent = {r["email"] for r in first + second} | {r["b"] for r in first + second}
    for row in logged:
        assert row["email"].startswith("sha256:") and len(row["email"]) == 7 + 64
        assert row["b"].startswith("sha256:")
        assert row["email"] not in sent and row["b"] not in sent
        assert isinstance(row["a"], float)  # not PII: kept as sent
    # the same value hashes the same (joins and counts still work), salted: not a bare SHA-256
    by_id = {row["prediction_id"]: row for row in logged}
    raw = first[0]["email"]
    assert by_id[body["predictions"][0]["prediction_id"]]["email"] == gateway.hasher.value(raw)
    assert gateway.hasher.value(raw) != "sha256:" + hashlib.sha256(raw.encode()).hexdigest()
    health = client.get("/healthz", headers={"Authorization": ""}).json()
    assert health["serving"] is True and health["log"]["rows"] == 8 and health["log"]["pending"] == 0


def test_bad_input_is_422_and_no_token_is_401(client: TestClient, governed: dict[str, Any]) -> None:
    good = _records(2, 3)
    missing = client.post("/predict", json={"records": [{"a": 1.0}]})
    assert missing.status_code == 422
    error = missing.json()["error"]
    assert error["code"] == "invalid_input" and "missing feature(s) b, email" in error["message"]
    assert error["request_id"] == missing.headers["x-request-id"]
    wrong = client.post("/predict", json={"records": [good[0] | {"a": "high"}]})
    assert wrong.status_code == 422 and "records.0.a: expected a number" in wrong.json()["error"]["message"]
    nan = client.post("/predict", content=b'{"records": [{"a": NaN, "b": 1.0, "email": "x@y.z"}]}',
                      headers={"Content-Type": "application/json"})  # fmt: skip
    assert nan.status_code == 422 and "finite" in nan.json()["error"]["message"]
    empty = client.post("/predict", json={"records": []})
    assert empty.status_code == 422 and set(empty.json()["error"]) >= {"status", "code", "message"}
    ids = client.post("/predict", json={"records": good, "ids": ["same", "same"]})
    assert ids.status_code == 422 and "unique" in ids.json()["error"]["message"]

    anonymous = client.post("/predict", json={"records": good}, headers={"Authorization": ""})
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthenticated"
    forged = client.post("/predict", json={"records": good}, headers={"Authorization": "Bearer mla_x_y"})
    assert forged.status_code == 401
    viewer = client.post("/predict", json={"records": good}, headers=_token(governed["path"], "viewer"))
    assert viewer.status_code == 403  # a viewer may not prediction.log
    read_only = client.post("/predict", json={"records": good},
                            headers=_token(governed["path"], "dev", ["read"]))  # fmt: skip
    assert read_only.status_code == 403
    assert client.app.state.gateway.writer.flush(10)  # type: ignore[attr-defined]
    with mlaudit.open(governed["path"], actor="root") as ws:
        assert ws.predictions.count("scoring@v1") == 0  # nothing refused was logged


def test_stops_serving_when_the_gate_no_longer_passes(governed: dict[str, Any], tmp_path: Path) -> None:
    app = create_gateway(governed["path"], "scoring", actor="root", settings=make_settings(),
                         recheck_seconds=0.2, spool_dir=tmp_path)  # fmt: skip
    with TestClient(app, base_url="https://testserver") as c:
        c.headers.update(_token(governed["path"], "dev"))
        assert c.post("/predict", json={"records": _records(1, 4)}).status_code == 200
        with mlaudit.open(governed["path"], actor="appr") as ws:
            ws.lifecycle.transition("scoring@v1", "retired", "end of life")
        deadline = time.monotonic() + 15
        while c.get("/healthz").json()["serving"] and time.monotonic() < deadline:
            time.sleep(0.1)
        refused = c.post("/predict", json={"records": _records(1, 5)})
    assert refused.status_code == 503
    error = refused.json()["error"]
    assert error["code"] == "not_serving" and "lifecycle status is retired" in error["message"]
    with mlaudit.open(governed["path"], actor="root") as ws:  # shutting down flushed the log
        assert ws.predictions.count("scoring@v1") == 1
    with pytest.raises(PolicyViolation):  # and it will not start again
        create_gateway(governed["path"], "scoring@v1", actor="root")


def test_shadow_challenger_is_logged_and_compared(
    governed: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("MLAUDIT_USER", "dev")
    app = create_gateway(governed["path"], "scoring", shadow="scoring@v2", actor="root",
                         settings=make_settings(), spool_dir=tmp_path)  # fmt: skip
    records = _records(60, 7)
    with TestClient(app, base_url="https://testserver") as c:
        c.headers.update(_token(governed["path"], "dev"))
        responses = [c.post("/predict", json={"records": records[i : i + 20]}) for i in (0, 20, 40)]
        assert all(r.status_code == 200 for r in responses)
        assert all(r.json()["model"] == "scoring@v1" for r in responses)  # the challenger is not returned
        ids = [p["prediction_id"] for r in responses for p in r.json()["predictions"]]
        before = c.get("/compare").json()

        x = pd.DataFrame(records)
        pa_, pb = governed["champion"].predict(x), governed["challenger"].predict(x)
        sa_, sb = governed["champion"].predict_proba(x)[:, 1], governed["challenger"].predict_proba(x)[:, 1]
        assert 0 < np.mean(pa_ == pb) < 1  # the two models really differ
        assert before["shared"] == 60 and before["labelled"] == 0
        assert before["agreement"] == pytest.approx(np.mean(pa_ == pb))
        assert before["mean_abs_score_diff"] == pytest.approx(np.mean(np.abs(sa_ - sb)))
        assert before["champion_metrics"]["accuracy"] is None

        truth = (x["a"] + 0.5 * x["b"] > 0).astype(int).to_numpy()
        labelled = 45
        with mlaudit.open(governed["path"], actor="dev") as ws:
            assert ws.predictions.count("scoring@v2") == 60
            assert set(ws.predictions.scan("scoring@v2").column("prediction_id").to_pylist()) == set(ids)
            pairs = zip(ids[:labelled], truth[:labelled], strict=True)
            ws.predictions.log_labels("scoring", [{"prediction_id": i, "label": int(y)} for i, y in pairs])
        after = c.get("/compare").json()
    y = truth[:labelled]
    assert after["labelled"] == labelled
    assert after["champion_metrics"]["accuracy"] == pytest.approx(accuracy_score(y, pa_[:labelled]))
    assert after["challenger_metrics"]["accuracy"] == pytest.approx(accuracy_score(y, pb[:labelled]))
    assert after["champion_metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y, sa_[:labelled]))
    assert after["challenger_metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y, sb[:labelled]))
    # the CLI gives the same numbers
    capsys.readouterr()
    code = main(["gateway", "compare", "scoring@v1", "scoring@v2", "-w", str(governed["path"]), "--json"])
    assert code == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["agreement"] == pytest.approx(after["agreement"]) and cli["labelled"] == labelled
    assert cli["challenger_metrics"] == pytest.approx(after["challenger_metrics"])


def test_logged_predictions_reach_a_monitor_window(governed: dict[str, Any], tmp_path: Path) -> None:
    app = create_gateway(
        governed["path"], "scoring", actor="root", settings=make_settings(), spool_dir=tmp_path
    )
    with TestClient(app, base_url="https://testserver") as c:
        c.headers.update(_token(governed["path"], "dev"))
        with mlaudit.open(governed["path"], actor="dev") as ws:
            ws.monitors.create("scoring-10", "scoring@v1", reference="applicants@v1",
                               window={"kind": "count", "size": 10})  # fmt: skip
        sent = [c.post("/predict", json={"records": _records(n, 20 + n)}) for n in (7, 8, 10)]
        assert all(r.status_code == 200 for r in sent)
        assert app.state.gateway.writer.flush(20)
    with mlaudit.open(governed["path"], actor="dev") as ws:
        run = ws.monitors.run("scoring-10")
        assert [w.rows for w in run.stored] == [10, 10]  # 25 served: two complete windows of 10
        assert ws.predictions.count("scoring@v1") == 25


def test_writer_retries_a_failed_flush_and_spools_on_shutdown(
    governed: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlaudit.monitor.predictions import PredictionLog

    real = PredictionLog.log
    calls = {"n": 0}

    def flaky(self: Any, ref: str, records: Any, *, batch_key: str | None = None) -> Any:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OSError("database is away")
        return real(self, ref, records, batch_key=batch_key)

    rows = [{"prediction_id": "r1", "a": 0.1, "b": "sha256:00", "email": "sha256:11", "prediction": 1}]
    with mlaudit.open(governed["path"], actor="root") as ws:
        writer = PredictionWriter(ws.store, spool_dir=tmp_path / "spool", retry_base=0.01)
        monkeypatch.setattr(PredictionLog, "log", flaky)
        writer.start()
        writer.submit(Job("scoring@v1", "dev", "retry-1", records=rows))
        assert writer.flush(10)
        writer.close()
        assert writer.stats.retries == 2 and writer.stats.written == 1 and writer.stats.spooled == 0
        assert ws.predictions.count("scoring@v1") == 1

        def broken(self: Any, ref: str, records: Any, *, batch_key: str | None = None) -> Any:
            raise OSError("still away")

        monkeypatch.setattr(PredictionLog, "log", broken)
        dead = PredictionWriter(ws.store, spool_dir=tmp_path / "spool", retry_base=0.01)
        dead.start()
        dead.submit(Job("scoring@v1", "dev", "lost-1", records=[rows[0] | {"prediction_id": "r2"}]))
        dead.close()
    assert dead.stats.spooled == 1
    (spooled,) = dead.stats.spool_files
    text = Path(spooled).read_text()
    assert '"batch_key":"lost-1"' in text and '"prediction_id":"r2"' in text


def test_every_gateway_route_requires_a_token(client: TestClient) -> None:
    """The gateway's own route walk: each route but GATEWAY_PUBLIC_ROUTES answers 401 without
    credentials, in the one JSON error shape, also to a browser (no login page to send it to)."""
    from fastapi.routing import APIRoute, iter_route_contexts

    from mlaudit.server.gateway import GATEWAY_PUBLIC_ROUTES

    walked = 0
    for route in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        if not isinstance(route.original_route, APIRoute):
            continue
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method, route.path) in GATEWAY_PUBLIC_ROUTES:
                continue
            kwargs: dict[str, Any] = {"json": {}} if method == "POST" else {}
            for accept in ("application/json", "text/html"):
                answer = client.request(method, route.path, headers={"Authorization": "", "Accept": accept},
                                        follow_redirects=False, **kwargs)  # fmt: skip
                assert answer.status_code == 401, (method, route.path, accept, answer.status_code)
                assert answer.json()["error"]["code"] == "unauthenticated"
            walked += 1
    assert walked >= 2  # /predict and /compare at least
