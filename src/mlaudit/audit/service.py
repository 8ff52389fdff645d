"""``Workspace.audit``: audit a registered model version and keep the evidence.

It resolves the model version and the data (files, URLs, SQL, dataset versions kept in the
workspace, or in-memory tables), runs the suite through :func:`run_audit`, stores the report
as one result whose ledger event carries its digest, the status of every check and the
fingerprints of everything it was computed from, and adds a lineage run ``audit/<model>``
that consumed the model version and the data.

Files become OpenLineage-style ``ol:file/<absolute path>`` nodes; dataset versions keep
their own ``dataset:`` nodes, so ``mlaudit lineage`` shows which data each audit looked at.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mlaudit.audit.result import AuditReport
from mlaudit.audit.runner import Progress, run_audit
from mlaudit.audit.suite import Suite, load_suite
from mlaudit.errors import InputError, NotFound
from mlaudit.governance.identity import project_of

if TYPE_CHECKING:
    import pyarrow as pa

    from mlaudit.workspace import Workspace

__all__ = ["audit_model", "resolve_data"]


def resolve_data(ws: Workspace, source: Any, role: str) -> tuple[pa.Table, dict[str, Any], str | None]:
    """``source`` as a table, a description for the report, and its lineage node (if any).

    A ``str``/path that exists (or a URL) is read as a file or SQL source; ``name@v2`` that is
    not a file is a dataset version of this workspace whose data was kept (``keep_data=True``).
    """
    from mlaudit.data.fingerprint import fingerprint
    from mlaudit.frames import to_table

    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        is_url = "://" in text
        if is_url or Path(text).exists():
            from mlaudit.data.sources import describe, read

            table = read(text)
            info = {"source": describe(text), "fingerprint": fingerprint(table)}
            node = None if is_url else "ol:file/" + str(Path(text).resolve()).lstrip("/")
            return table, info, node
        try:
            version = ws.datasets.get(text)
        except NotFound:
            raise InputError(
                f"the {role} data {text!r} is neither a file nor a dataset version of this workspace",
                path=text,
            ) from None
        table = ws.datasets.data(version)
        return table, {"dataset": version.ref, "fingerprint": version.fingerprint}, version.node
    table = to_table(source)
    return table, {"source": f"in-memory {type(source).__name__}", "fingerprint": fingerprint(table)}, None


def audit_model(
    ws: Workspace,
    model: str,
    *,
    reference: Any,
    current: Any,
    labels: str | None = None,
    sensitive: Sequence[str] | None = None,
    suite: Suite | str = "quick",
    train: Any = None,
    record: bool = True,
    progress: Progress | None = None,
    seed: int = 0,
) -> AuditReport:
    """Audit model version ``model`` (``"credit"``, ``"credit@v2"``); see :meth:`Workspace.audit`."""
    ws.access.require("audit.run", project=project_of(model))
    version = ws.models.get(model)
    # The artifact was trusted when it was registered (registering a pickle needs trust_pickle)
    # and the bytes are checked against that digest when read back, so loading it again for an
    # audit does not widen what the user agreed to run.
    scorer = ws.models.load(version.ref, trust_pickle=True)
    the_suite = suite if isinstance(suite, Suite) else load_suite(suite)
    labels = labels if labels is not None else version.target
    sens = list(sensitive) if sensitive is not None else list(version.sensitive)
    ref_t, ref_info, ref_node = resolve_data(ws, reference, "reference")
    cur_t, cur_info, cur_node = resolve_data(ws, current, "current")
    inputs = {"reference": ref_info, "current": cur_info}
    nodes = [n for n in (ref_node, cur_node) if n]
    train_t = None
    if train is not None:
        train_t, inputs["train"], train_node = resolve_data(ws, train, "training")
        nodes += [train_node] if train_node else []
    else:
        train_t, train_info, train_node = _kept_training_data(ws, version.trained_on)
        if train_t is not None:
            inputs["train"] = train_info
            nodes += [train_node] if train_node else []
    report = run_audit(
        scorer,
        ref_t,
        cur_t,
        suite=the_suite,
        labels=labels,
        sensitive=sens,
        features=version.features or None,
        train=train_t,
        model_info={
            "name": version.model,
            "version": version.number,
            "ref": version.ref,
            "id": version.id,
            "framework": version.framework,
            "fingerprint": version.fingerprint,
            "node": version.node,
        },
        inputs=inputs,
        progress=progress,
        seed=seed,
    )
    if not record:
        return report
    document = report.to_dict()
    suite_digest = (
        "sha256:" + hashlib.sha256(orjson.dumps(the_suite.to_dict(), option=orjson.OPT_SORT_KEYS)).hexdigest()
    )
    fingerprints = {k: v["fingerprint"] for k, v in inputs.items()} | {
        "model": version.fingerprint,
        "suite": suite_digest,
    }
    with ws.run(
        f"audit/{version.model}",
        parameters={"model_version": version.ref, "suite": the_suite.name},
        git=False,
    ) as run:
        run.consumes(version)
        for node in dict.fromkeys(nodes):
            run.consumes(node)
        stored = ws.audits.record(
            "audit_report",
            version.node,
            document | {"run": run.id},
            status=report.status,
            inputs=fingerprints,
            summary={
                "suite": the_suite.name,
                "counts": report.counts(),
                "not_passed": {r.check: r.status for r in report.results() if r.status != "pass"},
            },
        )
    recorded = {"result": stored.id, "seq": stored.seq, "run": run.id, "workspace": ws.location}
    return AuditReport(**{**report.__dict__, "recorded": recorded})


def _kept_training_data(ws: Workspace, trained_on: Sequence[str]) -> tuple[Any, dict[str, Any], str | None]:
    """The first training dataset version whose data the workspace kept, if any."""
    for node in trained_on:
        if not node.startswith("dataset:"):
            continue
        try:
            version = ws.datasets.get(node.removeprefix("dataset:"))
            table = ws.datasets.data(version)
        except (NotFound, InputError):
            continue
        return table, {"dataset": version.ref, "fingerprint": version.fingerprint}, version.node
    return None, {}, None
