"""Database engines for workspaces: SQLite (embedded, WAL) and PostgreSQL (psycopg 3).

One code path for both. SQLite write transactions start with ``BEGIN IMMEDIATE`` so that two
writers never deadlock upgrading a read lock; PostgreSQL writers serialise on the ledger head
row (``SELECT ... FOR UPDATE``). Migrations are applied when a workspace is opened.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url

from mlaudit.errors import InputError

__all__ = ["connect", "is_sqlite", "migrate", "redacted", "write_transaction"]

_MIGRATIONS = Path(__file__).parent / "migrations"


def redacted(url: str | sa.URL) -> str:
    """``url`` with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def connect(
    url: str,
    *,
    busy_timeout_ms: int = 30_000,
    connect_timeout_s: int = 10,
    synchronous: str = "FULL",
) -> Engine:
    """An engine for ``url``, checked by connecting once; unreachable servers are InputError."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InputError(f"not a database URL: {url!r}") from exc
    kwargs: dict[str, Any] = {"future": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
    elif parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() in ("", "psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs["connect_args"] = {"connect_timeout": connect_timeout_s}
        kwargs["pool_pre_ping"] = True
    else:
        raise InputError(
            f"unsupported workspace database {parsed.get_backend_name()!r} in {redacted(parsed)}",
            hint="use a folder (SQLite) or a postgresql+psycopg:// URL",
        )
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except ModuleNotFoundError as exc:
        raise InputError(
            f"the driver for {redacted(parsed)} is not installed ({exc.name})",
            hint="pip install 'mlaudit[postgres]'",
        ) from exc
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout_ms, synchronous)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise InputError(
            f"cannot reach the workspace database {redacted(parsed)}: {reason}",
            hint="check that the server runs and the URL, user and database are right",
        ) from exc
    return engine


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, synchronous: str) -> None:
    sync = "NORMAL" if synchronous.upper() == "NORMAL" else "FULL"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA synchronous={sync}")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("mlaudit_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that may write: committed on success, rolled back on any error."""
    with engine.connect() as conn:
        conn = conn.execution_options(mlaudit_write=True)
        with conn.begin():
            yield conn


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is already there)."""
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    from alembic import command

    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":  # two processes opening a new database at once
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727274001)")
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
