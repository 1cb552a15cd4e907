"""Misuse of the store's public API, as a web handler fed by strangers would call it:
only the documented errors come out (``StoreError`` and its kinds, ``ConfigError``
for a bad campaign or customer, the engine's ``DispatchError`` from a held run),
never a driver's or Python's own exception, and a call that raises changes nothing
in the database.  On a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from callslots import ConfigError, DispatchError
from callslots.store import Run, Store, StoreError, Worker
from callslots.store.store import MAX_WAIT
from store_support import CAMPAIGN, FAR, UTC, postgres_server, store_url

__all__ = ["postgres_server", "store_url"]

T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
TABLES = {
    "callslots_runs": "id",
    "callslots_customers": "run_id, idx",
    "callslots_snapshots": "run_id, position",
    "callslots_events": "run_id, position",
    "callslots_inbox": "id",
    "callslots_schema": "version",
}


def dump(store: Store) -> dict[str, list[Any]]:
    """Every row of every table of the store."""
    return {
        table: store.db.execute(f"SELECT * FROM {table} ORDER BY {order}")
        for table, order in TABLES.items()
    }


# -- what a stranger may send ------------------------------------------------------

HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**20, -(10**20), 2**63, 2**63 - 1, -1, 0, 2**31]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        ["\x00", "1\x00", "a\x00b", "7" * 40, "x" * 100_000, "\U0001f600" * 300, "²", " 1", "-1"]
    ),
    st.binary(max_size=6),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.datetimes(),  # naive
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from(
        [
            datetime.max.replace(tzinfo=UTC),
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))),
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=-5))),
            object(),
            {"at": datetime(2024, 1, 1)},
            [{"phoneNumber": "+12125550100", "properties": {"when": datetime(2024, 1, 1)}}],
            [{"phoneNumber": "+12125550100", "properties": {"k\x00": "v\x00" * 50_000}}],
            ["+12125550100", None],
            "+12125550100",
            [("+12125550100", "yesterday", "Busy")],
        ]
    ),
)


def arg(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A good value most of the time, so that calls get past the first check."""
    return st.one_of(good, good, HOSTILE)


def instants() -> st.SearchStrategy[datetime]:
    return st.integers(0, 3 * 86400).map(lambda s: T0 + timedelta(seconds=s, microseconds=s % 7))


RUN = st.just("RUN")  # replaced by the run's id
CALL = st.sampled_from(["1", "2", "3", "4"])
INDEX = st.integers(0, 4)
OUTCOME = st.sampled_from(["Completed", "Busy", "No Answer", "Sideways"])
REASON = st.text(max_size=20)
PHONES = st.lists(st.sampled_from(["+12125550190", "+12125550191", "not a phone"]), max_size=3)

STORE_CALLS = st.one_of(
    st.tuples(st.just("info"), st.tuples(arg(RUN))),
    st.tuples(st.just("events"), st.tuples(arg(RUN), arg(st.integers(0, 5)))),
    st.tuples(st.just("inspect"), st.tuples(arg(RUN))),
    st.tuples(st.just("record_started"), st.tuples(arg(RUN), arg(CALL), arg(instants()))),
    st.tuples(st.just("record_not_started"), st.tuples(arg(RUN), arg(CALL), arg(REASON))),
    st.tuples(
        st.just("record_ended"), st.tuples(arg(RUN), arg(CALL), arg(OUTCOME), arg(instants()))
    ),
    st.tuples(st.just("cancel"), st.tuples(arg(RUN), arg(INDEX), arg(REASON))),
    st.tuples(st.just("callback"), st.tuples(arg(RUN), arg(INDEX), arg(instants()))),
    st.tuples(st.just("pause"), st.tuples(arg(RUN))),
    st.tuples(st.just("resume"), st.tuples(arg(RUN))),
    st.tuples(st.just("add_customers"), st.tuples(arg(RUN), arg(PHONES))),
    st.tuples(
        st.just("create_run"),
        st.tuples(arg(st.just(CAMPAIGN)), arg(PHONES), arg(st.none()), arg(st.none())),
    ),
    st.tuples(
        st.just("worker"),
        st.tuples(arg(st.just("w")), arg(st.just(30.0)), arg(st.just(300.0)), arg(st.just(10))),
    ),
    st.tuples(st.just("open"), st.tuples(HOSTILE, arg(st.just(10)))),
    st.tuples(st.just("stats"), st.tuples(arg(instants()), arg(st.just(1000.0)))),
    st.tuples(st.just("virtual_now"), st.tuples()),
    st.tuples(st.just("wait"), st.tuples(arg(st.just(0.0)))),
    st.tuples(st.just("open_status"), st.tuples(arg(st.just(1.0)))),
    st.tuples(st.just("due"), st.tuples(arg(st.just(FAR)), arg(st.integers(1, 5)))),
    st.tuples(st.just("next_due"), st.tuples(arg(st.booleans()))),
    st.tuples(st.just("poll"), st.tuples(arg(instants()))),
    st.tuples(
        st.just("worker_poll"),
        st.tuples(
            arg(st.just("HELD")), arg(instants()), arg(st.integers(1, 60)), arg(st.just(0.05))
        ),
    ),
    st.tuples(st.just("started"), st.tuples(arg(CALL), arg(instants()))),
    st.tuples(st.just("not_started"), st.tuples(arg(CALL), arg(REASON))),
    st.tuples(st.just("ended"), st.tuples(arg(CALL), arg(OUTCOME), arg(instants()))),
    st.tuples(st.just("run_cancel"), st.tuples(arg(INDEX), arg(REASON))),
    st.tuples(st.just("run_pause"), st.tuples()),
    st.tuples(st.just("may_dial"), st.tuples(arg(st.just(1.0)))),
    st.tuples(st.just("release"), st.tuples()),
    # a path in the test's own directory (the sweep runs there)
    st.tuples(st.just("archive_run"), st.tuples(arg(RUN), arg(st.just("archive.jsonl")))),
    st.tuples(st.just("restore_run"), st.tuples(arg(st.just("archive.jsonl")))),
)


