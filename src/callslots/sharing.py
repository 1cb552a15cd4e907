"""Sharing the slots among customers with their own hours (``recipientHours``).

The plan and the simulation follow one rule (docs/compliance.md, section 2): a
slot goes to the earliest-due pending attempt that is callable *for its customer*
at that instant, ties broken by customer order.  Every first attempt is due at the
start, so first attempts still come before retries, but a customer whose hours
have not begun waits while later customers are called.

Customers are grouped by zone set (one :class:`Group` per shared
:class:`~callslots.recipients.RecipientView`).  Each group remembers the window of
its callable set that the slots have reached, so asking "may this group be called
now?" is a comparison, and a slot where no group may be called is skipped to the
first slot at or after the next window of any group that has someone waiting.

Customers are read lazily, but the rule needs to know whether *any* pending
customer is callable at a slot, so the reader looks ahead: at most
:data:`LOOKAHEAD` customers are held waiting for their hours; while that many
wait, a slot none of them may take stays unused.  A customer whose set is empty
(its hours never meet the campaign's) is reported at once and never dialed.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .customers import Customer, read_customers
from .outcomes import Outcome
from .recipients import RecipientView
from .retry import due, refusal
from .tz import MAX_UTC, MIN_UTC
from .windows import day_date, from_seconds

if TYPE_CHECKING:
    from .campaign import Campaign
    from .simulate import Attempt, OutcomeModel, Summary
    from .slots import CallSlot

__all__ = ["LOOKAHEAD", "NEVER", "Group", "plan_shared", "play_shared"]

#: The most customers held in memory waiting for their own hours.
LOOKAHEAD = 100_000
NEVER = "never callable: its recipient hours never meet the campaign's windows"


@dataclass(eq=False)
class Group:
    """The waiting customers of one zone set and where its callable set stands."""

    view: RecipientView
    firsts: deque[tuple[int, Customer]] = field(default_factory=deque)
    retries: list[tuple[int, int, int, str]] = field(default_factory=list)  # due, index, n, phone
    opens: int = MIN_UTC  # the window [opens, closes) of the view at or after the last slot
    closes: int = MIN_UTC
    never: bool = False  # the view's set holds nothing from the start on

    def callable_at(self, s: int) -> bool:
        """Whether the view's set holds slot ``s`` (slots only increase)."""
        if s >= self.closes:
            self._advance(s)
        return self.opens <= s < self.closes

    def next_open(self, s: int) -> int | None:
        """The first callable second at or after ``s``, or None."""
        if s >= self.closes:
            self._advance(s)
        return None if self.opens >= MAX_UTC else max(s, self.opens)

    def _advance(self, s: int) -> None:
        for a, b in self.view.spans(s, MAX_UTC):
            self.opens, self.closes = a, b
            return
        self.opens = self.closes = MAX_UTC


def _slots_from(campaign: Campaign, u: int) -> Iterator[int]:
    return campaign.slot_seconds(from_seconds(u)) if u > MIN_UTC else campaign.slot_seconds()


def plan_shared(
    campaign: Campaign, source: Iterable[object], start: int | None
) -> Iterator[CallSlot]:
    """The first attempts under recipient hours, in the order of the calls (see the
    module docstring); every customer appears once, as ``Campaign.plan`` promises."""
    from .slots import NO_TIME_LEFT, REPEAT, CallSlot

    shared = _Customers(campaign, source, MIN_UTC if start is None else start)

    def reported() -> Iterator[CallSlot]:
        """The repeats and the never-callable customers read since the last call."""
        for index, customer, why in shared.reported:
            note = REPEAT if why == "repeat" else NEVER
            yield CallSlot(index, customer.phone, None, customer, note)
        shared.reported.clear()

    s = next(shared.slots, None)
    while s is not None:
        best: Group | None = None
        for group in shared.groups.values():
            if (
                group.firsts
                and (best is None or group.firsts[0][0] < best.firsts[0][0])
                and group.callable_at(s)
            ):
                best = group
        if best is None:
            best = shared.read_until_callable(s)
        yield from reported()
        if best is None:
            s = shared.skip(s)
            continue
        index, customer = best.firsts.popleft()
        shared.waiting -= 1
        note = shared.notes.pop(index, None)  # the campaign's zone stood in
        yield CallSlot(index, customer.phone, from_seconds(s), customer, note)
        s = next(shared.slots, None)
    # The time ran out: the rest are reported, not lost.
    yield from reported()
    left = [c for g in shared.groups.values() for c in g.firsts]
    for index, customer in sorted(left + shared.dead):
        note = shared.notes.pop(index, None)
        yield CallSlot(
            index, customer.phone, None, customer, NO_TIME_LEFT + (f"; {note}" if note else "")
        )
    for index, customer, new in shared.reader:
        yield CallSlot(index, customer.phone, None, customer, NO_TIME_LEFT if new else REPEAT)


