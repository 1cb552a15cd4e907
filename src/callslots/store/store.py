"""Durable campaign runs: the Dispatcher's state kept in SQLite or PostgreSQL.

A run is a campaign, its customer list, an append-only event log and periodic
snapshots of the engine.  Any process may record what happened to a call
(``record_started`` / ``record_not_started`` / ``record_ended``): the webhook
goes into the run's inbox and wakes the run.  A :class:`Worker` leases due
runs, restores each one's :class:`~callslots.Dispatcher` (the latest snapshot,
then the events logged after it), applies the inbox in the order it arrived,
polls, and logs the poll's Dials in the same transaction that moves the run's
next wake-up, before it returns them (write-ahead).  Every write checks the
lease (owner, generation, expiry) under a row lock, so a worker whose lease
ran out can never write.  docs/store.md states the rules and the faults.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import chain, repeat
from typing import IO, Any

from .. import snapshots
from ..campaign import Campaign
from ..customers import Customer, customer_from
from ..dispatch import Attempt, Dial, Dispatcher, Summary
from ..errors import ConfigError, DispatchError, Problem
from ..instants import parse_iso
from ..outcomes import Outcome
from ..windows import from_seconds
from . import _db, _log, archive, schema
from .errors import LeaseLost, RunUnreadable, StoreError, StoreUnavailable

__all__ = [
    "DUE_NOW",
    "Event",
    "Run",
    "RunId",
    "RunInfo",
    "Store",
    "StoreStats",
    "Worker",
    "summary_dict",
]

log = logging.getLogger("callslots.store")

DUE_NOW = -(2**62)
"""The ``next_wakeup`` stored for a run with webhooks or commands waiting in its
inbox: below any instant, so the run is due at once whatever clock a worker uses."""
#: Customers read from the database per query, and rows per bulk insert.
PAGE = 2000
#: The kinds of the event log; the inbox holds the kinds after "poll".
KINDS = ("poll", "started", "not_started", "ended", "cancel", "callback", "pause", "resume", "add")
_CALL_KINDS = frozenset({"started", "not_started", "ended"})
_UTC = timezone.utc


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


_EPOCH = datetime(1970, 1, 1, tzinfo=_UTC)


def _exact(seconds: object, micro: object) -> datetime | None:
    """The instant ``seconds`` (UTC) plus ``micro`` microseconds, as an aware
    datetime; None when ``seconds`` is not an int (no poll yet)."""
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        return None
    extra = micro if isinstance(micro, int) and not isinstance(micro, bool) else 0
    return from_seconds(seconds) + timedelta(microseconds=extra)


def _seconds(t: datetime) -> int:
    """Whole UTC seconds of an aware datetime, rounded down (as the engine does)."""
    delta = t - datetime(1970, 1, 1, tzinfo=_UTC)
    return delta.days * 86400 + delta.seconds


#: How often (wall seconds) at most a worker on PostgreSQL vacuums the inbox,
#: whose rows are each inserted and deleted once, when it has deleted rows from
#: it since: autovacuum visits a table at most once a minute, and the dead rows
#: of a busy minute would otherwise grow the table (docs/store.md, "Database
#: size").  A few pages: a few milliseconds.
INBOX_VACUUM_SECONDS = 2.0

#: The SET clause of a release: the run's wake-up as free workers see it, due
#: now when webhooks wait in its inbox (a holder may have applied them without
#: logging them: the next holder applies them again).
_RELEASE = (
    "lease_owner = NULL, inbox_applied = NULL, "
    "next_wakeup = CASE WHEN EXISTS (SELECT 1 FROM callslots_inbox i "
    f"WHERE i.run_id = callslots_runs.id) THEN {DUE_NOW} ELSE next_wakeup END, "
    "free_wakeup = CASE WHEN EXISTS (SELECT 1 FROM callslots_inbox i "
    f"WHERE i.run_id = callslots_runs.id) THEN {DUE_NOW} ELSE next_wakeup END"
)

#: An inbox row ``i`` of run row ``r`` that is waiting to be applied (not applied
#: by the holder in a poll that was not logged: ``inbox_applied``).
_WAITING = "i.id > COALESCE(r.inbox_applied, -1)"

#: The most events a run keeps applied and not logged (polls that changed
#: nothing outside, and the webhooks they applied: docs/store.md, "Database size").
MAX_UNLOGGED = 64

#: A batch of :meth:`Worker.poll`: at most this many runs in one transaction...
BATCH_RUNS = 50
#: ...and closed after the run that takes it past this many wall seconds (its
#: write lock held that long: SQLite's one writer, PostgreSQL's row locks).
BATCH_SECONDS = 0.05

#: The largest integer a database column holds (a run id, a position, an index).
MAX_INT = 2**63 - 1
#: The longest ``reason`` accepted: it is kept in the inbox's unique index, which
#: PostgreSQL limits to about 2,700 bytes (a character may take 12 in JSON).
MAX_REASON = 200
#: The longest run name, and the longest worker name (the owner is indexed).
MAX_NAME = 1000
MAX_WORKER_NAME = 100
#: The longest Worker.wait (a day): a loop waits again.
MAX_WAIT = 86400.0
#: A call id is a Dial's id: the engine's call counter, in decimal.
MAX_CALL_ID = 19


def _show(value: object) -> str:
    """``repr(value)`` cut short, for messages about very long input."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:50]}... ({len(text)} characters)"


def _aware(t: object, name: str) -> datetime:
    if not isinstance(t, datetime) or t.utcoffset() is None:
        raise StoreError(f"{name} must be an aware datetime, not {_show(t)}")
    try:
        t.astimezone(_UTC)
    except OverflowError:  # 0001-01-01 at +05:00 is in year 0 in UTC
        raise StoreError(f"{name} {t.isoformat()} is outside the years 1-9999 in UTC") from None
    return t


def _call_id(call_id: object) -> str:
    if (
        not isinstance(call_id, str)
        or not call_id.isascii()
        or not call_id.isdigit()
        or len(call_id) > MAX_CALL_ID
    ):
        raise StoreError(
            f"call_id must be a Dial's id, a decimal string such as '7', not {_show(call_id)}"
        )
    return call_id


