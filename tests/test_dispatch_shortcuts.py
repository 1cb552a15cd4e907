"""The dispatcher's shortcuts give exactly what its general code gives.

``Dispatcher`` (docs/dispatch.md, docs/limits.md) has fast paths that must not change
a single answer:

1. ``_wakeup`` answers without ``_wakeup_general`` when every call handed out has
   ended and the last poll placed a call (with per-customer sets: the next customer
   read, or a group whose first attempt, due retry or due callback is callable at
   the first slot);
2. ``_choose_shared`` skips the look at every group (``_choose_any``) unless a
   callback or a first attempt not started may wait (``_urgent``);
3. ``_end`` takes a fixed-delay retry as it is when ``_callable_known`` says the
   instant is callable by the spans already looked up;
4. ``callslots.limits._near`` lets ``Ledger.first_allowed`` skip a calendar limit
   or a quiet period with too few calls near ``t`` to matter.

``Full`` is the engine with all four off.  The property drives a plain
``Dispatcher`` and a ``Full`` with the same random event script (as a service would:
polls at the wake-up, late inside a slot's interval, or days later; calls started,
ended with random outcomes after random lengths, not started, left to expire;
callbacks, cancels, pauses, a crash and restore) and checks that every answer is
the same: ``next_wakeup``, the Dials of ``poll``, the Attempts of ``ended`` and of
expiries, ``callback``, ``cancel``, ``not_started``, ``started``, ``in_doubt``,
``summary``, ``finished``, and the snapshots after every Dial and at the end.  Named
tests pin the hard cases of shortcut 2 against the order docs/dispatch.md states
(rule 4), worked out by hand.

What may differ, and how much (nothing else may): one engine may have read list
entries the other has not read yet (a fast wake-up reads when no first attempt waits,
even with a retry or a callback due at the slot; the general code reads only when
nothing read can be dialed).  Then the totals, the reading state of the snapshot,
what waits in the groups and ``cancel`` of a repeat may differ exactly as reading
those entries explains (``Pair._same_totals``, ``Pair._same_state``, ``Pair.cancel``);
with the same cursor, everything must be equal.

Five differences found by this property were fixed in src, each pinned by a named
case below: settling a customer with no time left, a first attempt held back by its
history whichever event reads it (and whenever), the current slot named for a
customer not read yet, and a first attempt freed before the slot dialed there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from itertools import islice
from typing import Any

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

import callslots.limits
from callslots import Campaign, Dial, Dispatcher, DispatchError, Outcome, snapshots
from callslots.dispatch.engine import _Group
from callslots.dispatch.tally import Tally
from callslots.limits import MICROS, ContactLimit, Ledger, Rules
from callslots.tz import load_zone

UTC = timezone.utc
OUTCOME_NAMES = [o.value for o in Outcome]
CAMPAIGN_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
]
#: Customers' zones: US and EU ones, and two far away (groups closed while others open).
CUSTOMER_ZONES = [*CAMPAIGN_ZONES, "America/Denver", "Asia/Tokyo", "Australia/Sydney"]
STATES = ["NY", "CA", "TX", "IL"]
#: Dates around the clock changes of 2024-2026 (US and EU), and any other.
DST_DATES = [
    date(2024, 3, 9),
    date(2024, 3, 30),
    date(2024, 10, 26),
    date(2024, 11, 2),
    date(2025, 3, 8),
    date(2025, 3, 29),
    date(2025, 10, 25),
    date(2025, 11, 1),
    date(2026, 3, 7),
    date(2026, 3, 28),
    date(2026, 10, 24),
    date(2026, 10, 31),
]


# --------------------------------------------------------------- the engine without shortcuts


def _always_near(starts: object, most: object, days: object, t: object) -> bool:
    """``callslots.limits._near`` that never lets a limit be skipped."""
    return True


class Full(Dispatcher):
    """The dispatcher with its shortcuts off (the module docstring's 1-3; 4 is
    ``_near``, patched around every call of this engine by :class:`Pair`)."""

    def _wakeup(self) -> int | None:
        return self._wakeup_general()

    def _choose_shared(
        self, s: int, now: int
    ) -> tuple[_Group, int, tuple[int, int, int, str]] | None:
        return self._choose_any(s, now)

    def _callable_known(self, group: _Group, u: int) -> bool:
        return False


@contextmanager
def near_always() -> Iterator[None]:
    """``callslots.limits._near`` patched where ``Ledger.first_allowed`` looks it up
    (the module's global), and restored."""
    real = callslots.limits._near
    callslots.limits._near = _always_near
    try:
        yield
    finally:
        callslots.limits._near = real


def outcome_of(f: Callable[[], Any]) -> tuple[str, Any]:
    """What a call answered: ``("ok", value)`` or ``("error", message)``."""
    try:
        return "ok", f()
    except DispatchError as error:
        return "error", str(error)


#: The parts of a snapshot that change when a customer is read (docs/dispatch.md,
#: "Snapshots"): where the reading stands, the numbers seen, what waits in the groups,
#: the totals, the cancellations of customers not read yet, the ledgers.
READ_PARTS = ("cursor", "last_phone", "seen", "groups", "counters", "cancel_ahead", "limits")
#: The totals that a customer read changes (Summary fields; snapshot counters).
READ_TOTALS = ("unscheduled", "repeats", "cancelled", "pending")
TOTALS = (*READ_TOTALS, "reached", "not_reached", "cut_off")
#: Queries not worth a line in a failing example's report.
QUIET = frozenset({"in_progress", "in_doubt", "paused", "expired"})
COUNTERS = Tally.SNAPSHOT_ORDER


class Pair:
    """A plain ``Dispatcher`` (``fast``) and a ``Full`` driven together: every call
    goes to both, and both must answer alike (the same value, or a DispatchError
    with the same message).

    Except for what the module docstring lists: one engine may have read list
    entries the other has not read yet (``cursor``), and then what only those entries
    change may differ (:meth:`same_state` and :meth:`same_summary` check that it
    differs exactly as reading them explains; with the same cursor, everything must
    be equal)."""

    def __init__(
        self,
        campaign: Campaign,
        fast: Dispatcher,
        full: Dispatcher,
        customers: list[dict[str, Any]],
    ) -> None:
        self.campaign, self.fast, self.full = campaign, fast, full
        self.customers = customers
        #: Repeats that one engine had read (cancel: False) and the other had not
        #: (True, kept in its cancel_ahead until it reads the entry): docs/dispatch.md,
        #: cancel.
        self.stale: set[int] = set()
        self.read_ahead = 0  # comparisons that met different cursors (statistics)
        #: Customers one engine had read and counted unscheduled when they were
        #: cancelled (cancel: False) and the other had not read: the engine that
        #: took the cancel, which counts them cancelled once it reads them.
        self.refused: dict[int, Dispatcher] = {}

    def both(self, name: str, *args: Any) -> tuple[tuple[str, Any], tuple[str, Any]]:
        one = outcome_of(lambda: _get(self.fast, name, args))
        with near_always():
            two = outcome_of(lambda: _get(self.full, name, args))
        if name not in QUIET:
            note(f"{name}{args!r}: {one!r}" if one == two else f"{name}{args!r}: {one!r} / {two!r}")
        return one, two

    def ask(self, name: str, *args: Any) -> tuple[str, Any]:
        one, two = self.both(name, *args)
        assert one == two, (name, args, one, two)
        return one

    def value(self, name: str, *args: Any) -> Any:
        kind, value = self.ask(name, *args)
        assert kind == "ok", (name, args, value)
        return value

    def wakeup(self) -> datetime | None:
        wake: datetime | None = self.value("next_wakeup")
        return wake

    def poll(self, now: datetime) -> list[Dial]:
        dials: list[Dial] = self.value("poll", now)
        return dials

    def cursors(self) -> tuple[int, int]:
        return self.fast._cursor, self.full._cursor

    def between(self, index: int) -> bool:
        """Whether one engine has read entry ``index`` and the other not."""
        a, b = self.cursors()
        return min(a, b) <= index < max(a, b)

    def repeat(self, index: int) -> bool:
        number = self.customers[index]["phoneNumber"] if index < len(self.customers) else None
        return any(c["phoneNumber"] == number for c in self.customers[:index])

    def cancel(self, index: int) -> bool:
        one, two = self.both("cancel", index, "opted out")
        if one != two:
            # An entry read by one engine only: False there, True in the other (not read
            # yet: cancelled when it is read), docs/dispatch.md, cancel.  Either a repeat
            # (nothing to cancel), or a customer the reader has already counted
            # unscheduled (no slot left for it): the other counts it cancelled.
            assert self.between(index), (index, one, two, self.cursors())
            lead = self.fast if self.fast._cursor > self.full._cursor else self.full
            assert (one if lead is self.fast else two) == ("ok", False)
            self.stale.add(index)
            if not self.repeat(index):
                self.refused[index] = self.full if lead is self.fast else self.fast
            return True
        assert one[0] == "ok"
        return bool(one[1])

    def callback(self, index: int, at: datetime) -> str:
        one, two = self.both("callback", index, at)
        if one[0] == two[0] == "error" and one != two:
            # Refused by both, for a customer cancelled before one engine read it: "is
            # cancelled" there, "no call in progress" in the other.
            assert self.between(index) or index in self.stale, (index, one, two)
        else:
            assert one == two, ("callback", index, at, one, two)
        return one[0]

    def same_summary(self) -> None:
        one, two = self.both("summary")
        assert one[0] == two[0] == "ok", (one, two)
        for name in one[1].__dataclass_fields__:
            if name not in TOTALS:
                assert getattr(one[1], name) == getattr(two[1], name), (name, one, two)
        self.same_state(
            {k: getattr(one[1], k) for k in TOTALS}, {k: getattr(two[1], k) for k in TOTALS}
        )

    def same_state(
        self, fast_totals: dict[str, int] | None = None, full_totals: dict[str, int] | None = None
    ) -> dict[str, Any]:
        """The snapshots (and totals of a summary) are the same, but for what the
        reading ahead (module docstring) explains."""
        one = self.fast.snapshot()
        with near_always():
            two = self.full.snapshot()
        a, b = self.cursors()
        assert (one["cursor"], two["cursor"]) == (a, b)
        low = min(a, b)
        for key in one:
            if key not in READ_PARTS:
                assert one[key] == two[key], (key, one[key], two[key])
        counters = [dict(zip(COUNTERS, s["counters"], strict=True)) for s in (one, two)]
        for name in COUNTERS:
            if name not in TOTALS:
                assert counters[0][name] == counters[1][name], (name, counters)
        if fast_totals is None or full_totals is None:
            fast_totals, full_totals = [{k: c[k] for k in TOTALS} for c in counters]
        fast_totals = self._unrefused(self.fast, fast_totals)
        full_totals = self._unrefused(self.full, full_totals)
        # What waits in the groups: the same, but for first attempts of the entries
        # one engine only has read (held, or waiting for their limits as a retry).
        assert _waiting(one, low) == _waiting(two, low), (a, b)
        self._same_totals(fast_totals, full_totals)
        if a == b:
            assert (one["last_phone"], one["seen"]) == (two["last_phone"], two["seen"])
        ahead = [{i: r for i, r in s["cancel_ahead"] if i not in self.stale} for s in (one, two)]
        lag = ahead[0] if a < b else ahead[1]
        for i in range(low, max(a, b)):
            lag.pop(i, None)  # taken into account by the engine that read it
        assert ahead[0] == ahead[1], (ahead, a, b)
        if a == b:
            assert _limits(one) == _limits(two), (a, b)
        return one

    def _unrefused(self, engine: Dispatcher, totals: dict[str, int]) -> dict[str, int]:
        """``totals`` with the customers ``engine`` counts cancelled where the other
        engine had counted them unscheduled (``refused``) counted unscheduled."""
        moved = sum(1 for i, e in self.refused.items() if e is engine and engine._cursor > i)
        out = dict(totals)
        out["cancelled"] -= moved
        out["unscheduled"] += moved
        return out

    def _same_totals(self, one: dict[str, int], two: dict[str, int]) -> None:
        """The totals a read changes: equal with the same cursor; else the entries
        read by the leader only are repeats or distinct customers, each counted once,
        as pending, unscheduled or cancelled (docs/dispatch.md, summary)."""
        a, b = self.cursors()
        if a == b:
            assert one == two, (one, two)
            return
        self.read_ahead += 1
        lead, lag = (one, two) if a > b else (two, one)
        for name in TOTALS:
            if name not in READ_TOTALS:
                assert lead[name] == lag[name], (name, one, two)
        low, high = min(a, b), max(a, b)
        seen = {c["phoneNumber"] for c in self.customers[:low]}
        new = {c["phoneNumber"] for c in self.customers[low:high]} - seen
        assert lead["repeats"] - lag["repeats"] == high - low - len(new), (one, two, a, b)
        for name in ("pending", "unscheduled", "cancelled"):
            assert lead[name] >= lag[name], (name, one, two, a, b)
        extra = sum(lead[n] - lag[n] for n in ("pending", "unscheduled", "cancelled"))
        assert extra == len(new), (one, two, a, b)


#: What waits in each group of a snapshot: (firsts, retries, callbacks) by group key.
Waiting = dict[tuple[Any, ...], tuple[list[Any], list[Any], list[Any]]]


def _waiting(state: dict[str, Any], low: int) -> Waiting:
    """What waits in each group of a snapshot, without the first attempts of list
    entries from ``low`` on; groups with nothing left out."""
    out: Waiting = {}
    for g in state["groups"]:
        firsts = [tuple(f) for f in snapshots.unpack_firsts(g["firsts"]) if f[0] < low]
        retries = sorted(
            tuple(e)
            for e in snapshots.unpack_entries(g["retries"])
            if not (e[2] == 1 and e[1] >= low)
        )
        callbacks = sorted(tuple(e) for e in snapshots.unpack_entries(g["callbacks"]))
        if firsts or retries or callbacks:
            out[(tuple(g["zones"]), tuple(g["scopes"]))] = (firsts, retries, callbacks)
    return out


def _limits(state: dict[str, Any]) -> Any:
    """The limits part of a snapshot, its ledgers written one way."""
    packed = state["limits"]
    if packed is None:
        return None
    limits = json.loads(snapshots.unpack_bytes(packed))
    # A ledger's own-number lists are None while they are its lists of every call
    # (Ledger.state): the same calls, whichever way they are written.
    limits["ledgers"] = [
        [phone, attempts, connected, talks, own or attempts, own_connected or connected]
        if own is None or own_connected is None
        else [phone, attempts, connected, talks, own, own_connected]
        for phone, attempts, connected, talks, own, own_connected in limits["ledgers"]
    ]
    return limits


def _get(engine: Dispatcher, name: str, args: tuple[Any, ...]) -> Any:
    attribute = getattr(engine, name)
    return attribute(*args) if callable(attribute) else attribute


def test_the_patch_of_near_is_where_first_allowed_looks_it_up() -> None:
    """Under :func:`near_always`, ``Ledger.first_allowed`` reads a calendar limit that
    the real ``_near`` lets it skip (one call, thirty days before ``t``): the ledger
    then has computed its local dates; without the patch it has not."""
    day = 86400 * MICROS
    for patched in (False, True):
        ledger = Ledger(
            "+12125550000",
            Rules((ContactLimit(1, 1, window="calendar"),)),
            (load_zone("America/New_York"),),
        )
        ledger.add("+12125550000", 0, None)  # one call, on 1969-12-31 in New York
        t = 30 * day
        if patched:
            with near_always():
                assert callslots.limits._near is _always_near
                assert ledger.first_allowed(t) == t
        else:
            assert ledger.first_allowed(t) == t
        assert (ledger._days is not None) is patched
    assert callslots.limits._near is not _always_near  # restored


# ------------------------------------------------------------------------------- setups


@dataclass
class Setup:
    campaign: Campaign
    customers: list[dict[str, Any]]
    history: list[tuple[str, datetime, str]] | None
    recipient: bool
    limited: bool


def clock(quarters: int) -> str:
    return "24:00" if quarters == 96 else f"{quarters // 4:02d}:{quarters % 4 * 15:02d}"


@st.composite
def setups(draw: st.DrawFn) -> Setup:
    start = draw(st.sampled_from(DST_DATES) | st.dates(date(2024, 1, 1), date(2026, 12, 31)))
    opens = draw(st.integers(0, 95))
    closes = draw(st.integers(1, 96).filter(lambda q: q != opens))
    payload: dict[str, Any] = {
        "timezone": draw(st.sampled_from(CAMPAIGN_ZONES)),
        "startDate": start.isoformat(),
        "startTime": clock(opens),
        "endTime": clock(closes),
        "activeDays": sorted(draw(st.sets(st.integers(0, 6), min_size=1))),
        "callRetries": draw(st.integers(0, 3)),
        "retryDelaySeconds": draw(st.sampled_from([0, 60, 300, 3600, 86400])),
        "retryDelayMode": draw(st.sampled_from(["fixed", "fixed", "next_day"])),
        "callIntervalSeconds": draw(
            st.sampled_from([1, 30, 60, 300, 900, 3600]) | st.integers(1, 3600)
        ),
        "maxConcurrency": draw(st.integers(1, 4)),
    }
    if draw(st.booleans()):
        payload["endDate"] = (start + timedelta(days=draw(st.integers(0, 10)))).isoformat()
    if draw(st.booleans()):
        payload["maxCallSeconds"] = draw(st.sampled_from([60, 300, 3600]) | st.integers(1, 7200))
    if draw(st.integers(0, 3)) == 0:
        payload["retryConditions"] = draw(
            st.lists(st.sampled_from(OUTCOME_NAMES[1:]), max_size=6, unique=True).filter(
                lambda names: Outcome.COMPLETED.value not in names
            )
        )
    recipient = draw(st.integers(0, 3)) > 0  # mostly: the per-customer path
    if recipient:
        begin = draw(st.integers(0, 23))
        end = (begin + draw(st.integers(1, 23))) % 24
        payload["recipientHours"] = {
            "startTime": f"{begin:02d}:00",
            "endTime": f"{end:02d}:00" if end else "24:00",
        }
    limits = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "maxCalls": st.integers(1, 4),
                    "days": st.integers(1, 3),
                    "per": st.sampled_from(["customer", "number"]),
                    "count": st.sampled_from(["attempts", "connected"]),
                    "window": st.sampled_from(["rolling", "calendar"]),
                }
            ),
            max_size=3,
        )
    )
    if limits:
        payload["contactLimits"] = limits
    if draw(st.integers(0, 2)) == 0:
        payload["quietAfterConversationDays"] = draw(st.integers(1, 3))
    zones = draw(st.lists(st.sampled_from(CUSTOMER_ZONES), min_size=1, max_size=3, unique=True))
    customers: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 12))):
        properties: dict[str, Any] = {"timezone": draw(st.sampled_from(zones))}
        state = draw(st.none() | st.sampled_from(STATES))
        if state is not None:
            properties["state"] = state
        if draw(st.integers(0, 3)) == 0:
            properties["customerId"] = draw(st.sampled_from(["c-a", "c-b"]))
        number = draw(st.integers(0, 15))  # few numbers: repeats
        customers.append({"phoneNumber": f"+1212555{number:04d}", "properties": properties})
    payload["customers"] = customers
    campaign = Campaign.from_dict(payload)
    limited = bool(limits) or "quietAfterConversationDays" in payload
    history: list[tuple[str, datetime, str]] | None = None
    if draw(st.integers(0, 2)) == 0:
        origin = datetime(start.year, start.month, start.day, tzinfo=UTC)
        history = [
            (
                draw(st.sampled_from([c["phoneNumber"] for c in customers])),
                origin + timedelta(minutes=draw(st.integers(-5 * 1440, 2 * 1440))),
                draw(st.sampled_from(OUTCOME_NAMES)),
            )
            for _ in range(draw(st.integers(1, 8)))
        ]
    return Setup(campaign, customers, history, recipient, limited)


