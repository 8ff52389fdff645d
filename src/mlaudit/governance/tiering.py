"""``ws.risk``: model risk tiers from a documented, configurable method; the inventory; the gate.

The method is a YAML file (built in: ``governance/policies/tiering.yaml``, which documents it):
each input (``materiality``, ``complexity``, ``use``) scores points, the score is their sum, and
the first tier whose ``min_score`` the score reaches is the tier (1 = highest risk). Each tier
says how often the model must be validated again (``validation_days``).

>>> m = load_method()
>>> m.assess(materiality="high", complexity="medium", use="automated-decision")
(10, 1, 180)
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson
import sqlalchemy as sa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mlaudit.errors import InputError, NotFound
from mlaudit.governance.findings import require
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import model_risk, models

if TYPE_CHECKING:
    from mlaudit.governance.inventory import InventoryEntry
    from mlaudit.governance.policy import GateReport

__all__ = ["INPUTS", "Method", "Risk", "TierAssignment", "load_method", "parse_yaml"]

INPUTS: dict[str, tuple[str, ...]] = {
    "materiality": ("low", "medium", "high"),
    "complexity": ("low", "medium", "high"),
    "use": ("informational", "decision-support", "automated-decision"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Points(_Strict):
    materiality: dict[Literal["low", "medium", "high"], int]
    complexity: dict[Literal["low", "medium", "high"], int]
    use: dict[Literal["informational", "decision-support", "automated-decision"], int]

    @model_validator(mode="after")
    def _complete(self) -> Points:
        for name, levels in INPUTS.items():
            missing = sorted(set(levels) - set(getattr(self, name)))
            if missing:
                raise ValueError(f"{name} has no points for {', '.join(missing)}")
        return self


class TierRule(_Strict):
    tier: int = Field(ge=1, le=9)
    min_score: int
    validation_days: int = Field(gt=0)


class Method(_Strict):
    """A parsed tiering method; ``source`` is ``builtin:tiering`` or a path."""

    name: str
    description: str = ""
    points: Points
    tiers: list[TierRule] = Field(min_length=1)
    source: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Method:
        scores = [t.min_score for t in self.tiers]
        if scores != sorted(scores, reverse=True):
            raise ValueError("tiers must be listed from the highest min_score down")
        if len({t.tier for t in self.tiers}) != len(self.tiers):
            raise ValueError("each tier may be listed once")
        return self

    def assess(self, *, materiality: str, complexity: str, use: str) -> tuple[int, int, int]:
        """``(score, tier, validation_days)`` for these inputs."""
        given = {"materiality": materiality, "complexity": complexity, "use": use}
        score = 0
        for name, value in given.items():
            if value not in INPUTS[name]:
                raise InputError(f"unknown {name} {value!r}", hint=f"choose from {', '.join(INPUTS[name])}")
            score += getattr(self.points, name)[value]
        for rule in self.tiers:
            if score >= rule.min_score:
                return score, rule.tier, rule.validation_days
        raise InputError(f"score {score} reaches no tier of method {self.name!r}", path=self.source)

    def days(self, tier: int) -> int:
        for rule in self.tiers:
            if rule.tier == tier:
                return rule.validation_days
        return min(r.validation_days for r in self.tiers)


def parse_yaml(text: str, source: str, model: type[BaseModel], what: str) -> Any:
    """Parse and validate YAML against ``model``; errors name the key and the file."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=source) from None
    if not isinstance(data, dict):
        raise InputError(f"a {what} must be a YAML mapping", path=source)
    data.setdefault("name", Path(source).stem)
    try:
        return model.model_validate({**data, "source": source})
    except ValidationError as exc:
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # typos first
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"invalid {what}: {where}: {first['msg']}", path=source) from None


def _read(path: str | Path | None, builtin: str, model: type[BaseModel], what: str) -> Any:
    if path is None:
        text = resources.files("mlaudit.governance").joinpath(f"policies/{builtin}.yaml").read_text("utf-8")
        return parse_yaml(text, f"builtin:{builtin}", model, what)
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the {what}: {exc}", path=str(path)) from None
    return parse_yaml(text, str(path), model, what)


