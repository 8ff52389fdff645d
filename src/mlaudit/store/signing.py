"""Ed25519 keys that sign ledger checkpoints (via ``cryptography``).

The private key lives outside the database: ``<workspace>/keys/ledger.pem`` (mode 0600) or the
file named by ``MLAUDIT_SIGNING_KEY``. The database holds only the public key and its id
(SHA-256 of the raw public key), and the genesis event records that id, so a public key
swapped in the database is caught by ``ledger verify``.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mlaudit.errors import InputError

__all__ = [
    "generate_key",
    "key_id",
    "load_private_key",
    "load_public_key",
    "public_pem",
    "sign",
    "verify_signature",
]


def generate_key(path: Path) -> Ed25519PrivateKey:
    """Create a new private key at ``path`` (mode 0600) and its ``.pub`` beside it."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    path.with_suffix(".pub").write_text(public_pem(key.public_key()))
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read the private key at ``path``; a missing or corrupt file is an InputError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(
            "the signing key file does not exist",
            path=str(path),
            hint="set MLAUDIT_SIGNING_KEY to the workspace's key file",
        ) from exc
    except OSError as exc:
        raise InputError(f"cannot read the signing key: {exc.strerror}", path=str(path)) from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(
            "the signing key file is corrupt (not an unencrypted PEM private key)",
            path=str(path),
            hint="restore it from your backup; a new key cannot sign for this workspace",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("the signing key is not an Ed25519 key", path=str(path))
    return key


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(pem: str) -> Ed25519PublicKey:
    """Parse a PEM public key; anything else is an InputError."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise InputError("not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("the public key is not an Ed25519 key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the raw 32-byte public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode("ascii")


def verify_signature(key: Ed25519PublicKey, message: bytes, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True
