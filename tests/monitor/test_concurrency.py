"""Several writers: two processes on one SQLite workspace, and racing threads on both backends.
The unique batch key is the arbiter; every row sent is counted once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import mlaudit

_WORKER = textwrap.dedent(
    """
    import sys
    import mlaudit

    where, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def rows(prefix, count):
        return [{"prediction_id": f"{prefix}-{j}", "a": 0.1, "b": j, "proba_1": 0.3} for j in range(count)]

    with mlaudit.open(where, create=False) as ws:
        for i in range(n):
            ws.predictions.log("credit@v1", rows(f"{name}-{i}", 200), batch_key=f"{name}-{i}")
            ws.predictions.log("credit@v1", rows(f"shared-{i}", 50), batch_key=f"shared-{i}")
    """
)


def test_two_processes_on_one_sqlite_workspace(mon: SimpleNamespace, tmp_path: Path) -> None:
    where = str(tmp_path / "ws")
    with mlaudit.open(where) as ws:
        mon.register(ws)
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, where, name, "15"], cwd=root, stderr=subprocess.PIPE)
        for name in ("one", "two")
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    with mlaudit.open(where, create=False) as ws:
        assert ws.predictions.count("credit") == 2 * 15 * 200 + 15 * 50
        assert len(ws.predictions.batches("credit")) == 2 * 15 + 15
        assert ws.predictions.scan("credit").num_rows == 2 * 15 * 200 + 15 * 50
        assert ws.ledger.verify().ok


def test_racing_threads_store_each_batch_key_once(
    mon: SimpleNamespace, workspace_target: dict[str, str]
) -> None:
    with mlaudit.open(**workspace_target) as ws:
        mon.register(ws)
    batches = {f"k{i}": mon.batch([f"k{i}-{j}" for j in range(100)], seed=i) for i in range(8)}

    def send(worker: int) -> list[bool]:
        with mlaudit.open(**workspace_target, create=False) as w:
            keys = sorted(batches, reverse=bool(worker % 2))
            return [w.predictions.log("credit@v1", batches[k], batch_key=k).created for k in keys]

    with ThreadPoolExecutor(4) as pool:
        created = [c for result in pool.map(send, range(4)) for c in result]
    assert created.count(True) == 8
    with mlaudit.open(**workspace_target, create=False) as ws:
        assert ws.predictions.count("credit") == 800
        assert len(ws.ledger.log(action="predictions.logged")) == 8
        assert ws.ledger.verify().ok
