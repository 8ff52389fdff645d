"""OpenLineage RunEvents in and out of the lineage graph (spec 2-0-2, JSON dicts).

Export: each run becomes a START event and, once it ended, a COMPLETE / FAIL / ABORT event, with
its inputs and outputs. mlaudit dataset and model versions are datasets in the namespaces
``mlaudit.dataset`` / ``mlaudit.model`` with the standard ``version`` facet; column mappings use
the standard ``columnLineage`` facet; mlaudit's own run details (git commit, code path,
parameters) travel in the custom run facet ``mlaudit_run``.

Import: events from any producer (Airflow, Spark, dbt, ...) are merged per ``runId``; datasets
become ``ol:NAMESPACE/NAME`` nodes (or the mlaudit node they were exported from). Importing the
same events again changes nothing and records nothing.

>>> events = [{"eventType": "COMPLETE", "eventTime": "2024-05-01T10:00:00Z",
...            "run": {"runId": "0190a5c4-8a36-7e0b-9d5c-3a3f6b8c1d2e"},
...            "job": {"namespace": "airflow", "name": "etl.load"},
...            "inputs": [{"namespace": "s3://raw", "name": "events"}],
...            "outputs": [{"namespace": "postgres://db:5432", "name": "dw.public.events"}],
...            "producer": "https://example.com/producer"}]
>>> parse_events(events)[0].inputs
{'ol:s3://raw/events': (None, '2024-05-01T10:00:00.000000Z')}
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlaudit.errors import InputError
from mlaudit.store import Store
from mlaudit.store.tables import lineage_edges, lineage_runs

if TYPE_CHECKING:
    from mlaudit.lineage_graph import Columns, LineageEdge, LineageGraph, LineageNode

__all__ = ["PRODUCER", "RUN_EVENT_SCHEMA", "ParsedRun", "graph_events", "import_events", "parse_events"]

PRODUCER = "https://github.com/mlaudit/mlaudit"
RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
_FACETS = "https://openlineage.io/spec/facets"
VERSION_FACET = f"{_FACETS}/1-0-1/DatasetVersionDatasetFacet.json#/$defs/DatasetVersionDatasetFacet"
COLUMN_FACET = f"{_FACETS}/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet"
JOB_TYPE_FACET = f"{_FACETS}/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
MLAUDIT_RUN_FACET = f"{PRODUCER}/blob/main/docs/openlineage.md#mlaudit_run"
MLAUDIT_COLUMNS_FACET = f"{PRODUCER}/blob/main/docs/openlineage.md#mlaudit_columns"
NAMESPACES = {"dataset": "mlaudit.dataset", "model": "mlaudit.model"}
_END_EVENTS = {"completed": "COMPLETE", "failed": "FAIL", "aborted": "ABORT"}
_STATUS = {v: k for k, v in _END_EVENTS.items()}
# Standard facets worth keeping from other producers (the rest, e.g. Spark plans, can be huge).
_KEEP_RUN = ("nominalTime", "parent", "processing_engine", "errorMessage", "externalQuery")
_KEEP_JOB = ("jobType", "sourceCodeLocation", "sql", "documentation", "ownership")
_FRACTION = re.compile(r"(\.\d{6})\d+")


def _facet(schema: str, **fields: Any) -> dict[str, Any]:
    return {"_producer": PRODUCER, "_schemaURL": schema, **fields}


# -- export ----------------------------------------------------------------------------------


def split_external(node: str) -> tuple[str, str]:
    """``ol:NAMESPACE/NAME`` → (namespace, name), the namespace keeping its ``scheme://authority``.

    >>> split_external("ol:s3://bucket/path/file.parquet")
    ('s3://bucket', 'path/file.parquet')
    >>> split_external("ol:file//data/x.csv")
    ('file', '/data/x.csv')
    """
    rest = node[3:] if node.startswith("ol:") else node
    scheme, sep, after = rest.partition("://")
    if sep and "/" not in scheme:
        authority, _, name = after.partition("/")
        return f"{scheme}://{authority}", name
    namespace, _, name = rest.partition("/")
    return namespace, name


def dataset_ref(node: str, names: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The OpenLineage dataset (namespace, name, facets) for a lineage node."""
    kind, _, rest = node.partition(":")
    if kind in NAMESPACES and "@" in rest:
        name, _, version = rest.rpartition("@")
        return {
            "namespace": NAMESPACES[kind],
            "name": name,
            "facets": {"version": _facet(VERSION_FACET, datasetVersion=version)},
        }
    if names and node in names:
        namespace, name = names[node]
        return {"namespace": namespace, "name": name, "facets": {}}
    namespace, name = split_external(node)
    return {"namespace": namespace, "name": name, "facets": {}}


