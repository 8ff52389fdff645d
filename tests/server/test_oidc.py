"""Single sign-on with OpenID Connect against a real (small) identity provider on 127.0.0.1:
authorization code + PKCE, ID-token signature/issuer/audience/expiry/nonce checks, one-time
state, users mapped to existing mlaudit users only."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.testclient import TestClient
from server_helpers import LiveServer, make_settings

import mlaudit
from mlaudit.server import create_app

CLIENT_ID, CLIENT_SECRET = "mlaudit", "client-secret-for-tests"


class Provider:
    """An OpenID provider: discovery, authorize (the browser is already logged in as ``user``),
    token (client secret + PKCE checked), JWKS. ``mode`` breaks one thing on purpose."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.user = "val"
        self.mode = "ok"
        self.codes: dict[str, dict[str, str]] = {}
        self.app = self._app()
        self.url = ""

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, str]:
            return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks"}  # fmt: skip

        @app.get("/authorize")
        def authorize(request: Request) -> Any:
            q = request.query_params
            assert q["client_id"] == CLIENT_ID and q["response_type"] == "code"
            assert q["code_challenge_method"] == "S256" and "openid" in q["scope"]
            if self.mode == "deny":
                return RedirectResponse(
                    f"{q['redirect_uri']}?{urlencode({'error': 'access_denied', 'state': q['state']})}"
                )
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "nonce": q["nonce"],
                "challenge": q["code_challenge"],
                "redirect": q["redirect_uri"],
            }
            return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}")

        @app.post("/token")
        def token(request: Request, code: str = Form(...), code_verifier: str = Form(...),
                  redirect_uri: str = Form(...), grant_type: str = Form(...)) -> Any:  # fmt: skip
            auth = base64.b64decode(request.headers["authorization"].split()[1]).decode()
            grant = self.codes.pop(code, None)
            if auth != f"{CLIENT_ID}:{CLIENT_SECRET}" or grant is None or grant["redirect"] != redirect_uri:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            digest = hashlib.sha256(code_verifier.encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=")
            if challenge.decode() != grant["challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
            now = int(time.time())
            claims = {"iss": self.url, "aud": CLIENT_ID, "sub": f"id-{self.user}",
                      "preferred_username": self.user, "nonce": grant["nonce"], "iat": now,
                      "exp": now + 300}  # fmt: skip
            key = self.key
            if self.mode == "wrong_aud":
                claims["aud"] = "someone-else"
            elif self.mode == "expired":
                claims["iat"], claims["exp"] = now - 900, now - 600
            elif self.mode == "wrong_nonce":
                claims["nonce"] = "not-the-one"
            elif self.mode == "bad_signature":
                key = self.other_key
            signed = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
            return {"access_token": "opaque", "token_type": "Bearer", "id_token": signed}

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}

        return app


@pytest.fixture
def provider() -> Any:
    idp = Provider()
    with LiveServer(idp.app) as live:
        idp.url = live.url
        yield idp


@pytest.fixture
def sso_app(server_ws: Path, provider: Provider) -> Any:
    settings = make_settings(
        oidc_issuer=provider.url, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET
    )
    return create_app(server_ws, settings=settings)


def _sign_on(app: Any, next_path: str = "/") -> tuple[TestClient, Any]:
    """Browser steps: start at mlaudit, follow the provider's redirect, come back."""
    browser = TestClient(app, base_url="https://testserver", follow_redirects=False)
    start = browser.get("/login/oidc", params={"next": next_path})
    assert start.status_code == 303
    back = httpx.get(start.headers["location"], follow_redirects=False)
    assert back.status_code in (302, 303, 307)
    parts = urlsplit(back.headers["location"])
    assert parts.path == "/login/oidc/callback"
    return browser, browser.get(f"{parts.path}?{parts.query}")


def test_single_sign_on_logs_an_existing_user_in(sso_app: Any, server_ws: Path) -> None:
    page = TestClient(sso_app, base_url="https://testserver").get("/login")
    assert "Log in with single sign-on" in page.text
    browser, done = _sign_on(sso_app, "/ledger")
    assert done.status_code == 303 and done.headers["location"] == "/ledger"
    assert "mlaudit_session=" in done.headers["set-cookie"]
    me = browser.get("/api/v1/auth/me").json()
    assert me["user"] == "val" and me["roles"] == ["validator"]  # roles come from mlaudit
    with mlaudit.open(server_ws, actor="root") as ws:
        logins = ws.credentials.events(kind="login")
        assert next((e["user_name"], e["detail"]) for e in logins) == ("val", "oidc")


def test_the_callback_cannot_be_replayed(sso_app: Any, provider: Provider) -> None:
    browser = TestClient(sso_app, base_url="https://testserver", follow_redirects=False)
    start = browser.get("/login/oidc")
    callback = urlsplit(httpx.get(start.headers["location"], follow_redirects=False).headers["location"])
    url = f"{callback.path}?{callback.query}"
    assert browser.get(url).status_code == 303
    again = browser.get(url)
    assert again.status_code == 401 and "unknown, used or expired" in again.json()["error"]["message"]
    forged = browser.get("/login/oidc/callback", params={"state": "made-up", "code": "x"})
    assert forged.status_code == 401


@pytest.mark.parametrize(
    ("mode", "status", "text"),
    [
        ("bad_signature", 401, "not valid"),
        ("wrong_aud", 401, "not valid"),
        ("expired", 401, "not valid"),
        ("wrong_nonce", 401, "nonce"),
        ("deny", 401, "access_denied"),
    ],
)
def test_bad_id_tokens_are_refused(
    sso_app: Any, provider: Provider, mode: str, status: int, text: str
) -> None:
    provider.mode = mode
    browser, done = _sign_on(sso_app)
    assert done.status_code == status and text in done.json()["error"]["message"], done.text
    assert "set-cookie" not in done.headers
    assert browser.get("/api/v1/auth/me").status_code == 401


def test_unknown_or_disabled_users_are_refused(sso_app: Any, provider: Provider, server_ws: Path) -> None:
    provider.user = "mallory"
    _, done = _sign_on(sso_app)
    assert done.status_code == 403 and "not an enabled mlaudit user" in done.json()["error"]["message"]
    with mlaudit.open(server_ws, actor="root") as ws:
        ws.access.disable_user("appr")
    provider.user = "appr"
    assert _sign_on(sso_app)[1].status_code == 403


def test_sso_is_off_unless_configured(app: Any) -> None:
    client = TestClient(app, base_url="https://testserver")
    assert "single sign-on" not in client.get("/login").text
    assert client.get("/login/oidc").status_code == 404
