"""Shared fixtures: workspaces on SQLite and on the machine's real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PG_ADMIN_URL = os.environ.get("MLAUDIT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
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


# --- the browser: Debian's Chromium through Playwright (never `playwright install`) ----------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PAGE_MEASURES = {
    "slots": "document.querySelectorAll('.plot').length",
    "plotly": "document.querySelectorAll('.js-plotly-plot').length",
    "drawn": "[...document.querySelectorAll('.plot.js-plotly-plot')]"
    ".filter(el => el.querySelector('svg.main-svg .trace') !== null).length",
    "bars": "document.querySelectorAll('.plot .trace.bars path').length",
    "overflow": "document.documentElement.scrollWidth - window.innerWidth",
}


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium; skipped when missing, except with CI=true where that fails."""
    import importlib.util

    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    elif importlib.util.find_spec("playwright") is None:
        reason = "the playwright package is missing (pip install playwright)"
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``$MLAUDIT_SCREENSHOTS`` (read before the settings are isolated)
    or the test's tmp_path."""
    folder = Path(_SCREENSHOTS or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


_SCREENSHOTS = os.environ.get("MLAUDIT_SCREENSHOTS")


@pytest.fixture
def open_page(browser: Any) -> Callable[..., dict[str, Any]]:
    """``open_page(path, width, shot, measures={name: js})``: load a report at ``width``, draw
    every figure, screenshot it, and return :data:`PAGE_MEASURES` (plus ``measures``) and
    ``problems``: console errors, page errors, dialogs and any request off the file."""

    def _open(path: Path, width: int, shot: Path, measures: dict[str, str] | None = None) -> dict[str, Any]:
        page = browser.new_page(viewport={"width": width, "height": 900})
        problems: list[str] = []
        page.on(
            "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: (problems.append(f"dialog opened: {d.message}"), d.dismiss()))
        page.on(
            "request",
            lambda r: (
                None if r.url.startswith(("file:", "data:", "blob:")) else problems.append(f"request {r.url}")
            ),
        )
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        page.evaluate("() => { if (window.mlauditDrawAll) window.mlauditDrawAll(); }")
        page.wait_for_function(f"({PAGE_MEASURES['drawn']}) === ({PAGE_MEASURES['slots']})")
        wanted = PAGE_MEASURES | (measures or {})
        seen: dict[str, Any] = page.evaluate(
            "() => ({" + ",".join(f"{k}: {v}" for k, v in wanted.items()) + "})"
        )
        page.screenshot(path=str(shot), full_page=True)
        page.close()
        seen["problems"] = problems
        return seen

    return _open
