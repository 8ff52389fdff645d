"""Compliance documents built from workspace evidence: model cards, datasheets, model
validation reports (SR 11-7 style) and EU AI Act Annex IV technical documentation.

A document is a list of sections; each section says what it used (ledger seqs, result ids,
dataset versions, digests) and what is missing (gaps, each naming the command that records
it). Nothing is invented. :mod:`mlaudit.documents` (``ws.reports``) renders, signs into the
ledger and verifies them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlaudit.compliance.base import Document, Evidence, Section
from mlaudit.compliance.render import KIND_NAMES, to_html, to_markdown
from mlaudit.errors import InputError

if TYPE_CHECKING:
    from mlaudit.workspace import Workspace

__all__ = ["KINDS", "Document", "Evidence", "Section", "build", "to_html", "to_markdown"]

KINDS = tuple(KIND_NAMES)  # card, datasheet, validation, annex-iv


def build(ws: Workspace, subject: str, kind: str, attestation: dict[str, str] | None = None) -> Document:
    """The document ``kind`` about ``subject`` (a model ref for card/validation/annex-iv, a
    dataset version ref for datasheet), without footer fields (see ``ws.reports.generate``)."""
    from mlaudit.compliance.annex_iv import build_annex_iv
    from mlaudit.compliance.card import build_card
    from mlaudit.compliance.datasheet import build_datasheet
    from mlaudit.compliance.evidence import gather_model
    from mlaudit.compliance.validation import build_validation

    att = {k: v for k, v in (attestation or {}).items() if v}
    if kind not in KINDS:
        raise InputError(f"unknown document kind {kind!r}", hint=f"one of: {', '.join(KINDS)}")
    allowed = {"validation": {"validator", "opinion"}, "annex-iv": {"standards"}}.get(kind, set())
    extra = sorted(set(att) - allowed)
    if extra:
        raise InputError(
            f"{', '.join('--' + e for e in extra)} does not apply to a {kind}",
            hint="--validator/--opinion are for --kind validation, --standards for --kind annex-iv",
        )
    if kind == "datasheet":
        return build_datasheet(ws, subject.removeprefix("dataset:"))
    g = gather_model(ws, subject.removeprefix("model:"))
    if kind == "card":
        return build_card(g)
    if kind == "validation":
        return build_validation(g, att)
    return build_annex_iv(g, att)