# ----------------------------------------------------------------------------- the property


OPERATIONS = [
    "wake",
    "wake",
    "wake",
    "wake",
    "late",
    "late",
    "jump",
    "start",
    "start",
    "end",
    "end",
    "end",
    "end",
    "not_started",
    "callback",
    "cancel",
    "pause",
    "restore",
]


class Script:
    """The service's side of the run: its clock and the calls it knows are open."""

    def __init__(self, setup: Setup, pair: Pair, data: st.DataObject, t0: datetime) -> None:
        self.setup, self.pair, self.data = setup, pair, data
        self.interval = setup.campaign.call_interval_seconds
        self.clock = t0
        self.started: dict[str, datetime] = {}  # call id -> reported start
        self.ended: dict[str, str] = {}  # call id -> reported outcome
        self.dials: dict[str, Dial] = {}
        self.seen: set[str] = set()

    def draw(self, strategy: st.SearchStrategy[Any]) -> Any:
        return self.data.draw(strategy)

    def open_calls(self) -> list[Dial]:
        dials: list[Dial] = self.pair.value("in_progress")
        return dials

    def wake(self) -> datetime | None:
        return self.pair.wakeup()

    def poll(self, now: datetime) -> list[Dial]:
        if self.draw(st.integers(0, 4)) == 0:
            now = now.astimezone(timezone(timedelta(minutes=self.draw(st.integers(-600, 600)))))
        dials = self.pair.poll(now)
        self.pair.value("expired")
        self.clock = max(self.clock, now)
        for dial in dials:
            self.dials[dial.call_id] = dial
            self.seen.add("dial")
            self.pair.same_state()  # right after a Dial: both have read the same
        return dials

    def step(self) -> None:
        op = self.draw(st.sampled_from(OPERATIONS))
        getattr(self, f"op_{op}")()
        if self.draw(st.integers(0, 4)) > 0:
            self.wake()  # a service asks when to poll after most events
        if self.draw(st.integers(0, 3)) == 0:
            self.pair.same_summary()
            self.pair.value("finished")
        self.pair.value("in_doubt")
        self.pair.value("paused")

    # -- polls

    def op_wake(self) -> None:
        wake = self.wake()
        if wake is None:
            self.poll(self.clock + timedelta(seconds=self.interval))
        else:
            self.poll(max(wake, self.clock))

    def op_late(self) -> None:
        """Late, mostly inside the interval of the slot the wake-up names."""
        base = max(self.wake() or self.clock, self.clock)
        seconds = self.draw(
            st.sampled_from([1, 2, 5])
            | st.integers(0, max(0, self.interval - 1))
            | st.integers(0, 7200)
        )
        micro = self.draw(st.just(0) | st.integers(0, 999_999))
        self.poll(base + timedelta(seconds=seconds, microseconds=micro))

    def op_jump(self) -> None:
        self.poll(self.clock + timedelta(seconds=self.draw(st.integers(1, 3 * 86400))))

    # -- what happened to the calls

    def op_start(self) -> None:
        calls = self.open_calls()
        if not calls:
            return self.op_wake()
        dial = self.draw(st.sampled_from(calls))
        at = self.started.get(dial.call_id)
        if at is None or self.draw(st.integers(0, 3)) == 0:
            at = dial.at + timedelta(
                seconds=self.draw(st.sampled_from([0, 1, 5]) | st.integers(0, 900))
            )
        if self.pair.ask("started", dial.call_id, at)[0] == "ok":
            self.started.setdefault(dial.call_id, at)
            self.seen.add("started")
        return None

    def op_end(self) -> None:
        calls = self.open_calls()
        if not calls or self.draw(st.integers(0, 5)) == 0:
            if not self.dials:
                return self.op_wake()
            # a replayed or conflicting webhook, or an end for a call that expired
            dial = self.dials[self.draw(st.sampled_from(sorted(self.dials)))]
        else:
            dial = self.draw(st.sampled_from(calls))
        outcome = self.draw(st.sampled_from(OUTCOME_NAMES))
        begin = max(dial.at, self.started.get(dial.call_id, dial.at))
        length = self.draw(st.sampled_from([0, 1, 30, 600]) | st.integers(0, 7200))
        micro = self.draw(st.just(0) | st.integers(0, 999_999))
        at = begin + timedelta(seconds=length, microseconds=micro)
        if self.draw(st.integers(0, 2)) == 0:
            at = self.edge_end(dial, begin) or at
        kind, _ = self.pair.ask("ended", dial.call_id, outcome, at)
        if kind == "ok":
            self.ended.setdefault(dial.call_id, outcome)
            self.seen.add("ended")
        return None

    def edge_end(self, dial: Dial, begin: datetime) -> datetime | None:
        """An end whose fixed-delay retry instant falls a few seconds around an edge
        of the customer's callable set (shortcut 3 answers there from the spans
        already looked up), if one is near."""
        campaign = self.setup.campaign
        view = campaign.for_customer(self.setup.customers[dial.customer_index])
        edges = [
            edge
            for window in islice(view.windows(begin, begin + timedelta(days=2)), 3)
            for edge in (window.start, window.end)
        ]
        delay = timedelta(seconds=campaign.retry_delay_seconds)
        ends = [e - delay for e in edges if e - delay >= begin]
        if not ends:
            return None
        shift = self.draw(st.integers(-2, 2))
        edge: datetime = self.draw(st.sampled_from(ends))
        return max(begin, edge + timedelta(seconds=shift))

    def op_not_started(self) -> None:
        calls = [d for d in self.open_calls() if d.call_id not in self.started]
        if not calls:
            return self.op_wake()
        dial = self.draw(st.sampled_from(calls))
        self.pair.value("not_started", dial.call_id, "no trunk")
        self.seen.add("not_started")
        return None

    def op_callback(self) -> None:
        dialed = sorted({d.customer_index for d in self.dials.values()})
        count = len(self.setup.customers)
        index = self.draw(st.sampled_from(dialed) if dialed else st.integers(0, count - 1))
        at = self.clock.replace(microsecond=0) + timedelta(
            seconds=self.draw(st.integers(-3600, 2 * 86400))
        )
        if self.pair.callback(index, at) == "ok":
            self.seen.add("callback")

    def op_cancel(self) -> None:
        index = self.draw(st.integers(0, len(self.setup.customers)))
        if self.pair.cancel(index):
            self.seen.add("cancel")

    def op_pause(self) -> None:
        if self.pair.value("paused"):
            self.pair.value("resume")
        elif self.draw(st.booleans()):
            self.pair.value("pause")
            self.seen.add("pause")

    def op_restore(self) -> None:
        """A crash: each engine comes back from its own snapshot (the same but for
        the reading ahead); Dials dialing come back in doubt."""
        self.pair.same_state()
        campaign, customers = self.setup.campaign, self.setup.customers
        state = json.loads(json.dumps(self.pair.fast.snapshot()))
        fast = Dispatcher.restore(campaign, state, list(customers))
        with near_always():
            state = json.loads(json.dumps(self.pair.full.snapshot()))
            full = Full.restore(campaign, state, list(customers))
        assert type(full) is Full
        pair = Pair(campaign, fast, full, customers)
        pair.stale, pair.read_ahead = self.pair.stale, self.pair.read_ahead
        engines = {id(self.pair.fast): pair.fast, id(self.pair.full): pair.full}
        pair.refused = {i: engines[id(e)] for i, e in self.pair.refused.items()}
        self.pair = pair
        if self.pair.value("in_doubt"):
            self.seen.add("in doubt")

    def finish(self) -> None:
        """End every open call, then poll at each wake-up (ending calls at once) up to
        a bound; then the totals and the whole state must still agree."""
        if self.pair.value("paused"):
            self.pair.value("resume")
        for dial in self.open_calls():
            at = max(dial.at, self.started.get(dial.call_id, dial.at), self.clock)
            self.pair.value("ended", dial.call_id, "No Answer", at)
        for _ in range(40):
            wake = self.wake()
            if wake is None:
                break
            for dial in self.poll(max(wake, self.clock)):
                outcome = OUTCOME_NAMES[(dial.customer_index + dial.attempt) % len(OUTCOME_NAMES)]
                self.pair.value("ended", dial.call_id, outcome, dial.at + timedelta(seconds=7))
        self.pair.same_summary()
        self.pair.value("finished")
        self.pair.same_state()


