"""MQTT source: ``mqtt://HOST:PORT/TOPIC?client_id=C`` (QoS 1, persistent session).

The client connects with a fixed client id and ``clean_session=False`` (MQTT 3.1.1), so the
broker keeps the subscription and queues QoS 1 messages while the consumer is away. paho-mqtt 2
runs with ``manual_ack=True``: a PUBACK is sent only after the message's batch is stored, so a
message stored-but-unacked is redelivered after a crash or reconnect. MQTT has no positions
and redelivered messages can arrive in other batches, so the loop skips prediction ids already
stored (read once from the log at start, then kept in memory). The broker bounds the messages
in flight per client (mosquitto ``max_inflight_messages``, default 20): set it at least to
``--batch``, and ``max_queued_messages`` high enough for the time the consumer may be down.
"""

from __future__ import annotations

import queue
import time
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from mlaudit.errors import InputError
from mlaudit.monitor.streams import EXTRA_HINT, BrokerUnavailable, Message

__all__ = ["MqttSource"]


def _client() -> Any:
    try:
        import paho.mqtt.client as mqtt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError("reading MQTT needs the `paho-mqtt` package (2.x)", hint=EXTRA_HINT) from exc
    return mqtt

_SUBSCRIBE_WAIT = 30.0  # seconds to wait for CONNACK + SUBACK


class MqttSource:
    dedupe_ids = True

    def __init__(self, url: str, *, batch: int) -> None:
        mqtt = _client()
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.topic = unquote(parts.path.lstrip("/"))
        if not self.topic or "client_id" not in query:
            raise InputError(
                f"{url!r} needs a topic and a fixed client id (the persistent session's name)",
                hint="mqtt://HOST:PORT/TOPIC?client_id=C",
            )
        self.client_id = query["client_id"]
        host, port = parts.hostname or "127.0.0.1", parts.port or 1883
        self.name = f"mqtt://{host}:{port}/{self.topic}?client_id={self.client_id}"
        self.scope = f"mqtt:{self.topic}:{self.client_id}"
        self._queue: queue.Queue[Any] = queue.Queue()
        self._connected = False
        self._session = 0
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if parts.username:
            self._client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
        self._client.max_inflight_messages_set(max(batch, 20))
        self._client.reconnect_delay_set(0.1, 2)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = lambda client, userdata, msg: self._queue.put((self._session, msg))
        try:
            self._client.connect(host, port, keepalive=30)
        except OSError as exc:
            raise BrokerUnavailable(f"mqtt {self.name}: {exc}") from exc
        self._client.loop_start()
        # 30 s: on a loaded machine a restarted consumer's CONNACK/SUBACK took over 10 s (CI)
        deadline = time.monotonic() + _SUBSCRIBE_WAIT
        while not self._connected:
            if time.monotonic() > deadline:
                self.close()
                raise BrokerUnavailable(f"mqtt {self.name}: not subscribed after {_SUBSCRIBE_WAIT:.0f} s")
            time.sleep(0.01)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if not reason.is_failure:
            self._session += 1  # packet ids restart with a connection: never ack across one
            client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, client: Any, userdata: Any, mid: Any, reasons: Any, properties: Any) -> None:
        self._connected = True

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._connected = False

    def fetch(self, max_messages: int, timeout: float) -> list[Message]:
        out: list[Message] = []
        try:
            first = self._queue.get(timeout=max(timeout, 0.001))
        except queue.Empty:
            return out
        items = [first]
        while len(items) < max_messages:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for session, m in items:
            out.append(
                Message(
                    id=f"{session}:{m.mid}",
                    payload=bytes(m.payload),
                    scope=self.scope,
                    recovered=False,
                    handle=(session, m),
                )
            )
        return out

    def ack(self, messages: list[Message]) -> None:
        # a message of a connection that dropped is not acked (its packet id may now name another
        # message): the broker redelivers it and the loop finds its prediction ids stored
        for m in messages:
            session, msg = m.handle
            if session == self._session:
                self._client.ack(msg.mid, msg.qos)

    def batch_key(self, messages: list[Message]) -> str | None:
        return None

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
