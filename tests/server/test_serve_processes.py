"""``mlaudit serve --workers 2`` for real: two server processes on one workspace (SQLite file or
PostgreSQL database) take concurrent logins and writes; afterwards every write is stored once and
the ledger verifies as one chain."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from server_helpers import PASSWORD, add_people, free_port, seed_models

import mlaudit

MLAUDIT = str(Path(sys.executable).parent / "mlaudit")


def _start(target: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [MLAUDIT, "serve", "--workers", "2", "--port", str(port), "-w", target],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read().decode() if proc.stdout else "server exited")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("mlaudit serve did not come up in 60 s")


def _session(url: str, user: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    response = client.post("/api/v1/auth/login", json={"user": user, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_server_processes_share_one_workspace(backend: str, tmp_path: Path, request: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLAUDIT_")}
    env["MLAUDIT_COOKIE_SECURE"] = "false"  # plain http on 127.0.0.1 in this test; httpx honours Secure
    if backend == "sqlite":
        target, kwargs = str(tmp_path / "ws"), {}
    else:
        target = request.getfixturevalue("pg_database")
        kwargs = {"signing_key": str(tmp_path / "ledger.pem"), "artifacts": str(tmp_path / "artifacts")}
        env["MLAUDIT_SIGNING_KEY"], env["MLAUDIT_ARTIFACTS"] = kwargs["signing_key"], kwargs["artifacts"]
    add_people(target, **kwargs)
    seed_models(target, **kwargs)
    proc, url = _start(target, env)
    try:
        per_thread = 12

        def work(i: int) -> list[int]:
            user = ("val", "contributor", "validator", "dev")[i % 4]
            client = _session(url, user)
            codes = []
            for j in range(per_thread):
                body = {"title": f"finding {i}-{j}", "severity": "low"}
                codes.append(client.post("/api/v1/models/credit/findings", json=body).status_code)
                codes.append(client.post("/api/v1/ledger/checkpoints").status_code)
            client.close()
            return codes

        with ThreadPoolExecutor(8) as pool:
            codes = [c for batch in pool.map(work, range(8)) for c in batch]
        assert codes.count(201) == len(codes) == 8 * per_thread * 2
        auditor = _session(url, "auditor")
        verified = auditor.post("/api/v1/ledger/verify").json()
        findings = auditor.get("/api/v1/findings", params={"model": "credit", "limit": 500}).json()
        auditor.close()
        assert verified["ok"] is True, verified
        assert findings["total"] == 8 * per_thread
        assert len({f["title"] for f in findings["items"]}) == 8 * per_thread
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    with mlaudit.open(target, actor="root", **kwargs) as ws:
        assert ws.ledger.verify().ok
        assert len(ws.ledger.log(action="finding.raised")) == 8 * per_thread


def test_serve_refuses_a_workspace_without_users(tmp_path: Path) -> None:
    mlaudit.open(tmp_path / "empty").close()
    run = subprocess.run([MLAUDIT, "serve", "-w", str(tmp_path / "empty")], capture_output=True, text=True)
    assert run.returncode == 2
    assert "no users" in run.stderr and "mlaudit user add" in run.stderr
