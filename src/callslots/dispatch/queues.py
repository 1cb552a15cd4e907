"""The customers waiting, and when the next can be dialed (the base of the
:class:`~.engine.Dispatcher`).

:class:`Queues` reads the customer list lazily into records, keeps each pending
attempt in the :class:`~.groups.Group` of its callable set, and answers the two
questions of the engine: which attempt goes on slot ``s`` (:meth:`Queues._choose`,
docs/dispatch.md rule 4) and when a poll could next place a call
(:meth:`Queues._wakeup`).  Both are the one way the engine has of answering them.
It also counts the customers that no time is left for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from ..customers import Customer, zones_of
from ..errors import ConfigError
from ..limited import campaign_rules, longest_reach, with_view
from ..limits import MICROS, Rules
from ..recipients import RecipientView, ViewKey
from ..retry import refusal
from ..schedule import Schedule
from ..sharing import LOOKAHEAD  # the same bound for the plan and the engine
from ..tz import MAX_UTC, MIN_UTC
from .contacts import Contacts
from .grid import Grid
from .groups import Group
from .lines import Lines
from .reading import Reader
from .states import INDEX_BITS, Call, Event, Kind, Record, State, advance, in_firsts
from .tally import OUTCOMES, Done, Tally
from .values import (
    Attempt,
    instant,
)

__all__ = ["PLAIN", "Queues", "Setup"]

#: The one group's key when customers have no sets of their own.
PLAIN = ViewKey(())

#: What a customer needs (Queues._setup): its view (with recipient hours or calling
#: rules), its rules, its clocks when they are not the campaign's, and its group.
Setup = tuple[RecipientView | None, Rules, tuple[str, ...] | None, Group]


class Queues:
    """The customers of a run waiting for their calls, and the clock and lines
    that decide when the next one can be dialed (the base of :class:`Dispatcher`,
    which adds the events).  Owns the reading of the list, the queues by
    callable set (rule 4), the choice of the next Dial, the next wake-up, and
    the counting of customers with no time left."""

    def __init__(
        self,
        campaign: Schedule,
        customers: Iterable[object] | None,
        history: Iterable[object] | None,
        start: datetime | None,
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
        #: Every customer read and not done, by index (None: done).  A list, not a
        #: dict: 8 bytes a customer read instead of about 60 a customer waiting
        #: (benchmarks/README.md, "The engine, old and new"), the price being a
        #: None kept for each customer done.
        self._records: list[Record | None] = []
        #: The queues by the key of their customers' views; views whose callable
        #: sets are the same (RecipientView.shape) share one queue, in ``_queues``
        #: once each: every choice and wake-up looks at each queue.
        self._groups: dict[ViewKey, Group] = {}
        self._queues: list[Group] = []
        self._by_shape: dict[object, Group] = {}
        if not self._shared:
            self._groups[PLAIN] = Group(PLAIN, None, self._records)
            self._queues.append(self._groups[PLAIN])
        self._held = 0  # first attempts read and waiting in the groups' firsts
        self._held_back = 0  # first attempts their history put among the retries
        self._retried = _retried_after(campaign)
        self._base = campaign_rules(campaign)
        self._contacts = Contacts(self._base, campaign._calendar.zone, campaign.timezone, history)
        if self._limited:
            self._contacts.reach = longest_reach(campaign)
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
        #: The last instant next_wakeup named, and the datetime it gave for it.
        self._woke: int | None = None
        self._woke_at: datetime | None = None
        self._paused = False
        # -- calls
        self._seq = 0
        self._calls: dict[int, Call] = {}  # the calls on the line, by call id
        self._final = bytearray(1)  # the final state of every call by id (0 unused)
        self._expired: list[Attempt] = []

    # -- reading customers ----------------------------------------------------------

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
                self._done_unread(phone, Done.CANCELLED)
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
        record = Record(index, phone, setup[3], MIN_UTC)
        self._keep(record)
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
            self._tally.held_by_limits += 1
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
            # "Never" is decided from the campaign's start, not from where the slots
            # are: a customer read late is out of time, not never callable.
            begin = self._calendar.next_callable(MIN_UTC)
            # Views with the same callable set share a queue: with the US pack over
            # every state, 22 queues instead of 29 (benchmarks/README.md, "The
            # complete US pack against version 1").
            shape = view.shape(MIN_UTC if begin is None else begin)
            group = self._by_shape.get(shape)
            if group is None:
                group = self._by_shape[shape] = Group(key, view, self._records)
                group.never = begin is None or view.next_second(begin) is None
                self._queues.append(group)
            self._groups[key] = group
        return group

    # -- what waits -------------------------------------------------------------------

    def _keep(self, record: Record) -> None:
        """``record`` (of a customer read just now, or restored) in the index."""
        records, index = self._records, record.index
        gap = index - len(records)  # 0: read in order, the common case
        if gap < 0:
            records[index] = record
            return
        if gap:  # the entries between were repeats, or are restored later
            records.extend([None] * gap)
        records.append(record)

    def _record(self, index: int) -> Record | None:
        """The record of customer ``index``, None when it was not read or is done."""
        records = self._records
        return records[index] if index < len(records) else None

    def _push(self, record: Record) -> None:
        """``record`` waits (again) in its group."""
        if record.group.push(record):
            self._held += 1

    def _done(self, record: Record, done: Done, event: Event) -> None:
        """``record``'s customer is done (``event`` takes it to DONE): counted once
        (:meth:`Tally.finish`; a completed call before a callback makes it
        reached), and everything kept for it dropped."""
        advance(record, event)
        self._records[record.index] = None
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
        find = self._calendar.next_callable if group.view is None else group.next_callable
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
            key: tuple[int, int] | None = None  # (0 callback / 1 ordinary, Record.entry)
            for group in self._queues:
                if group.waiting:
                    found = group.offer(s, now, key)
                    if found is not None:
                        best, key = group, found
            if key is None or (key[0] == 1 and key[1] >> INDEX_BITS != MIN_UTC):
                # A first attempt not read yet is due before any ordinary retry.
                held_back = self._held_back
                reader = self._read_until_open(s, now)
                if reader is not None:
                    reader.clean()
                    self._held -= 1
                    return reader.pop_first()
                if self._held_back != held_back:
                    continue  # those read joined the retries, maybe due by s: look again
            break
        if best is None or key is None:
            return None
        if best.takes_first(key):
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
                    contacts.busy_until(
                        record.phone, s, (c.record.phone for c in self._calls.values())
                    )
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
                        self._tally.held_by_limits += 1
                        self._push(record)
                    record = self._choose(s, now)
                    continue
            return record
        return None

    # -- when to poll next --------------------------------------------------------------

    def _settled(self) -> tuple[int | None, bool]:
        """Bring the engine to the state every query answers from, and return the
        next wake-up and whether the run is over (no call on the line, nothing left
        to dial): customers read ahead as far as the wake-up needs, what no slot is
        left for counted, and, when the run is over, what still waits and the
        customers never read counted too.  Doing it twice changes nothing, so the
        queries (``next_wakeup``, ``finished``, ``summary``) may be asked in any
        order and as often as wished."""
        u = self._wakeup()
        if self._calls:
            return u, False
        if self._paused:  # the paused wake-up does not look for a Dial: look
            free = self._lines.free_from(0)
            over = self._next_dial(max(self._floor(), free or MIN_UTC)) is None
        else:
            over = u is None
        if over:
            self._drain()
        return u, over

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
            (c.deadline for c in self._calls.values() if c.record.state is not State.IN_DOUBT),
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
        for group in self._queues:
            if not group.waiting:
                continue
            group.clean()
            if (
                group.held
                or (group.retries and group.retries[0] >> INDEX_BITS <= s)
                or (group.callbacks and group.callbacks[0] >> INDEX_BITS <= s)
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
        for group in self._queues:
            if not group.waiting:
                continue
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
        for group in self._queues:
            if group.waiting and self._slot_for(group, floor) is None:
                self._settle(group)

    def _settle(self, group: Group) -> None:
        """No callable time remains for ``group``: count what waits in it."""
        for record in group.drain():
            if in_firsts(record):
                self._held -= 1
            self._lose(record)

    def _drain(self) -> None:
        """The run is over: what still waits can never be dialed (due after its
        customer's last slot), and the customers never read are unscheduled (or
        repeats)."""
        for group in self._queues:
            self._settle(group)
        while True:
            found = self._next_customer()
            if found is None:
                return
            self._done_unread(found[1], Done.UNSCHEDULED)

    def _done_unread(self, phone: str, done: Done) -> None:
        """A customer done as it is read, before it had a record (cancelled ahead,
        or read when the run is over): counted once, its ledger dropped."""
        self._tally.pending += 1
        self._tally.finish(done)
        if self._limited:
            self._contacts.forget(phone)


def _retried_after(campaign: Schedule) -> list[frozenset[int]]:
    """By outcome code (0: not ended): the attempt numbers after which a call
    ending with that outcome is retried (the retry rule, :mod:`callslots.retry`)."""
    return [frozenset[int]()] + [
        frozenset(n for n in range(1, campaign.call_retries + 2) if refusal(campaign, o, n) is None)
        for o in OUTCOMES
    ]


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
