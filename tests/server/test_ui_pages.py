"""The web UI pages through the TestClient: permissions, CSRF, and the maker-checker form."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import mlaudit

HTML = {"accept": "text/html"}
PAGES = [
    "/",
    "/models/credit",
    "/models/credit?v=v1",
    "/datasets",
    "/datasets/train",
    "/lineage",
    "/lineage?node=model:credit@v1",
    "/ledger",
    "/ledger?action=model.*&before=5",
]


@pytest.fixture
def audited(server_ws: Path) -> str:
    """``credit@v1`` audited by its developer ``dev`` and submitted for validation by ``dev``."""
    with mlaudit.open(server_ws, actor="dev") as ws:
        ws.audit("credit@v1", reference="train@v1", current="train@v1", suite="quick")
        ws.lifecycle.transition("credit@v1", "in_validation", "ready")
        return str(ws.audits.list(kind="audit_report", limit=1)[0].id)


def browser_login(app: Any, user: str) -> tuple[TestClient, str]:
    """A client logged in through the HTML form (cookie only, no CSRF header) and its CSRF token."""
    from server_helpers import PASSWORD

    client = TestClient(app, base_url="https://testserver")
    response = client.post("/login", data={"user": user, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303, response.text
    page = client.get("/", headers=HTML)
    token = re.search(r'name="csrf-token" content="([^"]*)"', page.text)
    return client, token.group(1) if token else ""


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_for_a_viewer(app: Any, path: str) -> None:
    client, _ = browser_login(app, "viewer")
    response = client.get(path, headers=HTML)
    assert response.status_code == 200, response.text[:2000]
    assert '<main id="main">' in response.text and "<nav" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", PAGES)
def test_logged_out_is_sent_to_login(app: Any, path: str) -> None:
    client = TestClient(app, base_url="https://testserver")
    response = client.get(path, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", PAGES)
def test_a_user_without_a_role_gets_the_403_page(app: Any, server_ws: Path, path: str) -> None:
    from server_helpers import PASSWORD

    with mlaudit.open(server_ws, actor="root") as ws:
        ws.access.add_user("nobody")
        ws.credentials.set_password("nobody", PASSWORD)
    client, _ = browser_login(app, "nobody")
    response = client.get(path, headers=HTML)
    assert response.status_code == 403
    assert "Not allowed" in response.text
    assert 'aria-label="Main"' in response.text and "nobody" in response.text  # navigation stays


def test_not_found_page_keeps_the_navigation(app: Any) -> None:
    client, _ = browser_login(app, "viewer")
    response = client.get("/models/no-such-model", headers=HTML)
    assert response.status_code == 404 and 'aria-label="Main"' in response.text and "viewer" in response.text


def test_model_page_shows_versions_audits_and_charts(app: Any, audited: str) -> None:
    client, _ = browser_login(app, "viewer")
    page = client.get("/models/credit", headers=HTML).text
    assert "v1" in page and "in validation" in page
    assert f'href="/audits/{audited}"' in page
    assert 'class="figure" data-target="fig-perf"' in page and 'data-target="fig-drift"' in page
    assert "submitted" not in page.lower() or "ready" in page  # the timeline names the reason
    assert "Record decision" not in page  # a viewer gets no approval form
    report = client.get(f"/audits/{audited}", headers=HTML)
    assert report.status_code == 200 and "Model audit" in report.text
    assert "'sha256-" in report.headers["content-security-policy"]
    assert "unsafe-inline" not in report.headers["content-security-policy"].split("style-src")[0]


def test_forms_need_the_csrf_token(app: Any, audited: str) -> None:
    client, token = browser_login(app, "val")
    form = {"v": "v1", "decision": "approve", "role": "validator", "rationale": "independent review"}
    for path, data in [
        ("/models/credit/approvals", form),
        ("/ledger/verify", {}),
        ("/models/credit/findings", {"title": "t", "severity": "low"}),
    ]:
        response = client.post(path, data=data, headers=HTML)
        assert response.status_code == 403, path
        assert "CSRF" in response.text
    page = client.get("/models/credit", headers=HTML).text
    assert "No decision recorded yet" in page
    assert token


def test_maker_checker_in_the_ui(app: Any, audited: str) -> None:
    dev, dev_token = browser_login(app, "dev")
    page = dev.get("/models/credit", headers=HTML).text
    assert "Maker-checker" in page and 'id="approval-form"' not in page
    form = {
        "v": "v1",
        "decision": "approve",
        "role": "validator",
        "rationale": "mine",
        "csrf_token": dev_token,
    }
    refused = dev.post("/models/credit/approvals", data=form, headers=HTML)
    assert refused.status_code == 403  # dev holds no deciding role: the permission check refuses first

    val, val_token = browser_login(app, "val")
    page = val.get("/models/credit", headers=HTML).text
    assert 'id="approval-form"' in page
    form = {
        "v": "v1",
        "decision": "approve",
        "role": "validator",
        "rationale": "independent review",
        "csrf_token": val_token,
    }
    done = val.post("/models/credit/approvals", data=form, headers=HTML)
    assert done.status_code == 200 and "Your decision was recorded" in done.text
    assert "independent review" in done.text and "val" in done.text
    approved = val.post(
        "/models/credit/conclude", data={"v": "v1", "to": "approved", "csrf_token": val_token}, headers=HTML
    )
    assert approved.status_code == 200 and "now approved" in approved.text


def test_the_service_refusal_is_shown_on_the_page(app: Any, server_ws: Path, audited: str) -> None:
    """A validator who also submitted the version: the form is replaced, and a forced POST shows
    the service's maker-checker message."""
    with mlaudit.open(server_ws, actor="root") as ws:
        ws.access.grant("dev", "validator")
    dev, token = browser_login(app, "dev")
    page = dev.get("/models/credit", headers=HTML).text
    assert "Maker-checker: you (dev)" in page and 'id="approval-form"' not in page
    form = {"v": "v1", "decision": "approve", "role": "validator", "rationale": "mine", "csrf_token": token}
    refused = dev.post("/models/credit/approvals", data=form, headers=HTML)
    assert refused.status_code == 403
    assert "maker-checker: dev" in refused.text and 'role="alert"' in refused.text


