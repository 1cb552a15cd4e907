"""The dispatcher (docs/dispatch.md), driven by random interleavings of events.

Written from the documentation only: ``DispatchMachine`` keeps its own model of every
Dial handed out and of every customer (attempts made, waiting retry, callback asked,
cancelled), and after every step checks the engine against the rules of
docs/dispatch.md (slots, one slot per call, the interval, lines, who goes first,
retries, expiry, the crash rule, the totals).  A second property checks that a
service loop over the public API gives exactly what ``simulate()`` gives, and named
tests pin the scenarios the docs describe in words.

The machine's failures that were disagreements between the engine and the docs are
kept, reduced by hand, as named tests at the end of the file; all of them are fixed.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

import oracle
from callslots import (
    Attempt,
    Campaign,
    Dial,
    Dispatcher,
    DispatchError,
    Outcome,
    RandomOutcomes,
    ReplayOutcomes,
    simulate,
)
from engine_invariants import check_totals
from strategies import ZONES, Case, cases

UTC = timezone.utc
OUTCOMES = list(Outcome)
OUTCOME_NAMES = [o.value for o in Outcome]
FEW_ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Asia/Tokyo",
    "Asia/Kolkata",
]
LOW = datetime.min.replace(tzinfo=UTC)  # the due time of a first attempt: the start


def phone(n: int) -> str:
    return f"+1415555{n:04d}"


def number_of(entry: Any) -> str:
    return entry if isinstance(entry, str) else str(entry["phoneNumber"])


def ceil_second(t: datetime) -> datetime:
    t = t.astimezone(UTC)
    if t.microsecond:
        t = t.replace(microsecond=0) + timedelta(seconds=1)
    return t


def frozen(d: Dispatcher) -> str:
    """The engine's state as text.  The queries go first: ``next_wakeup()`` and
    ``summary`` read customers ahead (the cursor moves), which is not an event."""
    d.next_wakeup()
    d.summary  # noqa: B018
    return json.dumps(d.snapshot(), sort_keys=True)


def lenient(outcome: Outcome) -> str:
    return outcome.value.lower().replace(" ", "_")


# ----------------------------------------------------------------------------- setups


@dataclass
class Setup:
    case: Case
    campaign: Campaign
    customers: list[Any]  # phone strings, or {phoneNumber, properties} mappings
    recipient: bool
    pass_list: bool  # Dispatcher(campaign, customers) rather than the payload's


def _zones() -> st.SearchStrategy[str]:
    return st.sampled_from(FEW_ZONES) | st.sampled_from(ZONES)


@st.composite
def entries(draw: st.DrawFn, recipient: bool, max_size: int, min_size: int = 0) -> list[Any]:
    numbers = draw(st.lists(st.integers(0, 15), min_size=min_size, max_size=max_size))
    if not recipient:
        return [phone(n) for n in numbers]
    return [{"phoneNumber": phone(n), "properties": {"timezone": draw(_zones())}} for n in numbers]


@st.composite
def setups(
    draw: st.DrawFn, recipient: bool | None = None, max_customers: int = 12, min_customers: int = 0
) -> Setup:
    """A campaign like tests/test_simulate.py's, sometimes with recipient hours."""
    case = draw(cases)
    if recipient is None:
        recipient = draw(st.sampled_from([False, False, False, True]))
    customers = draw(entries(recipient, max_customers, min_customers))
    payload: dict[str, Any] = dict(
        case.payload,
        callIntervalSeconds=draw(st.sampled_from([1, 30, 300, 3600]) | st.integers(1, 7200)),
        maxConcurrency=draw(st.integers(1, 4)),
        callRetries=draw(st.integers(0, 3)),
        retryDelaySeconds=draw(st.sampled_from([0, 60, 600, 3600, 86400])),
        retryDelayMode=draw(st.sampled_from(["fixed", "next_day"])),
        retryConditions=draw(
            st.lists(st.sampled_from(OUTCOME_NAMES[:14]), max_size=6, unique=True)
        ),
    )
    payload.pop("customers", None)
    payload.pop("phoneList", None)
    if draw(st.booleans()):
        payload["maxCallSeconds"] = draw(
            st.sampled_from([60, 300, 3600, 7200]) | st.integers(60, 7200)
        )
    if recipient:
        start = draw(st.integers(0, 23))
        end = (start + draw(st.integers(1, 23))) % 24
        payload["recipientHours"] = {
            "startTime": f"{start:02d}:00",
            "endTime": f"{end:02d}:00" if end != start else "24:00",
        }
        payload["customers"] = customers
    else:
        payload["phoneList"] = customers
    campaign = Campaign.from_dict(payload, now=case.now)
    return Setup(case, campaign, customers, recipient, draw(st.booleans()))


# ------------------------------------------------------------------------------ model


@dataclass
class Call:
    dial: Dial
    polled: datetime  # the poll's now
    due: datetime  # when the attempt was due (LOW: a first attempt)
    callback: datetime | None  # the callback this Dial carries, if it is one
    state: str = "dialing"  # dialing, doubt, progress, done, expired, not_started
    started: datetime | None = None
    ended_at: datetime | None = None
    outcome: Outcome | None = None

    @property
    def open(self) -> bool:
        return self.state in ("dialing", "doubt", "progress")

    @property
    def finished(self) -> bool:
        return self.state in ("done", "expired")


@dataclass
class Person:
    index: int
    entry: Any
    tries: list[Attempt] = field(default_factory=list)  # finished attempts, in order
    open_call: str | None = None
    callback: datetime | None = None  # asked for and not handed out yet
    callbacks_asked: int = 0
    cancelled: bool = False


class Twins:
    """Two engines driven together: every call goes to both, and both must answer
    alike (the same value, or both a DispatchError)."""

    def __init__(self, one: Dispatcher, two: Dispatcher) -> None:
        self.one, self.two = one, two

    def __getattr__(self, name: str) -> Any:
        x, y = getattr(self.one, name), getattr(self.two, name)
        if not callable(x):
            assert x == y, (name, x, y)
            return x

        def both(*args: Any) -> Any:
            answers = []
            for f in (x, y):
                try:
                    answers.append(("ok", f(*args)))
                except DispatchError as e:
                    answers.append(("error", e))
            (kx, vx), (ky, vy) = answers
            assert kx == ky, (name, args, answers)
            if kx == "error":
                assert str(vx) == str(vy)
                raise vx
            assert vx == vy, (name, args, vx, vy)
            return vx

        return both


