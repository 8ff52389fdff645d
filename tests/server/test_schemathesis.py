"""schemathesis against the live OpenAPI schema of a real server on 127.0.0.1: no 500s, every
response matches its documented schema, status code and content type, and auth is not ignored.

The run acts with an admin-scoped API token of ``root`` (an admin: may do everything but approve);
the report (JUnit) is kept under the test's tmp folder for reading after a failure.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from server_helpers import LiveServer, make_settings

import mlaudit
from mlaudit.server import create_app


def test_schemathesis_finds_nothing(server_ws: Path, tmp_path: Path) -> None:
    with mlaudit.open(server_ws, actor="root") as ws:
        secret, _ = ws.credentials.create_token("schemathesis", scopes=["admin"], days=1)
    app = create_app(server_ws, settings=make_settings(allowed_hosts=["127.0.0.1"], cookie_secure=False))
    st = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    with LiveServer(app) as live:
        command: list[Any] = [
            st, "run", f"{live.url}/openapi.json",
            "--header", f"Authorization: Bearer {secret}",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
                        "response_schema_conformance,response_headers_conformance,ignored_auth",
            "--phases", "examples,coverage,fuzzing",
            "--max-examples", "12", "--seed", "7", "--workers", "1",
            "--request-timeout", "30", "--suppress-health-check", "all",
            # revoking its own token or closing its session would end the run: tested in test_auth.py
            "--exclude-path", "/api/v1/tokens/{token_id}", "--exclude-path", "/api/v1/auth/logout",
            "--report", "junit", "--report-dir", str(tmp_path / "report"),
        ]  # fmt: skip
        run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    (tmp_path / "schemathesis.txt").write_text(run.stdout + run.stderr)
    output = run.stdout[-20000:] + run.stderr[-5000:]
    assert run.returncode == 0, output
    assert "passed" in output.lower()
