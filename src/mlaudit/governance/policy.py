"""Policies as code and the release gate: may this model version go to production?

A policy is a YAML file with rules per risk tier (built in: ``governance/policies/default.yaml``,
which documents every key). :func:`run_gate` judges one model version against the rules of its
model's tier and returns a :class:`GateReport` with one :class:`GateResult` per rule; the CLI
(``mlaudit gate``) exits 0 when no rule fails and 1 otherwise, printing each failing rule
and why. Every key is validated: a typo names the key and the file.

A result is ``pass``, ``warn`` (passes, but look: the model has no risk tier, so the strictest
rules were applied), ``fail``, or ``waived``: the rule failed but an active policy exception
(:mod:`mlaudit.governance.exceptions`) accepts that risk; the message names the exception, who
granted it and when it expires. ``warn`` and ``waived`` do not refuse the release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import Field, model_validator

from mlaudit.governance.exceptions import active_exceptions
from mlaudit.governance.findings import OPEN_STATUSES
from mlaudit.governance.inventory import parse_ts
from mlaudit.governance.tiering import _read, _Strict
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import approvals, findings, model_transitions, results

__all__ = ["GateReport", "GateResult", "Policy", "TierPolicy", "load_policy", "run_gate"]

Severity = Literal["low", "medium", "high", "critical"]
Role = Literal["viewer", "contributor", "validator", "approver", "admin", "auditor"]
LifecycleStatus = Literal["draft", "in_validation", "approved", "deployed", "retired", "rejected"]


class TierPolicy(_Strict):
    required_suites: list[str] = Field(default_factory=list)
    blocking_severities: list[Severity] = Field(default_factory=list)
    approvals: dict[Role, int] = Field(default_factory=dict)
    max_validation_age_days: float | None = Field(None, ge=0)
    required_status: list[LifecycleStatus] = Field(default_factory=list)


class Policy(_Strict):
    """A parsed policy; ``source`` is ``builtin:default`` or a path."""

    name: str
    description: str = ""
    tiers: dict[int, TierPolicy]
    source: str = ""

    @model_validator(mode="after")
    def _some(self) -> Policy:
        if not self.tiers:
            raise ValueError("a policy needs rules for at least one tier")
        return self

    @property
    def strictest(self) -> int:
        return min(self.tiers)


def load_policy(path: str | Path | None = None) -> Policy:
    """The built-in ``default`` policy, or the one in the YAML file ``path``."""
    policy: Policy = _read(path, "default", Policy, "policy")
    return policy


@dataclass(frozen=True)
class GateResult:
    rule: str  # "tier", "suite:full", "findings", "approvals:validator", "validation_age", "status"
    status: Literal["pass", "warn", "fail", "waived"]
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class GateReport:
    ref: str
    model: str
    version_id: str
    tier: int  # the tier whose rules were applied
    tier_assigned: bool  # False: the model has no tier, the strictest rules applied
    policy: str
    policy_source: str
    checked_at: str
    results: list[GateResult]

    @property
    def passed(self) -> bool:
        """No rule failed (``warn`` and ``waived`` results do not refuse)."""
        return not self.failed()

    def failed(self) -> list[GateResult]:
        return [r for r in self.results if r.status == "fail"]

    def waived(self) -> list[GateResult]:
        return [r for r in self.results if r.status == "waived"]

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "results"}
        return {
            "kind": "gate_report",
            "schema_version": 1,
            **data,
            "passed": self.passed,
            "results": [r.to_dict() for r in self.results],
        }


def run_gate(
    ws: Any, store: Store, ref: str, policy: str | Path | None = None, *, now: str | None = None
) -> GateReport:
    pol = load_policy(policy)
    version = ws.models.get(ref)
    checked_at = now or utc_now()
    moment = parse_ts(checked_at)
    assigned = ws.risk.tier(version.model)
    out: list[GateResult] = []
    if assigned is None:
        tier = pol.strictest
        out.append(
            GateResult(
                "tier",
                "warn",
                f"{version.model} has no risk tier: the strictest rules (tier {tier}) apply",
                {"assigned": None, "applied": tier},
            )
        )
    elif assigned.tier not in pol.tiers:
        tier = pol.strictest
        out.append(
            GateResult(
                "tier",
                "fail",
                f"policy {pol.name!r} has no rules for tier {assigned.tier}; "
                f"the strictest rules (tier {tier}) apply",
                {"assigned": assigned.tier, "applied": tier},
            )
        )
    else:
        tier = assigned.tier
        out.append(
            GateResult(
                "tier",
                "pass",
                f"tier {tier} (score {assigned.score}, method {assigned.inputs.get('method')})",
                {"assigned": tier, "applied": tier},
            )
        )
    rules = pol.tiers[tier]
    with store.read() as conn:
        audits = conn.execute(
            sa.select(results.c.id, results.c.status, results.c.created, results.c.document)
            .where(results.c.kind == "audit_report", results.c.subject == version.node)
            .order_by(results.c.seq.desc())
        ).all()
        open_rows = conn.execute(
            sa.select(findings).where(
                findings.c.model == version.model,
                findings.c.status.in_(OPEN_STATUSES),
                sa.or_(findings.c.version_id.is_(None), findings.c.version_id == version.id),
            )
        ).all()
        submitted = conn.execute(
            sa.select(sa.func.max(model_transitions.c.seq)).where(
                model_transitions.c.version_id == version.id, model_transitions.c.to_status == "in_validation"
            )
        ).scalar_one_or_none()
        approval_rows = conn.execute(
            sa.select(approvals)
            .where(approvals.c.version_id == version.id, approvals.c.seq > (submitted or 0))
            .order_by(approvals.c.seq)
        ).all()
        waivers = active_exceptions(conn, version.model, version.id, moment)
    out += _suites(rules, audits, version.ref)
    out += _findings(rules, open_rows)
    out += _approvals(ws, rules, approval_rows, version)
    out += _age(rules, audits, moment, version.ref)
    if rules.required_status:
        ok = version.status in rules.required_status
        want = " or ".join(rules.required_status)
        msg = f"lifecycle status is {version.status}" + ("" if ok else f"; tier {tier} requires {want}")
        out.append(GateResult("status", "pass" if ok else "fail", msg, {"status": version.status}))
    out = [_waive(r, waivers) for r in out]
    return GateReport(
        version.ref,
        version.model,
        version.id,
        tier,
        assigned is not None and assigned.tier in pol.tiers,
        pol.name,
        pol.source,
        checked_at,
        out,
    )


def _waive(result: GateResult, waivers: Sequence[Any]) -> GateResult:
    """A failing result whose rule an active exception names becomes ``waived`` (the newest
    such exception is named)."""
    waivable = result.status == "fail" and result.rule != "approvals:verified"
    found = [e for e in waivers if e.rule == result.rule] if waivable else []
    if not found:
        return result
    e = found[-1]
    message = (
        f"{result.message} — waived by exception {e.id} (granted by {e.actor} on {e.created[:10]}, "
        f"expires {e.expires}): {_short(e.rationale)}"
    )
    waiver = {"id": e.id, "granted_by": e.actor, "granted": e.created, "expires": e.expires, "ref": e.ref}
    return GateResult(result.rule, "waived", message, result.details | {"waived_by": waiver})


def _suites(rules: TierPolicy, audits: Sequence[Any], ref: str) -> list[GateResult]:
    import orjson

    out = []
    for suite in rules.required_suites:
        found = None
        for a in audits:  # newest first
            doc = orjson.loads(a.document)
            if (doc.get("suite") or {}).get("name") == suite:
                found = (a, doc)
                break
        rule = f"suite:{suite}"
        if found is None:
            out.append(
                GateResult(
                    rule,
                    "fail",
                    f"no stored audit of {ref} with suite {suite!r}",
                    {"hint": f"run `mlaudit audit {ref} --suite {suite} ...`"},
                )
            )
            continue
        a, doc = found
        bad = [f["check"] for f in doc.get("findings", []) if f.get("status") in ("fail", "error")]
        details = {"result": a.id, "status": a.status, "created": a.created, "not_passed": bad}
        if a.status in ("pass", "warn"):
            out.append(
                GateResult(rule, "pass", f"suite {suite!r} {a.status} (result {a.id}, {a.created})", details)
            )
        else:
            what = f": {', '.join(bad)}" if bad else ""
            out.append(
                GateResult(
                    rule,
                    "fail",
                    f"the newest {suite!r} audit of {ref} (result {a.id}) has status {a.status}{what}",
                    details,
                )
            )
    return out


def _findings(rules: TierPolicy, rows: Sequence[Any]) -> list[GateResult]:
    if not rules.blocking_severities:
        return []
    blocking = [r for r in rows if r.severity in rules.blocking_severities]
    sev = ", ".join(rules.blocking_severities)
    if not blocking:
        return [GateResult("findings", "pass", f"no open finding of severity {sev}", {"blocking": []})]
    listed = "; ".join(f"{r.id[:12]} [{r.severity}, {r.status}] {_short(r.title)}" for r in blocking)
    return [
        GateResult(
            "findings",
            "fail",
            f"{len(blocking)} open blocking finding(s) ({sev}): {listed}",
            {
                "blocking": [
                    {"id": r.id, "severity": r.severity, "status": r.status, "title": r.title}
                    for r in blocking
                ]
            },
        )
    ]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _approvals(ws: Any, rules: TierPolicy, rows: Sequence[Any], version: Any) -> list[GateResult]:
    """Distinct people whose latest decision in the role is "approve", counting only decisions
    since the version was last submitted for validation; approvals that disagree with the ledger
    (``ws.lifecycle.verify_approvals``) fail the gate."""
    out = []
    lifecycle = getattr(ws, "lifecycle", None)
    if rules.approvals and lifecycle is not None and hasattr(lifecycle, "verify_approvals"):
        problems = [str(p) for p in lifecycle.verify_approvals(version.ref)]
        if problems:
            message = "approvals do not match the ledger: " + "; ".join(problems)
            out.append(GateResult("approvals:verified", "fail", message, {"problems": problems}))
    latest: dict[tuple[str, str], str] = {}
    for r in rows:  # oldest first: a later decision by the same person replaces an earlier one
        latest[(r.role, r.actor)] = r.decision
    for role, needed in rules.approvals.items():
        people = sorted(actor for (r, actor), d in latest.items() if r == role and d == "approve")
        rule = f"approvals:{role}"
        details = {"required": needed, "approved_by": people}
        if len(people) >= needed:
            message = f"{len(people)} of {needed} {role} approval(s): {', '.join(people)}"
            out.append(GateResult(rule, "pass", message, details))
        else:
            who = f" (so far: {', '.join(people)})" if people else ""
            message = f"{version.ref} has {len(people)} of the {needed} required {role} approval(s){who}"
            out.append(GateResult(rule, "fail", message, details))
    return out


def _age(rules: TierPolicy, audits: Sequence[Any], moment: Any, ref: str) -> list[GateResult]:
    limit = rules.max_validation_age_days
    if limit is None:
        return []
    if not audits:
        return [
            GateResult(
                "validation_age", "fail", f"{ref} has never been validated (no stored audit)", {"last": None}
            )
        ]
    newest = audits[0]
    age = (moment - parse_ts(newest.created)).total_seconds() / 86400
    details = {"last": newest.created, "age_days": round(age, 3), "max_days": limit}
    if age <= limit:
        return [
            GateResult(
                "validation_age", "pass", f"last validated {newest.created} ({age:.1f} days ago)", details
            )
        ]
    return [
        GateResult(
            "validation_age",
            "fail",
            f"the last validation of {ref} ({newest.created}) is {age:.1f} "
            f"days old; this tier allows at most {limit:g}",
            details,
        )
    ]
