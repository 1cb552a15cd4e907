"""A worker process of the example service for the fault tests, which can kill
itself (SIGKILL, no clean-up of any kind) at a chosen point of its work:

* ``after_store``: a poll's Dials are logged (committed) and not dialed yet;
* ``after_dial``: the telephony client placed a call, whose started/ended were
  not recorded yet;
* ``in_snapshot``: inside the transaction that writes a snapshot, after the
  snapshot row was written and before the commit;
* ``stall``: not killed, but stopped for ``STALL_SECONDS`` (longer than the
  tests' leases) right after the Nth poll that handed out Dials;
* ``after_batch``: a batch of polls (``--batch``) committed its Dials, none
  dialed yet;
* ``in_batch``: inside a batch's transaction, its statements sent and not
  committed.

    python tests/store_child.py POINT N -- <arguments of examples/store_service.py work>
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

import store_service  # noqa: E402

from callslots.store import _db  # noqa: E402
from callslots.store.store import Run, Worker, _Writes  # noqa: E402

STALL_SECONDS = 2.2


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str, after: int) -> None:
    seen = [0]

    def count() -> bool:
        seen[0] += 1
        return seen[0] >= after

    if point == "after_store":
        poll = Run.poll

        def polled(self: Run, now: Any = None) -> Any:
            dials = poll(self, now)
            if dials and count():
                die()
            return dials

        Run.poll = polled  # type: ignore[method-assign]
    elif point == "after_dial":
        dial = store_service.FakeTelephony.dial

        def dialed(self: Any, run_id: int, d: Any) -> None:
            dial(self, run_id, d)
            if count():
                die()

        store_service.FakeTelephony.dial = dialed  # type: ignore[method-assign]
    elif point == "in_snapshot":
        for cls in (_db.SQLite, _db.Postgres):
            execute = cls.execute

            def executed(self: Any, sql: str, params: Any = (), _execute: Any = execute) -> Any:
                rows = _execute(self, sql, params)
                if sql.startswith("INSERT INTO callslots_snapshots") and count():
                    die()
                return rows

            cls.execute = executed  # type: ignore[method-assign]
    elif point == "stall":
        # The process stops for longer than its lease right after a poll stored
        # its Dials (a long GC pause, a stopped VM): other workers take its runs.
        poll_ = Run.poll

        def stalled(self: Run, now: Any = None) -> Any:
            dials = poll_(self, now)
            if dials:
                seen[0] += 1
                if seen[0] == after:
                    time.sleep(STALL_SECONDS)
            return dials

        Run.poll = stalled  # type: ignore[method-assign]
    elif point == "after_batch":
        batch = Worker.poll

        def batched(self: Worker, runs: Any, now: Any = None, **options: Any) -> Any:
            done = batch(self, runs, now, **options)
            if any(dials for _, dials in done) and count():
                die()
            return done

        Worker.poll = batched  # type: ignore[method-assign]
    elif point == "in_batch":
        flush = _Writes.flush

        def flushed(self: _Writes) -> None:
            several = len(self.logged) > 1  # a batch's (one write logs one row)
            flush(self)
            if several and count():
                die()

        _Writes.flush = flushed  # type: ignore[method-assign]
    elif point != "none":
        raise SystemExit(f"unknown crash point {point!r}")


if __name__ == "__main__":
    point, after = sys.argv[1], int(sys.argv[2])
    arm(point, after)
    sys.exit(store_service.main(["work", *sys.argv[4:]]))