class DispatchMachine(RuleBasedStateMachine):
    # ------------------------------------------------------------------ set-up

    @initialize(setup=setups(min_customers=1), first=st.integers(0, 3600), poll=st.booleans())
    def start(self, setup: Setup, first: int, poll: bool) -> None:
        self.setup = setup
        self.campaign = setup.campaign
        self.interval = timedelta(seconds=self.campaign.call_interval_seconds)
        self.max_call = timedelta(seconds=self.campaign.max_call_seconds)
        self.customers: list[Any] = list(setup.customers)
        self.first: dict[str, int] = {}
        self.people: dict[int, Person] = {}
        self._learn(0)
        self.d = (
            Dispatcher(self.campaign, list(self.customers))
            if setup.pass_list
            else Dispatcher(self.campaign)
        )
        self.calls: dict[str, Call] = {}
        self.order: list[str] = []  # call ids in the order handed out
        self.unchecked: list[str] = []
        self.last_poll: datetime | None = None
        self.paused = False
        self.cancels = 0
        self.expired_count = 0
        self.cancelled_ahead: set[int] = set()  # repeats cancelled before they were read
        self.seen: Counter[str] = Counter()  # what the run went through, for statistics
        slot0 = self.campaign.slot_at(0)
        origin = slot0 if slot0 is not None else oracle.to_datetime(setup.case.lo)
        self.t0 = origin - timedelta(seconds=first)
        note(f"payload {self.campaign.to_dict()}")
        if poll:
            self.wakeup_poll()

    def _learn(self, start: int) -> None:
        for i in range(start, len(self.customers)):
            number = number_of(self.customers[i])
            if number not in self.first:
                self.first[number] = i
                self.people[i] = Person(i, self.customers[i])

    def view(self, index: int) -> Any:
        return self.campaign.for_customer(self.customers[index])

    @property
    def clock(self) -> datetime:
        return self.last_poll if self.last_poll is not None else self.t0

    # -------------------------------------------------------------- model views

    def pending(self, p: Person) -> tuple[int, datetime] | None:
        """(0 callback / 1 ordinary, due) of the customer's pending attempt, if any."""
        if p.cancelled or p.open_call is not None:
            return None
        if p.callback is not None:
            return 0, p.callback
        if not p.tries:
            return 1, LOW
        if p.tries[-1].retry_at is not None:
            return 1, p.tries[-1].retry_at
        return None

    def held_at(self, s: datetime) -> int:
        """Lines held at instant s by the calls handed out so far (rule 3)."""
        held = 0
        for c in self.calls.values():
            if c.open or (c.finished and c.ended_at is not None and c.ended_at > s):
                held += 1
        return held

    def open_calls(self, *states: str) -> list[Call]:
        return [self.calls[i] for i in self.order if self.calls[i].state in states]

    def expected_retry(self, call: Call, outcome: Outcome, ended_at: datetime) -> datetime | None:
        p = self.people[call.dial.customer_index]
        if p.cancelled:
            return None  # "a call in progress ends normally but gets no retry"
        if p.callback is not None:
            # The callback replaces the retry of the call in progress, and is never
            # dialed before that call's reported end (rounded up to a whole second):
            # then it is due at the first callable instant from the end.
            end = ended_at.replace(microsecond=0) + timedelta(
                seconds=1 if ended_at.microsecond else 0
            )
            if end <= p.callback:
                return p.callback
            return self.view(p.index).next_callable(end)
        started = call.started if call.started is not None else call.dial.at
        decision = self.view(p.index).retry(
            outcome, call.dial.attempt, ended_at, started_at=started
        )
        return decision.at

    def finish(self, call: Call, a: Attempt, outcome: Outcome, ended_at: datetime) -> None:
        dial = call.dial
        assert (a.customer_index, a.phone, a.attempt, a.at) == (
            dial.customer_index,
            dial.phone,
            dial.attempt,
            dial.at,
        )
        assert a.ended_at == ended_at
        assert a.outcome is outcome
        assert a.retry_at == self.expected_retry(call, outcome, ended_at), (call, a)
        call.ended_at = ended_at
        call.outcome = outcome
        p = self.people[dial.customer_index]
        p.tries.append(a)
        p.open_call = None
        if p.callback is not None and not p.cancelled:
            p.callback = a.retry_at  # due from the end when the end came after it

    # ------------------------------------------------------------- error helper

    def refused(self, fn: Callable[..., Any], *args: Any) -> None:
        """A caller's mistake: DispatchError, and the state exactly as it was."""
        wake = self.d.next_wakeup()  # first: it may read customers ahead (the cursor moves)
        before = frozen(self.d)
        with pytest.raises(DispatchError):
            fn(*args)
        after = frozen(self.d)
        if after != before:
            a, b = json.loads(before), json.loads(after)
            raise AssertionError({k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)})
        assert self.d.next_wakeup() == wake

    def ignored(self, fn: Callable[..., Any], *args: Any) -> None:
        """A duplicate: None, and nothing changes."""
        before = frozen(self.d)
        assert fn(*args) is None
        assert frozen(self.d) == before

    # -------------------------------------------------------------------- polls

    def do_poll(self, now: datetime) -> tuple[list[Dial], list[Attempt]]:
        d = self.d
        wake = d.next_wakeup()
        # Docs: "at or after the last poll" (test_next_wakeup_keeps_the_fraction_of_the_last_poll).
        assert self.last_poll is None or wake is None or wake >= self.last_poll, (wake,)
        dials = d.poll(now)
        expired = d.expired()
        note(f"poll({now.astimezone(UTC)}) -> {dials} expired {len(expired)} (wake-up was {wake})")
        assert len(dials) <= 1  # a poll never returns more than one Dial
        # Rule 6: every call not in doubt whose deadline has come is closed, at it.
        due_to_expire = {
            c.dial.call_id
            for c in self.open_calls("dialing", "progress")
            if (c.started or c.dial.at) + self.max_call <= now
        }
        closed = set()
        for a in expired:
            match = [
                c
                for c in self.open_calls("dialing", "progress")
                if (c.dial.customer_index, c.dial.attempt, c.dial.at)
                == (a.customer_index, a.attempt, a.at)
            ]
            assert len(match) == 1, (a, match)
            call = match[0]
            deadline = (call.started or call.dial.at) + self.max_call
            assert deadline <= now
            self.finish(call, a, Outcome.UNSPECIFIED, deadline)
            call.state = "expired"
            closed.add(call.dial.call_id)
            self.seen["expired"] += 1
            self.expired_count += 1
        assert closed == due_to_expire, (closed, due_to_expire)
        # next_wakeup: polling before it is harmless; polling at it does something
        if wake is None or now < wake:
            assert not dials and not expired, (wake, now, dials, expired)
        elif now == wake:
            # Docs: at the wake-up a poll can dial or close a call
            # (test_no_wake_up_at_a_slot_nobody_can_take_any_more).
            assert dials or expired, (wake, dials)
        self.last_poll = now
        for dial in dials:
            self.check_new_dial(dial, now)
        if not dials:
            self.check_nothing_was_due(now)
        return dials, expired

    def check_new_dial(self, dial: Dial, now: datetime) -> None:
        c = self.campaign
        assert dial.call_id == str(len(self.order) + 1)  # "1", "2", ... in order
        assert not self.paused
        assert dial.at <= now < dial.at + self.interval  # rule 2: the current slot
        if self.order:  # rule 1: one call a slot, the interval apart
            last = self.calls[self.order[-1]].dial.at
            assert dial.at > last and dial.at - last >= self.interval, (last, dial.at)
        assert self.held_at(dial.at) < c.max_concurrency  # rule 3
        i = dial.customer_index
        assert 0 <= i < len(self.customers)
        assert dial.phone == number_of(self.customers[i])
        assert self.first[dial.phone] == i  # a repeat is never dialed
        p = self.people[i]
        assert not p.cancelled
        assert p.open_call is None  # nobody rung twice at once
        assert dial.attempt == len(p.tries) + 1
        assert dial.attempt <= 1 + c.call_retries + p.callbacks_asked
        pend = self.pending(p)
        assert pend is not None, (dial, p)
        kind, due = pend
        assert due <= dial.at, (dial, due)  # a retry or callback goes at or after its due time
        if p.tries and kind == 1:
            assert p.tries[-1].retry_at is not None and dial.at >= p.tries[-1].retry_at
        if not self.setup.recipient:  # rule 4: who goes first
            rivals = [
                (k, t, q.index)
                for q in self.people.values()
                for k, t in [self.pending(q) or (9, LOW)]
                if k != 9 and t <= dial.at
            ]
            assert min(rivals) == (kind, due, i), (dial, sorted(rivals)[:4])
        call = Call(dial, now, due, p.callback if kind == 0 else None)
        if kind == 0:
            p.callback = None
        p.open_call = dial.call_id
        self.calls[dial.call_id] = call
        self.order.append(dial.call_id)
        self.unchecked.append(dial.call_id)

    def check_nothing_was_due(self, now: datetime) -> None:
        """Without recipient hours the model can say when a poll must dial."""
        c = self.campaign
        if self.setup.recipient or self.paused or not c.is_callable(now):
            return
        k = c.slot_index(now)
        s = c.slot_at(k)
        if s != now:
            s = c.slot_at(k - 1) if k > 0 else None
        if s is None or not (s <= now < s + self.interval):
            return
        if self.order:
            last = self.calls[self.order[-1]].dial.at
            if s - last < self.interval:
                return
        if self.held_at(s) >= c.max_concurrency:
            return
        waiting = [
            (pend, q.index)
            for q in self.people.values()
            if (pend := self.pending(q)) is not None and pend[1] <= s
        ]
        assert not waiting, f"slot {s} free, line free, {waiting[:3]} due, but no Dial at {now}"

    # -------------------------------------------------------------------- rules
    #
    # Few preconditions: a rule with nothing to act on polls at the wake-up instead,
    # so that every step moves the run (Hypothesis gives up on a step when the rule it
    # draws is disabled three times running).

    def wakeup_poll(self) -> None:
        w = self.d.next_wakeup()
        if w is None:
            self.do_poll(self.clock + self.interval)
        else:
            self.do_poll(max(w, self.clock))

    @rule(
        data=st.data(),
        kind=st.sampled_from(["step", "wakeup", "wakeup", "jump"]),
    )
    def poll(self, data: st.DataObject, kind: str) -> None:
        base = self.clock
        if kind == "wakeup":
            w = self.d.next_wakeup()
            if w is None:
                kind = "step"
            else:
                now = max(w, base) + timedelta(
                    seconds=data.draw(st.sampled_from([0, 0, 0, 1]) | st.integers(0, 120))
                )
        if kind == "step":
            seconds = data.draw(
                st.sampled_from([0, 1, 59, 60, self.campaign.call_interval_seconds])
                | st.integers(0, 2 * self.campaign.call_interval_seconds)
            )
            now = base + timedelta(seconds=seconds)
        elif kind == "jump":
            now = base + timedelta(
                days=data.draw(st.integers(1, 3)), seconds=data.draw(st.integers(0, 86399))
            )
        if data.draw(st.integers(0, 4)) == 0:
            now += timedelta(microseconds=data.draw(st.integers(0, 999_999)))
        if data.draw(st.integers(0, 3)) == 0:
            now = now.astimezone(timezone(timedelta(minutes=data.draw(st.integers(-600, 600)))))
        self.do_poll(now)

    @rule(
        outcome=st.sampled_from(OUTCOMES),
        delay=st.sampled_from([0, 1, 5]),
        length=st.sampled_from([0, 1, 30, 600]) | st.integers(0, 7200),
        answer=st.sampled_from(["", "started", "ended", "both"]),
    )
    def poll_at_the_wakeup(self, outcome: Outcome, delay: int, length: int, answer: str) -> None:
        """A service that polls when told, and sometimes hears of the call at once."""
        w = self.d.next_wakeup()
        if w is None:
            self.do_poll(self.clock + self.interval)
            return
        dials, _ = self.do_poll(max(w, self.clock))
        for dial in dials:
            call = self.calls[dial.call_id]
            start = dial.at + timedelta(seconds=delay)
            if answer in ("started", "both"):
                assert self.d.started(dial.call_id, start) is None
                self.seen["started"] += 1
                call.started, call.state = start, "progress"
            if answer in ("ended", "both"):
                self.end_call(call, outcome, start + timedelta(seconds=length))

    def end_call(self, call: Call, outcome: Outcome, at: datetime, said: Any = None) -> Attempt:
        a = self.d.ended(call.dial.call_id, outcome if said is None else said, at)
        assert isinstance(a, Attempt)
        self.finish(call, a, outcome, ceil_second(at))
        call.state = "done"
        return a

    @rule(data=st.data())
    def started(self, data: st.DataObject) -> None:
        calls = self.open_calls("dialing", "doubt", "progress")
        if not calls:
            return self.wakeup_poll()
        call = data.draw(st.sampled_from(calls))
        slot = call.dial.at
        at = slot + timedelta(seconds=data.draw(st.sampled_from([0, 1, 5]) | st.integers(0, 900)))
        call_id = call.dial.call_id
        if call.state == "progress":
            assert call.started is not None
            if data.draw(st.booleans()):
                self.ignored(self.d.started, call_id, call.started)  # the same at again
            else:
                other = at if at != call.started else at + timedelta(seconds=1)
                self.refused(self.d.started, call_id, other)  # another at
            return
        assert self.d.started(call_id, at) is None
        self.seen["started"] += 1
        call.started = at
        call.state = "progress"

    @rule(
        data=st.data(),
        length=st.sampled_from([0, 1, 30, 600, 5000]) | st.integers(0, 7200),
        micro=st.just(0) | st.integers(0, 999_999),
        outcome=st.sampled_from(OUTCOMES),
        spelling=st.sampled_from(["enum", "value", "lenient"]),
        then=st.sampled_from(["", "", "duplicate", "conflict"]),
    )
    def ended(
        self,
        data: st.DataObject,
        length: int,
        micro: int,
        outcome: Outcome,
        spelling: str,
        then: str,
    ) -> None:
        candidates = [self.calls[i] for i in self.order if self.calls[i].state != "not_started"]
        if not candidates:
            return self.wakeup_poll()
        # mostly a call still open; sometimes a finished one (a replayed webhook)
        opened = [c for c in candidates if c.open]
        if opened and data.draw(st.integers(0, 3)) > 0:
            candidates = opened
        call = data.draw(st.sampled_from(candidates))
        call_id = call.dial.call_id
        base = max(call.dial.at, call.started or call.dial.at)
        at = base + timedelta(seconds=length, microseconds=micro)
        said: Any = {"enum": outcome, "value": outcome.value, "lenient": lenient(outcome)}[spelling]
        if call.state == "expired":  # the expiry stands
            self.ignored(self.d.ended, call_id, said, at)
            return
        if call.state == "done":
            assert call.outcome is not None
            if outcome is call.outcome:
                self.ignored(self.d.ended, call_id, said, at)
            else:
                self.refused(self.d.ended, call_id, said, at)
            return
        self.end_call(call, outcome, at, said)
        if then == "duplicate":
            self.ignored(self.d.ended, call_id, outcome.value, at)
        elif then == "conflict":
            other = OUTCOMES[(OUTCOMES.index(outcome) + 1) % len(OUTCOMES)]
            self.refused(self.d.ended, call_id, other, at)

    @rule(data=st.data(), again=st.booleans())
    def not_started(self, data: st.DataObject, again: bool) -> None:
        calls = self.open_calls("dialing", "doubt")
        if not calls:
            return self.wakeup_poll()
        call = data.draw(st.sampled_from(calls))
        assert self.d.not_started(call.dial.call_id, "no trunk") is None
        self.seen["not_started"] += 1
        call.state = "not_started"
        p = self.people[call.dial.customer_index]
        p.open_call = None
        if call.callback is not None and p.callback is None:
            p.callback = call.callback  # the callback waits again
        if again:
            self.ignored(self.d.not_started, call.dial.call_id, "no trunk")

    @rule(data=st.data(), what=st.integers(0, 5))
    def mistakes(self, data: st.DataObject, what: int) -> None:
        """The caller's mistakes and late duplicates: refused or ignored, nothing changes."""
        finished = self.open_calls("done", "expired")
        in_progress = self.open_calls("progress", "done")
        opened = self.open_calls("dialing", "doubt", "progress")
        if what == 0 and self.last_poll is not None:  # time running backwards
            back = data.draw(st.integers(1, 86400 * 3) | st.just(1))
            self.refused(self.d.poll, self.last_poll - timedelta(seconds=back))
            self.refused(self.d.poll, self.last_poll - timedelta(microseconds=1))
        elif what == 1 and finished:  # started after the end: ignored
            call = data.draw(st.sampled_from(finished))
            at = call.dial.at + timedelta(seconds=data.draw(st.integers(0, 900)))
            before = frozen(self.d)
            self.d.started(call.dial.call_id, at)
            assert frozen(self.d) == before
        elif what == 2 and in_progress:  # not_started after started or ended
            self.refused(
                self.d.not_started, data.draw(st.sampled_from(in_progress)).dial.call_id, "x"
            )
        elif what == 3 and self.finished_people():  # a callback for a finished customer
            p = data.draw(st.sampled_from(self.finished_people()))
            self.refused(self.d.callback, p.index, self.clock)
        elif what == 4 and opened:  # before the slot or the reported start
            call = data.draw(st.sampled_from(opened))
            base = max(call.dial.at, call.started or call.dial.at)
            early = base - timedelta(seconds=data.draw(st.integers(1, 3600)))
            if data.draw(st.booleans()):
                self.refused(self.d.ended, call.dial.call_id, "Busy", early)
            elif early < call.dial.at:
                self.refused(self.d.started, call.dial.call_id, early)
        elif what == 5:  # an id no Dial had, a naive instant
            self.refused(self.d.ended, str(len(self.order) + 1), "Busy", self.clock)
            self.refused(self.d.started, "0", self.clock)
            self.refused(self.d.poll, self.clock.replace(tzinfo=None) + timedelta(days=1))

    @rule()
    def pause_or_resume(self) -> None:
        if self.paused:
            self.d.resume()
        else:
            self.d.pause()
        self.paused = not self.paused
        assert self.d.paused == self.paused

    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        if not self.customers:
            return self.wakeup_poll()
        i = data.draw(st.integers(0, len(self.customers) - 1))
        unread = i >= self.d.snapshot()["cursor"]
        result = self.d.cancel(i, "asked to stop")
        p = self.people.get(i)
        if p is None:
            # a repeat: False once read; not read yet, True (and it counts as a repeat)
            assert result is (unread and i not in self.cancelled_ahead)
            self.cancelled_ahead.add(i)
            return
        if p.cancelled:  # cancelled before
            assert result is False
            return
        if unread:
            assert result is True  # "a customer not read yet: True"
        if p.open_call is None and p.callback is None and p.tries and p.tries[-1].retry_at is None:
            assert result is False  # finished
            return
        pend = self.pending(p)
        if p.open_call is not None:
            assert result is True  # a call under way: it ends normally, with no retry
        elif pend is not None and self.has_slot(p.index, max(pend[1], self.next_free_slot())):
            # a first attempt, retry or callback that can still go
            assert result is True, (p, pend, self.clock, self.last_poll)
        if result:
            self.seen["cancel"] += 1
            p.cancelled = True
            p.callback = None
            self.cancels += 1

    def next_free_slot(self) -> datetime:
        """No slot before this can still be used: the last poll, and the interval after
        the last Dial."""
        if not self.order:
            return self.clock
        return max(self.clock, self.calls[self.order[-1]].dial.at + self.interval)

    def has_slot(self, index: int, t: datetime) -> bool:
        """Whether a slot at or after t (among the next 200) is callable for the customer
        and can have a free line (calls still open may end at any instant; calls ended
        hold their line until their end)."""
        view = self.view(index)
        ends = [c.ended_at for c in self.calls.values() if c.finished and c.ended_at]
        return any(
            view.is_callable(s) and sum(1 for e in ends if e > s) < self.campaign.max_concurrency
            for s in itertools.islice(self.campaign.slots(t), 200)
        )

    def callable_people(self) -> list[Person]:
        out = []
        for p in self.people.values():
            if p.cancelled:
                continue
            waiting = p.tries and p.tries[-1].retry_at is not None and p.callback is None
            if p.open_call is not None or waiting:
                out.append(p)
        return out

    @rule(data=st.data(), offset=st.integers(-3600, 3 * 86400))
    def callback(self, data: st.DataObject, offset: int) -> None:
        people = self.callable_people()
        if not people:
            return self.wakeup_poll()
        p = data.draw(st.sampled_from(people))
        at = self.clock.replace(microsecond=0) + timedelta(seconds=offset)
        due = self.view(p.index).next_callable(at)
        if due is None:
            self.refused(self.d.callback, p.index, at)
            return
        if p.open_call is None:
            retry_at = p.tries[-1].retry_at
            assert retry_at is not None
            if not self.has_slot(p.index, max(retry_at, self.next_free_slot())):
                # a retry no slot is left for: the customer may be finished already
                # (not reached, cut off), and a callback then refused
                wake = self.d.next_wakeup()
                before = frozen(self.d)
                try:
                    got = self.d.callback(p.index, at)
                except DispatchError:
                    assert frozen(self.d) == before
                    assert self.d.next_wakeup() == wake
                    return
                assert got == due
                p.callback = due
                p.callbacks_asked += 1
                return
        assert self.d.callback(p.index, at) == due
        self.seen["callback"] += 1
        p.callback = due
        p.callbacks_asked += 1

    def finished_people(self) -> list[Person]:
        return [
            p
            for p in self.people.values()
            if p.cancelled
            or (
                p.open_call is None
                and p.callback is None
                and p.tries
                and p.tries[-1].retry_at is None
            )
        ]

    @rule(new=st.data())
    def add(self, new: st.DataObject) -> None:
        more = new.draw(entries(self.setup.recipient, 3))
        start = len(self.customers)
        self.customers.extend(more)
        self._learn(start)
        assert self.d.add(list(more)) is None

    @rule(data=st.data(), steps=st.integers(0, 3), exact=st.booleans())
    def snapshot_and_restore(self, data: st.DataObject, steps: int, exact: bool) -> None:
        state = json.loads(json.dumps(self.d.snapshot()))
        summary = self.d.summary
        if exact:
            # restore(exact=True): the engine as it was, Dials dialing stay dialing; it
            # must answer everything as the original does
            one = Dispatcher.restore(self.campaign, state, list(self.customers), exact=True)
            two = self.d
        else:
            one = Dispatcher.restore(self.campaign, state, list(self.customers))
            two = Dispatcher.restore(self.campaign, json.loads(json.dumps(state)), self.customers)
            # the crash rule: what was dialing comes back in doubt
            for call in self.open_calls("dialing"):
                call.state = "doubt"
        doubt = {c.dial.call_id for c in self.open_calls("doubt")}
        self.seen["in doubt"] += len(doubt)
        assert {x.call_id for x in one.in_doubt()} == doubt
        assert {x.call_id for x in two.in_doubt()} == doubt
        assert one.summary == two.summary == summary
        assert one.paused == self.paused
        # the same events (and queries) give the same answers
        self.d = Twins(one, two)  # type: ignore[assignment]
        for _ in range(steps):
            doubtful = self.open_calls("doubt")
            if doubtful and data.draw(st.booleans()):
                call = data.draw(st.sampled_from(doubtful))
                at = call.dial.at + timedelta(seconds=data.draw(st.integers(0, 600)))
                self.end_call(call, data.draw(st.sampled_from(OUTCOMES)), at)
            else:
                self.wakeup_poll()
        self.d = one
        assert frozen(one) == frozen(two)

    # --------------------------------------------------------------- invariants

    @invariant()
    def dials_are_on_callable_slots(self) -> None:
        c = self.campaign
        for call_id in self.unchecked:
            call = self.calls[call_id]
            at = call.dial.at
            assert at.tzinfo is not None
            assert c.slot_at(c.slot_index(at)) == at
            view = self.view(call.dial.customer_index)
            assert view.is_callable(at)
            assert at <= call.polled < at + self.interval
            # rule 2: every second from the slot to the poll is callable for the customer
            upto = call.polled.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
            covered = sum((w.end - w.start for w in view.windows(at, upto)), timedelta())
            assert covered == upto - at, (call, list(view.windows(at, upto)))
            if not self.setup.recipient:
                assert c.is_callable(at)
                assert oracle.is_callable(self.setup.case.spec, int(at.timestamp()))
        self.unchecked.clear()

    @invariant()
    def the_totals_account_for_everyone(self) -> None:
        s = self.d.summary
        cursor = self.d.snapshot()["cursor"]
        assert 0 <= cursor <= len(self.customers)
        read = {number_of(e) for e in self.customers[:cursor]}
        assert s.reached + s.not_reached + s.unscheduled + s.cancelled + s.pending == len(read)
        assert s.repeats == cursor - len(read)
        assert s.cut_off <= s.not_reached
        finished = [self.calls[i] for i in self.order if self.calls[i].finished]
        assert s.attempts == len(finished)
        assert s.attempts_by_outcome == Counter(c.outcome for c in finished)
        assert s.expired == self.expired_count
        zone = ZoneInfo(self.campaign.timezone)
        assert s.calls_per_day == Counter(c.dial.at.astimezone(zone).date() for c in finished)
        assert s.finished_at == max((c.ended_at for c in finished if c.ended_at), default=None)
        opened = [c for c in self.calls.values() if c.open]
        assert s.in_progress == len(opened)
        assert s.cancelled <= self.cancels
        with_completed = {c.dial.customer_index for c in finished if c.outcome is Outcome.COMPLETED}
        plain = {
            i
            for i in with_completed
            if not self.people[i].cancelled and self.people[i].callbacks_asked == 0
        }
        assert len(plain) <= s.reached <= len(with_completed)
        assert {x.call_id for x in self.d.in_doubt()} == {
            c.dial.call_id for c in opened if c.state == "doubt"
        }
        assert self.d.paused == self.paused
        if self.d.finished:
            assert not opened

    @invariant()
    def the_totals_add_up_by_the_public_api(self) -> None:
        """Issue 19's invariant, without the snapshot's cursor (whose layout the
        rebuilt engine may change): ``cut_off <= not_reached``, and the totals place
        every distinct number of a prefix of the list (tests/engine_invariants.py).
        Bug 1 (reached and cut off, tests/test_engine_bugs.py) breaks it; it holds
        on today's engine because the machine's runs have not met bug 1's sequence
        (a callback asked during a call that ends Completed, then the callback's own
        call fails with no time left for a retry), as the cursor-based check above
        (``cut_off <= not_reached``) shows under the ci profile."""
        check_totals(self.d.summary, self.customers)

    @invariant()
    def attempts_stay_within_their_budget(self) -> None:
        for p in self.people.values():
            assert len(p.tries) <= 1 + self.campaign.call_retries + p.callbacks_asked
            assert [a.attempt for a in p.tries] == list(range(1, len(p.tries) + 1))

    # ---------------------------------------------------------------- teardown

    def teardown(self) -> None:
        """Drive the run to its end: settle every call, poll at each wake-up, end every
        call at once; then every customer of the list is accounted for."""
        if not hasattr(self, "d"):
            return
        d = self.d
        # what the run went through (shown by --hypothesis-show-statistics)
        event(f"dials before teardown: {min(len(self.calls), 10)}")
        for name in ("started", "not_started", "in doubt", "expired", "callback", "cancel"):
            event(f"{name}: {self.seen[name] > 0}")
        event(f"recipient hours: {self.setup.recipient}")
        event(f"no slot at all: {self.campaign.slot_at(0) is None}")
        if self.paused:
            d.resume()
            self.paused = False
        for call in self.open_calls("dialing", "doubt", "progress"):
            self.end_call(call, Outcome.NO_ANSWER, max(call.dial.at, call.started or call.dial.at))
        for _ in range(5000):
            w = d.next_wakeup()
            if w is None:
                break
            now = max(w, self.clock)
            if now == self.last_poll and self.setup.recipient:
                # the same instant again, nothing happened there
                # (test_no_wake_up_at_a_slot_nobody_can_take_any_more): go to the next slot
                later = self.campaign.slot_at(self.campaign.slot_index(now + timedelta(seconds=1)))
                now = later if later is not None else now + self.interval
            dials, _ = self.do_poll(now)
            for dial in dials:
                outcome = OUTCOMES[(dial.customer_index + dial.attempt) % len(OUTCOMES)]
                self.end_call(self.calls[dial.call_id], outcome, dial.at + timedelta(seconds=7))
            self.dials_are_on_callable_slots()
        else:
            raise AssertionError("the run did not finish")
        # next_wakeup() None with nothing in doubt and the run not paused: "nothing left"
        assert d.finished, (d.summary, d.in_progress(), self.clock)
        self.the_totals_account_for_everyone()
        s = d.summary
        numbers = {number_of(e) for e in self.customers}
        assert d.snapshot()["cursor"] == len(self.customers)
        assert s.reached + s.not_reached + s.unscheduled + s.cancelled == len(numbers)
        assert s.pending == 0 and s.in_progress == 0
        assert s.repeats == len(self.customers) - len(numbers)
        assert s.cancelled == self.cancels
        # never dialed (to the end) and not cancelled: unscheduled
        # (a first attempt reported not_started was never dialed either)
        never = [p.index for p in self.people.values() if not p.cancelled and not p.tries]
        assert s.unscheduled == len(never), (s, never)