def _resolve_column(column: str, inputs: Mapping[str, Columns]) -> list[tuple[str, str]]:
    """Which (input node, field) an output's input column names: ``NODE#col`` or a plain name."""
    node, sep, field_name = column.rpartition("#")
    if sep and node in inputs:
        return [(node, field_name)]
    declared = [n for n, cols in inputs.items() if isinstance(cols, list) and column in cols]
    if declared:
        return [(n, column) for n in declared]
    return [(n, column) for n, cols in inputs.items() if cols is None]


def _run_events(run: LineageNode, edges: list[LineageEdge]) -> list[dict[str, Any]]:
    info = run.info
    facets = dict(info.get("facets") or {})
    ol = facets.get("openlineage") or {}
    names = ol.get("datasets") or {}
    inputs = {e.src: e.columns for e in edges if e.kind == "consumed"}
    input_refs: list[dict[str, Any]] = []
    for node, cols in sorted(inputs.items()):
        ref = dataset_ref(node, names)
        if isinstance(cols, list):
            ref["inputFacets"] = {"mlaudit_columns": _facet(MLAUDIT_COLUMNS_FACET, columns=cols)}
        input_refs.append(ref)
    output_refs: list[dict[str, Any]] = []
    for e in sorted((e for e in edges if e.kind == "produced"), key=lambda e: e.dst):
        ref = dataset_ref(e.dst, names)
        if isinstance(e.columns, dict):
            fields = {}
            for out_col, sources in e.columns.items():
                found = [pair for col in sources for pair in _resolve_column(col, inputs)]
                fields[out_col] = {
                    "inputFields": [
                        {**_name_only(dataset_ref(n, names)), "field": f} for n, f in dict.fromkeys(found)
                    ]
                }
            ref["facets"]["columnLineage"] = _facet(COLUMN_FACET, fields=fields)
        output_refs.append(ref)
    run_facets = {k: v for k, v in (ol.get("run") or {}).items()}
    run_facets["mlaudit_run"] = _facet(
        MLAUDIT_RUN_FACET, status=info.get("status"), actor=info.get("actor"), facets=facets
    )
    job_facets = dict(ol.get("job") or {})
    job_facets.setdefault(
        "jobType", _facet(JOB_TYPE_FACET, processingType="BATCH", integration="MLAUDIT", jobType="JOB")
    )
    body = {
        "run": {"runId": run.id[4:], "facets": run_facets},
        "job": {"namespace": info["namespace"], "name": info["name"], "facets": job_facets},
        "inputs": input_refs,
        "outputs": output_refs,
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA,
    }
    events = [{"eventType": "START", "eventTime": info["started"], **body}]
    end = _END_EVENTS.get(str(info.get("status")))
    if end and info.get("ended"):
        events.append({"eventType": end, "eventTime": info["ended"], **body})
    return events


def _name_only(ref: Mapping[str, Any]) -> dict[str, Any]:
    return {"namespace": ref["namespace"], "name": ref["name"]}


def graph_events(graph: LineageGraph) -> list[dict[str, Any]]:
    """RunEvents for the runs of ``graph`` with the edges the graph holds, oldest run first."""
    by_run: dict[str, list[LineageEdge]] = {}
    for e in graph.edges:
        by_run.setdefault(e.run, []).append(e)
    runs = sorted((n for n in graph.nodes if n.kind == "run"), key=lambda n: (n.info["started"], n.id))
    return [event for run in runs for event in _run_events(run, by_run.get(run.id, []))]


# -- import ----------------------------------------------------------------------------------


@dataclass
class ParsedRun:
    """What a set of RunEvents says about one run, merged in event-time order."""

    run_id: str
    namespace: str
    job: str
    started: str
    ended: str | None = None
    status: str = "running"
    producer: str = ""
    event_types: list[str] = field(default_factory=list)
    facets: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, tuple[Columns, str]] = field(default_factory=dict)
    outputs: dict[str, tuple[Any, str]] = field(default_factory=dict)  # raw columnLineage fields


def _utc_text(value: Any, where: str) -> str:
    try:
        text = _FRACTION.sub(r"\1", str(value).strip()).replace("Z", "+00:00").replace("z", "+00:00")
        moment = datetime.fromisoformat(text)
        if "T" not in text.upper():
            raise ValueError("no time")
    except ValueError as exc:
        raise InputError(f"{where}: eventTime {value!r} is not an ISO 8601 date-time") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(obj: Any, key: str, where: str, limit: int) -> str:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InputError(f"{where}: {key!r} must be a string of 1 to {limit} characters")
    return value