@given(setup=setups(), data=st.data(), steps=st.integers(1, 60))
def test_the_shortcuts_answer_as_the_general_code(
    setup: Setup, data: st.DataObject, steps: int
) -> None:
    campaign = setup.campaign
    note(f"payload {campaign.to_dict()}")
    note(f"history {setup.history}")
    fast = Dispatcher(campaign, list(setup.customers), history=setup.history)
    with near_always():
        full = Full(campaign, list(setup.customers), history=setup.history)
    first = campaign.slot_at(0)
    t0 = (first or datetime(2024, 1, 1, tzinfo=UTC)) - timedelta(
        seconds=data.draw(st.sampled_from([0, 0, 1]) | st.integers(0, 3600))
    )
    script = Script(setup, Pair(campaign, fast, full, setup.customers), data, t0)
    # What the runs went through (pytest --hypothesis-show-statistics).
    event(f"recipient hours: {setup.recipient}")
    event(f"limits: {setup.limited}, history: {setup.history is not None}")
    for _ in range(steps):
        script.step()
    script.finish()
    event(f"read ahead met: {script.pair.read_ahead > 0}")
    event(f"expired: {script.pair.fast.summary.expired > 0}")
    for what in ("dial", "started", "not_started", "callback", "cancel", "in doubt"):
        event(f"{what}: {what in script.seen}")


