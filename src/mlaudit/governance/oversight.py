"""``ws.oversight``: human oversight of model outputs — who reviewed which case, what the model
said, what the person decided, and why.

Each record names a model version, a case (the caller's id: an application, a claim), the
model's output and the human decision (any JSON values) and a rationale, which is required.
A record whose decision differs from the output is an *override* (:func:`overrides`: when both
are JSON objects, only the fields the decision names are compared, so ``{"decision": "deny"}``
confirms ``{"decision": "deny", "score": 0.12}``); :meth:`Oversight.rates` gives the override
rate of each model version (overrides / records). Recording needs
``oversight.record`` (contributor, validator, approver, admin) and writes an
``oversight.recorded`` ledger event in the same transaction as the ``oversight_records`` row.
"""

from __future__ import annotations

import builtins
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from mlaudit.errors import InputError
from mlaudit.governance.findings import readable, require
from mlaudit.governance.inventory import parse_ts
from mlaudit.store import Store
from mlaudit.store.tables import model_versions, oversight_records

__all__ = ["OverrideRate", "Oversight", "OversightRecord", "overrides"]


def _canonical(value: Any, what: str) -> str:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError as exc:
        raise InputError(
            f"the {what} is not a JSON value: {exc}", hint="numbers, strings, lists, objects"
        ) from None


def overrides(model_output: Any, decision: Any) -> bool:
    """Whether ``decision`` differs from ``model_output`` (for two objects: on a field the
    decision names)."""
    if isinstance(model_output, dict) and isinstance(decision, dict):
        return any(
            k not in model_output or _canonical(model_output[k], "output") != _canonical(v, "decision")
            for k, v in decision.items()
        )
    return _canonical(model_output, "output") != _canonical(decision, "decision")


@dataclass(frozen=True)
class OversightRecord:
    id: str
    model: str
    version_id: str
    ref: str
    case_id: str
    model_output: Any
    decision: Any
    rationale: str
    created: str
    actor: str
    seq: int

    @property
    def overridden(self) -> bool:
        """The person decided otherwise than the model."""
        return overrides(self.model_output, self.decision)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"overridden": self.overridden}


@dataclass(frozen=True)
class OverrideRate:
    model: str
    version_id: str
    ref: str
    records: int
    overrides: int

    @property
    def rate(self) -> float:
        return self.overrides / self.records if self.records else 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"rate": round(self.rate, 6)}


class Oversight:
    """Human-oversight records of one workspace (``ws.oversight``)."""

    def __init__(self, store: Store, actor: str, workspace: Any) -> None:
        self._store = store
        self._actor = actor
        self._ws = workspace

    def record(
        self, model_ref: str, case_id: str, model_output: Any, decision: Any, rationale: str
    ) -> OversightRecord:
        """Record a person's ``decision`` on ``case_id`` where model version ``model_ref``
        (``"credit@v2"``; a bare name is the latest version) gave ``model_output``."""
        if not case_id or not str(case_id).strip():
            raise InputError("an oversight record needs a case id", hint="--case ID")
        if not rationale or not rationale.strip():
            raise InputError("an oversight record needs a rationale (why this decision)", hint="--rationale")
        out_text = _canonical(model_output, "model output")
        decision_text = _canonical(decision, "decision")
        v = self._ws.models.get(model_ref)
        require(self._ws, "oversight.record", v.model)
        rid = uuid.uuid4().hex
        payload = {
            "id": rid,
            "model": v.model,
            "version_id": v.id,
            "ref": v.ref,
            "case_id": str(case_id).strip(),
            "model_output": orjson.loads(out_text),
            "decision": orjson.loads(decision_text),
            "rationale": rationale.strip(),
            "overridden": overrides(orjson.loads(out_text), orjson.loads(decision_text)),
        }
        with self._store.write(self._actor) as tx:
            event = tx.record("oversight.recorded", v.node, payload)
            tx.conn.execute(
                sa.insert(oversight_records).values(
                    id=rid, model=v.model, version_id=v.id, case_id=payload["case_id"], model_output=out_text,
                    decision=decision_text, rationale=payload["rationale"], created=event.ts,
                    actor=self._actor, seq=event.seq,
                )
            )  # fmt: skip
        return OversightRecord(
            rid, v.model, v.id, v.ref, payload["case_id"], payload["model_output"], payload["decision"],
            payload["rationale"], event.ts, self._actor, event.seq,
        )  # fmt: skip

    def list(self, model: str | None = None, since: str | datetime | None = None) -> list[OversightRecord]:
        """Records, oldest first, of ``model`` (a name, or ``"name@vN"`` for one version) made at
        or after ``since`` (ISO 8601; a bare date is midnight UTC); only models the actor may read."""
        query = sa.select(oversight_records).order_by(oversight_records.c.seq)
        if model is not None:
            name = model.split("@", 1)[0]
            require(self._ws, "inventory.read", name)
            query = query.where(oversight_records.c.model == name)
            if "@" in model:
                query = query.where(oversight_records.c.version_id == self._ws.models.get(model).id)
        bound = None
        if since is not None:
            try:
                bound = since if isinstance(since, datetime) else parse_ts(since)
            except ValueError:
                raise InputError(f"not a date or time: {since!r}", hint="--since YYYY-MM-DD") from None
        with self._store.read() as conn:
            rows = [r for r in conn.execute(query) if bound is None or parse_ts(r.created) >= bound]
            ids = {r.version_id for r in rows}
            known = sa.select(model_versions.c.id, model_versions.c.number).where(
                model_versions.c.id.in_(ids)
            )
            numbers = {vid: int(n) for vid, n in conn.execute(known)}
        found = [
            OversightRecord(r.id, r.model, r.version_id, f"{r.model}@v{numbers.get(r.version_id, '?')}",
                            r.case_id, orjson.loads(r.model_output), orjson.loads(r.decision), r.rationale,
                            r.created, r.actor, int(r.seq))
            for r in rows
        ]  # fmt: skip
        if model is None and found:
            allowed = readable(self._ws, {f.model for f in found})
            found = [f for f in found if allowed is None or f.model in allowed]
        return found

    def rates(
        self, model: str | None = None, since: str | datetime | None = None
    ) -> builtins.list[OverrideRate]:
        """Override rate per model version (versions without records are left out)."""
        grouped: dict[tuple[str, str, str], builtins.list[OversightRecord]] = defaultdict(list)
        for r in self.list(model, since):
            grouped[(r.model, r.version_id, r.ref)].append(r)
        return [
            OverrideRate(m, vid, ref, len(rs), sum(r.overridden for r in rs))
            for (m, vid, ref), rs in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][2]))
        ]

    def override_rate(self, model_ref: str) -> OverrideRate:
        """The override rate of one model version (``"credit@v2"``; 0 records → rate 0.0)."""
        v = self._ws.models.get(model_ref)
        found = self.rates(f"{v.model}@{v.id}")
        return found[0] if found else OverrideRate(v.model, v.id, v.ref, 0, 0)
