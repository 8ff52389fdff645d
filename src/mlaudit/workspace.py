"""``Workspace``: one audit store, and the small services that work on it.

The facade ties the store (database, ledger, artifacts) to the computations. It is a thin
composition: each concept has its own service module (``ws.ledger`` in ``ledger.py``, ...).

>>> import mlaudit, tempfile
>>> with mlaudit.open(tempfile.mkdtemp() + "/ws") as ws:
...     ws.ledger.log()[0].action
'workspace.created'
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mlaudit.artifacts import Artifacts
from mlaudit.audits import Audits
from mlaudit.config import current_actor
from mlaudit.datasets import Datasets
from mlaudit.documents import Reports
from mlaudit.governance.credentials import Credentials
from mlaudit.governance.exceptions import Exceptions
from mlaudit.governance.findings import Findings
from mlaudit.governance.identity import Access
from mlaudit.governance.lifecycle import Lifecycle
from mlaudit.governance.oversight import Oversight
from mlaudit.governance.retention import Retention
from mlaudit.governance.tiering import Risk
from mlaudit.ledger import Ledger
from mlaudit.lineage import Lineage, LineageRun
from mlaudit.monitor import Monitors, PredictionLog
from mlaudit.monitor.alerts import Alerts
from mlaudit.partitions import Partitions
from mlaudit.registry import ModelRegistry
from mlaudit.store import Store, resolve

if TYPE_CHECKING:
    from mlaudit.audit import AuditReport

__all__ = ["Workspace", "open_workspace"]


class Workspace:
    """An open workspace. Get one with :func:`mlaudit.open`."""

    def __init__(self, store: Store, actor: str) -> None:
        self.store = store
        self.actor = actor
        self.access = Access(store, actor)
        self.credentials = Credentials(store, actor)
        self.ledger = Ledger(store, actor)
        self.artifacts = Artifacts(store, actor)
        self.audits = Audits(store, actor)
        self.lineage = Lineage(store, actor)
        self.datasets = Datasets(store, actor)
        self.models = ModelRegistry(store, actor, self)
        self.reports = Reports(store, actor, self)
        self.lifecycle = Lifecycle(store, actor, self)
        self.findings = Findings(store, actor, self)
        self.risk = Risk(store, actor, self)
        self.retention = Retention(store, actor, self)
        self.predictions = PredictionLog(store, actor, self)
        self.oversight = Oversight(store, actor, self)
        self.exceptions = Exceptions(store, actor, self)
        self.alerts = Alerts(store, actor, self)
        self.monitors = Monitors(store, actor, self)
        self.partitions = Partitions(store, actor, self)

    def run(self, job: str, **kwargs: Any) -> LineageRun:
        """A lineage run of ``job``: ``with ws.run("features") as run: run.consumes(ds)``."""
        return self.lineage.run(job, **kwargs)

    def audit(
        self,
        model: str,
        *,
        reference: Any,
        current: Any,
        labels: str | None = None,
        sensitive: Sequence[str] | None = None,
        suite: Any = "quick",
        train: Any = None,
        record: bool = True,
        progress: Any = None,
        seed: int = 0,
    ) -> AuditReport:
        """Audit model version ``model`` (``"credit@v2"``) on ``reference`` vs ``current`` data.

        Data is a file/URL/SQL source, a kept dataset version (``"holdout@v1"``) or a table.
        ``labels`` and ``sensitive`` default to what the version was registered with; ``suite``
        is ``"quick"``, ``"full"``, a YAML path or a :class:`mlaudit.audit.Suite`; ``train``
        (default: the version's training dataset when its data was kept) enables overfitting.
        The report is stored (``record=True``), ledgered and linked in the lineage graph.
        """
        from mlaudit.audit.service import audit_model

        return audit_model(
            self,
            model,
            reference=reference,
            current=current,
            labels=labels,
            sensitive=sensitive,
            suite=suite,
            train=train,
            record=record,
            progress=progress,
            seed=seed,
        )

    @property
    def id(self) -> str:
        return self.store.meta.workspace_id

    @property
    def location(self) -> str:
        return self.store.location.display

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Workspace {self.location} id={self.id[:8]}>"


def open_workspace(
    target: str | Path | None = None,
    *,
    create: bool = True,
    actor: str | None = None,
    signing_key: str | Path | None = None,
    artifacts: str | None = None,
) -> Workspace:
    """Open (and by default create) the workspace at ``target``: a folder or a database URL.

    ``target`` defaults to ``MLAUDIT_WORKSPACE`` or ``./.mlaudit``. A folder holds
    ``mlaudit.db`` (SQLite), ``artifacts/`` and ``keys/``; a URL such as
    ``postgresql+psycopg://user@host/db`` needs ``signing_key`` (or ``MLAUDIT_SIGNING_KEY``)
    and ``artifacts`` (or ``MLAUDIT_ARTIFACTS``).
    """
    who = actor or current_actor()
    location = resolve(target, signing_key=signing_key, artifacts=artifacts)
    return Workspace(Store.open(location, create=create, actor=who), who)
