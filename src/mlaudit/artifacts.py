"""``ws.artifacts``: bulk files (data snapshots, model files, reports) by content address.

Storing bytes records an ``artifact.stored`` event with the digest, size and name (never the
bytes); erasing removes the bytes and records ``artifact.erased``, and the ledger still
verifies because it never held them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mlaudit.errors import NotFound
from mlaudit.store import Store, Tx
from mlaudit.store.artifacts import check_digest
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import artifacts as artifacts_table

__all__ = ["ArtifactRecord", "Artifacts", "erase_artifacts", "record_artifact"]


@dataclass(frozen=True)
class ArtifactRecord:
    digest: str
    size: int
    media_type: str
    name: str | None
    created: str
    erased: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Artifacts:
    """Content-addressed artifacts of one workspace, each one recorded in the ledger."""

    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor

    def put(
        self, data: bytes, *, name: str | None = None, media_type: str = "application/octet-stream"
    ) -> ArtifactRecord:
        """Store ``data``; the same bytes stored twice give the same record."""
        digest = self._store.artifacts.put(data)
        return self._record(digest, len(data), media_type, name)

    def put_file(
        self,
        path: str | os.PathLike[str],
        *,
        name: str | None = None,
        media_type: str | None = None,
    ) -> ArtifactRecord:
        """Store a local file (streamed, never whole in memory)."""
        p = Path(path)
        digest = self._store.artifacts.put_file(p)
        return self._record(digest, p.stat().st_size, media_type or _media_type(p), name or p.name)

    def _record(self, digest: str, size: int, media_type: str, name: str | None) -> ArtifactRecord:
        with self._store.write(self._actor) as tx:
            return record_artifact(tx, digest, size, media_type, name)

    def get(self, digest: str) -> bytes:
        """The bytes of ``digest``, re-hashed on read (IntegrityError if altered)."""
        record = self.info(digest)
        if record.erased:
            raise NotFound(f"artifact {digest} was erased at {record.erased}")
        return self._store.artifacts.get(digest)

    def info(self, digest: str) -> ArtifactRecord:
        check_digest(digest)
        with self._store.read() as conn:
            row = conn.execute(
                sa.select(artifacts_table).where(artifacts_table.c.digest == digest)
            ).one_or_none()
        if row is None:
            raise NotFound(f"no artifact {digest} in this workspace")
        return ArtifactRecord(**row._asdict())

    def list(self) -> list[ArtifactRecord]:
        with self._store.read() as conn:
            rows = conn.execute(sa.select(artifacts_table).order_by(artifacts_table.c.created)).all()
        return [ArtifactRecord(**r._asdict()) for r in rows]

    def erase(self, digest: str, *, reason: str) -> ArtifactRecord:
        """Remove the bytes (e.g. right to erasure); the record and the ledger event stay."""
        record = self.info(digest)
        when = utc_now()
        with self._store.write(self._actor) as tx:
            erase_artifacts(tx, self._store, [digest], reason=reason, when=when)
        return ArtifactRecord(
            record.digest, record.size, record.media_type, record.name, record.created, when
        )


def erase_artifacts(tx: Tx, store: Store, digests: Sequence[str], *, reason: str, when: str) -> None:
    """Mark ``digests`` erased and record ``artifact.erased`` for each inside ``tx``, then delete
    their bytes — last, still inside the transaction, so that nothing is committed if a delete
    fails (a retry deletes what is left)."""
    for digest in digests:
        tx.conn.execute(
            sa.update(artifacts_table).where(artifacts_table.c.digest == digest).values(erased=when)
        )
        tx.record("artifact.erased", f"artifact:{digest}", {"digest": digest, "reason": reason})
    for digest in digests:
        store.artifacts.delete(digest)


def record_artifact(tx: Tx, digest: str, size: int, media_type: str, name: str | None) -> ArtifactRecord:
    """Record stored bytes in the artifacts table and the ledger, inside ``tx``."""
    row = tx.conn.execute(sa.select(artifacts_table).where(artifacts_table.c.digest == digest)).one_or_none()
    if row is not None and row.erased is None:
        return ArtifactRecord(**row._asdict())
    created = utc_now()
    if row is None:
        tx.conn.execute(
            sa.insert(artifacts_table).values(
                digest=digest, size=size, media_type=media_type, name=name, created=created
            )
        )
    else:  # stored again after an erasure
        tx.conn.execute(
            sa.update(artifacts_table)
            .where(artifacts_table.c.digest == digest)
            .values(erased=None, created=created)
        )
    tx.record(
        "artifact.stored",
        f"artifact:{digest}",
        {"digest": digest, "size": size, "media_type": media_type, "name": name},
    )
    return ArtifactRecord(digest, size, media_type, name, created, None)


def _media_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return {
        ".csv": "text/csv",
        ".parquet": "application/vnd.apache.parquet",
        ".jsonl": "application/x-ndjson",
        ".json": "application/json",
        ".html": "text/html",
        ".yaml": "application/yaml",
        ".yml": "application/yaml",
    }.get(suffix, "application/octet-stream")
