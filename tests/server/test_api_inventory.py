"""``/api/v1/inventory`` and ``/api/v1/gate/{name}``."""

from __future__ import annotations

from api_helpers import api_template, assert_error, server_ws  # noqa: F401


def test_inventory(login) -> None:
    client = login("auditor")
    page = client.get("/api/v1/inventory").json()
    assert [e["model"] for e in page["items"]] == ["churn", "credit"] and page["total"] == 2
    credit = page["items"][1]
    assert credit["latest_version"] == "credit@v1" and credit["status"] == "draft" and credit["tier"] is None
    assert credit["inputs"]["datasets"] == ["train@v1"]
    assert client.get("/api/v1/inventory?limit=1&offset=1").json()["items"][0]["model"] == "credit"
    assert_error(client.get("/api/v1/inventory?overdue=perhaps"), 422)


def test_gate(login) -> None:
    client = login("viewer")
    report = client.get("/api/v1/gate/credit").json()
    assert report["kind"] == "gate_report" and report["ref"] == "credit@v1" and report["passed"] is False
    assert report["policy"] == "default" and {r["status"] for r in report["results"]} <= {
        "pass",
        "warn",
        "fail",
        "waived",
    }
    assert client.get("/api/v1/gate/credit", params={"version": 1}).json()["ref"] == "credit@v1"
    assert_error(client.get("/api/v1/gate/credit?version=4"), 404)
    assert_error(client.get("/api/v1/gate/nope"), 404)
    assert_error(client.get("/api/v1/gate/credit?policy=/etc/passwd&version=0"), 422)
