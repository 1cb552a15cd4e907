"""Faults with real processes: workers killed with SIGKILL at chosen and at random
points, workers racing for the same runs, webhooks from another process while
nobody holds the run, and PostgreSQL restarted under a running worker.

After each, the store and the fake telephony log (committed before each dial
returns) must agree: every customer accounted for exactly once, no number dialed
twice for the same attempt, every placed call ended once, the lease generation
never going back along a run's log, and the Dials held in doubt reported."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from callslots.store import Store
from store_support import EXAMPLES, ROOT, PostgresServer, postgres_server, start_postgres, store_url

sys.path.insert(0, str(EXAMPLES))
import store_service

__all__ = ["postgres_server", "store_url"]

CHILD = str(Path(__file__).resolve().parent / "store_child.py")
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
}
RUNS, CUSTOMERS = 3, 20
LEASE = "1.5"


def hooks_command(url: str, telephony: Path) -> list[str]:
    """The command that delivers the provider's queued webhooks."""
    return [sys.executable, str(EXAMPLES / "store_service.py"), "webhooks", "--store", url,
            "--telephony", str(telephony)]  # fmt: skip


def create(url: str, runs: int = RUNS, customers: int = CUSTOMERS) -> list[int]:
    store = Store.open(url)
    ids = [
        store.create_run(store_service.CAMPAIGN, store_service.phones(customers, k))
        for k in range(runs)
    ]
    store.close()
    return ids


def worker(
    url: str,
    telephony: Path,
    name: str,
    point: str = "none",
    after: int = 1,
    *extra: str,
) -> subprocess.Popen[str]:
    command = [sys.executable, CHILD, point, str(after), "--", "--store", url,
               "--telephony", str(telephony), "--name", name, "--until-idle",
               "--lease-seconds", LEASE, "--snapshot-every", "4", *extra]  # fmt: skip
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
    )


def finish(
    process: subprocess.Popen[str], timeout: float = 120
) -> tuple[int, list[dict[str, Any]]]:
    out, err = process.communicate(timeout=timeout)
    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert "Traceback" not in err, err
    return process.returncode, records


def check(url: str, telephony: Path, runs: list[int], customers: int = CUSTOMERS) -> dict[str, Any]:
    """Everything accounted for, nothing rung twice; returns the report."""
    store = Store.open(url)
    phone = store_service.FakeTelephony(str(telephony))
    try:
        result = store_service.report(store, phone)
        calls = phone.calls()
        assert result["twice"] == 0, "a number was dialed twice for the same attempt"
        assert len({(r, c) for r, c, _, _ in calls}) == len(calls), "a Dial was placed twice"
        for run_id in runs:
            totals = result["runs"][run_id]
            assert totals["finished"] and totals["pending"] == 0, totals
            assert totals["in_doubt"] == []
            accounted = ("reached", "not_reached", "unscheduled", "cancelled")
            assert sum(totals[k] for k in accounted) == customers, totals
            placed = [c for c in calls if c[0] == run_id]
            assert totals["attempts"] == len(placed), (totals, len(placed))
            handed: dict[str, tuple[int, int]] = {}
            leases = []
            for event in store.events(run_id):
                if event.kind == "poll":
                    leases.append(event.body["lease"])
                    for call_id, index, attempt in event.body["dials"]:
                        handed[call_id] = (index, attempt)
            assert leases == sorted(leases), "an older lease wrote after a newer one"
            numbers = store_service.phones(customers, runs.index(run_id))
            for _, call_id, number, attempt in placed:
                index, logged = handed[call_id]  # every placed call was logged first
                assert (numbers[index], logged) == (number, attempt)
        return result
    finally:
        phone.close()
        store.close()


