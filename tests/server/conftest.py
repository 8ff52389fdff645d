"""Server fixtures: a workspace with one user per role (passwords set), the app, logged-in
clients, and a live uvicorn server on 127.0.0.1 for the browser and schemathesis."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install 'mlaudit[server]')")

from server_helpers import PASSWORD, LiveServer, add_people, make_settings, seed_models

import mlaudit

__all__ = ["PASSWORD"]


@pytest.fixture(scope="session")
def people_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per test process: people (argon2 hashing) and two trained models."""
    path = tmp_path_factory.mktemp("people-template") / "ws"
    add_people(path)
    seed_models(path)
    return path


@pytest.fixture
def server_ws(people_template: Path, tmp_path: Path) -> Path:
    """A private copy of the template workspace with people and two models: tests may write."""
    target = tmp_path / "server-ws"
    shutil.copytree(people_template, target)
    return target


@pytest.fixture
def app(server_ws: Path) -> Any:
    from mlaudit.server import create_app

    return create_app(server_ws, settings=make_settings())


@pytest.fixture
def login(app: Any) -> Callable[..., Any]:
    """``login("validator")`` → a TestClient logged in as that user, sending its CSRF token."""
    from fastapi.testclient import TestClient

    def make(user: str, password: str = PASSWORD) -> Any:
        client = TestClient(app, base_url="https://testserver")
        response = client.post("/api/v1/auth/login", json={"user": user, "password": password})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    return make


@pytest.fixture
def token_client(app: Any, server_ws: Path) -> Callable[..., Any]:
    """``token_client("contributor", scopes=["write"])`` → a TestClient with a bearer token."""
    from fastapi.testclient import TestClient

    def make(user: str, scopes: list[str] | None = None) -> Any:
        with mlaudit.open(server_ws, actor=user) as ws:
            secret, _ = ws.credentials.create_token("tests", scopes=scopes or ["write"])
        client = TestClient(app, base_url="https://testserver")
        client.headers["Authorization"] = f"Bearer {secret}"
        return client

    return make


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server on a small ``mlaudit demo`` workspace plus the people above (session scope:
    tests that write must use names of their own or tolerate each other's changes)."""
    from mlaudit.demo import run_demo
    from mlaudit.server import create_app

    out = tmp_path_factory.mktemp("server-demo") / "demo"
    summary = run_demo(out, quiet=True, rows=4000)
    path = Path(summary["workspace"])
    add_people(path)
    app = create_app(path, settings=make_settings(allowed_hosts=["127.0.0.1", "localhost"]))
    app.state.workspace_path = path
    with LiveServer(app) as live:
        yield live
