"""The demo's governance story (step 10 of ``mlaudit demo``).

People join the workspace with roles (which turns permission checks on); a validator tiers the
model, validates version 1 on the holdout set and finds the fairness problem the planted label
bias causes; a finding is raised from the audit and the version is rejected. The developer
trains version 2 without ``sex``; the validator's audit passes, the finding is mitigated, two
people other than the developer approve it (the developer may not), it is deployed and the
release gate passes. A credit officer's override is recorded, and a data-subject request erases
the bureau table's stored profile while the ledger still verifies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from mlaudit.errors import MLAuditError
from mlaudit.workspace import Workspace

__all__ = ["DEMO_PASSWORD", "PEOPLE", "governance_story"]

DEMO_PASSWORD = "mlaudit-demo-password"  # for trying `mlaudit serve` on the demo only
DEVELOPER = "demo-data-scientist"
# user → (role, what they do in the story)
PEOPLE = {
    "ana": ("admin", "platform admin"),
    DEVELOPER: ("contributor", "data scientist, developed credit-risk; approver of other models"),
    "victor": ("validator", "independent model validator"),
    "alex": ("approver", "head of credit risk"),
    "olga": ("auditor", "internal audit (read-only)"),
}


def _as(ws: Workspace, who: str) -> Workspace:
    return Workspace(ws.store, who)


def governance_story(ws: Workspace, train: pa.Table, say: Callable[..., None]) -> dict[str, Any]:
    """Run the story on the demo workspace ``ws`` (acting as the developer); returns its summary."""
    from mlaudit.demo_model import CATEGORICAL, FEATURES, TARGET, train_credit_model

    admin = _as(ws, "ana")
    admin.access.add_user("ana", admin=True)
    for name, (role, title) in PEOPLE.items():
        if name != "ana":
            admin.access.add_user(name, display_name=title)
            admin.access.grant(name, role)
    # the developer also approves other teams' models: holding the role must not let them
    # approve their own (maker-checker is about people, not roles)
    admin.access.grant(DEVELOPER, "approver")
    for name in PEOPLE:
        admin.credentials.set_password(name, DEMO_PASSWORD)
    say(
        "10. governance: people with roles join (permission checks are on from now): "
        + ", ".join(f"{n} ({r})" for n, (r, _) in PEOPLE.items())
    )
    victor, alex, dev = _as(ws, "victor"), _as(ws, "alex"), ws
    victor.models.describe(
        "credit-risk", validator="victor (model validation)", risk_owner="alex (head of credit risk)"
    )
    tier = victor.risk.set_tier(
        "credit-risk", materiality="high", complexity="medium", use="decision-support"
    )
    say(
        f"    victor tiers credit-risk: tier {tier.tier} (score {tier.score}); "
        f"validate every {tier.validation_days} days"
    )

    dev.lifecycle.transition("credit-risk@v1", "in_validation", "first version ready for validation")
    v1_audit = victor.audit(
        "credit-risk@v1", reference="credit-train@v1", current="credit-holdout@v1", suite="full"
    )
    opened = victor.findings.from_audit((v1_audit.recorded or {})["result"])
    fairness = [f for f in opened if "fairness" in (f.check or "")]
    victor.lifecycle.approve(
        "credit-risk@v1",
        "reject",
        "selection rates differ by sex beyond the 0.8 ratio limit",
        role="validator",
    )
    victor.lifecycle.transition("credit-risk@v1", "rejected", "fairness finding")
    parity = _value(v1_audit, "fairness:demographic_parity_ratio")
    say(
        f"    victor validates credit-risk@v1 on the holdout set: {v1_audit.status.upper()} "
        f"(demographic parity ratio {parity:.2f} < 0.8); {len(opened)} finding(s) raised "
        f"({', '.join(f.check or f.title for f in opened)}); v1 rejected"
    )

    no_sex = [f for f in FEATURES if f != "sex"]
    model = train_credit_model(train, categorical=[c for c in CATEGORICAL if c != "sex"])
    v2 = dev.models.register(
        "credit-risk", model, features=no_sex, target=TARGET, sensitive=["sex"],
        trained_on=[dev.datasets.get("credit-train@v1")], owner="credit-risk-team",
    ).version  # fmt: skip
    dev.lifecycle.transition(v2.ref, "in_validation", "sex removed from the features (finding)")
    v2_audit = victor.audit(v2.ref, reference="credit-train@v1", current="credit-holdout@v1", suite="full")
    parity2 = _value(v2_audit, "fairness:demographic_parity_ratio")
    for f in fairness:
        victor.findings.update(
            f.id, "mitigated", f"{v2.ref} drops sex; parity ratio {parity2:.2f} on the holdout"
        )
    say(
        f"    {DEVELOPER} trains {v2.ref} without sex; victor's audit: {v2_audit.status.upper()} "
        f"(parity ratio {parity2:.2f}); the finding is mitigated"
    )
    try:
        dev.lifecycle.approve(v2.ref, "approve", "I checked it myself", role="approver")
        refused = "not refused"
    except MLAuditError as exc:
        refused = exc.message
    say(f"    {DEVELOPER} (an approver of other models) tries to approve {v2.ref}: refused — {refused}")
    victor.lifecycle.approve(
        v2.ref, "approve", "full suite passes on the holdout; parity restored", role="validator"
    )
    alex.lifecycle.approve(
        v2.ref, "approve", "accepted for ranking applications for manual review", role="approver"
    )
    alex.lifecycle.transition(v2.ref, "approved", "validator and approver agree")
    alex.lifecycle.transition(v2.ref, "deployed", "replaces the manual scorecard")
    for f in fairness:
        victor.findings.update(f.id, "closed", f"{v2.ref} deployed; v1 never was")
    gate_v1, gate_v2 = alex.risk.gate("credit-risk@v1"), alex.risk.gate(v2.ref)
    say(
        f"    approved by victor (validator) and alex (approver), deployed; "
        f"gate credit-risk@v1: {'pass' if gate_v1.passed else 'REFUSED'} "
        f"({', '.join(r.rule for r in gate_v1.failed())}); gate {v2.ref}: "
        + (
            "[green]PASS[/]"
            if gate_v2.passed
            else f"[red]REFUSED[/] ({', '.join(r.rule for r in gate_v2.failed())})"
        )
    )

    alex.oversight.record(
        v2.ref, "application-10492", {"prediction": 1, "proba_1": 0.71}, {"prediction": 0},
        "documented income change since the bureau snapshot; approved by the credit officer",
    )  # fmt: skip
    erased = admin.retention.erase("bureau-scores@v1", reason="data-subject erasure request DSR-0042")
    verified = ws.ledger.verify().ok
    say(
        f"    alex records a human override of {v2.ref}; ana erases the stored data of bureau-scores@v1 "
        f"({len(erased.digests)} artifact(s), DSR-0042) — ledger still verifies: {verified}"
    )
    return {
        "people": list(PEOPLE),
        "tier": tier.tier,
        "v1_validation": v1_audit.status,
        "v2": v2.ref,
        "v2_validation": v2_audit.status,
        "parity_v1": parity,
        "parity_v2": parity2,
        "findings": [f.id for f in opened],
        "maker_checker_refused": refused,
        "gate_v1": gate_v1.passed,
        "gate_v1_failed": [r.rule for r in gate_v1.failed()],
        "gate_v2": gate_v2.passed,
        "erased": "bureau-scores@v1",
    }


def _value(report: Any, check: str) -> float:
    found = [r for r in report.results() if r.check == check]
    value = found[0].value if found else None
    return float(value) if value is not None else float("nan")
