"""Notification channels of alerts: webhooks, Slack incoming webhooks and email (SMTP).

A channel spec is ``webhook:URL``, ``slack:URL`` or ``email:ADDRESS`` (:func:`parse_channel`).
:func:`send` delivers one notice and returns a :class:`Outcome`; it never raises for a
delivery problem. ``retry=False`` in the outcome means trying again cannot help (a refused
address, a 4xx answer, a redirect, a bad recipient).

Webhook payload (``kind`` ``mlaudit.alert.notification``, ``schema_version`` 1), POSTed as JSON
with the header ``Idempotency-Key: <notification id>``. A notice may arrive more than once (a
connection lost after the receiver got the body is retried), so receivers dedupe on that key::

    {"kind": "mlaudit.alert.notification", "schema_version": 1,
     "notification_id": "…", "event": "firing" | "resolved", "sent": "2026-01-01T00:00:00.000000Z",
     "alert": {"id": "…", "monitor": "credit-drift", "rule": "psi", "state": "firing" | "resolved",
               "value": 0.31, "message": "…", "window_id": "…" | null,
               "opened": "…", "resolved": "…" | null}}

SSRF protection: before each POST the host is resolved and every address is checked with
:func:`refusal` (private, loopback, link-local, multicast, reserved, unspecified, shared and
other non-global addresses, IPv4 and IPv6, including IPv4 embedded in IPv6) unless
``webhook_allow_private`` is set; the connection then goes to the checked address (the host
name only travels in ``Host`` and TLS SNI), so a DNS answer that changes between check and
connect (rebinding) is not used. Only http and https; redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import orjson

from mlaudit.errors import InputError

__all__ = [
    "CHANNELS",
    "PAYLOAD_KIND",
    "PAYLOAD_SCHEMA_VERSION",
    "DeliveryConfig",
    "Outcome",
    "parse_channel",
    "redact_target",
    "refusal",
    "send",
    "slack_message",
]

Channel = Literal["webhook", "slack", "email"]
CHANNELS: tuple[Channel, ...] = ("webhook", "slack", "email")
PAYLOAD_KIND = "mlaudit.alert.notification"
PAYLOAD_SCHEMA_VERSION = 1

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_channel(spec: str) -> tuple[Channel, str]:
    """``"webhook:https://…"`` → ``("webhook", "https://…")``; InputError for anything else."""
    channel, sep, target = str(spec).partition(":")
    channel = channel.strip().lower()
    target = target.strip()
    if not sep or channel not in CHANNELS or not target:
        raise InputError(
            f"not a notification channel: {spec!r}",
            hint="use webhook:https://host/path, slack:https://hooks.slack.com/… "
            "or email:someone@example.org",
        )
    if channel == "email":
        if "@" not in target or any(c in target for c in "\r\n ,;<>"):
            raise InputError(f"not an email address: {target!r}", hint="email:someone@example.org")
    else:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                f"a {channel} target must be an http(s) URL, not {target!r}",
                hint=f"{channel}:https://host/path",
            )
    return channel, target


def redact_target(channel: str, target: str) -> str:
    """The target without secrets (Slack webhook URLs are credentials): scheme://host/…"""
    if channel == "email":
        return target
    parts = urlsplit(target)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…" if parts.path not in ("", "/") or parts.query else target


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(ip))
    return None


def refusal(address: str | _Address) -> str | None:
    """Why a webhook must not connect to ``address``, or None when it is a public address.

    >>> refusal("10.1.2.3"), refusal("::ffff:127.0.0.1"), refusal("93.184.216.34")
    ('private address 10.1.2.3', 'loopback address 127.0.0.1 (inside ::ffff:7f00:1)', None)
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    except ValueError:
        return f"not an IP address: {address!r}"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            why = refusal(inner)
            return f"{why} (inside {ip})" if why else None
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("non-global", not ip.is_global),
    )
    for name, hit in checks:
        if hit:
            return f"{name} address {ip}"
    return None


@dataclass(frozen=True)
class DeliveryConfig:
    """What :func:`send` needs from the settings."""

    allow_private: bool = False
    timeout_s: float = 10.0
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "mlaudit@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False

    @classmethod
    def from_settings(cls, settings: Any) -> DeliveryConfig:
        return cls(
            allow_private=settings.webhook_allow_private, timeout_s=settings.webhook_timeout_s,
            smtp_host=settings.smtp_host, smtp_port=settings.smtp_port, smtp_from=settings.smtp_from,
            smtp_user=settings.smtp_user, smtp_password=settings.smtp_password,
            smtp_starttls=settings.smtp_starttls,
        )  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool = False
    error: str | None = None


def _resolve_checked(host: str, port: int, allow_private: bool) -> tuple[str | None, str | None]:
    """(address to connect to, None) or (None, reason refused/unresolvable)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        return None, f"cannot resolve {host}: {exc}"
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        return None, f"cannot resolve {host}"
    if not allow_private:
        for address in addresses:  # any bad answer refuses: a name mixing public and private is suspect
            why = refusal(address)
            if why:
                return None, f"refused {host}: {why} (set MLAUDIT_WEBHOOK_ALLOW_PRIVATE to allow)"
    return addresses[0].split("%", 1)[0], None


