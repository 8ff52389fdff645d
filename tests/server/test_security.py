"""Security hygiene: headers, Host and CORS settings, body size limit, no path from a request,
the one error shape, safe redirects after login."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from server_helpers import PASSWORD, make_settings

from mlaudit.server import create_app


def _client(app: Any, **kwargs: Any) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False, **kwargs)


@pytest.mark.parametrize("path", ["/login", "/api/v1/auth/me", "/static/app.css", "/healthz"])
def test_security_headers_everywhere(app: Any, path: str) -> None:
    headers = _client(app).get(path).headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["strict-transport-security"].startswith("max-age=")  # https base URL
    assert len(headers["x-request-id"]) == 16
    if not path.startswith("/static/"):
        assert headers["cache-control"] == "no-store"
    assert "server" not in {k.lower() for k in headers if headers[k].startswith("uvicorn")}


def test_unknown_host_header_is_refused(server_ws: Path) -> None:
    app = create_app(server_ws, settings=make_settings(allowed_hosts=["audit.example.com"]))
    assert _client(app).get("/healthz").status_code == 400
    good = TestClient(app, base_url="https://audit.example.com")
    assert good.get("/healthz").status_code == 200


def test_cors_is_closed_unless_configured(server_ws: Path, app: Any) -> None:
    origin = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    response = _client(app).options("/api/v1/ledger/events", headers=origin)
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in _client(app).get("/healthz", headers=origin).headers
    opened = create_app(server_ws, settings=make_settings(cors_origins=["https://dash.example"]))
    allowed = _client(opened).options(
        "/api/v1/ledger/events", headers={**origin, "Origin": "https://dash.example"}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://dash.example"
    refused = _client(opened).options("/api/v1/ledger/events", headers=origin)
    assert "access-control-allow-origin" not in refused.headers


def test_body_size_limit(server_ws: Path) -> None:
    app = create_app(server_ws, settings=make_settings(upload_max_mb=0.01))
    response = _client(app).post("/api/v1/auth/login", content=b"x" * 20_000,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    bogus = _client(app).post("/api/v1/auth/login", content=b"{}", headers={"Content-Length": "-1"})
    assert bogus.status_code in (400, 413)


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2f..%2fetc%2fpasswd",
        "/static//etc/passwd",
        "/static/plotly.min.js/../../../../etc/passwd",
    ],
)
def test_static_files_cannot_escape_their_folder(app: Any, path: str) -> None:
    response = _client(app).get(path)
    assert response.status_code in (400, 404)
    assert "root:" not in response.text


def test_request_values_never_become_paths(login: Any) -> None:
    client = login("viewer")
    for name in ("..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "credit%00", "..", "a" * 300):
        response = client.get(f"/api/v1/models/{name}")
        assert response.status_code in (404, 422), (name, response.status_code)
        assert "root:" not in response.text


def test_one_error_shape_for_framework_errors(app: Any, login: Any) -> None:
    client = login("viewer")
    for response, status in [
        (client.get("/api/v1/no-such-route"), 404),
        (client.delete("/api/v1/ledger/events"), 405),
        (client.get("/api/v1/ledger/events", params={"limit": 0}), 422),
        (client.get("/api/v1/ledger/events", params={"after": "abc"}), 422),
        (
            client.post(
                "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
            ),
            422,
        ),
    ]:
        assert response.status_code == status
        error = response.json()["error"]
        assert error["status"] == status and error["message"] and error["request_id"]


def test_login_redirects_only_to_this_site(app: Any) -> None:
    client = _client(app)
    for target, expected in [("/models/credit", "/models/credit"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/"), ("/\\evil.example", "/")]:  # fmt: skip
        page = client.get("/login", params={"next": target})
        assert f'name="next" value="{expected}"' in page.text, target
        done = client.post("/login", data={"user": "viewer", "password": PASSWORD, "next": target})
        assert done.status_code == 303 and done.headers["location"] == expected, target
