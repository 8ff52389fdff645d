"""``ws.models``: registered models and their versions, in the ledger and the lineage graph.

Registering loads the model through its adapter (so a file that cannot be scored is refused,
and a pickle is refused unless trusted), stores the artifact by content, and records a
``model.version_registered`` event; the datasets it was trained on become lineage edges into
the model version. The same artifact registered twice is the same version.
"""

from __future__ import annotations

import os
import pickle
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from mlaudit.artifacts import record_artifact
from mlaudit.errors import InputError, NotFound
from mlaudit.governance.identity import require
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import model_facts, model_versions, models

__all__ = ["FACT_FIELDS", "ModelFact", "ModelRegistry", "ModelVersion", "RegisterResult"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,199}$")

# Documentation facts only a person can give (``ws.models.describe``); compliance documents
# quote them and report a gap where one is missing.
FACT_FIELDS = (
    "purpose",
    "intended_use",
    "out_of_scope_use",
    "users",
    "limitations",
    "ethical_considerations",
    "training_procedure",
    "developers",
    "validator",
    "risk_owner",
)


@dataclass(frozen=True)
class ModelFact:
    """One documentation fact of a model: its text, who set it, when, and the ledger seq."""

    field: str
    value: str
    updated: str
    actor: str
    seq: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of a model."""

    id: str
    model: str
    number: int
    framework: str
    fingerprint: str
    artifact: str | None
    uri: str | None
    task: str | None
    classes: list[Any]
    features: list[str]
    target: str | None
    sensitive: list[str]
    trained_on: list[str]
    owner: str | None
    status: str
    created: str
    actor: str
    seq: int

    @property
    def node(self) -> str:
        """Lineage node id of this version."""
        return f"model:{self.model}@{self.id}"

    @property
    def ref(self) -> str:
        return f"{self.model}@v{self.number}"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"node": self.node, "ref": self.ref}


@dataclass(frozen=True)
class RegisterResult:
    version: ModelVersion
    created: bool

    def to_dict(self) -> dict[str, Any]:
        data = self.version.to_dict()
        data["registered_at"] = data.pop("created")
        return data | {"created": self.created}


class ModelRegistry:
    """Models of one workspace."""

    def __init__(self, store: Store, actor: str, workspace: Any) -> None:
        self._store = store
        self._actor = actor
        self._ws = workspace

    def register(
        self,
        name: str,
        artifact: Any,
        *,
        framework: str | None = None,
        trust_pickle: bool = False,
        trained_on: Sequence[Any] = (),
        features: Sequence[str] | None = None,
        target: str | None = None,
        sensitive: Sequence[str] = (),
        owner: str | None = None,
        **options: Any,
    ) -> RegisterResult:
        """Register ``artifact`` (a file, an http(s) URL, or an in-memory model) as a version of ``name``.

        ``trained_on`` names dataset versions (``"train@v2"``, a DatasetVersion, or a node id).
        """
        from mlaudit.models import load

        require(self._store, self._actor, "model.register", project=str(name))
        if not isinstance(name, str) or not _NAME.match(name) or "@" in name:
            raise InputError(f"not a usable model name: {name!r}", hint="letters, digits, '.', '_', '-', '/'")
        model = load(artifact, framework=framework, trust_pickle=trust_pickle, **options)
        feats = list(features) if features is not None else list(model.feature_names or [])
        nodes = [self._dataset_node(x) for x in trained_on]
        digest, size, uri = self._store_artifact(artifact)
        with self._store.write(self._actor) as tx:
            conn = tx.conn
            if (
                conn.execute(sa.select(models.c.name).where(models.c.name == name)).scalar_one_or_none()
                is None
            ):
                conn.execute(
                    sa.insert(models).values(name=name, created=utc_now(), actor=self._actor, owner=owner)
                )
                tx.record("model.created", f"model:{name}", {"model": name, "owner": owner})
            same = conn.execute(
                sa.select(model_versions).where(
                    model_versions.c.model == name, model_versions.c.fingerprint == model.fingerprint
                )
            ).one_or_none()
            if same is not None:
                return RegisterResult(_version(same), created=False)
            if digest is not None and size is not None:
                record_artifact(tx, digest, size, "application/octet-stream", f"{name} ({model.framework})")
            number = 1 + (
                conn.execute(
                    sa.select(sa.func.max(model_versions.c.number)).where(model_versions.c.model == name)
                ).scalar_one_or_none()
                or 0
            )
            vid = uuid.uuid4().hex
            row: dict[str, Any] = {
                "id": vid,
                "model": name,
                "number": number,
                "framework": model.framework,
                "fingerprint": model.fingerprint,
                "artifact": digest,
                "uri": uri,
                "task": model.task,
                "classes": orjson.dumps(list(model.classes or []), default=str).decode(),
                "features": orjson.dumps(feats).decode(),
                "target": target,
                "sensitive": orjson.dumps(list(sensitive)).decode(),
                "trained_on": orjson.dumps(nodes).decode(),
                "owner": owner,
                "status": "draft",
                "created": utc_now(),
                "actor": self._actor,
            }
            event = tx.record(
                "model.version_registered",
                f"model:{name}@{vid}",
                {
                    k: orjson.loads(str(v)) if k in ("classes", "features", "sensitive", "trained_on") else v
                    for k, v in row.items()
                    if k not in ("created", "actor")
                },
            )
            conn.execute(sa.insert(model_versions).values(**row, seq=event.seq))
        version = _version(row | {"seq": event.seq})
        if nodes:
            with self._ws.run(f"train/{name}", parameters={"model_version": version.ref}, git=False) as run:
                for node in nodes:
                    run.consumes(node)
                run.produces(version)
        return RegisterResult(version, created=True)

    def describe(self, name: str, **facts: str | None) -> dict[str, ModelFact]:
        """Set documentation facts of model ``name`` (free text; ``None`` or ``""`` clears one).

        Fields: see ``FACT_FIELDS``. Changed fields are recorded in one ``model.described``
        event; returns every fact the model now has.
        """
        require(self._store, self._actor, "model.describe", project=name)
        unknown = sorted(set(facts) - set(FACT_FIELDS))
        if unknown:
            raise InputError(
                f"unknown model fact(s): {', '.join(unknown)}", hint=f"allowed: {', '.join(FACT_FIELDS)}"
            )
        for key, value in facts.items():
            if value is not None and not isinstance(value, str):
                raise InputError(f"model fact {key!r} must be text, not {type(value).__name__}")
        with self._store.write(self._actor) as tx:
            conn = tx.conn
            if conn.execute(sa.select(models.c.name).where(models.c.name == name)).first() is None:
                raise NotFound(f"no model {name!r}", hint="see `mlaudit model list`")
            current = {
                r.field: r.value
                for r in conn.execute(sa.select(model_facts).where(model_facts.c.model == name))
            }
            changed: dict[str, str | None] = {}
            for key, value in facts.items():
                text = (value or "").strip() or None
                if current.get(key) != text:
                    changed[key] = text
            if changed:
                event = tx.record("model.described", f"model:{name}", {"model": name, "changed": changed})
                now = utc_now()
                for key, text in changed.items():
                    where = (model_facts.c.model == name) & (model_facts.c.field == key)
                    conn.execute(sa.delete(model_facts).where(where))
                    if text is not None:
                        row = {"value": text, "updated": now, "actor": self._actor, "seq": event.seq}
                        conn.execute(sa.insert(model_facts).values(model=name, field=key, **row))
        return self.facts(name)

    def facts(self, name: str) -> dict[str, ModelFact]:
        """The documentation facts of model ``name`` (field → :class:`ModelFact`), in field order."""
        with self._store.read() as conn:
            rows = conn.execute(sa.select(model_facts).where(model_facts.c.model == name)).all()
        found = {r.field: ModelFact(r.field, r.value, r.updated, r.actor, int(r.seq)) for r in rows}
        return {k: found[k] for k in FACT_FIELDS if k in found}

    def get(self, ref: str) -> ModelVersion:
        """A version by ``"name"`` (latest), ``"name@v2"`` or ``"name@<id>"``."""
        from mlaudit.datasets import parse_ref

        name, wanted = parse_ref(ref)
        query = sa.select(model_versions).where(model_versions.c.model == name)
        if wanted is None:
            query = query.order_by(model_versions.c.number.desc()).limit(1)
        elif wanted.isdigit():
            query = query.where(model_versions.c.number == int(wanted))
        else:
            query = query.where(model_versions.c.id == wanted)
        with self._store.read() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            raise NotFound(f"no model version {ref!r}", hint="see `mlaudit model list`")
        return _version(row)

    def list(self) -> list[ModelVersion]:
        with self._store.read() as conn:
            rows = conn.execute(
                sa.select(model_versions).order_by(model_versions.c.model, model_versions.c.number)
            )
            return [_version(r) for r in rows]

    def load(self, ref: str, *, trust_pickle: bool = False, **options: Any) -> Any:
        """The registered version as a scoring :class:`mlaudit.models.Model` (bytes re-checked)."""
        import tempfile

        from mlaudit.models import load

        v = self.get(ref)
        if v.artifact is None:
            return load(v.uri, framework=v.framework, **options)
        data = self._store.artifacts.get(v.artifact)
        suffix = {"onnx": ".onnx", "torch": ".pt", "keras": ".keras", "h2o": ".zip"}.get(v.framework, ".pkl")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"model{suffix}"
            path.write_bytes(data)
            return load(path, framework=v.framework, trust_pickle=trust_pickle, **options)

    def _dataset_node(self, obj: Any) -> str:
        if hasattr(obj, "node"):
            return str(obj.node)
        text = str(obj)
        if text.startswith(("dataset:", "ol:")):
            return text
        return str(self._ws.datasets.get(text).node)

    def _store_artifact(self, artifact: Any) -> tuple[str | None, int | None, str | None]:
        if isinstance(artifact, (str, os.PathLike)):
            text = os.fspath(artifact)
            if text.startswith(("http://", "https://")):
                return None, None, text
            path = Path(text)
            return self._store.artifacts.put_file(path), path.stat().st_size, None
        if isinstance(artifact, bytes):
            return self._store.artifacts.put(artifact), len(artifact), None
        if callable(artifact) and not hasattr(artifact, "predict"):
            return None, None, None  # a plain function: fingerprinted by its source, nothing to store
        data = pickle.dumps(artifact)  # the caller's own in-memory model; loading it back needs trust
        return self._store.artifacts.put(data), len(data), None


def _version(row: Any) -> ModelVersion:
    r = row._asdict() if hasattr(row, "_asdict") else dict(row)
    return ModelVersion(
        id=r["id"],
        model=r["model"],
        number=int(r["number"]),
        framework=r["framework"],
        fingerprint=r["fingerprint"],
        artifact=r["artifact"],
        uri=r["uri"],
        task=r["task"],
        classes=orjson.loads(r["classes"]),
        features=orjson.loads(r["features"]),
        target=r["target"],
        sensitive=orjson.loads(r["sensitive"]),
        trained_on=orjson.loads(r["trained_on"]),
        owner=r["owner"],
        status=r["status"],
        created=r["created"],
        actor=r["actor"],
        seq=int(r["seq"]),
    )
