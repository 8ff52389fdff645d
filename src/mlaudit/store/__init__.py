"""Persistence: the workspace database, the ledger in it, and the artifact store.

``Store`` is the single write path: ``with store.write(actor) as tx:`` gives a transaction in
which every change records its ledger event (``tx.record``); both commit together or not at
all. ``store/`` knows tables and bytes, not statistics.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from mlaudit.errors import InputError, NotFound
from mlaudit.store import db, ledger, signing
from mlaudit.store.artifacts import ArtifactStore
from mlaudit.store.tables import workspace_meta

__all__ = ["Store", "StoreMeta", "Tx", "resolve"]

DB_FILE = "mlaudit.db"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class StoreMeta:
    workspace_id: str
    public_pem: str
    key_id: str
    created: str


@dataclass(frozen=True)
class Location:
    """Where a workspace lives: its database URL, key file and artifact root."""

    display: str
    url: str
    folder: Path | None
    key_path: Path | None
    artifacts: str | None


def resolve(
    target: str | Path | None,
    *,
    signing_key: str | Path | None = None,
    artifacts: str | None = None,
) -> Location:
    """Work out the database, key and artifact locations of ``target`` (folder or URL)."""
    from mlaudit.config import get_settings

    settings = get_settings()
    text = str(target) if target is not None else settings.workspace
    key = signing_key or settings.signing_key
    art = artifacts or settings.artifacts
    if "://" in text:
        return Location(db.redacted(text), text, None, Path(key) if key else None, art)
    folder = Path(text).expanduser().absolute()
    return Location(
        str(folder),
        f"sqlite:///{folder / DB_FILE}",
        folder,
        Path(key) if key else folder / "keys" / "ledger.pem",
        art or str(folder / "artifacts"),
    )


class Tx:
    """A write transaction: the connection plus the ledger recorder for this actor."""

    def __init__(self, conn: Connection, actor: str) -> None:
        self.conn = conn
        self.actor = actor
        self.events: list[ledger.Event] = []

    def record(self, action: str, subject: str, payload: Mapping[str, Any]) -> ledger.Event:
        """Append one ledger event in this transaction."""
        event = ledger.append(self.conn, [(self.actor, action, subject, payload)])[0]
        self.events.append(event)
        return event

    def record_many(self, entries: list[tuple[str, str, Mapping[str, Any]]]) -> list[ledger.Event]:
        made = ledger.append(self.conn, [(self.actor, a, s, p) for a, s, p in entries])
        self.events.extend(made)
        return made


class Store:
    """An open workspace store. Create with :meth:`open`."""

    def __init__(self, location: Location, engine: Engine, meta: StoreMeta) -> None:
        self.location = location
        self.engine = engine
        self.meta = meta
        self._artifacts: ArtifactStore | None = None

    @classmethod
    def open(cls, location: Location, *, create: bool, actor: str) -> Store:
        from mlaudit.config import get_settings

        settings = get_settings()
        if location.folder is not None:
            _check_folder(location.folder, create=create)
        engine = db.connect(
            location.url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            connect_timeout_s=settings.connect_timeout_s,
            synchronous=settings.sqlite_synchronous,
        )
        try:
            db.migrate(engine)
            meta = _read_meta(engine)
            if meta is None:
                if not create:
                    raise NotFound(
                        f"no mlaudit workspace in {location.display}",
                        hint=f"create one with `mlaudit init {location.display}`",
                    )
                meta = _initialise(engine, location, actor)
        except BaseException:
            engine.dispose()
            raise
        return cls(location, engine, meta)

    @property
    def artifacts(self) -> ArtifactStore:
        if self._artifacts is None:
            if not self.location.artifacts:
                raise InputError(
                    "this workspace has no artifact store",
                    hint="set MLAUDIT_ARTIFACTS to a folder or s3:// URL",
                )
            self._artifacts = ArtifactStore(self.location.artifacts)
        return self._artifacts

    @contextmanager
    def write(self, actor: str) -> Iterator[Tx]:
        """One transaction for a change and its ledger events."""
        with db.write_transaction(self.engine) as conn:
            yield Tx(conn, actor)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def signing_key(self) -> Any:
        """The private signing key (InputError if it is not available here or is corrupt)."""
        if self.location.key_path is None:
            raise InputError(
                "no signing key for this workspace",
                hint="set MLAUDIT_SIGNING_KEY to the key file given at `mlaudit init`",
            )
        return signing.load_private_key(self.location.key_path)

    def trusted_key_id(self) -> str | None:
        """Id of the key held outside the database, or None when no key file is reachable."""
        path = self.location.key_path
        if path is None or not path.exists():
            return None
        return signing.key_id(signing.load_private_key(path).public_key())

    def close(self) -> None:
        self.engine.dispose()


def _check_folder(folder: Path, *, create: bool) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError("the workspace path is a file, not a folder", path=str(folder))
    if not folder.exists():
        if not create:
            raise NotFound(
                f"no mlaudit workspace at {folder}",
                hint=f"create one with `mlaudit init {folder}`",
            )
        try:
            folder.mkdir(parents=True)
        except OSError as exc:
            raise InputError(
                f"cannot create the workspace folder: {exc.strerror}", path=str(folder)
            ) from exc
    elif not (folder / DB_FILE).exists():
        if not create:
            raise NotFound(
                f"no mlaudit workspace at {folder}",
                hint=f"create one with `mlaudit init {folder}`",
            )
        if any(p.name not in ("keys", "artifacts") for p in folder.iterdir()):
            raise InputError(
                "the folder exists and holds other files; refusing to make it a workspace",
                path=str(folder),
                hint="choose an empty or new folder",
            )


def _read_meta(engine: Engine) -> StoreMeta | None:
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.select(workspace_meta.c.key, workspace_meta.c.value)).all())
    if "workspace_id" not in rows:
        return None
    return StoreMeta(rows["workspace_id"], rows["public_key"], rows["key_id"], rows["created"])


def _initialise(engine: Engine, location: Location, actor: str) -> StoreMeta:
    key_path = location.key_path
    if key_path is None:
        raise InputError(
            "a new workspace needs a file for its signing key",
            hint="pass --key FILE (or set MLAUDIT_SIGNING_KEY); keep that file outside the database",
        )
    key = (
        signing.load_private_key(key_path) if key_path.exists() else signing.generate_key(key_path)
    )
    public = signing.public_pem(key.public_key())
    kid = signing.key_id(key.public_key())
    with db.write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727274002)")
        existing = conn.execute(
            sa.select(workspace_meta.c.value).where(workspace_meta.c.key == "workspace_id")
        ).scalar_one_or_none()
        if existing is None:
            from mlaudit import __version__

            meta = StoreMeta(uuid.uuid4().hex, public, kid, ledger.utc_now())
            conn.execute(
                sa.insert(workspace_meta),
                [
                    {"key": "workspace_id", "value": meta.workspace_id},
                    {"key": "public_key", "value": meta.public_pem},
                    {"key": "key_id", "value": meta.key_id},
                    {"key": "created", "value": meta.created},
                ],
            )
            ledger.init_head(conn)
            ledger.append(
                conn,
                [
                    (
                        actor,
                        "workspace.created",
                        f"workspace:{meta.workspace_id}",
                        {
                            "workspace_id": meta.workspace_id,
                            "key_id": kid,
                            "schema_version": SCHEMA_VERSION,
                            "mlaudit_version": __version__,
                        },
                    )
                ],
                ts=meta.created,
            )
            return meta
    found = _read_meta(engine)
    assert found is not None
    return found
