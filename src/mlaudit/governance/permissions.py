"""The permission table: which roles may perform which action. Deny by default.

Roles (granted per project — a model name — or for every project, ``"*"``):

==============  ==========================================================================
``viewer``      reads the workspace, models, datasets, audits, inventory
``contributor`` data scientist: logs data, registers and documents models, runs audits,
                submits versions for validation, raises and mitigates findings
``validator``   independent validation: audits, findings, tiering, records approvals
``approver``    records approval decisions, deploys and retires approved versions
``admin``       everything except approving: maker-checker is about people, so an admin
                who must approve is granted ``approver`` (or ``validator``) as well
``auditor``     read-only, including the ledger and its verification
==============  ==========================================================================

An action missing from :data:`PERMISSIONS` is refused for everyone (:func:`allowed`).
"""

from __future__ import annotations

__all__ = ["ACTIONS", "PERMISSIONS", "ROLES", "allowed", "roles_for"]

ROLES = ("viewer", "contributor", "validator", "approver", "admin", "auditor")

_ALL = frozenset(ROLES)
_WRITERS = frozenset({"contributor", "validator", "approver", "admin"})


def _r(*names: str) -> frozenset[str]:
    unknown = set(names) - _ALL
    assert not unknown, unknown
    return frozenset(names)


PERMISSIONS: dict[str, frozenset[str]] = {
    # reading (everyone with any role)
    "workspace.read": _ALL,
    "ledger.read": _ALL,
    "ledger.verify": _ALL,
    "dataset.read": _ALL,
    "model.read": _ALL,
    "audit.read": _ALL,
    "inventory.read": _ALL,
    "gate.run": _ALL,
    # evidence and documentation
    "ledger.checkpoint": _WRITERS,
    "dataset.log": _r("contributor", "validator", "admin"),
    "model.register": _r("contributor", "admin"),
    "model.describe": _r("contributor", "validator", "admin"),
    "audit.run": _r("contributor", "validator", "admin"),
    "report.generate": _WRITERS,
    # lifecycle and approvals (approving is never an admin power)
    "lifecycle.submit": _r("contributor", "admin"),
    "lifecycle.approve": _r("validator", "approver"),
    "lifecycle.reject": _r("validator", "approver"),
    "approval.record": _r("validator", "approver"),
    "lifecycle.deploy": _r("approver", "admin"),
    "lifecycle.retire": _r("approver", "admin"),
    # findings and risk
    "finding.raise": _WRITERS,
    "finding.update": _WRITERS,
    "finding.comment": _WRITERS,
    "model.tier": _r("validator", "admin"),
    # human oversight, policy exceptions (risk acceptance), the prediction log
    "oversight.record": _WRITERS,
    "exception.grant": _r("approver", "admin"),
    "exception.revoke": _r("approver", "admin"),
    "prediction.log": _r("contributor", "admin"),
    "monitor.manage": _r("contributor", "validator", "admin"),
    "monitor.run": _r("contributor", "validator", "admin"),
    "alert.manage": _WRITERS,
    # retention: legal holds, applying retention periods, erasing a dataset's raw data
    "retention.manage": _r("admin"),
    "dataset.erase": _r("admin"),
    # people
    "user.manage": _r("admin"),
}

ACTIONS = tuple(sorted(PERMISSIONS))


def allowed(action: str, roles: set[str] | frozenset[str]) -> bool:
    """Whether any of ``roles`` may perform ``action`` (False for an unknown action)."""
    return bool(PERMISSIONS.get(action, frozenset()) & set(roles))


def roles_for(action: str) -> list[str]:
    """The roles that may perform ``action``, in :data:`ROLES` order (empty if unknown)."""
    permitted = PERMISSIONS.get(action, frozenset())
    return [r for r in ROLES if r in permitted]