def _index(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_INT:
        raise StoreError(f"customer_index must be a whole number from 0, not {_show(value)}")
    return value


def _run_id(value: object) -> int:
    """A run id as the tables hold it; one out of their range is no run."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoreError(f"run_id must be a run's id (an int), not {_show(value)}")
    if not 0 < value <= MAX_INT:
        raise StoreError(f"no run {value} in this store")
    return value


def _text(value: object, name: str, limit: int) -> str:
    """A string the databases store as it is: at most ``limit`` characters, no NUL
    (PostgreSQL text cannot hold one)."""
    if not isinstance(value, str):
        raise StoreError(f"{name} must be a string, not {_show(value)}")
    if "\x00" in value:
        raise StoreError(f"{name} must not contain a NUL character: {_show(value)}")
    if len(value) > limit:
        raise StoreError(f"{name} must be at most {limit} characters, not {len(value)}")
    return value


def _number(value: object, name: str, *, low: float, above: bool = False) -> float:
    """A real number (not a bool, not NaN) at least ``low`` (above it with ``above``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise StoreError(f"{name} must be a number, not {_show(value)}")
    if value < low or (above and value == low):
        raise StoreError(f"{name} must be {'above' if above else 'at least'} {low}, not {value}")
    return float(value)


def _whole(value: object, name: str, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_INT:
        raise StoreError(f"{name} must be a whole number from {low}, not {_show(value)}")
    return value


def _many(value: object, name: str) -> Iterable[object]:
    """An iterable of records (a list, a generator), not one record or a string."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise StoreError(f"{name} must be a list (any iterable) of records, not {_show(value)}")
    return value


class RunId(int):
    """A new run's id, as :meth:`Store.create_run` returns it: an ``int`` that
    also carries the campaign's ``warnings`` (:class:`~callslots.Problem`
    values: a setting ignored or adjusted; docs/campaign.md)."""

    warnings: tuple[Problem, ...]

    def __new__(cls, value: int, warnings: tuple[Problem, ...] = ()) -> RunId:
        self = super().__new__(cls, value)
        self.warnings = warnings
        return self


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What the ``callslots_runs`` row says about a run (no engine restored).

    ``status``: ``"active"`` or ``"finished"``.  ``next_wakeup``: when a worker
    should poll it next (None: only an event can change anything; ``DUE_NOW``
    in the table shows as the run's own instant being unknown: ``inbox`` > 0).
    ``position``: events logged; ``inbox``: webhooks and commands waiting.
    ``summary``: the run's totals as :func:`summary_dict` gives them, as of log
    position ``summary_position`` (docs/store.md, "Live status"); None only in a
    database written by an older callslots before its first snapshot.
    """

    id: int
    name: str | None
    status: str
    customer_count: int
    next_wakeup: datetime | None
    position: int
    snapshot_position: int
    lease_owner: str | None
    lease_expires: float
    inbox: int
    summary: dict[str, Any] | None
    summary_position: int | None = None

    @property
    def unread(self) -> int | None:
        """Customers of the list the engine has not read yet (not counted in any
        total of ``summary``); None without a summary."""
        if self.summary is None:
            return None
        s = self.summary
        read = sum(s[k] for k in ("reached", "not_reached", "unscheduled", "cancelled"))
        return int(self.customer_count - read - s["pending"] - s["repeats"])


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Numbers an operator watches (docs/store.md, "Numbers to watch").

    ``runs``: runs by status.  ``due``: runs whose wake-up has come at
    ``now`` (or with webhooks waiting); ``due_unheld``: those no live lease
    covers (waiting for a worker).  ``oldest_due_seconds``: how long the
    longest-waiting of them has waited (since its wake-up, or since its oldest
    inbox row arrived), None when none is due.  ``inbox``: webhooks and commands
    not applied yet; ``inbox_oldest_seconds``: the age of the oldest.
    ``in_doubt``: calls in doubt, as of each run's live totals.  ``leases``:
    runs held per worker (live leases); ``lapsed_leases``: leases that ran out
    and were not taken over yet.  ``takeovers``: runs taken from a worker whose
    lease ran out, over the store's life.  ``unreadable``: runs a worker could not
    restore, with the reason.
    """

    runs: dict[str, int]
    due: int
    due_unheld: int
    oldest_due_seconds: float | None
    inbox: int
    inbox_oldest_seconds: float | None
    in_doubt: int
    leases: dict[str, int]
    lapsed_leases: int
    takeovers: int
    unreadable: dict[int, str]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (run ids as strings in ``unreadable``)."""
        return {
            "runs": dict(self.runs),
            "due": self.due,
            "due_unheld": self.due_unheld,
            "oldest_due_seconds": self.oldest_due_seconds,
            "inbox": self.inbox,
            "inbox_oldest_seconds": self.inbox_oldest_seconds,
            "in_doubt": self.in_doubt,
            "leases": dict(self.leases),
            "lapsed_leases": self.lapsed_leases,
            "takeovers": self.takeovers,
            "unreadable": {str(k): v for k, v in self.unreadable.items()},
        }


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of a run's event log: ``position`` (1, 2, ...), ``kind`` (one of
    :data:`KINDS`), ``body`` (its data) and ``note`` (None when applied;
    ``"duplicate"``; ``"late"`` for an ``ended`` after its call expired;
    ``"rejected: why"`` for a webhook the engine refused)."""

    position: int
    kind: str
    body: dict[str, Any]
    note: str | None


def _row_events(position: int, kind: str, body: str, note: str | None, after: int) -> list[Event]:
    """The events of one log row that come after position ``after``: a compact
    row (schema 3) holds the events of one write and is keyed by its last
    event's position; an older row is one event (ValueError for a damaged row)."""
    if kind != _log.BATCH:
        return [Event(position, kind, json.loads(body), note)]
    events = _log.decode(body)
    first = position - len(events) + 1
    return [Event(first + i, k, b, n) for i, (k, b, n) in enumerate(events) if first + i > after]


def _properties(customer: Customer, path: str) -> str | None:
    """A customer's properties as stored: JSON text, or ConfigError naming it."""
    if not customer.properties:
        return None
    try:
        return _dump(dict(customer.properties))
    except (TypeError, ValueError) as error:
        problem = Problem(
            f"{path}.properties", f"must be JSON data (strings, numbers, lists, objects): {error}"
        )
        raise ConfigError([problem]) from None


def _totals(engine: Dispatcher, position: int) -> str:
    """The live totals stored in the runs row: the summary, the calls in doubt,
    and the log position they are as of."""
    totals = summary_dict(engine.summary)
    totals["in_doubt"] = len(engine.in_doubt())
    totals["position"] = position
    return _dump(totals)


def summary_dict(summary: Summary) -> dict[str, Any]:
    """A JSON-ready form of a :class:`~callslots.dispatch.Summary`: the same
    names, instants as ISO 8601 strings, outcomes by their API names and
    ``calls_per_day`` by ISO date (docs/store.md, "Live status")."""
    return {
        "finished_at": None if summary.finished_at is None else summary.finished_at.isoformat(),
        "attempts": summary.attempts,
        "attempts_by_outcome": {o.value: n for o, n in summary.attempts_by_outcome.items()},
        "reached": summary.reached,
        "not_reached": summary.not_reached,
        "cut_off": summary.cut_off,
        "unscheduled": summary.unscheduled,
        "repeats": summary.repeats,
        "cancelled": summary.cancelled,
        "expired": summary.expired,
        "pending": summary.pending,
        "in_progress": summary.in_progress,
        "held_by_limits": summary.held_by_limits,
        "calls_per_day": {d.isoformat(): n for d, n in sorted(summary.calls_per_day.items())},
    }


class Store:
    """A store database, safe to share between threads.

    ``Store.open("sqlite:///runs.db")`` or ``Store.open("postgresql://...")``
    creates the schema when it is missing.  ``snapshot_every``: a worker writes a
    snapshot once that many events were logged after the last one (replay after
    a restart is bounded by it).

    Each thread that uses the store gets its own connection, opened at its first
    call (so a web framework's thread pool may share one ``Store``); a
    :class:`Worker` and its :class:`Run` objects are used by one thread at a
    time.  An in-memory SQLite store (``sqlite:///:memory:``) is one connection
    and stays in the thread that opened it.
    """

    def __init__(
        self, url: str, *, snapshot_every: int = 1000, status_seconds: float = 1.0
    ) -> None:
        if isinstance(snapshot_every, bool) or not isinstance(snapshot_every, int):
            raise StoreError(f"snapshot_every must be a whole number, not {_show(snapshot_every)}")
        if snapshot_every < 1:
            raise StoreError(f"snapshot_every must be at least 1, not {snapshot_every}")
        self.url = url
        self.snapshot_every = snapshot_every
        #: How often (wall seconds) a worker's writes refresh a held run's live
        #: totals (info().summary); snapshots, releases and the end always do.
        self.status_seconds = _number(status_seconds, "status_seconds", low=0.0)
        self._local = threading.local()
        self._lock = threading.Lock()
        #: Every open connection, by the thread that uses it.
        self._connections: dict[threading.Thread, _db.Database] = {}
        self._listeners: list[_db.Listener] = []  # the workers' (PostgreSQL)
        self._closed = False
        db = _db.connect(url)
        try:
            schema.migrate(db)
        except BaseException:
            db.close()
            raise
        self._memory = db.kind == "sqlite" and url.split("?")[0].endswith("/:memory:")
        self._adopt(db)

    @classmethod
    def open(cls, url: str, *, snapshot_every: int = 1000, status_seconds: float = 1.0) -> Store:
        """The store at ``url`` (``sqlite:///path.db`` or ``postgresql://...``)."""
        return cls(url, snapshot_every=snapshot_every, status_seconds=status_seconds)

    @property
    def db(self) -> _db.Database:
        """This thread's connection (opened on its first use)."""
        if self._closed:
            raise StoreError("this Store was closed")
        db: _db.Database | None = getattr(self._local, "db", None)
        if db is not None:
            return db
        if self._memory:
            raise StoreError(
                "an in-memory SQLite store (sqlite:///:memory:) is one connection, used by "
                "the thread that opened it; use a file (sqlite:///runs.db) to share a store "
                "between threads"
            )
        return self._adopt(_db.connect(self.url))

    def _adopt(self, db: _db.Database) -> _db.Database:
        """Make ``db`` this thread's connection; close those of finished threads."""
        me = threading.current_thread()
        with self._lock:
            gone = [t for t in self._connections if not t.is_alive() and t is not me]
            stale = [self._connections.pop(t) for t in gone]
            old = self._connections.get(me)
            self._connections[me] = db
        self._local.db = db
        for conn in [*stale, *([old] if old is not None and old is not db else [])]:
            with contextlib.suppress(Exception):
                conn.close()
        return db

    def _listen(self) -> _db.Listener:
        listener = self.db.listener()
        assert listener is not None  # PostgreSQL only
        with self._lock:
            self._listeners.append(listener)
        return listener

    def _unlisten(self, listener: _db.Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
        with contextlib.suppress(Exception):
            listener.close()

    @property
    def connections(self) -> int:
        """How many connections this store has open (one per thread that used it)."""
        with self._lock:
            return len(self._connections)

    @property
    def kind(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.db.kind

    def close(self) -> None:
        """Close every thread's connection; the store cannot be used after it."""
        with self._lock:
            self._closed = True
            connections: list[_db.Database | _db.Listener] = [
                *self._connections.values(),
                *self._listeners,
            ]
            self._connections.clear()
            self._listeners.clear()
        for conn in connections:
            with contextlib.suppress(Exception):
                conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reconnect(self) -> None:
        """Open a new connection for this thread (after :class:`StoreUnavailable`);
        raises it again while the database is still away."""
        if self._closed:
            raise StoreError("this Store was closed")
        old: _db.Database | None = getattr(self._local, "db", None)
        if old is not None:
            with contextlib.suppress(Exception):  # the old connection is gone anyway
                old.close()
        self._adopt(_db.connect(self.url))

    # -- runs ------------------------------------------------------------------

    def create_run(
        self,
        campaign: Campaign | Mapping[str, Any],
        customers: Iterable[object] | None = None,
        *,
        name: str | None = None,
        history: Iterable[object] | None = None,
    ) -> RunId:
        """Store a new run and return its id (an ``int``, whose ``warnings`` are
        the campaign's: docs/campaign.md).

        ``campaign``: a :class:`~callslots.Campaign` or a payload (read with
        ``Campaign.from_dict``: a ``ConfigError`` lists its problems).
        ``customers``: any iterable of E.164 strings, ``Customer`` values or
        ``{phoneNumber, properties}`` objects, streamed into the database in
        batches (never all in memory); None: the payload's own.  An invalid
        customer raises ``ConfigError`` naming it, and nothing is stored.
        ``history``: calls made elsewhere, counted by the contact limits
        (``(phone, at, outcome)`` records, docs/limits.md); kept in the run's
        snapshots.  A bad record raises ``ConfigError``, and nothing is stored.
        """
        if name is not None:
            name = _text(name, "name", MAX_NAME)
        if customers is not None:
            customers = _many(customers, "customers")
        if history is not None:
            history = _many(history, "history")
        if not isinstance(campaign, Campaign):
            campaign = Campaign.from_dict(campaign)
        payload = {k: v for k, v in campaign.to_dict().items() if k != "customers"}
        source: Iterable[object] = campaign.customers if customers is None else customers
        text = _dump(payload)
        digest = snapshots.digest(payload)
        count = [0]

        def rows(run_id: int) -> Iterator[tuple[int, int, str, str | None]]:
            for index, item in enumerate(source):
                customer = customer_from(item, f"customers.{index}")
                count[0] = index + 1
                yield run_id, index, customer.phone, _properties(customer, f"customers.{index}")

        if snapshots.digest(Campaign.from_dict(payload).to_dict()) != digest:
            raise StoreError(
                "this campaign does not read back the same from its normalized form; "
                "please report it (a run of it could never be restored)"
            )
        with self.db.transaction():
            run_id = int(
                self.db.execute(
                    "INSERT INTO callslots_runs (name, campaign, campaign_digest, customer_count, "
                    "status, created_at) VALUES (?, ?, ?, 0, 'active', ?) RETURNING id",
                    (name, text, digest, time.time()),
                )[0][0]
            )
            self.db.copy_rows(
                "callslots_customers", ("run_id", "idx", "phone", "properties"), rows(run_id)
            )
            # A snapshot at position 0 pins the engine format and the tz database
            # the run started with; the wake-up reads the first customers.
            # The engine may read the list twice (ahead, for a history's customerIds):
            # each reading is a new query, never the whole list in memory.
            listed = _Listed(self, run_id, 0, count[0])
            engine = Dispatcher(Campaign.from_dict(payload), listed, history)
            state = engine.snapshot()
            wakeup = engine.next_wakeup()
            finished = wakeup is None and engine.finished
            self.db.execute(
                "INSERT INTO callslots_snapshots "
                "(run_id, position, customer_count, body, taken_at) VALUES (?, 0, ?, ?, ?)",
                (run_id, count[0], _dump(state), time.time()),
            )
            totals = _totals(engine, 0)
            if wakeup is not None:
                self.db.notify(f"{run_id} ")  # a new run: any waiting worker
            self.db.execute(
                "UPDATE callslots_runs SET customer_count = ?, next_wakeup = ?, "
                "free_wakeup = ?, status = ?, summary = ? WHERE id = ?",
                (
                    count[0],
                    None if wakeup is None else _seconds(wakeup),
                    None if wakeup is None else _seconds(wakeup),
                    "finished" if finished else "active",
                    totals,
                    run_id,
                ),
            )
        return RunId(run_id, campaign.warnings)

    def info(self, run_id: int) -> RunInfo:
        """The run's row; :class:`StoreError` for an unknown run."""
        run_id = _run_id(run_id)
        rows = self.db.execute(
            "SELECT id, name, status, customer_count, next_wakeup, position, snapshot_position, "
            "lease_owner, lease_expires, summary, "
            "(SELECT COUNT(*) FROM callslots_inbox i WHERE i.run_id = r.id "
            f"AND {_WAITING}) FROM callslots_runs r WHERE id = ?",
            (run_id,),
        )
        if not rows:
            raise StoreError(f"no run {run_id!r} in this store")
        (rid, name, status, count, wakeup, position, snap, owner, expires, summary, inbox) = rows[0]
        totals: dict[str, Any] | None = None if summary is None else json.loads(summary)
        # "position" was written with the totals since 0.2; older rows are as of
        # their snapshot
        at = None if totals is None else int(totals.pop("position", snap))
        return RunInfo(
            id=int(rid),
            name=name,
            status=status,
            customer_count=int(count),
            next_wakeup=None if wakeup is None or wakeup == DUE_NOW else from_seconds(wakeup),
            position=int(position),
            snapshot_position=int(snap),
            lease_owner=owner,
            lease_expires=float(expires),
            inbox=int(inbox),
            summary=totals,
            summary_position=at,
        )

    def stats(self, now: datetime | None = None, *, wall: float | None = None) -> StoreStats:
        """The store's numbers for an operator (docs/store.md, "Numbers to watch"):
        a few aggregate queries, no engine restored, nothing written.  ``now``:
        the engines' clock (default: the current time); ``wall``: the clock of
        leases and arrivals (default: ``time.time()``)."""
        when = datetime.now(_UTC) if now is None else _aware(now, "now")
        u = _seconds(when)
        clock = time.time() if wall is None else _number(wall, "wall", low=float("-inf"))
        db = self.db
        runs = {
            str(status): int(n)
            for status, n in db.execute(
                "SELECT status, COUNT(*) FROM callslots_runs GROUP BY status ORDER BY status"
            )
        }
        due_rows = db.execute(
            "SELECT COUNT(*), "
            "SUM(CASE WHEN lease_owner IS NULL OR lease_expires <= ? THEN 1 ELSE 0 END), "
            "MIN(CASE WHEN next_wakeup <> ? THEN next_wakeup END) "
            "FROM callslots_runs WHERE next_wakeup <= ?",
            (clock, DUE_NOW, u),
        )
        due, unheld, oldest_wakeup = due_rows[0]
        inbox, oldest_arrival = db.execute(
            "SELECT COUNT(*), MIN(received_at) FROM callslots_inbox i "
            f"JOIN callslots_runs r ON r.id = i.run_id WHERE {_WAITING}"
        )[0]
        waits = []
        if oldest_wakeup is not None:
            waits.append((when - from_seconds(int(oldest_wakeup))).total_seconds())
        if oldest_arrival is not None:
            waits.append(clock - float(oldest_arrival))
        in_doubt = 0
        for (text,) in db.execute(
            "SELECT summary FROM callslots_runs WHERE status = 'active' "
            "AND summary IS NOT NULL AND summary NOT LIKE ?",
            ('%"in_doubt":0,%',),
        ):
            in_doubt += int(json.loads(text).get("in_doubt", 0))
        leases = {
            str(owner): int(n)
            for owner, n in db.execute(
                "SELECT lease_owner, COUNT(*) FROM callslots_runs WHERE lease_owner IS NOT NULL "
                "AND lease_expires > ? GROUP BY lease_owner ORDER BY lease_owner",
                (clock,),
            )
        }
        lapsed, takeovers = db.execute(
            "SELECT SUM(CASE WHEN lease_owner IS NOT NULL AND lease_expires <= ? "
            "THEN 1 ELSE 0 END), SUM(takeovers) FROM callslots_runs",
            (clock,),
        )[0]
        unreadable = {
            int(run_id): str(why)
            for run_id, why in db.execute(
                "SELECT id, unreadable FROM callslots_runs WHERE unreadable IS NOT NULL ORDER BY id"
            )
        }
        return StoreStats(
            runs=runs,
            due=int(due or 0),
            due_unheld=int(unheld or 0),
            oldest_due_seconds=max(waits) if int(due or 0) and waits else None,
            inbox=int(inbox),
            inbox_oldest_seconds=None if oldest_arrival is None else clock - float(oldest_arrival),
            in_doubt=in_doubt,
            leases=leases,
            lapsed_leases=int(lapsed or 0),
            takeovers=int(takeovers or 0),
            unreadable=unreadable,
        )

    def run_ids(self) -> list[int]:
        """Every run's id, in order of creation."""
        return [int(r[0]) for r in self.db.execute("SELECT id FROM callslots_runs ORDER BY id")]

    def events(self, run_id: int, after: int = 0) -> Iterator[Event]:
        """The run's event log from position ``after + 1`` on, in order
        (:class:`StoreError` at once for an unknown run; :class:`RunUnreadable`
        when a damaged log row is reached)."""
        run_id = _run_id(run_id)
        after = _whole(after, "after", low=0)
        self._run_row(run_id)
        return self._events(run_id, after)

    def _events(self, run_id: int, after: int) -> Iterator[Event]:
        while True:
            rows = self.db.execute(
                "SELECT position, kind, body, note FROM callslots_events "
                "WHERE run_id = ? AND position > ? ORDER BY position LIMIT ?",
                (run_id, after, PAGE),
            )
            for position, kind, body, note in rows:
                try:
                    found = _row_events(int(position), kind, body, note, after)
                except (ValueError, TypeError, KeyError, IndexError) as error:
                    raise RunUnreadable(
                        run_id, f"its log row at position {position} cannot be read: {error}"
                    ) from None
                yield from found
            if len(rows) < PAGE:
                return
            after = int(rows[-1][0])

    def archive_run(self, run_id: int, file: str | os.PathLike[str] | IO[str]) -> int:
        """Write a finished run's row, customers, final snapshot and every event
        to ``file`` (a path, or a text file open for writing) as JSON Lines, then
        delete the run's events from the database; returns how many were
        archived (docs/store.md, "Retention").  The run's row, customers and
        final snapshot stay, so :meth:`info` and :meth:`inspect` answer as
        before; :meth:`events` yields only what is logged after the archive.
        :class:`StoreError` for a run that is not finished (or has webhooks
        waiting, or got one while it was being archived: nothing is deleted)."""
        return archive.archive_run(self, _run_id(run_id), file)

    def restore_run(self, file: str | os.PathLike[str] | IO[str]) -> int:
        """Put an archived run back as a new run (its new id): the same row,
        customers, final snapshot and events, positions and all, so that
        :meth:`events` gives the archived log again."""
        return archive.restore_run(self, file)

    def inspect(self, run_id: int) -> Dispatcher:
        """The run's engine as the log says it is now, with the webhooks and
        commands its holder has applied in a poll not logged yet (read-only:
        nothing is written; those still waiting in the inbox are not applied).
        Calls handed out and not confirmed are in doubt, as after a crash."""
        run_id = _run_id(run_id)
        restored = self._restore(run_id, self._run_row(run_id))
        rows = self.db.execute(
            "SELECT i.kind, i.call_id, i.body FROM callslots_inbox i "
            "JOIN callslots_runs r ON r.id = i.run_id "
            "WHERE i.run_id = ? AND i.id <= COALESCE(r.inbox_applied, -1) ORDER BY i.id",
            (run_id,),
        )
        for kind, call_id, text in rows:  # as the holder applied them (rule 1)
            try:
                restored.replay(self, run_id, Event(0, kind, _inbox_body(call_id, text), None))
            except (DispatchError, ValueError, OverflowError):
                continue  # the holder logs it as rejected: it changed nothing
            look_ahead(restored.engine)
        return restored.crash_rule(self, run_id)

    # -- webhooks and commands from any process --------------------------------

    def record_started(self, run_id: int, call_id: str, at: datetime) -> None:
        """Call ``call_id`` of run ``run_id`` was placed at ``at``.  Durable on
        return; applied in arrival order by the worker holding the run."""
        self._post(run_id, "started", _call_id(call_id), {"at": _aware(at, "at").isoformat()})

    def record_not_started(self, run_id: int, call_id: str, reason: str = "") -> None:
        """The dial of ``call_id`` never happened (its attempt is not used up)."""
        body = {"reason": _text(reason, "reason", MAX_REASON)}
        self._post(run_id, "not_started", _call_id(call_id), body)

    def record_ended(self, run_id: int, call_id: str, outcome: Outcome | str, at: datetime) -> None:
        """Call ``call_id`` ended at ``at`` with ``outcome`` (an ``Outcome`` or an
        API name; an unknown one is a :class:`StoreError` now, not later)."""
        try:
            parsed = outcome if isinstance(outcome, Outcome) else Outcome.parse(outcome)
        except ValueError as error:
            raise StoreError(str(error)) from None
        body = {"outcome": parsed.value, "at": _aware(at, "at").isoformat()}
        self._post(run_id, "ended", _call_id(call_id), body)

    def cancel(self, run_id: int, customer_index: int, reason: str = "") -> None:
        """Never dial customer ``customer_index`` of the run again (an opt-out)."""
        body = {"customer": _index(customer_index), "reason": _text(reason, "reason", MAX_REASON)}
        self._post(run_id, "cancel", None, body)

    def callback(self, run_id: int, customer_index: int, at: datetime) -> None:
        """The person asked to be called back at ``at`` (docs/dispatch.md)."""
        body = {"customer": _index(customer_index), "at": _aware(at, "at").isoformat()}
        self._post(run_id, "callback", None, body)

    def pause(self, run_id: int) -> None:
        """Stop dialing the run's customers until :meth:`resume` (calls in progress
        go on; their webhooks are still recorded); through the inbox."""
        self._post(run_id, "pause", None, {})

    def resume(self, run_id: int) -> None:
        """Undo :meth:`pause`: the run dials again from its next poll."""
        self._post(run_id, "resume", None, {})

    def add_customers(self, run_id: int, customers: Iterable[object]) -> tuple[int, int]:
        """Append customers to the run's list; returns their index range
        ``(first, end)``.  Validated as in :meth:`create_run`."""
        run_id = _run_id(run_id)
        customers = _many(customers, "customers")
        with self.db.transaction():
            rows = self.db.execute(
                f"SELECT customer_count FROM callslots_runs WHERE id = ?{self.db.for_update}",
                (run_id,),
            )
            if not rows:
                raise StoreError(f"no run {run_id!r} in this store")
            first = end = int(rows[0][0])

            def values() -> Iterator[tuple[int, int, str, str | None]]:
                nonlocal end
                for offset, item in enumerate(customers):
                    customer = customer_from(item, f"customers.{offset}")
                    props = _properties(customer, f"customers.{offset}")
                    end = first + offset + 1
                    yield run_id, first + offset, customer.phone, props

            self.db.copy_rows(
                "callslots_customers", ("run_id", "idx", "phone", "properties"), values()
            )
            self.db.execute(
                "UPDATE callslots_runs SET customer_count = ?, status = 'active' WHERE id = ?",
                (end, run_id),
            )
            self._insert_inbox(run_id, "add", None, {"from": first, "to": end})
        return first, end

    def _post(self, run_id: int, kind: str, call_id: str | None, body: dict[str, Any]) -> None:
        run_id = _run_id(run_id)
        if self.db.kind == "postgresql":
            self._insert_inbox(run_id, kind, call_id, body)  # one statement: its own transaction
            return
        with self.db.transaction():
            self._insert_inbox(run_id, kind, call_id, body)

    def _insert_inbox(
        self, run_id: int, kind: str, call_id: str | None, body: dict[str, Any]
    ) -> None:
        # The run row is updated first: it exists, and its row lock orders this
        # webhook against the holder's poll (which locks the row before it reads
        # the inbox), so the wake-up set here is never overwritten unseen.
        # A held run's free_wakeup stays as it is (the holder's writes and this
        # one then change no indexed column: PostgreSQL updates the row in place).
        # Then wake the holder (or, for a run nobody holds, any waiting worker)
        # when this commits (PostgreSQL; SQLite workers find it at their next
        # poll), and add the row.
        wakeup = (
            "UPDATE callslots_runs SET next_wakeup = ?, free_wakeup = "
            "CASE WHEN lease_owner IS NULL THEN ? ELSE free_wakeup END WHERE id = ? "
        )
        now = time.time()
        if self.db.kind == "postgresql":
            # All three in one statement: one round trip instead of three (five
            # with BEGIN and COMMIT for a webhook); the insert reads the update's
            # row, so the row is locked first, as above.
            found = self.db.execute(
                f"WITH run AS ({wakeup} RETURNING id, pg_notify(?, id || ' ' || CASE "
                "WHEN lease_owner IS NOT NULL AND lease_expires > ? THEN lease_owner "
                "ELSE '' END)), added AS (INSERT INTO callslots_inbox (run_id, kind, "
                "call_id, body, received_at) SELECT id, ?, ?, ?, ? FROM run ON CONFLICT "
                "DO NOTHING) SELECT COUNT(*) FROM run",
                (DUE_NOW, DUE_NOW, run_id, _db.CHANNEL, now, kind, call_id, _dump(body), now),
            )
            if not found[0][0]:
                raise StoreError(f"no run {run_id!r} in this store")
            return
        touched = self.db.execute(
            wakeup + "RETURNING lease_owner, lease_expires", (DUE_NOW, DUE_NOW, run_id)
        )
        if not touched:
            raise StoreError(f"no run {run_id!r} in this store")
        owner, expires = touched[0]
        held = owner is not None and float(expires) > now
        self.db.notify(f"{run_id} {owner if held else ''}")
        self.db.execute(
            "INSERT INTO callslots_inbox (run_id, kind, call_id, body, received_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (run_id, kind, call_id, _dump(body), now),
        )

    # -- workers ---------------------------------------------------------------

    def worker(
        self,
        name: str = "worker",
        *,
        lease_seconds: float = 30.0,
        hold_seconds: float = 300.0,
        max_runs: int = 100,
    ) -> Worker:
        """A worker on this connection (docs/store.md, "Workers and leases")."""
        return Worker(
            self, name, lease_seconds=lease_seconds, hold_seconds=hold_seconds, max_runs=max_runs
        )

    # -- reading a run back ----------------------------------------------------

    def _run_row(self, run_id: int) -> tuple[Any, ...]:
        rows = self.db.execute(
            "SELECT campaign, campaign_digest, customer_count, lease_gen, position "
            "FROM callslots_runs WHERE id = ?",
            (run_id,),
        )
        if not rows:
            raise StoreError(f"no run {run_id!r} in this store")
        return rows[0]

    def _customers(self, run_id: int, start: int, stop: int) -> Iterator[object]:
        """Customers ``start`` to ``stop - 1`` of the run, read page by page when
        the engine asks for them."""
        at = start
        while at < stop:
            rows = self.db.execute(
                "SELECT idx, phone, properties FROM callslots_customers "
                "WHERE run_id = ? AND idx >= ? AND idx < ? ORDER BY idx LIMIT ?",
                (run_id, at, stop, PAGE),
            )
            if not rows:
                return
            for idx, phone, properties in rows:
                if int(idx) != at:
                    raise StoreError(f"run {run_id}: customer {at} is missing from the database")
                at += 1
                yield phone if properties is None else Customer(phone, json.loads(properties))

    def _list_for(self, run_id: int, state: Mapping[str, Any], count: int) -> Iterable[object]:
        """The customer list for ``Dispatcher.restore``: the entries the snapshot
        had read are skipped by the engine unread, so they are stand-ins here,
        except the last one, which the engine checks against the snapshot."""
        cursor = state.get("cursor") if isinstance(state, Mapping) else None
        if isinstance(cursor, int) and not isinstance(cursor, bool) and 0 < cursor <= count:
            return chain(repeat(None, cursor - 1), self._customers(run_id, cursor - 1, count))
        return self._customers(run_id, 0, count)

    def _restore(self, run_id: int, row: tuple[Any, ...]) -> _Restored:
        """The engine of the run: its latest snapshot, then the events after it."""
        campaign_text, digest, _, _, position = row
        try:
            payload = json.loads(campaign_text)
            campaign = Campaign.from_dict(payload)
        except (ValueError, TypeError) as error:
            raise RunUnreadable(run_id, f"its stored campaign cannot be read: {error}") from None
        normalized = {k: v for k, v in campaign.to_dict().items() if k != "customers"}
        if snapshots.digest(payload) != digest or snapshots.digest(normalized) != digest:
            raise RunUnreadable(
                run_id,
                "its campaign changed since the run was created (the stored settings do not "
                "match their digest, or this callslots reads them differently); the run was "
                "left untouched",
            )
        found = self.db.execute(
            "SELECT position, customer_count, body FROM callslots_snapshots WHERE run_id = ? "
            "ORDER BY position DESC LIMIT 1",
            (run_id,),
        )
        if not found:
            raise RunUnreadable(run_id, "it has no snapshot")
        snap_position, count, body = int(found[0][0]), int(found[0][1]), found[0][2]
        try:
            state = json.loads(body)
        except ValueError as error:
            raise RunUnreadable(
                run_id,
                f"snapshot at position {snap_position} is not JSON ({error}); left untouched",
            ) from None
        try:
            # Exact: the engine that took the snapshot; the events after it say
            # what became of its unconfirmed calls (the crash rule comes after).
            engine = Dispatcher.restore(
                campaign, state, self._list_for(run_id, state, count), exact=True
            )
        except DispatchError as error:
            raise RunUnreadable(
                run_id, f"snapshot at position {snap_position} cannot be restored: {error}"
            ) from None
        now = _exact(state.get("now"), state.get("now_us", 0))
        restored = _Restored(campaign, engine, count, now, snap_position, len(body))
        replayed = 0
        for event in self._events(run_id, snap_position):
            if event.position != snap_position + replayed + 1:
                raise RunUnreadable(run_id, f"event {snap_position + replayed + 1} is missing")
            replayed += 1
            if event.note is not None and event.note.startswith("rejected"):
                continue  # it changed nothing when it came
            try:
                restored.replay(self, run_id, event)
                look_ahead(restored.engine)
            except (DispatchError, KeyError, TypeError, ValueError) as error:
                raise RunUnreadable(
                    run_id, f"event {event.position} ({event.kind}) does not replay: {error}"
                ) from None
        if snap_position + replayed != int(position):
            raise RunUnreadable(
                run_id, f"the log ends at {snap_position + replayed}, the run says {position}"
            )
        restored.position = int(position)
        restored.replayed = replayed
        return restored


class _Listed:
    """Customers ``start`` to ``stop - 1`` of a stored run as an iterable that reads
    them afresh, page by page, each time it is iterated (an engine with a history
    reads a list twice: docs/limits.md)."""

    def __init__(self, store: Store, run_id: int, start: int, stop: int) -> None:
        self._store, self._run_id, self._start, self._stop = store, run_id, start, stop

    def __iter__(self) -> Iterator[object]:
        return self._store._customers(self._run_id, self._start, self._stop)


class _Restored:
    """An engine being rebuilt, and what the store must know beside it."""

    def __init__(
        self,
        campaign: Campaign,
        engine: Dispatcher,
        count: int,
        now: datetime | None,
        snap_position: int,
        snap_bytes: int,
    ) -> None:
        self.campaign = campaign
        self.engine = engine
        self.count = count
        self.now = now if isinstance(now, datetime) else None
        self.snap_position = snap_position
        self.snap_bytes = snap_bytes
        self.position = snap_position
        self.replayed = 0

    def crash_rule(self, store: Store, run_id: int) -> Dispatcher:
        """The engine through a snapshot and a plain restore: every Dial not
        confirmed is in doubt, as after a crash (docs/dispatch.md)."""
        state = self.engine.snapshot()
        try:
            return Dispatcher.restore(
                self.campaign, state, store._list_for(run_id, state, self.count)
            )
        except DispatchError as error:  # the log replayed, yet does not restore
            raise RunUnreadable(run_id, f"its replayed state does not restore: {error}") from None

    def replay(self, store: Store, run_id: int, event: Event) -> None:
        body, engine = event.body, self.engine
        if event.kind == "poll":
            now = _exact(int(body["now"]), int(body.get("us", 0)))
            assert now is not None
            dials = [[d.call_id, d.customer_index, d.attempt] for d in engine.poll(now)]
            expired = [[a.customer_index, a.attempt] for a in engine.expired()]
            self.now = now
            if dials != body["dials"] or expired != body.get("expired", []):
                raise DispatchError(
                    f"it handed out {body['dials']} and expired {body.get('expired', [])} when "
                    f"logged, {dials} and {expired} now: the campaign or the engine changed"
                )
        elif event.kind == "add":
            start, stop = int(body["from"]), int(body["to"])
            if start != self.count:
                raise DispatchError(f"customers added from {start}, the list had {self.count}")
            engine.add(_Listed(store, run_id, start, stop))
            self.count = stop
        else:
            apply_event(engine, event.kind, body)


def _inbox_body(call_id: str | None, text: str) -> dict[str, Any]:
    """An inbox row's event body: its JSON, with the call it names."""
    body: dict[str, Any] = json.loads(text)
    if call_id is not None:
        body["call"] = call_id
    return body


def look_ahead(engine: Dispatcher) -> None:
    """Ask the engine for its wake-up (and, when there is none, whether it is
    finished), as the store does after every event it applies, live or replayed.

    Both read customers ahead of the slots, which counts them in the summary as
    read (``pending``, or ``unscheduled`` once finished): doing it at the same
    moments live and in a replay makes a restored engine's totals equal to the
    original's, not only its Dials."""
    if engine.next_wakeup() is None:
        _ = engine.finished


def apply_event(engine: Dispatcher, kind: str, body: Mapping[str, Any]) -> Attempt | None:
    """Give ``engine`` one logged event that is not a poll or an add
    (DispatchError when the engine refuses it, its state unchanged)."""
    try:
        if kind == "started":
            engine.started(body["call"], parse_iso(body["at"]))
        elif kind == "not_started":
            engine.not_started(body["call"], body.get("reason", ""))
        elif kind == "ended":
            return engine.ended(body["call"], body["outcome"], parse_iso(body["at"]))
        elif kind == "cancel":
            engine.cancel(int(body["customer"]), body.get("reason", ""))
        elif kind == "callback":
            engine.callback(int(body["customer"]), parse_iso(body["at"]))
        elif kind == "pause":
            engine.pause()
        elif kind == "resume":
            engine.resume()
        else:
            raise DispatchError(f"unknown event kind {kind!r}")
    except (KeyError, TypeError) as error:
        raise DispatchError(f"a {kind} event without {error}") from None
    return None


class Worker:
    """Leases due runs and drives them (docs/store.md, "Workers and leases").

    ``lease_seconds``: how long a lease lasts without a write or a renewal (each
    :meth:`due` renews every lease this worker holds).  ``hold_seconds``: a run
    whose next wake-up is further away than this is released after its poll, so
    that any worker may take it when it is due.  ``max_runs``: the most runs
    held at once.
    """

    def __init__(
        self,
        store: Store,
        name: str,
        *,
        lease_seconds: float,
        hold_seconds: float,
        max_runs: int,
        clock: Any = time.time,
    ) -> None:
        name = _text(name, "name", MAX_WORKER_NAME)
        lease_seconds = _number(lease_seconds, "lease_seconds", low=0.0, above=True)
        if lease_seconds == float("inf"):
            raise StoreError(
                "lease_seconds must be finite: a run must move on when its worker dies"
            )
        hold_seconds = _number(hold_seconds, "hold_seconds", low=0.0)
        max_runs = _whole(max_runs, "max_runs", low=1)
        self.store = store
        self.name = name
        #: Unique among all workers ever: the lease owner written in the runs table.
        self.owner = f"{name}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.lease_seconds = float(lease_seconds)
        self.hold_seconds = float(hold_seconds)
        self.max_runs = max_runs
        #: The wall clock for leases, seconds since the epoch (``time.time``): a demo
        #: or a test replaces it to move leases by hand (docs/tutorial.md, step 7).
        self.clock = clock
        #: The runs this worker holds, with their engines.
        self.runs: dict[int, Run] = {}
        #: Runs this worker could not restore, with the reason (not tried again).
        self.failed: dict[int, str] = {}
        self._renewed = float("-inf")  # when due() last renewed the leases
        self._vacuumed = float("-inf")  # when due() last vacuumed the inbox
        self._inbox_deleted = 0  # inbox rows this worker deleted since then
        self._listener: _db.Listener | None = None

    @property
    def db(self) -> _db.Database:
        """This thread's connection of the worker's :class:`Store`."""
        return self.store.db

    def due(self, now: datetime | None = None, *, limit: int = 50) -> list[Run]:
        """The runs due at ``now`` (default: the current time) that this worker
        holds or has just leased, earliest wake-up first, at most ``limit``.

        Renews every lease this worker holds (when a third of ``lease_seconds``
        has passed since the last renewal) and gives back the held runs with
        nothing due within ``hold_seconds``.  A run taken over from another
        worker (or after a restart) is restored; its :meth:`Run.in_doubt` Dials
        must be settled before it is polled.  A run that cannot be restored is
        released untouched and recorded in :attr:`failed`.  When there is
        nothing to renew or take, it only reads (no write transaction).
        """
        when = datetime.now(_UTC) if now is None else _aware(now, "now")
        limit = _whole(limit, "limit", low=1)
        u = _seconds(when)
        wall = self.clock()
        db = self.db
        skip = sorted(self.failed)
        avoid = f" AND id NOT IN ({', '.join('?' * len(skip))})" if skip else ""
        given: list[tuple[Any, ...]] = []
        if wall >= self._renewed + self.lease_seconds / 3:
            expires = wall + self.lease_seconds
            with db.transaction():
                db.execute(
                    "UPDATE callslots_runs SET lease_expires = ? WHERE lease_owner = ? "
                    "AND lease_expires > ?",
                    (expires, self.owner, wall),
                )
                # Runs held and idle (nothing due within hold_seconds): given back,
                # so any worker may take them when they are due.  Their last Dials
                # were placed before this call (the worker loop is sequential).
                given = db.execute(
                    f"UPDATE callslots_runs SET {_RELEASE} "
                    "WHERE lease_owner = ? AND "
                    "(next_wakeup IS NULL OR (next_wakeup > ? AND next_wakeup <> ?)) "
                    "RETURNING id",
                    (self.owner, u + self.hold_seconds, DUE_NOW),
                )
                self._store_totals([int(r[0]) for r in given])
            self._renewed = wall
        if (
            db.kind == "postgresql"
            and self._inbox_deleted
            and wall >= self._vacuumed + INBOX_VACUUM_SECONDS
        ):
            self._vacuumed, self._inbox_deleted = wall, 0
            try:
                db.vacuum("callslots_inbox")
            except StoreUnavailable:
                raise
            except StoreError as error:  # e.g. inside a caller's transaction
                log.warning("could not vacuum callslots_inbox: %s", error)
        for (run_id,) in given:
            gone = self.runs.pop(int(run_id), None)
            if gone is not None:
                gone.held = False
        mine = db.execute(
            "SELECT id, lease_gen, position, lease_expires FROM callslots_runs "
            "WHERE lease_owner = ? AND next_wakeup <= ? AND lease_expires > ? "
            "ORDER BY next_wakeup LIMIT ?",
            (self.owner, u, wall, limit),
        )
        held = sum(1 for r in self.runs.values() if r.held and not r.dead)
        room = min(limit - len(mine), self.max_runs - held)
        taken: list[tuple[Any, ...]] = []
        free = (
            "SELECT id FROM callslots_runs WHERE lease_owner IS NULL "
            f"AND free_wakeup IS NOT NULL AND free_wakeup <= ?{avoid} "
            "ORDER BY free_wakeup LIMIT ?"
        )
        lapsed = (  # leases that ran out: their worker died or stalled
            "SELECT id FROM callslots_runs WHERE lease_owner IS NOT NULL "
            f"AND lease_expires <= ? AND next_wakeup <= ?{avoid} "
            "ORDER BY lease_expires LIMIT ?"
        )
        if room > 0 and (
            db.execute(free, (u, *skip, 1)) or db.execute(lapsed, (wall, u, *skip, 1))
        ):
            expires = wall + self.lease_seconds
            with db.transaction():
                # Again under locks: another worker may have taken them meanwhile.
                ids = [r[0] for r in db.execute(free + db.skip_locked, (u, *skip, room))]
                if len(ids) < room:
                    ids += [
                        r[0]
                        for r in db.execute(
                            lapsed + db.skip_locked, (wall, u, *skip, room - len(ids))
                        )
                    ]
                if ids:
                    marks = ", ".join("?" * len(ids))
                    taken = db.execute(
                        # a lease taken from an owner whose lease ran out: a takeover
                        "UPDATE callslots_runs SET lease_owner = ?, lease_gen = lease_gen + 1, "
                        "takeovers = takeovers + "
                        "CASE WHEN lease_owner IS NULL THEN 0 ELSE 1 END, inbox_applied = NULL, "
                        f"lease_expires = ? WHERE id IN ({marks}) "
                        "RETURNING id, lease_gen, position, lease_expires",
                        (self.owner, expires, *ids),
                    )
        found: list[Run] = []
        for run_id, gen, position, expiry in [*mine, *taken]:
            run = self._ready(int(run_id), int(gen), int(position), float(expiry))
            if run is not None:
                found.append(run)
        return found

    def _ready(self, run_id: int, gen: int, position: int, expires: float) -> Run | None:
        """The run with its engine: the one in memory while this worker has held
        the lease all along (same generation, nothing written by others), else
        one restored from the database.  A lease that was given back or ran out
        is never resumed from memory: Dials handed out under it and not placed
        (the lease ran out first, the dial loop broke) must come back in doubt."""
        run = self.runs.get(run_id)
        if (
            run is not None
            and not run.dead
            and run.held
            and run.gen == gen
            and run.position == position
        ):
            run.lease_expires = expires
            return run
        try:
            row = self.store._run_row(run_id)
            restored = self.store._restore(run_id, row)
            # Dials handed out by the worker that held the run before and not
            # confirmed may have rung: they come back in doubt (the crash rule).
            restored.engine = restored.crash_rule(self.store, run_id)
            run = Run(self, run_id, gen, expires, restored)
            run._settle()
        except RunUnreadable as error:
            log.error("%s", error)
            self.failed[run_id] = str(error)
            self.runs.pop(run_id, None)
            self._give_back(run_id, gen, unreadable=str(error))
            return None
        except LeaseLost:
            self.runs.pop(run_id, None)
            return None
        self.runs[run_id] = run
        return run

    def poll(
        self,
        runs: Iterable[Run],
        now: datetime | None = None,
        *,
        batch: int = BATCH_RUNS,
        batch_seconds: float = BATCH_SECONDS,
    ) -> list[tuple[Run, list[Dial]]]:
        """Poll many held runs at ``now`` (default: the current time) with one
        transaction per batch (group commit): each run exactly as
        :meth:`Run.poll` does it (its inbox applied, its poll and wake-up logged
        under its own lease check), one commit for the batch.  A batch is at
        most ``batch`` runs and closes after the run that takes it past
        ``batch_seconds`` of wall time (the runs left go to the next one); its
        engines are polled before its write lock is taken, so that the lock is
        held only for the statements.  Returns ``(run, dials)`` for each run
        polled, in the order given, after its batch committed (write-ahead).

        Fencing stays per run (docs/store.md, "Group commit"): a run whose lease
        this worker no longer holds (another worker took it, it ran out, or the
        handle is dead or released) is left out, its handle dead, and the other
        runs of the batch commit.  A ``now`` earlier than a run's last poll is a
        ``DispatchError`` before anything is done; a database error fails the
        whole batch (its handles dead, as :meth:`Run.poll` leaves its own)."""
        when = datetime.now(_UTC) if now is None else _aware(now, "now")
        batch = _whole(batch, "batch", low=1)
        limit = _number(batch_seconds, "batch_seconds", low=0.0)
        todo: list[Run] = []
        seen: set[int] = set()
        for run in _many(runs, "runs"):
            if not isinstance(run, Run) or run.worker is not self:
                raise StoreError(f"runs must be Run handles this worker leased, not {_show(run)}")
            if run.id in seen or run.dead or not run.held:
                continue  # lost or given back: left out, as a lost lease
            run._check_now(when)
            seen.add(run.id)
            todo.append(run)
        polled: list[tuple[Run, list[Dial]]] = []
        while todo:
            done, rest = self._poll_batch(todo[:batch], when, limit)
            polled += done
            todo = rest + todo[batch:]
        return polled

    def _poll_batch(
        self, runs: list[Run], when: datetime, limit: float
    ) -> tuple[list[tuple[Run, list[Dial]]], list[Run]]:
        """One transaction of :meth:`poll`: the runs polled, and those left for
        the next batch (over ``limit`` seconds; at least one run is polled).

        The engines are polled before the transaction, on the inbox as committed
        then, so that the write lock is held only for the statements: under it,
        each run's fence is checked (a run that fails is dropped, its engine with
        it), and a run whose inbox got a row since it was read stays due now, so
        that a webhook's wake-up is never overwritten unseen (rule 7)."""
        db = self.db
        began = time.perf_counter()
        writes = _Writes(db)
        done: list[tuple[Run, list[Dial]]] = []
        rest: list[Run] = []
        polled: list[tuple[Run, _Write, list[Dial]]] = []
        try:
            # The inbox of every run at once, oldest first: each run gets a prefix
            # of its rows; when the page is full, more may wait, and every run of
            # the batch stays due.
            page = PAGE + sum(len(r._pending_ids) for r in runs)
            marks = ", ".join("?" * len(runs))
            inbox = db.execute(
                "SELECT id, run_id, kind, call_id, body FROM callslots_inbox "
                f"WHERE run_id IN ({marks}) ORDER BY id LIMIT ?",
                (*(r.id for r in runs), page),
            )
            full = len(inbox) >= page
            waiting: dict[int, list[tuple[Any, ...]]] = {r.id: [] for r in runs}
            for row_id, run_id, kind, call_id, text in inbox:
                waiting[int(run_id)].append((row_id, kind, call_id, text))
            for i, run in enumerate(runs):
                if i and time.perf_counter() - began > limit:
                    rest = runs[i:]  # untouched: polled by the next batch
                    break
                write = _Write(run, writes)
                write.due_now = full
                dials = run._poll_in(write, when, waiting[run.id])
                # the log row's body too, ahead of the lock (_finish takes it)
                write.encoded = _log.encode(run.gen, write.events)
                polled.append((run, write, dials))
            ids = [run.id for run, _, _ in polled]
            marks = ", ".join("?" * len(ids))
            with db.transaction():
                wall = self.clock()
                # The fence of each run, under its row lock (rule 4): only rows this
                # worker still owns are locked, in id order (no deadlock between
                # batches); a run another worker took is not waited for.
                rows = db.execute(
                    "SELECT id, lease_gen, lease_expires, position FROM callslots_runs "
                    f"WHERE lease_owner = ? AND id IN ({marks}) ORDER BY id{db.for_update}",
                    (self.owner, *ids),
                )
                fences = {int(r[0]): (int(r[1]), float(r[2]), int(r[3])) for r in rows}
                # Inbox rows now against those read: only the holder deletes a
                # run's rows, so more rows than read means new ones came.
                counts = {
                    int(run_id): int(n)
                    for run_id, n in db.execute(
                        "SELECT run_id, COUNT(*) FROM callslots_inbox "
                        f"WHERE run_id IN ({marks}) GROUP BY run_id",
                        ids,
                    )
                }
                for run, write, dials in polled:
                    why = _fenced(run, fences.get(run.id), wall)
                    if why is not None:
                        run.dead = True
                        log.warning(
                            "run %s: lease lost (%s); left out of the batch, nothing "
                            "written for it",
                            run.id,
                            why,
                        )
                        continue
                    write.wall, write.expires = wall, fences[run.id][1]
                    if counts.get(run.id, 0) > len(waiting[run.id]):
                        write.due_now = True  # a webhook came meanwhile: stay due
                    write._finish()
                    done.append((run, dials))
                writes.flush()
        except BaseException:
            # the engines may hold what the database will not: restored again
            for run in runs:
                if run not in rest:
                    run.dead = True
            raise
        return done, rest

    def _store_totals(self, run_ids: Iterable[int]) -> None:
        """Store the live totals of runs being given back whose last write left
        them behind (inside the caller's transaction; only the summary column,
        and only on rows whose log is where this worker's engine is)."""
        for run_id in run_ids:
            run = self.runs.get(run_id)
            if run is None or run.dead or run.totals_position == run.position or run._pending:
                continue  # (unlogged events: the next holder applies them again)
            self.db.execute(
                "UPDATE callslots_runs SET summary = ? WHERE id = ? AND position = ?",
                (_totals(run._engine, run.position), run_id, run.position),
            )
            run.totals_position = run.position

    def _give_back(self, run_id: int, gen: int, unreadable: str | None = None) -> None:
        """Give the lease back; ``unreadable``: why the run could not be restored,
        kept in the row for store.stats() (nothing else of the run changes)."""
        with self.db.transaction():
            self._store_totals([run_id])
            self.db.execute(
                f"UPDATE callslots_runs SET {_RELEASE}"
                + (", unreadable = ?" if unreadable is not None else "")
                + " WHERE id = ? AND lease_owner = ? AND lease_gen = ?",
                (*(() if unreadable is None else (unreadable[:2000],)), run_id, self.owner, gen),
            )

    def wait(self, timeout: float) -> list[int]:
        """Sleep until a run may need this worker, at most ``timeout`` seconds.

        PostgreSQL: returns as soon as a webhook or command is recorded for a
        run this worker holds or that nobody holds, or a new run is created
        (``LISTEN``/``NOTIFY``, on a connection of the worker's own, opened at
        the first call, which returns [] at once); the ids of those runs, or []
        at the timeout.  SQLite:
        sleeps the whole ``timeout`` and returns [] (docs/store.md, "Several
        workers": keep it short).  Call it between :meth:`due` rounds with the
        time until :meth:`next_due` as the timeout."""
        timeout = _number(timeout, "timeout", low=0.0)
        if timeout > MAX_WAIT:
            raise StoreError(
                f"timeout must be at most {MAX_WAIT} seconds (wait again), not {timeout}"
            )
        if self.store.kind != "postgresql":
            time.sleep(timeout)
            return []
        if self._listener is None:
            # Listening starts now: what was recorded before is found by the
            # caller's next due(), so return at once.
            self._listener = self.store._listen()
            return []
        deadline = time.monotonic() + timeout
        while True:
            woken: list[int] = []
            try:
                payloads = self._listener.wait(max(0.0, deadline - time.monotonic()))
            except StoreError:
                self.close()  # listen again from the next call
                raise
            for payload in payloads:
                run_id, _, owner = payload.partition(" ")
                if owner in ("", self.owner) and run_id.isdigit():
                    woken.append(int(run_id))
            if woken or time.monotonic() >= deadline:
                return sorted(set(woken))

    def close(self) -> None:
        """Close the worker's listening connection (PostgreSQL), if it opened one;
        its leases are not given back (:meth:`release_all` does that)."""
        if self._listener is not None:
            self.store._unlisten(self._listener)
            self._listener = None

    def release_all(self) -> None:
        """Give back every lease this worker holds (a clean shutdown)."""
        with self.db.transaction():
            self._store_totals([i for i, r in self.runs.items() if r.held])
            self.db.execute(
                f"UPDATE callslots_runs SET {_RELEASE} WHERE lease_owner = ?",
                (self.owner,),
            )
        for run in self.runs.values():
            run.held = False
        self.runs.clear()

    def forget(self) -> None:
        """Drop every engine kept in memory (after :class:`StoreUnavailable`:
        whether the last write committed is unknown, so the database decides)."""
        for run in self.runs.values():
            run.dead = True
        self.runs.clear()

    def next_due(self, *, any_holder: bool = False) -> datetime | None:
        """The earliest wake-up among the runs this worker could lease now (its
        own and free ones; with ``any_holder``, runs other workers hold too),
        for sleeping until then; None when there is none.  Runs in
        :attr:`failed` do not count."""
        skip = sorted(self.failed)
        avoid = f" AND id NOT IN ({', '.join('?' * len(skip))})" if skip else ""
        held = (
            ""
            if any_holder
            else " AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires <= ?)"
        )
        rows = self.db.execute(
            "SELECT MIN(next_wakeup) FROM callslots_runs "
            f"WHERE next_wakeup IS NOT NULL{held}{avoid}",
            (*(() if any_holder else (self.owner, self.clock())), *skip),
        )
        value = rows[0][0] if rows else None
        if value is None:
            return None
        return datetime(1, 1, 1, tzinfo=_UTC) if value == DUE_NOW else from_seconds(int(value))


class Run:
    """A run leased by a worker, with its engine (from :meth:`Worker.due`).

    Every method that changes the run logs it first under the lease check; a
    :class:`LeaseLost` or :class:`StoreUnavailable` makes this object dead (the
    engine in memory may be ahead of the database), and the run is restored from
    the database when it is leased again.
    """

    def __init__(
        self, worker: Worker, run_id: int, gen: int, lease_expires: float, restored: _Restored
    ) -> None:
        self.worker = worker
        self.id = run_id
        self.gen = gen
        self.lease_expires = lease_expires
        self.campaign = restored.campaign
        self._engine = restored.engine
        self.count = restored.count
        self.position = restored.position
        self.snap_position = restored.snap_position
        self.snap_bytes = restored.snap_bytes
        #: The last poll's instant, exact (None before the first poll): the same
        #: whether the run was restored from a snapshot or by replaying its log.
        self.last_now: datetime | None = restored.now
        self.held = True
        self.dead = False
        self._expired: list[Attempt] = []
        self.status_at = float("-inf")  # when a write last stored the live totals
        self.totals_position = -1  # the log position they were stored at
        #: Events applied to the engine and not logged yet (a poll that changed
        #: nothing outside, and the inbox rows it applied: _Write._defer).
        self._pending: list[tuple[str, dict[str, Any], str | None]] = []
        self._pending_ids: list[int] = []

    def __repr__(self) -> str:
        return f"<Run {self.id} gen {self.gen} at event {self.position}>"

    @property
    def last_seconds(self) -> int | None:
        """:attr:`last_now` in whole UTC seconds, rounded down."""
        return None if self.last_now is None else _seconds(self.last_now)

    # -- reading --------------------------------------------------------------

    def in_doubt(self) -> list[Dial]:
        """Dials handed out before a crash or a takeover and never confirmed:
        settle each one from the telephony log (``started``/``ended`` if the
        call was placed, ``not_started`` if not) before dialing more."""
        return self._engine.in_doubt()

    def in_progress(self) -> list[Dial]:
        """Every Dial handed out and not ended (those in doubt included)."""
        return self._engine.in_progress()

    def next_wakeup(self) -> datetime | None:
        """The engine's next wake-up (``Dispatcher.next_wakeup``): when a poll
        could next place a call or close an expired one; None when only an event
        can change anything."""
        return self._engine.next_wakeup()

    @property
    def summary(self) -> Summary:
        """The run's totals so far (``Dispatcher.summary``)."""
        return self._engine.summary

    @property
    def finished(self) -> bool:
        """Whether every customer is done (``Dispatcher.finished``)."""
        return self._engine.finished

    @property
    def paused(self) -> bool:
        """Whether the run is paused (``Store.pause``, :meth:`pause`)."""
        return self._engine.paused

    def virtual_now(self) -> datetime | None:
        """The instant a *virtual* clock (demos, tests) polls this run at next,
        without running ahead of the webhooks of its live calls (docs/store.md,
        rule 9): the last poll's instant when webhooks wait in the inbox (the
        poll applies them and changes nothing else); None when nothing can happen
        before an event (every line held, or a live call could reach its
        ``maxCallSeconds`` deadline first: its webhooks have not come yet);
        else the next wake-up, never before the last poll."""
        last, wake = self.last_now, self._engine.next_wakeup()
        applied = set(self._pending_ids)
        waiting = [
            row
            for row in self.worker.db.execute(
                "SELECT id FROM callslots_inbox WHERE run_id = ? ORDER BY id LIMIT ?",
                (self.id, len(applied) + 1),
            )
            if int(row[0]) not in applied
        ]
        if waiting:
            return last if last is not None else wake
        if wake is None:
            return None
        doubt = {d.call_id for d in self._engine.in_doubt()}
        live = [d.at for d in self._engine.in_progress() if d.call_id not in doubt]
        # a call expires maxCallSeconds after it started, and it starts at its
        # slot or later: nothing expires before the earliest slot + maxCallSeconds
        if live and wake >= min(live) + timedelta(seconds=self.campaign.max_call_seconds):
            return None
        return wake if last is None else max(wake, last)

    def expired(self) -> list[Attempt]:
        """The calls the last polls closed as expired (``maxCallSeconds``)."""
        found, self._expired = self._expired, []
        return found

    def may_dial(self, margin: float = 1.0) -> bool:
        """Whether this worker's lease still has ``margin`` seconds to run: place
        a poll's Dials only while it does (after it, another worker may take the
        run and settle those Dials as never placed)."""
        margin = _number(margin, "margin", low=float("-inf"))
        return self.held and not self.dead and self.worker.clock() + margin < self.lease_expires

    # -- changing -------------------------------------------------------------

    def poll(self, now: datetime | None = None) -> list[Dial]:
        """Apply the run's inbox in arrival order, poll the engine at ``now``
        (default: the current time), log both and the new wake-up in one
        transaction, then return the Dials: they are durable before the caller
        sees them (write-ahead)."""
        when = datetime.now(_UTC) if now is None else _aware(now, "now")
        # Checked before the inbox is applied: a refused poll changes nothing.
        self._check_now(when)
        with self._write() as log_:
            return self._poll_in(log_, when)

    def _check_now(self, when: datetime) -> None:
        if self.last_now is not None and when < self.last_now:
            raise DispatchError(
                f"run {self.id}: poll at {when.isoformat()} is earlier than the previous "
                f"poll at {self.last_now.isoformat()}; time only moves forward"
            )

    def _poll_in(
        self, log_: _Write, when: datetime, inbox: list[tuple[Any, ...]] | None = None
    ) -> list[Dial]:
        """The poll inside the write ``log_``: apply the inbox (``inbox``: its rows
        read already, by a batch), poll the engine, log the poll."""
        u = _seconds(when)
        us = (when - _EPOCH).microseconds
        self._take_inbox(log_, inbox)
        dials = self._engine.poll(when)
        look_ahead(self._engine)
        log_.dialed = bool(dials)
        expired = self._engine.expired()
        # a poll that hands out nothing and closes nothing may wait for the
        # run's next logged write (see _Write.finish)
        log_.deferrable = not dials and not expired
        self._expired.extend(expired)
        self.last_now = _exact(u, us)
        body: dict[str, Any] = {
            "now": u,
            "lease": self.gen,
            "dials": [[d.call_id, d.customer_index, d.attempt] for d in dials],
            "expired": [[a.customer_index, a.attempt] for a in expired],
        }
        if us:
            # the microseconds too, so that a replay restores the same instant
            # as a snapshot does (the engine keeps them: a later poll may not
            # be earlier)
            body["us"] = us
        log_.append(("poll", body, None))
        return dials

    def _take_inbox(self, log_: _Write, inbox: list[tuple[Any, ...]] | None = None) -> None:
        """Apply the webhooks and commands waiting in the inbox, oldest first,
        and remove them (inside the write ``log_``, which logs them).  ``inbox``:
        the run's rows ``(id, kind, call_id, body)`` read by a batch (the oldest
        first, its caller sets ``log_.due_now`` when more may wait)."""
        applied = set(self._pending_ids)  # applied already, logged with this write
        if inbox is None:
            inbox = self.worker.db.execute(
                "SELECT id, kind, call_id, body FROM callslots_inbox WHERE run_id = ? "
                "ORDER BY id LIMIT ?",
                (self.id, PAGE + len(applied)),
            )
        log_.read_inbox = True
        new = [row for row in inbox if int(row[0]) not in applied] if applied else inbox
        if len(new) >= PAGE:
            log_.due_now = True  # more waits: stay due
        for row_id, kind, call_id, text in new:
            log_.append(self._apply_inbox(kind, _inbox_body(call_id, text)))
            log_.taken.append(int(row_id))
            look_ahead(self._engine)

    def _apply_inbox(
        self, kind: str, body: dict[str, Any]
    ) -> tuple[str, dict[str, Any], str | None]:
        if kind == "add":
            start, stop = int(body["from"]), int(body["to"])
            if start != self.count:
                return (
                    kind,
                    body,
                    f"rejected: customers added from {start}, the list has {self.count}",
                )
            self._engine.add(_Listed(self.worker.store, self.id, start, stop))
            self.count = stop
            return kind, body, None
        try:
            result = apply_event(self._engine, kind, body)
        except (DispatchError, ValueError, OverflowError) as error:
            # An inbox row the engine cannot take (whatever the reason) is logged
            # as rejected and skipped, never left to block the run.
            log.warning("run %s: %s webhook rejected: %s", self.id, kind, error)
            return kind, body, f"rejected: {error}"
        return kind, body, self._ignored(body) if kind == "ended" and result is None else None

    def started(self, call_id: str, at: datetime) -> None:
        """Call ``call_id`` was placed at ``at`` (logged, then applied)."""
        self._event("started", {"call": _call_id(call_id), "at": _aware(at, "at").isoformat()})

    def not_started(self, call_id: str, reason: str = "") -> None:
        """Call ``call_id`` was never placed: its attempt waits again."""
        body = {"call": _call_id(call_id), "reason": _text(reason, "reason", MAX_REASON)}
        self._event("not_started", body)

    def ended(self, call_id: str, outcome: Outcome | str, at: datetime) -> Attempt | None:
        """The holder's report that call ``call_id`` ended with ``outcome`` (an
        :class:`~callslots.Outcome` or its name) at ``at``: applied, then logged.
        Returns the finished Attempt, or None for a duplicate.  A conflicting
        event is a ``DispatchError`` and a lost lease :class:`LeaseLost`; then
        nothing is written."""
        try:
            parsed = outcome if isinstance(outcome, Outcome) else Outcome.parse(outcome)
        except ValueError as error:
            raise DispatchError(str(error)) from None
        body = {
            "call": _call_id(call_id),
            "outcome": parsed.value,
            "at": _aware(at, "at").isoformat(),
        }
        return self._event("ended", body)

    def cancel(self, customer_index: int, reason: str = "") -> None:
        """Never dial customer ``customer_index`` again (an opt-out): applied, then
        logged (``Dispatcher.cancel``)."""
        body = {"customer": _index(customer_index), "reason": _text(reason, "reason", MAX_REASON)}
        self._event("cancel", body)

    def pause(self) -> None:
        """Stop dialing until :meth:`resume`: applied, then logged."""
        self._event("pause", {})

    def resume(self) -> None:
        """Undo :meth:`pause`: applied, then logged."""
        self._event("resume", {})

    def _event(self, kind: str, body: dict[str, Any]) -> Attempt | None:
        """Apply an event the holder reports (a DispatchError leaves everything as
        it was), then log it."""
        self._alive()
        with self._write() as log_:
            result = apply_event(self._engine, kind, body)
            look_ahead(self._engine)
            note = self._ignored(body) if kind == "ended" and result is None else None
            log_.append((kind, body, note))
        return result

    def _ignored(self, body: Mapping[str, Any]) -> str:
        """Why the engine ignored an ``ended``: ``"late"`` when a poll had closed
        its call as expired (``maxCallSeconds``) before it came, else
        ``"duplicate"`` (the call had ended already).  Read from the log: the poll
        that handed the call out, and a later poll that expired its attempt
        (this path is rare: only ignored webhooks take it)."""
        db = self.worker.db
        call = str(body.get("call", ""))
        if not call.isdigit():
            return "duplicate"
        # The log rows that may hold the poll that handed the call out: a Dial
        # is written ["call", index, attempt] in both the old and the compact rows
        # (a JSON string cannot hold an unescaped quote, so only a Dial matches).
        handed = None
        for position, kind, text, note in db.execute(
            "SELECT position, kind, body, note FROM callslots_events WHERE run_id = ? "
            "AND kind IN ('poll', ?) AND body LIKE ? ORDER BY position",
            (self.id, _log.BATCH, f'%["{call}",%'),
        ):
            for event in _row_events(int(position), kind, text, note, 0):
                for dial in event.body.get("dials", []) if event.kind == "poll" else []:
                    if dial[0] == call:
                        handed = (event.position, int(dial[1]), int(dial[2]))
                        break
                if handed is not None:
                    break
            if handed is not None:
                break
        if handed is None:
            return "duplicate"
        at, index, attempt = handed
        for position, kind, text, note in db.execute(
            "SELECT position, kind, body, note FROM callslots_events WHERE run_id = ? "
            "AND kind IN ('poll', ?) AND position > ? AND body LIKE ? ORDER BY position",
            (self.id, _log.BATCH, at, f"%[{index},{attempt}]%"),
        ):
            for event in _row_events(int(position), kind, text, note, at):
                if event.kind == "poll" and [index, attempt] in event.body.get("expired", []):
                    return "late"
        return "duplicate"

    def release(self) -> None:
        """Give the lease back now (a later lease restores the run)."""
        if self.dead or not self.held:
            return
        self.held = False
        try:
            self.worker._give_back(self.id, self.gen)  # with the live totals
        finally:
            self.worker.runs.pop(self.id, None)

    # -- the one write path ------------------------------------------------------

    def _alive(self) -> None:
        if self.dead:
            raise LeaseLost(f"run {self.id}: this handle is no longer valid; lease the run again")
        if not self.held:
            raise LeaseLost(f"run {self.id} was released; lease it again with Worker.due()")

    def _write(self) -> _Write:
        self._alive()
        return _Write(self)

    def _settle(self) -> None:
        """Right after a restore: store the engine as it now is (unconfirmed
        Dials in doubt) as the run's snapshot, so that a later restore replays
        from it exactly, and apply the inbox, so that :meth:`in_doubt` already
        counts the webhooks received while nobody held the run."""
        with self._write() as log_:
            log_.force_snapshot = True
            log_.keep = True  # the caller of Worker.due is about to use it
            self._take_inbox(log_)


def _fenced(run: Run, fence: tuple[int, float, int] | None, wall: float) -> str | None:
    """Why ``run``'s write must not happen, given its row's ``(lease_gen,
    lease_expires, position)`` read under the lock (None when this worker does
    not own the row any more); None when it may (rule 4)."""
    if fence is None:
        return "another worker holds it, or nobody does"
    gen, expires, position = fence
    if gen != run.gen:
        return f"generation {gen}, not {run.gen}"
    if expires <= wall:
        return "its expiry passed"
    if position != run.position:
        return "the log moved under this lease"
    return None


def _idle(next_value: int | None, now: int | None, worker: Worker) -> bool:
    """Nothing due within the worker's ``hold_seconds`` (or only an event can help)."""
    if next_value is None:
        return True
    if next_value == DUE_NOW or now is None:
        return False
    return next_value > now + worker.hold_seconds


class _Writes:
    """The hot statements of one transaction (one write, or a batch of polls:
    :meth:`Worker.poll`), sent together by :meth:`flush`: the inbox rows logged,
    deleted; the log rows, inserted; the runs' rows, updated (grouped by their
    SQL text, each group one ``executemany``: one prepared statement, and on
    PostgreSQL one pipeline instead of a round trip a row)."""

    def __init__(self, db: _db.Database) -> None:
        self.db = db
        self.deleted: list[int] = []
        self.logged: list[tuple[int, int, str, str]] = []
        self.updates: dict[str, list[tuple[Any, ...]]] = {}

    def update(self, sql: str, params: tuple[Any, ...]) -> None:
        self.updates.setdefault(sql, []).append(params)

    def flush(self) -> None:
        db = self.db
        if self.deleted:
            _run(db, "DELETE FROM callslots_inbox WHERE id = ?", [(i,) for i in self.deleted])
            self.deleted = []
        if self.logged:
            _run(
                db,
                "INSERT INTO callslots_events (run_id, position, kind, body, note) "
                "VALUES (?, ?, ?, ?, NULL)",
                self.logged,
            )
            self.logged = []
        for sql, rows in self.updates.items():
            _run(db, sql, rows)
        self.updates = {}


def _run(db: _db.Database, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """``sql`` once per row: one execute for one row, else one executemany."""
    if len(rows) == 1:
        db.execute(sql, rows[0])
    else:
        db.executemany(sql, rows)


class _Write:
    """The transaction of one change to a run: lock the run's row, check the
    lease, let the caller apply events to the engine, append them to the log,
    move the wake-up and renew (or release) the lease, snapshot when due."""

    def __init__(self, run: Run, writes: _Writes | None = None) -> None:
        self.run = run
        #: The statements of the transaction: its own, or a batch's (Worker.poll).
        self.writes = writes if writes is not None else _Writes(run.worker.db)
        self.events: list[tuple[str, dict[str, Any], str | None]] = []
        self.due_now = False
        self.keep = False
        self.read_inbox = False
        self.dialed = False
        self.force_snapshot = False
        self.deferrable = False
        # Events applied by an earlier poll that was not logged (its inbox rows
        # are still in the inbox): logged first, by this write.
        self.events.extend(run._pending)
        #: The inbox rows this write applied (those earlier ones too): deleted
        #: when it logs them.
        self.taken: list[int] = list(run._pending_ids)
        #: The log row's body, when a batch encoded it ahead of its lock.
        self.encoded: str | None = None
        self._tx: Any = None

    def append(self, event: tuple[str, dict[str, Any], str | None]) -> None:
        self.events.append(event)

    def __enter__(self) -> _Write:
        run = self.run
        worker = run.worker
        db = worker.db
        self._tx = db.transaction()
        self._tx.__enter__()
        try:
            wall = worker.clock()
            rows = db.execute(
                "SELECT lease_owner, lease_gen, lease_expires, position FROM callslots_runs "
                f"WHERE id = ?{db.for_update}",
                (run.id,),
            )
            owner, gen, expires, position = rows[0] if rows else (None, None, 0.0, None)
            if owner != worker.owner or gen != run.gen or expires <= wall:
                raise LeaseLost(
                    f"run {run.id}: lease lost (held by {owner!r}, generation {gen}, "
                    f"expiry {'passed' if expires <= wall else 'ahead'}); nothing was written"
                )
            if position != run.position:
                raise LeaseLost(f"run {run.id}: the log moved under this lease; nothing written")
        except BaseException as error:
            run.dead = True
            self._tx.__exit__(type(error), error, error.__traceback__)
            raise
        self.wall = wall
        self.expires = float(expires)
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        run = self.run
        if error is not None:
            # The engine may already hold what the database will not: drop it,
            # unless the engine refused the event (then nothing changed).
            if not isinstance(error, DispatchError):
                run.dead = True
            self._tx.__exit__(kind, error, trace)
            return
        try:
            self._finish()
            self.writes.flush()
        except BaseException as failure:
            run.dead = True
            self._tx.__exit__(type(failure), failure, failure.__traceback__)
            raise
        try:
            self._tx.__exit__(None, None, None)
        except BaseException:
            run.dead = True
            raise

    def _finish(self) -> None:
        run = self.run
        worker = run.worker
        store = worker.store
        db = worker.db
        start = run.position
        engine = run._engine
        wakeup = engine.next_wakeup()
        finished = wakeup is None and not engine.in_progress() and engine.finished
        if self._defer(finished):
            return
        position = start + len(self.events)
        writes = self.writes
        if self.taken:
            writes.deleted.extend(self.taken)
            worker._inbox_deleted += len(self.taken)
        run._pending, run._pending_ids = [], []
        if self.events:
            # One compact row for the write's events (docs/store.md, "The schema").
            text = self.encoded or _log.encode(run.gen, self.events)
            writes.logged.append((run.id, position, _log.BATCH, text))
        since = position - run.snap_position
        snapshot = self.force_snapshot or finished or since >= store.snapshot_every
        summary: str | None = None
        if snapshot:
            body = _dump(engine.snapshot())
            # The new snapshot replaces the run's last (at the same position too:
            # a takeover stores the engine with its unconfirmed Dials in doubt).
            db.execute(
                "DELETE FROM callslots_snapshots WHERE run_id = ? AND position <= ?",
                (run.id, position),
            )
            db.execute(
                "INSERT INTO callslots_snapshots (run_id, position, customer_count, body, "
                "taken_at) VALUES (?, ?, ?, ?, ?)",
                (run.id, position, run.count, body, self.wall),
            )
        if not self.read_inbox and not self.due_now:
            # A write that did not take the inbox keeps the run due for it (the
            # rows it logs, applied by an earlier poll, deleted first).
            self.writes.flush()
            self.due_now = bool(
                db.execute("SELECT 1 FROM callslots_inbox WHERE run_id = ? LIMIT 1", (run.id,))
            )
        if self.due_now:
            next_value: int | None = DUE_NOW
        else:
            next_value = None if wakeup is None else _seconds(wakeup)
        # A run is given back when it is finished, or when nothing is due for a
        # while and this write handed out no Dial: a Dial needs the lease until
        # it is placed (Worker.due gives those runs back on its next call).
        release = not self.keep and (
            finished or (not self.dialed and _idle(next_value, run.last_seconds, worker))
        )
        # The live totals (info().summary): at every snapshot, when the run is
        # given back or finished, and otherwise at most every status_seconds of
        # wall time, so that a busy run does not compute and write them per dial.
        totals = snapshot or release or self.wall >= run.status_at + store.status_seconds
        if totals:
            summary = _totals(engine, position)
            run.status_at = self.wall
            run.totals_position = position
        # The lease is renewed once a third of it has passed since the last
        # renewal (as Worker.due does), not at every write: lease_expires is
        # indexed, and a write that changes no indexed column is cheap on
        # PostgreSQL (docs/store.md, "Database size").
        expires = self.expires
        if self.wall + worker.lease_seconds - expires >= worker.lease_seconds / 3:
            expires = self.wall + worker.lease_seconds
        writes.update(
            "UPDATE callslots_runs SET position = ?, next_wakeup = ?, status = ?, "
            "lease_expires = ?, lease_owner = ?, inbox_applied = NULL"
            # (SET reads the old row: the new wake-up is given again)
            + (", free_wakeup = ?" if release else "")
            + (", snapshot_position = ?" if snapshot else "")
            + (", summary = ?" if totals else "")
            # a restore that worked: the run is readable (again)
            + (", unreadable = NULL" if self.force_snapshot else "")
            + " WHERE id = ?",
            (
                position,
                next_value,
                "finished" if finished else "active",
                expires,
                None if release else worker.owner,
                *((next_value,) if release else ()),
                *((position,) if snapshot else ()),
                *((summary,) if totals else ()),
                run.id,
            ),
        )
        run.position = position
        run.lease_expires = expires
        if snapshot:
            run.snap_position = position
        if release:
            run.held = False
            worker.runs.pop(run.id, None)

    def _defer(self, finished: bool) -> bool:
        """Whether this write is a poll that handed out nothing and closed
        nothing, after at most :data:`MAX_UNLOGGED` events (webhooks from the
        inbox, earlier such polls): then nothing is logged and the inbox rows
        it applied stay where they are; the run's wake-up moves (one update of
        its row, no log row), and its next logged write logs these events first
        and deletes those rows.  A crash before that loses only a poll that
        changed nothing outside: the next holder applies the same inbox rows
        (docs/store.md, "Database size").  Never with a snapshot due, at the
        run's end, or when the lease is given back."""
        run = self.run
        worker = run.worker
        store = worker.store
        if (
            not self.deferrable
            or finished
            or self.force_snapshot
            or self.keep
            or len(self.events) > MAX_UNLOGGED
            or run.position + len(self.events) - run.snap_position >= store.snapshot_every
        ):
            return False
        wakeup = run._engine.next_wakeup()
        next_value = DUE_NOW if self.due_now else None if wakeup is None else _seconds(wakeup)
        if _idle(next_value, run.last_seconds, worker):
            return False  # given back: logged (the next holder restores from the log)
        expires = self.expires
        if self.wall + worker.lease_seconds - expires >= worker.lease_seconds / 3:
            expires = self.wall + worker.lease_seconds
        # The live totals as a logged write keeps them (every status_seconds): they
        # count the webhooks this poll applied, which stay in the inbox until the
        # next logged write (a crash before it applies them again, the same way).
        totals = self.wall >= run.status_at + store.status_seconds
        summary = _totals(run._engine, run.position) if totals else None
        if totals:
            run.status_at = self.wall
        self.writes.update(
            "UPDATE callslots_runs SET next_wakeup = ?, lease_expires = ?, inbox_applied = ?"
            + (", summary = ?" if totals else "")
            + " WHERE id = ?",
            (
                next_value,
                expires,
                max(self.taken) if self.taken else None,
                *((summary,) if totals else ()),
                run.id,
            ),
        )
        run.lease_expires = expires
        run._pending, run._pending_ids = list(self.events), list(self.taken)
        return True
