"""Alerts (``ws.alerts``): de-duplication, the ledger, and delivery of notifications to real
local receivers (HTTP webhook and SMTP servers in threads) with failures injected."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import orjson
import pytest
from alert_helpers import Receiver, SMTPServer, WebhookServer

import mlaudit
from mlaudit.cli import main
from mlaudit.errors import InputError, PermissionDenied
from mlaudit.monitor.alerts import backoff
from mlaudit.monitor.notify import DeliveryConfig, parse_channel, redact_target, refusal, send

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PRIVATE = DeliveryConfig(allow_private=True, timeout_s=5.0)


@pytest.fixture
def ws(workspace_target: dict[str, str]) -> Iterator[mlaudit.Workspace]:
    with mlaudit.open(**workspace_target) as w:
        yield w


@pytest.fixture
def allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    """The delivery tests reach their server on 127.0.0.1, so they allow private addresses."""
    from mlaudit.config import get_settings

    monkeypatch.setenv("MLAUDIT_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("MLAUDIT_WEBHOOK_TIMEOUT_S", "5")
    get_settings(fresh=True)


def fire(ws: mlaudit.Workspace, firing: bool, *, rule: str = "psi", notify: list[str], **kw: Any) -> Any:
    return ws.alerts.update(
        monitor=kw.pop("monitor", "credit-drift"), rule=rule, firing=firing, value=kw.pop("value", 0.3),
        message=kw.pop("message", "PSI of a is 0.30 (> 0.2)"), window_id=kw.pop("window_id", "w1"),
        notify=notify,
    )  # fmt: skip


def deliver_until_quiet(ws: mlaudit.Workspace, rounds: int = 12, **kw: Any) -> list[Any]:
    """Run deliver with a fake clock two hours apart (longer than any back-off)."""
    return [ws.alerts.deliver(now=T0 + timedelta(hours=2 * i), **kw) for i in range(rounds)]


# --- de-duplication and the ledger ---------------------------------------------------------


def test_fire_dedupe_resolve_and_fire_again(ws: mlaudit.Workspace) -> None:
    hook = ["webhook:https://hooks.example.org/mlaudit"]
    first = fire(ws, True, notify=hook)
    assert first.state == "firing" and first.value == 0.3 and first.window_id == "w1"
    assert [(n.kind, n.status) for n in ws.alerts.notifications(first.id)] == [("firing", "pending")]

    again = fire(ws, True, notify=hook, value=0.5, window_id="w2")  # still firing: nothing changes
    assert again == first
    assert len(ws.alerts.notifications(first.id)) == 1
    assert ws.alerts.list(state="firing") == [first]
    assert fire(ws, True, rule="ks", notify=[]) is not None  # another rule is another alert

    resolved = fire(ws, False, notify=hook, value=0.1, window_id="w3")
    assert resolved.id == first.id and resolved.state == "resolved" and resolved.resolved
    assert [n.kind for n in ws.alerts.notifications(first.id)] == ["firing", "resolved"]
    assert fire(ws, False, notify=hook) is None  # clear and nothing firing: nothing happens

    later = fire(ws, True, notify=hook, window_id="w9")
    assert later.id != first.id and later.state == "firing"
    assert [a.id for a in ws.alerts.list(monitor="credit-drift", state="resolved")] == [first.id]
    assert len(ws.alerts.list(monitor="credit-drift")) == 3 and ws.alerts.list(monitor="other") == []
    assert ws.alerts.get(later.id[:8]) == later

    events = [(e.action, e.data["id"]) for e in ws.ledger.log() if e.action.startswith("alert.")]
    ks = next(a.id for a in ws.alerts.list(state="firing") if a.rule == "ks")
    assert events == [
        ("alert.fired", first.id), ("alert.fired", ks), ("alert.resolved", first.id),
        ("alert.fired", later.id),
    ]  # fmt: skip
    assert all("hooks.example.org" not in str(e.payload) for e in ws.ledger.log())  # targets stay out
    assert ws.ledger.verify().ok


def test_concurrent_runners_open_one_alert_and_queue_one_notice(workspace_target: dict[str, str]) -> None:
    hook = ["webhook:https://hooks.example.org/x", "email:ops@example.org"]
    mlaudit.open(**workspace_target).close()  # created once, before the runners
    start = threading.Barrier(4, timeout=60)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with mlaudit.open(**workspace_target) as mine:
                start.wait()
                for _ in range(3):
                    fire(mine, True, notify=hook)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with mlaudit.open(**workspace_target) as ws:
        (alert,) = ws.alerts.list()
        assert len(ws.alerts.notifications(alert.id)) == 2
        assert [e.action for e in ws.ledger.log()].count("alert.fired") == 1


def test_bad_channel_specs_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    with mlaudit.open(tmp_path / "ws") as ws:
        for spec in ["pager:123", "webhook:ftp://x/y", "webhook:", "email:nobody", "slack:not a url"]:
            with pytest.raises(InputError):
                fire(ws, True, notify=[spec])
        assert ws.alerts.list() == []
    assert parse_channel(" Email:ops@example.org") == ("email", "ops@example.org")
    assert (
        redact_target("slack", "https://hooks.slack.com/services/T0/B0/secret") == "https://hooks.slack.com/…"
    )


# --- delivery with failures injected ---------------------------------------------------------


def test_webhook_retries_until_each_alert_is_delivered_once(
    ws: mlaudit.Workspace, allow_private: None
) -> None:
    # 500 for the first 4 requests, then the 6th request's connection is dropped after its body arrived
    with WebhookServer(Receiver(fail_first=4, drop={6})) as srv:
        made = [
            fire(ws, True, rule=f"rule{i}", notify=[f"webhook:{srv.url}"], value=float(i)) for i in range(3)
        ]
        fire(ws, False, rule="rule0", notify=[f"webhook:{srv.url}"])
        reports = deliver_until_quiet(ws)
        rec = srv.receiver
    ids = {n.id for a in made for n in ws.alerts.notifications(a.id)}
    assert len(ids) == 4  # three firing notices and one resolved notice
    assert sum(len(r.sent) for r in reports) == 4 and not any(r.failed for r in reports)
    assert reports[0].retrying and "HTTP 500" in next(iter(reports[0].errors.values()))
    assert reports[-1].sent == reports[-1].retrying == []  # quiet: a sent notice is never sent again
    # every notice acknowledged exactly once; the one whose connection dropped arrived twice, and
    # receivers dedupe on Idempotency-Key (documented in mlaudit.monitor.notify)
    assert set(rec.acknowledged) == ids and set(rec.acknowledged.values()) == {1}
    assert set(rec.received) == ids and all(rec.received[i] >= 1 for i in ids)
    assert sum(rec.received.values()) == rec.requests == 4 + 4 + 1
    for a in made:
        for n in ws.alerts.notifications(a.id):
            assert n.status == "sent" and n.attempts >= 1 and n.next_attempt is None
    body = next(b for b in rec.bodies if b["alert"]["rule"] == "rule2")
    assert body["kind"] == "mlaudit.alert.notification" and body["schema_version"] == 1
    assert (
        body["event"] == "firing"
        and body["alert"]["value"] == 2.0
        and body["alert"]["monitor"] == "credit-drift"
    )
    assert {"id", "state", "message", "window_id", "opened", "resolved"} <= set(body["alert"])
    assert any(b["event"] == "resolved" and b["alert"]["state"] == "resolved" for b in rec.bodies)
    assert all(h["Host"] == f"127.0.0.1:{srv.port}" for h in rec.headers)


def test_backoff_is_respected_and_gives_up_after_max_attempts(tmp_path: Path, allow_private: None) -> None:
    with mlaudit.open(tmp_path / "ws") as ws, WebhookServer(Receiver(status=503)) as srv:
        alert = fire(ws, True, notify=[f"webhook:{srv.url}"])
        first = ws.alerts.deliver(now=T0, max_attempts=3)
        assert first.retrying and srv.receiver.requests == 1
        (n,) = ws.alerts.notifications(alert.id)
        wait = datetime.fromisoformat(n.next_attempt.replace("Z", "+00:00")) - T0
        assert timedelta(seconds=15) <= wait < timedelta(seconds=30)  # 30 s with jitter in [0.5, 1)
        assert ws.alerts.deliver(now=T0 + timedelta(seconds=10), max_attempts=3).retrying == []  # not due
        assert srv.receiver.requests == 1
        deliver_until_quiet(ws, rounds=5, max_attempts=3)
        assert srv.receiver.requests == 3
        (n,) = ws.alerts.notifications(alert.id)
        assert (n.status, n.attempts) == ("failed", 3) and "HTTP 503" in (n.last_error or "")
    assert [backoff(k) <= b for k, b in [(1, 30), (2, 60), (5, 480), (20, 3600)]] == [True] * 4
    assert all(backoff(k) >= 0.5 * min(3600, 30 * 2 ** (k - 1)) for k in range(1, 12))


def test_two_concurrent_deliverers_send_each_notice_once(
    workspace_target: dict[str, str], allow_private: None
) -> None:
    with WebhookServer(Receiver(delay_s=0.02)) as srv:
        with mlaudit.open(**workspace_target) as ws:
            alerts = [fire(ws, True, rule=f"r{i}", notify=[f"webhook:{srv.url}"]) for i in range(24)]
        reports: list[Any] = []
        errors: list[BaseException] = []
        start = threading.Barrier(2, timeout=60)

        def run() -> None:
            try:
                with mlaudit.open(**workspace_target) as mine:
                    start.wait()
                    reports.append(mine.alerts.deliver(now=T0))
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        rec = srv.receiver
    sent = [nid for r in reports for nid in r.sent]
    assert len(sent) == len(set(sent)) == 24
    assert all(r.sent for r in reports), "both deliverers should have taken a share"
    assert set(rec.received.values()) == {1} and len(rec.received) == 24 == rec.requests
    with mlaudit.open(**workspace_target) as ws:
        assert {n.status for a in alerts for n in ws.alerts.notifications(a.id)} == {"sent"}


def test_slack_payload_shape(tmp_path: Path, allow_private: None) -> None:
    with mlaudit.open(tmp_path / "ws") as ws, WebhookServer() as srv:
        fire(ws, True, notify=[f"slack:{srv.url}"], value=0.3141)
        assert len(ws.alerts.deliver(now=T0).sent) == 1
        (body,) = srv.receiver.bodies
    assert set(body) == {"text", "blocks"}
    assert (
        body["text"].startswith(":rotating_light: FIRING: credit-drift / psi") and "PSI of a" in body["text"]
    )
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "context"]
    assert body["blocks"][1]["text"] == {"type": "mrkdwn", "text": "PSI of a is 0.30 (> 0.2)"}
    assert "value 0.3141" in body["blocks"][2]["elements"][0]["text"]


def test_email_arrives_at_the_smtp_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlaudit.config import get_settings

    with SMTPServer() as smtp, mlaudit.open(tmp_path / "ws") as ws:
        monkeypatch.setenv("MLAUDIT_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("MLAUDIT_SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("MLAUDIT_SMTP_FROM", "alerts@example.org")
        get_settings(fresh=True)
        alert = fire(ws, True, notify=["email:ops@example.org"])
        fire(ws, False, notify=["email:ops@example.org"], message="PSI back to 0.05")
        report = ws.alerts.deliver(now=T0)
        assert len(report.sent) == 2 and ws.alerts.deliver(now=T0 + timedelta(hours=5)).sent == []
        mails = list(smtp.messages)
    assert [m["to"] for m in mails] == [["ops@example.org"]] * 2 and mails[0]["from"] == "alerts@example.org"
    parsed: list[Message] = [message_from_bytes(m["data"]) for m in mails]
    assert parsed[0]["Subject"] == "[mlaudit] FIRING: credit-drift / psi"
    assert parsed[1]["Subject"] == "[mlaudit] RESOLVED: credit-drift / psi"
    text = parsed[0].get_payload(decode=True).decode()
    assert "PSI of a is 0.30 (> 0.2)" in text and alert.id in text and "value:    0.3" in text


def test_email_without_smtp_host_fails_without_retry(tmp_path: Path) -> None:
    with mlaudit.open(tmp_path / "ws") as ws:
        fire(ws, True, notify=["email:ops@example.org"])
        report = ws.alerts.deliver(now=T0)
    assert len(report.failed) == 1 and "MLAUDIT_SMTP_HOST" in next(iter(report.errors.values()))


# --- SSRF protection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"), ("127.9.9.9", "loopback"), ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"), ("169.254.169.254", "link-local"), ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"), ("240.0.0.1", "private"), ("255.255.255.255", "private"),
        ("100.64.0.1", "non-global"), ("192.0.2.1", "private"), ("198.18.0.1", "private"),
        ("::1", "loopback"), ("::", "unspecified"), ("fe80::1", "link-local"), ("fe80::1%eth0", "link-local"),
        ("fc00::1", "private"), ("fd12:3456::1", "private"), ("ff02::1", "multicast"),
        ("fec0::1", "site-local"),
        ("2001:db8::1", "private"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"), ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:7f00:1::", "loopback"), ("::127.0.0.1", "loopback"), ("not-an-ip", "not an IP"),
    ],
)  # fmt: skip
def test_refusal_names_every_non_public_address(address: str, reason: str) -> None:
    why = refusal(address)
    assert why is not None and why.startswith(reason), why


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_refusal_allows_public_addresses(address: str) -> None:
    assert refusal(address) is None
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hook", "http://localhost:{port}/hook", "http://10.0.0.1:{port}/hook",
        "http://169.254.169.254/latest/meta-data", "http://[::1]:{port}/hook", "http://[::ffff:127.0.0.1]:{port}/x",
        "http://0x7f000001:{port}/hook",
    ],
)  # fmt: skip
def test_private_webhooks_are_refused_unless_allowed(tmp_path: Path, url: str) -> None:
    with WebhookServer() as srv, mlaudit.open(tmp_path / "ws") as ws:
        target = url.format(port=srv.port)
        alert = fire(ws, True, notify=[f"webhook:{target}", f"slack:{target}"])
        report = ws.alerts.deliver(now=T0)
        assert len(report.failed) == 2 and not report.retrying
        assert all("refused" in e or "cannot resolve" in e for e in report.errors.values()), report.errors
        assert {n.status for n in ws.alerts.notifications(alert.id)} == {"failed"}
        assert ws.alerts.deliver(now=T0 + timedelta(days=1)).failed == []  # no retry
        assert srv.receiver.requests == 0


def test_loopback_is_reachable_when_allowed_and_redirects_are_not_followed() -> None:
    payload = {"notification_id": "n1", "event": "firing", "alert": {}}
    with WebhookServer() as srv:
        assert send("webhook", srv.url, payload, DeliveryConfig()).retry is False
        assert send("webhook", srv.url, payload, PRIVATE).ok
        assert send("webhook", srv.url.replace("127.0.0.1", "localhost"), payload, PRIVATE).ok
    with WebhookServer(host="::1") as srv6:
        assert refusal("::1") and send("webhook", srv6.url, payload, PRIVATE).ok
    with WebhookServer(Receiver(status=302)) as redirecting:
        out = send("webhook", redirecting.url, payload, PRIVATE)
        assert not out.ok and not out.retry and "redirect" in (out.error or "")
    assert "only http and https" in (send("webhook", "file:///etc/passwd", payload, PRIVATE).error or "")


def test_the_connection_goes_to_the_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: a second lookup answering another address is never made."""
    import socket

    from mlaudit.monitor import notify

    calls: list[str] = []
    real = socket.getaddrinfo

    def answers(host: str, *args: Any, **kw: Any) -> Any:
        calls.append(host)
        if host == "rebind.test":  # first answer public, any later one loopback
            ip = "93.184.216.34" if calls.count(host) == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 80))]
        return real(host, *args, **kw)

    monkeypatch.setattr(notify.socket, "getaddrinfo", answers)
    sent: list[str] = []
    import httpx

    def fake_send(self: Any, request: httpx.Request, **kw: Any) -> httpx.Response:
        sent.append(f"{request.url.host}|{request.headers['host']}")
        return httpx.Response(204, request=request)

    monkeypatch.setattr(httpx.Client, "send", fake_send)
    payload = {"notification_id": "n1", "event": "firing", "alert": {}}
    assert send("webhook", "http://rebind.test/hook", payload, DeliveryConfig()).ok
    assert sent == ["93.184.216.34|rebind.test"] and calls.count("rebind.test") == 1


