"""``/api/v1/monitors`` and ``/api/v1/alerts``, and firing monitor alerts on the overview page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlaudit


def _monitor_with_alert(path: Path) -> str:
    with mlaudit.open(path, actor="dev") as ws:
        ws.monitors.create("credit-hourly", "credit@v1", reference="train@v1", rules=["drift.share>0.5"])
    with mlaudit.open(path, actor="val") as ws:
        ws.alerts.update(monitor="credit-hourly", rule="drift.share>0.5", firing=True, value=0.8,
                         message="drift.share is 0.8 (> 0.5)", window_id=None, notify=[])  # fmt: skip
        return ws.alerts.list()[0].id


def test_monitors_windows_and_alerts(login: Any, server_ws: Path) -> None:
    alert_id = _monitor_with_alert(server_ws)
    viewer = login("viewer")
    monitors = viewer.get("/api/v1/monitors").json()
    assert [m["name"] for m in monitors] == ["credit-hourly"]
    assert monitors[0]["spec"]["reference"] == "train@v1"
    assert viewer.get("/api/v1/monitors/credit-hourly").json()["model"] == "credit"
    windows = viewer.get("/api/v1/monitors/credit-hourly/windows").json()
    assert windows == {"items": [], "total": 0, "offset": 0, "limit": 50}  # no predictions logged yet
    assert viewer.get("/api/v1/monitors/nope").json()["error"]["status"] == 404
    alerts = viewer.get("/api/v1/alerts", params={"state": "firing"}).json()
    assert alerts["total"] == 1
    assert alerts["items"][0]["id"] == alert_id and alerts["items"][0]["value"] == 0.8
    assert viewer.get("/api/v1/alerts", params={"state": "resolved"}).json()["total"] == 0
    assert viewer.get("/api/v1/alerts", params={"state": "bogus"}).status_code == 422
    page = viewer.get("/", headers={"accept": "text/html"}).text
    assert "credit-hourly · drift.share&gt;0.5" in page and "firing since" in page
