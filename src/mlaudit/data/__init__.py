"""Data: where tables come from and how to tell two tables apart.

A *source* is a file, a glob, an object-storage URL or a SQLAlchemy URL; :func:`read` turns it
into a ``pyarrow.Table`` and :func:`read_batches` into record batches for data larger than
memory. A *fingerprint* (:func:`fingerprint`) names a table's content — the same rows give the
same ``sha256:…`` whichever source they were read from. :func:`schema_diff` says how the columns
of two versions differ. :func:`scan` finds personal data (PII) in columns, reporting masked
examples only.

>>> fingerprint({"x": [1, 2]}) == fingerprint({"x": [1, 2]})
True
"""

from __future__ import annotations

from mlaudit.data.fingerprint import Fingerprinter, fingerprint, normalize
from mlaudit.data.pii import PiiFinding, mask, scan
from mlaudit.data.schema import SchemaDiff, schema_diff
from mlaudit.data.sources import SourceInfo, describe, read, read_batches, source_info

__all__ = [
    "Fingerprinter",
    "PiiFinding",
    "SchemaDiff",
    "SourceInfo",
    "describe",
    "fingerprint",
    "mask",
    "normalize",
    "read",
    "read_batches",
    "scan",
    "schema_diff",
    "source_info",
]
