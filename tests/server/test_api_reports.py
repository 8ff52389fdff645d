"""``POST /api/v1/models/{name}/versions/{number}/documents``: generated, ledgered, returned."""

from __future__ import annotations

import hashlib

from api_helpers import api_template, assert_error, server_ws  # noqa: F401

URL = "/api/v1/models/credit/versions/1/documents"


def test_generate_card_and_validation(login) -> None:
    val = login("val")
    r = val.post(URL, json={"kind": "card"})
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-disposition"] == 'attachment; filename="credit-v1-card.html"'
    assert r.headers["x-document-digest"] == "sha256:" + hashlib.sha256(r.content).hexdigest()
    event = val.get("/api/v1/ledger/events", params={"action": "report.generated"}).json()["items"][0]
    assert (
        event["seq"] == int(r.headers["x-ledger-seq"])
        and event["payload"]["digest"] == r.headers["x-document-digest"]
    )
    r = val.post(URL, json={"kind": "validation", "validator": "val", "opinion": "fit for use"})
    assert r.status_code == 201 and "fit for use" in r.text


def test_errors(login) -> None:
    val = login("val")
    assert_error(val.post(URL, json={"kind": "datasheet"}), 422)
    assert_error(val.post(URL, json={"kind": "card", "path": "/tmp/x.html"}), 422)
    assert_error(val.post("/api/v1/models/credit/versions/3/documents", json={"kind": "card"}), 404)
    assert_error(login("viewer").post(URL, json={"kind": "card"}), 403)
