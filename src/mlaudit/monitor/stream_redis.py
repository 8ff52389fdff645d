"""Redis Streams source: ``redis://HOST:PORT[/DB]/STREAM?group=G[&consumer=C][&claim_idle_ms=MS]``.

A consumer group (created at ``0`` when missing) with a fixed consumer name (default
``mlaudit``). Entries are XACKed after their batch is stored, and only one batch is in
flight, so a consumer's pending entries are exactly its last unstored-or-unacked batch. On
start (and after a dropped connection) they are read back with ``XREADGROUP ... 0`` as one
batch: same entries, same key ``redis:<stream>:<group>:<first-id>-<last-id>:<count>``,
nothing stored twice. Entries pending at another consumer idle for ``claim_idle_ms``
(default 30 s) are taken over with XPENDING + XCLAIM one consumer at a time (XAUTOCLAIM
would mix two dead consumers' batches into a batch whose key neither stored). The message
body is the field ``data`` (or the only field of the entry).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mlaudit.errors import InputError
from mlaudit.monitor.streams import EXTRA_HINT, BrokerUnavailable, Message

__all__ = ["RedisSource"]


def _client() -> Any:
    try:
        import redis
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError("reading Redis Streams needs the `redis` package", hint=EXTRA_HINT) from exc
    return redis


class RedisSource:
    dedupe_ids = False

    def __init__(self, url: str, *, batch: int) -> None:
        redis = _client()
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = [p for p in parts.path.split("/") if p]
        if not path or "group" not in query:
            raise InputError(f"{url!r} needs a stream and a group", hint="redis://HOST:PORT/STREAM?group=G")
        db = int(path[0]) if len(path) > 1 and path[0].isdigit() else 0
        self.stream = path[-1]
        self.group = query["group"]
        self.consumer = query.get("consumer", "mlaudit")
        self.claim_idle_ms = int(query.get("claim_idle_ms", "30000"))
        self.name = f"redis://{parts.hostname}:{parts.port or 6379}/{self.stream}?group={self.group}"
        self.scope = f"redis:{self.stream}:{self.group}"
        self._errors = (redis.ConnectionError, redis.TimeoutError)
        self._redis = redis.Redis(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            db=db,
            password=parts.password,
            socket_connect_timeout=5,
            socket_timeout=10,
        )
        self._batch = batch
        self._check_pending = True  # read our own pending entries first
        self._next_claim = 0.0
        self._call(self._create_group)

    def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except self._errors as exc:
            self._check_pending = True
            raise BrokerUnavailable(f"redis {self.name}: {exc}") from exc

    def _create_group(self) -> None:
        import redis

        try:
            self._redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        return list(self._call(self._fetch, max_messages, timeout))

    def _fetch(self, max_messages: int, timeout: float) -> list[Message]:
        if self._check_pending:
            # all of our pending entries at once: they are one batch, whatever --batch is now
            got = self._redis.xreadgroup(self.group, self.consumer, {self.stream: "0"}, count=10**6)
            entries = got[0][1] if got else []
            self._check_pending = False
            if entries:
                return self._messages(entries, recovered=True)
        if time.monotonic() >= self._next_claim:
            self._next_claim = time.monotonic() + max(self.claim_idle_ms / 1000 / 2, 1.0)
            claimed = self._claim()
            if claimed:
                return claimed
        block = max(int(timeout * 1000), 1)
        got = self._redis.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=max_messages, block=block
        )
        return self._messages(got[0][1] if got else [], recovered=False)

    def _claim(self) -> list[Message]:
        pending = self._redis.xpending_range(
            self.stream, self.group, min="-", max="+", count=10**5, idle=self.claim_idle_ms
        )
        others = [p for p in pending if _text(p["consumer"]) != self.consumer]
        if not others:
            return []
        dead = others[0]["consumer"]
        ids = [p["message_id"] for p in others if p["consumer"] == dead]
        entries = self._redis.xclaim(self.stream, self.group, self.consumer, self.claim_idle_ms, ids)
        return self._messages([e for e in entries if e[1] is not None], recovered=True)

    def _messages(self, entries: list[Any], *, recovered: bool) -> list[Message]:
        out = []
        for entry_id, fields in entries:
            body = fields.get(b"data") if fields else None
            if body is None and fields and len(fields) == 1:
                body = next(iter(fields.values()))
            out.append(
                Message(
                    id=_text(entry_id),
                    payload=body if body is not None else repr(fields).encode(),
                    scope=self.scope,
                    recovered=recovered,
                )
            )
        return out

    def ack(self, messages: list[Message]) -> None:
        if messages:
            self._call(self._redis.xack, self.stream, self.group, *[m.id for m in messages])

    def batch_key(self, messages: list[Message]) -> str | None:
        return f"{self.scope}:{messages[0].id}-{messages[-1].id}:{len(messages)}"

    def close(self) -> None:
        self._redis.close()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
