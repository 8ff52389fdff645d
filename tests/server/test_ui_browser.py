"""The web UI in Debian's Chromium (Playwright): every page at laptop and phone width, the
approval flow with maker-checker, and a ledger verification. Fails on any console error, page
error or request to another host, and on horizontal overflow at phone width."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server_helpers import PASSWORD

import mlaudit

# the same measures as tests/conftest.py's PAGE_MEASURES (two conftest modules cannot both be imported)
PAGE_MEASURES = {
    "slots": "document.querySelectorAll('.plot').length",
    "drawn": "[...document.querySelectorAll('.plot.js-plotly-plot')]"
    ".filter(el => el.querySelector('svg.main-svg .trace') !== null).length",
    "overflow": "document.documentElement.scrollWidth - window.innerWidth",
}

WIDTHS = (1280, 390)
MODEL = "ui-browser"  # a model of this test's own in the shared demo workspace


@pytest.fixture(scope="module")
def site(demo_server: Any) -> Iterator[Any]:
    """The demo server, plus ``ui-browser@v1``: the demo model registered and audited by ``dev``."""
    path = Path(demo_server.server.config.app.state.workspace_path)
    with mlaudit.open(path, actor="dev") as ws:
        if MODEL not in {m.model for m in ws.models.list()}:
            demo = ws.models.get("credit-risk@v1")
            ws.models.register(
                MODEL,
                path.parent / "model" / "credit-risk.joblib",
                trust_pickle=True,
                trained_on=["credit-train@v1"],
                features=list(demo.features),
                target=demo.target,
                sensitive=list(demo.sensitive),
            )
            ws.audit(
                f"{MODEL}@v1",
                reference="credit-holdout@v1",
                current=str(path.parent / "model" / "current-month.parquet"),
                suite="quick",
            )
    yield demo_server


class Session:
    """One logged-in browser page that records every problem it sees."""

    def __init__(self, browser: Any, base: str, width: int) -> None:
        self.base = base
        self.problems: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        page = self.page
        page.on(
            "console",
            lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
        page.on(
            "response",
            lambda r: self.problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on(
            "request",
            lambda r: None if r.url.startswith(base + "/") else self.problems.append(f"request {r.url}"),
        )

    def login(self, user: str) -> None:
        self.page.goto(self.base + "/login")
        self.page.fill("#user", user)
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.base + "/")
        cookies = self.context.cookies()
        assert any(c["name"] == "mlaudit_session" for c in cookies), "Chromium refused the session cookie"

    def visit(self, path: str) -> dict[str, Any]:
        self.page.goto(self.base + path)
        return self.measure()

    def measure(self) -> dict[str, Any]:
        page = self.page
        page.wait_for_load_state("load")
        page.wait_for_function(f"({PAGE_MEASURES['drawn']}) === ({PAGE_MEASURES['slots']})", timeout=20000)
        found: dict[str, Any] = page.evaluate(
            "() => ({" + ",".join(f"{k}: {v}" for k, v in PAGE_MEASURES.items()) + "})"
        )
        return found

    def shot(self, folder: Path, name: str) -> None:
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


PAGES = {
    "overview": ("/", 0),
    "model": (f"/models/{MODEL}", 2),
    "datasets": ("/datasets", 0),
    "dataset": ("/datasets/credit-applications", 0),
    "lineage": (f"/lineage?node=model:{MODEL}@v1", 1),
    "ledger": ("/ledger", 0),
}


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_at_laptop_and_phone_width(browser: Any, site: Any, shots: Path, width: int) -> None:
    s = Session(browser, site.url, width)
    try:
        s.login("viewer")
        for name, (path, figures) in PAGES.items():
            seen = s.visit(path)
            s.shot(shots, f"ui-{name}-{width}")
            assert s.page.locator("main h1").count() == 1, name
            assert seen["slots"] >= figures and seen["drawn"] == seen["slots"], (name, seen)
            if width <= 400:
                assert seen["overflow"] <= 0, (name, seen)
        s.page.goto(site.url + f"/models/{MODEL}")
        s.page.click("a[href^='/audits/']")
        s.page.wait_for_load_state("load")
        assert "Model audit" in s.page.title()
        s.shot(shots, f"ui-audit-{width}")
        assert s.problems == []
    finally:
        s.close()


def test_lineage_click_navigates(browser: Any, site: Any) -> None:
    s = Session(browser, site.url, 1280)
    try:
        s.login("viewer")
        s.visit(f"/lineage?node=model:{MODEL}@v1")
        href = s.page.evaluate(
            "() => { const gd = document.getElementById('fig-lineage');"
            " const t = gd.data.find(d => d.customdata && d.customdata.some(h => h.includes('dataset')));"
            " const i = t.customdata.findIndex(h => h.includes('dataset'));"
            " gd.emit('plotly_click', {points: [{customdata: t.customdata[i]}]}); return t.customdata[i]; }"
        )
        s.page.wait_for_url(site.url + href)
        assert s.measure()["drawn"] == 1
        assert s.problems == []
    finally:
        s.close()


def test_approval_flow_and_ledger_verify(browser: Any, site: Any, shots: Path) -> None:
    dev = Session(browser, site.url, 390)
    val = Session(browser, site.url, 1280)
    try:
        dev.login("dev")
        dev.visit(f"/models/{MODEL}")
        if dev.page.locator("text=Submit for validation").count():
            dev.page.click("text=Submit for validation")
            dev.measure()
            assert "submitted for validation" in dev.page.inner_text("main")
        assert dev.page.locator("#maker-checker").is_visible()
        assert "Maker-checker: you (dev)" in dev.page.inner_text("#maker-checker")
        assert dev.page.locator("#approval-form").count() == 0
        dev.shot(shots, "ui-approval-blocked-390")

        val.login("val")
        val.visit(f"/models/{MODEL}")
        val.page.select_option("#role", "validator")
        val.page.check("input[name=decision][value=approve]")
        val.page.fill("#rationale", "Independent review of the audit: acceptable.")
        val.page.click("#approval-form button[type=submit]")
        val.measure()
        assert "Your decision was recorded" in val.page.inner_text("main")
        assert "Independent review of the audit" in val.page.inner_text("#approvals")
        val.shot(shots, "ui-approved-1280")

        val.visit("/ledger")
        val.page.click("text=Verify the ledger")
        val.measure()
        assert val.page.inner_text("#verification").startswith("ok")
        val.shot(shots, "ui-ledger-verified-1280")
        assert dev.problems == [] and val.problems == []
    finally:
        dev.close()
        val.close()