def _node(ds: Any, where: str) -> tuple[str, str, str]:
    """(node id, namespace, name) of an OpenLineage dataset."""
    namespace, name = _text(ds, "namespace", where, 300), _text(ds, "name", where, 300)
    version = ((ds.get("facets") or {}).get("version") or {}).get("datasetVersion")
    kinds = {v: k for k, v in NAMESPACES.items()}
    if namespace in kinds and isinstance(version, str) and version:
        return f"{kinds[namespace]}:{name}@{version}", namespace, name
    return f"ol:{namespace}/{name}", namespace, name


def parse_events(events: Iterable[Mapping[str, Any]]) -> list[ParsedRun]:
    """Merge RunEvents per runId (events without a ``run``, i.e. Job/Dataset events, are skipped)."""
    runs: dict[str, ParsedRun] = {}
    ordered = []
    for i, event in enumerate(events):
        where = f"OpenLineage event {i}"
        if not isinstance(event, Mapping):
            raise InputError(f"{where}: expected a JSON object, got {type(event).__name__}")
        if "run" not in event:
            continue
        ordered.append((_utc_text(event.get("eventTime"), where), i, event))
    ordered.sort(key=lambda t: (t[0], t[1]))
    for time, i, event in ordered:
        where = f"OpenLineage event {i}"
        raw_id = _text(event.get("run"), "runId", where, 36)
        try:
            run_id = str(uuid.UUID(raw_id))
        except ValueError:
            run_id = raw_id
        job = event.get("job")
        namespace, name = _text(job, "namespace", where, 300), _text(job, "name", where, 300)
        run = runs.setdefault(run_id, ParsedRun(run_id, namespace, name, time))
        if (run.namespace, run.job) != (namespace, name):
            raise InputError(
                f"{where}: run {run_id} belongs to job {run.namespace}/{run.job}, not {namespace}/{name}"
            )
        kind = str(event.get("eventType") or "OTHER").upper()
        run.event_types.append(kind)
        run.producer = str(event.get("producer") or run.producer)
        if kind in _STATUS:
            run.status, run.ended = _STATUS[kind], time
        _merge_facets(run, event)
        for ds in event.get("inputs") or []:
            node, ns, nm = _node(ds, where)
            cols = ((ds.get("inputFacets") or {}).get("mlaudit_columns") or {}).get("columns")
            _remember(run, node, ns, nm)
            old = run.inputs.get(node, (None, time))
            run.inputs[node] = (old[0] if cols is None else cols, old[1])
        for ds in event.get("outputs") or []:
            node, ns, nm = _node(ds, where)
            cols = ((ds.get("facets") or {}).get("columnLineage") or {}).get("fields")
            _remember(run, node, ns, nm)
            old_out = run.outputs.get(node, (None, time))
            run.outputs[node] = (old_out[0] if cols is None else cols, old_out[1])
    return list(runs.values())


def _merge_facets(run: ParsedRun, event: Mapping[str, Any]) -> None:
    run_facets = (event.get("run") or {}).get("facets") or {}
    job_facets = (event.get("job") or {}).get("facets") or {}
    mine = run_facets.get("mlaudit_run")
    if isinstance(mine, Mapping) and isinstance(mine.get("facets"), Mapping):
        run.facets.update(copy.deepcopy(dict(mine["facets"])))  # exported by mlaudit: as it was
        return
    ol = run.facets.setdefault("openlineage", {})
    ol.setdefault("producer", run.producer)  # the first producer that reported this run
    for key in _KEEP_RUN:
        if key in run_facets:
            ol.setdefault("run", {})[key] = run_facets[key]
    for key in _KEEP_JOB:
        if key in job_facets:
            ol.setdefault("job", {})[key] = job_facets[key]


def _remember(run: ParsedRun, node: str, namespace: str, name: str) -> None:
    """Keep (namespace, name) of an external dataset whose node id would not split back to it."""
    if node.startswith("ol:") and split_external(node) != (namespace, name):
        run.facets.setdefault("openlineage", {}).setdefault("datasets", {})[node] = [namespace, name]