# --- reading, permissions and the CLI ----------------------------------------------------------


def test_deliver_needs_alert_manage(tmp_path: Path) -> None:
    with mlaudit.open(tmp_path / "ws", actor="root") as ws:
        ws.access.add_user("root", admin=True)
        ws.access.add_user("vic")
        ws.access.grant("vic", "viewer")
        fire(ws, True, notify=[])
    with mlaudit.open(tmp_path / "ws", actor="vic") as ws:
        assert len(ws.alerts.list()) == 1
        with pytest.raises(PermissionDenied):
            ws.alerts.deliver(now=T0)


def test_cli_list_and_deliver(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], allow_private: None
) -> None:
    with WebhookServer(Receiver(fail_first=1)) as srv:
        with mlaudit.open(tmp_path / "ws") as ws:
            alert = fire(ws, True, notify=[f"webhook:{srv.url}"])
        w = ["-w", str(tmp_path / "ws")]
        assert main(["alert", "deliver", *w, "--json"]) == 0
        first = orjson.loads(capsys.readouterr().out)
        assert first["kind"] == "alert_delivery" and len(first["retrying"]) == 1
        with mlaudit.open(tmp_path / "ws") as ws:  # make it due now rather than waiting
            ws.alerts.deliver(now=datetime.now(UTC) + timedelta(hours=2))
        assert main(["alert", "list", *w, "--state", "firing", "--json"]) == 0
        (row,) = orjson.loads(capsys.readouterr().out)
        assert row["id"] == alert.id and row["notifications"][0]["status"] == "sent"
        assert row["notifications"][0]["target"] == f"http://127.0.0.1:{srv.port}/…"
        assert main(["alert", "list", *w, "--monitor", "credit-drift"]) == 0
        text = capsys.readouterr().out
        assert "firing   credit-drift / psi" in text and "sent, 2 attempts" in text
        assert main(["alert", "list", *w, "--state", "open"]) == 2