# Steps per run kept small; the profile (tests/conftest.py) sets the number of runs.
DispatchMachine.TestCase.settings = settings(settings(), stateful_step_count=40)
TestDispatchMachine = DispatchMachine.TestCase


# ------------------------------------------------------- a service loop vs simulate()


@given(
    setup=setups(max_customers=20),
    seed=st.integers(0, 2**32),
    weights=st.dictionaries(
        st.sampled_from(OUTCOME_NAMES), st.floats(0.1, 5), min_size=1, max_size=6
    ),
    mean=st.sampled_from([1, 20, 300, 5000]),
)
def test_a_service_loop_over_the_public_api_is_the_simulation(
    setup: Setup, seed: int, weights: dict[str, float], mean: int
) -> None:
    campaign = setup.campaign
    model = RandomOutcomes(seed, weights, mean)
    d = Dispatcher(campaign)
    attempts: list[Attempt] = []
    for _ in range(10_000):
        wake = d.next_wakeup()
        if wake is None:
            break
        for dial in d.poll(wake):
            outcome, seconds = model(dial.customer_index, dial.attempt, dial.at)
            a = d.ended(dial.call_id, outcome, dial.at + timedelta(seconds=math.ceil(seconds)))
            assert a is not None
            attempts.append(a)
    else:
        raise AssertionError("the loop did not end")
    assert d.finished  # next_wakeup() None: nothing is left
    assert d.next_wakeup() is None
    sim = simulate(campaign, model)
    expected = list(sim)

    def key(a: Attempt) -> tuple[Any, ...]:
        return (a.customer_index, a.attempt, a.at, a.ended_at, a.outcome, a.retry_at)

    assert [key(a) for a in attempts] == [key(a) for a in expected]
    assert d.summary == sim.summary
    assert d.summary.pending == 0


