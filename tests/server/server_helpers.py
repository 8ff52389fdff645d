"""Shared pieces of the server tests (importable: ``from server_helpers import PASSWORD``)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

import mlaudit
from mlaudit.config import Settings
from mlaudit.governance.permissions import ROLES

PASSWORD = "correct-horse-battery-staple"
ADMIN = "root"
# one user per role, named after it: "viewer", "contributor", ...; "root" is the admin who set
# them up; "dev" is a contributor who registers the models (the maker), "val" a validator
EXTRA = {"dev": "contributor", "val": "validator", "appr": "approver"}


def add_people(path: str | Path, **open_kwargs: Any) -> None:
    """Users with passwords: root (admin), one per role, dev/val/appr."""
    with mlaudit.open(path, actor=ADMIN, **open_kwargs) as probe:
        admins = [u.name for u in probe.access.users() if "admin" in u.roles and not u.disabled]
    acting = ADMIN if not admins or ADMIN in admins else admins[0]
    with mlaudit.open(path, actor=acting, **open_kwargs) as ws:
        if not ws.access.enforced():
            ws.access.add_user(ADMIN, admin=True)
        known = {u.name for u in ws.access.users()}
        if ADMIN not in known:
            ws.access.add_user(ADMIN, admin=True)
            known.add(ADMIN)
        for name, role in [*((r, r) for r in ROLES), *EXTRA.items()]:
            if name not in known:
                ws.access.add_user(name)
            ws.access.grant(name, role)
        for name in [ADMIN, *ROLES, *EXTRA]:
            ws.credentials.set_password(name, PASSWORD)


def seed_models(path: str | Path, **open_kwargs: Any) -> None:
    """Two small models registered by ``dev`` and a dataset, so pages and lists have content."""
    import pyarrow as pa
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] + rng.normal(scale=0.5, size=400) > 0).astype(int)
    with mlaudit.open(path, actor="dev", **open_kwargs) as ws:
        table = pa.table({"a": x[:, 0], "b": x[:, 1], "y": y})
        ws.datasets.log("train", table, keep_data=True)
        for name in ("credit", "churn"):
            ws.models.register(name, LogisticRegression().fit(x, y), features=["a", "b"], target="y",
                               trained_on=["train@v1"])  # fmt: skip


def make_settings(**overrides: Any) -> Settings:
    return Settings(**{"cookie_secure": True, **overrides})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
