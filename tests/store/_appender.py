"""Child process for concurrency and crash tests: appends events and reports each commit.

usage: python _appender.py TARGET KEYFILE COUNT BATCH NAME
"""

from __future__ import annotations

import sys

import mlaudit


def main() -> None:
    target, key, count, batch, name = (
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        int(sys.argv[4]),
        sys.argv[5],
    )
    ws = mlaudit.open(target, create=False, signing_key=key, actor=name)
    done = 0
    while done < count:
        n = min(batch, count - done)
        if n == 1:
            ws.ledger.record("test.appended", f"writer:{name}", {"i": done, "writer": name})
        else:
            ws.ledger.record_batch(
                [
                    ("test.appended", f"writer:{name}", {"i": done + j, "writer": name})
                    for j in range(n)
                ]
            )
        done += n
        print(done, flush=True)
    ws.close()


if __name__ == "__main__":
    main()
