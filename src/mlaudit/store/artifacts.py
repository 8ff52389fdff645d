"""Content-addressed artifact store: bytes named by their SHA-256, on a folder or fsspec URL.

Names are ``sha256:<64 hex>``; the path of an artifact is derived only from a validated
digest (``<root>/sha256/ab/abcdef…``), so a name from a caller never reaches the filesystem
unchecked. Writes go to a temporary name first and are renamed into place, so a killed
writer never leaves a half-written artifact under a real name.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from mlaudit.errors import InputError, IntegrityError, NotFound

__all__ = ["ArtifactStore", "check_digest", "digest_bytes"]

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_CHUNK = 1 << 20


def check_digest(digest: str) -> str:
    """Return ``digest`` if it is a well-formed ``sha256:<hex>`` name; InputError otherwise."""
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise InputError(
            f"not an artifact digest: {digest!r}", hint="expected sha256:<64 hex digits>"
        )
    return digest


def digest_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class ArtifactStore:
    """Artifacts under ``root`` (a local folder, or any fsspec URL such as ``s3://bucket/x``)."""

    def __init__(self, root: str | os.PathLike[str], **storage_options: Any) -> None:
        import fsspec

        text = os.fspath(root)
        self.root = text
        try:
            self._fs, self._base = fsspec.core.url_to_fs(text, **storage_options)
        except (ImportError, ValueError) as exc:
            raise InputError(f"cannot use {text!r} as an artifact store: {exc}") from exc
        self._local = (
            self._fs.protocol in ("file", ("file", "local")) or "file" in self._fs.protocol
        )

    def _path(self, digest: str) -> str:
        hexdigest = check_digest(digest)[7:]
        return f"{self._base.rstrip('/')}/sha256/{hexdigest[:2]}/{hexdigest}"

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its digest (storing the same bytes twice is a no-op)."""
        digest = digest_bytes(data)
        path = self._path(digest)
        if self._fs.exists(path):
            return digest
        self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        tmp = f"{path}.tmp-{uuid.uuid4().hex}"
        with self._fs.open(tmp, "wb") as fh:
            fh.write(data)
        self._fs.mv(tmp, path)
        return digest

    def put_file(self, source: str | os.PathLike[str]) -> str:
        """Store a local file by streaming it (never whole in memory); returns its digest."""
        src = Path(source)
        h = hashlib.sha256()
        try:
            with src.open("rb") as fh:
                for chunk in iter(lambda: fh.read(_CHUNK), b""):
                    h.update(chunk)
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=str(src)) from exc
        digest = "sha256:" + h.hexdigest()
        path = self._path(digest)
        if not self._fs.exists(path):
            self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            tmp = f"{path}.tmp-{uuid.uuid4().hex}"
            self._fs.put_file(str(src), tmp)
            self._fs.mv(tmp, path)
        return digest

    def exists(self, digest: str) -> bool:
        return bool(self._fs.exists(self._path(digest)))

    def get(self, digest: str, *, verify: bool = True) -> bytes:
        """The bytes of ``digest``; with ``verify`` they are re-hashed (IntegrityError if altered)."""
        path = self._path(digest)
        try:
            with self._fs.open(path, "rb") as fh:
                data: bytes = fh.read()
        except FileNotFoundError as exc:
            raise NotFound(f"no artifact {digest}") from exc
        if verify and digest_bytes(data) != digest:
            raise IntegrityError(f"artifact {digest} was altered on storage")
        return data

    def open(self, digest: str) -> IO[bytes]:
        path = self._path(digest)
        if not self._fs.exists(path):
            raise NotFound(f"no artifact {digest}")
        handle: IO[bytes] = self._fs.open(path, "rb")
        return handle

    def delete(self, digest: str) -> bool:
        """Remove the bytes of ``digest`` (erasure); returns whether anything was removed."""
        path = self._path(digest)
        if not self._fs.exists(path):
            return False
        self._fs.rm(path)
        return True

    def __iter__(self) -> Iterator[str]:
        base = f"{self._base.rstrip('/')}/sha256"
        if not self._fs.exists(base):
            return
        for path in self._fs.find(base):
            name = path.rsplit("/", 1)[-1]
            if re.fullmatch(r"[0-9a-f]{64}", name):
                yield "sha256:" + name
