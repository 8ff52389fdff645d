"""``ws.datasets``: named datasets and their immutable, content-fingerprinted versions.

Logging data computes its fingerprint, schema, profile and PII findings; the same content
logged twice is the same version (``created`` is False). Each new version is recorded in the
ledger with its fingerprint and source (credentials stripped) — never with raw values.

>>> import mlaudit, tempfile
>>> ws = mlaudit.open(tempfile.mkdtemp() + "/ws")
>>> first = ws.datasets.log("train", {"age": [31, 45], "city": ["Oslo", "Lima"]})
>>> again = ws.datasets.log("train", {"age": [31, 45], "city": ["Oslo", "Lima"]})
>>> (first.created, again.created, again.version.number)
(True, False, 1)
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from mlaudit.artifacts import record_artifact
from mlaudit.errors import InputError, NotFound
from mlaudit.governance.identity import require
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import artifacts, dataset_versions, datasets, erasures

__all__ = ["DatasetVersion", "Datasets", "LogResult", "parse_ref"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,199}$")
_REF = re.compile(r"^(?P<name>[^@]+?)(?:@(?P<version>v?\d+|[0-9a-f]{32}|latest))?$")


def parse_ref(ref: str) -> tuple[str, str | None]:
    """``"train@v2"`` → ``("train", "2")``; ``"train"`` → ``("train", None)``."""
    m = _REF.match(ref.strip())
    if not m:
        raise InputError(f"not a dataset reference: {ref!r}", hint="use NAME, NAME@vN or NAME@<version id>")
    version = m.group("version")
    if version and version.startswith("v") and version[1:].isdigit():
        version = version[1:]
    return m.group("name"), None if version in (None, "latest") else version


@dataclass(frozen=True)
class DatasetVersion:
    """One immutable version of a dataset."""

    id: str
    dataset: str
    number: int
    fingerprint: str
    unordered: bool
    rows: int
    columns: int
    schema: list[dict[str, str]]
    profile: str | None
    data: str | None
    source: str | None
    query: str | None
    pii: list[dict[str, Any]]
    created: str
    actor: str
    seq: int
    erased: str | None = None  # when its raw data (snapshot, profile) was erased (ws.retention)

    @property
    def node(self) -> str:
        """Lineage node id of this version."""
        return f"dataset:{self.dataset}@{self.id}"

    @property
    def ref(self) -> str:
        return f"{self.dataset}@v{self.number}"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"node": self.node, "ref": self.ref}


@dataclass(frozen=True)
class LogResult:
    """What ``log`` did: the version, whether it is new, and how the schema changed."""

    version: DatasetVersion
    created: bool
    schema_change: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        v = self.version
        return {
            "dataset": v.dataset,
            "version_id": v.id,
            "version": v.number,
            "fingerprint": v.fingerprint,
            "rows": v.rows,
            "columns": v.columns,
            "created": self.created,
            "schema_change": self.schema_change,
            "pii": v.pii,
            "source": v.source,
        }


class Datasets:
    """Datasets of one workspace."""

    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor

    def log(
        self,
        name: str,
        data: Any = None,
        *,
        source: str | os.PathLike[str] | None = None,
        query: str | None = None,
        table: str | None = None,
        unordered: bool = False,
        keep_data: bool = False,
        pii: bool = True,
    ) -> LogResult:
        """Log a version of dataset ``name`` from ``data`` (any table-like) or ``source``.

        ``source`` is a file path, glob, cloud URL or SQLAlchemy URL (with ``query`` or
        ``table``); ``unordered`` makes the fingerprint independent of row order;
        ``keep_data`` also stores a Parquet snapshot in the artifact store.
        """
        require(self._store, self._actor, "dataset.log")
        from mlaudit.data.fingerprint import fingerprint
        from mlaudit.data.sources import read, source_info
        from mlaudit.frames import to_table
        from mlaudit.stats.profile import profile

        if not isinstance(name, str) or not _NAME.match(name) or "@" in name:
            raise InputError(
                f"not a usable dataset name: {name!r}",
                hint="letters, digits, '.', '_', '-', '/'; at most 200 characters",
            )
        if data is None and source is None:
            raise InputError("give the data or a source to read it from")
        info = source_info(source, query=query, table=table) if source is not None else None
        tbl = to_table(data) if data is not None else read(source, query=query, table=table)  # type: ignore[arg-type]
        if tbl.num_columns == 0:
            raise InputError("the data has no columns", path=info.uri if info else None)
        fp = fingerprint(tbl, unordered=unordered)
        prof = profile(tbl)
        findings = [f.to_dict() for f in _scan_pii(tbl)] if pii else []
        schema = [{"name": f.name, "type": str(f.type)} for f in tbl.schema]

        profile_bytes = prof.to_bytes()
        profile_digest = self._store.artifacts.put(profile_bytes)
        snapshot = _parquet_bytes(tbl) if keep_data else None
        data_digest = self._store.artifacts.put(snapshot) if snapshot is not None else None

        with self._store.write(self._actor) as tx:
            conn = tx.conn
            known = conn.execute(
                sa.select(datasets.c.name).where(datasets.c.name == name)
            ).scalar_one_or_none()
            if known is None:
                conn.execute(sa.insert(datasets).values(name=name, created=utc_now(), actor=self._actor))
                tx.record("dataset.created", f"dataset:{name}", {"dataset": name})
            same = conn.execute(
                sa.select(dataset_versions).where(
                    dataset_versions.c.dataset == name, dataset_versions.c.fingerprint == fp
                )
            ).one_or_none()
            if same is not None:
                return LogResult(_version(same), created=False)
            latest = conn.execute(
                sa.select(dataset_versions)
                .where(dataset_versions.c.dataset == name)
                .order_by(dataset_versions.c.number.desc())
                .limit(1)
            ).one_or_none()
            change = _schema_change(orjson.loads(latest.schema), schema) if latest is not None else None
            record_artifact(
                tx, profile_digest, len(profile_bytes), "application/x-mlaudit-profile", f"{name} profile"
            )
            if data_digest is not None and snapshot is not None:
                record_artifact(
                    tx, data_digest, len(snapshot), "application/vnd.apache.parquet", f"{name}.parquet"
                )
            number = (latest.number if latest is not None else 0) + 1
            vid = uuid.uuid4().hex
            row = {
                "id": vid,
                "dataset": name,
                "number": number,
                "fingerprint": fp,
                "unordered": int(unordered),
                "rows": tbl.num_rows,
                "columns": tbl.num_columns,
                "schema": orjson.dumps(schema).decode(),
                "profile": profile_digest,
                "data": data_digest,
                "source": info.uri if info else None,
                "query": query or (f"table {table}" if table else None),
                "pii": orjson.dumps(findings).decode(),
                "created": utc_now(),
                "actor": self._actor,
            }
            event = tx.record(
                "dataset.version_logged",
                f"dataset:{name}@{vid}",
                {
                    "dataset": name,
                    "version_id": vid,
                    "version": number,
                    "fingerprint": fp,
                    "unordered": unordered,
                    "rows": tbl.num_rows,
                    "columns": tbl.num_columns,
                    "source": row["source"],
                    "profile": profile_digest,
                    "data": data_digest,
                    "schema_change": change,
                    "pii": [{"column": f["column"], "type": f["pii_type"]} for f in findings],
                },
            )
            conn.execute(sa.insert(dataset_versions).values(**row, seq=event.seq))
        return LogResult(_version(row | {"seq": event.seq}), created=True, schema_change=change)

    def get(self, ref: str, version: str | int | None = None) -> DatasetVersion:
        """A version by ``"name"`` (latest), ``"name@v3"``, ``"name@<id>"``, or name + version."""
        name, parsed = parse_ref(ref)
        wanted = str(version) if version is not None else parsed
        query = sa.select(dataset_versions).where(dataset_versions.c.dataset == name)
        if wanted is None:
            query = query.order_by(dataset_versions.c.number.desc()).limit(1)
        elif wanted.isdigit():
            query = query.where(dataset_versions.c.number == int(wanted))
        else:
            query = query.where(dataset_versions.c.id == wanted)
        with self._store.read() as conn:
            row = conn.execute(query).one_or_none()
            erased = _erased(conn, name)
        if row is None:
            raise NotFound(f"no dataset version {ref!r}" + (f" version {version}" if version else ""))
        return _version(row, erased)

    def versions(self, name: str) -> list[DatasetVersion]:
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(dataset_versions)
                .where(dataset_versions.c.dataset == name)
                .order_by(dataset_versions.c.number)
            ).all()
            erased = _erased(conn, name)
        if not rows:
            raise NotFound(f"no dataset {name!r}")
        return [_version(r, erased) for r in rows]

    def schema_change(self, old: str, new: str) -> dict[str, Any] | None:
        """Columns ``added``, ``removed`` and ``retyped`` from version ``old`` to ``new``
        (``"train@v1"``, ``"train@v2"``); None when the schemas are equal."""
        return _schema_change(self.get(old).schema, self.get(new).schema)

    def names(self) -> list[str]:
        with self._store.read() as conn:
            return list(conn.execute(sa.select(datasets.c.name).order_by(datasets.c.name)).scalars())

    def data(self, version: DatasetVersion) -> Any:
        """The rows of ``version`` as a ``pyarrow.Table``, when it was logged with ``keep_data=True``."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if version.data is None:
            raise NotFound(
                f"dataset version {version.ref} kept no data",
                hint="log it with keep_data=True (`mlaudit data log --keep-data`) or pass the file",
            )
        self._check_erased(version, version.data, "data")
        return pq.read_table(pa.BufferReader(self._store.artifacts.get(version.data)))

    def profile(self, version: DatasetVersion) -> Any:
        """The stored profile of ``version`` (a :class:`mlaudit.stats.profile.Profile`)."""
        from mlaudit.stats.profile import Profile

        if version.profile is None:
            raise NotFound(f"dataset version {version.ref} has no stored profile")
        self._check_erased(version, version.profile, "profile")
        return Profile.from_bytes(self._store.artifacts.get(version.profile))

    def _check_erased(self, version: DatasetVersion, digest: str, what: str) -> None:
        """NotFound saying when, by whom and why, when the bytes of ``digest`` were erased."""
        with self._store.read() as conn:
            gone = conn.execute(sa.select(artifacts.c.erased).where(artifacts.c.digest == digest)).scalar()
            if gone is None:
                return
            rows = conn.execute(
                sa.select(erasures)
                .where(erasures.c.dataset == version.dataset, erasures.c.version == version.number)
                .order_by(erasures.c.seq)
            ).all()
        row = next((r for r in rows if digest in orjson.loads(r.digests)), None)
        if row is None:  # the same bytes were erased as an artifact (`ws.artifacts.erase`)
            raise NotFound(f"the {what} of {version.ref} was erased on {gone}")
        raise NotFound(
            f"the {what} of {version.ref} was erased on {row.created} by {row.actor}: {row.reason}",
            hint="its fingerprint, schema and row count remain; log the data again if you still hold it",
        )


