"""The prediction log through the API: batches, labels, the summary."""

from __future__ import annotations

from api_helpers import api_template, assert_error, server_ws  # noqa: F401

URL = "/api/v1/models/credit/versions/1/predictions"
RECORDS = [{"prediction_id": f"p{i}", "a": 0.1 * i, "b": -0.2 * i, "prediction": i % 2} for i in range(5)]


def test_log_predictions_labels_summary(login) -> None:
    dev = login("dev")
    r = dev.post(URL, json={"records": RECORDS}, headers={"Idempotency-Key": "batch-1"})
    assert r.status_code == 201, r.text
    assert (r.json()["rows"], r.json()["batch_key"], r.json()["kind"]) == (5, "batch-1", "predictions")
    again = dev.post(URL, json={"records": RECORDS}, headers={"Idempotency-Key": "batch-1"})
    assert again.headers["Idempotent-Replay"] == "true" and again.json()["id"] == r.json()["id"]
    labels = [{"prediction_id": "p0", "label": 0}, {"prediction_id": "p1", "label": 1}]
    r = dev.post("/api/v1/models/credit/labels", json={"records": labels})
    assert r.status_code == 201 and r.json()["kind"] == "labels" and r.json()["version_id"] is None
    summary = login("viewer").get("/api/v1/models/credit/predictions/summary").json()
    assert (summary["predictions"], summary["labelled"], summary["batches"]) == (5, 2, 1)
    assert summary["labelled_fraction"] == 0.4


def test_errors_and_permissions(login) -> None:
    dev = login("dev")
    assert_error(dev.post(URL, json={"records": []}), 422)
    assert_error(dev.post(URL, json={"records": "/etc/passwd"}), 422)
    assert_error(dev.post(URL, json={"records": [{"prediction_id": "x", "a": 1.0}]}), 422, text="b")
    assert_error(dev.post("/api/v1/models/credit/versions/5/predictions", json={"records": RECORDS}), 404)
    assert_error(dev.get("/api/v1/models/nope/predictions/summary"), 404)
    assert_error(login("validator").post(URL, json={"records": RECORDS}), 403)
    assert_error(dev.post(URL, json={"records": RECORDS}, headers={"Idempotency-Key": "k" * 300}), 422)
