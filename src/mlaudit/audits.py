"""``ws.audits``: run checks against data and keep their results as evidence.

Every stored result is a JSON document (a check report, a drift report, a profile summary)
in the ``results`` table; its ledger event carries the result id, status and the SHA-256 of
the document, so a result edited in the database no longer matches the ledger.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from mlaudit.errors import IntegrityError, NotFound
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import results

__all__ = ["Audits", "StoredResult"]


@dataclass(frozen=True)
class StoredResult:
    id: str
    kind: str
    subject: str
    status: str
    created: str
    actor: str
    seq: int
    document: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class Audits:
    """Stored, ledgered results of the checks run in one workspace."""

    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor

    def record(
        self,
        kind: str,
        subject: str,
        document: Mapping[str, Any],
        *,
        status: str,
        inputs: Mapping[str, str] | None = None,
        summary: Mapping[str, Any] | None = None,
    ) -> StoredResult:
        """Store ``document`` and record a ``result.recorded`` event in the same transaction.

        ``inputs`` names what the result was computed from (e.g. ``{"current": "sha256:…"}``);
        ``summary`` is a small JSON mapping copied into the event (e.g. which checks failed), so
        the ledger alone says what the result concluded.
        """
        text = orjson.dumps(
            document, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY
        ).decode()
        rid = uuid.uuid4().hex
        created = utc_now()
        with self._store.write(self._actor) as tx:
            event = tx.record(
                "result.recorded",
                subject,
                {
                    "id": rid,
                    "kind": kind,
                    "status": status,
                    "document": _digest(text),
                    "inputs": dict(inputs or {}),
                    **({"summary": dict(summary)} if summary else {}),
                },
            )
            tx.conn.execute(
                sa.insert(results).values(
                    id=rid,
                    kind=kind,
                    subject=subject,
                    status=status,
                    created=created,
                    actor=self._actor,
                    seq=event.seq,
                    document=text,
                )
            )
        return StoredResult(
            rid, kind, subject, status, created, self._actor, event.seq, orjson.loads(text)
        )

    def get(self, result_id: str) -> StoredResult:
        """One stored result, checked against the digest its ledger event recorded."""
        with self._store.read() as conn:
            row = conn.execute(sa.select(results).where(results.c.id == result_id)).one_or_none()
            if row is None:
                raise NotFound(f"no result {result_id!r}")
            payload = conn.execute(
                sa.text("SELECT payload FROM ledger_events WHERE seq = :s"), {"s": row.seq}
            ).scalar_one_or_none()
        if payload is None or orjson.loads(payload).get("document") != _digest(row.document):
            raise IntegrityError(f"result {result_id} does not match its ledger event", seq=row.seq)
        return self._from_row(row)

    def list(
        self, *, kind: str | None = None, subject: str | None = None, limit: int = 100
    ) -> list[StoredResult]:
        query = sa.select(results).order_by(results.c.seq.desc()).limit(limit)
        if kind:
            query = query.where(results.c.kind == kind)
        if subject:
            query = query.where(results.c.subject == subject)
        with self._store.read() as conn:
            return [self._from_row(r) for r in conn.execute(query)]

    @staticmethod
    def _from_row(row: Any) -> StoredResult:
        return StoredResult(
            row.id,
            row.kind,
            row.subject,
            row.status,
            row.created,
            row.actor,
            int(row.seq),
            orjson.loads(row.document),
        )
