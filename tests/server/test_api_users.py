"""``/api/v1/users``: admins manage people and role bindings."""

from __future__ import annotations

from api_helpers import api_template, assert_error, server_ws  # noqa: F401


def test_add_grant_revoke(login) -> None:
    root = login("root")
    page = root.get("/api/v1/users?limit=2").json()
    assert page["total"] == 10 and len(page["items"]) == 2
    r = root.post("/api/v1/users", json={"name": "erin", "email": "erin@example.com"})
    assert r.status_code == 201 and r.json()["roles"] == []
    r = root.post("/api/v1/users/erin/roles", json={"role": "validator", "project": "credit"})
    assert r.status_code == 201 and r.json()["roles"] == ["validator@credit"]
    root.post("/api/v1/users/erin/roles", json={"role": "viewer"})
    r = root.delete("/api/v1/users/erin/roles/validator", params={"project": "credit"})
    assert r.status_code == 200 and r.json()["roles"] == ["viewer"]
    assert root.get("/api/v1/users/erin").json()["email"] == "erin@example.com"


def test_errors(login) -> None:
    root = login("root")
    assert_error(root.post("/api/v1/users", json={"name": "dev"}), 422, text="already exists")
    assert_error(root.post("/api/v1/users", json={"name": "../x"}), 422)
    assert_error(root.post("/api/v1/users/nobody/roles", json={"role": "viewer"}), 404)
    assert_error(root.post("/api/v1/users/dev/roles", json={"role": "king"}), 422)
    assert_error(root.delete("/api/v1/users/dev/roles/auditor"), 404)
    assert_error(root.get("/api/v1/users/nobody"), 404)


def test_only_admins(login) -> None:
    for user in ("viewer", "validator", "auditor"):
        client = login(user)
        assert_error(client.get("/api/v1/users"), 403)
        assert_error(client.post("/api/v1/users", json={"name": "mallory"}), 403)
    assert_error(login("dev").post("/api/v1/users/dev/roles", json={"role": "admin"}), 403)


def test_idempotent(login) -> None:
    root = login("root")
    headers = {"Idempotency-Key": "u-1"}
    first = root.post("/api/v1/users", json={"name": "frank"}, headers=headers)
    again = root.post("/api/v1/users", json={"name": "frank"}, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replay"] == "true"
    assert_error(
        root.post("/api/v1/users", json={"name": "grace"}, headers=headers), 422, "idempotency_key_reused"
    )