# ------------------------------------------------------------------------ named tests


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def plain_campaign(**fields: Any) -> Campaign:
    payload: dict[str, Any] = {
        "timezone": "UTC",
        "startDate": "2024-03-04",
        "endDate": "2024-03-10",
        "startTime": "09:00",
        "endTime": "17:00",
        "callIntervalSeconds": 60,
        "maxConcurrency": 2,
        "callRetries": 1,
        "retryDelaySeconds": 600,
        "phoneList": [phone(n) for n in range(6)],
    }
    payload.update(fields)
    return Campaign.from_dict({k: v for k, v in payload.items() if v is not None})


def test_a_poll_two_days_late_dials_one_call_on_the_current_slot() -> None:
    d = Dispatcher(plain_campaign(maxConcurrency=5))
    late = at("2024-03-06T10:00:30+00:00")  # two days after the first slot, 09:00 on the 4th
    dials = d.poll(late)
    assert [(x.customer_index, x.attempt, x.at) for x in dials] == [
        (0, 1, at("2024-03-06T10:00:00+00:00"))
    ]
    assert d.poll(at("2024-03-06T10:00:59+00:00")) == []  # the same slot's interval: used
    assert d.next_wakeup() == at("2024-03-06T10:01:00+00:00")
    assert [x.customer_index for x in d.poll(at("2024-03-06T10:01:00+00:00"))] == [1]


