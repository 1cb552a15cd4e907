"""Workers woken by the database (PostgreSQL LISTEN/NOTIFY, docs/store.md, "Several
workers"): a webhook or command wakes the worker that holds its run, or any waiting
worker when nobody holds it, and a new run wakes a waiting worker; a worker is not
woken for runs another worker holds.  On SQLite, wait() sleeps its timeout."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from callslots.store import Store, StoreError
from store_support import CAMPAIGN as STORE_CAMPAIGN
from store_support import FAR, UTC, PostgresServer, postgres_server

__all__ = ["postgres_server"]

T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
CAMPAIGN: dict[str, Any] = {**STORE_CAMPAIGN, "maxConcurrency": 1}


def later(seconds: float, action: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), action()))
    thread.start()
    return thread


def timed(action: Callable[[], list[int]]) -> tuple[list[int], float]:
    start = time.monotonic()
    result = action()
    return result, time.monotonic() - start


def test_workers_are_woken_by_notifications(postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database()
    store = Store.open(url, status_seconds=0)
    web = Store.open(url)  # another process's connection
    run_id = store.create_run(CAMPAIGN, ["+12125550100", "+12125550101"])
    a = store.worker("a", hold_seconds=10**9)
    b = Store.open(url).worker("b", hold_seconds=10**9)
    assert a.wait(30) == [] and b.wait(30) == []  # the first call starts listening at once
    (run,) = a.due(FAR)
    (dial,) = run.poll(T0)
    # a holds the run: its webhook wakes a, and b sleeps its whole timeout
    thread = later(0.2, lambda: web.record_ended(run_id, dial.call_id, "Busy", T0))
    woken, took = timed(lambda: a.wait(30))
    thread.join()
    assert woken == [run_id] and took < 10
    woken, took = timed(lambda: b.wait(0.5))
    assert woken == [] and took >= 0.5
    # a notification sent while nobody waits is kept for the next wait
    web.pause(run_id)
    woken, took = timed(lambda: a.wait(30))
    assert woken == [run_id] and took < 10
    # a run nobody holds: any waiting worker is woken
    a.release_all()
    thread = later(0.2, lambda: web.resume(run_id))
    woken, took = timed(lambda: b.wait(30))
    thread.join()
    assert woken == [run_id] and took < 10
    # a new run wakes a waiting worker
    thread = later(0.2, lambda: web.create_run(CAMPAIGN, ["+12125550102"]))
    woken, took = timed(lambda: b.wait(30))
    thread.join()
    assert len(woken) == 1 and woken[0] != run_id and took < 10
    # a command refused before it was recorded wakes nobody (a, which was not
    # waiting, first finds the free run's two notifications kept for it)
    # (both were sent before; the server may deliver the second a moment later
    # on a's connection when the machine is loaded: wait for it, briefly)
    kept: set[int] = set()
    deadline = time.monotonic() + 10
    while kept != {run_id, woken[0]} and time.monotonic() < deadline:
        kept |= set(a.wait(0.5 if kept else 0))
    assert kept == {run_id, woken[0]}
    with pytest.raises(StoreError):
        web.cancel(run_id, -1)
    woken, _ = timed(lambda: a.wait(0.3))
    assert woken == []
    a.close()
    store.close()
    web.close()
    b.store.close()


def test_on_sqlite_wait_sleeps_its_timeout(tmp_path: Any) -> None:
    store = Store.open(f"sqlite:///{tmp_path}/w.db")
    worker = store.worker("w")
    woken, took = timed(lambda: worker.wait(0.2))
    assert woken == [] and took >= 0.2
    with pytest.raises(StoreError, match="timeout must be a number"):
        worker.wait("1")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="timeout must be at most 86400"):
        worker.wait(float("inf"))
    store.close()
