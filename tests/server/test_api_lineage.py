"""``/api/v1/lineage/{node}``: upstream and downstream graphs."""

from __future__ import annotations

from api_helpers import api_template, assert_error, server_ws  # noqa: F401


def test_upstream_of_model_and_downstream_of_dataset(login) -> None:
    client = login("viewer")
    up = client.get("/api/v1/lineage/model:credit@v1").json()
    assert up["direction"] == "upstream" and up["root"].startswith("model:credit@")
    kinds = {n["kind"] for n in up["nodes"]}
    assert "dataset" in kinds and "run" in kinds and up["edges"]
    down = client.get("/api/v1/lineage/dataset:train@v1", params={"direction": "downstream"}).json()
    ids = {n["id"] for n in down["nodes"]}
    assert any(i.startswith("model:credit@") for i in ids) and any(i.startswith("model:churn@") for i in ids)
    shallow = client.get("/api/v1/lineage/dataset:train@v1", params={"direction": "downstream", "depth": 0})
    assert shallow.json()["partial"] is True


def test_errors(login) -> None:
    client = login("viewer")
    assert_error(client.get("/api/v1/lineage/dataset:nope@v1"), 404, "not_found")
    assert_error(client.get("/api/v1/lineage/model:credit@v9"), 404)
    assert_error(client.get("/api/v1/lineage/model:credit@v1?depth=51"), 422)
    assert_error(client.get("/api/v1/lineage/model:credit@v1?direction=sideways"), 422)