def test_a_poll_late_inside_a_closed_interval_dials_nothing() -> None:
    # 17:00 closes the window: a poll at 17:00:30 lies in no slot's interval
    d = Dispatcher(plain_campaign(callIntervalSeconds=3600, endDate="2024-03-04"))
    assert d.poll(at("2024-03-04T16:59:59+00:00"))[0].at == at("2024-03-04T16:00:00+00:00")
    d2 = Dispatcher(plain_campaign(callIntervalSeconds=3600))
    assert d2.poll(at("2024-03-04T17:00:30+00:00")) == []
    assert d2.next_wakeup() == at("2024-03-05T09:00:00+00:00")


def test_a_webhook_replayed_ten_times_counts_once() -> None:
    d = Dispatcher(plain_campaign())
    (dial,) = d.poll(at("2024-03-04T09:00:00+00:00"))
    for _ in range(10):
        d.started(dial.call_id, at("2024-03-04T09:00:02+00:00"))
    first = d.ended(dial.call_id, "Busy", at("2024-03-04T09:00:20+00:00"))
    assert first is not None and first.retry_at == at("2024-03-04T09:10:20+00:00")
    state = frozen(d)
    for spelled in ["Busy", "busy", Outcome.BUSY] * 3:
        assert d.ended(dial.call_id, spelled, at("2024-03-04T09:00:20+00:00")) is None
    assert frozen(d) == state
    s = d.summary
    assert (s.attempts, s.attempts_by_outcome, s.in_progress) == (1, {Outcome.BUSY: 1}, 0)
    # a conflicting replay names both outcomes and changes nothing
    with pytest.raises(DispatchError, match=r"(?s)(Busy.*Completed|Completed.*Busy)"):
        d.ended(dial.call_id, "Completed", at("2024-03-04T09:00:20+00:00"))
    assert frozen(d) == state
    assert issubclass(DispatchError, ValueError)


