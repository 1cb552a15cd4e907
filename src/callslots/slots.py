"""Slots and pacing: the grid of call starts, random access into it, and the plan of
first attempts.

The grid (docs/pacing.md): inside each maximal calling window ``[a, b)`` the slots are
``a, a + I, a + 2I, ...`` below ``b``, with ``I = callIntervalSeconds``; the grid
starts again at every window's opening.  Everything here works on integer UTC
seconds from :meth:`Calendar.spans`; datetimes are made at the edge, stepped by
``itertools.accumulate`` so that C does the per-slot work.
"""

from __future__ import annotations

import operator
import threading
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sized
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate, chain, repeat
from typing import TYPE_CHECKING

from .customers import Customer, read_customers
from .tz import MAX_UTC, MIN_UTC
from .windows import Calendar, from_seconds

if TYPE_CHECKING:
    from .campaign import Campaign

__all__ = ["CallSlot", "SlotIndex", "plan"]

#: Why a customer in a plan has no slot.
REPEAT = "repeat of an earlier number: dialed once"
NO_TIME_LEFT = "no callable time left: the campaign ends first"


class SlotIndex:
    """Random access into a campaign's slot grid.

    The windows are indexed, from the campaign's start, as far as a question needs
    and no further: arrays of their openings, closings and the number of slots
    before each.  Then ``slot_at`` and ``slot_index`` are bisections.  Growing is
    guarded by a lock, so one campaign may be asked from many threads.
    """

    __slots__ = (
        "_before",
        "_calendar",
        "_closes",
        "_done",
        "_interval",
        "_lock",
        "_opens",
        "_spans",
        "_total",
    )
    CHUNK = 512  # windows indexed per step

    def __init__(self, calendar: Calendar, interval: int) -> None:
        self._calendar = calendar
        self._interval = interval
        self._spans = calendar.spans(MIN_UTC, MAX_UTC)
        self._opens = array("q")
        self._closes = array("q")
        self._before = array("q")  # slots in the windows before this one
        self._total = 0
        self._done = False
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[type[SlotIndex], tuple[Calendar, int]]:
        return (SlotIndex, (self._calendar, self._interval))  # rebuilt lazily after unpickling

    def _grow(self) -> None:
        with self._lock:
            if self._done:
                return
            interval = self._interval
            for count, (a, b) in enumerate(self._spans, 1):
                self._opens.append(a)
                self._closes.append(b)
                self._before.append(self._total)
                self._total += -(-(b - a) // interval)
                if count == self.CHUNK:
                    return
            self._done = True

    def slot_at(self, k: int) -> tuple[int, int] | None:
        """``(slot, window)``: the ``k``-th slot (from 0) and the index of its window."""
        if k < 0:
            raise ValueError(f"slot numbers start at 0, not {k}")
        while k >= self._total and not self._done:
            self._grow()
        if k >= self._total:
            return None
        i = bisect_right(self._before, k) - 1
        return self._opens[i] + (k - self._before[i]) * self._interval, i

    def slot_index(self, u: int) -> int:
        """How many slots come before UTC second ``u``."""
        while not self._done and (not self._opens or self._opens[-1] <= u):
            self._grow()
        i = bisect_right(self._opens, u) - 1
        if i < 0:
            return 0
        a, b = self._opens[i], self._closes[i]
        inside = -(-(min(u, b) - a) // self._interval)
        return self._before[i] + inside

    def window(self, i: int) -> tuple[int, int]:
        return self._opens[i], self._closes[i]


def slot_seconds(
    calendar: Calendar, index: SlotIndex, interval: int, start: int | None
) -> Iterator[int]:
    """The slots from UTC second ``start`` on (all of them when None), as integers."""
    if start is None:
        return chain.from_iterable(
            range(a, b, interval) for a, b in calendar.spans(MIN_UTC, MAX_UTC)
        )
    found = index.slot_at(index.slot_index(start))
    if found is None:
        return iter(())
    slot, i = found
    _, close = index.window(i)
    later = calendar.spans(close, MAX_UTC)  # windows are maximal: close is not callable
    return chain(
        range(slot, close, interval), chain.from_iterable(range(a, b, interval) for a, b in later)
    )


def slot_datetimes(
    calendar: Calendar, index: SlotIndex, interval: int, start: int | None
) -> Iterator[datetime]:
    """The same slots as aware UTC datetimes, each the one before plus the interval."""
    step = timedelta(seconds=interval)
    if start is None:
        windows = calendar.spans(MIN_UTC, MAX_UTC)
    else:
        found = index.slot_at(index.slot_index(start))
        if found is None:
            return iter(())
        slot, i = found
        _, close = index.window(i)
        windows = chain([(slot, close)], calendar.spans(close, MAX_UTC))
    return chain.from_iterable(
        accumulate(repeat(step, (b - a - 1) // interval), operator.add, initial=from_seconds(a))
        for a, b in windows
    )


@dataclass(frozen=True, slots=True)
class CallSlot:
    """A planned first attempt: customer ``customer_index`` (its position in the
    customer list) is called at ``at``; ``at`` is None when it gets no slot, and
    ``note`` says why (a repeated number, or no callable time left)."""

    customer_index: int
    phone: str
    at: datetime | None
    customer: Customer = field(repr=False)
    note: str | None = None
    attempt: int = 1


def plan(
    campaign: Campaign, customers: Iterable[object] | None, start: int | None
) -> Iterator[CallSlot]:
    """The first attempt of every customer, in customer order (see ``Campaign.plan``)."""
    source: Iterable[object] = campaign.customers if customers is None else customers
    if campaign.recipient_hours is not None:  # each customer's own hours: sharing.py
        from .sharing import plan_shared

        yield from plan_shared(campaign, source, start)
        return
    if campaign.scheduling_mode == "spread":
        instants = _spread(campaign, source, start)
    else:
        instants = slot_datetimes(
            campaign.calendar, campaign.slot_table, campaign.call_interval_seconds, start
        )
    for index, customer, first in read_customers(source):
        if not first:
            yield CallSlot(index, customer.phone, None, customer, REPEAT)
            continue
        at = next(instants, None)
        yield CallSlot(
            index, customer.phone, at, customer, None if at is not None else NO_TIME_LEFT
        )


def _spread(campaign: Campaign, source: Iterable[object], start: int | None) -> Iterator[datetime]:
    """Instants spread evenly over the callable time from ``start`` to the end.

    With C callable seconds and N customers, customer i (counting distinct numbers)
    is called C * i // N callable seconds after the start, or i * I when C // N is
    less than the interval I; positions past the end get no instant.
    """
    if not isinstance(source, Sized) or iter(source) is source:  # type: ignore[comparison-overlap]
        raise TypeError(
            "schedulingMode 'spread' needs the customers as a sequence: it counts them "
            "before it places the first call"
        )
    count = sum(1 for _, _, first in read_customers(source) if first)
    first_second = MIN_UTC if start is None else start
    spans = list(campaign.calendar.spans(first_second, MAX_UTC))
    callable_seconds = sum(b - a for a, b in spans)
    interval = campaign.call_interval_seconds
    positions = (
        (i * callable_seconds // count for i in range(count))
        if count and callable_seconds // count >= interval
        else (i * interval for i in range(count))
    )
    passed = 0  # callable seconds in the windows before the current one
    windows = iter(spans)
    a, b = next(windows, (0, 0))
    for position in positions:
        while position >= passed + (b - a):
            passed += b - a
            nxt = next(windows, None)
            if nxt is None:
                return
            a, b = nxt
        yield from_seconds(a + position - passed)
