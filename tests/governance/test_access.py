"""``ws.access``: users, groups, grants, the ledger events they leave, and the CLI (exit 4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
from sklearn.dummy import DummyClassifier

import mlaudit
from mlaudit.cli import main


def test_changes_are_ledgered(tmp_path: Path) -> None:
    with mlaudit.open(tmp_path / "ws", actor="root") as ws:
        ws.access.add_user("root", "Root Admin", "root@example.org", admin=True)
        ws.access.add_user("ann")
        ws.access.add_to_group("risk", "ann")
        ws.access.add_to_group("risk", "ann")  # already a member: nothing new
        ws.access.grant("group:risk", "validator", project="credit")
        ws.access.grant("ann", "viewer")
        ws.access.revoke("ann", "viewer")
        ws.access.disable_user("ann")
        actions = [e.action for e in ws.ledger.log(action="*")][1:]
        assert actions == [
            "user.added", "role.granted", "user.added", "group.member_added", "role.granted",
            "role.granted", "role.revoked", "user.disabled",
        ]  # fmt: skip
        assert all(e.actor == "root" for e in ws.ledger.log()[1:])
        ann = ws.access.user("ann")
        assert ann.disabled and ann.groups == ["risk"] and ann.roles == ["validator@credit"]
        assert ws.access.user("root").email == "root@example.org"
        with pytest.raises(mlaudit.InputError, match="unknown role"):
            ws.access.grant("ann", "owner")
        with pytest.raises(mlaudit.NotFound, match="no user 'bob'"):
            ws.access.grant("bob", "viewer")
        with pytest.raises(mlaudit.NotFound):
            ws.access.revoke("ann", "admin")
        with pytest.raises(mlaudit.InputError, match="already exists"):
            ws.access.add_user("ann")
        assert ws.ledger.verify().ok


def test_only_admins_manage_users(tmp_path: Path) -> None:
    with mlaudit.open(tmp_path / "ws", actor="root") as ws:
        ws.access.add_user("root", admin=True)
        ws.access.add_user("val")
        ws.access.grant("val", "validator")
    with mlaudit.open(tmp_path / "ws", actor="val") as ws:
        for call in (
            lambda: ws.access.add_user("mallory", admin=True),
            lambda: ws.access.grant("val", "admin"),
            lambda: ws.access.add_to_group("admins", "val"),
            lambda: ws.access.disable_user("root"),
        ):
            with pytest.raises(mlaudit.PermissionDenied, match=r"may not user\.manage"):
                call()


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    where = str(tmp_path / "ws")
    clf = DummyClassifier(strategy="constant", constant=1).fit(np.zeros((4, 2)), [0, 1, 0, 1])
    with mlaudit.open(where, actor="dev") as ws:
        v = ws.models.register("credit", clf, features=["a", "b"]).version
        ws.audits.record("audit_report", v.node, {"kind": "audit_report"}, status="pass")
    assert main(["user", "list", "-w", where]) == 0
    assert "open" in capsys.readouterr().out
    assert main(["user", "add", "root", "-w", where]) == 2
    assert "--admin" in capsys.readouterr().err
    assert main(["user", "add", "root", "--admin", "--email", "r@example.org", "-w", where]) == 0
    assert "permission checks are now on" in capsys.readouterr().out
    # the acting user (MLAUDIT_USER=tester in tests) is not a user: denied, exit 4
    assert main(["user", "add", "val", "-w", where]) == 4
    assert "'tester' is not a user" in capsys.readouterr().err
    monkeypatch.setenv("MLAUDIT_USER", "root")
    for argv in (
        ["user", "add", "dev"],
        ["user", "add", "val", "--display-name", "Val Idator"],
        ["user", "grant", "dev", "contributor", "--project", "credit"],
        ["user", "grant", "group:risk", "validator"],
        ["group", "add", "risk", "val"],
        ["user", "grant", "dev", "viewer"],
        ["user", "revoke", "dev", "viewer"],
    ):
        assert main([*argv, "-w", where]) == 0, argv
    capsys.readouterr()
    assert main(["user", "list", "-w", where, "--json"]) == 0
    users = {u["name"]: u for u in orjson.loads(capsys.readouterr().out)}
    assert users["dev"]["roles"] == ["contributor@credit"] and users["val"]["roles"] == ["validator"]
    assert users["val"]["groups"] == ["risk"] and users["root"]["roles"] == ["admin"]
    assert main(["user", "list", "-w", where]) == 0
    assert "Val Idator" in capsys.readouterr().out
    # the lifecycle through the CLI
    monkeypatch.setenv("MLAUDIT_USER", "dev")
    assert main(["model", "transition", "credit@v1", "in_validation", "-m", "ready", "-w", where]) == 0
    capsys.readouterr()
    assert main(["model", "approve", "credit@v1", "-m", "mine", "-w", where]) == 4
    assert "approval.record" in capsys.readouterr().err
    monkeypatch.setenv("MLAUDIT_USER", "val")
    assert main(["model", "approve", "credit@v1", "-m", "checks pass", "-w", where, "--json"]) == 0
    approval = orjson.loads(capsys.readouterr().out)
    assert approval["actor"] == "val" and approval["evidence"].startswith("sha256:")
    assert main(["model", "transition", "credit@v1", "approved", "-m", "validated", "-w", where]) == 0
    assert "in_validation → approved by val" in capsys.readouterr().out
    assert main(["model", "transition", "credit@v1", "deployed", "-w", where]) == 4
    monkeypatch.setenv("MLAUDIT_USER", "root")
    assert main(["model", "transition", "credit@v1", "deployed", "-m", "go", "-w", where]) == 0
    capsys.readouterr()
    assert main(["model", "history", "credit", "-w", where, "--json"]) == 0
    steps = orjson.loads(capsys.readouterr().out)
    assert [(s["to_status"], s["actor"]) for s in steps] == [
        ("in_validation", "dev"), ("approved", "val"), ("deployed", "root"),
    ]  # fmt: skip
    assert main(["model", "history", "credit", "--at", steps[-1]["created"], "-w", where, "--json"]) == 0
    assert orjson.loads(capsys.readouterr().out)["deployed"] == "credit@v1"
    assert main(["model", "history", "credit@v1", "-w", where]) == 0
    assert "validated" in capsys.readouterr().out
    monkeypatch.setenv("MLAUDIT_USER", "root")
    assert main(["user", "disable", "dev", "-w", where]) == 0
    monkeypatch.setenv("MLAUDIT_USER", "dev")
    assert main(["model", "describe", "credit", "--purpose", "x", "-w", where]) == 4
    assert "disabled" in capsys.readouterr().err
