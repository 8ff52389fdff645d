"""The prediction gateway: one governed model version served over HTTP.

``create_gateway(target, "credit")`` serves the deployed version of ``credit`` (or the version
named) only while the release gate (``ws.risk.gate``) passes: it refuses to start otherwise
(:class:`~mlaudit.errors.PolicyViolation` naming the failing rules) and re-checks the gate every
``recheck_seconds``, answering 503 with the reason once it fails (the version was retired, a
blocking finding was raised, ...). It is a small FastAPI app of its own with the team server's
middleware, error shape and bearer-token authentication; ``POST /predict`` needs
``prediction.log`` on the model (and on the challenger's model in shadow mode).

Every answered request is logged into the prediction log by a background writer
(:mod:`mlaudit.server.gateway_log`), batch key = request id, PII columns hashed. With a
``shadow`` version every request is also scored by the challenger off the request path and
logged under the same prediction ids; ``GET /compare`` reports how the two agree.
"""

from __future__ import annotations

import asyncio
import logging
import math
import tempfile
import uuid
from collections.abc import Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from mlaudit import __version__
from mlaudit.config import Settings, current_actor, get_settings
from mlaudit.errors import InputError, PermissionDenied, PolicyViolation
from mlaudit.governance.credentials import token_allows
from mlaudit.server.app import _handlers, _middleware, _warm_up, error_body
from mlaudit.server.deps import ACTION_ATTR, ApiError, Ctx, authenticate, check_csrf, client_of, store_of
from mlaudit.server.gateway_log import (
    Job,
    PiiHasher,
    PredictionWriter,
    compare,
    pii_columns,
    workspace_salt,
)
from mlaudit.store import Store, resolve
from mlaudit.store.ledger import utc_now
from mlaudit.workspace import Workspace

__all__ = ["GATEWAY_PUBLIC_ROUTES", "Gateway", "create_gateway", "resolve_version"]

log = logging.getLogger("mlaudit.gateway")

ACTION = "prediction.log"
GATEWAY_PUBLIC_ROUTES = frozenset({("GET", "/healthz")})
MAX_RECORDS = 10_000
_NUMERIC = ("int", "uint", "float", "double", "halffloat", "decimal")


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[dict[str, Any]] = Field(..., min_length=1, max_length=MAX_RECORDS)
    ids: list[str] | None = Field(None, description="Prediction ids (default: generated), one per record.")


def resolve_version(ws: Workspace, ref: str) -> Any:
    """``NAME@vN`` as named, or the version of ``NAME`` deployed now (PolicyViolation if none)."""
    if "@" in ref:
        return ws.models.get(ref)
    ws.models.get(ref)  # NotFound for an unknown model
    deployed = ws.lifecycle.deployed_at(ref, utc_now())
    if deployed is None:
        raise PolicyViolation(
            f"{ref} has no deployed version to serve",
            hint=f"deploy one (`mlaudit model transition {ref}@vN deployed`) or name a version",
        )
    return deployed


def _refusal(report: Any) -> str:
    rules = "".join(f"\n  fail {r.rule}: {r.message}" for r in report.failed())
    return f"the release gate refuses {report.ref}:{rules}\n"


