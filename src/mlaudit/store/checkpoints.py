"""Signed checkpoints of the ledger's Merkle tree, and inclusion / consistency proofs.

A checkpoint says "the first ``tree_size`` events of workspace ``W`` have Merkle root ``R``",
signed with the workspace's Ed25519 key. Checkpoints are stored in the database and can be
exported to a file kept where the database admin cannot reach it: ``ledger verify
--checkpoint FILE`` then detects a truncated or rewritten ledger.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import Connection

from mlaudit.errors import InputError, NotFound
from mlaudit.store import ledger, merkle, signing
from mlaudit.store.tables import ledger_checkpoints

__all__ = [
    "Checkpoint",
    "ConsistencyProof",
    "InclusionProof",
    "create",
    "prove_consistency",
    "prove_inclusion",
    "root_at",
    "stored",
]

KIND = "mlaudit.checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the ledger's Merkle root at ``tree_size`` events."""

    workspace_id: str
    tree_size: int
    root: str
    ts: str
    key_id: str
    signature: str
    public_key: str = ""

    def message(self) -> bytes:
        """The exact bytes that are signed."""
        return (
            f"mlaudit-checkpoint/v1\nworkspace {self.workspace_id}\nsize {self.tree_size}\n"
            f"root {self.root}\ntime {self.ts}\nkey {self.key_id}\n"
        ).encode()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": KIND, "schema_version": 1, **asdict(self)}

    def export(self, path: str | Path) -> Path:
        """Write this checkpoint as JSON to ``path`` (for safekeeping elsewhere)."""
        target = Path(path)
        if target.is_dir():
            raise InputError("is a folder; give a file name for the checkpoint", path=str(target))
        try:
            target.write_bytes(orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
        except OSError as exc:
            raise InputError(
                f"cannot write the checkpoint: {exc.strerror}", path=str(target)
            ) from exc
        return target

    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None) -> Checkpoint:
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise InputError("not an mlaudit checkpoint (kind is missing or wrong)", path=source)
        if data.get("schema_version") != 1:
            raise InputError(
                f"unsupported checkpoint schema_version {data.get('schema_version')!r}", path=source
            )
        try:
            cp = cls(
                workspace_id=str(data["workspace_id"]),
                tree_size=int(data["tree_size"]),
                root=str(data["root"]),
                ts=str(data["ts"]),
                key_id=str(data["key_id"]),
                signature=str(data["signature"]),
                public_key=str(data.get("public_key", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"the checkpoint lacks or garbles field {exc}", path=source) from exc
        if cp.tree_size < 0 or len(cp.root) != 64:
            raise InputError("the checkpoint's size or root is malformed", path=source)
        return cp

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        """Read an exported checkpoint file; unreadable or malformed files are InputError."""
        p = Path(path)
        try:
            data = orjson.loads(p.read_bytes())
        except FileNotFoundError as exc:
            raise InputError("no such checkpoint file", path=str(p)) from exc
        except (OSError, orjson.JSONDecodeError) as exc:
            raise InputError(f"cannot read the checkpoint: {exc}", path=str(p)) from exc
        return cls.from_dict(data, source=str(p))


@dataclass(frozen=True)
class InclusionProof:
    """Proof that event ``seq`` (leaf ``seq``) is in the tree of ``tree_size`` events."""

    seq: int
    tree_size: int
    event_hash: str
    leaf_hash: str
    path: tuple[str, ...]
    root: str

    def verify(self) -> bool:
        return merkle.verify_inclusion(
            bytes.fromhex(self.leaf_hash),
            self.seq,
            self.tree_size,
            [bytes.fromhex(h) for h in self.path],
            bytes.fromhex(self.root),
        ) and merkle.leaf_hash(bytes.fromhex(self.event_hash)) == bytes.fromhex(self.leaf_hash)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "mlaudit.inclusion_proof",
            "schema_version": 1,
            **asdict(self),
            "path": list(self.path),
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """Proof that the tree of ``old_size`` events is a prefix of the tree of ``new_size``."""

    old_size: int
    new_size: int
    old_root: str
    new_root: str
    path: tuple[str, ...]

    def verify(self) -> bool:
        return merkle.verify_consistency(
            self.old_size,
            self.new_size,
            bytes.fromhex(self.old_root),
            bytes.fromhex(self.new_root),
            [bytes.fromhex(h) for h in self.path],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "mlaudit.consistency_proof",
            "schema_version": 1,
            **asdict(self),
            "path": list(self.path),
        }


def _node_getter(conn: Connection, wanted: set[tuple[int, int]]) -> Any:
    nodes = ledger.load_nodes(conn, wanted)

    def node(level: int, idx: int) -> bytes:
        try:
            return nodes[(level, idx)]
        except KeyError:
            from mlaudit.errors import IntegrityError

            raise IntegrityError(
                f"ledger tree node (level {level}, index {idx}) is missing", seq=idx << level
            ) from None

    return node


def root_at(conn: Connection, size: int) -> str:
    """Merkle root (hex) of the first ``size`` events, from stored nodes."""
    if size == 0:
        return merkle.EMPTY_ROOT.hex()
    node = _node_getter(conn, set(merkle.perfect_subtrees(0, size)))
    return merkle.range_hash(0, size, node).hex()


def create(
    conn: Connection, *, workspace_id: str, key: Ed25519PrivateKey, public_pem: str
) -> Checkpoint:
    """Sign and store a checkpoint of the ledger as it is now (reused if one exists at that size).

    The ledger head is locked first, so that concurrent writers (other server processes on
    PostgreSQL) neither append under the checkpoint nor sign the same size twice."""
    size, _ = ledger.head(conn, lock=True)
    existing = conn.execute(
        sa.select(ledger_checkpoints).where(ledger_checkpoints.c.tree_size == size)
    ).one_or_none()
    if existing is not None:
        return Checkpoint(
            workspace_id,
            size,
            existing.root,
            existing.ts,
            existing.key_id,
            existing.signature,
            public_pem,
        )
    kid = signing.key_id(key.public_key())
    unsigned = Checkpoint(
        workspace_id, size, root_at(conn, size), ledger.utc_now(), kid, "", public_pem
    )
    signature = signing.sign(key, unsigned.message())
    conn.execute(
        sa.insert(ledger_checkpoints).values(
            tree_size=size, root=unsigned.root, ts=unsigned.ts, key_id=kid, signature=signature
        )
    )
    return Checkpoint(workspace_id, size, unsigned.root, unsigned.ts, kid, signature, public_pem)


def stored(conn: Connection, *, workspace_id: str, public_pem: str) -> list[Checkpoint]:
    """Every checkpoint stored in the database, oldest first."""
    rows = conn.execute(sa.select(ledger_checkpoints).order_by(ledger_checkpoints.c.tree_size))
    return [
        Checkpoint(workspace_id, int(r.tree_size), r.root, r.ts, r.key_id, r.signature, public_pem)
        for r in rows
    ]


def prove_inclusion(conn: Connection, seq: int, tree_size: int | None = None) -> InclusionProof:
    """Inclusion proof of event ``seq`` in the tree of ``tree_size`` (default: all) events."""
    size = ledger.head(conn)[0] if tree_size is None else tree_size
    if not 0 <= seq < size:
        raise NotFound(f"no event {seq} in a ledger of {size} events", seq=seq)
    current = ledger.head(conn)[0]
    if size > current:
        raise InputError(f"tree size {size} is larger than the ledger ({current} events)")
    ranges = merkle.inclusion_ranges(seq, size)
    wanted = merkle.nodes_for(ranges) | set(merkle.perfect_subtrees(0, size)) | {(0, seq)}
    node = _node_getter(conn, wanted)
    path = merkle.inclusion_proof(seq, size, node)
    event_hash = conn.execute(
        sa.text("SELECT hash FROM ledger_events WHERE seq = :seq"), {"seq": seq}
    ).scalar_one()
    return InclusionProof(
        seq=seq,
        tree_size=size,
        event_hash=event_hash,
        leaf_hash=node(0, seq).hex(),
        path=tuple(h.hex() for h in path),
        root=merkle.range_hash(0, size, node).hex(),
    )


def prove_consistency(
    conn: Connection, old_size: int, new_size: int | None = None
) -> ConsistencyProof:
    """Consistency proof between the trees of ``old_size`` and ``new_size`` events."""
    current = ledger.head(conn)[0]
    new = current if new_size is None else new_size
    if not 0 < old_size <= new <= current:
        raise InputError(
            f"need 0 < old size ({old_size}) <= new size ({new}) <= ledger size ({current})"
        )
    ranges = merkle.consistency_ranges(old_size, new)
    wanted = (
        merkle.nodes_for(ranges)
        | set(merkle.perfect_subtrees(0, old_size))
        | set(merkle.perfect_subtrees(0, new))
    )
    node = _node_getter(conn, wanted)
    return ConsistencyProof(
        old_size=old_size,
        new_size=new,
        old_root=merkle.range_hash(0, old_size, node).hex(),
        new_root=merkle.range_hash(0, new, node).hex(),
        path=tuple(h.hex() for h in merkle.consistency_proof(old_size, new, node)),
    )