def load_method(path: str | Path | None = None) -> Method:
    """The built-in tiering method, or the one in the YAML file ``path``."""
    method: Method = _read(path, "tiering", Method, "tiering method")
    return method


@dataclass(frozen=True)
class TierAssignment:
    model: str
    tier: int
    score: int
    inputs: dict[str, Any]  # materiality, complexity, use, method, score, validation_days
    updated: str
    actor: str
    seq: int

    @property
    def validation_days(self) -> int:
        return int(self.inputs["validation_days"])

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__) | {"validation_days": self.validation_days}


class Risk:
    """Risk tiers, the model inventory and the policy gate of one workspace."""

    def __init__(self, store: Store, actor: str, workspace: Any) -> None:
        self._store = store
        self._actor = actor
        self._ws = workspace

    def set_tier(
        self,
        model: str,
        *,
        materiality: str,
        complexity: str,
        use: str,
        method: str | Path | None = None,
    ) -> TierAssignment:
        """Score ``model`` with the tiering method and record its tier (``model.tiered``)."""
        require(self._ws, "model.tier", model)
        m = load_method(method)
        score, tier, days = m.assess(materiality=materiality, complexity=complexity, use=use)
        inputs = {
            "materiality": materiality,
            "complexity": complexity,
            "use": use,
            "method": m.name,
            "method_source": m.source,
            "score": score,
            "validation_days": days,
        }
        with self._store.write(self._actor) as tx:
            conn = tx.conn
            if conn.execute(sa.select(models.c.name).where(models.c.name == model)).first() is None:
                raise NotFound(f"no model {model!r}", hint="see `mlaudit model list`")
            before = conn.execute(sa.select(model_risk).where(model_risk.c.model == model)).one_or_none()
            event = tx.record(
                "model.tiered",
                f"model:{model}",
                {"model": model, "tier": str(tier), "previous": before.tier if before else None, **inputs},
            )
            now = utc_now()
            row = {
                "tier": str(tier),
                "inputs": orjson.dumps(inputs).decode(),
                "updated": now,
                "actor": self._actor,
                "seq": event.seq,
            }
            if before is None:
                conn.execute(sa.insert(model_risk).values(model=model, created=now, **row))
            else:
                conn.execute(sa.update(model_risk).where(model_risk.c.model == model).values(**row))
        return TierAssignment(model, tier, score, inputs, now, self._actor, event.seq)

    def tier(self, model: str) -> TierAssignment | None:
        """The recorded tier of ``model`` (``None`` when it has none)."""
        return self.tiers().get(model)

    def tiers(self) -> dict[str, TierAssignment]:
        with self._store.read() as conn:
            rows = conn.execute(sa.select(model_risk)).all()
        out = {}
        for r in rows:
            inputs = orjson.loads(r.inputs)
            out[r.model] = TierAssignment(
                r.model, int(r.tier), int(inputs.get("score", 0)), inputs, r.updated, r.actor, int(r.seq)
            )
        return out

    def inventory(self, *, now: str | None = None) -> list[InventoryEntry]:
        """Every model (retired ones too) with its owner, tier, validation dates and findings."""
        from mlaudit.governance.findings import readable
        from mlaudit.governance.inventory import build_inventory

        entries = build_inventory(self._ws, self._store, now=now)
        if not entries:
            require(self._ws, "inventory.read")
        allowed = readable(self._ws, {e.model for e in entries}) if entries else None
        return [e for e in entries if allowed is None or e.model in allowed]

    def gate(self, ref: str, policy: str | Path | None = None, *, now: str | None = None) -> GateReport:
        """Judge model version ``ref`` against the policy (built-in ``default`` or a YAML file)."""
        from mlaudit.governance.policy import run_gate

        name = ref.split("@", 1)[0]
        require(self._ws, "gate.run", name)
        return run_gate(self._ws, self._store, ref, policy, now=now)