def test_ended_before_started_and_the_late_start_is_ignored() -> None:
    c = plain_campaign(retryDelayMode="next_day", retryDelaySeconds=0)
    d = Dispatcher(c)
    (dial,) = d.poll(at("2024-03-04T09:00:10+00:00"))
    a = d.ended(dial.call_id, "No Answer", at("2024-03-04T09:00:40.500000+00:00"))
    assert a is not None
    assert a.ended_at == at("2024-03-04T09:00:41+00:00")  # rounded up to the second
    # no started came: the retry rule counts from the slot
    assert a.retry_at == c.retry("No Answer", 1, a.ended_at, started_at=dial.at).at
    assert a.retry_at == at("2024-03-05T09:00:00+00:00")
    state = frozen(d)
    assert d.started(dial.call_id, at("2024-03-04T09:00:05+00:00")) is None
    assert frozen(d) == state
    assert d.summary.in_progress == 0


def test_errors_leave_the_engine_as_it_was() -> None:
    d = Dispatcher(plain_campaign())
    (dial,) = d.poll(at("2024-03-04T09:00:00+00:00"))
    state = frozen(d)
    mistakes: list[Callable[[], Any]] = [
        lambda: d.poll(datetime(2024, 3, 4, 9, 5)),  # naive
        lambda: d.poll(at("2024-03-04T08:59:59+00:00")),  # backwards
        lambda: d.ended("99", "Busy", at("2024-03-04T09:01:00+00:00")),  # unknown id
        lambda: d.started("0", at("2024-03-04T09:01:00+00:00")),
        lambda: d.ended(dial.call_id, "Bussy", at("2024-03-04T09:01:00+00:00")),
        lambda: d.ended(dial.call_id, "Busy", at("2024-03-04T08:59:59+00:00")),  # before slot
        lambda: d.started(dial.call_id, at("2024-03-04T08:59:00+00:00")),
    ]
    for mistake in mistakes:
        with pytest.raises(DispatchError):
            mistake()
        assert frozen(d) == state
    d.started(dial.call_id, at("2024-03-04T09:00:30+00:00"))
    state = frozen(d)
    with pytest.raises(DispatchError):  # ends before the reported start
        d.ended(dial.call_id, "Busy", at("2024-03-04T09:00:29+00:00"))
    with pytest.raises(DispatchError):  # another start
        d.started(dial.call_id, at("2024-03-04T09:00:31+00:00"))
    with pytest.raises(DispatchError):  # after started
        d.not_started(dial.call_id, "x")
    assert frozen(d) == state


def test_a_crash_between_poll_and_dial_then_not_started_dials_it_again_in_its_turn() -> None:
    c = plain_campaign(maxConcurrency=1, maxCallSeconds=120)
    d = Dispatcher(c)
    (dial,) = d.poll(at("2024-03-04T09:00:00+00:00"))
    stored = json.dumps(d.snapshot())  # write-ahead, then the process dies
    d = Dispatcher.restore(c, json.loads(stored))
    assert [(x.call_id, x.customer_index, x.attempt, x.at) for x in d.in_doubt()] == [
        ("1", 0, 1, dial.at)
    ]
    assert d.next_wakeup() is None  # the only line is held by a call in doubt
    # in doubt never expires, and nobody else is dialed while it holds the line
    assert d.poll(at("2024-03-04T10:00:00+00:00")) == []
    assert d.expired() == [] and d.summary.in_progress == 1
    assert d.not_started("1", "the telephony log has no such call") is None
    assert d.in_doubt() == []
    assert d.next_wakeup() == at("2024-03-04T10:00:00+00:00")  # the slot still unused
    again = d.poll(at("2024-03-04T10:00:00+00:00"))
    assert [(x.call_id, x.customer_index, x.attempt, x.at) for x in again] == [
        ("2", 0, 1, at("2024-03-04T10:00:00+00:00"))
    ]
    s = d.summary
    assert (s.attempts, s.in_progress) == (0, 1)


