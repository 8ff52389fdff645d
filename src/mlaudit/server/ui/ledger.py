"""The ledger page (``/ledger``: events newest first, filters, paging, verification) and the
lineage page (``/lineage?node=...``: an interactive upstream/downstream graph)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from mlaudit.errors import MLAuditError
from mlaudit.server.deps import Ctx, allow
from mlaudit.server.ui import render
from mlaudit.server.ui.charts import lineage_figure
from mlaudit.server.ui.views import can_all, figure_json

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
PAGE = 50


def _events(ctx: Ctx, action: str, actor: str, subject: str, before: int | None) -> dict[str, Any]:
    found = ctx.ws.ledger.log(
        action=action or None,
        actor=actor or None,
        subject=subject or None,
        stop=before,
        limit=PAGE + 1,
        newest_first=True,
    )
    events = found[:PAGE]
    older = None
    if len(found) > PAGE:
        query = {k: v for k, v in (("action", action), ("actor", actor), ("subject", subject)) if v}
        older = "/ledger?" + urlencode({**query, "before": events[-1].seq})
    return {
        "events": events,
        "older": older,
        "filters": {"action": action, "actor": actor, "subject": subject},
        "size": ctx.ws.ledger.size(),
        "newer": before is not None,
    }


@router.get("/ledger", response_class=HTMLResponse)
def ledger_page(
    request: Request,
    action: str = Query("", max_length=200),
    actor: str = Query("", max_length=200),
    subject: str = Query("", max_length=500),
    before: int | None = Query(None, ge=1),
    ctx: Ctx = Depends(allow("ledger.read")),
) -> Response:
    context = {"ctx": ctx, "nav": "ledger", "verification": None, "can": can_all(ctx, ["ledger.verify"])}
    return render(request, "ledger.html", context | _events(ctx, action, actor, subject, before))


@router.post("/ledger/verify", response_class=HTMLResponse)
def verify_ledger(request: Request, ctx: Ctx = Depends(allow("ledger.verify"))) -> Response:
    result = ctx.ws.ledger.verify()
    context = {"ctx": ctx, "nav": "ledger", "verification": result, "can": can_all(ctx, ["ledger.verify"])}
    return render(request, "ledger.html", context | _events(ctx, "", "", "", None))


@router.get("/lineage", response_class=HTMLResponse)
def lineage_page(
    request: Request, node: str = Query("", max_length=500), ctx: Ctx = Depends(allow("model.read"))
) -> Response:
    ws = ctx.ws
    models = sorted(ws.models.list(), key=lambda m: (m.model, m.number))
    names = {m.node: m.ref for m in models}
    for d in ws.datasets.names():
        for v in ws.datasets.versions(d):
            names[v.node] = v.ref
    choices = [(f"model:{m.ref}", m.ref) for m in models] + [
        (f"dataset:{ref}", ref) for node_id, ref in names.items() if node_id.startswith("dataset:")
    ]
    wanted = node or (choices[0][0] if choices else "")
    context: dict[str, Any] = {
        "ctx": ctx,
        "nav": "lineage",
        "node": wanted,
        "choices": choices,
        "figure": None,
        "nodes": [],
        "error": None,
        "partial": False,
    }
    if wanted:
        try:
            root = _node(ws, wanted)
            up, down = ws.lineage.upstream(root), ws.lineage.downstream(root)
        except MLAuditError as exc:
            context["error"] = exc.message
            return render(
                request, "lineage.html", context, exc.http_status if exc.http_status == 404 else 400
            )
        links = {
            n.id: "/lineage?" + urlencode({"node": _readable(n.id, names)}) for n in (*up.nodes, *down.nodes)
        }
        context["figure"] = figure_json(lineage_figure(up, down, links, names))
        context["partial"] = up.partial or down.partial
        seen: dict[str, dict[str, Any]] = {}
        for direction, graph in (("upstream", up), ("downstream", down)):
            for n in graph.nodes:
                label = names.get(n.id) or n.label()
                entry = seen.setdefault(
                    n.id,
                    {
                        "id": n.id,
                        "label": label,
                        "kind": n.kind,
                        "depth": n.depth,
                        "direction": "selected" if n.id == root else direction,
                        "href": links[n.id],
                        "model": _model_name(n.id, names),
                    },
                )
                entry["depth"] = min(entry["depth"], n.depth)
        context["nodes"] = sorted(
            seen.values(),
            key=lambda e: (e["direction"] != "selected", e["direction"], e["depth"], e["label"]),
        )
        context["root_label"] = names.get(root, root)
    return render(request, "lineage.html", context)


def _node(ws: Any, text: str) -> str:
    """A node id from what a person types: ``model:credit@v1`` (the version's node), or any
    form :meth:`~mlaudit.lineage.Lineage.resolve` knows."""
    if text.startswith("model:") and "@v" in text:
        return str(ws.models.get(text.removeprefix("model:")).node)
    return str(ws.lineage.resolve(text))


def _readable(node_id: str, names: dict[str, str]) -> str:
    ref = names.get(node_id)
    if ref is None:
        return node_id
    return ("model:" if node_id.startswith("model:") else "dataset:") + ref


def _model_name(node_id: str, names: dict[str, str]) -> str | None:
    if node_id.startswith("model:") and node_id in names:
        return names[node_id].split("@")[0]
    return None
