"""The ``mlaudit`` command line: a thin shell over :mod:`mlaudit` (parse, call, present).

Exit codes: 0 ok · 1 checks ran and something failed · 2 bad usage or input ·
3 integrity failure · 4 permission denied. The mapping from errors to codes lives in
:func:`main` and nowhere else.
"""

from __future__ import annotations

import sys

import typer

from mlaudit.cli import access as _access
from mlaudit.cli import alert as _alert
from mlaudit.cli import audit as _audit
from mlaudit.cli import check as _check
from mlaudit.cli import data as _data
from mlaudit.cli import drift as _drift
from mlaudit.cli import fairness as _fairness
from mlaudit.cli import gateway as _gateway
from mlaudit.cli import governance as _governance
from mlaudit.cli import ledger as _ledger
from mlaudit.cli import lineage as _lineage
from mlaudit.cli import model as _model
from mlaudit.cli import monitor as _monitor
from mlaudit.cli import partitions as _partitions
from mlaudit.cli import predictions as _predictions
from mlaudit.cli import report as _report
from mlaudit.cli import retention as _retention
from mlaudit.cli import server as _server
from mlaudit.cli import stats as _stats
from mlaudit.cli import stream as _stream
from mlaudit.cli import workspace as _workspace
from mlaudit.cli._common import err
from mlaudit.errors import MLAuditError

__all__ = ["app", "main"]

app = typer.Typer(
    name="mlaudit",
    help="Audit machine-learning models: data, drift, fairness, lineage, risk, and a signed ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_workspace.register(app)
_ledger.register(app)
_stats.register(app)
_data.register(app)
_partitions.register(app)
_check.register(app)
_drift.register(app)
_fairness.register(app)
_lineage.register(app)
_model.register(app)
_predictions.register(app)
_audit.register(app)
_report.register(app)
_governance.register(app)
_access.register(app)
_retention.register(app)
_server.register(app)
_alert.register(app)
_monitor.register(app)
_gateway.register(app)
_stream.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and, as a script, exits with) the documented exit code."""
    try:
        app(args=argv, prog_name="mlaudit")  # standalone: usage errors exit 2 via SystemExit
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except MLAuditError as exc:
        err.print(f"[bold red]error:[/] {exc}", soft_wrap=True, markup=True, highlight=False)
        code = exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        code = 130
    if argv is None:
        sys.exit(code)
    return code
