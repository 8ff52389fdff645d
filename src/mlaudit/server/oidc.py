"""Single sign-on with OpenID Connect (authorization code flow with PKCE), configured by settings.

``GET /login/oidc`` sends the browser to the identity provider with a fresh ``state``, ``nonce``
and PKCE challenge; the pending login is kept in the database (a short-lived row of the
``idempotency_keys`` table under the SHA-256 of ``state``, principal ``~oidc``) so that any
server process can finish it, and only once.
``GET /login/oidc/callback`` exchanges the code (with the client secret and the PKCE verifier),
verifies the ID token's signature against the provider's JWKS, its issuer, audience, expiry and
nonce, and maps the ``oidc_user_claim`` claim to an existing, enabled mlaudit user — the provider
says who someone is; mlaudit's roles say what they may do. Then a normal session starts.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from mlaudit.config import Settings
from mlaudit.governance.credentials import Credentials
from mlaudit.server.deps import ApiError, client_of, settings_of, store_of
from mlaudit.server.login import set_cookie
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import idempotency_keys, users

__all__ = ["enabled", "router"]

router = APIRouter(include_in_schema=False)
PENDING = "~oidc"  # user_name of a pending login row: never a user, so never a session
_CACHE: dict[str, tuple[float, dict[str, Any]]] = {}
_TTL = 600.0


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _get_json(url: str) -> dict[str, Any]:
    import httpx

    now = time.monotonic()
    cached = _CACHE.get(url)
    if cached and now - cached[0] < _TTL:
        return cached[1]
    try:
        response = httpx.get(url, timeout=10, follow_redirects=False)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ApiError(502, "sso_unavailable", f"the identity provider did not answer: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(502, "sso_unavailable", f"unexpected answer from {url}")
    _CACHE[url] = (now, body)
    return body


def _provider(settings: Settings) -> dict[str, Any]:
    issuer = str(settings.oidc_issuer).rstrip("/")
    config = _get_json(f"{issuer}/.well-known/openid-configuration")
    if str(config.get("issuer", "")).rstrip("/") != issuer:
        raise ApiError(502, "sso_misconfigured", "the provider's issuer does not match oidc_issuer")
    return config


def _redirect_uri(request: Request, settings: Settings) -> str:
    return settings.oidc_redirect_url or str(request.url_for("oidc_callback"))


@router.get("/login/oidc")
def oidc_start(request: Request, next: str = "/") -> Response:
    from mlaudit.server.ui.pages import _safe_next

    settings = settings_of(request)
    if not enabled(settings):
        raise ApiError(404, "not_found", "single sign-on is not configured")
    config = _provider(settings)
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    now = datetime.now(UTC)
    expires = (now + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = orjson.dumps({"nonce": nonce, "verifier": verifier, "next": _safe_next(next), "expires": expires})
    with store_of(request).engine.begin() as conn:
        conn.execute(
            sa.insert(idempotency_keys).values(
                key=_sha(state), principal=PENDING, request_hash=_sha(state), status=0,
                body=body.decode(), created=utc_now(),
            )
        )  # fmt: skip
    query = {
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": _redirect_uri(request, settings),
        "scope": "openid profile email",
        "state": state,
        "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
        "code_challenge_method": "S256",
    }
    return RedirectResponse(f"{config['authorization_endpoint']}?{urlencode(query)}", status_code=303)


@router.get("/login/oidc/callback", name="oidc_callback")
def oidc_callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    settings = settings_of(request)
    if not enabled(settings):
        raise ApiError(404, "not_found", "single sign-on is not configured")
    creds = Credentials(store_of(request), "server")
    client = client_of(request)
    nonce, verifier, next_path = _claim_pending(request, state)
    if error or not code:
        creds.log_event("login_failed", None, client, f"oidc: {error or 'no code'}"[:200])
        raise ApiError(401, "login_failed", f"the identity provider refused the login: {error or 'no code'}")
    config = _provider(settings)
    claims = _id_token_claims(request, settings, config, code, verifier)
    if claims.get("nonce") != nonce:
        creds.log_event("login_failed", None, client, "oidc: nonce mismatch")
        raise ApiError(401, "login_failed", "the ID token's nonce does not match this login")
    name = str(claims.get(settings.oidc_user_claim) or "")
    with store_of(request).read() as conn:
        row = conn.execute(sa.select(users).where(users.c.name == name)).one_or_none()
    if row is None or row.disabled:
        creds.log_event("login_failed", name[:200] or None, client, "oidc: no such enabled user")
        raise ApiError(403, "forbidden", f"{name or 'this identity'} is not an enabled mlaudit user",
                       hint="an admin adds the user (`mlaudit user add NAME`) and grants a role")  # fmt: skip
    cookie, _ = creds.open_session(name, hours=settings.session_hours)
    creds.log_event("login", name, client, "oidc")
    response = RedirectResponse(next_path, status_code=303)
    set_cookie(request, response, cookie)
    return response


def _claim_pending(request: Request, state: str) -> tuple[str, str, str]:
    """The pending login of ``state``, used up (a replayed callback finds nothing)."""
    where = (idempotency_keys.c.key == _sha(state or "-")) & (idempotency_keys.c.principal == PENDING)
    with store_of(request).engine.begin() as conn:
        row = conn.execute(sa.select(idempotency_keys.c.body).where(where)).one_or_none()
        taken = conn.execute(sa.delete(idempotency_keys).where(where)).rowcount
    pending = orjson.loads(row.body) if row is not None else {}
    if not taken or pending.get("expires", "") <= utc_now():
        raise ApiError(401, "login_failed", "this sign-on attempt is unknown, used or expired; start again")
    return str(pending["nonce"]), str(pending["verifier"]), str(pending["next"])


def _id_token_claims(
    request: Request, settings: Settings, config: dict[str, Any], code: str, verifier: str
) -> dict[str, Any]:
    import httpx
    import jwt

    try:
        response = httpx.post(
            str(config["token_endpoint"]),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": verifier,
                "redirect_uri": _redirect_uri(request, settings),
            },
            auth=(str(settings.oidc_client_id), settings.oidc_client_secret or ""),
            timeout=10,
            follow_redirects=False,
        )
        token = response.json().get("id_token") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        raise ApiError(502, "sso_unavailable", f"the token endpoint did not answer: {exc}") from exc
    if not token:
        raise ApiError(
            401, "login_failed", f"no ID token from the provider ({response.status_code})"
        )
    try:
        header = jwt.get_unverified_header(token)
        keys = jwt.PyJWKSet.from_dict(_get_json(str(config["jwks_uri"])))
        key = next((k for k in keys.keys if k.key_id == header.get("kid")), None)
        if key is None:
            raise ApiError(401, "login_failed", "the ID token is signed with an unknown key")
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=["RS256", "ES256", "PS256"], audience=settings.oidc_client_id,
            issuer=str(settings.oidc_issuer).rstrip("/"), options={"require": ["exp", "iat", "iss", "aud"]},
        )  # fmt: skip
    except jwt.PyJWTError as exc:
        raise ApiError(401, "login_failed", f"the ID token is not valid: {exc}") from exc
    return claims
