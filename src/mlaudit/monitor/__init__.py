"""Monitoring: what models did in production. The prediction log (``ws.predictions``) keeps
each batch of predictions, and the labels that arrive later, as ledgered Parquet artifacts."""

from __future__ import annotations

from mlaudit.monitor.monitors import Monitor, Monitors, MonitorSpec, MonitorWindow
from mlaudit.monitor.predictions import LogResult, PredictionBatch, PredictionLog, PredictionSummary

__all__ = [
    "LogResult",
    "Monitor",
    "MonitorSpec",
    "MonitorWindow",
    "Monitors",
    "PredictionBatch",
    "PredictionLog",
    "PredictionSummary",
]