def test_a_crash_between_poll_and_dial_then_the_log_shows_the_call() -> None:
    c = plain_campaign(maxConcurrency=1)
    d = Dispatcher(c)
    d.poll(at("2024-03-04T09:00:00+00:00"))
    d = Dispatcher.restore(c, json.loads(json.dumps(d.snapshot())))
    assert [x.call_id for x in d.in_doubt()] == ["1"]
    d.started("1", at("2024-03-04T09:00:03+00:00"))
    assert d.in_doubt() == []  # confirmed: an ordinary call in progress
    a = d.ended("1", "No Answer", at("2024-03-04T09:00:33+00:00"))
    assert a is not None and a.retry_at == at("2024-03-04T09:10:33+00:00")
    assert d.next_wakeup() == at("2024-03-04T09:01:00+00:00")
    assert [(x.customer_index, x.attempt) for x in d.poll(at("2024-03-04T09:01:00+00:00"))] == [
        (1, 1)
    ]
    # and straight to ended, without started
    d = Dispatcher.restore(c, json.loads(json.dumps(d.snapshot())))
    assert [x.call_id for x in d.in_doubt()] == ["2"]
    assert d.ended("2", "Completed", at("2024-03-04T09:02:00+00:00")) is not None
    assert d.in_doubt() == [] and d.summary.reached == 1


def test_a_dial_never_persisted_is_handed_out_again() -> None:
    c = plain_campaign()
    d = Dispatcher(c)
    d.poll(at("2024-03-04T09:00:00+00:00"))
    stored = json.dumps(d.snapshot())
    lost = d.poll(at("2024-03-04T09:01:00+00:00"))  # the process dies before persisting
    d = Dispatcher.restore(c, json.loads(stored))
    assert d.poll(at("2024-03-04T09:01:00+00:00")) == lost


def test_restore_refuses_another_campaign_another_list_and_foreign_states() -> None:
    c = plain_campaign()
    d = Dispatcher(c)
    for second in range(0, 180, 60):
        d.poll(at("2024-03-04T09:00:00+00:00") + timedelta(seconds=second))
    state = json.loads(json.dumps(d.snapshot()))
    changed = plain_campaign(callIntervalSeconds=120)
    with pytest.raises(DispatchError):
        Dispatcher.restore(changed, state)
    phones = [phone(n) for n in range(6)]
    read = state["cursor"]  # "how many list entries were read"
    assert 2 <= read <= 6
    other = list(phones)
    other[read - 1] = phone(9)  # the last entry read has another number
    with pytest.raises(DispatchError):
        Dispatcher.restore(c, state, other)
    with pytest.raises(DispatchError):  # shorter than what was read
        Dispatcher.restore(c, state, phones[: read - 1])
    for broken in (
        {**state, "format": "something.else"},
        {**state, "version": 99},
        {**state, "tz_database": "1999z"},  # another tz database: the instants could differ
        {**state, "campaign": "0" * 64},
        {k: v for k, v in state.items() if k != "calls"},
        {**state, "seen": "not base64!"},
        {},
    ):
        with pytest.raises(DispatchError):
            Dispatcher.restore(c, broken)
    # the same list restores, and the result is the same engine
    again = Dispatcher.restore(c, state, phones)
    assert frozen(again) == frozen(Dispatcher.restore(c, state))
    assert again.summary == d.summary


def test_a_fall_back_night_with_a_split_window() -> None:
    c = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-11-03",
            "endDate": "2024-11-03",
            "startTime": "01:30",
            "endTime": "02:30",
            "callIntervalSeconds": 1200,
            "maxConcurrency": 1,
            "callRetries": 0,
            "phoneList": [phone(n) for n in range(8)],
        }
    )
    d = Dispatcher(c)
    got = []
    while (wake := d.next_wakeup()) is not None:
        for dial in d.poll(wake):
            got.append(dial.at)
            d.ended(dial.call_id, "Completed", dial.at + timedelta(seconds=60))
    zone = ZoneInfo("America/New_York")
    assert [f"{t.astimezone(zone):%H:%M %Z}" for t in got] == [
        "01:30 EDT",
        "01:50 EDT",
        "01:30 EST",
        "01:50 EST",
        "02:10 EST",
    ]
    assert [f"{t:%H:%M}" for t in got] == ["05:30", "05:50", "06:30", "06:50", "07:10"]
    assert d.finished
    s = d.summary
    assert (s.reached, s.unscheduled) == (5, 3)


def test_the_fall_back_gap_is_not_a_slot() -> None:
    c = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-11-03",
            "endDate": "2024-11-03",
            "startTime": "01:30",
            "endTime": "02:30",
            "callIntervalSeconds": 1200,
            "maxConcurrency": 3,
            "phoneList": [phone(n) for n in range(8)],
        }
    )
    d = Dispatcher(c)
    assert len(d.poll(at("2024-11-03T05:50:00+00:00"))) == 1  # 01:50 EDT
    # 06:10Z is 01:10 EST, outside the window, though 20 minutes after the last slot
    assert d.poll(at("2024-11-03T06:10:00+00:00")) == []
    assert d.next_wakeup() == at("2024-11-03T06:30:00+00:00")


def test_expiry_closes_a_silent_call_at_its_deadline() -> None:
    c = plain_campaign(maxCallSeconds=300, retryConditions=["Unspecified"])
    d = Dispatcher(c)
    (dial,) = d.poll(at("2024-03-04T09:00:00+00:00"))
    d.started(dial.call_id, at("2024-03-04T09:00:10+00:00"))
    assert d.poll(at("2024-03-04T09:05:09+00:00")) != []  # another customer; no expiry yet
    assert d.expired() == []
    d.poll(at("2024-03-04T09:30:00+00:00"))
    (a,) = [x for x in d.expired() if x.customer_index == 0]
    assert a.ended_at == at("2024-03-04T09:05:10+00:00")
    assert a.outcome is Outcome.UNSPECIFIED
    assert a.retry_at == at("2024-03-04T09:15:10+00:00")
    assert d.expired() == []  # reported once
    assert d.ended(dial.call_id, "Completed", at("2024-03-04T09:20:00+00:00")) is None
    assert d.summary.expired == 2  # the second call expired too, silently


def test_replay_outcomes_through_the_engine_match_the_worked_example() -> None:
    # docs/pacing.md's worked example, driven by the public Dispatcher API
    campaign = Campaign.from_dict(
        {
            "timezone": "Europe/Prague",
            "startDate": "2024-03-29",
            "endDate": "2024-04-02",
            "startTime": "09:00",
            "endTime": "10:00",
            "activeDays": [0, 1, 2, 3, 4],
            "callIntervalSeconds": 300,
            "maxConcurrency": 2,
            "callRetries": 2,
            "retryDelaySeconds": 900,
            "phoneList": [f"+42060100000{n}" for n in range(10)],
        }
    )
    results = ReplayOutcomes([], default=("No Answer", 30))
    d = Dispatcher(campaign)
    n = 0
    while (wake := d.next_wakeup()) is not None:
        for dial in d.poll(wake):
            outcome, seconds = results(dial.customer_index, dial.attempt, dial.at)
            d.ended(dial.call_id, outcome, dial.at + timedelta(seconds=seconds))
            n += 1
    assert n == d.summary.attempts == sum(1 for _ in simulate(campaign, results))


# ------------------------------------------------------------ found by the machine
#
# Each was a disagreement between the engine and docs/dispatch.md (or docs/pacing.md),
# reduced by hand from a failing run of DispatchMachine; fixed in 0a2088e (the first
# two) and 7a446a6.


