"""``/api/v1/models``: list, detail, versions, documentation facts, lifecycle history."""

from __future__ import annotations

from api_helpers import api_template, assert_error, server_ws  # noqa: F401


def test_list_paginates(login) -> None:
    client = login("viewer")
    page = client.get("/api/v1/models").json()
    assert page["total"] == 2 and [m["name"] for m in page["items"]] == ["churn", "credit"]
    assert page["items"][0]["latest"]["ref"] == "churn@v1" and page["items"][0]["tier"] is None
    second = client.get("/api/v1/models?offset=1&limit=1").json()
    assert [m["name"] for m in second["items"]] == ["credit"] and second["total"] == 2
    assert second["offset"] == 1 and second["limit"] == 1
    assert client.get("/api/v1/models?offset=5").json()["items"] == []


def test_detail_version_and_404(login) -> None:
    client = login("auditor")
    detail = client.get("/api/v1/models/credit").json()
    assert detail["status"] == "draft" and detail["latest"] == "credit@v1" and detail["tier"] is None
    assert detail["versions"][0]["features"] == ["a", "b"] and detail["facts"] == {}
    version = client.get("/api/v1/models/credit/versions/1").json()
    assert version["trained_on"][0].startswith("dataset:train@") and version["actor"] == "dev"
    assert_error(client.get("/api/v1/models/nope"), 404, "not_found", "nope")
    assert_error(client.get("/api/v1/models/credit/versions/7"), 404)
    assert_error(client.get("/api/v1/models/credit/versions/abc"), 422, "invalid_input")


def test_describe(login) -> None:
    dev = login("dev")
    r = dev.post("/api/v1/models/credit/describe", json={"purpose": "score credit", "users": "analysts"})
    assert r.status_code == 200, r.text
    assert r.json()["purpose"]["value"] == "score credit" and r.json()["users"]["actor"] == "dev"
    r = dev.post("/api/v1/models/credit/describe", json={"users": None})
    assert set(r.json()) == {"purpose"}
    assert_error(dev.post("/api/v1/models/credit/describe", json={"colour": "blue"}), 422)
    assert_error(dev.post("/api/v1/models/nope/describe", json={"purpose": "x"}), 404)
    assert_error(login("viewer").post("/api/v1/models/credit/describe", json={"purpose": "x"}), 403)
    facts = login("viewer").get("/api/v1/models/credit").json()["facts"]
    assert facts["purpose"]["value"] == "score credit"


def test_describe_idempotent(login) -> None:
    dev = login("dev")
    headers = {"Idempotency-Key": "d-1"}
    first = dev.post("/api/v1/models/credit/describe", json={"purpose": "a"}, headers=headers)
    again = dev.post("/api/v1/models/credit/describe", json={"purpose": "a"}, headers=headers)
    assert again.headers["Idempotent-Replay"] == "true" and again.json() == first.json()
    assert_error(dev.post("/api/v1/models/credit/describe", json={"purpose": "b"}, headers=headers), 422)


def test_history_at(login) -> None:
    dev = login("dev")
    r = dev.post(
        "/api/v1/models/credit/versions/1/transitions", json={"to": "in_validation", "reason": "ready"}
    )
    assert r.status_code == 201, r.text
    history = dev.get("/api/v1/models/credit/history").json()
    (t,) = history["transitions"]
    assert (t["from_status"], t["to_status"], t["reason"], t["actor"]) == (
        "draft",
        "in_validation",
        "ready",
        "dev",
    )
    at = dev.get("/api/v1/models/credit/history", params={"at": "2020-01-01T00:00:00Z"}).json()
    assert at["deployed_at"] is None and at["at"].startswith("2020-01-01")
    assert_error(dev.get("/api/v1/models/credit/history?at=yesterday"), 422)
    assert_error(dev.get("/api/v1/models/nope/history"), 404)
