"""Content-addressed artifacts: digests, atomic writes, validated names, erasure."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import mlaudit
from mlaudit.errors import InputError, IntegrityError, NotFound
from mlaudit.store.artifacts import ArtifactStore


def test_put_get_is_content_addressed(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "a")
    digest = store.put(b"model bytes")
    assert digest == "sha256:" + hashlib.sha256(b"model bytes").hexdigest()
    assert store.put(b"model bytes") == digest  # idempotent
    assert store.get(digest) == b"model bytes"
    assert list(store) == [digest]
    assert not list((tmp_path / "a").rglob("*.tmp-*"))


def test_put_file_streams(tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    data = bytes(range(256)) * 20_000
    f.write_bytes(data)
    store = ArtifactStore(tmp_path / "a")
    digest = store.put_file(f)
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert store.get(digest) == data


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "sha256:../../x",
        "sha256:" + "g" * 64,
        "sha256:" + "A" * 64,
        "",
        "sha256:" + "a" * 63,
    ],
)
def test_caller_names_never_reach_the_filesystem(tmp_path: Path, name: str) -> None:
    store = ArtifactStore(tmp_path / "a")
    with pytest.raises(InputError, match="not an artifact digest"):
        store.get(name)


def test_altered_bytes_are_detected(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "a")
    digest = store.put(b"original")
    path = next((tmp_path / "a").rglob(digest[7:]))
    path.write_bytes(b"altered!")
    with pytest.raises(IntegrityError, match="altered"):
        store.get(digest)


def test_erasure_removes_bytes_and_ledger_still_verifies(tmp_path: Path) -> None:
    with mlaudit.open(tmp_path / "ws") as ws:
        rec = ws.artifacts.put(b"name,email\nAda,ada@example.org\n", name="people.csv")
        assert ws.artifacts.get(rec.digest).startswith(b"name")
        erased = ws.artifacts.erase(rec.digest, reason="right to erasure request #12")
        assert erased.erased is not None
        assert not list((tmp_path / "ws" / "artifacts").rglob(rec.digest[7:]))
        with pytest.raises(NotFound, match="erased"):
            ws.artifacts.get(rec.digest)
        assert ws.ledger.verify().ok
        actions = [e.action for e in ws.ledger.log()]
        assert actions[-2:] == ["artifact.stored", "artifact.erased"]
        assert all("ada@example.org" not in e.payload for e in ws.ledger.log())


def test_audits_record_and_detect_edits(tmp_path: Path) -> None:
    import sqlalchemy as sa

    with mlaudit.open(tmp_path / "ws") as ws:
        stored = ws.audits.record(
            "check_report", "dataset:x", {"passed": False, "n": 3}, status="fail"
        )
        assert ws.audits.get(stored.id).document == {"passed": False, "n": 3}
        assert [r.id for r in ws.audits.list(kind="check_report")] == [stored.id]
        with ws.store.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE results SET document = :d"), {"d": '{"n":3,"passed":true}'}
            )
        with pytest.raises(IntegrityError, match="does not match its ledger event"):
            ws.audits.get(stored.id)
