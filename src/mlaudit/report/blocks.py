"""Markup blocks the result pages share (audit, check, fairness): status badges, the verdict
box, summary cards, values with intervals, greyed rows.

Every function returns trusted markup and escapes whatever it is given.

>>> status_badge("fail")
'<span class="badge bad"><span aria-hidden="true">✕ </span>fail</span>'
>>> with_interval(0.5, 0.4, 0.6)
'0.5 <span class="reason">0.4 – 0.6</span>'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from mlaudit.report.format import esc, fmt_num
from mlaudit.report.parts import BadgeKind, badge

__all__ = ["ORDER", "STATUS_BADGE", "cards", "greyed", "mapping", "status_badge", "verdict", "with_interval"]

STATUS_BADGE: dict[str, BadgeKind] = {"pass": "ok", "warn": "warn", "fail": "bad", "error": "bad"}
ORDER = {"error": 0, "fail": 1, "warn": 2, "pass": 3}  # worst first

# Styles the result pages add to the shared page CSS.
RESULT_CSS = """
.findings li{margin:8px 0}
.findings .todo-line{display:block;color:var(--muted);font-size:.9rem}
td .badge{margin-right:4px}
tr.greyed td{color:var(--muted)}
section h3{margin:18px 0 8px}
.verdict .badge{vertical-align:2px;margin-right:4px}
"""


def status_badge(status: Any) -> str:
    """A badge for a Result status (unknown ones look skipped)."""
    st = str(status)
    return badge(STATUS_BADGE.get(st, "skipped"), st)


def with_interval(value: Any, lower: Any, upper: Any, digits: int = 4) -> str:
    """``value`` followed by its interval in small print (just the value when there is none)."""
    if lower is None or upper is None:
        return esc(fmt_num(value, digits))
    return (
        f'{esc(fmt_num(value, digits))} <span class="reason">{esc(fmt_num(lower, digits))} – '
        f"{esc(fmt_num(upper, digits))}</span>"
    )


def greyed(markup: str, groups: Sequence[Mapping[str, Any]]) -> str:
    """Mark the rows of groups that were not judged (in order) with ``class="greyed"``."""
    out = []
    head, sep, tail = markup.partition("<tbody>")
    out.append(head + sep)
    for g in groups:
        cls = "" if g.get("judged", True) else ' class="greyed"'
        before, sep2, tail = tail.partition("<tr>")
        out.append(before + (f"<tr{cls}>" if sep2 else ""))
    out.append(tail)
    return "".join(out)


def verdict(kind: Literal["bad", "warn", "ok"], label: str, headline: str, line: str) -> str:
    """The coloured box that opens a summary: badge, headline, one sentence."""
    icon: BadgeKind = "bad" if kind == "bad" else kind
    return (
        f'<div class="verdict {kind}" role="status">{badge(icon, label)} '
        f'<strong class="big">{esc(headline)}</strong><p>{esc(line)}</p></div>'
    )


def cards(items: Sequence[tuple[str, str]]) -> str:
    """A row of summary cards: (label, value) pairs, both escaped here."""
    body = "".join(
        f'<div class="card"><div class="k">{esc(k)}</div>'
        f'<div class="v{" long" if len(v) > 12 else ""}">{esc(v)}</div></div>'
        for k, v in items
    )
    return f'<div class="cards">{body}</div>'


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (documents may come from anywhere)."""
    return value if isinstance(value, Mapping) else {}
