"""Kafka-protocol source: ``kafka://HOST:PORT/TOPIC?group=G`` (confluent-kafka consumer group).

``enable.auto.commit=false``: offsets (last + 1 per partition) are committed synchronously
after the batch is stored. After a crash or a rebalance a partition resumes at its committed
offset; the key ``kafka:<topic>:<partition>:<first>-<last>:<count>`` of a stored gap-free offset
range lets the loop recognise re-read messages as stored, whatever batch they come back in.
A new group starts at the earliest offset. ``session.timeout.ms=6000`` and
``heartbeat.interval.ms=1000`` keep group joins short.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from mlaudit.errors import InputError
from mlaudit.monitor.streams import EXTRA_HINT, BrokerUnavailable, Message, batch_key

__all__ = ["KafkaSource"]


def _client() -> Any:
    try:
        import confluent_kafka
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError("reading Kafka needs the `confluent-kafka` package", hint=EXTRA_HINT) from exc
    return confluent_kafka


class KafkaSource:
    dedupe_ids = False

    def __init__(self, url: str, *, batch: int) -> None:
        ck = _client()
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.topic = parts.path.strip("/")
        if not self.topic or "group" not in query:
            raise InputError(f"{url!r} needs a topic and a group", hint="kafka://HOST:PORT/TOPIC?group=G")
        self.group = query["group"]
        server = f"{parts.hostname or '127.0.0.1'}:{parts.port or 9092}"
        self.name = f"kafka://{server}/{self.topic}?group={self.group}"
        self._ck = ck
        self._consumer = ck.Consumer(
            {
                "bootstrap.servers": server,
                "group.id": self.group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
                "heartbeat.interval.ms": 1000,
                "enable.partition.eof": False,
            }
        )
        self._consumer.subscribe([self.topic])

    def _scope(self, partition: int) -> str:
        return f"kafka:{self.topic}:{partition}"

    def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        try:
            got = self._consumer.consume(num_messages=max_messages, timeout=max(timeout, 0.01))
        except self._ck.KafkaException as exc:
            raise BrokerUnavailable(f"kafka {self.name}: {exc}") from exc
        out = []
        for m in got:
            error = m.error()
            if error is not None:
                if error.code() == self._ck.KafkaError._PARTITION_EOF:
                    continue
                if error.retriable() or error.code() == self._ck.KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise BrokerUnavailable(f"kafka {self.name}: {error}")
                raise InputError(f"kafka {self.name}: {error}")
            out.append(
                Message(
                    id=f"{m.partition()}:{m.offset()}",
                    payload=bytes(m.value() or b""),
                    scope=self._scope(m.partition()),
                    position=m.offset(),
                    handle=(m.partition(), m.offset()),
                )
            )
        return out

    def ack(self, messages: list[Message]) -> None:
        last: dict[int, int] = {}
        for m in messages:
            partition, offset = m.handle
            last[partition] = max(offset, last.get(partition, -1))
        offsets = [self._ck.TopicPartition(self.topic, p, o + 1) for p, o in last.items()]
        if not offsets:
            return
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except self._ck.KafkaException as exc:
            raise BrokerUnavailable(f"kafka {self.name}: commit failed: {exc}") from exc

    def batch_key(self, messages: list[Message]) -> str | None:
        scopes = {m.scope for m in messages}
        if len(scopes) == 1:
            return batch_key(scopes.pop(), messages)
        return None  # split per partition by the loop

    def close(self) -> None:
        self._consumer.close()
