"""``ws.lineage``: which runs consumed and produced which dataset and model versions.

Nodes are dataset versions (``dataset:NAME@VERSION_ID``), model versions (``model:NAME@VERSION``),
datasets known only from OpenLineage (``ol:NAMESPACE/NAME``), runs (``run:UUID``) and jobs
(``job:NAMESPACE/NAME``). Edges are ``consumed`` (dataset → run) and ``produced`` (run → dataset),
optionally with column-level mappings. Upstream of X: the runs that produced X, what they consumed,
and so on; downstream: the runs that consumed X, what they produced, and so on. One hop is one run.

>>> import mlaudit, tempfile
>>> ws = mlaudit.open(tempfile.mkdtemp() + "/ws")
>>> with ws.run("features") as run:
...     _ = run.consumes("dataset:raw@1").produces("dataset:features@2", columns={"f": ["a", "b"]})
>>> [n.id for n in ws.lineage.upstream("dataset:features@2").nodes if n.kind == "dataset"]
['dataset:features@2', 'dataset:raw@1']
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlaudit.errors import InputError, NotFound
from mlaudit.lineage_graph import (
    Columns,
    Direction,
    LineageEdge,
    LineageGraph,
    LineageNode,
    node_kind,
)
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import dataset_versions, lineage_edges, lineage_runs

__all__ = [
    "DEFAULT_NAMESPACE",
    "Lineage",
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "LineageRun",
    "node_id",
    "parse_as_of",
]

DEFAULT_NAMESPACE = "mlaudit"
_DATA_PREFIXES = ("dataset:", "model:", "ol:")
_NODE_HINT = (
    "node ids look like dataset:NAME@VERSION, model:NAME@VERSION, ol:NAMESPACE/NAME, run:UUID or job:NS/NAME"
)
_CHUNK = 30_000 if sqlite3.sqlite_version_info >= (3, 32) else 900  # SQLite: parameters per query
_PACKAGE_DIR = Path(__file__).resolve().parent


def node_id(obj: Any) -> str:
    """The lineage node id of ``obj``: a ``str`` id, or anything with a ``.node`` attribute.

    >>> node_id("dataset:credit@3f2a")
    'dataset:credit@3f2a'
    """
    value = obj if isinstance(obj, str) else getattr(obj, "node", None)
    if not isinstance(value, str):
        raise InputError(
            f"cannot use {type(obj).__name__} as a lineage node",
            hint="pass a node id string or an object with a .node attribute (e.g. a DatasetVersion)",
        )
    if not value.startswith(_DATA_PREFIXES) or len(value.split(":", 1)[1]) == 0:
        raise InputError(f"{value!r} is not a dataset or model node", hint=_NODE_HINT)
    if len(value) > 400:
        raise InputError(f"lineage node id is longer than 400 characters: {value[:60]}...")
    return value


def parse_as_of(value: str | datetime | date | None) -> str | None:
    """An as-of bound as stored timestamp text; a bare date means the end of that day (UTC).

    >>> parse_as_of("2024-05-01")
    '2024-05-01T23:59:59.999999Z'
    >>> parse_as_of("2024-05-01T12:00:00+02:00")
    '2024-05-01T10:00:00.000000Z'
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                value = date.fromisoformat(text)
            else:
                value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError as exc:
            raise InputError(
                f"not an ISO date or time: {text!r}", hint="e.g. 2024-05-01 or 2024-05-01T12:00:00Z"
            ) from exc
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC) + timedelta(days=1, microseconds=-1)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _caller_file() -> Path | None:
    """The source file of the first frame outside the mlaudit package (None in a REPL)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith("<"):
            path = Path(name).resolve()
            if _PACKAGE_DIR not in path.parents:
                return path if path.is_file() else None
        elif not name.startswith("<frozen"):
            return None  # a notebook cell or the REPL
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _git(directory: Path, *args: str) -> str:
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", LC_ALL="C")
    done = subprocess.run(
        ["git", "-C", str(directory), *args],
        capture_output=True,
        text=True,
        timeout=10,
        env=env,
        check=True,
    )
    return done.stdout.strip()


def code_facets(path: Path | None) -> dict[str, Any]:
    """Git commit, dirty flag and code path of ``path`` (or the working directory); {} outside git.

    Never raises: a missing ``git`` binary, a folder outside a repository or a repository
    without commits all give ``{}``.
    """
    directory = path.parent if path is not None else Path.cwd()
    try:
        top = Path(_git(directory, "rev-parse", "--show-toplevel")).resolve()
        commit = _git(directory, "rev-parse", "HEAD")
        dirty = bool(_git(directory, "status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}
    out: dict[str, Any] = {"git": {"commit": commit, "dirty": dirty}}
    if path is not None:
        with contextlib.suppress(ValueError):
            out["code_path"] = path.resolve().relative_to(top).as_posix()
    return out


class LineageRun:
    """A run being recorded: ``with ws.run("job") as run: run.consumes(a); run.produces(b)``.

    Entering writes the run (status ``running``) with a ``lineage.run_started`` event; leaving
    writes its edges and status ``completed`` (or ``failed`` if the block raised, and the
    exception propagates) with a ``lineage.run_completed`` / ``lineage.run_failed`` event.
    """

    def __init__(
        self, lineage: Lineage, job: str, namespace: str, facets: dict[str, Any], run_id: str
    ) -> None:
        self._lineage = lineage
        self.id = run_id
        self.job = job
        self.namespace = namespace
        self.facets = facets
        self.status: str = "new"
        self._edges: dict[tuple[str, str], tuple[Columns, str]] = {}

    @property
    def node(self) -> str:
        return f"run:{self.id}"

    @property
    def job_node(self) -> str:
        return f"job:{self.namespace}/{self.job}"

    def consumes(self, obj: Any, columns: Sequence[str] | None = None) -> LineageRun:
        """Record that this run read ``obj`` (optionally only these ``columns``)."""
        cols = None if columns is None else [str(c) for c in columns]
        return self._add(node_id(obj), "consumed", cols)

    def produces(self, obj: Any, columns: Mapping[str, Sequence[str]] | None = None) -> LineageRun:
        """Record that this run wrote ``obj``; ``columns`` maps output to input columns.

        An input column is a name (``"age"``) or, when several inputs have it, ``"NODE#age"``.
        """
        cols = None if columns is None else {str(k): [str(c) for c in v] for k, v in columns.items()}
        return self._add(node_id(obj), "produced", cols)

    def _add(self, node: str, direction: str, columns: Columns) -> LineageRun:
        if self.status != "running":
            raise InputError(f"run {self.id} is not open; record inputs and outputs inside `with`")
        key = (node, direction)
        if key in self._edges:
            old, created = self._edges[key]
            columns = _merge_columns(old, columns)
            self._edges[key] = (columns, created)
        else:
            self._edges[key] = (columns, utc_now())
        return self

    def nodes(self, direction: str) -> list[str]:
        return [n for (n, d) in self._edges if d == direction]

    def __enter__(self) -> LineageRun:
        if self.status != "new":
            raise InputError(f"run {self.id} was already started")
        self._lineage._start(self)
        self.status = "running"
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        status = "completed" if exc is None else "failed"
        try:
            self._lineage._finish(self, status, self._edges, exc)
        except Exception as write_error:
            if exc is None:
                raise
            exc.add_note(f"mlaudit could not record the failed run {self.id}: {write_error}")
        self.status = status

    def __repr__(self) -> str:
        return f"<LineageRun {self.job_node} {self.id} {self.status}>"


def _merge_columns(old: Columns, new: Columns) -> Columns:
    if old is None or new is None:
        return old if new is None else new
    if isinstance(old, dict) and isinstance(new, dict):
        merged = {k: list(v) for k, v in old.items()}
        for k, v in new.items():
            merged[k] = merged.get(k, []) + [c for c in v if c not in merged.get(k, [])]
        return merged
    if isinstance(old, list) and isinstance(new, list):
        return old + [c for c in new if c not in old]
    return new


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


@dataclass
class _Walk:
    """The state of one graph query while it is being answered."""

    nodes: dict[str, int] = field(default_factory=dict)  # node id -> depth
    edges: dict[tuple[str, str, str], LineageEdge] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)  # run uuid -> depth


class Lineage:
    """The lineage graph of one workspace: record runs, query upstream and downstream."""

    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor

    # -- recording -------------------------------------------------------------------------

    def run(
        self,
        job: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        parameters: Mapping[str, Any] | None = None,
        git: bool = True,
        run_id: str | None = None,
    ) -> LineageRun:
        """A run of ``job`` to use as a context manager; records git commit and code path.

        >>> import mlaudit, tempfile
        >>> ws = mlaudit.open(tempfile.mkdtemp() + "/ws")
        >>> with ws.lineage.run("train", parameters={"lr": 0.1}) as run:
        ...     _ = run.consumes("dataset:train@v1").produces("model:credit@1")
        >>> run.status
        'completed'
        """
        if not job or len(job) > 300 or len(namespace) > 300 or not namespace:
            raise InputError("a job name and namespace must have 1 to 300 characters")
        facets: dict[str, Any] = code_facets(_caller_file()) if git else {}
        if parameters:
            facets["parameters"] = dict(parameters)
        rid = str(uuid.UUID(run_id)) if run_id else str(uuid.uuid4())
        return LineageRun(self, job, namespace, facets, rid)

    def _start(self, run: LineageRun) -> None:
        with self._store.write(self._actor) as tx:
            exists = tx.conn.execute(sa.select(lineage_runs.c.id).where(lineage_runs.c.id == run.id)).first()
            if exists:
                raise InputError(f"a run with id {run.id} already exists")
            tx.conn.execute(
                sa.insert(lineage_runs).values(
                    id=run.id,
                    job=run.job,
                    namespace=run.namespace,
                    started=utc_now(),
                    ended=None,
                    status="running",
                    actor=self._actor,
                    facets=_dumps(run.facets),
                )
            )
            tx.record(
                "lineage.run_started",
                run.node,
                {"run": run.id, "job": run.job_node, "git_commit": _commit(run.facets)},
            )

    def _finish(
        self,
        run: LineageRun,
        status: str,
        edges: Mapping[tuple[str, str], tuple[Columns, str]],
        exc: BaseException | None,
    ) -> None:
        rows = [
            {
                "run_id": run.id,
                "node": node,
                "direction": direction,
                "columns": None if cols is None else _dumps(cols),
                "created": created,
            }
            for (node, direction), (cols, created) in edges.items()
        ]
        payload: dict[str, Any] = {
            "run": run.id,
            "job": run.job_node,
            "status": status,
            "consumed": run.nodes("consumed"),
            "produced": run.nodes("produced"),
            "git_commit": _commit(run.facets),
        }
        if exc is not None:
            payload["error"] = type(exc).__name__
        with self._store.write(self._actor) as tx:
            if rows:
                tx.conn.execute(sa.insert(lineage_edges), rows)
            tx.conn.execute(
                sa.update(lineage_runs)
                .where(lineage_runs.c.id == run.id)
                .values(status=status, ended=utc_now())
            )
            action = "lineage.run_completed" if exc is None else "lineage.run_failed"
            tx.record(action, run.node, payload)

    # -- OpenLineage ---------------------------------------------------------------------------

    def import_openlineage(self, events: Iterable[Mapping[str, Any]]) -> dict[str, int]:
        """Build runs and edges from OpenLineage RunEvents (dicts); re-importing adds nothing.

        Returns counts: ``runs_created``, ``runs_updated``, ``edges_added``, ``events_skipped``.
        """
        from mlaudit.openlineage import import_events

        return import_events(self._store, self._actor, events)

    def export_openlineage(
        self, runs: Iterable[str] | None = None, as_of: str | datetime | date | None = None
    ) -> list[dict[str, Any]]:
        """OpenLineage RunEvents (START, then COMPLETE/FAIL/ABORT) of ``runs`` (default: all runs)."""
        from mlaudit.openlineage import graph_events

        bound = parse_as_of(as_of)

        with self._store.read() as conn:
            if runs is None:
                run_ids = [r for (r,) in conn.execute(sa.select(lineage_runs.c.id))]
            else:
                run_ids = [r[4:] if r.startswith("run:") else r for r in runs]
            walk = _Walk()
            for chunk in _chunks(run_ids):
                query = sa.select(lineage_edges).where(lineage_edges.c.run_id.in_(chunk))
                if bound:
                    query = query.where(lineage_edges.c.created <= bound)
                for row in conn.execute(query):
                    _add_edge(walk, row.node, row.direction, row.run_id, row.columns, row.created)
            for r in run_ids:
                walk.runs.setdefault(r, 0)
            nodes = _nodes(conn, walk)
        graph = LineageGraph("", "downstream", nodes, tuple(walk.edges.values()), None, 0, False, None)
        return graph_events(graph)

    # -- queries -------------------------------------------------------------------------------

    def upstream(
        self, node: Any, depth: int | None = None, as_of: str | datetime | date | None = None
    ) -> LineageGraph:
        """What ``node`` came from: producing runs, their inputs, recursively (``depth`` runs deep)."""
        return self.graph(node, "upstream", depth=depth, as_of=as_of)

    def downstream(
        self, node: Any, depth: int | None = None, as_of: str | datetime | date | None = None
    ) -> LineageGraph:
        """What was made from ``node`` (impact analysis): consuming runs, their outputs, recursively."""
        return self.graph(node, "downstream", depth=depth, as_of=as_of)

    def resolve(self, text: Any) -> str:
        """The node id for ``text``: an id, ``dataset:NAME[@vN]`` (latest when no version), or a bare name."""
        raw = text if isinstance(text, str) else node_id(text)
        with self._store.read() as conn:
            found = self._resolve(conn, raw)
        if found is None:
            raise NotFound(f"no lineage node {raw!r} in this workspace", hint=_NODE_HINT)
        return found

    def _resolve(self, conn: Connection, raw: str) -> str | None:
        kind = node_kind(raw)
        if raw.startswith("run:"):
            rid = raw[4:]
            hit = conn.execute(sa.select(lineage_runs.c.id).where(lineage_runs.c.id == rid)).first()
            return raw if hit else None
        if raw.startswith("job:"):
            ns, _, name = raw[4:].partition("/")
            hit = conn.execute(
                sa.select(lineage_runs.c.id)
                .where(lineage_runs.c.namespace == ns, lineage_runs.c.job == name)
                .limit(1)
            ).first()
            return raw if hit else None
        if kind != "external" or raw.startswith("ol:"):
            if conn.execute(
                sa.select(lineage_edges.c.id).where(lineage_edges.c.node == raw).limit(1)
            ).first():
                return raw
            if raw.startswith("dataset:"):
                return self._dataset_version(conn, raw[8:])
            return None
        for prefix in ("model:", "dataset:", "ol:"):
            found = self._resolve(conn, prefix + raw)
            if found:
                return found
        return None

    @staticmethod
    def _dataset_version(conn: Connection, ref: str) -> str | None:
        name, _, version = ref.rpartition("@") if "@" in ref else (ref, "", "")
        query = sa.select(dataset_versions.c.id, dataset_versions.c.dataset).where(
            dataset_versions.c.dataset == name
        )
        if version and version[1:].isdigit() and version[0] == "v":
            query = query.where(dataset_versions.c.number == int(version[1:]))
        elif version:
            query = query.where(dataset_versions.c.id == version)
        row = conn.execute(query.order_by(dataset_versions.c.number.desc()).limit(1)).first()
        return f"dataset:{row.dataset}@{row.id}" if row else None

    def graph(
        self,
        node: Any,
        direction: Direction,
        *,
        depth: int | None = None,
        as_of: str | datetime | date | None = None,
    ) -> LineageGraph:
        """The upstream or downstream graph of ``node``; ``partial`` says a depth limit cut it."""
        if direction not in ("upstream", "downstream"):
            raise InputError(f"direction must be 'upstream' or 'downstream', not {direction!r}")
        if depth is not None and depth < 0:
            raise InputError(f"depth must be 0 or more, not {depth}")
        bound = parse_as_of(as_of)
        raw = node if isinstance(node, str) else node_id(node)
        with self._store.read() as conn:
            root = self._resolve(conn, raw)
            if root is None:
                raise NotFound(f"no lineage node {raw!r} in this workspace", hint=_NODE_HINT)
            walk, reached, partial = _traverse(conn, root, direction, depth, bound)
            nodes = _nodes(conn, walk)
        edges = tuple(walk.edges.values())
        return LineageGraph(root, direction, nodes, edges, depth, reached, partial, bound)


def _commit(facets: Mapping[str, Any]) -> str | None:
    git = facets.get("git")
    return git.get("commit") if isinstance(git, dict) else None


def _add_edge(walk: _Walk, node: str, direction: str, run_id: str, cols: str | None, created: str) -> None:
    run = f"run:{run_id}"
    src, dst = (node, run) if direction == "consumed" else (run, node)
    if (src, dst, direction) not in walk.edges:
        columns = None if cols is None else orjson.loads(cols)
        walk.edges[(src, dst, direction)] = LineageEdge(src, dst, direction, run, columns, created)  # type: ignore[arg-type]


def _rows(
    conn: Connection,
    sql: str,
    column: str,
    values: Sequence[str],
    before: Sequence[Any],
    after: Sequence[Any],
) -> Iterator[Any]:
    """Rows of ``sql`` (``?`` placeholders, ``{cond}`` = ``column`` in ``values``) through the driver.

    Driver-level SQL because SQLAlchemy's handling of hundreds of bound names per hop cost more
    than the queries. PostgreSQL gets one array parameter; SQLite gets chunked ``IN (?, ...)`` lists.
    """
    if conn.dialect.name == "postgresql":
        text = sql.format(cond=f"{column} = ANY(?)").replace("?", "%s")
        yield from conn.exec_driver_sql(text, (*before, list(values), *after))
        return
    for chunk in _chunks(values):
        text = sql.format(cond=f"{column} IN ({', '.join('?' * len(chunk))})")
        yield from conn.exec_driver_sql(text, (*before, *chunk, *after))


_RUN_EDGES = "SELECT node, run_id, columns, created FROM lineage_edges WHERE {cond} AND direction = ?"
# One hop: edges into (upstream) or out of (downstream) the frontier, and the other side of their runs.
_HOP = (
    "SELECT e1.node, e1.run_id, e1.columns, e1.created, e2.node, e2.columns, e2.created "
    "FROM lineage_edges e1 LEFT JOIN lineage_edges e2 ON e2.run_id = e1.run_id AND e2.direction = ?{t2} "
    "WHERE {cond} AND e1.direction = ?{t1}"
)


def _start_runs(conn: Connection, root: str, bound: str | None) -> list[str]:
    if root.startswith("run:"):
        return [root[4:]]
    ns, _, name = root[4:].partition("/")
    query = sa.select(lineage_runs.c.id).where(lineage_runs.c.namespace == ns, lineage_runs.c.job == name)
    if bound:
        query = query.where(lineage_runs.c.started <= bound)
    return [r for (r,) in conn.execute(query)]


def _traverse(
    conn: Connection, root: str, direction: Direction, depth: int | None, bound: str | None
) -> tuple[_Walk, int, bool]:
    """Hop by hop (one set query per hop, visited sets in Python so cycles end); (walk, reached, partial)."""
    fwd, back = ("produced", "consumed") if direction == "upstream" else ("consumed", "produced")
    when = [bound] if bound else []
    t1, t2 = (" AND e1.created <= ?", " AND e2.created <= ?") if bound else ("", "")
    walk = _Walk(nodes={root: 0})
    frontier, hop, reached = [root], 0, 0
    if root.startswith(("run:", "job:")):
        runs = _start_runs(conn, root, bound)
        walk.runs.update(dict.fromkeys(runs, 0))
        if depth == 0:
            return walk, 0, _exists(conn, "run_id", runs, back, bound)
        frontier, hop = [], 1
        sql = _RUN_EDGES + (" AND created <= ?" if bound else "")
        for n, run_id, cols, created in _rows(conn, sql, "run_id", runs, [], [back, *when]):
            _add_edge(walk, n, back, run_id, cols, created)
            if n not in walk.nodes:
                walk.nodes[n] = 1
                frontier.append(n)
        reached = 1 if frontier else 0
    hop_sql = _HOP.replace("{t1}", t1).replace("{t2}", t2)
    while frontier and (depth is None or hop < depth):
        hop += 1
        found: list[str] = []
        for n1, run_id, c1, d1, n2, c2, d2 in _rows(
            conn, hop_sql, "e1.node", frontier, [back, *when], [fwd, *when]
        ):
            walk.runs.setdefault(run_id, hop)
            reached = hop
            _add_edge(walk, n1, fwd, run_id, c1, d1)
            if n2 is not None:
                _add_edge(walk, n2, back, run_id, c2, d2)
                if n2 not in walk.nodes:
                    walk.nodes[n2] = hop
                    found.append(n2)
        frontier = found
    # A node first met at the last hop has no edge towards its far side in the graph yet, so
    # one such edge in the store means the depth limit cut something off.
    return walk, reached, bool(frontier) and _exists(conn, "node", frontier, fwd, bound)


def _exists(conn: Connection, column: str, values: list[str], direction: str, bound: str | None) -> bool:
    sql = "SELECT 1 FROM lineage_edges WHERE {cond} AND direction = ?" + (
        " AND created <= ?" if bound else ""
    )
    return any(
        True
        for _ in _rows(conn, sql + " LIMIT 1", column, values, [], [direction, *([bound] if bound else [])])
    )


def _version_refs(conn: Connection, nodes: list[str]) -> dict[str, str]:
    """``{"dataset:NAME@ID": "NAME@vN"}`` for the nodes that are logged dataset versions."""
    ids = {n.rsplit("@", 1)[1]: n for n in nodes}
    refs: dict[str, str] = {}
    keys = list(ids)
    for start in range(0, len(keys), 500):
        query = sa.select(dataset_versions.c.id, dataset_versions.c.dataset, dataset_versions.c.number).where(
            dataset_versions.c.id.in_(keys[start : start + 500])
        )
        for vid, name, number in conn.execute(query):
            node = ids[vid]
            if node == f"dataset:{name}@{vid}":
                refs[node] = f"{name}@v{number}"
    return refs


def _nodes(conn: Connection, walk: _Walk) -> tuple[LineageNode, ...]:
    """Nodes of a finished walk; runs get their stored details."""
    refs = _version_refs(conn, [n for n in walk.nodes if n.startswith("dataset:") and "@" in n])
    out = [
        LineageNode(n, node_kind(n), d, {"ref": refs[n]} if n in refs else {})
        for n, d in walk.nodes.items()
        if not n.startswith("run:")
    ]
    sql = "SELECT id, job, namespace, started, ended, status, actor, facets FROM lineage_runs WHERE {cond}"
    for rid, job, ns, started, ended, status, actor, facets in _rows(
        conn, sql, "id", list(walk.runs), [], []
    ):
        info = {"job": f"job:{ns}/{job}", "namespace": ns, "name": job, "status": status}
        info |= {"started": started, "ended": ended, "actor": actor, "facets": orjson.loads(facets)}
        out.append(LineageNode(f"run:{rid}", "run", walk.runs[rid], info))
    out.sort(key=lambda n: (n.depth, n.kind != "job", n.id))
    return tuple(out)
