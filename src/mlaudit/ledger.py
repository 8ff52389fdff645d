"""``ws.ledger``: read, prove and verify the workspace's audit ledger.

>>> import mlaudit, tempfile
>>> ws = mlaudit.open(tempfile.mkdtemp() + "/ws")
>>> ws.ledger.verify().ok
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlaudit.governance.identity import require
from mlaudit.store import Store, checkpoints
from mlaudit.store import ledger as _ledger
from mlaudit.store.checkpoints import Checkpoint, ConsistencyProof, InclusionProof
from mlaudit.store.ledger import Event
from mlaudit.store.verify import LedgerVerification, verify

__all__ = [
    "Checkpoint",
    "ConsistencyProof",
    "Event",
    "InclusionProof",
    "Ledger",
    "LedgerVerification",
]


class Ledger:
    """The ledger of one workspace: every state change, hash-chained and signed."""

    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor

    def record(self, action: str, subject: str, payload: Mapping[str, Any]) -> Event:
        """Record an event that changes nothing else (e.g. a note or an external decision)."""
        with self._store.write(self._actor) as tx:
            return tx.record(action, subject, payload)

    def record_batch(self, entries: Iterable[tuple[str, str, Mapping[str, Any]]]) -> list[Event]:
        """Record many events in one transaction (one lock, one commit)."""
        with self._store.write(self._actor) as tx:
            return tx.record_many(list(entries))

    def size(self) -> int:
        with self._store.read() as conn:
            return _ledger.head(conn)[0]

    def log(
        self,
        *,
        action: str | None = None,
        subject: str | None = None,
        actor: str | None = None,
        start: int = 0,
        stop: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Event]:
        """Events with ``start <= seq < stop``, oldest first (or newest first), filtered by action
        (prefix with ``*``), subject or actor."""
        with self._store.read() as conn:
            return list(
                _ledger.events(
                    conn,
                    start=start,
                    stop=stop,
                    action=action,
                    subject=subject,
                    actor=actor,
                    limit=limit,
                    newest_first=newest_first,
                )
            )

    def checkpoint(self, export: str | Path | None = None) -> Checkpoint:
        """Sign and store a checkpoint of the ledger now; optionally export it to a file."""
        require(self._store, self._actor, "ledger.checkpoint")
        key = self._store.signing_key()
        meta = self._store.meta
        with self._store.write(self._actor) as tx:
            cp = checkpoints.create(
                tx.conn, workspace_id=meta.workspace_id, key=key, public_pem=meta.public_pem
            )
            tx.record(
                "ledger.checkpointed",
                f"checkpoint:{cp.tree_size}",
                {
                    "tree_size": cp.tree_size,
                    "root": cp.root,
                    "key_id": cp.key_id,
                    "exported": export is not None,
                },
            )
        if export is not None:
            cp.export(export)
        return cp

    def checkpoints(self) -> list[Checkpoint]:
        meta = self._store.meta
        with self._store.read() as conn:
            return checkpoints.stored(
                conn, workspace_id=meta.workspace_id, public_pem=meta.public_pem
            )

    def prove(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        """Inclusion proof of event ``seq`` (O(log n) stored nodes read)."""
        with self._store.read() as conn:
            return checkpoints.prove_inclusion(conn, seq, tree_size)

    def prove_consistency(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        with self._store.read() as conn:
            return checkpoints.prove_consistency(conn, old_size, new_size)

    def verify(
        self,
        checkpoint_files: Sequence[str | Path] = (),
        *,
        progress: Callable[[int], None] | None = None,
    ) -> LedgerVerification:
        """Recompute chain, tree and signatures; compare with exported checkpoints."""
        exported = [Checkpoint.load(p) for p in checkpoint_files]
        trusted = self._store.trusted_key_id()
        with self._store.read() as conn:
            return verify(
                conn,
                meta=self._store.meta,
                trusted_key_id=trusted,
                exported=exported,
                progress=progress,
            )
