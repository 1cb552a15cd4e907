"""How soon a freed line is dialed again: PostgreSQL LISTEN/NOTIFY against a polling
interval (benchmarks/README.md, "Workers woken by the database").

    python -m benchmarks.store_wakeup                # 80 calls per mode, about a minute
    python -m benchmarks.store_wakeup --quick        # a few calls: the code still works

One run with one line (``maxConcurrency`` 1) and a slot every 60 virtual seconds, on
a scaled virtual clock (virtual time = 14:00 + wall seconds x ``speed``).  A worker
thread loops on ``due()``/``poll()``; between rounds it either sleeps ``interval``
seconds (``interval`` mode: what a worker without notifications does) or calls
``worker.wait(interval)`` (``notify`` mode: woken by the webhook's NOTIFY).  A
"web" thread answers each Dial 1.5 slots later (wall time) with ``record_started`` and
``record_ended`` on its own connection; the call ended 2 virtual seconds after its
slot, so the slot that holds the virtual now is free as soon as the webhook is
applied: the delay is the worker's reaction alone.  Between
rounds the worker sleeps until the next wake-up (``next_due``), at most ``interval``.
Measured:
the wall time from ``record_ended`` returning to the worker's ``poll`` returning the
next Dial (p50, p99, max).  Nothing else is timed.
"""

from __future__ import annotations

import argparse
import json
import queue
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

UTC = timezone.utc
START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
FAR = datetime(9000, 1, 1, tzinfo=UTC)
CAMPAIGN: dict[str, Any] = {
    "timezone": "UTC",
    "startDate": "2024-03-04",
    "endDate": "2024-03-05",
    "startTime": "00:00",
    "endTime": "23:59",
    "callIntervalSeconds": 60,
    "maxConcurrency": 1,
    "callRetries": 0,
    "retryDelaySeconds": 60,
    "maxCallSeconds": 86400,
}


def measure(url: str, mode: str, calls: int, interval: float, speed: float) -> dict[str, Any]:
    from callslots.store import Store

    store = Store.open(url)
    web = Store.open(url)
    run_id = store.create_run(CAMPAIGN, [f"+1212555{i:04d}" for i in range(calls + 1)])
    wall0 = time.monotonic()

    def virtual() -> datetime:
        return START + timedelta(seconds=(time.monotonic() - wall0) * speed)

    dials: queue.Queue[Any] = queue.Queue()
    ended_at: list[float] = []
    delays: list[float] = []

    def answer() -> None:
        for _ in range(calls):
            dial = dials.get()
            # busy for 1.5 slots of virtual time: the next slot passes meanwhile
            time.sleep(90 / speed)
            # the call ended 2 s after its slot (virtual time): the webhook comes
            # late, and the slot that holds the virtual now is free for the next dial
            web.record_started(run_id, dial.call_id, dial.at + timedelta(seconds=1))
            web.record_ended(run_id, dial.call_id, "Completed", dial.at + timedelta(seconds=2))
            ended_at.append(time.perf_counter())

    answering = threading.Thread(target=answer)
    answering.start()
    worker = store.worker("w", hold_seconds=10**9)
    worker.wait(0)  # notify mode: start listening before the first call
    handed = 0
    while handed <= calls:
        for run in worker.due(FAR):
            for dial in run.poll(max(virtual(), run.last_now or START)):
                if handed:
                    delays.append(time.perf_counter() - ended_at[handed - 1])
                handed += 1
                if handed <= calls:
                    dials.put(dial)
        if handed > calls:
            break
        # sleep until the next wake-up (a slot), at most `interval` (in which a
        # webhook may free the line)
        due = worker.next_due()
        pause = interval
        if due is not None:
            pause = min(interval, max(0.0, (due - virtual()).total_seconds() / speed))
        if mode == "notify":
            worker.wait(pause)
        else:
            time.sleep(pause)
    answering.join()
    worker.close()
    store.close()
    web.close()
    ordered = sorted(delays)
    return {
        "mode": mode,
        "interval_s": interval,
        "calls": len(delays),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=80)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--speed", type=float, default=600.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    calls = 5 if args.quick else args.calls
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from store_support import PostgresServer

    server = PostgresServer(fsync=True)  # durable commits, as in production
    try:
        rows = [
            measure(server.new_database(), mode, calls, args.interval, args.speed)
            for mode in ("interval", "notify")
        ]
    finally:
        server.close()
    print("| worker sleeps | calls | p50 | p99 | max |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        how = (
            f"`time.sleep({row['interval_s']})`"
            if row["mode"] == "interval"
            else f"`worker.wait({row['interval_s']})`"
        )
        print(f"| {how} | {row['calls']} | {row['p50_ms']} ms | {row['p99_ms']} ms | "
              f"{row['max_ms']} ms |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
