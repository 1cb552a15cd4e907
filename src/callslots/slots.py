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

from .customers import Customer, read_customers
from .tz import CYCLE, DAY, MAX_UTC, MIN_UTC
from .weekly import WEEK, Rotation
from .windows import Calendar, from_seconds, periodic_point

__all__ = ["CallSlot", "SlotIndex", "plan"]

#: Why a customer in a plan has no slot.
REPEAT = "repeat of an earlier number: dialed once"
NO_TIME_LEFT = "no callable time left: the campaign ends first"


@dataclass(frozen=True, slots=True)
class _Block:
    """Slots in ``count`` windows that repeat weekly: window ``i`` is run ``i % n`` of
    the week ``i // n`` after ``base``, run ``j`` being ``[base + starts[j], base +
    ends[j])`` in UTC seconds (:meth:`Calendar._block`).  Counted in closed form."""

    base: int
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    #: ``prefix[j]``: slots in the runs before run ``j`` of one week; ``prefix[n]``
    #: is a whole week's.  Strictly increasing: every window holds a slot.
    prefix: tuple[int, ...]
    count: int
    interval: int

    @classmethod
    def of(cls, monday: int, count: int, offset: int, rotation: Rotation, interval: int) -> _Block:
        runs = rotation.runs
        prefix = [0]
        for first, end, _, _ in runs:
            prefix.append(prefix[-1] + -(-(end - first) // interval))
        return cls(
            monday * DAY - offset,
            tuple(run[0] for run in runs),
            tuple(run[1] for run in runs),
            tuple(prefix),
            count,
            interval,
        )

    @property
    def total(self) -> int:
        n = len(self.starts)
        return self.count // n * self.prefix[n] + self.prefix[self.count % n]

    def slots_before(self, u: int) -> int:
        """Slots of the block before UTC second ``u`` (at or after its first window)."""
        n, starts = len(self.starts), self.starts
        week, rel = divmod(u - self.base - starts[0], WEEK)
        rel += starts[0]
        j = bisect_right(starts, rel) - 1
        if week * n + j >= self.count:
            return self.total
        inside = -(-(min(rel, self.ends[j]) - starts[j]) // self.interval)
        return week * self.prefix[n] + self.prefix[j] + inside

    def locate(self, k: int) -> tuple[int, int]:
        """``(slot, close)``: the block's slot ``k`` (below :attr:`total`) and the end
        of its window."""
        prefix = self.prefix
        week, rest = divmod(k, prefix[-1])
        j = bisect_right(prefix, rest) - 1
        shift = self.base + week * WEEK
        return shift + self.starts[j] + (rest - prefix[j]) * self.interval, shift + self.ends[j]


class _Ledger:
    """The slots of the windows from one anchor on, counted as far as asked: one entry
    per window of a general stretch, one per block of weekly windows (counted in
    closed form), with the number of slots before each entry."""

    __slots__ = ("_parts", "base", "before", "done", "entries", "interval", "opens", "total")

    def __init__(self, calendar: Calendar, interval: int, first: int, before: int) -> None:
        # `first` is not inside a window (the campaign's start, or an opening).
        self._parts = calendar.stretches(first, MAX_UTC)
        self.interval = interval
        self.opens = array("q")  # the first window opening of each entry
        self.before = array("q")  # slots before each entry, counted from the time line's start
        self.entries: list[tuple[int, int] | _Block] = []
        self.base = before  # slots before `first`
        self.total = before  # slots before the end of the last entry
        self.done = False

    def grow(self) -> None:
        """Take the next stretch of windows."""
        part = next(self._parts, None)
        if part is None:
            self.done = True
            return
        interval = self.interval
        if isinstance(part, tuple):
            block = _Block.of(*part, interval)
            self.opens.append(block.base + block.starts[0])
            self.before.append(self.total)
            self.entries.append(block)
            self.total += block.total
            return
        for a, b, _ in part:
            self.opens.append(a)
            self.before.append(self.total)
            self.entries.append((a, b))
            self.total += -(-(b - a) // interval)

    def count(self, u: int) -> int:
        """Slots before UTC second ``u``."""
        while not self.done and (not self.opens or self.opens[-1] <= u):
            self.grow()
        i = bisect_right(self.opens, u) - 1
        if i < 0:
            return self.base
        entry = self.entries[i]
        if type(entry) is tuple:
            a, b = entry
            return self.before[i] + -(-(min(u, b) - a) // self.interval)
        return self.before[i] + entry.slots_before(u)  # type: ignore[union-attr]

    def locate(self, k: int) -> tuple[int, int] | None:
        """``(slot, close)`` of slot ``k`` and the end of its window, or None past the end."""
        while self.total <= k and not self.done:
            self.grow()
        if k >= self.total:
            return None
        i = bisect_right(self.before, k) - 1
        entry = self.entries[i]
        if type(entry) is tuple:  # a window (the test is cheaper than isinstance)
            a, b = entry
            return a + (k - self.before[i]) * self.interval, b
        return entry.locate(k - self.before[i])  # type: ignore[union-attr]


@dataclass(frozen=True, slots=True)
class _Fold:
    """Past ``anchor`` (a window opening) the slots repeat every 400 years: slot ``k``
    at or after it is ``per_cycle`` slots before its image a cycle later.  That holds
    up to ``far`` (a whole number of cycles on, where the campaign's last days come
    near); ``before_anchor`` and ``before_far`` count the slots before each."""

    anchor: int
    before_anchor: int
    per_cycle: int
    far: int
    before_far: int


class SlotIndex:
    """Random access into a campaign's slot grid, at a cost that does not grow with
    the distance from the campaign's start.

    The windows are counted from the campaign's start as far as a question needs:
    a window at a time where the offset changes or a dated rule falls, a whole block
    of weeks at a time in between (closed form).  Once every zone transition the
    tz database lists and every dated rule are behind, the callable set repeats
    every 400 years (146,097 days: a whole number of weeks, and the period of the
    zone's rule), so one cycle is counted and the cycles after it are folded onto
    it; the last cycle before the end of the time line (or ``endDate``) is counted
    on its own.  So any question costs at most about two cycles of counting, once
    (a few thousand entries for a zone with daylight saving time), then a
    bisection.  Questions are answered under a lock, so one campaign may be asked
    from many threads.
    """

    __slots__ = ("_calendar", "_fold", "_interval", "_lock", "_main", "_planned", "_tail")

    def __init__(self, calendar: Calendar, interval: int) -> None:
        self._calendar = calendar
        self._interval = interval
        self._main = _Ledger(calendar, interval, MIN_UTC, 0)
        self._fold: _Fold | None = None
        self._tail: _Ledger | None = None
        self._planned = False
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[type[SlotIndex], tuple[Calendar, int]]:
        return (SlotIndex, (self._calendar, self._interval))  # rebuilt lazily after unpickling

    @property
    def entries(self) -> int:
        """How many entries the index holds: the work done so far (for tests)."""
        tail = 0 if self._tail is None else len(self._tail.entries)
        return len(self._main.entries) + tail

    def _plan(self) -> None:
        """Find the fold, once: the first window opening after the point from which
        the callable set repeats, and how many slots one cycle holds."""
        self._planned = True
        calendar, main = self._calendar, self._main
        periodic = periodic_point(calendar)
        # Windows of days after the last one start no earlier than this; before it
        # the callable set is the periodic one.
        agree = min(MAX_UTC, (calendar.last_day + 1) * DAY - calendar.zone.max_offset)
        if periodic + 3 * CYCLE > agree:
            return  # less than three cycles: counting them all is as cheap
        while not main.done and (not main.opens or main.opens[-1] <= periodic + 1):
            main.grow()
        i = bisect_right(main.opens, periodic + 1)
        if i == len(main.opens):
            return  # no window opens after that point: the ledger holds them all
        anchor = main.opens[i]
        cycles = (agree - 1 - anchor) // CYCLE
        if cycles < 2:
            return
        before_anchor = main.count(anchor)
        per_cycle = main.count(anchor + CYCLE) - before_anchor
        far = anchor + cycles * CYCLE
        self._fold = _Fold(
            anchor, before_anchor, per_cycle, far, before_anchor + cycles * per_cycle
        )

    def slot_index(self, u: int) -> int:
        """How many slots come before UTC second ``u``."""
        with self._lock:
            if not self._planned:
                self._plan()
            fold = self._fold
            if fold is None or u <= fold.anchor + CYCLE:
                return self._main.count(u)
            if u < fold.far:
                cycles, rest = divmod(u - fold.anchor, CYCLE)
                return self._main.count(fold.anchor + rest) + cycles * fold.per_cycle
            return self._tail_ledger(fold).count(u)

    def slot_at(self, k: int) -> tuple[int, int] | None:
        """``(slot, close)``: the ``k``-th slot (from 0) and the end of its window, or
        None past the last slot."""
        if k < 0:
            raise ValueError(f"slot numbers start at 0, not {k}")
        with self._lock:
            if not self._planned:
                self._plan()
            fold = self._fold
            if fold is None or k < fold.before_anchor + fold.per_cycle:
                return self._main.locate(k)
            if k < fold.before_far:
                cycles, rest = divmod(k - fold.before_anchor, fold.per_cycle)
                found = self._main.locate(fold.before_anchor + rest)
                assert found is not None
                shift = cycles * CYCLE
                return found[0] + shift, found[1] + shift
            return self._tail_ledger(fold).locate(k)

    def _tail_ledger(self, fold: _Fold) -> _Ledger:
        if self._tail is None:  # `far` is a window opening: the count restarts there
            self._tail = _Ledger(self._calendar, self._interval, fold.far, fold.before_far)
        return self._tail


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
    slot, close = found
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
        slot, close = found
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
    calendar: Calendar,
    table: SlotIndex,
    interval: int,
    spread: bool,
    source: Iterable[object],
    start: int | None,
) -> Iterator[CallSlot]:
    """The first attempt of every customer of ``source``, in customer order, on the
    ``even`` grid or ``spread`` (see ``Campaign.plan``; without recipient hours)."""
    if spread:
        instants = _spread(calendar, interval, source, start)
    else:
        instants = slot_datetimes(calendar, table, interval, start)
    for index, customer, first in read_customers(source):
        if not first:
            yield CallSlot(index, customer.phone, None, customer, REPEAT)
            continue
        at = next(instants, None)
        yield CallSlot(
            index, customer.phone, at, customer, None if at is not None else NO_TIME_LEFT
        )


def _spread(
    calendar: Calendar, interval: int, source: Iterable[object], start: int | None
) -> Iterator[datetime]:
    """Instants spread evenly over the callable time from ``start`` to the end.

    With C callable seconds and N customers, customer i (counting distinct numbers)
    is called C * i // N callable seconds after the start, or i * I when C // N is
    less than the interval I; positions past the end get no instant.  The callable
    seconds are counted, and each position found, with a :class:`SlotIndex` of
    one-second slots: its cost does not grow with the distance to ``endDate``.
    """
    if not isinstance(source, Sized) or iter(source) is source:  # type: ignore[comparison-overlap]
        raise TypeError(
            "schedulingMode 'spread' needs the customers as a sequence: it counts them "
            "before it places the first call"
        )
    count = sum(1 for _, _, first in read_customers(source) if first)
    seconds = SlotIndex(calendar, 1)  # one slot per callable second
    before = seconds.slot_index(MIN_UTC if start is None else start)
    callable_seconds = seconds.slot_index(MAX_UTC) - before
    positions = (
        (i * callable_seconds // count for i in range(count))
        if count and callable_seconds // count >= interval
        else (i * interval for i in range(count))
    )
    for position in positions:
        if position >= callable_seconds:
            return
        found = seconds.slot_at(before + position)
        assert found is not None
        yield from_seconds(found[0])