def killed_and_recovered(
    store_url: str, telephony: Path, point: str, after: int, *flags: str
) -> list[dict[str, Any]]:
    """A worker killed with SIGKILL at ``point``; an heir that settles what it
    finds in doubt from the telephony log alone (the provider's webhooks for the
    calls placed before the crash are held back until it is done, and delivered
    afterwards, late); a last worker to the end.  The heir's in-doubt records."""
    code, _ = finish(worker(store_url, telephony, "doomed", point, after, *flags))
    assert code == -signal.SIGKILL
    code, records = finish(worker(store_url, telephony, "heir", "none", 1, "--no-deliver", *flags))
    assert code == 0, records
    subprocess.run(hooks_command(store_url, telephony), env=ENV, check=True, capture_output=True)
    assert finish(worker(store_url, telephony, "last", "none", 1, *flags))[0] == 0
    return [r["in_doubt"] for r in records if "in_doubt" in r]


@pytest.mark.parametrize(
    ("point", "after", "placed"),
    [("after_store", 3, False), ("after_dial", 5, True), ("in_snapshot", 2, None)],
)
def test_a_worker_killed_at_a_point_loses_nothing(
    store_url: str, tmp_path: Path, point: str, after: int, placed: bool | None
) -> None:
    runs = create(store_url)
    telephony = tmp_path / "calls.db"
    doubts = killed_and_recovered(store_url, telephony, point, after)
    if placed is None:
        # killed inside a snapshot's transaction: none of it committed (the Dials
        # of that poll were never returned, so never dialed); the runs' rows and
        # their snapshots agree
        store = Store.open(store_url)
        for run_id in runs:
            info = store.info(run_id)
            kept = store.db.execute(
                "SELECT position FROM callslots_snapshots WHERE run_id = ?", (run_id,)
            )
            assert kept == [(info.snapshot_position,)]
        store.close()
    else:
        # the Dial the worker died on is in doubt, settled from the telephony
        # log (others may be too: placed calls whose webhooks were not delivered)
        assert any(d["placed"] is placed for d in doubts), doubts
    check(store_url, telephony, runs)


@pytest.mark.parametrize(
    ("point", "after", "placed"),
    [("after_batch", 2, False), ("in_batch", 2, None), ("after_dial", 5, True)],
)
def test_a_worker_polling_in_batches_killed_at_a_point_loses_nothing(
    store_url: str, tmp_path: Path, point: str, after: int, placed: bool | None
) -> None:
    """Group commit (worker.poll, --batch): killed after a batch committed and
    before any of its Dials was placed, inside a batch's transaction (none of it
    commits), and after a call was placed; the heir settles from the telephony
    log, and everything is accounted for with nothing rung twice."""
    runs = create(store_url, runs=4)
    telephony = tmp_path / "calls.db"
    doubts = killed_and_recovered(store_url, telephony, point, after, "--batch", "3")
    if placed is not None:
        assert any(d["placed"] is placed for d in doubts), doubts
    check(store_url, telephony, runs)


def test_workers_killed_at_random_moments_lose_nothing(store_url: str, tmp_path: Path) -> None:
    runs = create(store_url, customers=60)
    telephony = tmp_path / "calls.db"
    chance = random.Random(13)
    killed = 0
    for k in range(6):
        # a random point of the work, at a random count; the last ones by a timer
        # from outside, once the dead worker's leases have run out
        point = chance.choice(["after_store", "after_dial", "in_snapshot"])
        process = worker(store_url, telephony, f"w{k}", point, chance.randint(1, 12))
        if k >= 4:
            time.sleep(float(LEASE) + chance.uniform(0.4, 0.8))
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
        code, _ = finish(process)
        killed += code == -signal.SIGKILL
    code, records = finish(worker(store_url, telephony, "last"))
    assert code == 0, records
    assert killed >= 4  # the four at a point; the timed ones when work was left
    check(store_url, telephony, runs, customers=60)


