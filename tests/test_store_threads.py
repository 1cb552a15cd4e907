"""One Store shared by threads, as a web framework's thread pool shares it:
handlers recording webhooks and reading runs on pool threads while a worker
thread drives the run, on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from callslots import Dial
from callslots.store import Store, StoreError
from store_support import postgres_server, store_url

__all__ = ["postgres_server", "store_url"]

UTC = timezone.utc
FAR = datetime(9000, 1, 1, tzinfo=UTC)
T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
CAMPAIGN: dict[str, Any] = {
    "timezone": "America/New_York",
    "startDate": "2024-03-04",
    "endDate": "2024-03-06",
    "startTime": "09:00",
    "endTime": "17:00",
    "callIntervalSeconds": 60,
    "maxConcurrency": 3,
    "maxCallSeconds": 120,
    "callRetries": 1,
    "retryDelaySeconds": 600,
}


def numbers(count: int, base: int = 0) -> list[str]:
    return [f"+1212555{base + i:04d}" for i in range(count)]


def test_handlers_on_a_thread_pool_and_a_worker_thread_share_one_store(store_url: str) -> None:
    store = Store.open(store_url)
    count = 24
    run_id = store.create_run(CAMPAIGN, numbers(count))
    pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="handler")
    handled: list[Future[None]] = []
    placed: list[Dial] = []
    failures: list[BaseException] = []

    def handler(dial: Dial) -> None:  # what a plain `def` route does on a pool thread
        time.sleep(0.005)  # the provider answers a little later
        store.record_started(run_id, dial.call_id, dial.at + timedelta(seconds=1))
        info = store.info(run_id)
        assert info.customer_count >= count
        outcome = "Completed" if int(dial.call_id) % 3 else "Busy"
        store.record_ended(run_id, dial.call_id, outcome, dial.at + timedelta(seconds=40))

    def noise() -> None:  # other requests at the same time: reads and commands
        for i in range(10):
            store.info(run_id)
            list(store.events(run_id))
            other = store.create_run(CAMPAIGN, numbers(2, 100 + i))
            store.cancel(other, 0, "opted out")

    def work() -> None:
        try:
            worker = store.worker("w", hold_seconds=10**9)
            done = threading.Event()
            while not done.is_set():
                for run in worker.due(FAR):
                    if run.id != run_id:
                        continue
                    # the virtual clock, which waits for the webhooks of live calls
                    # instead of jumping to their maxCallSeconds deadline
                    when = run.virtual_now() if run.last_now is not None else T0
                    if when is None:
                        time.sleep(0.001)
                        continue
                    for dial in run.poll(when):
                        placed.append(dial)
                        handled.append(pool.submit(handler, dial))
                    if run.finished:
                        done.set()
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    noisy = [pool.submit(noise) for _ in range(3)]
    worker_thread = threading.Thread(target=work)
    worker_thread.start()
    worker_thread.join(timeout=300)
    assert not worker_thread.is_alive() and failures == []
    for future in [*handled, *noisy]:
        future.result(timeout=60)  # a handler's exception is raised here
    pool.shutdown()
    summary = store.inspect(run_id).summary
    assert summary.reached + summary.not_reached + summary.unscheduled == count
    assert summary.attempts == len(placed) and summary.in_progress == 0
    assert summary.expired == 0  # the virtual clock never ran past a live call's deadline
    assert len({d.call_id for d in placed}) == len(placed)
    assert 2 <= store.connections <= 8  # the first one, the worker's, the pool's
    store.close()
    assert store.connections == 0
    with pytest.raises(StoreError, match="this Store was closed"):
        store.info(run_id)


def test_a_finished_threads_connection_is_closed_by_the_next_thread(store_url: str) -> None:
    store = Store.open(store_url)
    run_id = store.create_run(CAMPAIGN, numbers(1))
    for _ in range(5):
        thread = threading.Thread(target=store.info, args=(run_id,))
        thread.start()
        thread.join()
    assert store.connections == 2  # this thread's and the last thread's
    store.close()


def test_an_in_memory_store_stays_in_its_thread() -> None:
    store = Store.open("sqlite:///:memory:")
    run_id = store.create_run(CAMPAIGN, numbers(1))
    errors: list[BaseException] = []

    def read() -> None:
        try:
            store.info(run_id)
        except StoreError as error:
            errors.append(error)

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert len(errors) == 1 and "use a file (sqlite:///runs.db)" in str(errors[0])
    assert store.info(run_id).customer_count == 1
    store.close()