# ------------------------------------------------------------------- named cases, by hand
#
# The hard cases of shortcut 2, each checked against the order docs/dispatch.md states
# (rule 4: callbacks first once due; then ordinary attempts by due time, ties by
# customer order; every first attempt is due at the start, a customer not read yet
# being one; under recipientHours only customers callable at the slot take part).
# The expected Dials are worked out from that rule by hand, in the comments, and
# both engines must give them.  Every customer's zone is given; in January London is
# UTC+0, Berlin UTC+1, Tokyo UTC+9 (no clock changes).


def at_utc(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 1, day, hour, minute, second, tzinfo=UTC)


def customer(n: int, zone: str, **properties: str) -> dict[str, Any]:
    return {"phoneNumber": f"+1212555{n:04d}", "properties": {"timezone": zone, **properties}}


def january(**fields: Any) -> Campaign:
    """A UTC campaign calling all day from Wednesday 2025-01-15."""
    payload: dict[str, Any] = {
        "timezone": "UTC",
        "startDate": "2025-01-15",
        "startTime": "00:00",
        "endTime": "24:00",
        "callIntervalSeconds": 3600,
        "maxConcurrency": 1,
        "callRetries": 0,
        "recipientHours": {"startTime": "09:00", "endTime": "17:00"},
    }
    payload.update(fields)
    return Campaign.from_dict(payload)


