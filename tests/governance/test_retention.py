"""Retention and erasure: legal holds, erasing a dataset version's raw data (the bytes leave the
artifact store, the ledger still verifies, reports say when and by whom), retention periods."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
import sqlalchemy as sa
from sklearn.dummy import DummyClassifier

import mlaudit
from mlaudit.cli import main
from mlaudit.errors import InputError, NotFound, PermissionDenied
from mlaudit.governance.retention import load_policy
from mlaudit.store.tables import dataset_versions, erasures, prediction_batches

ROWS = {"age": [31, 45, 52, 29], "email": ["ana@example.com", "bo@example.org", "cy@example.net", "di@ex.io"]}
NOW = "2026-01-01T00:00:00Z"


def _log(ws: mlaudit.Workspace, name: str = "credit-train", rows: dict[str, Any] | None = None) -> Any:
    return ws.datasets.log(name, rows or ROWS, keep_data=True).version


def _payload(event: Any) -> Any:
    return orjson.loads(event.payload) if isinstance(event.payload, str) else event.payload


def _digests(v: Any) -> list[str]:
    return [d for d in (v.data, v.profile) if d]


def _backdate(ws: mlaudit.Workspace, name: str, number: int, created: str) -> None:
    with ws.store.write(ws.actor) as tx:
        tx.conn.execute(
            sa.update(dataset_versions)
            .where(dataset_versions.c.dataset == name, dataset_versions.c.number == number)
            .values(created=created)
        )


def _model(ws: mlaudit.Workspace, name: str, trained_on: list[str]) -> None:
    clf = DummyClassifier(strategy="constant", constant=1).fit(np.zeros((4, 2)), [0, 1, 0, 1])
    ws.models.register(name, clf, features=["a", "b"], trained_on=trained_on)


@pytest.fixture
def ws(tmp_path: Path) -> Any:
    with mlaudit.open(tmp_path / "ws") as workspace:
        yield workspace


def test_erase_removes_bytes_keeps_ledger_and_says_when(ws: mlaudit.Workspace, tmp_path: Path) -> None:
    v = _log(ws)
    assert all(ws.store.artifacts.exists(d) for d in _digests(v))
    e = ws.retention.erase("credit-train@v1", "GDPR art. 17 request #7")
    assert (e.ref, e.actor, e.already, set(e.digests)) == (
        "credit-train@v1",
        "tester",
        False,
        set(_digests(v)),
    )
    assert not any(ws.store.artifacts.exists(d) for d in _digests(v))
    files = [p for p in (tmp_path / "ws" / "artifacts").rglob("*") if p.is_file()]
    assert not any(d.split(":")[1] in p.name for p in files for d in _digests(v))
    assert ws.ledger.verify().ok
    payload = _payload(ws.ledger.log(action="dataset.erased")[0])
    assert payload["digests"] == list(e.digests) and payload["reason"] == e.reason
    assert "ana@example.com" not in orjson.dumps([_payload(x) for x in ws.ledger.log()]).decode()
    again = ws.datasets.get("credit-train@v1")
    assert again.erased == e.created and again.fingerprint == v.fingerprint and again.rows == 4
    assert again.to_dict()["erased"] == e.created
    with pytest.raises(NotFound, match=rf"data of credit-train@v1 was erased on {e.created} by tester: GDPR"):
        ws.datasets.data(again)
    with pytest.raises(NotFound, match="profile of credit-train@v1 was erased"):
        ws.datasets.profile(again)
    assert ws.retention.erasure("credit-train@v1") == e
    twice = ws.retention.erase("credit-train@v1", "again")  # idempotent: nothing new recorded
    assert twice.already and twice.id == e.id and twice.created == e.created
    assert len(ws.ledger.log(action="dataset.erased")) == 1


def test_datasheet_and_cli_say_erased(ws: mlaudit.Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    from mlaudit.compliance.render import to_markdown

    _log(ws)
    w = ["-w", ws.location]
    assert main(["data", "erase", "credit-train@v1", "--reason", "subject request", *w]) == 2  # no --yes
    assert "--yes" in capsys.readouterr().err
    assert main(["data", "erase", "credit-train@v1", "--reason", "subject request", "--yes", *w]) == 0
    assert "erased the raw data of credit-train@v1" in capsys.readouterr().out
    assert main(["data", "erase", "credit-train@v1", "--reason", "again", "--yes", *w]) == 0
    assert "already erased on" in capsys.readouterr().out
    assert main(["ledger", "verify", *w]) == 0
    capsys.readouterr()
    assert main(["data", "show", "credit-train@v1", *w]) == 0
    assert "raw data erased on" in capsys.readouterr().out
    assert main(["data", "versions", "credit-train", "--json", *w]) == 0
    assert orjson.loads(capsys.readouterr().out)[0]["erased"].startswith("20")
    text = to_markdown(ws.reports.build("credit-train@v1", "datasheet"))
    assert "Raw data erased on" in text and "by tester (subject request)" in text
    assert "could not be read" not in text


def test_audit_against_an_erased_version_says_so(ws: mlaudit.Workspace) -> None:
    _log(ws)
    ws.retention.erase("credit-train@v1", "request")
    _model(ws, "credit", [])
    with pytest.raises(NotFound, match=r"data of credit-train@v1 was erased on .* by tester: request"):
        ws.audit("credit@v1", reference="credit-train@v1", current="credit-train@v1", record=False)


def test_hold_blocks_erasure_until_released(
    ws: mlaudit.Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    v = _log(ws)
    h = ws.retention.hold("dataset:credit-train@1", "litigation hold, matter 42")
    assert h.subject == "dataset:credit-train@v1" and h.active
    assert [x.id for x in ws.retention.held("credit-train@v1")] == [h.id]
    with pytest.raises(InputError, match=rf"under legal hold {h.id} .*matter 42"):
        ws.retention.erase("credit-train@v1", "request")
    assert (
        all(ws.store.artifacts.exists(d) for d in _digests(v))
        and ws.retention.erasure("credit-train@v1") is None
    )
    w = ["-w", ws.location]
    assert main(["data", "erase", "credit-train@v1", "--reason", "r", "--yes", *w]) == 2
    assert h.id in capsys.readouterr().err
    released = ws.retention.release(h.id, "matter settled")
    assert released.released and released.released_by == "tester"
    with pytest.raises(InputError, match="already released"):
        ws.retention.release(h.id, "twice")
    assert ws.retention.holds() == [] and [x.id for x in ws.retention.holds(active_only=False)] == [h.id]
    ws.retention.erase("credit-train@v1", "request")
    actions = [e.action for e in ws.ledger.log()]
    assert actions.index("hold.placed") < actions.index("hold.released") < actions.index("dataset.erased")
    assert ws.ledger.verify().ok


def test_hold_scopes_dataset_version_and_model(ws: mlaudit.Workspace) -> None:
    _log(ws)
    _log(ws, rows={"age": [1, 2], "email": ["x@a.com", "y@b.com"]})
    _log(ws, "other", rows={"age": [7, 8], "email": ["p@a.com", "q@b.com"]})
    whole = ws.retention.hold("dataset:credit-train", "all versions")
    assert {x.id for x in ws.retention.held("credit-train@v1")} == {
        x.id for x in ws.retention.held("credit-train@v2")
    }
    assert ws.retention.held("other@v1") == []
    ws.retention.release(whole.id, "done")
    one = ws.retention.hold("dataset:credit-train@v2", "one version")
    assert ws.retention.held("credit-train@v1") == [] and ws.retention.held("credit-train@v2") == [one]
    ws.retention.release(one.id, "done")
    _model(ws, "credit", ["credit-train@v1"])
    by_model = ws.retention.hold("model:credit", "model under review")
    assert ws.retention.held("credit-train@v1") == [by_model] and ws.retention.held("credit-train@v2") == []
    with pytest.raises(InputError, match="model:credit"):
        ws.retention.erase("credit-train@v1", "request")
    ws.retention.erase("credit-train@v2", "request")  # not what the model was trained on
    with pytest.raises(NotFound):
        ws.retention.hold("dataset:nope", "x")
    with pytest.raises(NotFound):
        ws.retention.hold("model:credit@v9", "x")
    with pytest.raises(InputError, match="not a hold subject"):
        ws.retention.hold("credit-train", "x")
    with pytest.raises(InputError, match="reason"):
        ws.retention.hold("dataset:other", " ")


def test_shared_bytes_are_erased_for_both_versions(ws: mlaudit.Workspace) -> None:
    a = _log(ws, "a")
    b = _log(ws, "b")  # the same content under another name: the same snapshot bytes
    assert a.data == b.data
    ws.retention.erase("a@v1", "request")
    assert ws.datasets.get("b@v1").erased is not None
    with pytest.raises(NotFound, match=r"data of b@v1 was erased .*same bytes as a@v1"):
        ws.datasets.data(ws.datasets.get("b@v1"))
    assert ws.ledger.verify().ok


def test_nothing_to_erase_and_bad_refs(ws: mlaudit.Workspace) -> None:
    ws.datasets.log("plain", ROWS)  # no kept data, but a profile (which is erased)
    e = ws.retention.erase("plain@v1", "request")
    assert len(e.digests) == 1
    with pytest.raises(InputError, match="name the version"):
        ws.retention.erase("plain", "request")
    with pytest.raises(NotFound):
        ws.retention.erase("plain@v7", "request")


def test_failure_mid_erase_records_nothing(ws: mlaudit.Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    v = _log(ws)
    before = len(ws.ledger.log())
    store = ws.store.artifacts

    def broken(digest: str) -> bool:
        raise OSError("disk went away")

    monkeypatch.setattr(store, "delete", broken)
    with pytest.raises(OSError, match="disk went away"):
        ws.retention.erase("credit-train@v1", "request")
    monkeypatch.undo()
    assert (
        ws.retention.erasure("credit-train@v1") is None and ws.datasets.get("credit-train@v1").erased is None
    )
    assert len(ws.ledger.log()) == before and ws.ledger.verify().ok
    assert ws.datasets.data(ws.datasets.get("credit-train@v1")).num_rows == 4
    assert all(ws.artifacts.info(d).erased is None for d in _digests(v))
    ws.retention.erase("credit-train@v1", "request")  # a retry completes it
    assert not any(store.exists(d) for d in _digests(v))


def test_plan_and_apply_with_a_fixed_now(ws: mlaudit.Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    old = _log(ws)
    _log(ws, rows={"age": [1, 2], "email": ["x@a.com", "y@b.com"]})  # v2: recent
    _log(ws, "held", rows={"age": [3, 4], "email": ["h@a.com", "i@b.com"]})
    _backdate(ws, "credit-train", 1, "2023-06-01T00:00:00Z")
    _backdate(ws, "held", 1, "2023-06-01T00:00:00Z")
    hold = ws.retention.hold("dataset:held", "regulator inquiry")
    bid, batch_bytes = uuid.uuid4().hex, b"prediction batch parquet bytes"
    art = ws.artifacts.put(batch_bytes, name="batch")
    with ws.store.write(ws.actor) as tx:
        event = tx.record("prediction.logged", "model:credit", {"id": bid})
        tx.conn.execute(
            sa.insert(prediction_batches).values(
                id=bid, model="credit", kind="predictions", rows=10, artifact=art.digest,
                created="2024-01-01T00:00:00Z", actor="tester", seq=event.seq,
            )
        )  # fmt: skip
    plan = ws.retention.plan(now=NOW)
    by = {(i.record, i.subject): i for i in plan.items}
    assert set(by) == {
        ("dataset_data", "credit-train@v1"), ("dataset_profile", "credit-train@v1"),
        ("dataset_data", "held@v1"), ("dataset_profile", "held@v1"),
        ("prediction_log", f"prediction_batch:{bid}"),
    }  # fmt: skip
    assert (
        by[("dataset_data", "held@v1")].held_by == (hold.id,)
        and by[("dataset_data", "credit-train@v1")].held_by == ()
    )
    assert by[("dataset_data", "credit-train@v1")].ended.startswith("2025-05-31")
    w = ["-w", ws.location]
    assert main(["retention", "plan", "--now", NOW, "--json", *w]) == 0
    assert len(orjson.loads(capsys.readouterr().out)["items"]) == 5
    done = ws.retention.apply(now=NOW)
    assert [e.ref for e in done.erased] == ["credit-train@v1"] and done.batches == (bid,)
    assert {s for s, _ in done.blocked} == {"held@v1"}
    assert not any(ws.store.artifacts.exists(d) for d in _digests(old)) and not ws.store.artifacts.exists(
        art.digest
    )
    assert ws.datasets.get("held@v1").erased is None and ws.datasets.get("credit-train@v2").erased is None
    assert "retention" in ws.retention.erasure("credit-train@v1").reason  # type: ignore[union-attr]
    assert [e.subject for e in ws.ledger.log(action="prediction_batch.erased")] == [f"prediction_batch:{bid}"]
    assert ws.ledger.verify().ok
    assert ws.retention.plan(now=NOW).items == tuple(i for i in plan.items if i.held_by)
    assert main(["retention", "apply", "--now", NOW, "--yes", *w]) == 0
    assert "kept held@v1" in capsys.readouterr().err
    # audit results are evidence: only flagged
    flagged = ws.retention.plan(now="2040-01-01T00:00:00Z", policy=load_policy())
    assert {i.action for i in flagged.items if i.record == "audit_results"} <= {"flag"}


def test_policy_file_is_strict(
    tmp_path: Path, ws: mlaudit.Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_policy().periods.ledger.days == "forever"
    bad = tmp_path / "r.yaml"
    base = "periods:\n  dataset_data: {days: 1}\n  dataset_profile: {days: 1}\n  prediction_log: {days: 1}\n"
    bad.write_text(
        base + "  audit_results: {days: 9, action: flag}\n  ledger: {days: forever}\n  backups: {days: 3}\n"
    )
    with pytest.raises(InputError, match="backups"):
        load_policy(bad)
    bad.write_text(base + "  audit_results: {days: 9, action: erase}\n  ledger: {days: forever}\n")
    with pytest.raises(InputError, match="evidence"):
        load_policy(bad)
    bad.write_text(base + "  audit_results: {days: 9, action: flag}\n  ledger: {days: 30}\n")
    with pytest.raises(InputError, match="forever"):
        load_policy(bad)
    assert main(["retention", "plan", "--policy", str(bad), "-w", ws.location]) == 2
    assert "r.yaml" in capsys.readouterr().err
    good = tmp_path / "g.yaml"
    good.write_text(base + "  audit_results: {days: 9, action: flag}\n  ledger: {days: forever}\n")
    _log(ws)
    _backdate(ws, "credit-train", 1, "2025-12-01T00:00:00Z")
    assert len(ws.retention.plan(now=NOW, policy=good).items) == 2
    assert ws.retention.plan(now=NOW).items == ()  # the built-in two years have not passed


def test_permissions(tmp_path: Path) -> None:
    where = tmp_path / "ws"
    with mlaudit.open(where, actor="root") as ws:
        ws.access.add_user("root", admin=True)
        for role in ("viewer", "contributor"):
            ws.access.add_user(role)
            ws.access.grant(role, role)
        _log(ws)
    for role in ("viewer", "contributor"):
        with mlaudit.open(where, actor=role) as other:
            with pytest.raises(PermissionDenied, match=r"dataset\.erase"):
                other.retention.erase("credit-train@v1", "request")
            with pytest.raises(PermissionDenied, match=r"retention\.manage"):
                other.retention.hold("dataset:credit-train", "x")
            with pytest.raises(PermissionDenied, match=r"retention\.manage"):
                other.retention.apply(now=NOW)
            assert other.retention.holds() == []  # reading is allowed
    assert main(["data", "erase", "credit-train@v1", "--reason", "r", "--yes", "-w", str(where)]) == 4
    with mlaudit.open(where, actor="root") as ws:
        assert ws.retention.erase("credit-train@v1", "request").actor == "root"
        with ws.store.read() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(erasures)).scalar() == 1


def test_hold_cli(ws: mlaudit.Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    _log(ws)
    w = ["-w", ws.location]
    assert main(["hold", "place", "dataset:credit-train", "--reason", "matter 9", "--json", *w]) == 0
    hid = orjson.loads(capsys.readouterr().out)["id"]
    assert main(["hold", "list", *w]) == 0 and hid in capsys.readouterr().out
    assert main(["hold", "release", "nope", "--reason", "r", *w]) == 2
    assert main(["hold", "place", "dataset:missing", "--reason", "r", *w]) == 2
    assert main(["hold", "release", hid, "--reason", "over", *w]) == 0
    capsys.readouterr()
    assert main(["hold", "list", "--json", *w]) == 0 and orjson.loads(capsys.readouterr().out) == []
    assert main(["hold", "list", "--all", "--json", *w]) == 0
    assert orjson.loads(capsys.readouterr().out)[0]["released_by"] == "tester"


@pytest.mark.postgres
def test_erase_on_postgres(pg_database: str, tmp_path: Path) -> None:
    target = {
        "target": pg_database,
        "signing_key": str(tmp_path / "keys" / "ledger.pem"),
        "artifacts": str(tmp_path / "artifacts"),
    }
    with mlaudit.open(**target) as ws:
        v = _log(ws)
        h = ws.retention.hold("dataset:credit-train@v1", "matter 1")
        with pytest.raises(InputError, match=h.id):
            ws.retention.erase("credit-train@v1", "request")
        ws.retention.release(h.id, "over")
        e = ws.retention.erase("credit-train@v1", "request")
        assert not any(ws.store.artifacts.exists(d) for d in _digests(v))
        assert ws.datasets.get("credit-train@v1").erased == e.created
        with pytest.raises(NotFound, match="erased on"):
            ws.datasets.data(ws.datasets.get("credit-train@v1"))
        assert ws.ledger.verify().ok
