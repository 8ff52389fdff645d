"""Shared pieces of the CLI: the workspace option, JSON output, the console on stderr."""

from __future__ import annotations

import os
import sys
from typing import Any

import orjson
import typer
from rich.console import Console

__all__ = ["JsonOpt", "RecordOpt", "WorkspaceOpt", "err", "print_json", "record_result", "show_progress"]


class _Console:
    """A Rich console made at print time, so COLUMNS and the terminal are read when printing.

    On a terminal Rich uses the terminal's width; when piped (CI logs, files) tables get 120
    columns instead of Rich's 80 so that hashes and numbers are not folded.
    """

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr

    def _make(self) -> Console:
        stream = sys.stderr if self._stderr else sys.stdout
        width = None if stream.isatty() or os.environ.get("COLUMNS") else 120
        return Console(stderr=self._stderr, highlight=False, soft_wrap=not self._stderr, width=width)

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self._make().print(*objects, **kwargs)


err = _Console(stderr=True)
out = _Console(stderr=False)

WorkspaceOpt = typer.Option(
    None,
    "--workspace",
    "-w",
    envvar="MLAUDIT_WORKSPACE",
    help="Workspace folder or database URL (default ./.mlaudit).",
    show_default=False,
)
RecordOpt = typer.Option(
    None,
    "--record",
    help="Keep the result as evidence in the workspace (ledgered) under this subject, "
    "e.g. dataset:credit-applications.",
    show_default=False,
)
JsonOpt = typer.Option(False, "--json", help="Print machine-readable JSON on stdout, nothing else.")


def _default(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def print_json(obj: Any) -> None:
    """Write ``obj`` as JSON to stdout (numpy values and objects with ``to_dict`` allowed)."""
    sys.stdout.write(
        orjson.dumps(obj, default=_default, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode()
        + "\n"
    )
    sys.stdout.flush()


def show_progress(json_mode: bool) -> bool:
    """Progress bars only on an interactive terminal and never with --json."""
    from mlaudit.config import get_settings

    return (not json_mode) and get_settings().progress and sys.stderr.isatty()


def record_result(
    workspace: str | None,
    subject: str,
    kind: str,
    document: dict[str, Any],
    status: str,
    files: dict[str, Any],
) -> str:
    """Store a report in the workspace with the SHA-256 of the files it came from; returns its id."""
    import hashlib

    import mlaudit

    inputs = {}
    for role, path in files.items():
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        inputs[role] = "sha256:" + digest.hexdigest()
    with mlaudit.open(workspace, create=False) as ws:
        stored = ws.audits.record(kind, subject, document, status=status, inputs=inputs)
    err.print(f"recorded as result {stored.id} (ledger seq {stored.seq}) in {ws.location}")
    return stored.id
