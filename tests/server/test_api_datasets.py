"""``/api/v1/datasets``: listing, versions, uploads (CSV, Parquet, JSONL), schema diffs."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
from api_helpers import api_template, assert_error, server_ws  # noqa: F401

CSV = b"a,b\n1,x\n2,y\n"


def test_list_and_get(login) -> None:
    client = login("viewer")
    page = client.get("/api/v1/datasets").json()
    assert page["total"] == 1 and page["offset"] == 0
    (item,) = page["items"]
    assert item["name"] == "train" and item["versions"] == 1
    assert item["latest"]["ref"] == "train@v1" and item["latest"]["data_kept"] is True
    one = client.get("/api/v1/datasets/train/versions/1").json()
    assert one["rows"] == 400 and [c["name"] for c in one["schema"]] == ["a", "b", "y"]
    assert one["fingerprint"].startswith("sha256:")
    versions = client.get("/api/v1/datasets/train/versions").json()
    assert versions["total"] == 1 and versions["items"][0]["number"] == 1


def test_unknown_and_bad_input(login) -> None:
    client = login("viewer")
    assert_error(client.get("/api/v1/datasets/nope/versions"), 404, "not_found")
    assert_error(client.get("/api/v1/datasets/train/versions/9"), 404)
    assert_error(client.get("/api/v1/datasets/train/versions/0"), 422, "invalid_input")
    assert_error(client.get("/api/v1/datasets?limit=0"), 422)


def test_upload_csv_raw_then_multipart_parquet_and_diff(login) -> None:
    client = login("contributor")
    r = client.post("/api/v1/datasets/up/versions", content=CSV, headers={"Content-Type": "text/csv"})
    assert r.status_code == 201, r.text
    assert r.json()["created"] is True and r.json()["version"]["ref"] == "up@v1"
    # the same content again is the same version
    r = client.post("/api/v1/datasets/up/versions", content=CSV, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json()["created"] is False
    buf = io.BytesIO()
    pq.write_table(pa.table({"a": [1.5, 2.5], "c": ["p", "q"]}), buf)
    files = {"file": ("data.parquet", buf.getvalue(), "application/octet-stream")}
    r = client.post("/api/v1/datasets/up/versions?keep_data=true", files=files)
    assert r.status_code == 201, r.text
    assert r.json()["version"]["number"] == 2 and r.json()["version"]["data_kept"] is True
    assert r.json()["schema_change"]["added"] == ["c"]
    diff = client.get("/api/v1/datasets/up/schema-diff?from=1&to=2").json()
    assert diff["changed"] is True and diff["removed"] == ["b"] and diff["retyped"][0]["column"] == "a"
    r = client.post("/api/v1/datasets/up/versions", content=b'{"a": 1}\n{"a": 2}\n',
                    headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
    assert r.status_code == 201 and r.json()["version"]["columns"] == 1


def test_upload_errors(login) -> None:
    client = login("contributor")
    octet = {"Content-Type": "application/octet-stream"}
    assert_error(client.post("/api/v1/datasets/up/versions", content=CSV, headers=octet), 422, text="format")
    assert_error(client.post("/api/v1/datasets/up/versions?format=parquet", content=CSV,
                             headers={"Content-Type": "text/csv"}), 422, text="parquet")  # fmt: skip
    assert_error(client.post("/api/v1/datasets/up/versions", content=b"",
                             headers={"Content-Type": "text/csv"}), 422)  # fmt: skip
    assert_error(client.post("/api/v1/datasets/bad name/versions", content=CSV,
                             headers={"Content-Type": "text/csv"}), 422)  # fmt: skip
    assert client.get("/api/v1/datasets").json()["total"] == 1


def test_upload_idempotent(login) -> None:
    client = login("contributor")
    headers = {"Content-Type": "text/csv", "Idempotency-Key": "up-1"}
    first = client.post("/api/v1/datasets/up/versions", content=CSV, headers=headers)
    again = client.post("/api/v1/datasets/up/versions", content=CSV, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replay"] == "true" and again.json() == first.json()
    assert_error(client.post("/api/v1/datasets/up/versions", content=b"a\n1\n", headers=headers), 422,
                 "idempotency_key_reused")  # fmt: skip
    assert client.get("/api/v1/datasets/up/versions").json()["total"] == 1


def test_permissions(login, token_client) -> None:
    assert_error(login("viewer").post("/api/v1/datasets/up/versions", content=CSV,
                                      headers={"Content-Type": "text/csv"}), 403)  # fmt: skip
    assert login("auditor").get("/api/v1/datasets").status_code == 200
    reader = token_client("contributor", scopes=["read"])
    assert reader.get("/api/v1/datasets").status_code == 200
    assert_error(reader.post("/api/v1/datasets/up/versions", content=CSV,
                             headers={"Content-Type": "text/csv"}), 403)  # fmt: skip
    writer = token_client("contributor", scopes=["write"])
    assert writer.post("/api/v1/datasets/up/versions", content=CSV,
                       headers={"Content-Type": "text/csv"}).status_code == 201  # fmt: skip
