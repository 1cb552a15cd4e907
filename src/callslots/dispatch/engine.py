"""The :class:`Dispatcher`: the events, the choice of the next Dial, the wake-up.

The rules (docs/pacing.md, docs/compliance.md, docs/dispatch.md):

* a call starts only on a slot of the campaign's grid, inside its customer's
  callable set, at most one per slot, and never closer than
  ``callIntervalSeconds`` to the one before;
* a poll uses only the slot whose interval ``[slot, slot + interval)`` holds
  ``now``; slots that passed unpolled are not made up;
* at most ``maxConcurrency`` calls are on the line; a handed-out Dial holds a
  line until it ends (a call ended at ``t`` holds it until ``t``);
* the pending attempt due earliest goes first, ties by customer order, except
  that a callback the person asked for goes ahead of every ordinary attempt once
  it is due; every first attempt is due at the start;
* a retry exists exactly when the retry rule (:mod:`callslots.retry`) says so.

Each customer read and not done has a :class:`~.states.Record` whose state moves
only by the table of :mod:`.states`; it waits in the :class:`~.groups.Group` of
its callable set.  There is one way to choose the next Dial (:meth:`_choose`) and
one way to find the next wake-up (:meth:`_wakeup`); all instants inside are
integer UTC seconds, datetimes are made at the edges.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from ..customers import Customer, zones_of
from ..errors import ConfigError, DispatchError
from ..limited import campaign_rules, with_view
from ..limits import MICROS, Rules
from ..outcomes import Outcome
from ..recipients import RecipientView, ViewKey
from ..retry import due as retry_due
from ..retry import refusal
from ..schedule import Schedule
from ..sharing import LOOKAHEAD  # the same bound for the plan and the engine
from ..tz import MAX_UTC, MIN_UTC
from ..windows import from_seconds
from . import codec
from .contacts import Contacts
from .grid import Grid
from .groups import Group
from .lines import Lines
from .reading import Reader
from .states import LATE, Closed, Event, Kind, Late, Record, State, advance, in_firsts
from .tally import OUTCOMES, Done, Tally
from .values import (
    EPOCH,
    Attempt,
    Dial,
    Summary,
    check_index,
    instant,
    make_attempt,
    make_dial,
    utc,
)

__all__ = ["Dispatcher"]

#: Outcome codes (1-based; 0 is "not ended") by the outcome's value string: a
#: lookup by string hashes in C (76 ns), by the Enum member in Python (163 ns;
#: timeit, Python 3.11), and every finished call looks its outcome up once or twice.
_CODE = {o.value: i + 1 for i, o in enumerate(OUTCOMES)}
#: A call's final state by id, beside the outcome codes (docs/dispatch.md, snapshots).
NOT_STARTED, EXPIRED = 254, 253

#: The one group's key when customers have no sets of their own.
PLAIN = ViewKey(())

#: What a customer needs (Dispatcher._setup): its view (with recipient hours or calling
#: rules), its rules, its clocks when they are not the campaign's, and its group.
Setup = tuple[RecipientView | None, Rules, tuple[str, ...] | None, Group]


class Dispatcher:
    """The live engine of one campaign run (docs/dispatch.md).

    ``customers``: the payload's when None, else any iterable of E.164 strings,
    ``Customer`` objects or ``{phoneNumber, properties}`` mappings, read lazily;
    an invalid one raises ``ConfigError`` with its index when it is reached.
    ``history``: calls made elsewhere, counted by the contact limits
    (docs/limits.md).  ``start``: no call is placed on a slot before this instant
    (default: the campaign's start).
    """

    def __init__(
        self,
        campaign: Schedule,
        customers: Iterable[object] | None = None,
        history: Iterable[object] | None = None,
        *,
        start: datetime | None = None,
    ) -> None:
        self._campaign = campaign
        self._calendar = campaign._calendar
        self._grid = Grid(campaign._slots, campaign.call_interval_seconds)
        self._interval = campaign.call_interval_seconds
        self._max_call = campaign.max_call_seconds
        self._shared = campaign.per_customer  # customers have callable sets of their own
        self._limited = campaign.limited or bool(campaign.calling_rules)
        self._tally = Tally(campaign._calendar.zone)
        self._lines = Lines(campaign.max_concurrency)
        #: Every customer read and not done, by index.
        self._records: dict[int, Record] = {}
        self._groups: dict[ViewKey, Group] = {}
        if not self._shared:
            self._groups[PLAIN] = Group(PLAIN, None, self._records)
        self._held = 0  # first attempts read and waiting in the groups' firsts
        self._held_back = 0  # first attempts their history put among the retries
        # By outcome code: the attempt numbers after which the outcome is retried.
        self._retried = [frozenset[int]()] + [
            frozenset(
                n for n in range(1, campaign.call_retries + 2) if refusal(campaign, o, n) is None
            )
            for o in OUTCOMES
        ]
        self._base = campaign_rules(campaign)
        self._contacts = Contacts(self._base, campaign._calendar.zone, campaign.timezone, history)
        source: Iterable[object] = campaign.customers if customers is None else customers
        zoned = self._shared or self._base.zoned
        source = self._contacts.find_members(source, zoned, campaign.timezone)
        self._reader = Reader(source, self._shared or self._limited, self._tally)
        #: What decides a customer's view, rules and clocks, by :func:`_setup_key`.
        self._setups: dict[tuple[object, ...], Setup] = {}
        self._last_setup: tuple[Customer | None, Setup | None] = (None, None)
        self._start_slot: int | None = None  # the campaign's first slot, when needed
        # -- time
        self._start = MIN_UTC if start is None else instant(start, "start", up=True)
        self._now: int | None = None  # the last poll's now (whole seconds, rounded down)
        self._now_us = 0  # and its microseconds, so that a poll is never earlier
        self._last_at: int | None = None  # the slot of the last Dial
        self._paused = False
        # -- calls
        self._seq = 0
        self._calls: dict[int, Record] = {}  # the customers on the line, by call id
        self._final = bytearray(1)  # the final state of every call by id (0 unused)
        self._expired: list[Attempt] = []

    # -- reading customers ----------------------------------------------------------

    def add(self, customers: Iterable[object]) -> None:
        """Append ``customers`` to the run's list (read lazily after the rest)."""
        zoned = self._shared or self._base.zoned
        self._reader.add(self._contacts.find_members(customers, zoned, self._campaign.timezone))
        if self._limited:
            self._contacts.added()

    def _next_customer(self) -> tuple[int, str, Customer | None, Setup | None] | None:
        """The next distinct customer of the list not cancelled ahead: ``(index,
        phone, customer, setup)`` (the setup found already with limits); None
        when the list ends.  With limits its calls are read into a ledger first:
        a number of a customerId counts among its customer's numbers (its clocks)
        however early it was cancelled."""
        reader = self._reader
        while True:
            found = reader.next_entry()
            if found is None:
                return None
            index, phone, customer = found
            setup: Setup | None = None
            if self._limited:
                assert customer is not None
                try:
                    setup = self._setup_of(customer, index)
                    self._contacts.read(customer, setup[1], setup[2])
                except ConfigError as error:  # its zones (properties.timezone, phonenumbers)
                    reader.stop(error)
            if reader.cancel_ahead and index in reader.cancel_ahead:
                del reader.cancel_ahead[index]
                self._tally.pending += 1
                self._tally.finish(Done.CANCELLED)
                if self._limited:
                    self._contacts.forget(phone)
                continue
            return index, phone, customer, setup

    def _read(self, s: int) -> Record | None:
        """Read the next customer (``s``: the slot it is read for) into a new
        record: pending in its group (among the first attempts, or among the
        retries when its history holds it back), or done at once (hours that never
        meet the campaign's, or a history that never frees).  None when the list
        ends."""
        found = self._next_customer()
        if found is None:
            return None
        index, phone, customer, setup = found
        if setup is None:
            try:
                setup = self._setup_of(customer, index)
            except ConfigError as error:  # its zones (properties.timezone, phonenumbers)
                self._reader.stop(error)
        record = self._records[index] = Record(index, phone, setup[3], MIN_UTC)
        self._tally.pending += 1
        if setup[3].never:
            self._done(record, Done.UNSCHEDULED, Event.NO_TIME_LEFT)
        elif not (self._limited and self._wait_first(record, s)):
            self._push(record)
        return record

    def _read_until_open(self, s: int, now: int) -> Group | None:
        """Read customers until one may be called over ``[s, now]`` (its group), the
        list ends, or :data:`LOOKAHEAD` first attempts wait."""
        while not self._reader.exhausted and self._held < LOOKAHEAD:
            record = self._read(s)
            if record is None:
                return None
            group: Group = record.group
            if in_firsts(record) and group.open_through(s, now):
                return group
        return None

    def _wait_first(self, record: Record, s: int) -> bool:
        """A first attempt read whose history (the records given, its own and its
        customerId's) forbids a call at the campaign's first slot under its limits:
        it waits among the retries, due when they free (or is lost when they never
        do).  False when nothing holds it back: it is due at the start.

        The calls of this run are left out (they are checked when the attempt comes
        up), so that the answer does not depend on when the customer is read."""
        if self._start_slot is None:
            found = self._campaign._slots.slot_at(0)
            self._start_slot = MAX_UTC if found is None else found[0]
        at = min(self._start_slot, s) * MICROS
        free = self._contacts.first_held(record.phone, at)
        if free == at:
            return False
        self._held_back += 1
        if free is None:
            self._done(record, Done.UNSCHEDULED, Event.NO_TIME_LEFT)
        else:
            record.kind, record.due = Kind.RETRY, -(-free // MICROS)
            self._push(record)
        return True

    def _setup_of(self, customer: Customer | None, index: int) -> Setup:
        """:meth:`_setup`, looked up once per :func:`_setup_key`."""
        if customer is None or (not self._shared and not self._base.zoned):
            return None, self._base, None, self._groups[PLAIN]
        last, found = self._last_setup
        if last is customer and found is not None:
            return found
        key = _setup_key(customer)
        known = self._setups.get(key) if key is not None else None
        if known is None:
            known = self._setup(customer, index)
            if key is not None:
                self._setups[key] = known
        self._last_setup = (customer, known)
        return known

    def _setup(self, customer: Customer, index: int) -> Setup:
        """What a customer needs: its view (with calling rules), its rules, its
        clocks when they are not the campaign's (None), and its group."""
        campaign = self._campaign
        rules = self._base
        view: RecipientView | None = None
        if self._shared:
            view = campaign.view_for(customer, f"customers.{index}")
            rules = with_view(rules, view)
            group = self._group(view.key)
        else:
            group = self._groups[PLAIN]
        clocks: tuple[str, ...] | None = None
        if rules.zoned:
            zones, _ = zones_of(customer, campaign.timezone, f"customers.{index}")
            if zones != (campaign.timezone,):
                clocks = zones
        return view, rules, clocks, group

    def _group(self, key: ViewKey) -> Group:
        group = self._groups.get(key)
        if group is None:
            view = self._campaign._views.get(key)
            group = self._groups[key] = Group(key, view, self._records)
            # "Never" is decided from the campaign's start, not from where the slots
            # are: a customer read late is out of time, not never callable.
            begin = self._calendar.next_callable(MIN_UTC)
            group.never = begin is None or view.next_second(begin) is None
        return group

    # -- what waits -------------------------------------------------------------------

    def _push(self, record: Record) -> None:
        """``record`` waits (again) in its group."""
        if record.group.push(record):
            self._held += 1

    def _done(self, record: Record, done: Done, event: Event) -> None:
        """``record``'s customer is done (``event`` takes it to DONE): counted once
        (:meth:`Tally.finish`; a completed call before a callback makes it
        reached), and everything kept for it dropped."""
        advance(record, event)
        del self._records[record.index]
        self._tally.finish(done, record.reached)
        if self._limited:
            self._contacts.forget(record.phone)

    def _lose(self, record: Record) -> None:
        """No time is left for ``record``'s pending attempt (a first attempt was
        never dialed; a later one is a retry cut off)."""
        self._done(
            record, Done.UNSCHEDULED if record.attempt == 1 else Done.CUT_OFF, Event.NO_TIME_LEFT
        )

    def _finder(self, record: Record) -> Callable[[int, int | None], int | None]:
        """The first second ``>= u`` (in a window of a day ``>= first_day``) callable
        for ``record``'s customer and allowed by its limits: leapfrogging the two."""
        group: Group = record.group
        find = self._calendar.next_callable if group.view is None else group.view.next_second
        ledger = self._contacts.ledgers.get(record.phone) if self._limited else None
        if ledger is None:
            return find
        allowed = ledger.first_allowed

        def search(u: int, first_day: int | None) -> int | None:
            while True:
                found = find(u, first_day)
                if found is None:
                    return None
                free = allowed(found * MICROS)
                if free is None:
                    return None
                if free == found * MICROS:
                    return found
                u = -(-free // MICROS)

        return search

    # -- choosing the next Dial -------------------------------------------------------

    def _choose(self, s: int, now: int) -> Record | None:
        """Take the attempt to dial on slot ``s`` (polled at ``now``), by rule 4: over
        the groups callable from ``s`` to ``now``, the callback due first, else the
        ordinary attempt due first (a first attempt is due at the start, ties by
        customer order), else a customer read now."""
        while True:
            best: Group | None = None
            key: tuple[int, int, int] | None = None  # (0 callback / 1 ordinary, due, index)
            first = False  # best's candidate is its first held first attempt
            for group in self._groups.values():
                if not group.waiting:
                    continue
                group.clean()
                callbacks, retries = group.callbacks, group.retries
                if callbacks and callbacks[0][0] <= s:
                    mine, is_first = (0, callbacks[0][0], callbacks[0][1]), False
                elif key is not None and key[0] == 0:
                    continue  # a callback is chosen already: no ordinary attempt goes first
                else:
                    mine, is_first = (1, MAX_UTC, 0), False
                    if retries and retries[0][0] <= s:
                        mine = (1, retries[0][0], retries[0][1])
                    if group.held:
                        index = group.firsts[0].index
                        if mine[1] != MIN_UTC or mine[2] > index:
                            mine, is_first = (1, MIN_UTC, index), True
                    if mine[1] == MAX_UTC:
                        continue
                if key is not None and mine >= key:
                    continue
                if group.open_through(s, now):
                    best, key, first = group, mine, is_first
            if key is None or (key[0] == 1 and key[1] != MIN_UTC):
                # A first attempt not read yet is due before any ordinary retry.
                held_back = self._held_back
                reader = self._read_until_open(s, now)
                if reader is not None:
                    reader.clean()
                    best, key, first = reader, (1, MIN_UTC, 0), True
                elif self._held_back != held_back:
                    continue  # those read joined the retries, maybe due by s: look again
            break
        if best is None or key is None:
            return None
        if first:
            self._held -= 1
            return best.pop_first()
        return best.pop(callback=key[0] == 0)

    def _within_limits(self, record: Record | None, s: int, now: int) -> Record | None:
        """``record`` when its customer's limits allow a call at slot ``s``; else it
        waits (due again when they free; at the next second while another number
        of the customer is in a call) and the next by the rule is taken."""
        at = s * MICROS
        contacts = self._contacts
        while record is not None:
            ledger = contacts.ledgers[record.phone]
            if contacts.member_of or ledger.may_bind():
                free = ledger.first_allowed(at)
                busy = (
                    contacts.busy_until(record.phone, s, (r.phone for r in self._calls.values()))
                    if contacts.member_of
                    else None
                )
                if free != at or busy is not None:
                    if free is None:  # no allowed time ever again
                        self._lose(record)
                    else:
                        record.due = max(-(-free // MICROS), s + 1, busy or s)
                        if record.kind is Kind.FIRST:
                            record.kind = Kind.RETRY  # due later than the start
                        self._push(record)
                    record = self._choose(s, now)
                    continue
            return record
        return None

    # -- polling ----------------------------------------------------------------------

    def poll(self, now: datetime) -> list[Dial]:
        """The calls to place at ``now``: at most one, on the slot whose interval
        holds ``now``.  ``now`` must not be earlier than an earlier poll's."""
        u = instant(now, "now")
        if u > MAX_UTC:
            raise DispatchError(f"now {now.isoformat()} is after 9999-12-31T23:59:59Z")
        exact = (now - EPOCH).microseconds
        if self._now is not None and (u, exact) < (self._now, self._now_us):
            previous = from_seconds(self._now) + timedelta(microseconds=self._now_us)
            raise DispatchError(
                f"poll at {now.isoformat()} is earlier than the previous poll at "
                f"{previous.isoformat()}; time only moves forward"
            )
        self._now_us = exact
        record = self._poll(u)
        return [] if record is None else [self._dial(record)]

    def _poll(self, now: int) -> Record | None:
        self._now = now
        if self._calls:
            self._expire(now)
        if self._paused:
            return None
        s = self._grid.slot_of(now)
        if s is None or s < self._start:
            return None
        if self._last_at is not None and s < self._last_at + self._interval:
            return None  # this slot is used, or too close to the last call
        if self._lines.busy_at(s, len(self._calls)) >= self._lines.count:
            return None
        record = self._choose(s, now)
        if record is not None and self._limited:
            record = self._within_limits(record, s, now)
            if record is not None:
                self._contacts.dialed(record.phone, s)
        if record is None:
            return None
        self._seq += 1
        advance(record, Event.DIAL)
        record.seq = self._seq
        record.slot = s
        record.at = utc(s)
        record.started = None
        record.deadline = min(s + self._max_call, MAX_UTC)
        self._calls[self._seq] = record
        self._final.append(0)
        self._last_at = s
        return record

    @staticmethod
    def _dial(record: Record) -> Dial:
        assert record.at is not None
        return make_dial(str(record.seq), record.index, record.phone, record.attempt, record.at)

    # -- when to poll next --------------------------------------------------------------

    def next_wakeup(self) -> datetime | None:
        """The earliest instant at which a poll could place a call or close an
        expired one, if nothing else happens; None when only an event can change
        anything: every line is held by calls in doubt, the run is paused with
        nothing to expire, or nothing is left.  While calls not in doubt hold every
        line, that is the earliest of their expiry deadlines."""
        u = self._settled()
        if u is None:
            return None
        if u == self._now and self._now_us:  # poll now: the last poll's instant, exactly
            return utc(u) + timedelta(microseconds=self._now_us)
        return utc(u)

    def _settled(self) -> int | None:
        """Bring the engine to the state every query answers from, and return the
        next wake-up: customers read ahead as far as the wake-up needs, what no slot
        is left for counted, and, when the run is over, what still waits and the
        customers never read counted too.  Doing it twice changes nothing, so the
        queries (``next_wakeup``, ``finished``, ``summary``) may be asked in any
        order and as often as wished."""
        u = self._wakeup()
        if self._calls:
            return u
        if self._paused:  # the paused wake-up does not look for a Dial: look
            free = self._lines.free_from(0)
            over = self._next_dial(max(self._floor(), free or MIN_UTC)) is None
        else:
            over = u is None
        if over:
            self._drain()
        return u

    def _wakeup(self) -> int | None:
        deadline = self._deadline() if self._calls else None
        free = self._lines.free_from(len(self._calls))
        floor = self._floor()
        if self._paused or free is None:
            # No Dial before an event; what no slot is left for is counted all the same.
            if not self._calls and free is not None and free > floor:
                floor = free  # the ends reported: no line frees sooner
            self._settle_passed(floor)
            return self._not_before_now(deadline)
        if not self._calls:
            # Every call handed out has ended: the lines free up exactly as those ends
            # say, so nothing before `free` can ever be dialed (and may be settled).
            dial = self._next_dial(max(floor, free))
        else:  # a call not ended yet may free its line sooner (not_started)
            dial = self._next_dial(floor)
            if dial is not None and dial < free:
                dial = self._next_dial(free, settle=False)
        if deadline is not None and (dial is None or deadline < dial):
            dial = deadline
        return self._not_before_now(dial)

    def _deadline(self) -> int | None:
        """The earliest expiry deadline of the calls on the line (not in doubt)."""
        if not self._calls:
            return None
        return min(
            (r.deadline for r in self._calls.values() if r.state is not State.IN_DOUBT),
            default=None,
        )

    def _not_before_now(self, u: int | None) -> int | None:
        """A slot or a deadline already passed means: poll now."""
        now = self._now
        return u if u is None or now is None or u > now else now

    def _floor(self) -> int:
        """The first slot a poll from now on could still use: the slot holding the
        last poll's ``now`` while nothing was dialed on it (a later poll inside its
        interval may use it), else the first slot time after it and the interval
        after the last Dial; never before ``start``."""
        now, last = self._now, self._last_at
        if now is None:
            return self._start
        s = self._grid.slot_of(now)
        if (
            s is not None
            and s >= self._start
            and (last is None or s >= last + self._interval)
            and self._may_take(s, now)
        ):
            return s
        if last is not None and last + self._interval > now:
            return max(last + self._interval, self._start)
        return max(now, self._start)

    def _may_take(self, s: int, now: int) -> bool:
        """Whether someone could still be dialed on slot ``s`` by a poll at ``now`` or
        later in its interval: an attempt read and due at ``s``, or a customer not
        read yet (read ahead to know, under recipient hours), callable from ``s`` to
        ``now``."""
        if not self._shared and not self._reader.exhausted:
            return True
        for group in self._groups.values():
            if not group.waiting:
                continue
            group.clean()
            if (
                group.held
                or (group.retries and group.retries[0][0] <= s)
                or (group.callbacks and group.callbacks[0][0] <= s)
            ) and group.open_through(s, now):
                return True
        held_back = self._held_back
        if self._read_until_open(s, now) is not None:
            return True
        # Those read may have joined the retries, held back by their history.
        return self._held_back != held_back and self._may_take(s, now)

    def _next_dial(self, floor: int, settle: bool = True) -> int | None:
        """The first slot ``>= floor`` at which some pending attempt is due and
        callable for its customer, reading customers ahead to know; None when
        there is none.  With ``settle`` (``floor`` is where time stands), the
        groups that have no callable time left are accounted for."""
        while True:
            s = self._grid.slot_from(floor)  # no group's slot can come before it
            best = self._next_dial_held(floor, s, settle)
            if self._reader.exhausted and not self._reader.sources:
                return best
            if s is None or (best is not None and best <= s):
                return best
            if self._held >= LOOKAHEAD:
                return best
            # A customer not read yet may be callable at s: read ahead to know.
            if self._read_until_open(s, s) is not None:
                return s
            # Those just read wait for their own hours: look again.

    def _next_dial_held(self, floor: int, first: int | None, settle: bool) -> int | None:
        """The first slot ``>= floor`` (``first``: the first slot of the grid there)
        at which an attempt read and waiting is due and callable."""
        best: int | None = None
        for group in self._groups.values():
            if not group.waiting:
                continue
            group.clean()
            due = group.earliest_due()
            if due is None:
                continue
            if first is not None and due <= first and group.open_at(first):
                s: int | None = first  # due, and open there by the span it holds
            else:
                s = self._slot_for(group, due if due > floor else floor)
            if s is None:
                # No slot for what waits; the group is done when none is left at
                # all (what waits past its last slot is counted then, or when the
                # run is finished).
                if settle and (due <= floor or self._slot_for(group, floor) is None):
                    self._settle(group)
            elif best is None or s < best:
                best = s
        return best

    def _slot_for(self, group: Group, u: int) -> int | None:
        """The first slot ``>= u`` at which ``group``'s set is callable."""
        asked, found = group.memo  # the grid and the set never change: reuse it
        if asked <= u and (found is None or u <= found):
            return found
        grid = self._grid
        asked = u
        while True:
            s = grid.slot_from(u)
            if s is None or group.view is None:
                found = s
                break
            opens = group.next_open(s)
            if opens is None or opens == s:
                found = None if opens is None else s
                break
            u = opens
        group.memo = (asked, found)
        return found

    def _settle_passed(self, floor: int) -> None:
        """Count the groups with something waiting and no slot left from ``floor``."""
        for group in self._groups.values():
            if group.waiting and self._slot_for(group, floor) is None:
                self._settle(group)

    def _settle(self, group: Group) -> None:
        """No callable time remains for ``group``: count what waits in it."""
        for record in group.drain():
            if in_firsts(record):
                self._held -= 1
            self._lose(record)

    # -- totals -------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """No call on the line and nothing left that can still be dialed (the run
        is over: the customers never read are then counted as unscheduled)."""
        u = self._settled()
        if self._calls:
            return False
        if not self._paused:
            return u is None
        free = self._lines.free_from(0)
        return self._next_dial(max(self._floor(), free or MIN_UTC)) is None

    def _drain(self) -> None:
        """The run is over: what still waits can never be dialed (due after its
        customer's last slot), and the customers never read are unscheduled (or
        repeats)."""
        for group in self._groups.values():
            self._settle(group)
        while True:
            found = self._next_customer()
            if found is None:
                return
            self._tally.pending += 1
            self._tally.finish(Done.UNSCHEDULED)
            if self._limited:
                self._contacts.forget(found[1])

    @property
    def summary(self) -> Summary:
        """The totals so far (docs/dispatch.md, "Totals"); once :attr:`finished`,
        the customers never read count as unscheduled."""
        self._settled()
        return self._tally.summary(len(self._calls))

    # -- events -------------------------------------------------------------------------

    def _call(self, call_id: str) -> tuple[int, Record | None]:
        seq = int(call_id) if isinstance(call_id, str) and call_id.isdigit() else 0
        if not 0 < seq <= self._seq:
            raise DispatchError(f"unknown call_id {call_id!r}: no Dial had that id")
        return seq, self._calls.get(seq)

    def _closed(self, seq: int) -> Closed:
        state = self._final[seq]
        if state == NOT_STARTED:
            return Closed.NOT_STARTED
        return Closed.EXPIRED if state == EXPIRED else Closed.ENDED

    def started(self, call_id: str, at: datetime) -> None:
        """The call was placed at ``at`` (optional; ``ended`` alone is enough)."""
        u = instant(at, "at")
        seq, record = self._call(call_id)
        if record is None:
            assert LATE[self._closed(seq), Event.STARTED] is Late.IGNORED
            return  # it has ended already: a late confirmation changes nothing
        if u < record.slot:
            raise DispatchError(
                f"call {call_id} started at {at.isoformat()}, before its slot "
                f"{from_seconds(record.slot).isoformat()}"
            )
        if record.started is not None and record.started != u:
            raise DispatchError(
                f"call {call_id} was reported started at "
                f"{from_seconds(record.started).isoformat()} and now at {at.isoformat()}"
            )
        advance(record, Event.STARTED, f"call {call_id}")
        record.started = u
        record.deadline = min(u + self._max_call, MAX_UTC)

    def not_started(self, call_id: str, reason: str = "") -> None:
        """The dial never happened: the line is free and the attempt is not used
        up (it waits again with its own due time)."""
        seq, record = self._call(call_id)
        if record is None:
            closed = self._closed(seq)
            if LATE[closed, Event.NOT_STARTED] is Late.IGNORED:
                return  # a duplicate
            raise DispatchError(
                f"call {call_id} has {closed.value}; it cannot be reported not started"
            )
        advance(record, Event.NOT_STARTED, f"call {call_id}")
        del self._calls[seq]
        self._final[seq] = NOT_STARTED
        if self._limited:
            self._contacts.settled(record.phone, record.slot, None)
        if record.cancel is not None:
            self._done(record, Done.CANCELLED, Event.CANCEL)
            return
        if record.callback is not None:  # asked for during the call: it replaces it
            record.kind, record.due, record.callback = Kind.CALLBACK, record.callback, None
        elif record.kind is Kind.FIRST:
            record.kind = Kind.RETRY  # due at the start still, among the retries
        self._push(record)

    def ended(self, call_id: str, outcome: Outcome | str, at: datetime) -> Attempt | None:
        """The call ended at ``at`` with ``outcome`` (an ``Outcome`` or an API name).

        Returns the finished :class:`Attempt` (with its ``retry_at``), or None for
        a duplicate of an event already applied, or for a call closed before by
        its expiry."""
        try:
            parsed = outcome if isinstance(outcome, Outcome) else Outcome.parse(outcome)
        except ValueError as error:
            raise DispatchError(str(error)) from None
        u = instant(at, "at", up=True)
        seq, record = self._call(call_id)
        if record is None:
            closed = self._closed(seq)
            late = LATE[closed, Event.ENDED]
            if late is Late.IGNORED or (
                late is Late.SAME_OR_ERROR and self._final[seq] == _CODE[parsed.value]
            ):
                return None
            state = self._final[seq]
            was = "not started" if state == NOT_STARTED else f"ended {OUTCOMES[state - 1].value!r}"
            raise DispatchError(
                f"call {call_id} was already reported {was}; now ended {parsed.value!r}"
            )
        if u < record.slot or (record.started is not None and u < record.started):
            raise DispatchError(
                f"call {call_id} ended at {at.isoformat()}, before it started at "
                f"{from_seconds(max(record.slot, record.started or record.slot)).isoformat()}"
            )
        return self._end(record, parsed, u)

    def _end(self, record: Record, outcome: Outcome, ended: int, known: bool = True) -> Attempt:
        """Apply the end of ``record``'s call (checked by the caller); ``known``:
        False for a call closed by maxCallSeconds (its outcome stays unknown to the
        limits)."""
        seq, s, attempt = record.seq, record.slot, record.attempt
        if self._limited:
            self._contacts.ended(record.phone, ended)
            if known:
                self._contacts.settled(record.phone, s, outcome)
        if ended > MAX_UTC:  # an end past the time line is kept at its last second
            ended = MAX_UTC
        code = _CODE[outcome._value_]
        del self._calls[seq]
        self._lines.ended(ended, s)
        self._final[seq] = code
        at = record.at
        assert at is not None
        retry = self._next_attempt(record, outcome, code, ended)
        self._tally.count_call(code, s, ended)
        return make_attempt(record.index, record.phone, attempt, at, ended, outcome, retry)

    def _next_attempt(self, record: Record, outcome: Outcome, code: int, ended: int) -> int | None:
        """After a call: the customer's next attempt (a callback asked for during
        the call, else the retry the rule allows) is pending and its due second
        returned; or the customer is done (None)."""
        reached = outcome is Outcome.COMPLETED
        callback, record.callback = record.callback, None
        if record.cancel is not None:
            self._done(record, Done.CANCELLED, Event.ENDED_LAST)
            return None
        if callback is not None:  # the callback asked for during the call replaces the retry
            due: int | None = callback
            if ended > callback:  # not while the call it follows is on: from its end
                due = self._finder(record)(ended, None)
            if due is None:  # no callable time after the end: as a retry cut off
                self._done(record, Done.REACHED if reached else Done.CUT_OFF, Event.ENDED_LAST)
                return None
            record.reached = record.reached or reached
            record.kind = Kind.CALLBACK
        elif record.attempt in self._retried[code]:
            started = record.started if record.started is not None else record.slot
            due = retry_due(self._campaign, self._calendar, ended, started, self._finder(record))
            if due is None:  # the rule allows one; the campaign has no time left for it
                self._done(record, Done.CUT_OFF, Event.ENDED_LAST)
                return None
            record.kind = Kind.RETRY
        else:
            self._done(record, Done.REACHED if reached else Done.NOT_REACHED, Event.ENDED_LAST)
            return None
        advance(record, Event.ENDED)
        record.due = due
        record.attempt += 1
        record.at = None
        self._push(record)
        return due

    def _expire(self, now: int) -> None:
        """Close the calls whose ``maxCallSeconds`` passed by ``now`` (not in doubt)."""
        late = sorted(
            (r.deadline, seq)
            for seq, r in self._calls.items()
            if r.state is not State.IN_DOUBT and r.deadline <= now
        )
        for deadline, seq in late:
            attempt = self._end(self._calls[seq], Outcome.UNSPECIFIED, deadline, known=False)
            self._final[seq] = EXPIRED
            self._tally.expired += 1
            self._expired.append(attempt)

    def expired(self) -> list[Attempt]:
        """The calls closed as ``Unspecified`` because no end was reported within
        ``maxCallSeconds``, since the last call of this method."""
        found, self._expired = self._expired, []
        return found

    # -- control --------------------------------------------------------------------------

    def pause(self) -> None:
        """No Dial until :meth:`resume`; slots passed meanwhile are not made up."""
        self._paused = True

    def resume(self) -> None:
        """Dial again from the next poll."""
        self._paused = False

    @property
    def paused(self) -> bool:
        """Whether the run is paused."""
        return self._paused

    def cancel(self, customer_index: int, reason: str = "") -> bool:
        """Never dial customer ``customer_index`` again (an opt-out).

        Its waiting attempt is dropped and it counts as cancelled; a call on the
        line ends normally but gets no retry (it counts as cancelled then); a
        customer not read yet is cancelled when it is read (if that entry turns
        out to repeat an earlier number, it counts as a repeat).  True when
        something was cancelled; False when there was nothing to cancel: the
        customer is done (including one read ahead and counted unscheduled), a
        repeat already read, or cancelled before."""
        index = check_index(customer_index)
        reader = self._reader
        if index >= reader.cursor:
            if index in reader.cancel_ahead:
                return False
            reader.cancel_ahead[index] = reason
            return True
        record = self._records.get(index)
        if record is None:
            return False
        if record.state is not State.PENDING:
            if record.cancel is not None:
                return False
            advance(record, Event.CANCEL)
            record.cancel = reason
            return True
        if record.group.left(record):
            self._held -= 1
        self._done(record, Done.CANCELLED, Event.CANCEL)
        return True

    def callback(self, customer_index: int, at: datetime) -> datetime:
        """Call customer ``customer_index`` back at ``at``, or at the first instant
        after it that is callable for the customer (and allowed by its limits),
        ahead of ordinary attempts.

        The callback replaces the customer's next attempt (a waiting retry, or the
        retry of the call on the line).  Asked for during a call, it is never
        dialed before that call's reported end.  The customer must have been
        dialed and not be done: ask for the callback before reporting the end of
        the call on which the person asked.  Returns the instant the callback is
        due.  DispatchError for a cancelled customer, one with nothing on the line
        or waiting, or when no callable time remains at or after ``at``."""
        index = check_index(customer_index)
        u = instant(at, "at", up=True)
        record = self._records.get(index)
        if (record is not None and record.cancel is not None) or (
            index in self._reader.cancel_ahead
        ):
            raise DispatchError(f"customer {index} is cancelled; it cannot be called back")
        if record is None or in_firsts(record):
            raise DispatchError(
                f"customer {index} has no call in progress and no attempt waiting "
                "(not dialed yet, or finished); a callback must be asked for before "
                "the end of its call is reported"
            )
        found = self._finder(record)(u, None)
        if found is None:
            raise DispatchError(
                f"no time callable for customer {index} remains at or after {at.isoformat()}"
            )
        advance(record, Event.CALLBACK)
        if record.state is not State.PENDING:
            record.callback = found
            return from_seconds(found)
        record.group.left(record)
        record.kind, record.due = Kind.CALLBACK, found
        self._push(record)
        return from_seconds(found)

    def in_doubt(self) -> list[Dial]:
        """The Dials handed out before the snapshot this engine was restored from
        and never confirmed since: they may have rung.  They hold their lines and
        are never dialed again until ``started``, ``ended`` or ``not_started``."""
        return [self._dial(r) for _, r in sorted(self._calls.items()) if r.state is State.IN_DOUBT]

    def in_progress(self) -> list[Dial]:
        """Every Dial handed out and not ended (in doubt included)."""
        return [self._dial(r) for _, r in sorted(self._calls.items())]

    # -- snapshots ----------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole state as a JSON-ready dict (docs/dispatch.md, "Snapshots")."""
        return codec.write(self)

    @classmethod
    def restore(
        cls,
        campaign: Schedule,
        state: dict[str, Any],
        customers: Iterable[object] | None = None,
        *,
        exact: bool = False,
    ) -> Dispatcher:
        """The engine ``state`` (from :meth:`snapshot`) describes, on ``campaign``
        and ``customers`` (the same list, in the same order, with every list
        added by :meth:`add` after it).  Calls handed out and never confirmed
        come back :meth:`in_doubt`.  A snapshot of another campaign, of another
        format, or that does not fit the list is a :class:`DispatchError`.

        ``exact``: calls keep the in-doubt mark the snapshot holds, so the engine
        is the one that took the snapshot, for a caller that replays the events
        it logged after it (which say what became of those calls) before it
        applies the crash rule itself."""
        codec.check(campaign, state)
        engine = cls(campaign, customers)
        codec.read(engine, state, exact)
        return engine


def _setup_key(customer: Customer) -> tuple[object, ...] | None:
    """What a customer's view, rules and clocks depend on, when it is few things:
    a North American number (``+1`` and ten digits: its state is its area code's,
    docs/compliance.md, section 5) with its ``timezone`` given, and its ``state``;
    None otherwise (the customer is then read afresh: a key with the whole number
    would never be met again, and a bad property raises every time)."""
    properties = customer.properties
    zone = properties.get("timezone")
    state = properties.get("state")
    phone = customer.phone
    if type(zone) is not str or not (state is None or type(state) is str):
        return None
    if len(phone) != 12 or not phone.startswith("+1"):
        return None
    return (zone, state, phone[:5])