def test_findings_reports_and_ledger_verify(app: Any, audited: str) -> None:
    val, token = browser_login(app, "val")
    raised = val.post(
        "/models/credit/findings",
        headers=HTML,
        data={"v": "v1", "title": "Thin holdout", "severity": "high", "csrf_token": token},
    )
    assert raised.status_code == 200 and "Thin holdout" in raised.text
    overview = val.get("/", headers=HTML).text
    assert "high finding" in overview and "Thin holdout" in overview
    card = val.post("/models/credit/reports", data={"v": "v1", "kind": "card", "csrf_token": token})
    assert card.status_code == 200
    assert 'filename="card-credit-v1.html"' in card.headers["content-disposition"]
    assert card.content.startswith(b"<!DOCTYPE html>")
    bad = val.post(
        "/models/credit/reports", data={"v": "v1", "kind": "../../x", "csrf_token": token}, headers=HTML
    )
    assert bad.status_code == 422 and "unknown document kind" in bad.text
    verified = val.post("/ledger/verify", data={"csrf_token": token}, headers=HTML)
    assert verified.status_code == 200 and "<strong>ok</strong>" in verified.text
    assert "report.generated" in verified.text


def test_ledger_paging_and_filters(app: Any, login: Callable[..., Any]) -> None:
    client, _ = browser_login(app, "auditor")
    first = client.get("/ledger", headers=HTML).text
    seqs = [int(s) for s in re.findall(r'<th scope="row">(\d+)</th>', first)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) <= 50
    only = client.get("/ledger?action=user.*", headers=HTML).text
    assert "<code>user." in only and "<code>model.registered" not in only
