"""The permission table, walked: every action × every role, deny by default, open mode, and the
wired write paths (register, describe, log, audit, report, checkpoint) refusing without a role."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.dummy import DummyClassifier

import mlaudit
from mlaudit.governance.permissions import ACTIONS, PERMISSIONS, ROLES, allowed, roles_for

APPROVING = {"lifecycle.approve", "lifecycle.reject", "approval.record"}
READS = {
    "workspace.read", "ledger.read", "ledger.verify", "dataset.read", "model.read", "audit.read",
    "inventory.read", "gate.run",
}  # fmt: skip


def _clf() -> DummyClassifier:
    return DummyClassifier(strategy="constant", constant=1).fit(np.zeros((4, 2)), [0, 1, 0, 1])


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """A workspace whose admin is ``root``, with one user per role (named after the role)."""
    where = tmp_path / "ws"
    with mlaudit.open(where, actor="root") as ws:
        ws.access.add_user("root", admin=True)
        for role in ROLES:
            ws.access.add_user(role)
            ws.access.grant(role, role)
    return where


def test_required_actions_are_in_the_table() -> None:
    wanted = {
        "workspace.read", "ledger.read", "ledger.verify", "ledger.checkpoint", "dataset.log",
        "dataset.read", "model.register", "model.describe", "model.read", "audit.run", "audit.read",
        "report.generate", "lifecycle.submit", "lifecycle.approve", "lifecycle.reject",
        "lifecycle.deploy", "lifecycle.retire", "approval.record", "user.manage", "finding.raise",
        "finding.update", "finding.comment", "model.tier", "gate.run", "inventory.read",
    }  # fmt: skip
    assert wanted <= set(PERMISSIONS)
    assert all(set(roles) <= set(ROLES) for roles in PERMISSIONS.values())


def test_every_action_for_every_role(path: Path) -> None:
    checked = 0
    for role in ROLES:
        with mlaudit.open(path, actor=role) as ws:
            assert ws.access.roles() == {role}
            for action in ACTIONS:
                expected = role in PERMISSIONS[action]
                for project in (None, "credit"):
                    assert ws.access.can(action, project) is expected, (role, action, project)
                    checked += 1
                if not expected:
                    with pytest.raises(mlaudit.PermissionDenied, match=action.replace(".", r"\.")) as info:
                        ws.access.require(action, "credit")
                    assert repr(role) in str(info.value) and ", ".join(roles_for(action)) in str(info.value)
    assert checked == len(ROLES) * len(ACTIONS) * 2
    # the shape of the table, stated once more in words
    assert {a for a in ACTIONS if allowed(a, {"admin"})} == set(ACTIONS) - APPROVING
    assert {a for a in ACTIONS if allowed(a, {"auditor"})} == READS
    assert {a for a in ACTIONS if allowed(a, {"viewer"})} == READS
    assert {a for a in ACTIONS if allowed(a, {"approver"}) and a in APPROVING} == APPROVING


def test_unknown_action_is_denied_even_in_open_mode(tmp_path: Path, path: Path) -> None:
    with mlaudit.open(tmp_path / "open", actor="anyone") as ws:
        assert not ws.access.enforced() and ws.access.can("model.register")
        with pytest.raises(mlaudit.PermissionDenied, match="not in the permission table"):
            ws.access.require("model.delete")
    with mlaudit.open(path, actor="admin") as ws:
        assert not ws.access.can("model.delete") and not ws.access.can("")


def test_open_mode_until_the_first_user_who_must_be_an_admin(tmp_path: Path) -> None:
    with mlaudit.open(tmp_path / "ws", actor="dev") as ws:
        ws.models.register("credit", _clf(), features=["a", "b"])  # no users: everything allowed
        ws.datasets.log("train", pa.table({"a": [1, 2]}))
        with pytest.raises(mlaudit.InputError, match="first user of a workspace must be an admin"):
            ws.access.add_user("alice")
        ws.access.add_user("alice", admin=True)
        with pytest.raises(mlaudit.PermissionDenied, match="'dev' is not a user"):
            ws.datasets.log("train", pa.table({"a": [1, 2, 3]}))
    with mlaudit.open(tmp_path / "ws", actor="alice") as ws:
        ws.datasets.log("train", pa.table({"a": [1, 2, 3]}))
        assert [e.action for e in ws.ledger.log(action="role.granted")] == ["role.granted"]


def test_scoping_groups_disabled_and_unknown_users(path: Path) -> None:
    with mlaudit.open(path, actor="root") as ws:
        ws.access.add_user("ann")
        ws.access.grant("ann", "contributor", project="credit")
        ws.access.add_user("gus")
        ws.access.add_to_group("risk", "gus")
        ws.access.grant("group:risk", "validator", project="credit")
        ws.access.disable_user("contributor")
    with mlaudit.open(path, actor="ann") as ws:
        assert ws.access.can("model.register", "credit") and not ws.access.can("model.register", "other")
        assert not ws.access.can("model.register")  # a project grant is not a grant on every project
    with mlaudit.open(path, actor="gus") as ws:
        assert ws.access.roles(project="credit") == {"validator"} and ws.access.roles() == set()
        assert ws.access.can("model.tier", "credit") and not ws.access.can("model.tier", "other")
    with (
        mlaudit.open(path, actor="contributor") as ws,
        pytest.raises(mlaudit.PermissionDenied, match="disabled"),
    ):
        ws.access.require("model.read")
    with mlaudit.open(path, actor="stranger") as ws:
        assert not any(ws.access.can(a) for a in ACTIONS)


def test_write_paths_check_permissions(path: Path, tmp_path: Path) -> None:
    with mlaudit.open(path, actor="contributor") as ws:
        v = ws.models.register("credit", _clf(), features=["a", "b"]).version
        ws.datasets.log("holdout", pa.table({"a": [0.0, 1.0], "b": [1.0, 0.0], "y": [0, 1]}))
        ws.ledger.checkpoint()
    with mlaudit.open(path, actor="viewer") as ws:
        denied = [
            lambda: ws.models.register("credit", _clf(), features=["a", "b"]),
            lambda: ws.models.describe("credit", purpose="x"),
            lambda: ws.datasets.log("holdout", pa.table({"a": [1]})),
            lambda: ws.ledger.checkpoint(),
            lambda: ws.reports.generate(v.ref, "model_card", tmp_path / "card.html"),
            lambda: ws.audit(v.ref, reference="holdout@v1", current="holdout@v1", labels="y"),
            lambda: ws.lifecycle.transition(v.ref, "in_validation"),
        ]
        for call in denied:
            with pytest.raises(mlaudit.PermissionDenied, match="'viewer'"):
                call()
        assert ws.models.get(v.ref).status == "draft" and ws.ledger.verify().ok
