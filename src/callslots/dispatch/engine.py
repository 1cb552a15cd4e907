"""The :class:`Dispatcher`: the live engine of a run, and its events.

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

This file holds the events (``poll``, ``started``, ``not_started``, ``ended``,
expiries, ``cancel``, ``callback``), the queries and the snapshots.  Each customer
read and not done has a :class:`~.states.Record` whose state moves only by the
table of :mod:`.states`; the waiting customers, the choice of the next Dial and the
next wake-up are the base class's (:mod:`.queues`).  All instants inside are
integer UTC seconds; datetimes are made at the edges.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from ..errors import DispatchError
from ..outcomes import Outcome
from ..retry import due as retry_due
from ..schedule import Schedule
from ..tz import MAX_UTC
from ..windows import from_seconds
from . import codec
from .queues import Queues
from .states import LATE, Call, Closed, Event, Kind, Late, State, advance, in_firsts
from .tally import EXPIRED, NOT_STARTED, OUTCOMES, Done
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


class Dispatcher(Queues):
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
        super().__init__(campaign, customers, history, start)

    # -- the list ---------------------------------------------------------------------

    def add(self, customers: Iterable[object]) -> None:
        """Append ``customers`` to the run's list (read lazily after the rest)."""
        zoned = self._shared or self._base.zoned
        self._reader.add(self._contacts.find_members(customers, zoned, self._campaign.timezone))
        if self._limited:
            self._contacts.added()

    # -- polling ----------------------------------------------------------------------

    def poll(self, now: datetime) -> list[Dial]:
        """The calls to place at ``now``: at most one, on the slot whose interval
        holds ``now``.  ``now`` must not be earlier than an earlier poll's."""
        if now is self._woke_at and self._woke is not None:  # named by next_wakeup
            u, exact = self._woke, 0
        else:
            u = instant(now, "now")
            if u > MAX_UTC:
                raise DispatchError(f"now {now.isoformat()} is after 9999-12-31T23:59:59Z")
            exact = (now - EPOCH).microseconds
        last = self._now
        if last is not None and (u < last or (u == last and exact < self._now_us)):
            previous = from_seconds(last) + timedelta(microseconds=self._now_us)
            raise DispatchError(
                f"poll at {now.isoformat()} is earlier than the previous poll at "
                f"{previous.isoformat()}; time only moves forward"
            )
        self._now_us = exact
        call = self._poll(u)
        return [] if call is None else [self._dial(call)]

    def _poll(self, now: int) -> Call | None:
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
        at = self._woke_at if s == self._woke and self._woke_at is not None else utc(s)
        call = record.call = Call(record, self._seq, s, at, min(s + self._max_call, MAX_UTC))
        self._calls[self._seq] = call
        self._final.append(0)
        self._last_at = s
        return call

    @staticmethod
    def _dial(call: Call) -> Dial:
        record = call.record
        return make_dial(str(call.seq), record.index, record.phone, record.attempt, call.at)

    # -- queries ----------------------------------------------------------------------

    # -- when to poll next --------------------------------------------------------------

    def next_wakeup(self) -> datetime | None:
        """The earliest instant at which a poll could place a call or close an
        expired one, if nothing else happens; None when only an event can change
        anything: every line is held by calls in doubt, the run is paused with
        nothing to expire, or nothing is left.  While calls not in doubt hold every
        line, that is the earliest of their expiry deadlines."""
        u = self._settled()[0]
        if u is None:
            return None
        if u == self._now and self._now_us:  # poll now: the last poll's instant, exactly
            return utc(u) + timedelta(microseconds=self._now_us)
        if u != self._woke:
            # Kept: a driver polls at the instant named, and its Dial is on that
            # slot, so one datetime serves all three (3 us of 15 an attempt in
            # simulate(): benchmarks/README.md, "The engine, old and new").
            self._woke, self._woke_at = u, utc(u)
        return self._woke_at

    # -- totals -------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """No call on the line and nothing left that can still be dialed (the run
        is over: the customers never read are then counted as unscheduled)."""
        return self._settled()[1]

    @property
    def summary(self) -> Summary:
        """The totals so far (docs/dispatch.md, "Totals"); once :attr:`finished`,
        the customers never read count as unscheduled."""
        self._settled()
        return self._tally.summary(len(self._calls))

    # -- events -------------------------------------------------------------------------

    def _call(self, call_id: str) -> tuple[int, Call | None]:
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
        seq, call = self._call(call_id)
        if call is None:
            assert LATE[self._closed(seq), Event.STARTED] is Late.IGNORED
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
        advance(call.record, Event.STARTED, f"call {call_id}")
        call.started = u
        call.deadline = min(u + self._max_call, MAX_UTC)

    def not_started(self, call_id: str, reason: str = "") -> None:
        """The dial never happened: the line is free and the attempt is not used
        up (it waits again with its own due time)."""
        seq, call = self._call(call_id)
        if call is None:
            closed = self._closed(seq)
            if LATE[closed, Event.NOT_STARTED] is Late.IGNORED:
                return  # a duplicate
            raise DispatchError(
                f"call {call_id} has {closed.value}; it cannot be reported not started"
            )
        record = call.record
        advance(record, Event.NOT_STARTED, f"call {call_id}")
        del self._calls[seq]
        self._final[seq] = NOT_STARTED
        if self._limited:
            self._contacts.settled(record.phone, call.slot, None)
        record.call = None
        if call.cancel is not None:
            self._done(record, Done.CANCELLED, Event.CANCEL)
            return
        if call.callback is not None:  # asked for during the call: it replaces it
            record.kind, record.due = Kind.CALLBACK, call.callback
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
        seq, call = self._call(call_id)
        if call is None:
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
        if u < call.slot or (call.started is not None and u < call.started):
            raise DispatchError(
                f"call {call_id} ended at {at.isoformat()}, before it started at "
                f"{from_seconds(max(call.slot, call.started or call.slot)).isoformat()}"
            )
        shown = at if at.tzinfo is timezone.utc and not at.microsecond else None
        return self._end(call, parsed, u, shown=shown)

    def _end(
        self,
        call: Call,
        outcome: Outcome,
        ended: int,
        known: bool = True,
        shown: datetime | None = None,
    ) -> Attempt:
        """Apply the end of ``call`` (checked by the caller); ``known``: False for
        a call closed by maxCallSeconds (its outcome stays unknown to the limits);
        ``shown``: ``ended`` as a UTC datetime, when the caller has it."""
        record, seq, s = call.record, call.seq, call.slot
        attempt = record.attempt
        if self._limited:
            self._contacts.ended(record.phone, ended)
            if known:
                self._contacts.settled(record.phone, s, outcome)
        if ended > MAX_UTC:  # an end past the time line is kept at its last second
            ended, shown = MAX_UTC, None
        code = _CODE[outcome._value_]
        del self._calls[seq]
        self._lines.ended(ended, s)
        self._final[seq] = code
        record.call = None
        retry = self._next_attempt(call, outcome, code, ended)
        self._tally.count_call(code, s, ended)
        ended_at = utc(ended) if shown is None else shown
        return make_attempt(record.index, record.phone, attempt, call.at, ended_at, outcome, retry)

    def _next_attempt(self, call: Call, outcome: Outcome, code: int, ended: int) -> int | None:
        """After ``call``: its customer's next attempt (a callback asked for during
        the call, else the retry the rule allows) is pending and its due second
        returned; or the customer is done (None)."""
        record, reached, callback = call.record, outcome is Outcome.COMPLETED, call.callback
        if call.cancel is not None:
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
            started = call.started if call.started is not None else call.slot
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
        self._push(record)
        return due

    def _expire(self, now: int) -> None:
        """Close the calls whose ``maxCallSeconds`` passed by ``now`` (not in doubt)."""
        late = sorted(
            (c.deadline, seq)
            for seq, c in self._calls.items()
            if c.record.state is not State.IN_DOUBT and c.deadline <= now
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
        record = self._record(index)
        if record is None:
            return False
        if record.call is not None:  # on the line
            if record.call.cancel is not None:
                return False
            advance(record, Event.CANCEL)
            record.call.cancel = reason
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
        record = self._record(index)
        if (record is not None and record.call is not None and record.call.cancel is not None) or (
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
        if record.call is not None:  # on the line: due once it ends
            record.call.callback = found
            return from_seconds(found)
        record.group.left(record)
        record.kind, record.due = Kind.CALLBACK, found
        self._push(record)
        return from_seconds(found)

    def in_doubt(self) -> list[Dial]:
        """The Dials handed out before the snapshot this engine was restored from
        and never confirmed since: they may have rung.  They hold their lines and
        are never dialed again until ``started``, ``ended`` or ``not_started``."""
        return [
            self._dial(c)
            for _, c in sorted(self._calls.items())
            if c.record.state is State.IN_DOUBT
        ]

    def in_progress(self) -> list[Dial]:
        """Every Dial handed out and not ended (in doubt included)."""
        return [self._dial(c) for _, c in sorted(self._calls.items())]

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