Dialed = tuple[datetime, int, int]  # (slot, customer index, attempt)


def serve(
    engine: Dispatcher,
    first_poll: datetime,
    on_dial: Callable[[Dispatcher, Dial], None] | None = None,
    *,
    polls: int | None = None,
) -> list[Dialed]:
    """A service: polls at ``first_poll``, then at every wake-up (``polls`` times, or
    until there is none); each Dial is handled by ``on_dial`` (default: completed
    five minutes after its slot)."""
    dialed: list[Dialed] = []
    now: datetime | None = first_poll
    for n in range(100 if polls is None else polls):
        if now is None:
            return dialed
        for dial in engine.poll(now):
            dialed.append((dial.at, dial.customer_index, dial.attempt))
            if on_dial is None:
                engine.ended(dial.call_id, "Completed", dial.at + timedelta(minutes=5))
            else:
                on_dial(engine, dial)
        if polls is None or n + 1 < polls:
            now = engine.next_wakeup()
    assert polls is not None, "the run did not end"
    return dialed


def both_engines(run: Callable[[Dispatcher], list[Dialed]], campaign: Campaign) -> list[Dialed]:
    """``run`` on a plain Dispatcher and on Full: the same Dials; returns them."""
    fast = run(Dispatcher(campaign))
    with near_always():
        full = run(Full(campaign))
    assert fast == full
    return fast


def test_a_callback_waiting_in_a_closed_group_goes_first_when_it_opens() -> None:
    # recipientHours 06:00-23:00: London customer 0 is callable 06:00-23:00Z, the
    # Tokyo customers 1-10 21:00-14:00Z.  The service starts polling at 21:00Z.
    campaign = january(
        recipientHours={"startTime": "06:00", "endTime": "23:00"},
        customers=[customer(0, "Europe/London")]
        + [customer(n, "Asia/Tokyo") for n in range(1, 11)],
    )

    def on_dial(engine: Dispatcher, dial: Dial) -> None:
        if dial.call_id == "1":  # customer 0 asks to be called back at 22:30
            assert engine.callback(0, at_utc(15, 22, 30)) == at_utc(15, 22, 30)
            ended = engine.ended("1", "No Answer", at_utc(15, 21, 5))
            assert ended is not None and ended.retry_at == at_utc(15, 22, 30)
        else:
            engine.ended(dial.call_id, "Completed", dial.at + timedelta(minutes=5))

    dialed = both_engines(lambda d: serve(d, at_utc(15, 21), on_dial), campaign)
    expected = [
        (at_utc(15, 21), 0, 1),  # both open: customer order
        (at_utc(15, 22), 1, 1),  # the callback is due at 22:30 only
        # From 23:00 London is closed: its callback waits, Tokyo's first attempts go.
        (at_utc(15, 23), 2, 1),
        *[(at_utc(16, h), 3 + h, 1) for h in range(6)],  # 00:00-05:00: customers 3-8
        # 06:00: London opens; the callback (due 22:30) goes ahead of every ordinary
        # attempt, though Tokyo's group holds every first attempt still waiting.
        (at_utc(16, 6), 0, 2),
        (at_utc(16, 7), 9, 1),
        (at_utc(16, 8), 10, 1),
    ]
    assert dialed == expected


def test_a_first_attempt_not_started_goes_before_the_other_groups_first_attempts() -> None:
    # recipientHours 09:00-17:00: London customer 0 is callable 09:00-17:00Z, the
    # Berlin customers 1-3 08:00-16:00Z; both at 10:00Z.
    campaign = january(
        callIntervalSeconds=60,
        customers=[customer(0, "Europe/London")]
        + [customer(n, "Europe/Berlin") for n in range(1, 4)],
    )

    def on_dial(engine: Dispatcher, dial: Dial) -> None:
        if dial.call_id == "1":
            engine.not_started("1", "no trunk")  # the attempt is not used up
        else:
            engine.ended(dial.call_id, "Completed", dial.at + timedelta(seconds=30))

    dialed = both_engines(lambda d: serve(d, at_utc(15, 10), on_dial), campaign)
    assert dialed == [
        (at_utc(15, 10, 0), 0, 1),  # not started
        # The 10:00 slot is used; at 10:01 customer 0's first attempt is due at the
        # start like every first attempt, and goes first by customer order, though
        # customer 1 (Berlin) has been read meanwhile and Berlin holds every first
        # attempt held.
        (at_utc(15, 10, 1), 0, 1),
        (at_utc(15, 10, 2), 1, 1),
        (at_utc(15, 10, 3), 2, 1),
        (at_utc(15, 10, 4), 3, 1),
    ]


