"""Fixtures for the REST API tests: conftest's people template plus a stored audit of
credit@v1 by ``val`` (the evidence approvals need), built once per process and copied for each
test, so tests may write without paying for password hashing and training again."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

import mlaudit

__all__ = ["api_template", "assert_error", "server_ws"]


@pytest.fixture(scope="session")
def api_template(people_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("api-template") / "ws"
    shutil.copytree(people_template, path)
    with mlaudit.open(path, actor="val") as ws:
        ws.audit("credit@v1", reference="train@v1", current="train@v1")
    return path


@pytest.fixture
def server_ws(api_template: Path, tmp_path: Path) -> Path:
    """A private copy of the API template (overrides conftest's ``server_ws`` where imported)."""
    target = tmp_path / "server-ws"
    shutil.copytree(api_template, target)
    return target


def assert_error(
    response: Any, status: int, code: str | None = None, text: str | None = None
) -> dict[str, Any]:
    """The response has the one error shape, with ``status`` (and ``code``; ``text`` in the message)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["status"] == status and {"status", "code", "message"} <= set(error)
    if code is not None:
        assert error["code"] == code, error
    if text is not None:
        assert text in error["message"], error
    return error
