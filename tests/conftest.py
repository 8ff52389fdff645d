"""Shared fixtures: workspaces on SQLite and on the machine's real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_ADMIN_URL = os.environ.get(
    "MLAUDIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_available() -> str | None:
    try:
        import sqlalchemy as sa

        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as exc:  # any failure means "not available" for the reason below
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}: {exc}"
    return None


_PG_PROBLEM = _pg_available()


def require_postgres() -> None:
    """Skip on a laptop without PostgreSQL; fail in CI (CI=true), where it must be there."""
    if _PG_PROBLEM:
        if IN_CI:
            pytest.fail(_PG_PROBLEM)
        pytest.skip(_PG_PROBLEM)


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Tests never read the developer's MLAUDIT_* settings or write to the current folder."""
    from mlaudit.config import get_settings

    for key in list(os.environ):
        if key.startswith("MLAUDIT_") and key != "MLAUDIT_TEST_PG":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MLAUDIT_USER", "tester")
    monkeypatch.setenv("MLAUDIT_WORKSPACE", str(tmp_path / "default-ws"))
    get_settings(fresh=True)
    yield
    get_settings(fresh=True)


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, randomly named PostgreSQL database (dropped afterwards); yields its URL."""
    require_postgres()
    import sqlalchemy as sa

    name = f"mlaudit_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def workspace_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Arguments for ``mlaudit.open`` on each backend: target, signing_key, artifacts."""
    if request.param == "sqlite":
        yield {"target": str(tmp_path / "ws")}
    else:
        url = request.getfixturevalue("pg_database")
        yield {
            "target": url,
            "signing_key": str(tmp_path / "keys" / "ledger.pem"),
            "artifacts": str(tmp_path / "artifacts"),
        }
