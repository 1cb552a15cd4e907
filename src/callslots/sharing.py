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

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .customers import Customer, read_customers
from .recipients import RecipientView, ViewKey
from .schedule import Schedule
from .slots import NO_TIME_LEFT, REPEAT, CallSlot
from .tz import MAX_UTC, MIN_UTC
from .windows import from_seconds

__all__ = ["LOOKAHEAD", "NEVER", "Group", "plan_shared"]

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


def plan_shared(
    campaign: Schedule, source: Iterable[object], start: int | None
) -> Iterator[CallSlot]:
    """The first attempts under recipient hours, in the order of the calls (see the
    module docstring); every customer appears once, as ``Campaign.plan`` promises."""

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


class _Customers:
    """The customers read so far, by group, and the slot stream (shared by the plan
    and the simulation)."""

    def __init__(
        self, campaign: Schedule, source: Iterable[object], first: int, report: bool = True
    ) -> None:
        self.campaign = campaign
        self.reader = read_customers(source)
        self.groups: dict[ViewKey, Group] = {}
        self.waiting = 0  # first attempts held in the groups
        self.exhausted = False
        self.report = report  # keep the repeats and never-callable customers, or count them
        self.reported: list[tuple[int, Customer, str]] = []
        self.repeats = self.never = 0
        self.dead: list[tuple[int, Customer]] = []  # waited past the end of their time
        self.notes: dict[int, str] = {}  # customers whose zone is the campaign's stand-in
        self.begin = campaign._calendar.next_callable(first)
        self.slots = campaign.slots_from(first)

    def group_of(self, index: int, customer: Customer) -> Group:
        view = self.campaign.view_for(customer)
        if view.note is not None:
            self.notes[index] = view.note
        group = self.groups.get(view.key)
        if group is None:
            base = self.campaign._views.get(view.key)
            # Decided once, from the start: the group's own window moves on with the
            # slots, and a customer read late is "out of time", not "never".
            never = self.begin is None or base.next_second(self.begin) is None
            group = self.groups[view.key] = Group(base, never=never)
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
        self.slots = self.campaign.slots_from(max(soonest, s + 1))
        return next(self.slots, None)
