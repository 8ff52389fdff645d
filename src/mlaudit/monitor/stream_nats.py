"""NATS JetStream source: ``nats://HOST:PORT/SUBJECT?stream=S&durable=D[&ack_wait=SECONDS]``.

A durable pull consumer (explicit acks, created when missing, ``ack_wait`` default 30 s).
Messages are acked after their batch is stored, then the connection is flushed so the server
has the acks before the next batch is pulled. A message not acked in ``ack_wait`` (the
consumer died, or the server restarted before the ack arrived) is redelivered; the key
``nats:<stream>:<durable>:<first-seq>-<last-seq>:<count>`` of a stored gap-free sequence range
lets the loop recognise it as stored whatever batch it comes back in.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mlaudit.errors import InputError
from mlaudit.monitor.streams import EXTRA_HINT, BrokerUnavailable, Message, batch_key

__all__ = ["NatsSource"]


def _client() -> Any:
    try:
        import nats
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError("reading NATS JetStream needs the `nats-py` package", hint=EXTRA_HINT) from exc
    return nats


class NatsSource:
    dedupe_ids = False

    def __init__(self, url: str, *, batch: int) -> None:
        _client()
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.subject = parts.path.strip("/")
        if not self.subject or "stream" not in query or "durable" not in query:
            raise InputError(
                f"{url!r} needs a subject, a stream and a durable consumer name",
                hint="nats://HOST:PORT/SUBJECT?stream=S&durable=D",
            )
        self.stream, self.durable = query["stream"], query["durable"]
        self.ack_wait = float(query.get("ack_wait", "30"))
        self.server = f"nats://{parts.hostname or '127.0.0.1'}:{parts.port or 4222}"
        self.name = f"{self.server}/{self.subject}?stream={self.stream}&durable={self.durable}"
        self.scope = f"nats:{self.stream}:{self.durable}"
        self._batch = batch
        self._loop = asyncio.new_event_loop()
        self._nc: Any = None
        self._sub: Any = None
        self._run(self._connect())

    def _run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)

    async def _connect(self) -> None:
        import nats
        from nats.js.api import AckPolicy, ConsumerConfig

        try:
            self._nc = await nats.connect(
                self.server, max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=5
            )
            js = self._nc.jetstream()
            config = ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self.ack_wait,
                max_ack_pending=max(1000, 4 * self._batch),
            )
            self._sub = await js.pull_subscribe(
                self.subject, durable=self.durable, stream=self.stream, config=config
            )
        except (OSError, nats.errors.Error) as exc:
            raise BrokerUnavailable(f"nats {self.name}: {exc}") from exc

    def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        return list(self._run(self._fetch(max_messages, timeout)))

    async def _fetch(self, max_messages: int, timeout: float) -> list[Message]:
        import nats

        try:
            got = await self._sub.fetch(batch=max_messages, timeout=max(timeout, 0.05))
        except (TimeoutError, nats.errors.TimeoutError):
            return []
        except nats.errors.Error as exc:
            raise BrokerUnavailable(f"nats {self.name}: {exc}") from exc
        out = []
        for m in got:
            meta = m.metadata
            seq = int(meta.sequence.stream)
            out.append(
                Message(
                    id=str(seq),
                    payload=bytes(m.data),
                    scope=self.scope,
                    position=seq,
                    recovered=int(meta.num_delivered) > 1,
                    handle=m,
                )
            )
        return out

    def ack(self, messages: list[Message]) -> None:
        self._run(self._ack(messages))

    async def _ack(self, messages: list[Message]) -> None:
        import nats

        try:
            for m in messages:
                if not m.handle._ackd:
                    await m.handle.ack()
            await self._nc.flush(timeout=5)
        except (TimeoutError, nats.errors.Error) as exc:
            for m in messages:  # send them all again once the connection is back
                m.handle._ackd = False
            raise BrokerUnavailable(f"nats {self.name}: acks not confirmed: {exc}") from exc

    def batch_key(self, messages: list[Message]) -> str | None:
        return batch_key(self.scope, messages)

    def close(self) -> None:
        try:
            if self._nc is not None:
                self._run(self._nc.close())
        finally:
            self._loop.close()