def _post_json(url: str, body: dict[str, Any], key: str, config: DeliveryConfig) -> Outcome:
    import httpx

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Outcome(False, False, f"only http and https URLs are allowed, not {parts.scheme or url!r}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address, why = _resolve_checked(host, port, config.allow_private)
    if address is None:
        return Outcome(False, False, why)
    # connect to the checked address; the name travels in Host and SNI (defeats DNS rebinding)
    literal = f"[{address}]" if ":" in address else address
    pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    headers = {
        "Host": host_header,
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        "User-Agent": "mlaudit-alerts/1",
    }
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    try:
        with httpx.Client(
            timeout=config.timeout_s,
            follow_redirects=False,
            trust_env=False,
            verify=ssl.create_default_context(),
        ) as client:
            response = client.post(pinned, content=orjson.dumps(body), headers=headers, extensions=extensions)
    except httpx.HTTPError as exc:
        return Outcome(False, True, f"{type(exc).__name__}: {exc}"[:500])
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(True)
    if 300 <= status < 400:
        return Outcome(False, False, f"HTTP {status}: redirects are not followed (configure the final URL)")
    retry = status >= 500 or status in (408, 425, 429)
    return Outcome(False, retry, f"HTTP {status}: {response.text[:200]}")


def slack_message(payload: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message (``text`` + ``blocks``) for a notification payload."""
    alert = payload["alert"]
    firing = payload["event"] == "firing"
    icon = ":rotating_light:" if firing else ":white_check_mark:"
    head = f"{icon} {'FIRING' if firing else 'RESOLVED'}: {alert['monitor']} / {alert['rule']}"
    value = "-" if alert.get("value") is None else f"{alert['value']:.6g}"
    facts = f"value {value} · window {alert.get('window_id') or '-'} · opened {alert['opened']}"
    if alert.get("resolved"):
        facts += f" · resolved {alert['resolved']}"
    return {
        "text": f"{head}: {alert['message']}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": head[:150], "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": alert["message"][:2900] or "-"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{facts} · alert {alert['id']}"}]},
        ],
    }


def email_message(payload: dict[str, Any], to: str, sender: str) -> EmailMessage:
    alert = payload["alert"]
    firing = payload["event"] == "firing"
    msg = EmailMessage()
    msg["Subject"] = f"[mlaudit] {'FIRING' if firing else 'RESOLVED'}: {alert['monitor']} / {alert['rule']}"
    msg["From"] = sender
    msg["To"] = to
    msg["X-Idempotency-Key"] = payload["notification_id"]
    value = "-" if alert.get("value") is None else f"{alert['value']:.6g}"
    msg.set_content(
        f"{alert['message']}\n\n"
        f"monitor:  {alert['monitor']}\nrule:     {alert['rule']}\nstate:    {alert['state']}\n"
        f"value:    {value}\nwindow:   {alert.get('window_id') or '-'}\nopened:   {alert['opened']}\n"
        f"resolved: {alert.get('resolved') or '-'}\nalert:    {alert['id']}\n"
    )
    return msg


def _send_email(to: str, payload: dict[str, Any], config: DeliveryConfig) -> Outcome:
    if not config.smtp_host:
        return Outcome(False, False, "no SMTP server: set MLAUDIT_SMTP_HOST")
    message = email_message(payload, to, config.smtp_from)
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout_s) as smtp:
            if config.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        return Outcome(False, False, f"recipient refused: {exc.recipients}"[:500])
    except smtplib.SMTPAuthenticationError as exc:
        return Outcome(False, False, f"SMTP login refused: {exc.smtp_code}")
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(False, True, f"{type(exc).__name__}: {exc}"[:500])
    return Outcome(True)


def send(channel: str, target: str, payload: dict[str, Any], config: DeliveryConfig) -> Outcome:
    """Deliver ``payload`` (the versioned webhook document) on one channel."""
    key = str(payload["notification_id"])
    if channel == "webhook":
        return _post_json(target, payload, key, config)
    if channel == "slack":
        return _post_json(target, slack_message(payload), key, config)
    if channel == "email":
        return _send_email(target, payload, config)
    return Outcome(False, False, f"unknown channel {channel!r}")