class Session:
    """One store, one run, one worker and the run it holds, driven call by call."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.store = Store.open(url, snapshot_every=3)
        self.run_id = self.store.create_run(CAMPAIGN, ["+12125550100", "+12125550101"])
        self.worker: Worker = self.store.worker("fuzz", hold_seconds=10**9)
        self.run: Run | None = None

    def fresh(self) -> None:
        """An empty store with one new run (each example starts from it)."""
        self.worker.forget()
        self.run = None
        with self.store.db.transaction():
            for table in TABLES:
                if table != "callslots_schema":
                    self.store.db.execute(f"DELETE FROM {table}")
        self.run_id = self.store.create_run(CAMPAIGN, ["+12125550100", "+12125550101"])

    def held(self) -> Run:
        """The run this worker holds; a fresh one when it finished (a poll at
        the current time ends the 2024 campaign)."""
        if self.run is None or self.run.dead or not self.run.held:
            runs = [r for r in self.worker.due(FAR, limit=50) if r.id == self.run_id]
            if not runs:
                self.fresh()
                runs = [r for r in self.worker.due(FAR, limit=50) if r.id == self.run_id]
            (self.run,) = runs
        return self.run

    def call(self, name: str, args: tuple[Any, ...]) -> Callable[[], object]:
        args = tuple(self.run_id if a == "RUN" and isinstance(a, str) else a for a in args)
        store = self.store
        if name == "events":
            return lambda: list(store.events(*args))
        if name == "create_run":
            campaign, customers, run_name, history = args
            return lambda: store.create_run(campaign, customers, name=run_name, history=history)
        if name == "worker":
            worker_name, lease, hold, most = args
            return lambda: store.worker(
                worker_name, lease_seconds=lease, hold_seconds=hold, max_runs=most
            )
        if name == "open":
            url, every = args
            return lambda: Store.open(url, snapshot_every=every).close()
        if name == "stats":
            return lambda: store.stats(args[0], wall=args[1])
        if name == "open_status":
            return lambda: Store.open(self.url, status_seconds=args[0]).close()
        if name == "due":
            now, limit = args
            return lambda: self.worker.due(now, limit=limit)
        if name == "wait":
            # A valid timeout sleeps that long (up to a day): kept short here,
            # the wrong types, NaN, infinities and out-of-range values as drawn.
            (timeout,) = args
            if type(timeout) in (int, float) and 0.01 < timeout <= MAX_WAIT:
                timeout = 0.01
            return lambda: self.worker.wait(timeout)
        if name == "next_due":
            return lambda: self.worker.next_due(any_holder=args[0])
        if name in (
            "poll",
            "started",
            "not_started",
            "ended",
            "may_dial",
            "release",
            "virtual_now",
        ):
            run = self.held()
            return lambda: getattr(run, name)(*args)
        if name == "worker_poll":
            runs, now, batch, seconds = args
            run = self.held()
            held = [run] if runs == "HELD" else runs
            return lambda: self.worker.poll(held, now, batch=batch, batch_seconds=seconds)
        if name in ("run_cancel", "run_pause"):
            run = self.held()
            return lambda: getattr(run, name[4:])(*args)
        return lambda: getattr(store, name)(*args)


RUN_METHODS = {
    "poll",
    "worker_poll",
    "started",
    "not_started",
    "ended",
    "run_cancel",
    "run_pause",
    "release",
}


def check(session: Session, name: str, args: tuple[Any, ...]) -> None:
    call = session.call(name, args)
    before = dump(session.store)  # after held(), which may have leased the run
    try:
        call()
    except (StoreError, ConfigError) as error:
        event(f"{name}: {type(error).__name__}")
        assert str(error)
    except DispatchError as error:
        event(f"{name}: DispatchError")
        assert name in RUN_METHODS, f"{name}{args!r}: {error}"
    else:
        event(f"{name}: ok")
        return
    assert dump(session.store) == before, f"{name}{args!r} raised and changed the database"


def test_only_documented_errors_and_an_error_changes_nothing(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # archive_run writes files where it is told
    url = store_url
    sessions: list[Session] = []

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(calls=st.lists(STORE_CALLS, min_size=1, max_size=8))
    def sweep(calls: list[tuple[str, tuple[Any, ...]]]) -> None:
        if not sessions:
            sessions.append(Session(url))
        session = sessions[0]
        session.fresh()
        for name, args in calls:
            check(session, name, args)

    try:
        sweep()
    finally:
        for session in sessions:
            session.store.close()


def test_the_reported_misuses_are_store_errors(store_url: str) -> None:
    """The cases found by hand (issue 21): each is a StoreError naming the problem."""
    store = Store.open(store_url)
    run_id = store.create_run(CAMPAIGN, ["+12125550100"])
    before = dump(store)
    huge = 10**20
    for call in (
        lambda: store.info(huge),
        lambda: list(store.events(huge)),
        lambda: store.pause(huge),
        lambda: store.resume(huge),
        lambda: store.cancel(huge, 0),
        lambda: store.callback(huge, 0, T0),
        lambda: store.add_customers(huge, ["+12125550101"]),
        lambda: store.record_started(huge, "1", T0),
        lambda: store.record_not_started(huge, "1"),
        lambda: store.inspect(huge),
    ):
        with pytest.raises(StoreError, match=f"no run {huge} in this store"):
            call()
    with pytest.raises(StoreError, match="no run 424242 in this store"):
        store.events(424242)  # at once, not when the log is read
    with pytest.raises(StoreError, match="reason must be a string, not datetime"):
        store.cancel(run_id, 0, reason=datetime(2024, 1, 1))  # type: ignore[arg-type]
    with pytest.raises(StoreError, match=r"customers must be a list .*, not None"):
        store.add_customers(run_id, None)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="must not contain a NUL"):
        store.record_not_started(run_id, "1", "a\x00b")
    with pytest.raises(StoreError, match="at most 200 characters, not 100000"):
        store.cancel(run_id, 0, "x" * 100_000)
    with pytest.raises(StoreError, match="decimal string"):
        store.record_started(run_id, "9" * 40, T0)
    with pytest.raises(ConfigError, match=r"customers\.0\.properties: must be JSON data"):
        store.add_customers(run_id, [{"phoneNumber": "+12125550101", "properties": {"t": T0}}])
    with pytest.raises(StoreError, match="lease_seconds must be a number, not '30'"):
        store.worker("w", lease_seconds="30")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="limit must be a whole number from 1"):
        store.worker("w").due(FAR, limit=10**20)
    assert dump(store) == before
    # the longest reason accepted, in characters that take 12 bytes each in JSON,
    # fits the inbox's unique index on PostgreSQL
    store.record_not_started(run_id, "1", "\U0001f600" * 200)
    assert store.info(run_id).inbox == 1
    store.close()


def test_a_poisoned_inbox_row_is_rejected_not_blocking(store_url: str) -> None:
    """An inbox row the engine cannot read (written by an older or foreign
    writer) is logged as rejected and the run goes on."""
    store = Store.open(store_url)
    run_id = store.create_run(CAMPAIGN, ["+12125550100"])
    with store.db.transaction():
        store.db.execute(
            "INSERT INTO callslots_inbox (run_id, kind, call_id, body, received_at) "
            "VALUES (?, 'callback', NULL, ?, 0)",
            (run_id, '{"customer": 0, "at": "not an instant"}'),
        )
        store.db.execute("UPDATE callslots_runs SET next_wakeup = -1 WHERE id = ?", (run_id,))
    (run,) = store.worker("w").due(FAR)
    (event,) = store.events(run_id)
    assert event.kind == "callback" and (event.note or "").startswith("rejected: ")
    assert [d.customer_index for d in run.poll(T0)] == [0]
    store.close()
