"""``/api/v1/findings``: raise, filter, move through statuses, comment."""

from __future__ import annotations

from api_helpers import api_template, assert_error, server_ws  # noqa: F401


def test_raise_filter_update_comment(login) -> None:
    val = login("val")
    body = {"title": "drift in a", "severity": "high", "owner": "dev", "due": "2027-01-31", "version": 1}
    r = val.post("/api/v1/models/credit/findings", json=body)
    assert r.status_code == 201, r.text
    found = r.json()
    assert (found["status"], found["owner"], found["due"]) == ("open", "dev", "2027-01-31")
    assert found["version_id"] is not None and found["events"][0]["kind"] == "raised"
    val.post("/api/v1/models/churn/findings", json={"title": "small sample", "severity": "low"})
    viewer = login("viewer")
    assert viewer.get("/api/v1/findings").json()["total"] == 2
    assert [f["model"] for f in viewer.get("/api/v1/findings?model=churn").json()["items"]] == ["churn"]
    assert viewer.get("/api/v1/findings?severity=high").json()["total"] == 1
    assert viewer.get("/api/v1/findings?status=closed").json()["total"] == 0
    assert viewer.get("/api/v1/findings?limit=1").json()["items"][0]["id"] == found["id"]
    dev = login("dev")
    r = dev.patch(f"/api/v1/findings/{found['id']}", json={"status": "mitigated", "comment": "retrained"})
    assert r.status_code == 200 and r.json()["status"] == "mitigated"
    assert_error(
        dev.patch(f"/api/v1/findings/{found['id']}", json={"status": "accepted"}), 422, text="mitigated"
    )
    r = dev.post(f"/api/v1/findings/{found['id']}/comments", json={"text": "see run 12"})
    assert r.status_code == 201 and r.json()["events"][-1]["text"] == "see run 12"
    one = viewer.get(f"/api/v1/findings/{found['id']}").json()
    assert [e["kind"] for e in one["events"]] == ["raised", "status", "comment"]


def test_errors_and_permissions(login) -> None:
    val = login("val")
    assert_error(val.post("/api/v1/models/credit/findings", json={"title": "x", "severity": "dire"}), 422)
    assert_error(val.post("/api/v1/models/credit/findings", json={"title": "", "severity": "low"}), 422)
    assert_error(val.post("/api/v1/models/credit/findings",
                          json={"title": "x", "severity": "low", "due": "soon"}), 422)  # fmt: skip
    assert_error(val.post("/api/v1/models/nope/findings", json={"title": "x", "severity": "low"}), 404)
    assert_error(val.get("/api/v1/findings/" + "a" * 32), 404)
    assert_error(val.get("/api/v1/findings?status=gone"), 422)
    viewer = login("viewer")
    assert_error(viewer.post("/api/v1/models/credit/findings", json={"title": "x", "severity": "low"}), 403)
    fid = val.post("/api/v1/models/credit/findings", json={"title": "x", "severity": "low"}).json()["id"]
    assert_error(viewer.patch(f"/api/v1/findings/{fid}", json={"status": "mitigated"}), 403)
    assert_error(viewer.post(f"/api/v1/findings/{fid}/comments", json={"text": "hi"}), 403)
    assert login("auditor").get(f"/api/v1/findings/{fid}").status_code == 200


def test_raise_idempotent(login) -> None:
    val = login("val")
    body = {"title": "once", "severity": "medium"}
    headers = {"Idempotency-Key": "f-1"}
    first = val.post("/api/v1/models/credit/findings", json=body, headers=headers)
    again = val.post("/api/v1/models/credit/findings", json=body, headers=headers)
    assert again.headers["Idempotent-Replay"] == "true" and again.json()["id"] == first.json()["id"]
    assert val.get("/api/v1/findings").json()["total"] == 1
    assert_error(
        val.post("/api/v1/models/credit/findings", json={**body, "title": "twice"}, headers=headers), 422
    )
