"""The live engine: a sans-I/O campaign dispatcher (docs/dispatch.md).

A :class:`Dispatcher` never reads a clock and never does I/O.  A service tells it
the time (``poll(now)``) and what happened to the calls it placed (``started``,
``not_started``, ``ended``); it answers with the calls to place now (:class:`Dial`)
and when to ask again (``next_wakeup``).  Its whole state is a JSON-ready
``snapshot()`` that ``restore`` turns back into an engine that behaves exactly
like the original.  ``simulate()`` drives the same engine with a virtual clock.

The rules (docs/pacing.md, docs/compliance.md, docs/dispatch.md):

* a call starts only on a slot of the campaign's grid, inside its customer's
  callable set, at most one per slot, and never closer than
  ``callIntervalSeconds`` to the one before;
* a poll uses only the slot whose interval ``[slot, slot + interval)`` holds
  ``now``; slots that passed unpolled are not made up;
* at most ``maxConcurrency`` calls are in progress; a handed-out Dial holds a
  line until it ends (a call ended at ``t`` holds it until ``t``), and a call
  ending exactly at a slot frees its line for that slot;
* the pending attempt due earliest goes first, ties by customer order, except
  that a callback the person asked for goes ahead of every ordinary attempt once
  it is due; every first attempt is due at the start;
* a retry exists exactly when the retry rule (:mod:`callslots.retry`) says so.

All instants inside are integer UTC seconds; datetimes are made at the edges.
"""

from __future__ import annotations

import heapq
import json
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from itertools import chain, islice
from typing import Any

from .. import snapshots
from ..config import to_payload
from ..customers import (
    E164,
    CallRecord,
    Customer,
    SeenNumbers,
    customer_from,
    read_history,
    zones_of,
)
from ..errors import ConfigError, DispatchError
from ..limited import campaign_rules, with_view
from ..limits import MICROS, ContactLimit, Ledger, QuietRule, Rules
from ..outcomes import Outcome
from ..recipients import RecipientView, ViewKey
from ..retry import Search, refusal
from ..retry import due as retry_due
from ..schedule import Schedule
from ..sharing import LOOKAHEAD  # the same bound for the plan and the engine
from ..tz import MAX_UTC, MIN_UTC, Zone, load_zone, tz_database
from ..windows import from_seconds
from .tally import Done, Tally
from .values import (
    EPOCH,
    Attempt,
    Dial,
    Summary,
    check_index,
    instant,
    make_attempt,
    utc,
)

__all__ = ["Dispatcher"]


_OUTCOMES = tuple(Outcome)
#: Outcome codes (1-based; 0 is "not ended") by the outcome's value string: a
#: lookup by string hashes in C (76 ns), by the Enum member in Python (163 ns;
#: timeit, Python 3.11), and every finished call looks its outcome up once or twice.
_CODE = {o.value: i + 1 for i, o in enumerate(_OUTCOMES)}
_NOT_STARTED = 254
_EXPIRED = 253
_CALLBACK, _ORDINARY = 0, 1


class _Call:
    """A handed-out Dial and what is known of it."""

    __slots__ = (
        "at",
        "attempt",
        "deadline",
        "due",
        "group",
        "in_doubt",
        "index",
        "kind",
        "phone",
        "seq",
        "slot",
        "started",
    )

    def __init__(
        self,
        seq: int,
        customer: tuple[int, int, int, str],
        slot: int,
        kind: int,
        group: _Group,
        deadline: int,
    ) -> None:
        self.due, self.index, self.attempt, self.phone = customer
        self.seq, self.slot, self.kind, self.group = seq, slot, kind, group
        self.at = utc(slot)
        self.started: int | None = None
        self.deadline = deadline
        self.in_doubt = False

    def dial(self) -> Dial:
        return Dial(str(self.seq), self.index, self.phone, self.attempt, self.at)


class _Group:
    """The pending attempts of the customers who share one callable set (one zone
    set under ``recipientHours``; everyone otherwise), and where that set stands.

    ``firsts``: first attempts read and waiting, in customer order.  ``retries``
    and ``callbacks``: heaps of ``(due, index, attempt, phone)``; a first attempt
    that was not started goes back into ``retries`` due at the start.
    """

    __slots__ = (
        "callbacks",
        "closes",
        "firsts",
        "gap",
        "key",
        "known",
        "memo",
        "never",
        "opens",
        "retries",
        "view",
    )

    def __init__(self, key: ViewKey, view: RecipientView | None) -> None:
        self.key = key
        self.view = view  # None: the campaign's own set (no recipient hours)
        #: The last answer of Dispatcher._slot_for: ``(u, slot)``, the first slot
        #: ``>= u`` open for the group (None: none); it holds for every u up to slot.
        self.memo: tuple[int, int | None] = (MAX_UTC, None)
        self.firsts: deque[tuple[int, str]] = deque()
        self.retries: list[tuple[int, int, int, str]] = []
        self.callbacks: list[tuple[int, int, int, str]] = []
        self.never = False
        #: A slot at which the set is known to be callable (MIN_UTC: none known):
        #: the group has time left while the slots to come start no later.
        self.known = MIN_UTC
        # The set holds nothing in [gap, opens) and everything in [opens, closes).
        self.gap = self.opens = self.closes = MIN_UTC

    def earliest_due(self) -> int | None:
        if self.firsts:
            return MIN_UTC
        retries, callbacks = self.retries, self.callbacks
        if retries:
            due = retries[0][0]
            if callbacks and callbacks[0][0] < due:
                return callbacks[0][0]
            return due
        return callbacks[0][0] if callbacks else None

    def _look(self, u: int) -> None:
        assert self.view is not None
        self.gap = u
        for a, b in self.view.spans(u, MAX_UTC):
            self.opens, self.closes = a, b
            return
        self.opens = self.closes = MAX_UTC

    def open_through(self, s: int, now: int) -> bool:
        """Whether the set holds every second of ``[s, now]``."""
        if self.view is None:
            return True
        if not self.gap <= s < self.closes:
            self._look(s)
        return self.opens <= s and now < self.closes

    def next_open(self, u: int) -> int | None:
        """The first second ``>= u`` in the set, or None."""
        if self.view is None:
            return u
        if not self.gap <= u < self.closes:
            self._look(u)
        return None if self.opens >= MAX_UTC else max(u, self.opens)


