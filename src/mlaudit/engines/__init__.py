"""Engines: where the rows of a table are read and summarised.

mlaudit computes the same profiles, quality checks and drift reports three ways:

* **in memory** — :func:`mlaudit.stats.profile.profile`, :func:`mlaudit.checks.run_rules` and
  :class:`mlaudit.stats.drift.DriftDetector` on one Arrow table (the Python API on tables and
  data frames);
* **arrow** (the default engine for *sources*: files, globs, object storage, SQL) —
  :mod:`mlaudit.engines.streaming` reads the source in record batches
  (:func:`mlaudit.data.sources.read_batches`), summarises each batch with the same ``stats``
  code and merges the mergeable summaries, so memory is bounded by the batch size and the
  sketches, not by the rows;
* **spark** — :mod:`mlaudit.engines.spark` (extra ``mlaudit[spark]``) profiles each partition of
  a Spark DataFrame with the same code and merges the partial summaries on the driver.

Counts, min/max, histograms and exact item counts are equal on every engine; means and
variances agree up to float rounding; quantiles and distinct counts within the sketches'
stated error. Where an exact test needs every value (KS, Wasserstein, Anderson–Darling drift
tests; the ``unique`` rule) the engines are exact up to a configurable limit and past it use a
documented approximation that the report names in ``details["approximate"]``.

Importing this package imports nothing heavy.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Engine"]

Engine = Literal["arrow", "spark"]
