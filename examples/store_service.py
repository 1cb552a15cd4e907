"""A small calling service on callslots.store: a worker loop, a fake telephony
client and a webhook handler (docs/store.md, "The example service").

    python examples/store_service.py create  --store sqlite:///runs.db --customers 50
    python examples/store_service.py work    --store sqlite:///runs.db --until-idle
    python examples/store_service.py report  --store sqlite:///runs.db --telephony calls.db
    python examples/store_service.py stats   --store sqlite:///runs.db

The fake telephony client keeps every call it placed in its own SQLite file
(committed before ``dial`` returns), decides each call's outcome from the number
and the attempt, and queues the provider's webhooks (started, ended) there;
``deliver_webhooks`` plays the provider calling the service's web handler,
``handle_webhook``, which records them in the store from whatever process it
runs in.  With ``--clock virtual`` a worker polls each run at its next wake-up
instead of waiting for it, so a campaign of days runs in seconds.

Exit status of ``work``: 0 when done (``--until-idle``) or stopped, 75 when the
database stayed unreachable for ``--outage-seconds``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sqlite3
import sys
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from callslots import Dial
from callslots.instants import parse_iso
from callslots.store import LeaseLost, Run, Store, StoreError, StoreUnavailable, Worker

UTC = timezone.utc
#: Far enough ahead that every run with a wake-up is due (the virtual clock).
FAR = datetime(9000, 1, 1, tzinfo=UTC)
EX_TEMPFAIL = 75

#: A campaign for the example: two lines, a call every 60 s, two retries.
CAMPAIGN: dict[str, Any] = {
    "timezone": "America/New_York",
    "startDate": "2024-03-04",
    "endDate": "2024-03-08",
    "startTime": "09:00",
    "endTime": "17:00",
    "callIntervalSeconds": 60,
    "maxConcurrency": 2,
    "callRetries": 2,
    "retryDelaySeconds": 600,
}


def phones(count: int, run: int = 0) -> list[str]:
    """``count`` distinct numbers for run number ``run``."""
    return [f"+1212{run % 1000:03d}{i:04d}" for i in range(count)]


# -- the fake telephony client ----------------------------------------------------


class FakeTelephony:
    """Places calls (it only writes them down) and plays the provider's webhooks.

    Every dial is committed to its SQLite file before :meth:`dial` returns, so
    the file is the proof of what was dialed, whatever crashed afterwards."""

    OUTCOMES = ("Completed", "No Answer", "Busy", "Completed", "Voicemail", "Unreachable")

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, timeout=60, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a commit survives the process being killed, which
        # is what this log must prove (a real provider keeps its own records).
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS calls (
                id INTEGER PRIMARY KEY, run_id INTEGER, call_id TEXT, phone TEXT,
                attempt INTEGER, slot TEXT, started_at TEXT, ended_at TEXT, outcome TEXT);
            CREATE INDEX IF NOT EXISTS calls_by_id ON calls (run_id, call_id);
            CREATE TABLE IF NOT EXISTS webhooks (
                id INTEGER PRIMARY KEY, body TEXT, delivered INTEGER NOT NULL DEFAULT 0);
            """
        )

    def close(self) -> None:
        self.conn.close()

    @classmethod
    def outcome_of(cls, phone: str, attempt: int) -> tuple[str, int]:
        """The outcome and the length in seconds of a call (fixed by the number
        and the attempt, so every run of the example agrees)."""
        h = zlib.crc32(f"{phone}/{attempt}".encode())
        return cls.OUTCOMES[h % len(cls.OUTCOMES)], 20 + h % 70

    def dial(self, run_id: int, dial: Dial) -> None:
        """Place the call: written down, with its webhooks queued, in one commit."""
        outcome, seconds = self.outcome_of(dial.phone, dial.attempt)
        started = dial.at + timedelta(seconds=2)
        ended = dial.at + timedelta(seconds=seconds)
        hooks = [
            {"run": run_id, "call": dial.call_id, "event": "started", "at": started.isoformat()},
            {
                "run": run_id,
                "call": dial.call_id,
                "event": "ended",
                "outcome": outcome,
                "at": ended.isoformat(),
            },
        ]
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.execute(
                "INSERT INTO calls (run_id, call_id, phone, attempt, slot, started_at, ended_at, "
                "outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    dial.call_id,
                    dial.phone,
                    dial.attempt,
                    dial.at.isoformat(),
                    started.isoformat(),
                    ended.isoformat(),
                    outcome,
                ),
            )
            self.conn.executemany(
                "INSERT INTO webhooks (body) VALUES (?)", [(json.dumps(h),) for h in hooks]
            )

    def placed(self, run_id: int, call_id: str) -> datetime | None:
        """When the call started, if it was placed; None if it never was."""
        row = self.conn.execute(
            "SELECT started_at FROM calls WHERE run_id = ? AND call_id = ? ORDER BY id LIMIT 1",
            (run_id, call_id),
        ).fetchone()
        return None if row is None else parse_iso(row[0])

    def undelivered(self, limit: int = 200) -> list[tuple[int, dict[str, Any]]]:
        rows = self.conn.execute(
            "SELECT id, body FROM webhooks WHERE delivered = 0 ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
        return [(int(i), json.loads(b)) for i, b in rows]

    def mark_delivered(self, ids: Sequence[int]) -> None:
        with self.conn:
            self.conn.executemany(
                "UPDATE webhooks SET delivered = 1 WHERE id = ?", [(i,) for i in ids]
            )

    def calls(self) -> list[tuple[int, str, str, int]]:
        """Every call placed: (run, call id, phone, attempt), in order."""
        rows = self.conn.execute("SELECT run_id, call_id, phone, attempt FROM calls ORDER BY id")
        return [(int(r), c, p, int(a)) for r, c, p, a in rows]


# -- the web handler ------------------------------------------------------------------


def handle_webhook(store: Store, body: Mapping[str, Any]) -> tuple[int, str]:
    """A provider's webhook, as a web framework's handler would take it: the HTTP
    status and a message.  200 once the event is durable (a duplicate too)."""
    try:
        run_id, call_id, event = body["run"], str(body["call"]), body["event"]
        if event == "started":
            store.record_started(run_id, call_id, parse_iso(body["at"]))
        elif event == "ended":
            store.record_ended(run_id, call_id, body["outcome"], parse_iso(body["at"]))
        elif event == "not_started":
            store.record_not_started(run_id, call_id, str(body.get("reason", "")))
        else:
            return 400, f"unknown event {event!r}"
    except StoreUnavailable as error:
        return 503, str(error)  # the provider retries later
    except (KeyError, TypeError, ValueError, StoreError) as error:
        return 400, f"bad webhook: {error}"
    return 200, "ok"


def deliver_webhooks(
    store: Store,
    telephony: FakeTelephony,
    *,
    duplicate: bool = False,
    reverse: bool = False,
    limit: int = 200,
) -> int:
    """The provider calling the handler for every queued webhook (``reverse``:
    newest first, so ends come before starts; ``duplicate``: each one twice).
    A webhook is marked delivered only after a 200 (at least once)."""
    pending = telephony.undelivered(limit)
    if reverse:
        pending.reverse()
    done: list[int] = []
    for hook_id, body in pending:
        for _ in range(2 if duplicate else 1):
            status, message = handle_webhook(store, body)
            if status == 503:
                raise StoreUnavailable(message)
            if status != 200:
                print(json.dumps({"webhook_refused": body, "status": status, "message": message}))
        done.append(hook_id)
    if done:
        telephony.mark_delivered(done)
    return len(done)


# -- the worker ---------------------------------------------------------------------


def settle_in_doubt(run: Run, telephony: FakeTelephony) -> list[dict[str, Any]]:
    """Settle every Dial the run holds in doubt from the telephony log."""
    reported = []
    for dial in run.in_doubt():
        started = telephony.placed(run.id, dial.call_id)
        if started is not None:
            run.started(dial.call_id, started)  # its ended webhook is queued
        else:
            run.not_started(dial.call_id, "absent from the telephony log")
        reported.append(
            {
                "run": run.id,
                "call": dial.call_id,
                "phone": dial.phone,
                "placed": started is not None,
            }
        )
    return reported


def virtual_now(run: Run) -> datetime:
    """The virtual clock: the run's next wake-up, never before its last poll."""
    wakeup = run.next_wakeup()
    candidates = [t for t in (wakeup, run.last_now) if t is not None]
    return max(candidates) if candidates else datetime(1970, 1, 1, tzinfo=UTC)


def polled(
    worker: Worker,
    runs: list[Run],
    telephony: FakeTelephony,
    virtual: bool,
    batch: int,
    say: Any,
) -> Iterator[tuple[Run, list[Dial]]]:
    """Each due run with the Dials its poll handed out, its in-doubt Dials settled
    first: one ``run.poll`` a run, or (``batch``) ``worker.poll`` for the runs due
    at the same instant (a run left out lost its lease)."""
    if not batch:
        for run in runs:
            try:
                for record in settle_in_doubt(run, telephony):
                    say({"in_doubt": record})
                dials = run.poll(virtual_now(run) if virtual else None)
            except LeaseLost as error:
                say({"lease_lost": run.id, "message": str(error)})
                continue
            yield run, dials
        return
    ready: dict[datetime | None, list[Run]] = {}
    for run in runs:
        try:
            for record in settle_in_doubt(run, telephony):
                say({"in_doubt": record})
        except LeaseLost as error:
            say({"lease_lost": run.id, "message": str(error)})
            continue
        ready.setdefault(virtual_now(run) if virtual else None, []).append(run)
    for when, group in ready.items():
        done = worker.poll(group, when, batch=batch)
        for run in set(group) - {run for run, _ in done}:
            say({"lease_lost": run.id, "message": "left out of the batch"})
        yield from done


def work(
    store: Store,
    telephony: FakeTelephony,
    name: str = "worker",
    *,
    virtual: bool = True,
    until_idle: bool = True,
    deliver: bool = True,
    lease_seconds: float = 30.0,
    outage_seconds: float = 60.0,
    max_runs: int = 100,
    hold_seconds: float = 300.0,
    batch: int = 0,
    out: Any = None,
) -> int:
    """The worker loop; returns the exit status (0, or 75 after an outage).
    ``batch``: poll the due runs with ``worker.poll`` (group commit), that many
    runs a transaction, those due at the same instant together; 0: one
    ``run.poll`` a run."""
    out = out or sys.stdout

    def say(record: dict[str, Any]) -> None:
        print(json.dumps(record), file=out, flush=True)

    worker: Worker = store.worker(
        name, lease_seconds=lease_seconds, hold_seconds=hold_seconds, max_runs=max_runs
    )
    dialed = 0
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    outage_since: float | None = None
    while not stopping:
        try:
            runs = worker.due(FAR if virtual else None)
            outage_since = None
            for run, dials in polled(worker, runs, telephony, virtual, batch, say):
                try:
                    for dial in dials:
                        if not run.may_dial():
                            # Too late to place it safely: say so while the lease
                            # lasts; if it has run out, the next holder finds the
                            # Dial in doubt and settles it from the telephony log.
                            say({"not_dialed": dial.call_id, "run": run.id, "why": "lease"})
                            run.not_started(dial.call_id, "not placed: the lease was ending")
                            continue
                        telephony.dial(run.id, dial)
                        dialed += 1
                except LeaseLost as error:
                    say({"lease_lost": run.id, "message": str(error)})
            # The provider's webhooks, as a web process would receive them.
            delivered = deliver_webhooks(store, telephony) if deliver else 0
            if not runs and not delivered:
                # Idle: no run with a wake-up left (in virtual time; runs another
                # worker holds count, since they come free when its lease runs
                # out), or nothing due now (real time).
                if until_idle and (not virtual or worker.next_due(any_holder=True) is None):
                    break
                # PostgreSQL: woken at once by a webhook or a new run (NOTIFY);
                # SQLite: sleeps the whole interval
                worker.wait(0.05 if virtual else 0.5)
        except StoreUnavailable as error:
            worker.forget()
            now = time.monotonic()
            outage_since = outage_since or now
            if now - outage_since > outage_seconds:
                say({"exit": "database unavailable", "message": str(error)})
                return EX_TEMPFAIL
            say({"reconnecting": str(error)})
            time.sleep(0.5)
            with contextlib.suppress(StoreUnavailable):
                store.reconnect()
    with contextlib.suppress(StoreUnavailable):  # else the leases expire by themselves
        worker.release_all()
    say({"done": name, "dialed": dialed, "failed": worker.failed})
    return 0


def report(store: Store, telephony: FakeTelephony) -> dict[str, Any]:
    """Every run's totals (restored from the log) beside the telephony log."""
    runs = {}
    for run_id in store.run_ids():
        engine = store.inspect(run_id)
        s = engine.summary
        runs[run_id] = {
            "finished": engine.finished,
            "attempts": s.attempts,
            "reached": s.reached,
            "not_reached": s.not_reached,
            "unscheduled": s.unscheduled,
            "cancelled": s.cancelled,
            "pending": s.pending,
            "repeats": s.repeats,
            "expired": s.expired,
            "in_doubt": [d.call_id for d in engine.in_doubt()],
            "customers": store.info(run_id).customer_count,
        }
    calls = telephony.calls()
    return {
        "runs": runs,
        "calls": len(calls),
        "twice": len(calls) - len({(r, p, a) for r, _, p, a in calls}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["create", "work", "webhooks", "report", "stats"])
    parser.add_argument("--store", required=True, help="sqlite:///path.db or postgresql://...")
    parser.add_argument("--telephony", default="telephony.db", help="the fake telephony's file")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--name", default="worker")
    parser.add_argument("--clock", choices=["virtual", "real"], default="virtual")
    parser.add_argument("--until-idle", action="store_true")
    parser.add_argument(
        "--no-deliver", action="store_true", help="leave webhooks to another process"
    )
    parser.add_argument("--lease-seconds", type=float, default=30.0)
    parser.add_argument("--outage-seconds", type=float, default=60.0)
    parser.add_argument("--max-runs", type=int, default=100, help="the most runs a worker holds")
    parser.add_argument(
        "--hold-seconds", type=float, default=300.0, help="keep idle runs this long"
    )
    parser.add_argument("--snapshot-every", type=int, default=1000)
    parser.add_argument(
        "--batch", type=int, default=0, help="work: runs polled in one transaction (0: one a run)"
    )
    parser.add_argument("--duplicate", action="store_true", help="webhooks: deliver each twice")
    parser.add_argument("--reverse", action="store_true", help="webhooks: newest first")
    args = parser.parse_args(argv)
    try:
        store = Store.open(args.store, snapshot_every=args.snapshot_every)
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return EX_TEMPFAIL if isinstance(error, StoreUnavailable) else 2
    if args.command == "stats":  # the numbers an operator watches (docs/store.md)
        try:
            print(json.dumps(store.stats().as_dict(), indent=2, sort_keys=True))
        except StoreError as error:
            print(f"error: {error}", file=sys.stderr)
            return EX_TEMPFAIL if isinstance(error, StoreUnavailable) else 2
        finally:
            store.close()
        return 0
    if args.command == "create":
        try:
            for k in range(args.runs):
                run_id = store.create_run(CAMPAIGN, phones(args.customers, k), name=f"run {k}")
                print(json.dumps({"created": run_id}))
        finally:
            store.close()
        return 0
    telephony = FakeTelephony(args.telephony)
    try:
        if args.command == "work":
            return work(
                store,
                telephony,
                args.name,
                virtual=args.clock == "virtual",
                until_idle=args.until_idle,
                deliver=not args.no_deliver,
                lease_seconds=args.lease_seconds,
                outage_seconds=args.outage_seconds,
                max_runs=args.max_runs,
                hold_seconds=args.hold_seconds,
                batch=args.batch,
            )
        if args.command == "webhooks":
            total = 0
            while True:
                sent = deliver_webhooks(
                    store, telephony, duplicate=args.duplicate, reverse=args.reverse
                )
                total += sent
                if not sent:
                    break
            print(json.dumps({"delivered": total}))
            return 0
        print(json.dumps(report(store, telephony), indent=2))
        return 0
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return EX_TEMPFAIL if isinstance(error, StoreUnavailable) else 2
    finally:
        telephony.close()
        store.close()


if __name__ == "__main__":
    sys.exit(main())
