"""A workspace with one registered classifier (features a, b; classes 0, 1) and batch makers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn.dummy import DummyClassifier

import mlaudit

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def register(ws: mlaudit.Workspace, name: str = "credit", strategy: str = "prior") -> str:
    clf = DummyClassifier(strategy=strategy).fit(np.zeros((4, 2)), [0, 1, 0, 1])
    return ws.models.register(name, clf, features=["a", "b"]).version.ref


def batch(ids: list[str], *, start: int = 0, seed: int = 0, extra: bool = False) -> pa.Table:
    """Predictions with ids ``ids`` at T0 + start + i minutes."""
    rng = np.random.default_rng(seed)
    n = len(ids)
    p1 = rng.uniform(size=n)
    columns: dict[str, Any] = {
        "prediction_id": ids,
        "time": [T0 + timedelta(minutes=start + i) for i in range(n)],
        "a": rng.normal(size=n),
        "b": rng.integers(0, 5, size=n),
        "prediction": (p1 > 0.5).astype(np.int64),
        "proba_0": 1 - p1,
        "proba_1": p1,
        "segment": rng.choice(["north", "south"], size=n),
    }
    if extra:
        columns["channel"] = ["web"] * n
    return pa.table(columns)


@pytest.fixture
def ws(workspace_target: dict[str, str]) -> Iterator[mlaudit.Workspace]:
    """A workspace on SQLite and on PostgreSQL with model ``credit@v1`` registered."""
    with mlaudit.open(**workspace_target) as w:
        register(w)
        yield w


@pytest.fixture
def sqlite_ws(tmp_path: Any) -> Iterator[mlaudit.Workspace]:
    with mlaudit.open(tmp_path / "ws") as w:
        register(w)
        yield w


@pytest.fixture
def mon() -> SimpleNamespace:
    """The helpers above, for the test modules (which do not import conftest)."""
    return SimpleNamespace(T0=T0, batch=batch, register=register)