@dataclass
class Gateway:
    """What the app serves and its state (``app.state.gateway``)."""

    store: Store
    actor: str
    champion: Any  # ModelVersion
    model: Any  # mlaudit.models.Model
    kinds: dict[str, str]  # feature → "number" | "string" | "bool" | "any"
    hasher: PiiHasher
    writer: PredictionWriter
    policy: str | Path | None = None
    shadow: Any = None
    shadow_model: Any = None
    shadow_kinds: dict[str, str] = field(default_factory=dict)
    serving: bool = True
    reason: str | None = None
    checked_at: str = field(default_factory=utc_now)

    def check_gate(self) -> bool:
        """Run the release gate again; stop serving (with the reason) when it no longer passes.
        An error while checking also stops serving: the gateway fails closed."""
        try:
            report = Workspace(self.store, self.actor).risk.gate(self.champion.ref, self.policy)
            ok, reason = report.passed, None if report.passed else _refusal(report)
        except Exception as exc:  # any failure to check means: do not serve
            ok, reason = False, f"the release gate could not be checked: {exc}"
        if self.serving and not ok:
            log.error("stopped serving %s: %s", self.champion.ref, reason)
        elif ok and not self.serving:
            log.warning("serving %s again: the release gate passes", self.champion.ref)
        self.serving, self.reason, self.checked_at = ok, reason, utc_now()
        return ok

    def health(self) -> dict[str, Any]:
        stats = self.writer.stats
        return {
            "status": "ok" if self.serving else "not_serving",
            "model": self.champion.ref,
            "shadow": self.shadow.ref if self.shadow is not None else None,
            "serving": self.serving,
            "reason": self.reason,
            "gate_checked_at": self.checked_at,
            "log": {"pending": self.writer.pending, "batches": stats.written, "rows": stats.rows,
                    "retries": stats.retries, "failed": stats.failed, "spooled": stats.spooled},
        }  # fmt: skip


