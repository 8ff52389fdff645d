"""Schema changes between two versions of a table: added, removed and retyped columns.

>>> import pyarrow as pa
>>> str(schema_diff(pa.schema({"a": pa.int64(), "b": pa.string()}), pa.schema({"a": pa.float64()})))
'- b (string); ~ a int64 -> double'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

__all__ = ["SchemaDiff", "schema_diff"]


@dataclass(frozen=True)
class SchemaDiff:
    """What changed from an old schema to a new one (types as Arrow type strings).

    ``added``/``removed``: ``(name, type)`` pairs in schema order; ``retyped``:
    ``(name, old_type, new_type)``; ``reordered``: the common columns appear in another order.
    """

    added: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = ()
    reordered: bool = False

    @property
    def changed(self) -> bool:
        """True when a column was added, removed, retyped or moved."""
        return bool(self.added or self.removed or self.retyped or self.reordered)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, e.g. for ledger payloads and ``--json`` output."""
        return {
            "added": [{"name": n, "type": t} for n, t in self.added],
            "removed": [{"name": n, "type": t} for n, t in self.removed],
            "retyped": [{"name": n, "old": o, "new": t} for n, o, t in self.retyped],
            "reordered": self.reordered,
        }

    def __str__(self) -> str:
        parts = [f"+ {n} ({t})" for n, t in self.added]
        parts += [f"- {n} ({t})" for n, t in self.removed]
        parts += [f"~ {n} {o} -> {t}" for n, o, t in self.retyped]
        if self.reordered:
            parts.append("columns reordered")
        return "; ".join(parts) if parts else "no schema change"


def _fields(schema: pa.Schema) -> dict[str, str]:
    out: dict[str, str] = {}
    for f in schema:
        out.setdefault(f.name, str(f.type))  # a repeated name: the first one counts
    return out


def schema_diff(old: pa.Schema, new: pa.Schema) -> SchemaDiff:
    """The :class:`SchemaDiff` from ``old`` to ``new`` (by column name; nullability ignored).

    >>> schema_diff(pa.schema({"a": pa.int64()}), pa.schema({"a": pa.int64()})).changed
    False
    """
    before, after = _fields(old), _fields(new)
    common_old = [n for n in before if n in after]
    common_new = [n for n in after if n in before]
    return SchemaDiff(
        added=tuple((n, t) for n, t in after.items() if n not in before),
        removed=tuple((n, t) for n, t in before.items() if n not in after),
        retyped=tuple((n, before[n], after[n]) for n in common_new if before[n] != after[n]),
        reordered=common_old != common_new,
    )
