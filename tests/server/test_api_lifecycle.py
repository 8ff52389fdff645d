"""Lifecycle transitions and maker-checker approvals through the API."""

from __future__ import annotations

from api_helpers import api_template, assert_error, server_ws  # noqa: F401

V1 = "/api/v1/models/credit/versions/1"
DECISION = {"role": "validator", "decision": "approve", "rationale": "audit passed"}


def test_submit_approve_deploy(login, server_ws) -> None:  # noqa: F811
    dev, val, appr = login("dev"), login("val"), login("appr")
    assert dev.post(f"{V1}/transitions", json={"to": "in_validation"}).status_code == 201
    # maker-checker: grant the developer the validator role; the service still refuses them
    root = login("root")
    assert root.post("/api/v1/users/dev/roles", json={"role": "validator"}).status_code == 201
    assert_error(dev.post(f"{V1}/approvals", json=DECISION), 403, text="maker-checker")
    assert_error(dev.post(f"{V1}/transitions", json={"to": "approved"}), 403)
    r = val.post(f"{V1}/approvals", json=DECISION)
    assert r.status_code == 201, r.text
    assert r.json()["actor"] == "val" and r.json()["evidence"].startswith("sha256:")
    assert val.post(f"{V1}/transitions", json={"to": "approved"}).status_code == 201
    r = appr.post(f"{V1}/transitions", json={"to": "deployed", "reason": "go"})
    assert r.status_code == 201 and r.json()["to_status"] == "deployed"
    approvals = login("viewer").get(f"{V1}/approvals").json()
    assert [a["actor"] for a in approvals] == ["val"]
    assert login("viewer").get("/api/v1/models/credit").json()["status"] == "deployed"


def test_developer_without_role_is_refused(login) -> None:
    dev = login("dev")
    dev.post(f"{V1}/transitions", json={"to": "in_validation"})
    assert_error(dev.post(f"{V1}/approvals", json=DECISION), 403, "forbidden", "approval.record")


def test_bad_transitions(login) -> None:
    dev = login("dev")
    assert_error(dev.post(f"{V1}/transitions", json={"to": "deployed"}), 422, text="cannot go to deployed")
    assert_error(dev.post(f"{V1}/transitions", json={"to": "flying"}), 422)
    assert_error(dev.post(f"{V1}/transitions", json={}), 422)
    assert_error(dev.post("/api/v1/models/credit/versions/9/transitions", json={"to": "in_validation"}), 404)
    assert_error(login("viewer").post(f"{V1}/transitions", json={"to": "in_validation"}), 403)
    # a decision needs a version in validation and a rationale
    assert_error(login("val").post(f"{V1}/approvals", json=DECISION), 422, text="in validation")
    assert_error(login("val").post(f"{V1}/approvals", json={**DECISION, "rationale": ""}), 422)


def test_read_token_cannot_transition(login, token_client) -> None:
    reader = token_client("dev", scopes=["read"])
    assert_error(reader.post(f"{V1}/transitions", json={"to": "in_validation"}), 403, text="scopes")
    writer = token_client("dev", scopes=["write"])
    assert writer.post(f"{V1}/transitions", json={"to": "in_validation"}).status_code == 201


def test_transition_idempotent(login) -> None:
    dev = login("dev")
    headers = {"Idempotency-Key": "t-1"}
    first = dev.post(f"{V1}/transitions", json={"to": "in_validation"}, headers=headers)
    again = dev.post(f"{V1}/transitions", json={"to": "in_validation"}, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replay"] == "true"
    assert len(dev.get("/api/v1/models/credit/history").json()["transitions"]) == 1
    assert_error(dev.post(f"{V1}/transitions", json={"to": "draft"}, headers=headers), 422)
