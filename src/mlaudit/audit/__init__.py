"""Model audits: a suite of checks on a model's behaviour on reference and current data.

>>> import mlaudit, tempfile                                       # doctest: +SKIP
>>> with mlaudit.open(tempfile.mkdtemp()) as ws:                    # doctest: +SKIP
...     report = ws.audit("credit@v1", reference="holdout.parquet", current="march.parquet",
...                       labels="default", sensitive=["sex"], suite="full")
...     report.passed, report.findings()[0]["message"]

- :mod:`mlaudit.audit.suite`: suites in YAML (``quick`` and ``full`` built in);
- :mod:`mlaudit.audit.runner`: :func:`run_audit`, pure (tables and a model in, a report out);
- :mod:`mlaudit.audit.result`: :class:`AuditReport` and its JSON shape, findings in words;
- :mod:`mlaudit.audit.service`: :func:`audit_model` behind ``Workspace.audit`` (stores the
  report, ledger event, lineage run).
"""

from mlaudit.audit.result import AuditReport, Section, describe
from mlaudit.audit.runner import run_audit
from mlaudit.audit.suite import BUILTIN_SUITES, Suite, load_suite

__all__ = ["BUILTIN_SUITES", "AuditReport", "Section", "Suite", "describe", "load_suite", "run_audit"]