def test_a_first_attempt_held_in_a_closed_group_goes_before_newer_ones_when_it_opens() -> None:
    # recipientHours 09:00-17:00: London customer 3 is callable from 09:00Z, the Berlin
    # customers 0-2, 4 and 5 from 08:00Z.  The service starts polling at 08:00Z, at
    # every wake-up, but once it polls late: at 09:05 instead of 08:45.
    campaign = january(
        callIntervalSeconds=900,
        customers=[customer(n, "Europe/Berlin") for n in range(3)]
        + [customer(3, "Europe/London")]
        + [customer(n, "Europe/Berlin") for n in range(4, 6)],
    )

    def run(engine: Dispatcher) -> list[Dialed]:
        dialed = serve(engine, at_utc(15, 8), polls=3)  # 08:00, 08:15, 08:30
        # Asking when to poll reads customer 3 (London: not callable at 08:45, held)
        # and customer 4 (Berlin: callable then).
        assert engine.next_wakeup() == at_utc(15, 8, 45)
        return dialed + serve(engine, at_utc(15, 9, 5))

    dialed = both_engines(run, campaign)
    assert dialed == [
        (at_utc(15, 8, 0), 0, 1),
        (at_utc(15, 8, 15), 1, 1),
        (at_utc(15, 8, 30), 2, 1),
        # The 08:45 slot passed unpolled (not made up).  The poll at 09:05 uses the
        # 09:00 slot, callable for London from 09:00 to 09:05: customer 3's first
        # attempt ties with customer 4's (both due at the start) and goes first by
        # customer order, though it waits in another group than the one read last.
        (at_utc(15, 9, 0), 3, 1),
        (at_utc(15, 9, 15), 4, 1),
        (at_utc(15, 9, 30), 5, 1),
    ]


def test_only_retries_wait_the_one_due_first_in_an_open_group_goes() -> None:
    # recipientHours 09:00-17:00: Berlin customer 0 is callable 08:00-16:00Z, London
    # customer 1 and Lisbon customer 2 09:00-17:00Z (three groups: three zones).  One
    # retry each, due at the end of the call.
    campaign = january(
        callIntervalSeconds=600,
        callRetries=1,
        retryDelaySeconds=0,
        customers=[
            customer(0, "Europe/Berlin"),
            customer(1, "Europe/London"),
            customer(2, "Europe/Lisbon"),
        ],
    )
    outcomes = {"1": "No Answer", "2": "Busy", "3": "No Answer"}

    def on_dial(engine: Dispatcher, dial: Dial) -> None:
        outcome = outcomes.get(dial.call_id, "Completed")
        engine.ended(dial.call_id, outcome, dial.at + timedelta(minutes=1))

    dialed = both_engines(lambda d: serve(d, at_utc(15, 15, 40), on_dial), campaign)
    assert dialed == [
        (at_utc(15, 15, 40), 0, 1),  # No Answer: retry due 15:41
        # 15:50: customer 1, not read yet, is a first attempt: before the retry.
        (at_utc(15, 15, 50), 1, 1),  # Busy: retry due 15:51
        # 16:00: Berlin is closed; customer 2 (a first attempt) before the retries.
        (at_utc(15, 16, 0), 2, 1),  # No Answer: retry due 16:01
        # 16:10: only retries wait; customer 0's is due first (15:41) but its group
        # is closed: customer 1's (15:51) goes, then customer 2's (16:01), each in
        # a group of its own.
        (at_utc(15, 16, 10), 1, 2),
        (at_utc(15, 16, 20), 2, 2),
        (at_utc(16, 8, 0), 0, 2),  # Berlin opens again at 08:00Z
    ]


# ------------------------------------------------------------ differences found, fixed
#
# The property found the fast engine and the general one answering differently in
# these five ways.  Each is reduced by hand to a named case, with what docs/dispatch.md
# and docs/limits.md say the answer is; both engines must give it.


def test_a_customer_with_no_time_left_is_unscheduled_whichever_wake_up_ran() -> None:
    # Wednesday 2025-01-15 only, 08:00-12:00Z, recipientHours 09:00-11:00: Berlin
    # customer 0 is callable 08:00-10:00Z, London customer 1 09:00-11:00Z.  The
    # service starts polling at 10:00Z: customer 0 is read there (held: Berlin has
    # just closed, and will not open again before the campaign ends).
    campaign = january(
        endDate="2025-01-15",
        startTime="08:00",
        endTime="12:00",
        recipientHours={"startTime": "09:00", "endTime": "11:00"},
        callIntervalSeconds=1800,
        callRetries=1,
        retryDelaySeconds=0,
        customers=[customer(0, "Europe/Berlin"), customer(1, "Europe/London")],
    )
    summaries = []
    for engine in (Dispatcher(campaign), Full(campaign)):
        assert [d.customer_index for d in engine.poll(at_utc(15, 10))] == [1]
        engine.ended("1", "No Answer", at_utc(15, 10, 5))  # retry due 10:05
        assert engine.next_wakeup() == at_utc(15, 10, 30)
        assert [(d.customer_index, d.attempt) for d in engine.poll(at_utc(15, 10, 30))] == [(1, 2)]
        summaries.append(engine.summary)  # customer 1 in a call: nothing else settles
    fast, full = summaries
    # docs/dispatch.md, summary: customer 0 is read, was never dialed and has no
    # callable time left: unscheduled; customer 1 is in a call: pending.
    assert (full.unscheduled, full.pending) == (1, 1)
    assert (fast.unscheduled, fast.pending) == (1, 1)
    assert fast == full


def _last_slot_before(campaign: Campaign, end: datetime) -> datetime:
    """The last slot of the campaign's grid before ``end``, by walking the grid."""
    last: datetime | None = None
    k = 0
    while (slot := campaign.slot_at(k)) is not None and slot < end:
        last, k = slot, k + 1
    assert last is not None
    return last


def _cut_off(engine: Dispatcher) -> int:
    """The engine's cut_off count as it stands (a snapshot counts nothing new)."""
    counters = dict(zip(COUNTERS, engine.snapshot()["counters"], strict=True))
    count: int = counters["cut_off"]
    return count


