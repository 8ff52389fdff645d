"""Deny by default, enforced for every route of the app: a new route cannot ship open.

The walk enumerates ``app.routes``. Every route must be in ``PUBLIC_ROUTES`` or declare its
permission through ``allow(action)`` (or ``authenticated()`` for the caller's own session and
tokens). Each guarded route is then called for real: without credentials (401, or a redirect to
the login page for pages), as a user with no role (403), as a user whose roles do not include the
action (403), and as a user whose role does (neither 401 nor 403).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from server_helpers import PASSWORD
from starlette.routing import Mount

import mlaudit
from mlaudit.governance.permissions import PERMISSIONS, ROLES
from mlaudit.server import PUBLIC_ROUTES
from mlaudit.server.deps import ACTION_ATTR

SAMPLE = {
    "name": "credit",
    "number": "1",
    "seq": "1",
    "node": "model:credit@v1",
    "path": "app.css",
    "role": "viewer",
}


def _action(dependant: Any) -> str | None:
    """The permission a route declares, found anywhere in its dependency tree."""
    for sub in dependant.dependencies:
        found = getattr(sub.call, ACTION_ATTR, None) or _action(sub)
        if found:
            return str(found)
    return None


def _routes(app: Any) -> list[tuple[str, str, str | None]]:
    """(method, path, action) of every route, routers included (FastAPI's own flattening)."""
    out = []
    for route in iter_route_contexts(app.routes):
        original = route.original_route
        if isinstance(original, Mount):
            assert ("GET", f"{route.path}/{{path:path}}") in PUBLIC_ROUTES, (
                f"mount {route.path} is not public"
            )
            continue
        if not isinstance(original, APIRoute):
            # the OpenAPI schema route is Starlette's own; anything else must be declared public
            assert ("GET", route.path) in PUBLIC_ROUTES, f"undeclared route {route.path}"
            continue
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((method, str(route.path), _action(route.dependant)))
    return out


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLE.get(m.group(1), "x0"), path)


def _client(app: Any, user: str | None) -> TestClient:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    if user is not None:
        response = client.post("/api/v1/auth/login", json={"user": user, "password": PASSWORD})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def _call(client: TestClient, method: str, path: str) -> Any:
    kwargs: dict[str, Any] = {}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    return client.request(method, _concrete(path), **kwargs)


def test_every_route_is_public_by_declaration_or_guarded(app: Any) -> None:
    routes = _routes(app)
    assert len(routes) >= 10
    seen_public = set()
    for method, path, action in routes:
        if (method, path) in PUBLIC_ROUTES:
            seen_public.add((method, path))
            continue
        assert action is not None, f"{method} {path} declares no permission (use deps.allow)"
        assert action == "self" or action in PERMISSIONS, f"{method} {path}: unknown action {action}"
    static = {("GET", "/static/{path:path}"), ("GET", "/openapi.json")}
    assert seen_public | static == set(PUBLIC_ROUTES) | static, (
        "a public route was removed: update PUBLIC_ROUTES"
    )


def test_walk_every_guarded_route_for_real(app: Any, server_ws: Path) -> None:
    with mlaudit.open(server_ws, actor="root") as ws:
        ws.access.add_user("norole")
        ws.credentials.set_password("norole", PASSWORD)
    anonymous = _client(app, None)
    clients = {name: _client(app, name) for name in ("norole", *ROLES)}
    walked = 0
    for method, path, action in _routes(app):
        if (method, path) in PUBLIC_ROUTES or action is None:
            continue
        where = f"{method} {path} ({action})"
        response = _call(anonymous, method, path)
        if path.startswith("/api/"):
            assert response.status_code == 401, where
            assert response.json()["error"]["code"] == "unauthenticated", where
        else:
            assert response.status_code in (401, 303), where
            if response.status_code == 303:
                assert response.headers["location"].startswith("/login"), where
        if action == "self":  # the caller's own session and tokens: any logged-in user
            caller = _client(app, "norole") if "logout" in path else clients["norole"]
            assert _call(caller, method, path).status_code not in (401, 403), where
            walked += 1
            continue
        assert _call(clients["norole"], method, path).status_code == 403, f"{where} as a user without roles"
        for role in ROLES:
            got = _call(clients[role], method, path).status_code
            if role in PERMISSIONS[action]:
                assert got not in (401, 403), f"{where} refused {role}: {got}"
            else:
                assert got == 403, f"{where} allowed {role}: {got}"
        walked += 1
    assert walked >= 10


@pytest.mark.parametrize("path", ["/api/v1/ledger/events", "/"])
def test_a_disabled_user_is_refused_everywhere(app: Any, server_ws: Path, path: str) -> None:
    client = _client(app, "auditor")
    with mlaudit.open(server_ws, actor="root") as ws:
        ws.access.disable_user("auditor")
    assert client.get(path).status_code in (401, 303)