def play_shared(
    campaign: Campaign,
    outcomes: OutcomeModel,
    source: Iterable[object],
    first: int,
    result: list[Summary],
) -> Iterator[Attempt]:
    """The simulation under recipient hours: the rules of ``simulate``, with the slot
    going to the earliest-due attempt callable for its customer (module docstring)."""
    from .simulate import Attempt, Summary

    lines = campaign.max_concurrency
    shared = _Customers(campaign, source, first, report=False)
    zone = campaign.calendar.zone
    by_outcome: Counter[Outcome] = Counter()
    per_day: Counter[int] = Counter()
    reached = not_reached = attempts = 0
    finished = -1
    busy: list[int] = []  # end seconds of the calls in progress
    s = next(shared.slots, None)
    while s is not None:
        while busy and busy[0] <= s:
            heapq.heappop(busy)
        if len(busy) >= lines:  # every line taken: the first slot after one frees
            shared.slots = _slots_from(campaign, busy[0])
            s = next(shared.slots, None)
            continue
        best: Group | None = None
        key: tuple[int, int] | None = None
        for group in shared.groups.values():
            if group.firsts:
                candidate = (MIN_UTC, group.firsts[0][0])
            elif group.retries and group.retries[0][0] <= s:
                candidate = (group.retries[0][0], group.retries[0][1])
            else:
                continue
            if (key is None or candidate < key) and group.callable_at(s):
                best, key = group, candidate
        if best is None or not best.firsts:
            # A first attempt not read yet is due before any retry: look for one.
            found = shared.read_until_callable(s)
            if found is not None:
                best = found
        if best is None:
            s = shared.skip(s, [g.retries[0][0] for g in shared.groups.values() if g.retries])
            continue
        if best.firsts:
            (index, customer), number = best.firsts.popleft(), 1
            phone = customer.phone
            shared.waiting -= 1
            shared.notes.pop(index, None)  # the plan reports these; the simulation does not
        else:
            _, index, number, phone = heapq.heappop(best.retries)
        at = from_seconds(s)
        outcome, seconds = outcomes(index, number, at)
        if not isinstance(outcome, Outcome):
            outcome = Outcome.parse(outcome)
        ended = s + math.ceil(seconds) if seconds > 0 else s  # whole seconds, rounded up
        retry = None
        if refusal(campaign, outcome, number) is None:
            retry = due(campaign, ended, s, best.view.next_second)
        if retry is not None:
            heapq.heappush(best.retries, (retry, index, number + 1, phone))
        elif outcome is Outcome.COMPLETED:
            reached += 1
        else:
            not_reached += 1
        heapq.heappush(busy, ended)
        attempts += 1
        by_outcome[outcome] += 1
        per_day[(s + zone.offset_at(s)) // 86400] += 1
        finished = max(finished, ended)
        yield Attempt(
            index,
            phone,
            number,
            at,
            from_seconds(ended),
            outcome,
            None if retry is None else from_seconds(retry),
        )
        s = next(shared.slots, None)
    repeats, unscheduled = shared.repeats, shared.never
    unscheduled += sum(len(g.firsts) for g in shared.groups.values()) + len(shared.dead)
    for _, _, new in shared.reader:  # the time ran out: count the rest
        if new:
            unscheduled += 1
        else:
            repeats += 1
    cut_off = sum(len(g.retries) for g in shared.groups.values())
    result.append(
        Summary(
            finished_at=None if finished < 0 else from_seconds(finished),
            attempts=attempts,
            attempts_by_outcome=dict(by_outcome),
            reached=reached,
            not_reached=not_reached + cut_off,
            cut_off=cut_off,
            unscheduled=unscheduled,
            repeats=repeats,
            calls_per_day={day_date(d): n for d, n in sorted(per_day.items())},
        )
    )


class _Customers:
    """The customers read so far, by group, and the slot stream (shared by the plan
    and the simulation)."""

    def __init__(
        self, campaign: Campaign, source: Iterable[object], first: int, report: bool = True
    ) -> None:
        self.campaign = campaign
        self.reader = read_customers(source)
        self.groups: dict[tuple[str, ...], Group] = {}
        self.waiting = 0  # first attempts held in the groups
        self.exhausted = False
        self.report = report  # keep the repeats and never-callable customers, or count them
        self.reported: list[tuple[int, Customer, str]] = []
        self.repeats = self.never = 0
        self.dead: list[tuple[int, Customer]] = []  # waited past the end of their time
        self.notes: dict[int, str] = {}  # customers whose zone is the campaign's stand-in
        self.begin = campaign.calendar.next_callable(first)
        self.slots = _slots_from(campaign, first)

    def group_of(self, index: int, customer: Customer) -> Group:
        view = self.campaign.for_customer(customer)
        if view.note is not None:
            self.notes[index] = view.note
        group = self.groups.get(view.zones)
        if group is None:
            base = self.campaign.views.get(view.zones)
            # Decided once, from the start: the group's own window moves on with the
            # slots, and a customer read late is "out of time", not "never".
            never = self.begin is None or base.next_second(self.begin) is None
            group = self.groups[view.zones] = Group(base, never=never)
        return group

    def read_until_callable(self, s: int) -> Group | None:
        """Read customers until one may be called at ``s`` (its group), the list
        ends, or :data:`LOOKAHEAD` wait."""
        while not self.exhausted and self.waiting < LOOKAHEAD:
            found = next(self.reader, None)
            if found is None:
                self.exhausted = True
                break
            index, customer, new = found
            if not new:
                self.repeats += 1
                if self.report:
                    self.reported.append((index, customer, "repeat"))
                continue
            group = self.group_of(index, customer)
            if group.never:
                self.never += 1
                if self.report:
                    self.reported.append((index, customer, "never"))
                continue
            group.firsts.append((index, customer))
            self.waiting += 1
            if group.callable_at(s):
                return group
        return None

    def skip(self, s: int, due: Iterable[int] = ()) -> int | None:
        """The next slot worth looking at after ``s``, where nobody may be called:
        the first at or after the next window of a group with someone waiting (or
        after one of the ``due`` times); None when there is none."""
        soonest = min(due, default=None)
        for group in self.groups.values():
            if group.firsts:
                at = group.next_open(s)
                if at is not None and (soonest is None or at < soonest):
                    soonest = at
        if soonest is None:
            if self.exhausted:
                return None
            # Everyone waiting is past the end of their time: set them aside, read on.
            for group in self.groups.values():
                self.dead.extend(group.firsts)
                group.firsts.clear()
            self.waiting = 0
            return s
        self.slots = _slots_from(self.campaign, max(soonest, s + 1))
        return next(self.slots, None)