def test_workers_racing_for_the_same_runs_never_both_drive_one(
    store_url: str, tmp_path: Path
) -> None:
    runs = create(store_url, runs=4)
    telephony = tmp_path / "calls.db"
    # Three workers race for four runs; each one stops once for longer than its
    # lease right after a poll stored Dials, so the others take its runs while
    # it still believes it holds them.
    racers = [worker(store_url, telephony, f"racer{k}", "stall", 2 + 3 * k) for k in range(3)]
    results = [finish(p) for p in racers]
    assert [code for code, _ in results] == [0, 0, 0], results
    check(store_url, telephony, runs)
    records = [r for _, rs in results for r in rs]
    dialed = [r["dialed"] for r in records if "done" in r]
    assert sum(dialed) == len(store_service.FakeTelephony(str(telephony)).calls())
    # A stalled worker woke up fenced off: it did not dial what it had polled
    # (its lease had run out), and its next write was refused.
    assert any("not_dialed" in r for r in records), records
    assert any("lease_lost" in r for r in records), records
    store = Store.open(store_url)
    hands = [len({e.body["lease"] for e in store.events(r) if e.kind == "poll"}) for r in runs]
    store.close()
    assert max(hands) >= 2, hands  # runs changed hands, each lease after the last


def test_webhooks_from_another_process_duplicated_and_reversed(
    store_url: str, tmp_path: Path
) -> None:
    runs = create(store_url)
    telephony = tmp_path / "calls.db"
    process = worker(store_url, telephony, "w", "none", 1, "--no-deliver")
    hooks = [*hooks_command(store_url, telephony), "--duplicate", "--reverse"]
    while process.poll() is None:
        subprocess.run(hooks, env=ENV, check=True, capture_output=True, timeout=60)
        time.sleep(0.05)
    assert finish(process)[0] == 0
    # The last webhooks arrive while no worker holds the runs; a worker applies them.
    subprocess.run(hooks, env=ENV, check=True, capture_output=True, timeout=60)
    assert finish(worker(store_url, telephony, "w2"))[0] == 0
    result = check(store_url, telephony, runs)
    # Every webhook was sent twice, ends before starts: each call still ended
    # once in the log (the copies were kept once in the inbox, or logged as
    # duplicates and ignored).
    store = Store.open(store_url)
    applied = [
        (r, e.body["call"])
        for r in runs
        for e in store.events(r)
        if e.kind == "ended" and e.note is None
    ]
    store.close()
    assert result["calls"] > 0 and len(applied) == len(set(applied)) <= result["calls"]


def busy(process: subprocess.Popen[str], telephony: Path, calls: int = 30) -> None:
    """Wait until the worker has placed ``calls`` calls (it is in the middle of
    its work), failing if it ends first."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the worker ended before the fault"
        if telephony.exists():
            try:
                with sqlite3.connect(telephony, timeout=5) as conn:
                    if conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0] >= calls:
                        return
            except sqlite3.OperationalError:
                pass  # its table is not there yet
        time.sleep(0.02)
    raise AssertionError("the worker placed no calls")


@pytest.fixture(scope="module")
def own_postgres() -> Any:
    server: PostgresServer = start_postgres()
    yield server
    server.close()


def test_postgres_restarted_under_a_running_worker(
    own_postgres: PostgresServer, tmp_path: Path
) -> None:
    url = own_postgres.new_database()
    runs = create(url, runs=4, customers=200)
    telephony = tmp_path / "calls.db"
    # a short outage: the worker reconnects and finishes
    process = worker(url, telephony, "w", "none", 1, "--outage-seconds", "60")
    busy(process, telephony)
    own_postgres.stop("fast")
    time.sleep(1.0)
    own_postgres.start()
    code, records = finish(process)
    assert code == 0, records
    assert any("reconnecting" in r for r in records)
    check(url, telephony, runs, customers=200)


def test_postgres_away_for_too_long_the_worker_exits_cleanly(
    own_postgres: PostgresServer, tmp_path: Path
) -> None:
    url = own_postgres.new_database()
    runs = create(url, runs=4, customers=200)
    telephony = tmp_path / "calls.db"
    process = worker(url, telephony, "w", "none", 1, "--outage-seconds", "1")
    busy(process, telephony)
    own_postgres.stop("immediate")  # a crash of the server, not a clean shutdown
    code, records = finish(process)
    assert code == store_service.EX_TEMPFAIL
    assert records[-1]["exit"] == "database unavailable"
    own_postgres.start()
    code, records = finish(worker(url, telephony, "w2"))
    assert code == 0, records
    check(url, telephony, runs, customers=200)