def create_gateway(
    target: str | Path | None = None,
    model: str = "",
    *,
    shadow: str | None = None,
    hash_columns: Iterable[str] = (),
    settings: Settings | None = None,
    store: Store | None = None,
    actor: str | None = None,
    policy: str | Path | None = None,
    recheck_seconds: float = 60.0,
    spool_dir: str | Path | None = None,
) -> FastAPI:
    """The gateway app for ``model`` (``NAME`` = its deployed version, or ``NAME@vN``).

    Raises PolicyViolation (naming the failing rules) when the release gate refuses the version.
    """
    settings = settings or get_settings()
    who = actor or current_actor()
    opened = store or Store.open(resolve(target or settings.workspace), create=False, actor=who)
    try:
        gateway = _build(opened, who, model, shadow, hash_columns, policy, spool_dir)
    except BaseException:
        if store is None:
            opened.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        _warm_up()
        gateway.writer.start()
        task = asyncio.create_task(_recheck(gateway, recheck_seconds)) if recheck_seconds > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
            await asyncio.to_thread(gateway.writer.close)
            if store is None:
                opened.close()

    app = FastAPI(
        title="mlaudit gateway",
        version=__version__,
        description=f"Serves {gateway.champion.ref} while its release gate passes; every prediction "
        "is logged. Authenticate with `Authorization: Bearer mla_…` (permission prediction.log).",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = opened
    app.state.settings = settings
    app.state.gateway = gateway
    _middleware(app, settings)
    _handlers(app, html=False)
    _routes(app, gateway)
    return app


def _build(
    store: Store,
    actor: str,
    ref: str,
    shadow: str | None,
    hash_columns: Iterable[str],
    policy: str | Path | None,
    spool_dir: str | Path | None,
) -> Gateway:
    if not ref:
        raise InputError("name the model to serve: NAME or NAME@vN")
    ws = Workspace(store, actor)
    champion = resolve_version(ws, ref)
    report = ws.risk.gate(champion.ref, policy)
    if not report.passed:
        raise PolicyViolation(_refusal(report), hint=f"see `mlaudit gate {champion.ref}`")
    challenger = ws.models.get(shadow) if shadow else None
    if challenger is not None and challenger.id == champion.id:
        raise InputError(f"the challenger {challenger.ref} is the champion itself")
    # trust was given when the version was registered; the bytes are checked against its digest
    scorer = ws.models.load(champion.ref, trust_pickle=True)
    shadow_scorer = ws.models.load(challenger.ref, trust_pickle=True) if challenger is not None else None
    columns = set(hash_columns) | set(pii_columns(ws, champion))
    if challenger is not None:
        columns |= set(pii_columns(ws, challenger))
    spool = Path(spool_dir) if spool_dir else Path(tempfile.gettempdir()) / "mlaudit-gateway-spool"
    return Gateway(
        store=store,
        actor=actor,
        champion=champion,
        model=scorer,
        kinds=_feature_kinds(ws, champion),
        hasher=PiiHasher(workspace_salt(store), columns),
        writer=PredictionWriter(store, spool_dir=spool),
        policy=policy,
        shadow=challenger,
        shadow_model=shadow_scorer,
        shadow_kinds=_feature_kinds(ws, challenger) if challenger is not None else {},
    )


def _feature_kinds(ws: Workspace, version: Any) -> dict[str, str]:
    """Expected JSON type per feature, from the training dataset's schema ("any" when unknown)."""
    types: dict[str, str] = {}
    for node in version.trained_on:
        if str(node).startswith("dataset:"):
            try:
                schema = ws.datasets.get(str(node).removeprefix("dataset:")).schema
            except LookupError:
                continue
            types.update({c["name"]: c["type"] for c in schema if c["name"] not in types})
    kinds = {}
    for name in version.features:
        t = types.get(name, "")
        kinds[name] = ("number" if t.startswith(_NUMERIC) else "string" if "string" in t or t == "utf8"
                       else "bool" if t == "bool" else "any")  # fmt: skip
    return kinds


async def _recheck(gateway: Gateway, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        await asyncio.to_thread(gateway.check_gate)


def _allow_predict(gateway: Gateway) -> Callable[[Request], Coroutine[Any, Any, Ctx]]:
    """Like :func:`mlaudit.server.deps.allow`, with the project fixed: ``prediction.log`` on the
    served model (and the challenger's)."""
    names = [gateway.champion.model] + ([gateway.shadow.model] if gateway.shadow is not None else [])

    async def dependency(request: Request) -> Ctx:
        principal = authenticate(request)
        await check_csrf(request, principal)
        ws = Workspace(store_of(request), principal.name)
        try:
            if principal.via == "token" and not token_allows(list(principal.scopes), ACTION):
                raise PermissionDenied(
                    f"this token (scopes: {', '.join(principal.scopes)}) may not {ACTION}",
                    hint="create a token with scope write",
                )
            for name in dict.fromkeys(names):
                ws.access.require(ACTION, name)
        except PermissionDenied:
            ws.credentials.log_event("denied", principal.name, client_of(request),
                                     f"{request.method} {request.url.path}: {ACTION}")  # fmt: skip
            raise
        return Ctx(principal, ws, request)

    setattr(dependency, ACTION_ATTR, ACTION)
    return dependency


def _allow_read(gateway: Gateway) -> Callable[[Request], Coroutine[Any, Any, Ctx]]:
    async def dependency(request: Request) -> Ctx:
        principal = authenticate(request)
        ws = Workspace(store_of(request), principal.name)
        if principal.via == "token" and not token_allows(list(principal.scopes), "model.read"):
            raise PermissionDenied("this token may not read models")
        ws.access.require("model.read", gateway.champion.model)
        return Ctx(principal, ws, request)

    setattr(dependency, ACTION_ATTR, "model.read")
    return dependency


def _routes(app: FastAPI, gateway: Gateway) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        return gateway.health()

    @app.post("/predict")
    def predict(body: PredictRequest, ctx: Ctx = Depends(_allow_predict(gateway))) -> Any:
        rid: str = ctx.request.state.request_id
        if not gateway.serving:
            raise ApiError(503, "not_serving", f"not serving {gateway.champion.ref}: {gateway.reason}",
                           hint="the release gate no longer passes; see `mlaudit gate`")  # fmt: skip
        problems = _check_ids(body) + _check_records(body.records, gateway.kinds)
        if problems:
            first = problems[0]
            message = f"{first['where']}: {first['message']}"
            return JSONResponse(error_body(422, message, details=problems[:100], request_id=rid), 422)
        ids = body.ids or [uuid.uuid4().hex for _ in body.records]
        table = _table(body.records, gateway.kinds)
        answers, logged = _score(gateway.model, table, ids, gateway.champion.classes)
        hashed = gateway.hasher.records(logged)
        gateway.writer.submit(Job(gateway.champion.ref, ctx.user, rid, records=hashed))
        if gateway.shadow is not None:
            challenger, classes, records = gateway.shadow_model, gateway.shadow.classes, body.records

            def shadow_records() -> list[dict[str, Any]]:
                """The challenger may take other features than the champion: its own are checked
                and scored here, off the request path (a failure is logged, not answered)."""
                wrong = _check_records(records, gateway.shadow_kinds)
                if wrong:
                    raise InputError(
                        f"the challenger cannot score it: {wrong[0]['where']}: {wrong[0]['message']}"
                    )
                scored = _score(challenger, _table(records, gateway.shadow_kinds), ids, classes)[1]
                return gateway.hasher.records(scored)

            gateway.writer.submit(Job(gateway.shadow.ref, ctx.user, f"{rid}/shadow", make=shadow_records))
        return {"model": gateway.champion.ref, "request_id": rid, "predictions": answers}

    @app.get("/compare")
    def compare_route(ctx: Ctx = Depends(_allow_read(gateway))) -> Any:
        if gateway.shadow is None:
            raise InputError("this gateway runs without a challenger", hint="start it with --shadow NAME@vN")
        gateway.writer.flush(10)
        return compare(ctx.ws, gateway.champion.ref, gateway.shadow.ref).to_dict()


def _check_ids(body: PredictRequest) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    if body.ids is not None:
        if len(body.ids) != len(body.records):
            count = f"{len(body.ids)} ids for {len(body.records)} records"
            problems.append({"where": "ids", "message": count})
        if len(set(body.ids)) != len(body.ids):
            problems.append({"where": "ids", "message": "prediction ids must be unique"})
        bad = next((i for i, v in enumerate(body.ids) if not v.strip() or len(v) > 200), None)
        if bad is not None:
            problems.append({"where": f"ids.{bad}", "message": "an id is 1 to 200 characters"})
    return problems


def _check_records(records: list[dict[str, Any]], kinds: dict[str, str]) -> list[dict[str, str]]:
    """Every problem of the records as ``{"where", "message"}`` (empty: fine)."""
    problems: list[dict[str, str]] = []
    for i, record in enumerate(records):
        missing = [f for f in kinds if f not in record]
        if missing:
            problems.append({"where": f"records.{i}", "message": f"missing feature(s) {', '.join(missing)}"})
        for name, kind in kinds.items():
            if name in record and (msg := _type_problem(record[name], kind)) is not None:
                problems.append({"where": f"records.{i}.{name}", "message": msg})
    return problems


def _type_problem(value: Any, kind: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict | list):
        return "must be a single value, not an object or a list"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, not {value}"
    if kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"expected a number, got {type(value).__name__} {str(value)[:40]!r}"
    if kind == "string" and not isinstance(value, str):
        return f"expected a string, got {type(value).__name__} {str(value)[:40]!r}"
    if kind == "bool" and not isinstance(value, bool):
        return f"expected true or false, got {type(value).__name__} {str(value)[:40]!r}"
    return None


def _table(records: list[dict[str, Any]], kinds: dict[str, str]) -> Any:
    import pyarrow as pa

    types = {"number": pa.float64(), "string": pa.string(), "bool": pa.bool_()}
    columns = {}
    for name, kind in kinds.items():
        values = [r.get(name) for r in records]
        try:
            columns[name] = pa.array(values, type=types.get(kind))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputError(f"records: feature {name!r} has values of mixed types", column=name) from exc
    return pa.table(columns)


def _score(model: Any, table: Any, ids: list[str], classes: list[Any]) -> tuple[list[Any], list[Any]]:
    """(answers for the caller, records for the log) of ``model`` on ``table``."""
    predictions = model.predict(table).tolist()
    proba = model.predict_proba(table) if classes else None
    names = [str(c) for c in (model.classes or classes)] if proba is not None else []
    rows = table.to_pylist()
    answers, logged = [], []
    for i, pid in enumerate(ids):
        probs = {n: float(proba[i][j]) for j, n in enumerate(names)} if proba is not None else {}
        answers.append({"prediction_id": pid, "prediction": predictions[i], "proba": probs})
        logged.append({"prediction_id": pid, **rows[i], "prediction": predictions[i]}
                      | {f"proba_{n}": p for n, p in probs.items()})  # fmt: skip
    return answers, logged