def test_no_wakeup_means_finished_or_waiting() -> None:
    c = plain_campaign(endDate="2024-03-04", endTime="09:02", maxConcurrency=1)
    d = Dispatcher(c, [phone(0), phone(1)])
    (dial,) = d.poll(at("2024-03-04T09:00:00+00:00"))
    # the only line stays busy past the campaign's end: nothing can be dialed any more
    d.ended(dial.call_id, "Completed", at("2024-03-04T10:00:00+00:00"))
    assert d.in_doubt() == [] and not d.paused
    assert d.next_wakeup() is None
    assert d.finished


def test_the_simulations_summary_accounts_for_every_customer() -> None:
    c = plain_campaign(endDate="2024-03-04", endTime="09:00:02", callIntervalSeconds=1)
    c = Campaign.from_dict({**c.to_dict(), "maxConcurrency": 1, "callRetries": 0})
    sim = simulate(c, ReplayOutcomes([], default=("Busy", 2)), customers=[phone(0), phone(1)])
    assert [a.customer_index for a in sim] == [0]  # the only line is busy until the end
    s = sim.summary
    assert s.pending == 0
    assert s.reached + s.not_reached + s.unscheduled == 2


def test_cancelling_an_entry_not_read_yet() -> None:
    # docs (since 7a446a6): True, effective when read; a repeat then counts as a repeat
    c = plain_campaign(phoneList=[phone(0), phone(1), phone(1), phone(2)], maxConcurrency=5)
    d = Dispatcher(c)
    assert d.cancel(2, "stop") is True  # index 2 repeats index 1's number: not read yet
    assert d.cancel(2, "stop") is False  # cancelled before
    assert d.cancel(3, "stop") is True
    dialed = []
    while (wake := d.next_wakeup()) is not None:
        for dial in d.poll(wake):
            dialed.append(dial.customer_index)
            d.ended(dial.call_id, "Completed", dial.at)
    assert dialed == [0, 1]  # the number of entry 2 is still called, as entry 1
    s = d.summary
    assert (s.reached, s.cancelled, s.repeats, s.unscheduled) == (2, 1, 1, 0)
    assert d.cancel(2, "stop") is False  # a repeat already read


def test_next_wakeup_is_the_last_polls_now_when_an_event_frees_a_line_for_its_slot() -> None:
    c = plain_campaign(maxConcurrency=1)
    d = Dispatcher(c)
    assert len(d.poll(at("2024-03-04T09:00:00+00:00"))) == 1
    assert d.poll(at("2024-03-04T09:01:30+00:00")) == []  # the only line is busy
    d.ended("1", "Completed", at("2024-03-04T09:00:30+00:00"))  # free before 09:01
    # a poll at 09:01:30 now dials on the 09:01 slot...
    assert d.next_wakeup() == at("2024-03-04T09:01:30+00:00")
    (dial,) = d.poll(at("2024-03-04T09:01:30+00:00"))
    assert dial.at == at("2024-03-04T09:01:00+00:00")


def test_next_wakeup_is_never_before_the_last_poll() -> None:
    c = plain_campaign(callIntervalSeconds=600, maxCallSeconds=60)
    d = Dispatcher(c)
    (dial,) = d.poll(at("2024-03-04T09:05:00+00:00"))  # late in the 09:00 slot's interval
    assert dial.at == at("2024-03-04T09:00:00+00:00")
    wake = d.next_wakeup()
    assert wake is not None and wake >= at("2024-03-04T09:05:00+00:00")
    d.poll(wake)
    # the deadline counts from the slot (rule 6), though the Dial went out at 09:05
    (a,) = d.expired()
    assert (a.ended_at, a.outcome) == (at("2024-03-04T09:01:00+00:00"), Outcome.UNSPECIFIED)


def test_a_first_attempt_not_started_and_then_out_of_time_is_unscheduled() -> None:
    c = plain_campaign(endDate="2024-03-04", endTime="09:01", phoneList=[phone(0)])
    d = Dispatcher(c)
    (dial,) = d.poll(at("2024-03-04T09:00:00+00:00"))  # the only slot
    d.not_started(dial.call_id, "no trunk")
    d.poll(at("2024-03-04T10:00:00+00:00"))
    assert d.finished
    s = d.summary
    assert s.attempts == 0
    assert (s.unscheduled, s.not_reached, s.cut_off) == (1, 0, 0)


def test_a_poll_a_fraction_of_a_second_earlier_is_refused() -> None:
    d = Dispatcher(plain_campaign())
    d.poll(at("2024-03-04T08:00:00.500000+00:00"))
    with pytest.raises(DispatchError):
        d.poll(at("2024-03-04T08:00:00+00:00"))


def test_a_callback_cut_off_after_a_completed_call_is_not_a_cut_off_not_reached() -> None:
    c = plain_campaign(endDate="2024-03-04", endTime="09:10", callIntervalSeconds=300)
    d = Dispatcher(c, [phone(0)])
    (dial,) = d.poll(at("2024-03-04T09:00:00+00:00"))
    # asked during the call: 09:08 is callable, but no slot is left after it
    assert d.callback(0, at("2024-03-04T09:08:00+00:00")) == at("2024-03-04T09:08:00+00:00")
    d.ended(dial.call_id, "Completed", at("2024-03-04T09:01:00+00:00"))
    assert d.finished
    s = d.summary
    assert s.reached + s.not_reached == 1
    assert s.cut_off <= s.not_reached


def test_reading_the_summary_does_not_change_the_next_poll() -> None:
    c = plain_campaign(endDate="2024-03-04", endTime="09:02", maxConcurrency=1)
    runs = []
    for look in (False, True):
        d = Dispatcher(c, [phone(0), phone(1)])
        d.poll(at("2024-03-04T09:00:00+00:00"))  # customer 0 on the 09:00 slot
        assert d.poll(at("2024-03-04T09:01:30+00:00")) == []  # the only line is busy
        d.ended("1", "Completed", at("2024-03-04T09:00:30+00:00"))  # free before 09:01
        if look:
            assert not d.finished
        runs.append(d.poll(at("2024-03-04T09:01:30+00:00")))
    assert runs[0] == runs[1]
    assert [x.customer_index for x in runs[0]] == [1]  # the 09:01 slot is still usable


# ------------------------------------------------------ where the engine and docs differ


def test_next_wakeup_keeps_the_fraction_of_the_last_poll() -> None:
    c = plain_campaign(maxConcurrency=1)
    d = Dispatcher(c)
    d.poll(at("2024-03-04T09:00:00+00:00"))
    last = at("2024-03-04T09:01:30.000001+00:00")
    assert d.poll(last) == []  # the only line is busy
    d.ended("1", "Completed", at("2024-03-04T09:00:30+00:00"))  # free before 09:01
    wake = d.next_wakeup()  # engine: 09:01:30, a microsecond before the last poll
    assert wake is not None and wake >= last
    assert [x.customer_index for x in d.poll(wake)] == [1]


def test_no_wake_up_at_a_slot_nobody_can_take_any_more() -> None:
    c = plain_campaign(
        endDate="2024-03-05",
        callIntervalSeconds=3600,
        recipientHours={"startTime": "08:00", "endTime": "09:10"},
        phoneList=None,
        customers=[{"phoneNumber": phone(0), "properties": {"timezone": "UTC"}}],
    )
    d = Dispatcher(c)
    # 09:20 is in the 09:00 slot's interval, but the customer's hours ended at 09:10
    assert d.poll(at("2024-03-04T09:20:00+00:00")) == []
    wake = d.next_wakeup()  # engine: 09:20 again, and a poll there does nothing
    assert wake == at("2024-03-05T09:00:00+00:00")
    assert [x.customer_index for x in d.poll(wake)] == [0]
