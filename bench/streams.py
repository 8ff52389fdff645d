"""Stream ingestion per broker: sustained rate and publish → stored latency.

For each broker (a private process on a free port, started from tests/monitor/broker_helpers.py):

1. **rate**: publish N records (one per message) first, then time ``consume`` draining the
   backlog into a fresh SQLite workspace (batch 1000, max wait 200 ms) → records/s.
2. **latency**: publish at a fixed rate R records/s for S seconds while ``consume`` runs
   (batch 500, max wait 100 ms); each record carries its send time (``_sent``, dropped before
   storing) and the loop notes ``stored - sent`` when its batch is committed → p50/p99.

    .venv/bin/python bench/streams.py [--records 50000] [--rate 2000] [--seconds 10] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "monitor"))

import broker_helpers as bh

import mlaudit
from mlaudit.monitor.streams import consume, count_distinct, open_source


def workspace(tmp: Path) -> Any:
    from sklearn.dummy import DummyClassifier

    ws = mlaudit.open(tmp / "ws")
    clf = DummyClassifier().fit(np.zeros((4, 2)), [0, 1, 0, 1])
    ws.models.register("credit", clf, features=["a", "b"])
    return ws


class Broker:
    """Per-broker: how to start it, publish to it and name it as a source."""

    def __init__(self, name: str, start: Callable[[Path], AbstractContextManager[bh.Broker]]) -> None:
        self.name, self.start = name, start

    def setup(self, port: int, tag: str) -> tuple[str, Callable[[list[bytes]], None]]:
        if self.name == "redis":
            return (
                f"redis://127.0.0.1:{port}/{tag}?group=g",
                lambda p: bh.publish_redis(port, tag, p),
            )
        if self.name == "nats":
            bh.publish_nats(port, tag, f"bench.{tag}", [])
            return (
                f"nats://127.0.0.1:{port}/bench.{tag}?stream={tag}&durable=d",
                lambda p: bh.publish_nats(port, tag, f"bench.{tag}", p, create=False),
            )
        if self.name == "mqtt":
            url = f"mqtt://127.0.0.1:{port}/bench/{tag}?client_id=c-{tag}"
            open_source(url, batch=1000).close()
            return url, MqttPublisher(port, f"bench/{tag}")
        return f"kafka://127.0.0.1:{port}/{tag}?group=g", lambda p: bh.publish_kafka(port, tag, p)


class MqttPublisher:
    """One connection for the whole run (a connection per tick would dominate the latency)."""

    def __init__(self, port: int, topic: str) -> None:
        import paho.mqtt.client as mqtt

        self.topic = topic
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{bh.suffix()}")
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def __call__(self, payloads: list[bytes]) -> None:
        for info in [self.client.publish(self.topic, p, qos=1) for p in payloads]:
            info.wait_for_publish(30)


BROKERS = [
    Broker("redis", bh.private_redis),
    Broker("nats", bh.private_nats),
    Broker("mqtt", bh.private_mosquitto),
    Broker("kafka", bh.private_tansu),
]


def payloads(n: int, prefix: str, sent: bool) -> Iterator[bytes]:
    for i in range(n):
        r = bh.record(i, prefix)
        if sent:
            r["_sent"] = time.time()
        yield orjson.dumps(r)


def rate(broker: Broker, n: int, tmp: Path) -> dict[str, Any]:
    with broker.start(tmp / "b") as b:
        ws = workspace(tmp)
        url, publish = broker.setup(b.port, f"R{bh.suffix()}")
        publish(list(payloads(n, "r", False)))
        source = open_source(url, batch=1000)
        t0 = time.perf_counter()
        stats = consume(
            ws, source, "credit@v1", batch=1000, max_wait_ms=200, stop_after=n, idle_stop_ms=20000
        )
        seconds = time.perf_counter() - t0
        rows, distinct = count_distinct(ws, "credit@v1")
        ws.close()
    return {
        "records": n,
        "seconds": seconds,
        "rate": n / seconds,
        "rows": rows,
        "distinct": distinct,
        "batches": stats.batches,
    }


def latency(broker: Broker, per_second: int, seconds: float, tmp: Path) -> dict[str, Any]:
    with broker.start(tmp / "b") as b:
        ws = workspace(tmp)
        url, publish = broker.setup(b.port, f"L{bh.suffix()}")
        n = int(per_second * seconds)
        tick = 0.05
        per_tick = max(1, int(per_second * tick))

        def producer() -> None:
            start = time.perf_counter()
            for k, i in enumerate(range(0, n, per_tick)):
                chunk = [bh.record(j, "l") | {"_sent": time.time()} for j in range(i, min(i + per_tick, n))]
                publish([orjson.dumps(r) for r in chunk])
                pause = start + (k + 1) * tick - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)

        thread = threading.Thread(target=producer)
        source = open_source(url, batch=500)
        thread.start()
        stats = consume(ws, source, "credit@v1", batch=500, max_wait_ms=100, stop_after=n, idle_stop_ms=20000)
        thread.join()
        ws.close()
    ms = np.array(stats.latencies) * 1000
    return {"records": len(ms), "p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50000)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--brokers", default="redis,nats,mqtt,kafka")
    parser.add_argument("--out", default="/tmp/bench-streams.md")
    args = parser.parse_args()
    lines = [
        "# Stream ingestion (bench/streams.py)",
        "",
        f"Command: `.venv/bin/python bench/streams.py --records {args.records} --rate {args.rate} "
        f"--seconds {args.seconds} --brokers {args.brokers}`",
        "",
        "Private broker processes on 127.0.0.1, SQLite workspace, 1 record per message, one consumer.",
        f"Rate: drain a backlog of {args.records:,} records (batch 1000, max wait 200 ms). "
        f"Latency: publish {args.rate:,} records/s for {args.seconds:g} s while consuming "
        "(batch 500, max wait 100 ms); publish → batch committed.",
        "",
        "| broker | records/s (backlog) | stored rows = distinct | latency p50 ms | latency p99 ms |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    for broker in BROKERS:
        if broker.name not in args.brokers.split(","):
            continue
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            r = rate(broker, args.records, Path(a))
            lat = latency(broker, args.rate, args.seconds, Path(b))
        same = f"{r['rows']:,} = {r['distinct']:,}"
        row = f"| {broker.name} | {r['rate']:,.0f} | {same} | {lat['p50']:.0f} | {lat['p99']:.0f} |"
        print(row, flush=True)
        lines.append(row)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
