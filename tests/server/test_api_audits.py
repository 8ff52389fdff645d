"""``/api/v1/models/{name}/audits`` and ``/api/v1/audits/{id}``: stored audit reports."""

from __future__ import annotations

from api_helpers import api_template, assert_error, server_ws  # noqa: F401


def test_list_get_and_render(login) -> None:
    client = login("auditor")
    page = client.get("/api/v1/models/credit/audits").json()
    assert page["total"] == 1
    (item,) = page["items"]
    assert (item["ref"], item["suite"], item["status"], item["actor"]) == (
        "credit@v1",
        "quick",
        "pass",
        "val",
    )
    assert client.get("/api/v1/models/credit/audits?status=fail").json()["total"] == 0
    assert client.get("/api/v1/models/churn/audits").json()["items"] == []
    one = client.get(f"/api/v1/audits/{item['id']}").json()
    assert one["document"]["kind"] == "audit_report" and one["id"] == item["id"]
    html = client.get(f"/api/v1/audits/{item['id']}/report")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "credit@v1" in html.text
    md = client.get(f"/api/v1/audits/{item['id']}/report", params={"format": "md"})
    assert md.headers["content-type"].startswith("text/markdown") and md.text.startswith("# Model audit")


def test_errors(login) -> None:
    client = login("viewer")
    assert_error(client.get("/api/v1/audits/" + "0" * 32), 404, "not_found")
    assert_error(client.get("/api/v1/audits/not-an-id"), 422, "invalid_input")
    assert_error(client.get("/api/v1/models/nope/audits"), 404)
    audit_id = client.get("/api/v1/models/credit/audits").json()["items"][0]["id"]
    assert_error(client.get(f"/api/v1/audits/{audit_id}/report?format=pdf"), 422)


def test_project_scoped_reader(login, token_client) -> None:
    """A reader of one model only may list that model's audits, not the other model's."""
    root = login("root")
    assert root.post("/api/v1/users", json={"name": "carol"}).status_code == 201
    r = root.post("/api/v1/users/carol/roles", json={"role": "viewer", "project": "churn"})
    assert r.json()["roles"] == ["viewer@churn"]
    carol = token_client("carol", scopes=["read"])
    assert carol.get("/api/v1/models/churn/audits").status_code == 200
    assert_error(carol.get("/api/v1/models/credit/audits"), 403, text="credit")
    audit_id = login("viewer").get("/api/v1/models/credit/audits").json()["items"][0]["id"]
    assert_error(carol.get(f"/api/v1/audits/{audit_id}"), 403)
