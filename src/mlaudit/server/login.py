"""Logging in and out, shared by the API (``/api/v1/auth/login``) and the web UI's form.

A login checks the rate limit first (failed logins per user name and per client, counted in the
security log so that it holds across server processes), then the password (argon2id; unknown
users cost the same time), then opens a fresh session: a session id sent before login is never
reused (no session fixation). Every attempt is logged.
"""

from __future__ import annotations

from fastapi import Request, Response

from mlaudit.governance.credentials import Credentials, Session
from mlaudit.server.deps import SESSION_COOKIE, ApiError, client_of, settings_of, store_of

__all__ = ["login", "logout", "set_cookie"]


def login(request: Request, user: str, password: str) -> tuple[str, Session]:
    """Check ``user``/``password`` and open a session: ``(cookie value, session)``."""
    settings = settings_of(request)
    creds = Credentials(store_of(request), "server")
    client = client_of(request)
    old = request.cookies.get(SESSION_COOKIE)
    if old:  # whatever came in, it is not carried over
        creds.close_session(old)
    window = settings.login_window_minutes
    if (
        creds.failures(user=user, minutes=window) >= settings.login_max_failures
        or creds.failures(client=client, minutes=window) >= settings.login_max_failures
    ):
        creds.log_event("login_throttled", user[:200], client)
        raise ApiError(429, "rate_limited", "too many failed logins; try again later",
                       headers={"Retry-After": str(int(window * 60))})  # fmt: skip
    if not creds.check_password(user, password):
        creds.log_event("login_failed", user[:200], client)
        raise ApiError(401, "login_failed", "wrong user name or password")
    cookie, session = creds.open_session(user, hours=settings.session_hours)
    creds.log_event("login", user, client)
    return cookie, session


def logout(request: Request, response: Response) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        creds = Credentials(store_of(request), "server")
        found = creds.session(cookie)
        creds.close_session(cookie)
        creds.log_event("logout", found.user if found else None, client_of(request))
    response.delete_cookie(SESSION_COOKIE, path="/")


def set_cookie(request: Request, response: Response, cookie: str) -> None:
    settings = settings_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings.session_hours * 3600),
        path="/",
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )
