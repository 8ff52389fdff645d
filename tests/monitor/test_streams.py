"""`mlaudit stream consume` against real brokers: valid records stored once, invalid ones in the
dead-letter store with their reason, acks/offsets committed (nothing left to redeliver)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from broker_helpers import (
    BAD,
    delete_nats_stream,
    messages,
    private_mosquitto,
    private_tansu,
    publish_kafka,
    publish_mqtt,
    publish_nats,
    publish_redis,
    require_port,
    suffix,
)

import mlaudit
from mlaudit.cli import main
from mlaudit.monitor.streams import consume, count_distinct, list_dead_letters, open_source

N = 1000  # valid records; plus 2 valid ones inside the mixed message of BAD


@pytest.fixture
def ws(tmp_path: Path, mon: Any) -> Iterator[mlaudit.Workspace]:
    with mlaudit.open(tmp_path / "ws") as w:
        mon.register(w)
        yield w


def check_stored(ws: mlaudit.Workspace, source: str, *, stats: Any) -> None:
    rows, distinct = count_distinct(ws, "credit@v1")
    assert (rows, distinct) == (N + 1, N + 1), stats  # the good half of the mixed message is kept
    letters = list_dead_letters(ws, source=source)
    reasons = sorted(d.reason for d in letters)
    assert len(letters) == 4, reasons
    assert any("not JSON" in r for r in reasons)
    assert any("outside [0, 1]" in r for r in reasons)
    assert any("missing value(s) for a" in r for r in reasons)
    assert any("proba_1" in r for r in reasons)  # NaN is sent as null by JSON


def payloads() -> list[bytes]:
    good = messages(N, per_message=10)
    return good[:50] + BAD + good[50:]


# --- Redis Streams ------------------------------------------------------------------------------


def test_redis_stream(ws: mlaudit.Workspace) -> None:
    require_port("Redis", 6379)
    import redis

    stream, group = f"mlaudit-test-{suffix()}", "g"
    r = redis.Redis(port=6379)
    try:
        publish_redis(6379, stream, payloads())
        url = f"redis://127.0.0.1:6379/{stream}?group={group}"
        stats = consume(
            ws, open_source(url, batch=20), "credit@v1", batch=20, max_wait_ms=50, idle_stop_ms=500
        )
        check_stored(ws, stats.source, stats=stats)
        assert r.xpending(stream, group)["pending"] == 0  # everything acked
        info = r.xinfo_groups(stream)[0]
        assert info["lag"] == 0
        # consuming again stores nothing
        again = consume(ws, open_source(url, batch=20), "credit@v1", idle_stop_ms=300)
        assert again.messages == 0
        assert count_distinct(ws, "credit@v1") == (N + 1, N + 1)
    finally:
        r.delete(stream)
        r.close()


def test_redis_pending_batch_is_recognised(ws: mlaudit.Workspace) -> None:
    """Stored but not acked (the consumer died): the pending entries come back as the same batch."""
    require_port("Redis", 6379)
    import redis

    stream = f"mlaudit-test-{suffix()}"
    r = redis.Redis(port=6379)
    try:
        publish_redis(6379, stream, messages(30))
        url = f"redis://127.0.0.1:6379/{stream}?group=g"
        source = open_source(url, batch=10)
        source.ack = lambda messages: None  # type: ignore[method-assign]  # die before acking
        consume(ws, source, "credit@v1", batch=10, max_wait_ms=50, stop_after=10)
        assert r.xpending(stream, "g")["pending"] == 10
        stats = consume(ws, open_source(url, batch=7), "credit@v1", batch=7, idle_stop_ms=300)
        assert stats.already_stored == 10 and stats.stored == 20, stats
        assert count_distinct(ws, "credit@v1") == (30, 30)
        assert r.xpending(stream, "g")["pending"] == 0
    finally:
        r.delete(stream)
        r.close()


def test_redis_claims_a_dead_consumers_entries(ws: mlaudit.Workspace) -> None:
    require_port("Redis", 6379)
    import redis

    stream = f"mlaudit-test-{suffix()}"
    r = redis.Redis(port=6379)
    try:
        publish_redis(6379, stream, messages(12))
        r.xgroup_create(stream, "g", id="0")
        r.xreadgroup("g", "dead", {stream: ">"}, count=5)  # never acked
        url = f"redis://127.0.0.1:6379/{stream}?group=g&consumer=alive&claim_idle_ms=1"
        stats = consume(ws, open_source(url, batch=50), "credit@v1", max_wait_ms=50, idle_stop_ms=500)
        assert stats.stored == 12, stats
        assert r.xpending(stream, "g")["pending"] == 0
    finally:
        r.delete(stream)
        r.close()


# --- NATS JetStream -----------------------------------------------------------------------------


def test_nats_jetstream(ws: mlaudit.Workspace) -> None:
    require_port("NATS", 4222)
    name = f"MLAUDIT_{suffix()}"
    subject = f"mlaudit.test.{name}"
    publish_nats(4222, name, subject, payloads())
    try:
        url = f"nats://127.0.0.1:4222/{subject}?stream={name}&durable=d"
        stats = consume(
            ws, open_source(url, batch=20), "credit@v1", batch=20, max_wait_ms=50, idle_stop_ms=800
        )
        check_stored(ws, stats.source, stats=stats)
        assert _nats_pending(name, "d") == (0, 0)
    finally:
        delete_nats_stream(4222, name)


def test_nats_redelivery_after_ack_wait(ws: mlaudit.Workspace) -> None:
    require_port("NATS", 4222)
    name = f"MLAUDIT_{suffix()}"
    subject = f"mlaudit.test.{name}"
    publish_nats(4222, name, subject, messages(30))
    try:
        url = f"nats://127.0.0.1:4222/{subject}?stream={name}&durable=d&ack_wait=1"
        source = open_source(url, batch=10)
        source.ack = lambda messages: None  # type: ignore[method-assign]
        consume(ws, source, "credit@v1", batch=10, max_wait_ms=50, stop_after=10)
        stats = consume(
            ws, open_source(url, batch=4), "credit@v1", batch=4, max_wait_ms=50, idle_stop_ms=2500
        )
        assert stats.already_stored == 10 and stats.stored == 20, stats
        assert count_distinct(ws, "credit@v1") == (30, 30)
    finally:
        delete_nats_stream(4222, name)


def _nats_pending(stream: str, durable: str) -> tuple[int, int]:
    import asyncio

    import nats

    async def go() -> tuple[int, int]:
        nc = await nats.connect("nats://127.0.0.1:4222")
        info = await nc.jetstream().consumer_info(stream, durable)
        await nc.close()
        return int(info.num_pending), int(info.num_ack_pending)

    return asyncio.run(go())


# --- MQTT ---------------------------------------------------------------------------------------


def test_mqtt(ws: mlaudit.Workspace, tmp_path: Path) -> None:
    with private_mosquitto(tmp_path / "mqtt") as broker:
        topic, client = f"mlaudit/test/{suffix()}", f"mlaudit-{suffix()}"
        url = f"mqtt://127.0.0.1:{broker.port}/{topic}?client_id={client}"
        open_source(url, batch=20).close()  # subscribe: the session keeps what comes next
        publish_mqtt(broker.port, topic, payloads())
        stats = consume(
            ws, open_source(url, batch=20), "credit@v1", batch=20, max_wait_ms=50, idle_stop_ms=800
        )
        check_stored(ws, stats.source, stats=stats)
        again = consume(ws, open_source(url, batch=20), "credit@v1", idle_stop_ms=500)
        assert again.messages == 0  # all acked: nothing redelivered to the persistent session


# --- Kafka protocol (tansu) ---------------------------------------------------------------------


def test_kafka(ws: mlaudit.Workspace, tmp_path: Path) -> None:
    with private_tansu(tmp_path / "kafka") as broker:
        topic = f"mlaudit-test-{suffix()}"
        publish_kafka(broker.port, topic, payloads())
        url = f"kafka://127.0.0.1:{broker.port}/{topic}?group=g"
        stats = consume(
            ws, open_source(url, batch=20), "credit@v1", batch=20, max_wait_ms=50, idle_stop_ms=6000
        )
        check_stored(ws, stats.source, stats=stats)
        again = consume(ws, open_source(url, batch=20), "credit@v1", idle_stop_ms=6000)
        assert again.messages == 0  # offsets committed


# --- the command line ---------------------------------------------------------------------------


def test_cli_consume_and_dead_letters(
    ws: mlaudit.Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    require_port("Redis", 6379)
    import redis

    stream = f"mlaudit-test-{suffix()}"
    publish_redis(6379, stream, [*messages(25), BAD[0]])
    try:
        target = str(tmp_path / "ws")
        url = f"redis://127.0.0.1:6379/{stream}?group=cli"
        argv = ["stream", "consume", url, "--model", "credit@v1", "--batch", "10", "--stop-after", "26"]
        assert main([*argv, "--workspace", target, "--json"]) == 0
        stats = orjson.loads(capsys.readouterr().out)
        assert stats["stored"] == 25 and stats["dead_letters"] == 1 and stats["messages"] == 26
        assert main(["stream", "dead-letters", "--workspace", target, "--json"]) == 0
        letters = orjson.loads(capsys.readouterr().out)
        assert [d["payload"] for d in letters] == ["{not json"]
        label_stream = stream + "-labels"
        labels = [orjson.dumps({"prediction_id": f"p{i}", "label": i % 2}) for i in range(5)]
        publish_redis(6379, label_stream, labels)
        url = f"redis://127.0.0.1:6379/{label_stream}?group=cli"
        argv = ["stream", "consume", url, "--model", "credit", "--labels", "--stop-after", "5"]
        assert main([*argv, "--workspace", target]) == 0
        assert ws.predictions.summary("credit").labelled == 5
    finally:
        r = redis.Redis(port=6379)
        r.delete(stream, stream + "-labels")
        r.close()


def test_sigterm_finishes_the_batch_and_exits(ws: mlaudit.Workspace, tmp_path: Path) -> None:
    """SIGTERM while consuming: the command stops cleanly (exit 0) and prints what it did."""
    require_port("Redis", 6379)
    import signal
    import subprocess
    import sys
    import time

    import redis

    stream = f"mlaudit-test-{suffix()}"
    publish_redis(6379, stream, messages(50))
    argv = [sys.executable, "-c", "from mlaudit.cli import main; main()", "stream", "consume"]
    argv += [f"redis://127.0.0.1:6379/{stream}?group=g", "--model", "credit@v1", "--json"]
    proc = subprocess.Popen([*argv, "--workspace", str(tmp_path / "ws")], stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while ws.predictions.count("credit@v1") < 50:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0
        assert orjson.loads(out)["stored"] == 50
    finally:
        if proc.poll() is None:
            proc.kill()
        r = redis.Redis(port=6379)
        r.delete(stream)
        r.close()


def test_records_of_other_shapes_in_one_batch(ws: mlaudit.Workspace) -> None:
    """A record without `time` (or with an extra column) next to full ones is stored, not refused."""
    require_port("Redis", 6379)
    import redis
    from broker_helpers import record

    stream = f"mlaudit-test-{suffix()}"
    no_time = {k: v for k, v in record(1).items() if k != "time"}
    shaped = [record(0), no_time, record(2) | {"segment": "north"}, record(3)]
    publish_redis(6379, stream, [orjson.dumps(r) for r in shaped])
    try:
        url = f"redis://127.0.0.1:6379/{stream}?group=g"
        stats = consume(ws, open_source(url, batch=10), "credit@v1", max_wait_ms=50, idle_stop_ms=300)
        assert stats.stored == 4 and stats.dead_letters == 0, stats
        assert count_distinct(ws, "credit@v1") == (4, 4)
        assert len(ws.predictions.batches("credit@v1")) == 3
    finally:
        r = redis.Redis(port=6379)
        r.delete(stream)
        r.close()