@pytest.mark.parametrize("interval", [300, 600, 900, 1200, 1800, 2400, 3600])
@pytest.mark.parametrize("observer", ["next_wakeup", "paused next_wakeup", "summary"])
def test_an_attempt_is_counted_once_its_customers_last_slot_has_passed(
    interval: int, observer: str
) -> None:
    """docs/dispatch.md, "Totals": a pending attempt is counted by the next
    ``next_wakeup()`` (paused or not) or ``summary`` (here with a call in progress)
    once the first slot a poll could use is after its customer's last slot, and not
    before.  Wednesday 2025-01-15 only, 09:00-17:00Z, recipientHours 09:00-17:00:
    Berlin customer 0 is callable until 16:00Z, the London customers until 17:00Z.
    Customer 0 does not answer and its retry waits behind the London first attempts,
    which fill every slot."""
    campaign = january(
        endDate="2025-01-15",
        startTime="09:00",
        endTime="17:00",
        callIntervalSeconds=interval,
        callRetries=1,
        retryDelaySeconds=0,
        customers=[customer(0, "Europe/Berlin")]
        + [customer(n, "Europe/London") for n in range(1, 8 * 3600 // interval + 1)],
    )
    berlin_last = _last_slot_before(campaign, at_utc(15, 16))
    for engine in (Dispatcher(campaign), Full(campaign)):
        now: datetime | None = at_utc(15, 9)
        counted = False
        while now is not None:
            dials = engine.poll(now)
            floor = dials[0].at + timedelta(seconds=interval) if dials else now
            if observer == "summary":
                cut_off = engine.summary.cut_off  # the call still in progress
            for dial in dials:
                outcome = "No Answer" if dial.customer_index == 0 else "Completed"
                engine.ended(dial.call_id, outcome, dial.at + timedelta(seconds=60))
            if observer == "paused next_wakeup":
                engine.pause()
                assert engine.next_wakeup() is None
                cut_off = _cut_off(engine)
                engine.resume()
            now = engine.next_wakeup()
            if observer == "next_wakeup":
                cut_off = _cut_off(engine)
            # Customer 0 is pending exactly while a slot of its own may still come.
            assert cut_off == (floor > berlin_last), (engine, floor, berlin_last)
            counted = counted or bool(cut_off)
        assert counted
        assert engine.finished
        assert engine.summary.pending == 0


def test_an_attempt_due_after_its_customers_last_slot_waits_until_that_slot_passes() -> None:
    """docs/dispatch.md, "Totals": a retry due after its customer's last slot can never
    be dialed; it stays pending until that slot has passed.  Slots every 30 minutes
    from 09:00Z; Berlin customer 0 (callable until 16:00Z: its last slot is 15:30) is
    dialed at 15:00 and its retry is due 35 minutes after the end, at 15:40."""
    campaign = january(
        endDate="2025-01-15",
        startTime="09:00",
        endTime="17:00",
        callIntervalSeconds=1800,
        callRetries=1,
        retryDelaySeconds=2100,
        customers=[customer(0, "Europe/Berlin"), customer(1, "Europe/London")],
    )
    for engine in (Dispatcher(campaign), Full(campaign)):
        (dial,) = engine.poll(at_utc(15, 15))
        attempt = engine.ended(dial.call_id, "No Answer", at_utc(15, 15, 5))
        assert attempt is not None and attempt.retry_at == at_utc(15, 15, 40)
        assert engine.next_wakeup() == at_utc(15, 15, 30)  # customer 1
        assert engine.summary.pending == 2  # 15:30 is still to come
        (dial,) = engine.poll(at_utc(15, 15, 30))
        assert dial.customer_index == 1
        engine.ended(dial.call_id, "Completed", at_utc(15, 15, 31))
        assert engine.next_wakeup() is None  # nothing can be dialed any more
        totals = engine.summary
        assert (totals.pending, totals.cut_off, totals.reached) == (0, 1, 1)
        assert engine.finished


def test_a_member_read_early_is_dialed_out_of_turn() -> None:
    # recipientHours 09:00-17:00: London customers 0 and 3 are callable 09:00-17:00Z,
    # Tokyo customers 1 and 2 00:00-08:00Z.  Customers 0 and 1 are one customer
    # (customerId "a"): at most 2 calls a local date, on London's and Tokyo's clocks.
    campaign = january(
        callIntervalSeconds=60,
        contactLimits=[{"maxCalls": 2, "days": 1, "window": "calendar"}],
        customers=[
            customer(0, "Europe/London", customerId="a"),
            customer(1, "Asia/Tokyo", customerId="a"),
            customer(2, "Asia/Tokyo"),
            customer(3, "Europe/London"),
        ],
    )

    def run(engine: Dispatcher) -> list[Dialed]:
        def on_dial(engine: Dispatcher, dial: Dial) -> None:
            if dial.call_id == "1":  # customer 0 asks to be called back at once
                assert engine.callback(0, at_utc(15, 9)) == at_utc(15, 9)
                engine.ended("1", "No Answer", at_utc(15, 9, 0, 30))
            else:
                engine.ended(dial.call_id, "Completed", dial.at + timedelta(seconds=30))

        return serve(engine, at_utc(15, 9), on_dial, polls=4)

    fast = run(Dispatcher(campaign))
    with near_always():
        full = run(Full(campaign))
    assert (
        fast[:3]
        == full[:3]
        == [
            (at_utc(15, 9, 0), 0, 1),
            (at_utc(15, 9, 1), 0, 2),  # the callback
            (at_utc(15, 9, 2), 3, 1),  # customer 1 waits for Tokyo's hours
        ]
    )
    # 2025-01-16 00:00Z, Tokyo open: customer 1's first attempt is due at the start (its
    # history is empty, docs/limits.md section 6), so it goes before customer 2's, and
    # its limits allow it (no call on the 16th on London's or Tokyo's clock).
    assert fast[3] == full[3] == (at_utc(16, 0), 1, 1)


def test_a_first_attempt_its_history_holds_back_waits_by_its_due_time() -> None:
    # 09:00-17:00Z from 2025-01-15, hourly slots, one retry due at the end of a call;
    # at most 2 calls in 24 hours.  Customer 1's history: calls at 10:30 and 11:00 the
    # day before, so a call is allowed again from 10:30Z on the 15th.
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2025-01-15",
            "startTime": "09:00",
            "endTime": "17:00",
            "callIntervalSeconds": 3600,
            "maxConcurrency": 1,
            "callRetries": 1,
            "retryDelaySeconds": 0,
            "contactLimits": [{"maxCalls": 2, "days": 1}],
            "phoneList": ["+12125550000", "+12125550001", "+12125550002"],
        }
    )
    history = [
        ("+12125550001", at_utc(14, 10, 30), "No Answer"),
        ("+12125550001", at_utc(14, 11), "No Answer"),
    ]

    def run(engine: Dispatcher) -> list[Dialed]:
        def on_dial(engine: Dispatcher, dial: Dial) -> None:
            outcome = "No Answer" if dial.call_id == "1" else "Completed"
            engine.ended(dial.call_id, outcome, dial.at + timedelta(minutes=1))

        dialed = serve(engine, at_utc(15, 9), on_dial, polls=1)
        assert engine.next_wakeup() == at_utc(15, 10)
        return dialed + serve(engine, at_utc(15, 11), on_dial)  # late: 10:00 is lost

    expected = [
        (at_utc(15, 9), 0, 1),  # No Answer: retry due 09:01
        # docs/limits.md, section 6: customer 1's history forbids a call at the first
        # slot (09:00), so its first attempt is due at 10:30 and waits among the
        # attempts by that due time; customer 2's is due at the start and goes first.
        (at_utc(15, 11), 2, 1),
        (at_utc(15, 12), 0, 2),  # due 09:01
        (at_utc(15, 13), 1, 1),  # due 10:30
    ]
    assert run(Dispatcher(campaign, history=history)) == expected
    with near_always():
        assert run(Full(campaign, history=history)) == expected