def _columns_from_ol(
    fields: Any, inputs: Mapping[str, Columns], names: Mapping[str, Any]
) -> dict[str, list[str]] | None:
    """columnLineage fields → ``{out: [col or NODE#col]}``, plain where the name resolves back."""
    if not isinstance(fields, Mapping):
        return None
    known = {}
    for n in inputs:
        ref = dataset_ref(n, names)
        known[(ref["namespace"], ref["name"])] = n
    out: dict[str, list[str]] = {}
    for out_col, spec in fields.items():
        by_field: dict[str, list[str]] = {}
        for f in (spec or {}).get("inputFields") or []:
            node, namespace, name = _node(f, f"columnLineage of {out_col!r}")
            node = known.get((namespace, name), node)
            by_field.setdefault(str(f.get("field")), []).append(node)
        cols: list[str] = []
        for fname, nodes in by_field.items():
            if sorted(set(nodes)) == sorted(n for n, _ in _resolve_column(fname, inputs)):
                cols.append(fname)
            else:
                cols.extend(f"{n}#{fname}" for n in dict.fromkeys(nodes))
        out[str(out_col)] = cols
    return out


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def import_events(store: Store, actor: str, events: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Write what ``events`` say into the workspace in one transaction (see the module docstring)."""
    events = list(events)
    parsed = parse_events(events)
    counts = {"runs_created": 0, "runs_updated": 0, "edges_added": 0, "events_skipped": 0}
    counts["events_skipped"] = sum(1 for e in events if isinstance(e, Mapping) and "run" not in e)
    with store.write(actor) as tx:
        entries = [e for run in parsed if (e := _import_run(tx.conn, actor, run, counts)) is not None]
        if entries:
            tx.record_many(entries)
    return counts


def _import_run(
    conn: Connection, actor: str, run: ParsedRun, counts: dict[str, int]
) -> tuple[str, str, Mapping[str, Any]] | None:
    """Insert or update one run and its new edges; the ledger entry to record, or None if unchanged."""
    row = conn.execute(sa.select(lineage_runs).where(lineage_runs.c.id == run.run_id)).first()
    edges = conn.execute(sa.select(lineage_edges).where(lineage_edges.c.run_id == run.run_id))
    have = {(r.node, r.direction): (r.id, r.columns) for r in edges}
    consumed: dict[str, Columns] = {
        n: orjson.loads(c) if c else None for (n, d), (_, c) in have.items() if d == "consumed"
    }
    consumed.update({n: cols for n, (cols, _) in run.inputs.items()})
    names = dict((run.facets.get("openlineage") or {}).get("datasets") or {})
    if row is not None:
        names = {**(orjson.loads(row.facets).get("openlineage") or {}).get("datasets", {}), **names}
    wanted = [(n, "consumed", cols, t) for n, (cols, t) in run.inputs.items()]
    wanted += [
        (n, "produced", _columns_from_ol(raw, consumed, names), t) for n, (raw, t) in run.outputs.items()
    ]
    added: dict[str, list[str]] = {"consumed": [], "produced": []}
    changed = False
    for node, direction, cols, created in wanted:
        text = None if cols is None else _dumps(cols)
        old = have.get((node, direction))
        if old is None:
            values = {"run_id": run.run_id, "node": node, "direction": direction, "columns": text}
            conn.execute(sa.insert(lineage_edges).values(**values, created=created))
            added[direction].append(node)
            counts["edges_added"] += 1
        elif text is not None and old[1] != text:
            conn.execute(sa.update(lineage_edges).where(lineage_edges.c.id == old[0]).values(columns=text))
            changed = True
    status = run.status
    if row is None:
        conn.execute(
            sa.insert(lineage_runs).values(
                id=run.run_id,
                job=run.job,
                namespace=run.namespace,
                started=run.started,
                ended=run.ended,
                status=run.status,
                actor=actor,
                facets=_dumps(run.facets),
            )
        )
        counts["runs_created"] += 1
    else:
        update = _run_update(row, run)
        status = update.get("status", row.status)
        if update:
            conn.execute(sa.update(lineage_runs).where(lineage_runs.c.id == run.run_id).values(**update))
        if not (update or changed or added["consumed"] or added["produced"]):
            return None
        counts["runs_updated"] += 1
    payload = {
        "run": run.run_id,
        "job": f"job:{run.namespace}/{run.job}",
        "status": status,
        "consumed": added["consumed"],
        "produced": added["produced"],
        "producer": run.producer,
        "event_types": sorted(set(run.event_types)),
    }
    return ("lineage.run_imported", f"run:{run.run_id}", payload)


def _run_update(row: Any, run: ParsedRun) -> dict[str, Any]:
    """Column values that the new events change on an existing run row (empty: nothing new)."""
    values: dict[str, Any] = {}
    if run.started < row.started:
        values["started"] = run.started
    if run.ended and (row.ended is None or (row.status == "running") or run.ended > row.ended):
        if run.status != row.status:
            values["status"] = run.status
        if run.ended != row.ended:
            values["ended"] = run.ended
    facets = orjson.loads(row.facets)
    merged = {**facets, **{k: v for k, v in run.facets.items() if k != "openlineage"}}
    ol = {**(facets.get("openlineage") or {})}
    for key, value in (run.facets.get("openlineage") or {}).items():
        if key == "producer" and key in ol:
            continue
        ol[key] = {**ol.get(key, {}), **value} if isinstance(value, dict) else value
    if ol:
        merged["openlineage"] = ol
    if _dumps(merged) != row.facets:
        values["facets"] = _dumps(merged)
    return values
