"""One settings object for the whole package.

Every setting has a default and a help string and can be set with an ``MLAUDIT_*`` environment
variable (``MLAUDIT_WORKSPACE``, ``MLAUDIT_USER``, ...). ``docs/settings.md`` is generated from
this table by :func:`settings_markdown` and a test keeps the two in step.
"""

from __future__ import annotations

import getpass
import os
from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "current_actor", "get_settings", "settings_markdown"]


class Settings(BaseSettings):
    """mlaudit's settings; read from ``MLAUDIT_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="MLAUDIT_", extra="ignore")

    workspace: str = Field(
        "./.mlaudit",
        description="Workspace to open when none is given: a folder (embedded SQLite) "
        "or a database URL such as postgresql+psycopg://user@host/db.",
    )
    user: str | None = Field(
        None,
        description="Identity recorded as the actor of every ledger event. Defaults to the "
        "operating-system user.",
    )
    signing_key: str | None = Field(
        None,
        description="Path of the Ed25519 private key (PEM) that signs ledger checkpoints. "
        "Defaults to <workspace>/keys/ledger.pem for folder workspaces; required for "
        "database-URL workspaces that sign checkpoints.",
    )
    artifacts: str | None = Field(
        None,
        description="Artifact store location: a local folder or an fsspec URL (s3://bucket/prefix). "
        "Defaults to <workspace>/artifacts for folder workspaces.",
    )
    sqlite_busy_timeout_ms: int = Field(
        30_000,
        ge=0,
        description="How long a SQLite writer waits for another writer before giving up.",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL",
        description="SQLite's synchronous pragma: FULL makes every committed ledger event survive "
        "a power cut; NORMAL is faster and survives a process crash only.",
    )
    connect_timeout_s: int = Field(
        10,
        ge=1,
        description="Seconds to wait for a database server before reporting it unreachable.",
    )
    progress: bool = Field(
        True, description="Show progress bars on a terminal (never in --json output)."
    )
    batch_rows: int = Field(
        65_536,
        ge=1,
        description="Rows per record batch when the default engine streams a source "
        "(`data profile`, `check`, `drift`; `--batch-rows` overrides it).",
    )
    exact_limit: int = Field(
        1_000_000,
        ge=1,
        description="Values per column (drift: KS, Wasserstein, Anderson) or distinct keys "
        "(the unique rule) kept exactly when streaming; beyond, a documented approximation "
        "that the report names.",
    )
    # --- the server (`mlaudit serve`) ---------------------------------------------------------
    server_host: str = Field("127.0.0.1", description="Address `mlaudit serve` listens on.")
    server_port: int = Field(8765, ge=1, le=65535, description="Port `mlaudit serve` listens on.")
    allowed_hosts: list[str] = Field(
        ["127.0.0.1", "localhost", "testserver"],
        description="Host header values the server answers (others get 400); add the public name "
        "of the server. JSON list in the environment variable.",
    )
    cors_origins: list[str] = Field(
        [],
        description="Origins allowed to call the API from a browser (CORS). Empty: same origin only.",
    )
    session_hours: float = Field(12.0, gt=0, description="How long a web login lasts.")
    cookie_secure: bool = Field(
        True,
        description="Send the session cookie only over HTTPS (browsers also accept it on "
        "http://localhost). Turn off only behind a TLS-terminating proxy that rewrites the scheme.",
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed logins per user name or client within login_window_minutes "
        "before further attempts are refused with 429.",
    )
    login_window_minutes: float = Field(15.0, gt=0, description="Window of the login rate limit.")
    upload_max_mb: float = Field(
        64.0, gt=0, description="Largest request body the server accepts (uploads), in MB."
    )
    page_max: int = Field(500, ge=1, description="Largest page size of any list in the API.")
    # --- alert notifications (`ws.alerts.deliver`, `mlaudit alert deliver`) ----------------------
    webhook_allow_private: bool = Field(
        False,
        description="Let webhook and Slack notifications reach private, loopback, link-local and other "
        "non-public addresses. Off by default so that a webhook URL cannot reach internal services (SSRF).",
    )
    webhook_timeout_s: float = Field(
        10.0, gt=0, description="Seconds a webhook, Slack or SMTP delivery may take before it is retried."
    )
    smtp_host: str | None = Field(
        None, description="SMTP server that sends email:ADDRESS notifications. Unset: email notices fail."
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="Port of the SMTP server (587 with STARTTLS).")
    smtp_from: str = Field("mlaudit@localhost", description="Sender address of notification emails.")
    smtp_user: str | None = Field(None, description="SMTP login name (no login when unset).")
    smtp_password: str | None = Field(None, description="SMTP password, used with smtp_user.")
    smtp_starttls: bool = Field(
        False, description="Upgrade the SMTP connection with STARTTLS (certificate verified) before login."
    )
    oidc_issuer: str | None = Field(
        None,
        description="OpenID Connect issuer URL (e.g. https://login.example.com/realms/corp). With "
        "oidc_client_id set, the login page offers 'Log in with single sign-on'. The identity "
        "provider names the user (oidc_user_claim); their roles still come from mlaudit.",
    )
    oidc_client_id: str | None = Field(None, description="OpenID Connect client id of this server.")
    oidc_client_secret: str | None = Field(None, description="OpenID Connect client secret.")
    oidc_user_claim: str = Field(
        "preferred_username",
        description="ID-token claim holding the mlaudit user name (the user must exist and be enabled).",
    )
    oidc_redirect_url: str | None = Field(
        None,
        description="Callback URL registered with the identity provider; default: this server's "
        "/login/oidc/callback as the browser reached it.",
    )


@lru_cache(maxsize=1)
def _cached() -> Settings:
    return Settings()


def get_settings(*, fresh: bool = False) -> Settings:
    """The process settings (read once from the environment unless ``fresh``)."""
    if fresh:
        _cached.cache_clear()
    return _cached()


def current_actor(settings: Settings | None = None) -> str:
    """Who is acting: ``MLAUDIT_USER`` or the operating-system user."""
    settings = settings or Settings()
    if settings.user:
        return settings.user
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return os.environ.get("USER", "unknown")


def settings_markdown() -> str:
    """The settings table as Markdown (the body of docs/settings.md)."""
    lines = [
        "| environment variable | default | what it does |",
        "| --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(none)" if default is None else f"`{default}`"
        lines.append(f"| `MLAUDIT_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(lines) + "\n"
