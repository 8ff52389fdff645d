"""Writing files so that readers see the old file or the whole new one, never half of it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mlaudit.errors import InputError

__all__ = ["write_atomic"]


def write_atomic(data: bytes, path: str | os.PathLike[str], *, what: str = "file") -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsync, rename.

    Returns the absolute path; a folder that does not exist or cannot be written is an
    :class:`~mlaudit.errors.InputError` naming the path (``what`` names the thing written).
    """
    target = Path(path).expanduser().absolute()
    if target.is_dir():
        raise InputError("is a folder, not a file", path=str(target), hint="give a file name")
    fd, tmp = -1, ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as out:
            fd = -1
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        if fd >= 0:
            os.close(fd)
        if tmp:
            Path(tmp).unlink(missing_ok=True)
        raise InputError(
            f"cannot write the {what}: {exc.strerror or exc}",
            path=str(target),
            hint="choose a path in an existing folder you can write to",
        ) from exc
    return target
