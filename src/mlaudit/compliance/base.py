"""What a compliance document is made of: sections of blocks, each with its evidence and gaps.

A section's content is built only from what the workspace holds; what it does not hold is a
*gap*, a plain sentence saying what is missing and which command records it. Nothing is
invented to fill a gap. Renderers (HTML, Markdown) only present these objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlaudit.report.format import fmt_int, fmt_num

__all__ = [
    "Block",
    "Bullets",
    "Document",
    "Evidence",
    "Fields",
    "Figure",
    "Para",
    "Section",
    "Table",
    "interval",
    "num",
]


@dataclass(frozen=True)
class Para:
    """A paragraph of plain text (`backticks` mark commands and identifiers)."""

    text: str


@dataclass(frozen=True)
class Fields:
    """Label → value rows."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Table:
    """A table; ``numeric`` lists the columns aligned right."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[int, ...] = ()
    caption: str = ""


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Figure:
    """A Plotly figure (HTML only); Markdown shows the caption and points to the table beside it."""

    id: str
    spec: dict[str, Any]
    caption: str


Block = Para | Fields | Table | Bullets | Figure


@dataclass(frozen=True)
class Evidence:
    """One piece of workspace evidence a section used.

    ``kind`` is ``ledger`` (an event, ``seq``), ``result`` (a stored result id), ``dataset``
    (a dataset version ref) or ``digest`` (a content hash).
    """

    kind: str
    ref: str
    what: str
    seq: int | None = None

    def text(self) -> str:
        where = f" (ledger seq {self.seq})" if self.seq is not None and self.kind != "ledger" else ""
        head = {"ledger": "ledger seq", "result": "result", "dataset": "dataset", "digest": "digest"}
        return f"{head.get(self.kind, self.kind)} {self.ref}: {self.what}{where}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "ref": self.ref, "what": self.what, "seq": self.seq}


@dataclass
class Section:
    """One section: its content, the evidence it came from, and what is missing (gaps)."""

    key: str
    title: str
    required: bool
    blocks: list[Block] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.gaps

    def add(self, *blocks: Block) -> Section:
        for block in blocks:
            last = self.blocks[-1] if self.blocks else None
            if isinstance(block, Fields) and isinstance(last, Fields):
                self.blocks[-1] = Fields(last.rows + block.rows)  # one aligned list, not two
            else:
                self.blocks.append(block)
        return self

    def cite(self, *items: Evidence) -> Section:
        for item in items:
            if item not in self.evidence:
                self.evidence.append(item)
        return self

    def gap(self, sentence: str) -> Section:
        if sentence not in self.gaps:
            self.gaps.append(sentence)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "required": self.required,
            "complete": self.complete,
            "evidence": [e.to_dict() for e in self.evidence],
            "gaps": list(self.gaps),
        }


@dataclass
class Document:
    """A built document: what it is about, its sections, and how it was made (the footer)."""

    kind: str
    title: str
    subject: str  # the lineage node (model:NAME@ID or dataset:NAME@ID)
    subject_ref: str  # readable: credit-risk@v1
    sections: list[Section]
    id: str = ""
    workspace_id: str = ""
    generated_at: str = ""
    generated_by: str = ""
    mlaudit_version: str = ""
    attestation: dict[str, str] = field(default_factory=dict)  # validator, opinion, standards

    def required(self) -> list[Section]:
        return [s for s in self.sections if s.required]

    def gaps(self) -> list[tuple[Section, str]]:
        """Every gap, with its section, in document order (optional sections too)."""
        return [(s, g) for s in self.sections for g in s.gaps]

    def summary(self) -> dict[str, Any]:
        req = self.required()
        return {
            "required_sections": len(req),
            "complete": sum(1 for s in req if s.complete),
            "with_gaps": [s.title for s in req if not s.complete],
            "gaps": len(self.gaps()),
        }

    def evidence(self) -> dict[str, list[Any]]:
        """The ledger seqs and result ids the document rests on (for the ledger event)."""
        seqs = sorted({e.seq for s in self.sections for e in s.evidence if e.seq is not None})
        results = sorted({e.ref for s in self.sections for e in s.evidence if e.kind == "result"})
        return {"seqs": seqs, "results": results}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "subject": self.subject,
            "subject_ref": self.subject_ref,
            "id": self.id,
            "summary": self.summary(),
            "sections": [s.to_dict() for s in self.sections],
            "attestation": dict(self.attestation),
        }


def num(x: Any, digits: int = 3) -> str:
    """A number as a reader wants it (``—`` when missing)."""
    if isinstance(x, bool) or x is None:
        return "—" if x is None else str(x)
    if isinstance(x, int):
        return fmt_int(x)
    if isinstance(x, float):
        return fmt_num(x, digits)
    return str(x)


def interval(lower: Any, upper: Any) -> str:
    """``0.683–0.700`` or an em dash."""
    if isinstance(lower, (int, float)) and isinstance(upper, (int, float)):
        return f"{num(float(lower))}–{num(float(upper))}"
    return "—"
