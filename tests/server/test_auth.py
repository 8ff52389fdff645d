"""Authentication: logins and their rate limit, sessions (cookie flags, fixation, logout,
password change), CSRF, API tokens (scope, expiry, revocation, never stored) and the security log."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from server_helpers import PASSWORD, make_settings

import mlaudit
from mlaudit.server import create_app
from mlaudit.store.tables import api_tokens, auth_events, sessions


def _client(app: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver")


def _cookie(response: Any) -> str:
    """The session cookie value a response set."""
    header = response.headers["set-cookie"]
    assert header.startswith("mlaudit_session="), header
    return str(header.split(";", 1)[0].split("=", 1)[1])


def _with_cookie(app: Any, value: str) -> TestClient:
    client = _client(app)
    client.headers["Cookie"] = f"mlaudit_session={value}"
    return client


def _events(path: Path, kind: str) -> list[Any]:
    with mlaudit.open(path) as ws, ws.store.read() as conn:
        return conn.execute(sa.select(auth_events).where(auth_events.c.kind == kind)).all()


def test_login_sets_a_hardened_cookie_and_returns_the_csrf_token(app: Any, server_ws: Path) -> None:
    client = _client(app)
    response = client.post("/api/v1/auth/login", json={"user": "validator", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("mlaudit_session=")
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag.lower() in cookie.lower(), flag
    body = response.json()
    assert body["user"] == "validator" and len(body["csrf_token"]) >= 40
    me = client.get("/api/v1/auth/me").json()
    assert me == {"user": "validator", "via": "session", "roles": ["validator"], "scopes": ["admin"]}
    # the database holds a hash of the session id, not the cookie value
    value = client.cookies["mlaudit_session"]
    with mlaudit.open(server_ws) as ws, ws.store.read() as conn:
        ids = set(conn.execute(sa.select(sessions.c.id)).scalars())
    assert value not in ids and hashlib.sha256(value.encode()).hexdigest() in ids
    assert [e.user_name for e in _events(server_ws, "login")] == ["validator"]


@pytest.mark.parametrize("user", ["validator", "nobody-at-all"])
def test_wrong_password_and_unknown_user_get_the_same_answer(app: Any, server_ws: Path, user: str) -> None:
    response = _client(app).post("/api/v1/auth/login", json={"user": user, "password": "wrong password!"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "login_failed" and error["message"] == "wrong user name or password"
    assert "set-cookie" not in response.headers
    assert [e.user_name for e in _events(server_ws, "login_failed")] == [user]


def test_logins_are_rate_limited_per_user_and_per_client(server_ws: Path) -> None:
    app = create_app(server_ws, settings=make_settings(login_max_failures=3))
    client = _client(app)
    for _ in range(3):
        assert client.post("/api/v1/auth/login", json={"user": "val", "password": "nope"}).status_code == 401
    throttled = client.post("/api/v1/auth/login", json={"user": "val", "password": PASSWORD})
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert throttled.json()["error"]["code"] == "rate_limited"
    # the same client is throttled for other names too (3 failures from it), a fresh one is not
    # — failures are counted in the database, so a second server process sees them as well
    other_process = create_app(server_ws, settings=make_settings(login_max_failures=3))
    assert (
        _client(other_process)
        .post("/api/v1/auth/login", json={"user": "appr", "password": PASSWORD})
        .status_code
        == 429
    )  # TestClient always reports the same client address
    assert len(_events(server_ws, "login_throttled")) == 2
    relaxed = create_app(server_ws, settings=make_settings(login_max_failures=10))
    assert (
        _client(relaxed).post("/api/v1/auth/login", json={"user": "val", "password": PASSWORD}).status_code
        == 200
    )


def test_session_fixation_logout_and_password_change(app: Any, server_ws: Path) -> None:
    login = {"user": "val", "password": PASSWORD}
    planted = _with_cookie(app, "planted-by-an-attacker")
    first = _cookie(planted.post("/api/v1/auth/login", json=login))
    assert first != "planted-by-an-attacker"
    # logging in again from a live session gives a new id and closes the old one
    second = _cookie(_with_cookie(app, first).post("/api/v1/auth/login", json=login))
    assert second != first
    assert _with_cookie(app, first).get("/api/v1/auth/me").status_code == 401
    assert _with_cookie(app, second).get("/api/v1/auth/me").json()["user"] == "val"
    # logout ends the session on the server, not only in the browser
    response = _client(app).post("/api/v1/auth/login", json=login)
    third, csrf = _cookie(response), response.json()["csrf_token"]
    assert (
        _with_cookie(app, third).post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code
        == 204
    )
    assert _with_cookie(app, third).get("/api/v1/auth/me").status_code == 401
    # a password change (by an admin) ends every session of that user
    fourth = _cookie(_client(app).post("/api/v1/auth/login", json=login))
    assert _with_cookie(app, fourth).get("/api/v1/auth/me").status_code == 200
    with mlaudit.open(server_ws, actor="root") as ws:
        ws.credentials.set_password("val", "another long password")
    assert _with_cookie(app, fourth).get("/api/v1/auth/me").status_code == 401
    # and a disabled user's sessions stop working, and they cannot log in again
    appr = {"user": "appr", "password": PASSWORD}
    fifth = _cookie(_client(app).post("/api/v1/auth/login", json=appr))
    with mlaudit.open(server_ws, actor="root") as ws:
        ws.access.disable_user("appr")
    assert _with_cookie(app, fifth).get("/api/v1/auth/me").status_code == 401
    assert _client(app).post("/api/v1/auth/login", json=appr).status_code == 401


def test_csrf_is_required_for_cookie_writes_only(app: Any, login: Any, token_client: Any) -> None:
    client = login("contributor")
    good = client.headers.pop("X-CSRF-Token")
    missing = client.post("/api/v1/ledger/checkpoints")
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf_failed"
    wrong = client.post("/api/v1/ledger/checkpoints", headers={"X-CSRF-Token": good[:-2] + "xx"})
    assert wrong.status_code == 403
    assert client.post("/api/v1/ledger/checkpoints", headers={"X-CSRF-Token": good}).status_code == 201
    assert client.get("/api/v1/ledger/events").status_code == 200  # reads need no token
    # a bearer token is not sent by browsers on their own: no CSRF token needed
    assert token_client("contributor", ["write"]).post("/api/v1/ledger/checkpoints").status_code == 201


def test_tokens_scope_expiry_revocation(app: Any, server_ws: Path, login: Any) -> None:
    client = login("contributor")
    made = client.post("/api/v1/tokens", json={"name": "ci", "scopes": ["read"], "days": 30})
    assert made.status_code == 201
    secret, token_id = made.json()["token"], made.json()["id"]
    assert secret.startswith(f"mla_{token_id}_")
    listed = client.get("/api/v1/tokens").json()
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]
    with mlaudit.open(server_ws) as ws, ws.store.read() as conn:
        stored = conn.execute(sa.select(api_tokens)).all()
    assert all(secret not in str(tuple(r)) for r in stored)  # only a hash is kept
    bearer = _client(app)
    bearer.headers["Authorization"] = f"Bearer {secret}"
    assert bearer.get("/api/v1/auth/me").json()["via"] == "token"
    assert bearer.get("/api/v1/ledger/events").status_code == 200
    denied = bearer.post("/api/v1/ledger/checkpoints")  # the contributor may, the read token not
    assert denied.status_code == 403 and "scopes: read" in denied.json()["error"]["message"]
    assert bearer.post("/api/v1/tokens", json={"name": "escalate", "scopes": ["admin"]}).status_code == 403
    # expiry: push it into the past in the database
    with mlaudit.open(server_ws) as ws, ws.store.engine.begin() as conn:
        conn.execute(
            sa.update(api_tokens).where(api_tokens.c.id == token_id).values(expires="2020-01-01T00:00:00Z")
        )
    expired = bearer.get("/api/v1/auth/me")
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["www-authenticate"]
    # revocation
    second = client.post("/api/v1/tokens", json={"name": "ci2", "scopes": ["write"]}).json()
    bearer.headers["Authorization"] = f"Bearer {second['token']}"
    assert bearer.post("/api/v1/ledger/checkpoints").status_code == 201
    assert client.delete(f"/api/v1/tokens/{second['id']}").json()["revoked"]
    assert bearer.get("/api/v1/auth/me").status_code == 401
    for junk in ("Bearer nonsense", "Bearer mla_x_y", "Basic dXNlcjpwYXNz", "Bearer "):
        bearer.headers["Authorization"] = junk
        assert bearer.get("/api/v1/auth/me").status_code == 401, junk


def test_a_token_never_exceeds_its_users_roles(token_client: Any) -> None:
    viewer = token_client("viewer", ["admin"])
    response = viewer.post("/api/v1/ledger/checkpoints")
    assert response.status_code == 403 and "viewer" in response.json()["error"]["message"]
    assert viewer.get("/api/v1/ledger/events").status_code == 200


def test_token_rules(server_ws: Path) -> None:
    with mlaudit.open(server_ws, actor="dev") as ws:
        for kwargs, message in [
            ({"days": 0}, "1 to 365 days"),
            ({"days": 400}, "1 to 365 days"),
            ({"scopes": ["root"]}, "unknown token scope"),
        ]:
            with pytest.raises(mlaudit.InputError, match=message):
                ws.credentials.create_token("x", **kwargs)
        with pytest.raises(mlaudit.PermissionDenied):
            ws.credentials.create_token("for-someone-else", user="val")
        with pytest.raises(mlaudit.PermissionDenied):
            ws.credentials.set_password("val", "a long enough password")
        with pytest.raises(mlaudit.InputError, match="at least 12"):
            ws.credentials.set_password("dev", "short")
        assert [e.action for e in ws.ledger.log(action="token.*")] == []
        secret, token = ws.credentials.create_token("mine", scopes=["read", "write"])
        events = ws.ledger.log(action="token.created")
        assert len(events) == 1 and secret not in events[0].payload and token.id in events[0].payload


def test_denials_are_in_the_security_log(login: Any, server_ws: Path) -> None:
    viewer = login("viewer")
    assert viewer.post("/api/v1/ledger/checkpoints").status_code == 403
    denied = _events(server_ws, "denied")
    assert [(e.user_name, e.detail) for e in denied] == [
        ("viewer", "POST /api/v1/ledger/checkpoints: ledger.checkpoint")
    ]
    with mlaudit.open(server_ws, actor="root") as ws:
        assert ws.credentials.events(kind="denied")[0]["user_name"] == "viewer"
    with mlaudit.open(server_ws, actor="viewer") as ws, pytest.raises(mlaudit.PermissionDenied):
        ws.credentials.events()
