"""Real local receivers for alert delivery tests: an HTTP webhook server that can fail on
purpose, and a minimal SMTP server (plain sockets; aiosmtpd is not a dependency)."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Receiver:
    """What the webhook server saw. ``fail_first``: answer 500 to that many requests;
    ``drop``: request numbers (1-based) whose connection is closed after reading the body."""

    fail_first: int = 0
    drop: set[int] = field(default_factory=set)
    delay_s: float = 0.0
    status: int = 200
    requests: int = 0
    received: Counter[str] = field(default_factory=Counter)
    acknowledged: Counter[str] = field(default_factory=Counter)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class WebhookServer:
    """``with WebhookServer(Receiver(...)) as srv: srv.url``: a ThreadingHTTPServer on 127.0.0.1."""

    def __init__(self, receiver: Receiver | None = None, host: str = "127.0.0.1") -> None:
        self.receiver = receiver or Receiver()
        rec = self.receiver

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                with rec.lock:
                    rec.requests += 1
                    number = rec.requests
                    rec.received[key] += 1
                    rec.bodies.append(orjson.loads(body))
                    rec.headers.append(dict(self.headers.items()))
                if rec.delay_s:
                    time.sleep(rec.delay_s)
                if number in rec.drop:  # the body arrived, the answer never leaves
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                code = 500 if number <= rec.fail_first else rec.status
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                if 200 <= code < 300:
                    with rec.lock:
                        rec.acknowledged[key] += 1

        family = socket.AF_INET6 if ":" in host else socket.AF_INET

        class Server(ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

        self.server = Server((host, 0), Handler)
        self.port = self.server.server_address[1]
        literal = f"[{host}]" if ":" in host else host
        self.url = f"http://{literal}:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


class SMTPServer:
    """Just enough SMTP (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to receive mail."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        box = self.messages

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")
                self.wfile.flush()

            def handle(self) -> None:
                self.reply("220 test-smtp ready")
                sender, rcpts = "", []
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    cmd = raw.decode("utf-8", "replace").rstrip("\r\n")
                    verb = cmd[:4].upper()
                    if verb == "EHLO":
                        self.wfile.write(b"250-test-smtp\r\n250 8BITMIME\r\n")
                        self.wfile.flush()
                    elif verb == "HELO":
                        self.reply("250 test-smtp")
                    elif verb == "MAIL":
                        sender, rcpts = cmd.split(":", 1)[1].strip().split()[0].strip("<>"), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        rcpts.append(cmd.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 end with <CRLF>.<CRLF>")
                        lines = []
                        while (line := self.rfile.readline()) not in (b".\r\n", b""):
                            lines.append(line[1:] if line.startswith(b"..") else line)
                        box.append({"from": sender, "to": rcpts, "data": b"".join(lines)})
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    elif verb in ("RSET", "NOOP"):
                        self.reply("250 OK")
                    else:
                        self.reply("502 not implemented")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SMTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
