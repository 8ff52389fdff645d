"""HTML → PDF with Debian's Chromium in headless mode (the print stylesheet applies)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mlaudit.errors import InputError

__all__ = ["chromium_binary", "html_to_pdf"]

TIMEOUT_S = 120


def chromium_binary() -> str:
    """Chromium's path: ``MLAUDIT_CHROMIUM`` if set, else ``chromium`` on the PATH."""
    found = os.environ.get("MLAUDIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise InputError(
            "PDF output needs Chromium, which is not installed",
            hint="install Debian's chromium (apt-get install chromium) or write --html and print it",
        )
    return found


def html_to_pdf(html: str, *, timeout: float = TIMEOUT_S) -> bytes:
    """The PDF of page ``html`` as Chromium prints it (no header/footer, A4/Letter by locale)."""
    binary = chromium_binary()
    with tempfile.TemporaryDirectory(prefix="mlaudit-pdf-") as tmp:
        src, out = Path(tmp) / "document.html", Path(tmp) / "document.pdf"
        src.write_text(html, encoding="utf-8")
        cmd = [
            binary,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={out}",
            src.as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise InputError(f"Chromium did not finish the PDF within {timeout:g} s", hint=binary) from exc
        except OSError as exc:
            raise InputError(f"cannot run Chromium: {exc}", path=binary) from exc
        data = out.read_bytes() if out.exists() else b""
        if done.returncode != 0 or not data.startswith(b"%PDF"):
            tail = (done.stderr or "").strip().splitlines()[-3:]
            raise InputError(
                f"Chromium could not print the PDF (exit {done.returncode})",
                hint="; ".join(tail) or "run with --html and print from a browser",
            )
        return data
