"""The demo workspace, built once per test session for the compliance-document tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workspace folder of a fresh ``mlaudit demo`` (about 20 s, once)."""
    from mlaudit.demo import run_demo

    out = tmp_path_factory.mktemp("demo") / "demo"
    summary = run_demo(out, quiet=True)
    return Path(summary["workspace"])


@pytest.fixture(autouse=True)
def _act_as_the_demo_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo turns permission checks on; these tests act as its validator, victor."""
    from mlaudit.config import get_settings

    monkeypatch.setenv("MLAUDIT_USER", "victor")
    get_settings(fresh=True)