def test_a_wake_up_names_the_current_slot_for_a_customer_not_read_yet() -> None:
    # recipientHours 09:00-17:00: London customer 0 is callable 09:00-17:00Z, New York
    # customer 1 14:00-22:00Z.  Slots every 40 minutes: 16:00, 16:40, 17:20.
    campaign = january(
        callIntervalSeconds=2400,
        callRetries=1,
        retryDelaySeconds=0,
        customers=[customer(0, "Europe/London"), customer(1, "America/New_York")],
    )
    for engine in (Dispatcher(campaign), Full(campaign)):
        assert [d.customer_index for d in engine.poll(at_utc(15, 16))] == [0]
        engine.ended("1", "No Answer", at_utc(15, 16, 1))  # retry due 16:01
        assert engine.next_wakeup() == at_utc(15, 16, 40)
        engine.pause()
        assert engine.poll(at_utc(15, 17, 5)) == []  # the 16:40 slot is not used
        engine.resume()
        # docs/dispatch.md, next_wakeup: it can be the last poll's now itself, when
        # that slot is still unused: customer 1 (a first attempt, due at the start) is
        # callable from 16:40 to 17:05 (customer 0's retry is not: London closed at
        # 17:00), and a line is free.
        wake = engine.next_wakeup()
        dials = engine.poll(at_utc(15, 17, 5))
        assert [(d.customer_index, d.at) for d in dials] == [(1, at_utc(15, 16, 40))]
        assert wake == at_utc(15, 17, 5), type(engine).__name__


def test_a_first_attempt_its_limits_freed_before_the_slot_is_dialed_there() -> None:
    # 09:00-17:00Z, hourly slots; recipientHours 09:00-17:00 (London: the same hours);
    # at most one call in 24 hours.  Customer 0's history: a call at 10:00Z the day
    # before, so its first attempt is due at 10:00Z on the 15th (docs/limits.md,
    # section 6).  The service's first poll is at 11:00Z.
    campaign = january(
        startTime="09:00",
        endTime="17:00",
        contactLimits=[{"maxCalls": 1, "days": 1}],
        customers=[customer(0, "Europe/London")],
    )
    history = [("+12125550000", at_utc(14, 10), "No Answer")]
    for engine in (Dispatcher(campaign, history=history), Full(campaign, history=history)):
        with near_always():
            dials = engine.poll(at_utc(15, 11))
        # Rule 4: the attempt due first (customer 0's, due 10:00) and callable at
        # 11:00 is dialed on the 11:00 slot (a line is free, the slot is unused).
        assert [(d.customer_index, d.at) for d in dials] == [(0, at_utc(15, 11))], type(
            engine
        ).__name__


def test_a_calendar_limit_is_not_skipped_across_a_25_hour_day() -> None:
    """Shortcut 4 on its edge: two instants of one local date can be 25 hours apart
    (New York's clocks went back on 2024-11-03), and ``_near`` must not skip the limit
    there.  At most one call a local date; a call at 00:00:30 EDT on 3 November
    forbids every instant of that date, the last one (23:59:59 EST, 24 h 59 min 29 s
    later) included; the 4th is free from its first instant, 00:00 EST (05:00Z)."""
    new_york = load_zone("America/New_York")
    call = datetime(2024, 11, 3, 4, 0, 30, tzinfo=UTC)  # 00:00:30 EDT
    last = datetime(2024, 11, 4, 4, 59, 59, tzinfo=UTC)  # 23:59:59 EST, the same date
    free = datetime(2024, 11, 4, 5, 0, tzinfo=UTC)

    def us(t: datetime) -> int:
        return int(t.timestamp()) * MICROS

    for patched in (False, True):
        ledger = Ledger(
            "+12125550000", Rules((ContactLimit(1, 1, window="calendar"),)), (new_york,)
        )
        ledger.add("+12125550000", us(call), None)
        if patched:
            with near_always():
                assert ledger.first_allowed(us(last)) == us(free)
        else:
            assert ledger.first_allowed(us(last)) == us(free)


@pytest.mark.parametrize("read_first", [False, True])
def test_a_number_cancelled_before_it_is_read_still_brings_its_clock(read_first: bool) -> None:
    """docs/dispatch.md, cancel: a number of a ``customerId`` counts among its
    customer's numbers for the limits' clocks whether it was cancelled before or after
    the engine read it.  At most one call a local date; customers 0 (London) and 1
    (Tokyo) are one customer, and customer 1 is cancelled.  Customer 0 is called at
    16:00Z on the 15th (01:00 on the 16th in Tokyo): its retry is allowed on London's
    clock from 00:00Z on the 16th (09:00Z, with its hours), on Tokyo's from 00:00 on the
    17th there (15:00Z on the 16th)."""
    campaign = january(
        callRetries=1,
        retryDelaySeconds=0,
        contactLimits=[{"maxCalls": 1, "days": 1, "window": "calendar"}],
        customers=[
            customer(0, "Europe/London", customerId="a"),
            customer(1, "Asia/Tokyo", customerId="a"),
        ],
    )
    for engine in (Dispatcher(campaign), Full(campaign)):
        (dial,) = engine.poll(at_utc(15, 16))
        assert dial.customer_index == 0
        engine.ended(dial.call_id, "No Answer", at_utc(15, 16, 1))
        if read_first:
            engine.next_wakeup()  # reads customer 1 (held for Tokyo's hours)
        assert engine.snapshot()["cursor"] == (2 if read_first else 1)
        assert engine.cancel(1, "opted out")
        assert serve(engine, at_utc(15, 17)) == [(at_utc(16, 15), 0, 2)]
        assert engine.summary.cancelled == 1


def test_a_customer_is_held_to_the_clocks_of_its_numbers_listed_later() -> None:
    """docs/limits.md, "Calendar window": each number of a ``customerId`` is held to the
    clocks of all of them, from the start (with a history, the list is read once
    ahead).  At most one call a local date; customers 0 (New York) and 2 (Tokyo) are
    one customer, whose Tokyo number was called at 04:00Z on the 16th (23:00 on the
    15th in New York, 13:00 on the 16th in Tokyo).  At 09:00 New York on the 16th
    (23:00 in Tokyo, the same Tokyo date) neither number may be called: customer 1
    goes.  Tokyo's 17th begins at 15:00Z (10:00 New York): customer 0 goes then, and
    customer 2 waits for the next dates on both clocks (10:00 New York on the 17th)."""
    campaign = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2025-01-16",
            "startTime": "09:00",
            "endTime": "17:00",
            "callIntervalSeconds": 3600,
            "maxConcurrency": 1,
            "contactLimits": [{"maxCalls": 1, "days": 1, "window": "calendar"}],
            "customers": [
                customer(0, "America/New_York", customerId="a"),
                customer(1, "America/New_York"),
                customer(2, "Asia/Tokyo", customerId="a"),
            ],
        }
    )
    history = [("+12125550002", at_utc(16, 4), "No Answer")]
    expected = [(at_utc(16, 14), 1, 1), (at_utc(16, 15), 0, 1), (at_utc(17, 15), 2, 1)]
    fast = serve(Dispatcher(campaign, history=history), at_utc(16, 14))
    with near_always():
        full = serve(Full(campaign, history=history), at_utc(16, 14))
    assert fast == full == expected
    # The same from a snapshot taken before anything was read.
    state = json.loads(json.dumps(Dispatcher(campaign, history=history).snapshot()))
    assert serve(Dispatcher.restore(campaign, state), at_utc(16, 14)) == expected