def _erased(conn: Any, name: str) -> dict[int, str]:
    """When each erased version of dataset ``name`` was first erased: ``{number: time}``."""
    rows = conn.execute(
        sa.select(erasures.c.version, erasures.c.created)
        .where(erasures.c.dataset == name)
        .order_by(erasures.c.seq.desc())
    ).all()
    return {int(r.version): str(r.created) for r in rows}


def _version(row: Any, erased: dict[int, str] | None = None) -> DatasetVersion:
    r = row._asdict() if hasattr(row, "_asdict") else dict(row)
    return DatasetVersion(
        id=r["id"],
        dataset=r["dataset"],
        number=int(r["number"]),
        fingerprint=r["fingerprint"],
        unordered=bool(r["unordered"]),
        rows=int(r["rows"]),
        columns=int(r["columns"]),
        schema=orjson.loads(r["schema"]),
        profile=r["profile"],
        data=r["data"],
        source=r["source"],
        query=r["query"],
        pii=orjson.loads(r["pii"]),
        created=r["created"],
        actor=r["actor"],
        seq=int(r["seq"]),
        erased=(erased or {}).get(int(r["number"])),
    )


def _scan_pii(table: Any) -> Sequence[Any]:
    from mlaudit.data.pii import scan

    return scan(table)


def _schema_change(old: list[dict[str, str]], new: list[dict[str, str]]) -> dict[str, Any] | None:
    """Added, removed and retyped columns between two stored schemas (None when equal)."""
    before = {f["name"]: f["type"] for f in old}
    after = {f["name"]: f["type"] for f in new}
    added = [n for n in after if n not in before]
    removed = [n for n in before if n not in after]
    retyped = [
        {"column": n, "old": before[n], "new": after[n]}
        for n in after
        if n in before and before[n] != after[n]
    ]
    if not (added or removed or retyped):
        return None
    return {"added": added, "removed": removed, "retyped": retyped}


def _parquet_bytes(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())