class Dispatcher:
    """The live engine of one campaign run (module docstring; docs/dispatch.md).

    ``customers``: the payload's when None, else any iterable of E.164 strings,
    ``Customer`` objects or ``{phoneNumber, properties}`` mappings, read lazily;
    an invalid one raises ``ConfigError`` with its index when it is reached.
    """

    def __init__(
        self,
        campaign: Schedule,
        customers: Iterable[object] | None = None,
        history: Iterable[object] | None = None,
    ) -> None:
        self._campaign = campaign
        self._interval = campaign.call_interval_seconds
        self._lines = campaign.max_concurrency
        self._max_call = campaign.max_call_seconds
        self._shared = campaign.per_customer
        self._zone = campaign._calendar.zone
        self._groups: dict[ViewKey, _Group] = {}
        #: Whether some group may hold a callback or a first attempt due at the
        #: start (not started): then _choose_shared looks at every group.  Set
        #: where one is added, cleared by a look that finds none.
        self._urgent = False
        #: First attempts _wait_first has put among the retries (_choose_any looks
        #: again when a read adds one).
        self._held_back = 0
        #: No group with something waiting runs out of slots before this slot: each
        #: has a slot at or after it (its ``known``).  _settle_passed looks again
        #: once the slots to come start later; every push into a group lowers it
        #: to that group's ``known``.
        self._alive_to = MIN_UTC
        #: The group _read_until_open last found callable (a hint for _choose_shared).
        self._reader: _Group | None = None
        #: The one group when there are no recipient hours (a faster path).
        self._plain: _Group | None = None
        if not self._shared:
            self._plain = self._groups[_PLAIN] = _Group(_PLAIN, None)
        # By outcome code: the attempt numbers after which the outcome is retried.
        self._retried = [frozenset[int]()] + [
            frozenset(
                n for n in range(1, campaign.call_retries + 2) if refusal(campaign, o, n) is None
            )
            for o in _OUTCOMES
        ]
        self._fixed_delay = (
            campaign.retry_delay_seconds if campaign.retry_delay_mode == "fixed" else None
        )
        #: The campaign's own limits; a customer's own rules (a rule pack's) add to them.
        self._base = campaign_rules(campaign)
        source: Iterable[object] = campaign.customers if customers is None else customers
        self._history: dict[str, list[CallRecord]] = {}
        for record in read_history(history):
            self._history.setdefault(record.phone, []).append(record)
        #: customerId of the numbers that have a history, found ahead of reading
        #: (and the numbers by customerId), so that a record counts for the whole
        #: customer before its own number is read.
        self._member_hint: dict[str, str] = {}
        self._hinted: dict[str, list[str]] = {}
        #: The zones of every listed number of each customerId, found the same way:
        #: its clocks from the start (docs/limits.md, "Calendar window").
        self._member_zones: dict[str, set[str]] = {}
        source = self._find_members(source)
        self._source: Iterator[tuple[int, object]] = enumerate(source)
        self._sources: list[Iterable[object]] = []  # added with add(), not yet chained
        self._cursor = 0  # list entries read
        self._last_phone: str | None = None
        self._exhausted = False
        self._bad: ConfigError | None = None  # an invalid entry stops the reading
        self._seen = SeenNumbers()
        self._held = 0  # first attempts read and waiting in the groups
        self._cancel_ahead: dict[int, str] = {}  # customers cancelled before they were read
        # -- time
        self._now: int | None = None  # the last poll's now (whole seconds, rounded down)
        self._now_us = 0  # and its microseconds, so that a poll is never earlier
        self._last_at: int | None = None  # the slot of the last Dial
        self._paused = False
        self._window = (MIN_UTC, MIN_UTC)  # the last campaign window looked up
        # -- calls
        self._seq = 0
        self._calls: dict[int, _Call] = {}  # handed out and not ended
        self._final = bytearray(1)  # the final state of every call by seq (index 0 unused)
        self._ends: list[int] = []  # ends of ended calls that may still be in the future
        self._callback_after: dict[int, tuple[int, int]] = {}  # index -> (due, attempt)
        self._reached_open: set[int] = set()  # had a completed call, still pending
        self._cancelled_open: dict[int, str] = {}  # cancelled with a call in progress
        self._expired: list[Attempt] = []
        # -- counters
        self._tally = Tally(self._zone)
        # -- contact limits (docs/limits.md): on only when the campaign has some
        self._limited = campaign.limited or bool(campaign.calling_rules)
        #: The counted calls of each customer read and not done, by number (on its
        #: clocks, with its rules).
        self._ledgers: dict[str, Ledger] = {}
        #: Customers sharing a ``customerId``: the numbers, and every call counted.
        self._members: dict[str, list[str]] = {}
        self._member_of: dict[str, str] = {}
        self._member_calls: dict[str, list[tuple[str, int, Outcome | None]]] = {}
        #: Of those, the records of the history (what _wait_first decides from).
        self._member_history: dict[str, list[tuple[str, int, Outcome | None]]] = {}
        #: The latest reported end of a call of each customerId (a line it holds).
        self._member_until: dict[str, int] = {}
        self._needs_customer = self._shared or self._limited
        self._zone_tuple = (self._zone,)
        self._zone_tuple_keys = (campaign.timezone,)
        self._loaded: dict[tuple[str, ...], tuple[Zone, ...]] = {}
        #: The last customer whose setup was looked up, and that setup.
        self._last_setup: tuple[Customer | None, Setup] = (None, (None, self._base, None, None))
        self._start_slot: int | None = None  # the campaign's first slot, when needed
        #: What decides a customer's view, rules and clocks, by :func:`_setup_key`.
        self._setups: dict[tuple[object, ...], Setup] = {}

    # -- reading customers ----------------------------------------------------

    def add(self, customers: Iterable[object]) -> None:
        """Append ``customers`` to the run's list (read lazily after the rest)."""
        self._sources.append(self._find_members(customers))
        self._exhausted = False
        for member, phones in self._members.items():  # clocks the new entries bring
            if phones and member in self._member_zones and self._ledgers[phones[0]].rules.zoned:
                self._widen(member, phones[0])
                self._share_clocks(phones)

    def _next_customer(self) -> tuple[int, str, Customer | None] | None:
        """The next distinct customer not cancelled: ``(index, phone, customer)``
        (the Customer only under recipient hours); None when the list ends.

        An invalid entry raises ConfigError with its path, and again at every later
        read: the run does not go on past it (nobody is skipped silently)."""
        if self._bad is not None:
            raise self._bad
        while True:
            found = next(self._source, None)
            if found is None:
                if not self._sources:
                    self._exhausted = True
                    return None
                self._source = enumerate(self._sources.pop(0), self._cursor)
                continue
            index, item = found
            self._cursor = index + 1
            customer: Customer | None = None
            if type(item) is str and not self._needs_customer and E164.fullmatch(item):
                phone = item  # the common case: no Customer value needed
            else:
                try:
                    customer = customer_from(item, f"customers.{index}")
                except ConfigError as error:
                    self._bad = error
                    raise
                phone = customer.phone
            self._last_phone = phone
            if not self._seen.add(phone):
                self._tally.repeats += 1
                if self._cancel_ahead:
                    self._cancel_ahead.pop(index, None)  # a repeat: cancel the first entry
                continue
            if self._needs_customer and customer is None:
                customer = Customer(phone)
            if self._limited:
                # Before a cancellation: a number of a customerId counts among its
                # customer's numbers (its clocks) however early it was cancelled.
                assert customer is not None
                try:
                    self._read_limits(index, customer)
                except ConfigError as error:  # its zones (properties.timezone, phonenumbers)
                    self._bad = error
                    raise
            if self._cancel_ahead and index in self._cancel_ahead:
                del self._cancel_ahead[index]
                self._tally.pending += 1
                self._done(index, phone, Done.CANCELLED)
                continue
            return index, phone, customer

    def _read_until_open(self, s: int, now: int) -> _Group | None:
        """Read customers until one may be called over ``[s, now]`` (its group), the
        list ends, or :data:`LOOKAHEAD` first attempts wait."""
        while not self._exhausted and self._held < LOOKAHEAD:
            found = self._next_customer()
            if found is None:
                return None
            index, phone, customer = found
            try:
                group = self._group_of(customer, index)
            except ConfigError as error:  # its zone (properties.timezone, phonenumbers)
                self._bad = error
                raise
            self._tally.pending += 1
            if group.never:
                self._done(index, phone, Done.UNSCHEDULED)
                continue
            if self._limited and self._wait_first(group, index, phone, s):
                continue
            group.firsts.append((index, phone))
            self._held += 1
            self._waits_in(group)
            if group.open_through(s, now):
                self._reader = group
                return group
        return None

    def _wait_first(self, group: _Group, index: int, phone: str, s: int) -> bool:
        """A first attempt read whose history (the records given, its own and its
        customerId's) forbids a call at the campaign's first slot under its limits:
        it waits among the retries, due when they free (or is lost when they never
        do).  False when nothing holds it back: it is due at the start.

        The calls of this run are left out (they are checked when the attempt comes
        up, :meth:`_within_limits`), so that the answer does not depend on when
        the customer is read (``s``: the slot it is read for)."""
        ledger = self._ledgers[phone]
        if not ledger.may_bind():
            return False
        member = self._member_of.get(phone) if self._member_of else None
        if member is not None:
            past = self._member_history[member]
            if not past:
                return False
            if len(past) != len(self._member_calls[member]):  # calls of the run too
                ledger = Ledger(phone, ledger.rules, ledger.zones)
                for other, at, outcome in past:
                    ledger.add(other, at, outcome)
        if self._start_slot is None:
            found = self._campaign._slots.slot_at(0)
            self._start_slot = MAX_UTC if found is None else found[0]
        at = min(self._start_slot, s) * MICROS
        free = ledger.first_allowed(at)
        if free == at:
            return False
        if free is None:
            self._lose(index, 1, phone)
        else:
            heapq.heappush(group.retries, (-(-free // MICROS), index, 1, phone))
            self._waits_in(group)
        self._held_back += 1
        return True

    def _group_of(self, customer: Customer | None, index: int) -> _Group:
        if not self._shared:
            return self._groups[_PLAIN]
        assert customer is not None
        group = self._setup_of(customer, index)[3]
        assert group is not None
        return group

    def _make_group(self, key: ViewKey) -> _Group:
        view = self._campaign._views.get(key)
        group = self._groups[key] = _Group(key, view)
        # "Never" is decided from the campaign's start, not from where the slots
        # are: a customer read late is out of time, not never callable.
        begin = self._campaign._calendar.next_callable(MIN_UTC)
        group.never = begin is None or view.next_second(begin) is None
        return group

    # -- contact limits (docs/limits.md) -------------------------------------------

    def _read_limits(self, index: int, customer: Customer) -> None:
        """A customer was read: its ledger (on its clocks, with its rules), its
        history, the calls of the customers that share its ``customerId``."""
        phone = customer.phone
        if not self._shared and not self._base.zoned:  # nothing of its own to find
            rules, clocks = self._base, None
        else:
            _, rules, clocks, _ = self._setup_of(customer, index)
        ledger = self._ledgers[phone] = Ledger(phone, rules, self._zones(clocks))
        records = self._history.pop(phone, ()) if self._history else ()
        member = customer.properties.get("customerId")
        if not isinstance(member, str):
            for record in records:
                ledger.add(phone, record.at, record.outcome)
            return
        self._member_of[phone] = member
        phones = self._members.setdefault(member, [])
        log = self._member_calls.setdefault(member, [])
        phones.append(phone)
        if rules.zoned and member in self._member_zones:
            self._widen(member, phone)
        if rules.zoned and len(phones) > 1:
            self._share_clocks(phones)
        past = self._member_history.setdefault(member, [])
        for other in self._hinted.pop(member, ()):  # its numbers not read yet
            if other != phone:
                for record in self._history.pop(other, ()):
                    log.append((other, record.at, record.outcome))
                    past.append((other, record.at, record.outcome))
        for record in records:
            log.append((phone, record.at, record.outcome))
            past.append((phone, record.at, record.outcome))
            for other in phones[:-1]:
                self._ledgers[other].add(phone, record.at, record.outcome)
        for other, at, outcome in log:  # every call of its customer, its own included
            ledger.add(other, at, outcome)

    def _zones(self, clocks: tuple[str, ...] | None) -> tuple[Zone, ...]:
        """The zones named ``clocks`` (None: the campaign's), loaded once."""
        if clocks is None:
            return self._zone_tuple
        return self._loaded.get(clocks) or self._loaded.setdefault(
            clocks, tuple(load_zone(z) for z in clocks)
        )

    def _widen(self, member: str, phone: str) -> None:
        """Hold ``phone``'s ledger to the clocks of every listed number of its
        customerId found ahead of reading (:meth:`_find_members`)."""
        ledger = self._ledgers[phone]
        own = {z.key for z in ledger.zones}
        union = tuple(sorted(own | self._member_zones[member]))
        if len(union) > len(own):
            ledger.read_on(self._zones(None if union == self._zone_tuple_keys else union))

    def _share_clocks(self, phones: list[str]) -> None:
        """The numbers of one customer (a customerId) are held to the clocks of all of
        them (the strictest reading, docs/limits.md): the last one read brings its own."""
        first = tuple(z.key for z in self._ledgers[phones[0]].zones)
        last = tuple(z.key for z in self._ledgers[phones[-1]].zones)
        union = tuple(sorted(set(first) | set(last)))
        if union == first == last:
            return
        zones = self._zones(None if union == self._zone_tuple_keys else union)
        for p in phones:
            self._ledgers[p].read_on(zones)

    def _find_members(self, source: Iterable[object]) -> Iterable[object]:
        """With a history: note the ``customerId`` of every listed number that has
        records, and the zones of every listed number that has a ``customerId``,
        reading ``source`` once ahead (an iterator, which can be read only once, is
        kept as a list for the run; any other iterable is read again), so that a
        record counts for its whole customer, on all of its clocks, from the start
        (docs/limits.md, section 4).  Without one, ``source`` as it is."""
        if not self._history:
            return source
        items = list(source) if isinstance(source, Iterator) else source
        zoned = self._shared or self._base.zoned
        phone: object
        properties: object
        for item in items:
            if isinstance(item, Customer):
                phone, properties = item.phone, item.properties
            elif isinstance(item, Mapping):
                phone, properties = item.get("phoneNumber"), item.get("properties")
            else:
                continue
            member = properties.get("customerId") if isinstance(properties, Mapping) else None
            if not isinstance(phone, str) or not isinstance(member, str):
                continue
            if zoned:
                try:  # an invalid entry is reported when it is read
                    zones, _ = zones_of(
                        customer_from(item, "customers"), self._campaign.timezone, ""
                    )
                except ConfigError:
                    zones = ()
                self._member_zones.setdefault(member, set()).update(zones)
            if phone in self._history and phone not in self._member_hint:
                self._member_hint[phone] = member
                self._hinted.setdefault(member, []).append(phone)
        return items

    def _setup_of(self, customer: Customer, index: int) -> Setup:
        """:meth:`_setup`, looked up once per :func:`_setup_key` (and once per
        customer read: the limits and the group ask in turn)."""
        last, found = self._last_setup
        if last is customer:
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
        clocks when they are not the campaign's (None), and its group (None
        without per-customer sets)."""
        campaign = self._campaign
        rules = self._base
        view: RecipientView | None = None
        group: _Group | None = None
        if self._shared:
            view = campaign.view_for(customer, f"customers.{index}")
            rules = with_view(rules, view)
            group = self._groups.get(view.key) or self._make_group(view.key)
        clocks: tuple[str, ...] | None = None
        if rules.zoned:
            zones, _ = zones_of(customer, campaign.timezone, f"customers.{index}")
            if zones != (campaign.timezone,):
                clocks = zones
        return view, rules, clocks, group

    def _count(self, phone: str, slot: int, outcome: Outcome | None, *, dialed: bool) -> None:
        """Count a call's Dial (``dialed``), or settle its outcome (None: it never
        started), in the ledgers it counts in."""
        at = slot * MICROS
        member = self._member_of.get(phone) if self._member_of else None
        if member is None:
            ledger = self._ledgers[phone]
            if dialed:
                ledger.add(phone, at, None)
            else:
                ledger.settle(phone, at, outcome)
            return
        log = self._member_calls[member]
        if dialed:
            log.append((phone, at, None))
        else:
            i = log.index((phone, at, None))
            if outcome is None:
                del log[i]
            else:
                log[i] = (phone, at, outcome)
        for other in self._members[member]:
            if dialed:
                self._ledgers[other].add(phone, at, None)
            else:
                self._ledgers[other].settle(phone, at, outcome)

    def _member_busy(self, phone: str, s: int) -> int | None:
        """When another number of ``phone``'s customer is out of its call, if it is in
        one at ``s``: its reported end, or ``s + 1`` (look again) while the end is
        not known; None when the customer is free."""
        member = self._member_of.get(phone)
        if member is None:
            return None
        if any(self._member_of.get(c.phone) == member for c in self._calls.values()):
            return s + 1
        until = self._member_until.get(member)
        return until if until is not None and until > s else None

    def _within_limits(
        self, chosen: tuple[_Group, int, tuple[int, int, int, str]] | None, s: int, now: int
    ) -> tuple[_Group, int, tuple[int, int, int, str]] | None:
        """``chosen`` when its customer's limits allow a call at slot ``s``; else it
        waits (due again when they free; at the next second while another number
        of the customer is in a call) and the next by the rule is taken."""
        at = s * MICROS
        while chosen is not None:
            group, kind, entry = chosen
            _, index, attempt, phone = entry
            free = self._ledgers[phone].first_allowed(at)
            busy = self._member_busy(phone, s) if self._member_of else None
            if free == at and busy is None:
                return chosen
            if free is None:  # no allowed time ever again
                self._lose(index, attempt, phone)
            else:
                due = max(-(-free // MICROS), s + 1, busy or s)
                heap = group.callbacks if kind == _CALLBACK else group.retries
                heapq.heappush(heap, (due, index, attempt, phone))
                self._urgent |= kind == _CALLBACK
            chosen = self._choose(s, now)
        return None

    def _lose(self, index: int, attempt: int, phone: str) -> None:
        """An attempt that no time is left for: account for its customer (a first
        attempt was never dialed; a later one is a retry cut off)."""
        self._done(index, phone, Done.UNSCHEDULED if attempt == 1 else Done.CUT_OFF)

    def _done(self, index: int, phone: str, done: Done) -> None:
        """Customer ``index`` is done: counted once (:meth:`Tally.finish`; a
        completed call before a callback makes it reached), and what was kept for
        it is dropped."""
        self._tally.finish(done, reached=index in self._reached_open)
        self._reached_open.discard(index)
        self._callback_after.pop(index, None)
        self._forget(phone)

    def _forget(self, phone: str) -> None:
        """A customer is done: its counted calls matter no more (unless other numbers
        of its customerId may still be called), so a long run keeps only the ledgers
        of customers still pending."""
        if phone not in self._member_of:
            self._ledgers.pop(phone, None)

    def _search(self, group: _Group, ledger: Ledger) -> Callable[[int, int | None], int | None]:
        """The first second ``>= u`` callable for ``group`` (in a window of a day ``>=
        first_day``) and allowed by ``ledger``: leapfrogging the two."""
        find = (
            self._campaign._calendar.next_callable if group.view is None else group.view.next_second
        )
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

    # -- the slot grid ----------------------------------------------------------

    def _window_at(self, u: int) -> tuple[int, int] | None:
        """A stretch ``(s, b)`` of a campaign window, from its slot ``s`` to its end
        ``b``, that holds ``u`` (the slots of a window are ``s + k * interval``);
        else the one from the first slot after ``u``.  None when no slot remains."""
        s, b = self._window
        if s <= u < b:
            return s, b
        table = self._campaign._slots
        before = table.slot_index(u + 1) if u < MAX_UTC else table.slot_index(MAX_UTC)
        found = table.slot_at(before - 1) if before else None  # the last slot at or before u
        if found is not None and u < found[1]:
            self._window = found
            return found
        found = table.slot_at(before)  # the first slot after u
        if found is None:
            return None
        self._window = found
        return found

    def _slot_from(self, u: int) -> int | None:
        """The first slot ``>= u``, or None."""
        window = self._window_at(u)
        if window is None:
            return None
        a, b = window
        if u <= a:
            return a
        s = a + -(-(u - a) // self._interval) * self._interval
        if s < b:
            return s
        window = self._window_at(b)
        return None if window is None else window[0]

    def _slot_of(self, now: int) -> int | None:
        """The slot whose interval holds ``now``, when ``now`` is callable."""
        a, b = self._window_at(now) or (MAX_UTC, MAX_UTC)
        if not a <= now < b:
            return None
        return a + (now - a) // self._interval * self._interval

    # -- lines --------------------------------------------------------------------

    def _busy_at(self, s: int) -> int:
        ends = self._ends
        while ends and ends[0] <= s:
            heapq.heappop(ends)
        return len(self._calls) + len(ends)

    def _line_free_from(self) -> int | None:
        """The first instant a line is free, counting ended calls that last longer;
        None while calls that have not ended hold every line."""
        free = self._lines - len(self._calls)
        if free <= 0:
            return None
        ends = self._ends
        if len(ends) < free:
            return MIN_UTC
        return heapq.nlargest(free, ends)[-1]

    # -- polling ------------------------------------------------------------------

    def poll(self, now: datetime) -> list[Dial]:
        """The calls to place at ``now``: at most one, on the slot whose interval
        holds ``now``.  ``now`` must not be earlier than an earlier poll's."""
        u = instant(now, "now")
        exact = (now - EPOCH).microseconds
        if self._now is not None and (u, exact) < (self._now, self._now_us):
            previous = from_seconds(self._now) + timedelta(microseconds=self._now_us)
            raise DispatchError(
                f"poll at {now.isoformat()} is earlier than the previous poll at "
                f"{previous.isoformat()}; time only moves forward"
            )
        self._now_us = exact
        call = self._poll(u)
        return [] if call is None else [call.dial()]

    def _poll(self, now: int) -> _Call | None:
        self._now = now
        if self._calls:
            self._expire(now)
        if self._paused:
            return None
        a, b = self._window
        if a <= now < b:  # the window of the last slot: most polls
            s = a + (now - a) // self._interval * self._interval
        else:
            found = self._slot_of(now)
            if found is None:
                return None
            s = found
        if self._last_at is not None and s < self._last_at + self._interval:
            return None  # this slot is used, or too close to the last call
        ends = self._ends  # ended calls whose end may be after s: _busy_at, inlined
        while ends and ends[0] <= s:
            heapq.heappop(ends)
        if len(self._calls) + len(ends) >= self._lines:
            return None
        chosen = self._choose(s, now)
        if chosen is None:
            return None
        if self._limited:
            if self._member_of or self._ledgers[chosen[2][3]].may_bind():
                chosen = self._within_limits(chosen, s, now)
                if chosen is None:
                    return None
            self._count(chosen[2][3], s, None, dialed=True)
        group, kind, entry = chosen
        self._seq += 1
        seq = self._seq
        deadline = min(s + self._max_call, MAX_UTC)
        call = self._calls[seq] = _Call(seq, entry, s, kind, group, deadline)
        self._final.append(0)
        self._last_at = s
        return call

    def _choose(self, s: int, now: int) -> tuple[_Group, int, tuple[int, int, int, str]] | None:
        """Take the attempt to call at slot ``s`` (polled at ``now``), by the rule."""
        plain = self._plain
        if plain is not None:  # no recipient hours: one group, callable on every slot
            if plain.callbacks and plain.callbacks[0][0] <= s:
                return plain, _CALLBACK, heapq.heappop(plain.callbacks)
            retries = plain.retries
            if retries and retries[0][0] == MIN_UTC:  # a first attempt not started
                return plain, _ORDINARY, heapq.heappop(retries)
            if plain.firsts:
                index, phone = plain.firsts.popleft()
                self._held -= 1
                return plain, _ORDINARY, (MIN_UTC, index, 1, phone)
            while not self._exhausted:
                found = self._next_customer()
                if found is None:
                    break
                self._tally.pending += 1
                if not (self._limited and self._wait_first(plain, found[0], found[1], s)):
                    return plain, _ORDINARY, (MIN_UTC, found[0], 1, found[1])
            if retries and retries[0][0] <= s:
                return plain, _ORDINARY, heapq.heappop(retries)
            return None
        return self._choose_shared(s, now)

    def _choose_shared(
        self, s: int, now: int
    ) -> tuple[_Group, int, tuple[int, int, int, str]] | None:
        """:meth:`_choose` with per-customer sets: over the groups callable from
        ``s`` to ``now``, the callback due first, else the ordinary attempt due
        first (a first attempt is due at the start), else a customer read now."""
        if not self._urgent:
            # No callback and no first attempt due at the start anywhere: a first
            # attempt waiting or read now goes before every retry.
            held = self._held
            group = self._reader
            if not held:
                group = self._read_until_open(s, now)
            if group is not None and len(group.firsts) == self._held and group.firsts:
                # It holds every first attempt waiting (those in customer order).
                if group.open_through(s, now):
                    index, phone = group.firsts.popleft()
                    self._held -= 1
                    return group, _ORDINARY, (MIN_UTC, index, 1, phone)
            elif not self._held:  # only retries wait: the one due first
                best: _Group | None = None
                head: tuple[int, int, int, str] | None = None
                for group in self._groups.values():
                    retries = group.retries
                    if (
                        retries
                        and retries[0][0] <= s
                        and (head is None or retries[0] < head)
                        and group.open_through(s, now)
                    ):
                        best, head = group, retries[0]
                if best is None:
                    return None
                return best, _ORDINARY, heapq.heappop(best.retries)
        return self._choose_any(s, now)

    def _choose_any(self, s: int, now: int) -> tuple[_Group, int, tuple[int, int, int, str]] | None:
        """:meth:`_choose_shared` looking at every group (and clearing ``_urgent``
        when none holds a callback or a first attempt due at the start)."""
        while True:
            best: _Group | None = None
            head: tuple[int, int, int, str] | None = None  # best's entry
            kind = _ORDINARY
            firsts = False  # head is best's first first attempt
            urgent = False
            for group in self._groups.values():
                # The group's own candidate: heap entries compare by (due, index).
                callbacks = group.callbacks
                retries = group.retries
                urgent = urgent or bool(callbacks) or bool(retries and retries[0][0] == MIN_UTC)
                entry: tuple[int, int, int, str] | None
                if callbacks and callbacks[0][0] <= s:
                    entry, k, first = callbacks[0], _CALLBACK, False
                elif kind == _CALLBACK:
                    continue  # a callback is chosen already: no ordinary attempt goes first
                else:
                    entry = retries[0] if retries and retries[0][0] <= s else None
                    k, first = _ORDINARY, False
                    if group.firsts:
                        index, phone = group.firsts[0]
                        if entry is None or entry[0] != MIN_UTC or entry[1] > index:
                            entry, first = (MIN_UTC, index, 1, phone), True
                    if entry is None:
                        continue
                if head is not None and (k > kind or (k == kind and entry >= head)):
                    continue
                if group.open_through(s, now):
                    best, head, kind, firsts = group, entry, k, first
            self._urgent = urgent
            if head is None or (kind == _ORDINARY and head[0] != MIN_UTC):
                # A first attempt not read yet is due before any ordinary retry.
                held_back = self._held_back
                reader = self._read_until_open(s, now)
                if reader is not None:
                    best, kind, firsts = reader, _ORDINARY, True
                elif self._held_back != held_back:
                    # Those read joined the retries, held back by their history
                    # (_wait_first), maybe due by s: look again.
                    continue
            break
        if best is None:
            return None
        if kind == _CALLBACK:
            return best, _CALLBACK, heapq.heappop(best.callbacks)
        if firsts:
            index, phone = best.firsts.popleft()
            self._held -= 1
            return best, _ORDINARY, (MIN_UTC, index, 1, phone)
        return best, _ORDINARY, heapq.heappop(best.retries)

    # -- when to poll next ------------------------------------------------------------

    def next_wakeup(self) -> datetime | None:
        """The earliest instant at which a poll could place a call or close an
        expired one, if nothing else happens; None when only an event can change
        anything (every line held by calls not ended, or nothing left)."""
        u = self._wakeup()
        if u is None:
            return None
        if u == self._now:  # poll now: the last poll's instant, to the microsecond
            return from_seconds(u) + timedelta(microseconds=self._now_us)
        return from_seconds(u)

    def _floor(self) -> int:
        """The first slot a poll from now on could still use: the slot holding the
        last poll's ``now`` while nothing was dialed on it (a later poll inside its
        interval may use it), else the first slot time after it and the interval
        after the last Dial."""
        now, last = self._now, self._last_at
        if now is None:
            return MIN_UTC
        s = self._slot_of(now)
        if (
            s is not None
            and (last is None or s >= last + self._interval)
            and self._may_take(s, now)
        ):
            return s
        if last is not None and last + self._interval > now:
            return last + self._interval
        return now

    def _wakeup(self) -> int | None:
        plain = self._plain
        last = self._last_at
        if last is not None and not self._calls and last == self._now:
            # The common case, and simulate()'s: every call handed out has ended,
            # and the last poll placed a call (so its slot is used).  The rule of
            # _next_dial, written out.
            floor = last + self._interval
            ends = self._ends
            if len(ends) >= self._lines:
                free = ends[0] if len(ends) == self._lines else self._line_free_from()
                if free is not None and free > floor:
                    floor = free
            if plain is None:
                # Per-customer sets: no slot comes before the first one from the
                # floor, so a customer read now that is callable there is the
                # answer (the poll takes it before any retry: _choose).  The
                # groups whose slots have run out are accounted for first, as
                # the general path does (_next_dial_held).
                s = self._slot_from(floor)
                if s is not None and not self._paused:
                    if floor > self._alive_to:
                        self._settle_passed(floor)
                    if self._held:  # first attempts wait: is one callable at s?
                        for group in self._groups.values():
                            if group.firsts and group.next_open(s) == s:
                                return s
                    elif not self._exhausted and self._read_until_open(s, s) is not None:
                        return s
                    for group in self._groups.values():
                        if (
                            (group.retries and group.retries[0][0] <= s)
                            or (group.callbacks and group.callbacks[0][0] <= s)
                        ) and group.next_open(s) == s:
                            return s
                return self._wakeup_general()
            while not plain.firsts and not self._exhausted:
                found = self._next_customer()  # is there one?  Hold it for the poll.
                if found is None:
                    break
                self._tally.pending += 1
                if not (self._limited and self._wait_first(plain, found[0], found[1], floor)):
                    plain.firsts.append((found[0], found[1]))
                    self._held += 1
            if plain.firsts:
                due = MIN_UTC
            elif plain.retries and not plain.callbacks:
                due = plain.retries[0][0]
            elif plain.retries or plain.callbacks:
                due = min(
                    plain.retries[0][0] if plain.retries else MAX_UTC,
                    plain.callbacks[0][0] if plain.callbacks else MAX_UTC,
                )
            else:
                return self._wakeup_general()
            u = due if due > floor else floor
            a, b = self._window  # _slot_from, inlined for the window of the last slot
            if a <= u < b and not self._paused:
                s = a + -(-(u - a) // self._interval) * self._interval
                if s < b:
                    return s
            slot = self._slot_from(u)
            if slot is not None and not self._paused:
                return slot
        return self._wakeup_general()

    def _wakeup_general(self) -> int | None:
        deadline = min((c.deadline for c in self._calls.values() if not c.in_doubt), default=None)
        free = self._line_free_from()
        if self._paused or free is None:
            # No Dial before an event; what no slot is left for is counted all the same.
            floor = self._floor()
            if not self._calls and free is not None and free > floor:
                floor = free  # the ends reported: no line frees sooner
            self._settle_passed(floor)
            return self._not_before_now(deadline)
        floor = self._floor()
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

    def _not_before_now(self, u: int | None) -> int | None:
        """A slot or a deadline already passed means: poll now."""
        now = self._now
        return u if u is None or now is None or u > now else now

    def _may_take(self, s: int, now: int) -> bool:
        """Whether someone could still be dialed on slot ``s`` by a poll at ``now`` or
        later in its interval: an attempt read and due at ``s``, or a customer not
        read yet (read ahead to know, under recipient hours), callable from ``s`` to
        ``now``."""
        if self._plain is not None and not self._exhausted:
            return True
        for group in self._groups.values():
            if (
                group.firsts
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
            best = self._next_dial_held(floor, settle)
            if self._exhausted and not self._sources:
                return best
            s = self._slot_from(floor)
            if s is None or (best is not None and best <= s):
                return best
            if self._held >= LOOKAHEAD:
                return best
            # A customer not read yet may be callable at s: read ahead to know.
            if self._read_until_open(s, s) is not None:
                return s
            # Those just read wait for their own hours: look again.

    def _next_dial_held(self, floor: int, settle: bool) -> int | None:
        best: int | None = None
        first = self._slot_from(floor)  # no group's slot can come before it
        for group in self._groups.values():
            due = group.earliest_due()
            if due is None:
                continue
            if (
                first is not None
                and due <= first
                and group.gap <= first < group.closes
                and group.opens <= first
            ):
                s: int | None = first  # open there (the window it last looked up)
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

    def _callable_known(self, group: _Group, u: int) -> bool:
        """Whether ``u`` is callable for ``group`` by the stretches already looked
        up (the campaign window of the last slot, the group's last span); False
        when they do not say (the caller then searches)."""
        window = self._window
        if not window[0] <= u < window[1]:
            return False
        return group.view is None or group.opens <= u < group.closes

    def _slot_for(self, group: _Group, u: int) -> int | None:
        """The first slot ``>= u`` at which ``group``'s set is callable."""
        asked, found = group.memo  # the grid and the set never change: reuse it
        if asked <= u and (found is None or u <= found):
            return found
        found = self._first_slot_for(group, u)
        group.memo = (u, found)
        return found

    def _first_slot_for(self, group: _Group, u: int) -> int | None:
        while True:
            s = self._slot_from(u)
            if s is None:
                return None
            if group.view is None:
                return s
            opens = group.next_open(s)
            if opens is None:
                return None
            if opens == s:
                return s
            u = opens

    def _waits_in(self, group: _Group) -> None:
        """Something was put to wait in ``group``: it may have had nothing waiting at
        the last :meth:`_settle_passed`, so ``_alive_to`` comes down to its ``known``."""
        if group.known < self._alive_to:
            self._alive_to = group.known

    def _settle_passed(self, floor: int) -> None:
        """:meth:`_next_dial_held`'s accounting without its search for the next dial
        (the fast wake-up, a paused one, ``summary``): settle the groups with
        something waiting and no slot left from ``floor``, and note how far each
        other one is known to have slots (``_alive_to``)."""
        window = self._window  # only a cache: kept for the caller
        low = MAX_UTC
        for group in self._groups.values():
            if not (group.firsts or group.retries or group.callbacks):
                continue
            if group.known < floor:
                found = self._slot_for(group, floor)
                if found is None:
                    self._settle(group)
                    continue
                group.known = self._last_slot_with(group, found)
            if group.known < low:
                low = group.known
        self._window = window
        self._alive_to = low

    def _last_slot_with(self, group: _Group, s: int) -> int:
        """The last slot of ``s``'s campaign window in the span of ``group``'s set
        that holds slot ``s`` (callable for the group)."""
        group.next_open(s)  # looks up the span that holds s
        a, b = self._window_at(s) or (s, s + 1)
        end = b if group.view is None else min(b, group.closes)
        return a + (end - 1 - a) // self._interval * self._interval

    def _settle(self, group: _Group) -> None:
        """No callable time remains for ``group``: account for what waits in it."""
        for index, phone in group.firsts:
            self._done(index, phone, Done.UNSCHEDULED)
        self._held -= len(group.firsts)
        group.firsts.clear()
        for _, index, attempt, phone in chain(group.retries, group.callbacks):
            # a first attempt reported not_started was never dialed
            self._lose(index, attempt, phone)
        group.retries.clear()
        group.callbacks.clear()

    @property
    def finished(self) -> bool:
        """No call in progress and nothing left that can still be dialed."""
        if self._calls:
            return False
        free = self._line_free_from()  # not None: no call holds a line without an end
        done = self._next_dial(max(self._floor(), free or MIN_UTC)) is None
        if done:
            self._drain()
        return done

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
            self._done(found[0], found[1], Done.UNSCHEDULED)

    # -- events -------------------------------------------------------------------

    def _call(self, call_id: str) -> tuple[int, _Call | None]:
        seq = int(call_id) if isinstance(call_id, str) and call_id.isdigit() else 0
        if not 0 < seq <= self._seq:
            raise DispatchError(f"unknown call_id {call_id!r}: no Dial had that id")
        return seq, self._calls.get(seq)

    def started(self, call_id: str, at: datetime) -> None:
        """The call was placed at ``at`` (optional; ``ended`` alone is enough)."""
        u = instant(at, "at")
        _, call = self._call(call_id)
        if call is None:
            return  # it has ended already: a late confirmation changes nothing
        if u < call.slot:
            raise DispatchError(
                f"call {call_id} started at {at.isoformat()}, before its slot "
                f"{from_seconds(call.slot).isoformat()}"
            )
        if call.started is not None and call.started != u:
            raise DispatchError(
                f"call {call_id} was reported started at "
                f"{from_seconds(call.started).isoformat()} and now at {at.isoformat()}"
            )
        call.started = u
        call.in_doubt = False
        call.deadline = min(u + self._max_call, MAX_UTC)

    def not_started(self, call_id: str, reason: str = "") -> None:
        """The dial never happened: the line is free and the attempt is not used
        up (it waits again with its own due time)."""
        seq, call = self._call(call_id)
        if call is None:
            state = self._final[seq]
            if state == _NOT_STARTED:
                return  # a duplicate
            raise DispatchError(
                f"call {call_id} has {'expired' if state == _EXPIRED else 'ended'}; "
                "it cannot be reported not started"
            )
        if call.started is not None:
            raise DispatchError(f"call {call_id} was reported started; report how it ended instead")
        del self._calls[seq]
        self._final[seq] = _NOT_STARTED
        if self._limited:
            self._count(call.phone, call.slot, None, dialed=False)
        index = call.index
        group = call.group
        assert group is not None
        if index in self._cancelled_open:
            del self._cancelled_open[index]
            self._done(index, call.phone, Done.CANCELLED)
            return
        later = self._callback_after.pop(index, None)
        entry = (call.due, index, call.attempt, call.phone)
        self._urgent = True  # a callback, or a first attempt due at the start
        self._waits_in(group)
        if later is not None:  # the callback asked for during the call replaces it
            heapq.heappush(group.callbacks, (later[0], index, call.attempt, call.phone))
        elif call.kind == _CALLBACK:
            heapq.heappush(group.callbacks, entry)
        else:
            heapq.heappush(group.retries, entry)

    def ended(self, call_id: str, outcome: Outcome | str, at: datetime) -> Attempt | None:
        """The call ended at ``at`` with ``outcome`` (an ``Outcome`` or an API name).

        Returns the finished :class:`Attempt` (with its ``retry_at``), or None for
        a duplicate of an event already applied."""
        try:
            parsed = outcome if isinstance(outcome, Outcome) else Outcome.parse(outcome)
        except ValueError as error:
            raise DispatchError(str(error)) from None
        u = instant(at, "at", up=True)
        seq, call = self._call(call_id)
        if call is None:
            state = self._final[seq]
            if state == _CODE[parsed.value] or state == _EXPIRED:
                return None  # a duplicate, or an end reported after the call expired
            was = (
                "not started" if state == _NOT_STARTED else f"ended {_OUTCOMES[state - 1].value!r}"
            )
            raise DispatchError(
                f"call {call_id} was already reported {was}; now ended {parsed.value!r}"
            )
        if u < call.slot or (call.started is not None and u < call.started):
            raise DispatchError(
                f"call {call_id} ended at {at.isoformat()}, before it started at "
                f"{from_seconds(max(call.slot, call.started or call.slot)).isoformat()}"
            )
        return self._end(call, parsed, u)

    def _end(self, call: _Call, outcome: Outcome, ended: int, known: bool = True) -> Attempt:
        """Apply the end of ``call`` (checked by the caller); ``known``: False for a
        call closed by maxCallSeconds (its outcome stays unknown to the limits)."""
        seq, index, attempt, s = call.seq, call.index, call.attempt, call.slot
        ledger: Ledger | None = None
        if self._limited:
            phone = call.phone
            member = self._member_of.get(phone) if self._member_of else None
            if member is not None and ended > self._member_until.get(member, MIN_UTC):
                self._member_until[member] = ended
            if known:
                self._count(phone, s, outcome, dialed=False)
            ledger = self._ledgers[phone]
        if ended > MAX_UTC:  # an end past the time line is kept at its last second
            ended = MAX_UTC
        code = _CODE[outcome._value_]
        del self._calls[seq]
        self._final[seq] = code
        if ended > s:
            heapq.heappush(self._ends, ended)
        group = call.group
        retry: int | None = None
        if self._callback_after or self._cancelled_open or self._reached_open:
            retry = self._end_special(call, outcome, ended, ledger)
        elif attempt in self._retried[code]:
            fixed = self._fixed_delay
            if (
                fixed is not None
                and self._callable_known(group, ended + fixed)
                and (
                    ledger is None
                    or ledger.first_allowed((ended + fixed) * MICROS) == (ended + fixed) * MICROS
                )
            ):
                retry = ended + fixed  # callable itself, by what is already looked up
            else:
                search: Search | None = None if group.view is None else group.view.next_second
                if ledger is not None and ledger.may_bind():
                    search = self._search(group, ledger)
                retry = retry_due(
                    self._campaign, self._campaign._calendar, ended, call.started or s, search
                )
            if retry is not None:
                heapq.heappush(group.retries, (retry, index, attempt + 1, call.phone))
                self._waits_in(group)
            else:
                self._done(index, call.phone, Done.CUT_OFF)
        else:
            done = Done.REACHED if outcome is Outcome.COMPLETED else Done.NOT_REACHED
            self._done(index, call.phone, done)
        self._tally.count_call(code, s, ended)
        return make_attempt(index, call.phone, attempt, call.at, ended, outcome, retry)

    def _end_special(
        self, call: _Call, outcome: Outcome, ended: int, ledger: Ledger | None
    ) -> int | None:
        """:meth:`_end` for a customer with a callback asked for, a cancellation, or
        a completed call behind it: the next attempt's due time, or None."""
        index, attempt, group = call.index, call.attempt, call.group
        later = self._callback_after.pop(index, None)
        if index in self._cancelled_open:
            del self._cancelled_open[index]
            self._done(index, call.phone, Done.CANCELLED)
            return None
        if later is not None:  # the callback asked for during the call replaces its retry
            due: int | None = later[0]
            if ended > later[0]:  # not while the call it follows is on: from its end
                if ledger is not None and ledger.may_bind():
                    due = self._search(group, ledger)(ended, None)
                elif group.view is None:
                    due = self._campaign._calendar.next_callable(ended)
                else:
                    due = group.view.next_second(ended)
            if due is None:  # no callable time after the end: as a retry cut off
                done = Done.REACHED if outcome is Outcome.COMPLETED else Done.CUT_OFF
                self._done(index, call.phone, done)
                return None
            if outcome is Outcome.COMPLETED:
                self._reached_open.add(index)
            heapq.heappush(group.callbacks, (due, index, attempt + 1, call.phone))
            self._urgent = True
            self._waits_in(group)
            return due
        retry = None
        if attempt in self._retried[_CODE[outcome._value_]]:
            search: Search | None = None if group.view is None else group.view.next_second
            if ledger is not None and ledger.may_bind():
                search = self._search(group, ledger)
            retry = retry_due(
                self._campaign, self._campaign._calendar, ended, call.started or call.slot, search
            )
            if retry is None:  # the rule allowed one, no time is left for it
                self._done(index, call.phone, Done.CUT_OFF)
                return None
        if retry is not None:
            heapq.heappush(group.retries, (retry, index, attempt + 1, call.phone))
            self._waits_in(group)
            return retry
        done = Done.REACHED if outcome is Outcome.COMPLETED else Done.NOT_REACHED
        self._done(index, call.phone, done)
        return None

    def _expire(self, now: int) -> None:
        """Close the calls whose ``maxCallSeconds`` passed by ``now`` (not in doubt)."""
        if not self._calls:
            return
        late = sorted(
            (c.deadline, seq)
            for seq, c in self._calls.items()
            if not c.in_doubt and c.deadline <= now
        )
        for deadline, seq in late:
            call = self._calls[seq]
            attempt = self._end(call, Outcome.UNSPECIFIED, deadline, known=False)
            self._final[seq] = _EXPIRED
            self._tally.expired += 1
            self._expired.append(attempt)

    def expired(self) -> list[Attempt]:
        """The calls closed as ``Unspecified`` because no end was reported within
        ``maxCallSeconds``, since the last call of this method."""
        found, self._expired = self._expired, []
        return found

    # -- control ------------------------------------------------------------------

    def pause(self) -> None:
        """No Dial until :meth:`resume`; slots passed meanwhile are not made up."""
        self._paused = True

    def resume(self) -> None:
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def cancel(self, customer_index: int, reason: str = "") -> bool:
        """Never dial customer ``customer_index`` again (an opt-out).  Its waiting
        attempts are dropped; a call in progress still ends normally.  True when
        something was cancelled; False when the customer had nothing left (already
        finished, a repeat, or cancelled before)."""
        index = check_index(customer_index)
        if index >= self._cursor:
            if index in self._cancel_ahead:
                return False
            self._cancel_ahead[index] = reason
            return True
        if any(c.index == index for c in self._calls.values()):
            if index in self._cancelled_open:
                return False
            self._cancelled_open[index] = reason
            return True
        for group in self._groups.values():
            for i, (held, phone) in enumerate(group.firsts):
                if held == index:
                    del group.firsts[i]
                    self._held -= 1
                    self._done(index, phone, Done.CANCELLED)
                    return True
            for heap in (group.retries, group.callbacks):
                kept = [e for e in heap if e[1] != index]
                if len(kept) < len(heap):
                    phone = next(e[3] for e in heap if e[1] == index)
                    heap[:] = kept
                    heapq.heapify(heap)
                    self._done(index, phone, Done.CANCELLED)
                    return True
        return False

    def callback(self, customer_index: int, at: datetime) -> datetime:
        """Call customer ``customer_index`` back at ``at``, or at the first instant
        after it that is callable for the customer, ahead of ordinary attempts.

        The callback replaces the customer's next attempt (a waiting retry, or the
        retry of the call in progress).  The customer must have been dialed and
        not be finished: ask for the callback before reporting the call's end.
        Returns the instant the callback is due."""
        index = check_index(customer_index)
        u = instant(at, "at", up=True)
        if index in self._cancelled_open or index in self._cancel_ahead:
            raise DispatchError(f"customer {index} is cancelled; it cannot be called back")
        active = next((c for c in self._calls.values() if c.index == index), None)
        holder: _Group | None = active.group if active is not None else None
        waiting: tuple[int, int, int, str] | None = None
        if holder is None:
            for group in self._groups.values():
                for heap in (group.retries, group.callbacks):
                    for entry in heap:
                        if entry[1] == index:
                            holder, waiting = group, entry
        if holder is None:
            raise DispatchError(
                f"customer {index} has no call in progress and no attempt waiting "
                "(not dialed yet, or finished); a callback must be asked for before "
                "the end of its call is reported"
            )
        phone = active.phone if active is not None else waiting[3] if waiting else ""
        ledger = self._ledgers.get(phone) if self._limited else None
        if ledger is not None:
            found = self._search(holder, ledger)(u, None)
        elif holder.view is None:
            found = self._campaign._calendar.next_callable(u)
        else:
            found = holder.view.next_second(u)
        if found is None:
            raise DispatchError(
                f"no time callable for customer {index} remains at or after {at.isoformat()}"
            )
        if active is not None:
            self._callback_after[index] = (found, active.attempt + 1)
            return from_seconds(found)
        assert waiting is not None
        for heap in (holder.retries, holder.callbacks):
            if waiting in heap:
                heap.remove(waiting)
                heapq.heapify(heap)
        heapq.heappush(holder.callbacks, (found, index, waiting[2], waiting[3]))
        self._urgent = True
        self._waits_in(holder)
        return from_seconds(found)

    def in_doubt(self) -> list[Dial]:
        """The Dials handed out before the snapshot this engine was restored from
        and never confirmed since: they may have rung.  They hold their lines and
        are never dialed again until ``started``, ``ended`` or ``not_started``."""
        return [self._dial_of(c) for c in sorted(self._calls.values(), key=_seq) if c.in_doubt]

    def in_progress(self) -> list[Dial]:
        """Every Dial handed out and not ended (in doubt included)."""
        return [self._dial_of(c) for c in sorted(self._calls.values(), key=_seq)]

    @staticmethod
    def _dial_of(call: _Call) -> Dial:
        return call.dial()

    # -- totals -------------------------------------------------------------------

    @property
    def summary(self) -> Summary:
        """The totals so far (docs/dispatch.md); once :attr:`finished`, the
        customers never read count as unscheduled."""
        if not self._calls:
            _ = self.finished  # once the run is over, accounts for what is left
        else:  # what no slot is left for (a call not ended may free its line at once)
            self._settle_passed(self._floor())
        return self._tally.summary(len(self._calls))

    # -- snapshots ------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole state as a JSON-ready dict (docs/dispatch.md, "Snapshots")."""
        return {
            "format": snapshots.FORMAT,
            "version": snapshots.VERSION,
            "campaign": snapshots.digest(to_payload(self._campaign)),
            "tz_database": tz_database()[0],
            "now": self._now,
            "now_us": self._now_us,
            "last_at": self._last_at,
            "paused": self._paused,
            "seq": self._seq,
            "cursor": self._cursor,
            "last_phone": self._last_phone,
            "seen": {
                "count": len(self._seen),
                "table": snapshots.pack_bytes(self._seen.to_bytes()),
            },
            "final": snapshots.pack_bytes(bytes(self._final)),
            "groups": [
                {
                    "zones": list(group.key.zones),
                    "scopes": list(group.key.scopes),
                    "firsts": snapshots.pack_firsts(group.firsts),
                    "retries": snapshots.pack_entries(group.retries),
                    "callbacks": snapshots.pack_entries(group.callbacks),
                }
                for group in self._groups.values()
            ],
            "calls": [_call_row(c) for c in sorted(self._calls.values(), key=_seq)],
            "ends": sorted(self._ends),
            "callback_after": [[i, d, n] for i, (d, n) in sorted(self._callback_after.items())],
            "reached_open": sorted(self._reached_open),
            "cancelled_open": [[i, r] for i, r in sorted(self._cancelled_open.items())],
            "cancel_ahead": [[i, r] for i, r in sorted(self._cancel_ahead.items())],
            "expired": [_expired_row(a) for a in self._expired],
            "counters": [getattr(self._tally, name) for name in Tally.SNAPSHOT_ORDER],
            "by_outcome": self._tally.by_code,
            "per_day": [[d, n] for d, n in sorted(self._tally.per_day.items()) if n],
            "limits": self._limits_state() if self._limited else None,
        }

    def _limits_state(self) -> str:
        """The counted calls, the history not read yet, the customerId groups, the
        clocks and rules of the customers read: packed JSON (docs/limits.md)."""

        def code(outcome: Outcome | None) -> int:
            return 0 if outcome is None else _CODE[outcome.value]

        def limit_row(limit: ContactLimit) -> list[Any]:
            return [
                limit.max_calls,
                limit.days,
                limit.per,
                limit.count,
                limit.window,
                limit.name,
                limit.since,
            ]

        state = {
            "history": [
                [r.phone, r.at, code(r.outcome)] for rs in self._history.values() for r in rs
            ],
            "ledgers": [[phone, *ledger.state()] for phone, ledger in self._ledgers.items()],
            "members": self._members,
            "member_calls": {
                m: [[p, at, code(o)] for p, at, o in log] for m, log in self._member_calls.items()
            },
            "member_history": {
                m: [[p, at, code(o)] for p, at, o in log] for m, log in self._member_history.items()
            },
            "clocks": {
                p: [z.key for z in ledger.zones]
                for p, ledger in self._ledgers.items()
                if ledger.zones is not self._zone_tuple
            },
            "member_until": self._member_until,
            "hinted": self._hinted,
            "member_zones": {m: sorted(zs) for m, zs in self._member_zones.items()},
            "rules": {
                p: [
                    [limit_row(c) for c in ledger.rules.limits],
                    [[q.days, q.name, q.since] for q in ledger.rules.quiet],
                ]
                for p, ledger in self._ledgers.items()
                if ledger.rules is not self._base
            },
        }
        return snapshots.pack_bytes(json.dumps(state, separators=(",", ":")).encode())

    def _load_limits(self, packed: str) -> None:
        state = json.loads(snapshots.unpack_bytes(packed))

        def outcome(code: int) -> Outcome | None:
            return None if code == 0 else _OUTCOMES[int(code) - 1]

        self._history = {}
        for phone, at, code in state["history"]:
            record = CallRecord(str(phone), int(at), outcome(code) or Outcome.UNSPECIFIED)
            self._history.setdefault(record.phone, []).append(record)
        self._members = {str(m): [str(p) for p in ps] for m, ps in state["members"].items()}
        self._member_of = {p: m for m, ps in self._members.items() for p in ps}
        self._member_calls = {
            str(m): [(str(p), int(at), outcome(c)) for p, at, c in log]
            for m, log in state["member_calls"].items()
        }
        self._member_history = {
            str(m): [(str(p), int(at), outcome(c)) for p, at, c in log]
            for m, log in state["member_history"].items()
        }
        clocks = {str(p): tuple(str(z) for z in zs) for p, zs in state["clocks"].items()}
        self._member_until = {str(m): int(u) for m, u in state["member_until"].items()}
        self._hinted = {str(m): [str(p) for p in ps] for m, ps in state["hinted"].items()}
        self._member_hint = {p: m for m, ps in self._hinted.items() for p in ps}
        self._member_zones = {
            str(m): {str(z) for z in zs} for m, zs in state["member_zones"].items()
        }
        made: dict[str, Rules] = {}  # one Rules for the customers that share them

        def rules(row: list[Any]) -> Rules:
            key = json.dumps(row)
            if key not in made:
                limits, quiet = row
                made[key] = Rules(
                    tuple(
                        ContactLimit(int(a), int(b), str(c), str(d), str(e), str(f), int(g))
                        for a, b, c, d, e, f, g in limits
                    ),
                    tuple(QuietRule(int(days), str(name), int(u)) for days, name, u in quiet),
                    self._base.connected,
                )
            return made[key]

        own = {str(p): rules(row) for p, row in state["rules"].items()}
        self._ledgers = {}
        for phone, *rows in state["ledgers"]:
            phone = str(phone)
            ledger = Ledger(phone, own.get(phone, self._base), self._zones(clocks.get(phone)))
            ledger.load(rows)
            self._ledgers[phone] = ledger

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
        snapshots.check_header(state, snapshots.digest(to_payload(campaign)), tz_database()[0])
        engine = cls(campaign, customers)
        try:
            engine._load(state, exact)
        except DispatchError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError, zlib.error) as e:
            raise DispatchError(f"not a readable dispatcher snapshot: {e!r}") from None
        return engine

    def _load(self, state: dict[str, Any], exact: bool = False) -> None:
        cursor = int(state["cursor"])
        if cursor:
            self._skip_read(cursor, state["last_phone"])
        self._cursor, self._last_phone = cursor, state["last_phone"]
        seen = state["seen"]
        self._seen = SeenNumbers.from_bytes(snapshots.unpack_bytes(seen["table"]), seen["count"])
        self._final = bytearray(snapshots.unpack_bytes(state["final"]))
        self._now, self._last_at = state["now"], state["last_at"]
        self._now_us = int(state["now_us"])
        self._paused = bool(state["paused"])
        self._seq = int(state["seq"])
        if len(self._final) != self._seq + 1:
            raise DispatchError("the snapshot's call states do not match its call count")
        for g in state["groups"]:
            key = ViewKey(tuple(g["zones"]), tuple(g.get("scopes", ())))
            group = self._groups[key] if key in self._groups else self._make_group(key)
            group.firsts = deque(snapshots.unpack_firsts(g["firsts"]))
            group.retries = snapshots.unpack_entries(g["retries"])  # heaps, in heap order
            group.callbacks = snapshots.unpack_entries(g["callbacks"])
            heapq.heapify(group.retries)  # O(n), and a foreign order cannot corrupt the rule
            heapq.heapify(group.callbacks)
            self._held += len(group.firsts)
        self._urgent = True
        for seq, due, index, attempt, phone, slot, kind, zones, started, deadline, doubt in state[
            "calls"
        ]:
            entry = (int(due), int(index), int(attempt), str(phone))
            group = self._groups[_key(zones)]
            call = _Call(int(seq), entry, int(slot), int(kind), group, int(deadline))
            call.started = None if started is None else int(started)
            # Handed out and never confirmed before the snapshot: it may have rung.
            call.in_doubt = bool(doubt) or (call.started is None and not exact)
            self._calls[call.seq] = call
        self._ends = [int(e) for e in state["ends"]]
        heapq.heapify(self._ends)
        self._callback_after = {int(i): (int(d), int(n)) for i, d, n in state["callback_after"]}
        self._reached_open = {int(i) for i in state["reached_open"]}
        self._cancelled_open = {int(i): str(r) for i, r in state["cancelled_open"]}
        self._cancel_ahead = {int(i): str(r) for i, r in state["cancel_ahead"]}
        self._expired = [
            Attempt(
                int(index),
                str(phone),
                int(attempt),
                from_seconds(at),
                from_seconds(ended),
                Outcome.UNSPECIFIED,
                None if retry is None else from_seconds(retry),
            )
            for index, phone, attempt, at, ended, retry in state["expired"]
        ]
        counters = [int(n) if n is not None else None for n in state["counters"]]
        if len(counters) != len(Tally.SNAPSHOT_ORDER):
            raise DispatchError("the snapshot's totals do not match this callslots")
        tally = self._tally
        for name, value in zip(Tally.SNAPSHOT_ORDER, counters, strict=True):
            setattr(tally, name, value)
        tally.by_code = [int(n) for n in state["by_outcome"]]
        if len(tally.by_code) != len(_OUTCOMES) + 1:
            raise DispatchError("the snapshot counts outcomes this callslots does not know")
        tally.per_day = Counter({int(d): int(n) for d, n in state["per_day"]})
        limits = state.get("limits")
        if (limits is not None) != self._limited:
            raise DispatchError("the snapshot's contact limits do not match the campaign's")
        if limits is not None:
            self._load_limits(limits)

    def _skip_read(self, cursor: int, last_phone: object) -> None:
        """Skip the ``cursor`` entries read before the snapshot (at C speed, not
        validated again), checking that the last of them has the same number."""
        source = self._source
        next(islice(source, cursor - 1, cursor - 1), None)
        last = next(source, None)
        if last is None:
            raise DispatchError(
                f"the snapshot had read {cursor} customers; the list given has fewer"
            )
        phone = customer_from(last[1], f"customers.{cursor - 1}").phone
        if phone != last_phone:
            raise DispatchError(
                f"customer {cursor - 1} is {phone} in the list given, but was {last_phone} "
                "when the snapshot was taken: not the same list"
            )


def _seconds(t: datetime) -> int:
    return instant(t, "t")


def _call_row(c: _Call) -> list[Any]:
    """A call in a snapshot (read back by ``Dispatcher._load``)."""
    zones = [list(c.group.key.zones), list(c.group.key.scopes)]
    return [c.seq, c.due, c.index, c.attempt, c.phone, c.slot, c.kind, zones, c.started,
            c.deadline, c.in_doubt]  # fmt: skip


def _expired_row(a: Attempt) -> list[Any]:
    """An expired call not yet collected by ``Dispatcher.expired``, in a snapshot."""
    retry = None if a.retry_at is None else _seconds(a.retry_at)
    return [a.customer_index, a.phone, a.attempt, _seconds(a.at), _seconds(a.ended_at), retry]


def _seq(call: _Call) -> int:
    return call.seq


#: What a customer needs (Dispatcher._setup): its view (with recipient hours or calling
#: rules), its rules, its clocks when they are not the campaign's, and its group.
Setup = tuple[RecipientView | None, Rules, tuple[str, ...] | None, "_Group | None"]

#: The one group's key when customers have no sets of their own.
_PLAIN = ViewKey(())


def _key(row: list[Any]) -> ViewKey:
    """A group's key as a snapshot's call row holds it: ``[zones, scopes]``."""
    zones, scopes = row
    return ViewKey(tuple(zones), tuple(scopes))


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
