"""OpenLineage in and out: other producers' events, idempotent import, schema, round trips.

The official OpenLineage JSON schema is not shipped by openlineage-python (1.54 ships classes
generated from spec 2-0-2, not the JSON file). ``test_export_validates_against_the_official_schema``
runs when ``OPENLINEAGE_SCHEMA_FILE`` names a copy of ``spec/OpenLineage.json``; every run checks
that each exported event is exactly what openlineage-python's own classes serialise.
"""

from __future__ import annotations

import copy
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import mlaudit
from mlaudit.lineage import LineageGraph
from mlaudit.openlineage import MLAUDIT_COLUMNS_FACET, MLAUDIT_RUN_FACET, PRODUCER, RUN_EVENT_SCHEMA

AIRFLOW_RUN = "0190a5c4-8a36-7e0b-9d5c-3a3f6b8c1d2e"
SPARK_RUN = "0190a5c5-1f00-7a11-b2c3-d4e5f6a7b8c9"
DBT_RUN = "0190a5c6-0000-7000-8000-00000000dbt1".replace("dbt1", "0001")
AIRFLOW = "https://github.com/apache/airflow/tree/providers-openlineage/1.8.0"
SPARK = "https://github.com/OpenLineage/OpenLineage/tree/1.9.0/integration/spark"
DBT = "https://github.com/OpenLineage/OpenLineage/tree/1.9.0/integration/dbt"
SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def _f(producer: str, schema: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": producer, "_schemaURL": schema, **fields}


ORDERS = {
    "namespace": "postgres://prod-db:5432",
    "name": "shop.public.orders",
    "facets": {
        "schema": _f(
            AIRFLOW,
            "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json",
            fields=[
                {"name": "id", "type": "integer"},
                {"name": "amount", "type": "numeric"},
            ],
        ),
        "dataSource": _f(
            AIRFLOW,
            "https://openlineage.io/spec/facets/1-0-1/DatasourceDatasetFacet.json",
            name="postgres://prod-db:5432",
            uri="postgres://prod-db:5432",
        ),
    },
}
RAW = {"namespace": "s3://datalake", "name": "raw/orders/2024-05-01"}
CUSTOMERS = {"namespace": "file", "name": "/data/customers.parquet"}
ENRICHED = {"namespace": "s3://datalake", "name": "curated/orders_enriched"}
DAILY = {"namespace": "postgres://warehouse:5432", "name": "analytics.marts.orders_daily"}
AIRFLOW_JOB = {
    "namespace": "airflow-prod",
    "name": "etl_orders.extract",
    "facets": {
        "jobType": _f(
            AIRFLOW,
            "https://openlineage.io/spec/facets/2-0-2/JobTypeJobFacet.json",
            processingType="BATCH",
            integration="AIRFLOW",
            jobType="TASK",
        ),
        "sql": _f(
            AIRFLOW,
            "https://openlineage.io/spec/facets/1-0-1/SQLJobFacet.json",
            query="COPY (SELECT * FROM orders WHERE day = '2024-05-01') TO 's3://datalake/...'",
        ),
    },
}


def third_party_events() -> list[dict[str, Any]]:
    """Events in the shape the Airflow provider, the Spark listener and dbt-ol write."""
    airflow_run = {
        "runId": AIRFLOW_RUN,
        "facets": {
            "nominalTime": _f(
                AIRFLOW,
                "https://openlineage.io/spec/facets/1-0-0/NominalTimeRunFacet.json",
                nominalStartTime="2024-05-01T02:00:00Z",
            ),
            "parent": _f(
                AIRFLOW,
                "https://openlineage.io/spec/facets/1-0-0/ParentRunFacet.json",
                run={"runId": "0190a5c3-0000-7000-8000-000000000000"},
                job={"namespace": "airflow-prod", "name": "etl_orders"},
            ),
            "airflow": _f(
                AIRFLOW,
                "https://example.com/AirflowRunFacet.json",
                dag={"dag_id": "etl_orders"},
                task={"task_id": "extract", "operator_class": "SQLExecuteQueryOperator"},
            ),
        },
    }
    spark_job = {
        "namespace": "spark-cluster",
        "name": "orders_enrichment.execute_insert_into_hadoop_fs_relation",
    }
    enriched_out = dict(
        ENRICHED,
        facets={
            "columnLineage": _f(
                SPARK,
                "https://openlineage.io/spec/facets/1-0-1/ColumnLineageDatasetFacet.json",
                fields={
                    "customer_region": {"inputFields": [dict(CUSTOMERS, field="region")]},
                    "order_total": {"inputFields": [dict(RAW, field="amount"), dict(RAW, field="tax")]},
                },
            ),
        },
        outputFacets={
            "outputStatistics": _f(
                SPARK,
                "https://openlineage.io/spec/facets/1-0-1/OutputStatisticsOutputDatasetFacet.json",
                rowCount=1200,
                size=48000,
            ),
        },
    )
    dbt_job = {
        "namespace": "dbt",
        "name": "analytics.marts.orders_daily",
        "facets": {
            "sql": _f(
                DBT,
                "https://openlineage.io/spec/facets/1-0-1/SQLJobFacet.json",
                query="select day, sum(order_total) from orders_enriched group by 1",
            )
        },
    }
    base = {"schemaURL": SPEC}
    return [
        {
            **base,
            "eventType": "START",
            "eventTime": "2024-05-01T02:00:05.120Z",
            "producer": AIRFLOW,
            "run": airflow_run,
            "job": AIRFLOW_JOB,
            "inputs": [ORDERS],
            "outputs": [],
        },
        {
            **base,
            "eventType": "COMPLETE",
            "eventTime": "2024-05-01T02:03:11.004Z",
            "producer": AIRFLOW,
            "run": airflow_run,
            "job": AIRFLOW_JOB,
            "inputs": [ORDERS],
            "outputs": [RAW],
        },
        {
            **base,
            "eventType": "START",
            "eventTime": "2024-05-01T02:10:00.123456789Z",
            "producer": SPARK,
            "run": {"runId": SPARK_RUN},
            "job": spark_job,
            "inputs": [RAW, CUSTOMERS],
        },
        {
            **base,
            "eventType": "RUNNING",
            "eventTime": "2024-05-01T02:11:00Z",
            "producer": SPARK,
            "run": {"runId": SPARK_RUN},
            "job": spark_job,
            "inputs": [RAW],
        },
        {
            **base,
            "eventType": "COMPLETE",
            "eventTime": "2024-05-01T04:15:00+02:00",
            "producer": SPARK,
            "run": {"runId": SPARK_RUN},
            "job": spark_job,
            "inputs": [RAW, CUSTOMERS],
            "outputs": [enriched_out],
        },
        {
            **base,
            "eventType": "COMPLETE",
            "eventTime": "2024-05-01T03:00:00Z",
            "producer": DBT,
            "run": {"runId": DBT_RUN},
            "job": dbt_job,
            "inputs": [ENRICHED],
            "outputs": [DAILY],
        },
        {
            "eventTime": "2024-05-01T03:00:01Z",
            "producer": DBT,
            "schemaURL": SPEC.replace("RunEvent", "DatasetEvent"),
            "dataset": DAILY,
        },
    ]


def _ol(ds: dict[str, Any]) -> str:
    return f"ol:{ds['namespace']}/{ds['name']}"


def signature(graph: LineageGraph) -> tuple[Any, ...]:
    """What must survive a round trip: nodes, edges with columns, and run jobs and states."""
    runs = {
        n.id: (
            n.info["job"],
            n.info["status"],
            {k: v for k, v in n.info["facets"].items() if k != "openlineage"},
        )
        for n in graph.nodes
        if n.kind == "run"
    }
    edges = sorted((e.src, e.dst, e.kind, e.run, repr(e.columns)) for e in graph.edges)
    return (graph.ids("dataset"), graph.ids("model"), graph.ids("external"), edges, runs, graph.partial)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[mlaudit.Workspace]:
    with mlaudit.open(tmp_path / "ws") as workspace:
        yield workspace


def test_another_producers_events_build_the_graph(ws: mlaudit.Workspace) -> None:
    counts = ws.lineage.import_openlineage(third_party_events())
    assert counts == {"runs_created": 3, "runs_updated": 0, "edges_added": 7, "events_skipped": 1}
    graph = ws.lineage.upstream(_ol(DAILY))
    assert graph.ids("external") == {_ol(d) for d in (DAILY, ENRICHED, RAW, CUSTOMERS, ORDERS)}
    assert graph.ids("run") == {f"run:{r}" for r in (AIRFLOW_RUN, SPARK_RUN, DBT_RUN)}
    assert graph.node(_ol(ORDERS)).depth == 3 and not graph.partial
    spark = graph.node(f"run:{SPARK_RUN}").info
    assert (spark["status"], spark["started"], spark["ended"]) == (
        "completed",
        "2024-05-01T02:10:00.123456Z",
        "2024-05-01T02:15:00.000000Z",
    )
    produced = next(e for e in graph.edges if e.dst == _ol(ENRICHED))
    assert produced.columns == {
        "customer_region": [f"{_ol(CUSTOMERS)}#region"],
        "order_total": [f"{_ol(RAW)}#amount", f"{_ol(RAW)}#tax"],
    }
    airflow = graph.node(f"run:{AIRFLOW_RUN}").info
    assert airflow["job"] == "job:airflow-prod/etl_orders.extract"
    kept = airflow["facets"]["openlineage"]
    assert set(kept["run"]) == {"nominalTime", "parent"}  # the bulky "airflow" facet is dropped
    assert set(kept["job"]) == {"jobType", "sql"} and kept["producer"] == AIRFLOW
    assert ws.lineage.downstream(_ol(ORDERS)).ids("external") == graph.ids("external") - {_ol(CUSTOMERS)}
    imported = ws.ledger.log(action="lineage.run_imported")
    assert len(imported) == 3 and ws.ledger.verify().ok
    assert imported[0].to_dict()["payload"]["event_types"] == ["COMPLETE", "START"]


def test_import_is_idempotent_and_merges_later_events(ws: mlaudit.Workspace) -> None:
    events = third_party_events()
    starts = [e for e in events if e.get("eventType") in ("START", "RUNNING")]
    assert ws.lineage.import_openlineage(starts)["runs_created"] == 2
    assert ws.lineage.upstream(f"run:{SPARK_RUN}").node(f"run:{SPARK_RUN}").info["status"] == "running"
    counts = ws.lineage.import_openlineage(events)
    assert counts == {"runs_created": 1, "runs_updated": 2, "edges_added": 4, "events_skipped": 1}
    size = ws.ledger.size()
    before = signature(ws.lineage.upstream(_ol(DAILY)))
    again = ws.lineage.import_openlineage(reversed(events))
    assert again == {"runs_created": 0, "runs_updated": 0, "edges_added": 0, "events_skipped": 1}
    assert ws.ledger.size() == size
    assert signature(ws.lineage.upstream(_ol(DAILY))) == before
    assert before[4][f"run:{SPARK_RUN}"][1] == "completed"


def test_bad_events_are_input_errors_and_write_nothing(ws: mlaudit.Workspace) -> None:
    good = third_party_events()[0]
    cases = [
        ({**good, "eventTime": "yesterday"}, "eventTime"),
        ({**good, "run": {}}, "runId"),
        ({**good, "job": {"namespace": "x"}}, "'name'"),
        ({**good, "inputs": [{"name": "t"}]}, "'namespace'"),
        ({**good, "job": {"namespace": "other", "name": "job"}}, "belongs to job"),
    ]
    for bad, message in cases:
        with pytest.raises(mlaudit.InputError, match=message):
            ws.lineage.import_openlineage([good, bad])
    with pytest.raises(mlaudit.InputError, match="event 0"):
        ws.lineage.import_openlineage(["not an event"])  # type: ignore[list-item]
    assert ws.ledger.size() == 1


def record_example(ws: mlaudit.Workspace) -> None:
    with ws.run("features", parameters={"window": 7}) as run:
        run.consumes("dataset:raw@a1", columns=["age", "income"]).consumes("dataset:ref@r1", columns=["age"])
        run.consumes("ol:s3://bucket/lookup.csv")
        run.produces(
            "dataset:feat@f1", columns={"age_bucket": ["age"], "ratio": ["income", "dataset:ref@r1#age"]}
        )
    with ws.run("train", namespace="ml") as run:
        run.consumes("dataset:feat@f1").produces("model:credit@3", columns={"score": ["age_bucket", "ratio"]})
    with pytest.raises(RuntimeError), ws.run("evaluate") as run:
        run.consumes("model:credit@3")
        raise RuntimeError("boom")


def test_round_trip_into_a_fresh_workspace_gives_the_same_graph(
    ws: mlaudit.Workspace, tmp_path: Path
) -> None:
    record_example(ws)
    ws.lineage.import_openlineage(third_party_events())
    events = ws.lineage.export_openlineage()
    assert [e["eventType"] for e in events].count("START") == 6
    assert {e["eventType"] for e in events} == {"START", "COMPLETE", "FAIL"}
    with mlaudit.open(tmp_path / "fresh") as fresh:
        assert fresh.lineage.import_openlineage(copy.deepcopy(events))["runs_created"] == 6
        for node in (
            "model:credit@3",
            "dataset:raw@a1",
            "ol:s3://bucket/lookup.csv",
            _ol(DAILY),
            _ol(ORDERS),
        ):
            for direction in ("upstream", "downstream"):
                for depth in (None, 1):
                    mine = ws.lineage.graph(node, direction, depth=depth)  # type: ignore[arg-type]
                    theirs = fresh.lineage.graph(node, direction, depth=depth)  # type: ignore[arg-type]
                    assert signature(mine) == signature(theirs), (node, direction, depth)
        again = fresh.lineage.export_openlineage()
    size = ws.ledger.size()
    assert ws.lineage.import_openlineage(again) == {
        "runs_created": 0,
        "runs_updated": 0,
        "edges_added": 0,
        "events_skipped": 0,
    }
    assert ws.ledger.size() == size


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
    return value


def _client_event(event: dict[str, Any]) -> dict[str, Any]:
    """The same event built with openlineage-python's classes and serialised by its Serde."""
    attr = pytest.importorskip("attr")
    pytest.importorskip("openlineage.client")
    from openlineage.client import event_v2 as ol
    from openlineage.client.generated import column_lineage_dataset as cl
    from openlineage.client.generated import dataset_version_dataset as dv
    from openlineage.client.generated import job_type_job as jt
    from openlineage.client.generated.base import InputDatasetFacet, RunFacet
    from openlineage.client.serde import Serde

    @attr.define
    class MlauditRunFacet(RunFacet):
        status: str | None = None
        actor: str | None = None
        facets: dict[str, Any] = attr.field(factory=dict)

        @staticmethod
        def _get_schema() -> str:
            return MLAUDIT_RUN_FACET

    @attr.define
    class MlauditColumnsFacet(InputDatasetFacet):
        columns: list[str] = attr.field(factory=list)

        @staticmethod
        def _get_schema() -> str:
            return MLAUDIT_COLUMNS_FACET

    def dataset_facets(facets: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, f in facets.items():
            if key == "version":
                out[key] = dv.DatasetVersionDatasetFacet(
                    datasetVersion=f["datasetVersion"], producer=PRODUCER
                )
            else:
                assert key == "columnLineage", key
                fields = {
                    col: cl.Fields(
                        inputFields=[
                            cl.InputField(namespace=i["namespace"], name=i["name"], field=i["field"])
                            for i in spec["inputFields"]
                        ]
                    )
                    for col, spec in f["fields"].items()
                }
                out[key] = cl.ColumnLineageDatasetFacet(fields=fields, producer=PRODUCER)
        return out

    run_facet = event["run"]["facets"]["mlaudit_run"]
    job_type = event["job"]["facets"]["jobType"]
    built = ol.RunEvent(
        eventType=ol.RunState(event["eventType"]),
        eventTime=event["eventTime"],
        run=ol.Run(
            runId=event["run"]["runId"],
            facets={
                "mlaudit_run": MlauditRunFacet(
                    status=run_facet["status"],
                    actor=run_facet["actor"],
                    facets=run_facet["facets"],
                    producer=PRODUCER,
                )
            },
        ),
        job=ol.Job(
            namespace=event["job"]["namespace"],
            name=event["job"]["name"],
            facets={
                "jobType": jt.JobTypeJobFacet(
                    processingType=job_type["processingType"],
                    integration=job_type["integration"],
                    jobType=job_type["jobType"],
                    producer=PRODUCER,
                )
            },
        ),
        inputs=[
            ol.InputDataset(
                namespace=d["namespace"],
                name=d["name"],
                facets=dataset_facets(d["facets"]),
                inputFacets={
                    k: MlauditColumnsFacet(columns=v["columns"], producer=PRODUCER)
                    for k, v in d.get("inputFacets", {}).items()
                },
            )
            for d in event["inputs"]
        ],
        outputs=[
            ol.OutputDataset(namespace=d["namespace"], name=d["name"], facets=dataset_facets(d["facets"]))
            for d in event["outputs"]
        ],
        producer=PRODUCER,
    )
    return Serde.to_dict(built)


def test_export_is_what_the_official_client_writes(ws: mlaudit.Workspace) -> None:
    record_example(ws)
    events = ws.lineage.export_openlineage()
    assert len(events) == 6
    for event in events:
        assert event["schemaURL"] == RUN_EVENT_SCHEMA and event["producer"] == PRODUCER
        assert str(uuid.UUID(event["run"]["runId"])) == event["run"]["runId"]
        assert datetime.fromisoformat(event["eventTime"]).tzinfo is not None
        assert _drop_empty(event) == _drop_empty(_client_event(event))


def test_export_validates_against_the_official_schema(ws: mlaudit.Workspace) -> None:
    path = os.environ.get("OPENLINEAGE_SCHEMA_FILE")
    if not path:
        pytest.skip("set OPENLINEAGE_SCHEMA_FILE to a copy of OpenLineage's spec/OpenLineage.json")
    jsonschema = pytest.importorskip("jsonschema")
    import orjson

    schema = orjson.loads(Path(path).read_bytes())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    record_example(ws)
    ws.lineage.import_openlineage(third_party_events())
    events = ws.lineage.export_openlineage() + ws.lineage.upstream(_ol(DAILY)).to_openlineage()
    for event in events:
        validator.validate(event)
    for event in third_party_events():  # the hand-written producers' events are valid too
        validator.validate(event)
