"""Small helpers the UI pages share: figure blocks, messages, the caller's permissions.

Nothing here decides anything: pages ask the workspace services and this module turns their
answers into what templates show (Plotly figure JSON, short labels).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from mlaudit.server.deps import Ctx

__all__ = ["MESSAGES", "can_all", "figure_json", "message", "short"]

# what a finished form says on the page it returns to (?done=KEY); fixed texts, never echoed input
MESSAGES = {
    "approval": "Your decision was recorded in the ledger.",
    "submitted": "The version was submitted for validation.",
    "deployed": "The version was deployed.",
    "approved": "The version is now approved.",
    "rejected": "The version is now rejected.",
    "finding": "The finding was raised.",
}


def message(key: str | None) -> str | None:
    return MESSAGES.get(key or "")


def figure_json(figure: Mapping[str, Any] | None) -> str | None:
    """A Plotly figure (``{"data", "layout"}``) as JSON safe inside ``<script>`` (None stays None)."""
    if figure is None:
        return None
    text = orjson.dumps(dict(figure), option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode()
    for ch, sub in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, sub)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def can_all(ctx: Ctx, actions: Iterable[str], project: str | None = None) -> dict[str, bool]:
    """``{action: may the caller do it}`` — templates show only the forms the caller may use."""
    return {a: ctx.ws.access.can(a, project) for a in actions}


def short(text: str | None, n: int = 12) -> str:
    """A digest or id cut for display: ``sha256:ab12…``."""
    if not text:
        return "—"
    return text if len(text) <= n + 8 else text[: n + 7] + "…"
