"""The weekly schedule in local time: runs of windows, and the week that repeats.

Everything here is wall-clock arithmetic in "local seconds" (seconds since
1970-01-01T00:00 on the wall clock, so local day ``n`` starts at ``n * 86400``) and
knows nothing of time zones; :mod:`callslots.windows` maps the results into UTC.

* A *run* is a maximal stretch of local time covered by the windows of active days;
  windows that overlap or touch (an overnight window and the next morning's) form one.
* :func:`walk` finds the runs day by day, starting at the day of the instant asked
  about.
* The runs of an unbounded campaign repeat every week: :func:`template` computes one
  week of them, and :func:`rotations` prepares the steps that let the caller make
  whole weeks of windows by adding a week at a time.
"""

from __future__ import annotations

import heapq
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise

from .tz import DAY, days_from_civil

__all__ = [
    "WEEK",
    "DateRules",
    "Rotation",
    "Run",
    "covers_every_second",
    "rotations",
    "template",
    "walk",
]

WEEK = 7 * DAY
#: A day's window in local seconds after its midnight (the end may pass 24 h), or
#: None for no window.
Span = tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class DateRules:
    """Days whose window is not the weekly one: sorted, disjoint, inclusive ranges of
    day numbers ``firsts[i]..lasts[i]``, each with the window ``spans[i]`` of every
    day in it (None: no window, for a blackout or a day the zone skips).

    Ranges, not single days, so that a blackout of years costs one entry and the
    walks below jump over it instead of stepping through it.
    """

    firsts: tuple[int, ...] = ()
    lasts: tuple[int, ...] = ()
    spans: tuple[Span, ...] = ()
    #: Lookup tables made on first use by :meth:`next_free` and :meth:`next_with`
    #: (made twice at worst when two threads race: the same tables either way).
    _gaps: dict[int, array[int]] = field(default_factory=dict, compare=False, repr=False)
    _by_span: dict[Span, tuple[tuple[int, ...], tuple[int, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, ranges: Iterable[tuple[int, int, Span]]) -> DateRules:
        """From ``(first, last, span)`` ranges; where ranges overlap, the one listed
        first wins for the days they share.

        A sweep over the days where some range starts or ends, with a heap of the
        ranges in force ordered by their place in the list: O(n log n).
        """
        listed = [r for r in ranges if r[0] <= r[1]]
        if not listed:
            return cls()
        by_first = sorted(range(len(listed)), key=lambda i: listed[i][0])
        edges = sorted({r[0] for r in listed} | {r[1] + 1 for r in listed})
        in_force: list[int] = []  # indexes into listed: the smallest wins
        merged: list[tuple[int, int, Span]] = []
        k = 0
        for x, following in pairwise(edges):
            while k < len(by_first) and listed[by_first[k]][0] <= x:
                heapq.heappush(in_force, by_first[k])
                k += 1
            while in_force and listed[in_force[0]][1] < x:  # ended: drop it
                heapq.heappop(in_force)
            if not in_force:
                continue
            span = listed[in_force[0]][2]
            if merged and merged[-1][1] + 1 == x and merged[-1][2] == span:
                merged[-1] = (merged[-1][0], following - 1, span)  # same window: join
            else:
                merged.append((x, following - 1, span))
        return cls(
            tuple(m[0] for m in merged), tuple(m[1] for m in merged), tuple(m[2] for m in merged)
        )

    def find(self, d: int) -> int:
        """The index of the range holding day ``d``, or -1."""
        i = bisect_right(self.firsts, d) - 1
        return i if i >= 0 and d <= self.lasts[i] else -1

    def next_day(self, d: int) -> int | None:
        """The first day ``>= d`` that has a rule, or None."""
        i = bisect_left(self.lasts, d)
        if i == len(self.lasts):
            return None
        first = self.firsts[i]
        return first if first > d else d

    def clear(self, first: int, last: int) -> bool:
        """Whether no day of ``first..last`` has a rule."""
        found = self.next_day(first)
        return found is None or found > last

    def next_free(self, d: int, weekdays: int) -> int | None:
        """The first day ``>= d`` that has no rule and whose weekday is in ``weekdays``
        (a bit set, bit 0 = Monday); None when ``weekdays`` is empty.

        In O(log n): the free days between two ranges are a *gap*, and a table made
        once per ``weekdays`` (O(n)) names, for every gap, the first gap from it on
        that holds one of those weekdays.
        """
        if not weekdays:
            return None
        firsts, lasts = self.firsts, self.lasts
        n = len(firsts)
        i = bisect_right(firsts, d) - 1  # the last range starting at or before d
        if i < 0 or d > lasts[i]:  # d is free: try the rest of its own gap first
            gap_last = firsts[i + 1] - 1 if i + 1 < n else d + 6
            for day in range(d, min(d + 6, gap_last) + 1):
                if weekdays >> ((day + 3) % 7) & 1:
                    return day
            i += 1  # then the gaps after the next range
            if i == n:  # pragma: no cover - a free week holds every weekday
                return None
        following = self._following_gaps(weekdays)[i]
        day = lasts[following] + 1  # the gap after range `following` holds one
        while not weekdays >> ((day + 3) % 7) & 1:
            day += 1
        return day

    def _following_gaps(self, weekdays: int) -> array[int]:
        """For each range ``i``: the first ``j >= i`` whose following gap holds a day
        whose weekday is in ``weekdays`` (the gap after the last range holds all)."""
        table = self._gaps.get(weekdays)
        if table is None:
            firsts, lasts = self.firsts, self.lasts
            n = len(firsts)
            table = array("q", bytes(8 * n))
            following = n - 1
            table[n - 1] = following
            for i in range(n - 2, -1, -1):
                first_free, free = lasts[i] + 1, firsts[i + 1] - lasts[i] - 1
                if free >= 7 or any(
                    weekdays >> ((first_free + k + 3) % 7) & 1 for k in range(free)
                ):
                    following = i
                table[i] = following
            self._gaps[weekdays] = table
        return table

    def next_with(self, d: int, span: Span) -> int | None:
        """The first day ``>= d`` whose rule gives it the window ``span``, or None."""
        found = self._by_span.get(span)
        if found is None:
            chosen = [i for i, s in enumerate(self.spans) if s == span]
            found = self._by_span[span] = (
                tuple(self.firsts[i] for i in chosen),
                tuple(self.lasts[i] for i in chosen),
            )
        firsts, lasts = found
        i = bisect_left(lasts, d)
        if i == len(lasts):
            return None
        return max(d, firsts[i])


def covers_every_second(week: tuple[Span, ...]) -> bool:
    """Whether the weekly windows together cover all 7 x 24 hours of wall clock."""
    spans: list[tuple[int, int]] = []
    for weekday, span in enumerate(week):
        if span is not None:
            first, end = weekday * DAY + span[0], weekday * DAY + span[1]
            spans.append((first, min(end, WEEK)))
            if end > WEEK:  # Sunday's overnight window wraps onto Monday
                spans.append((0, end - WEEK))
    reach = 0
    for first, end in sorted(spans):
        if first > reach:
            return False
        reach = max(reach, end)
    return reach >= WEEK


#: A local run: ``(first, end, owner, last)`` in local seconds / day numbers:
#: the stretch ``[first, end)``, the day whose window starts it, and the last
#: day whose window is part of it.
Run = tuple[int, int, int, int]
_MONDAY = days_from_civil(2001, 1, 1)  # any Monday far from the ends of time


def walk(
    week: tuple[Span, ...],
    x: int,
    first_day: int,
    last_day: int,
    around_the_clock: bool,
    rules: DateRules | None = None,
    stop_day: int | None = None,
) -> Iterator[Run]:
    """The runs of the windows of days ``first_day..last_day`` that end after local
    second ``x``, found day by day from the day before ``x``.

    A day's window is its rule's when ``rules`` has one for it, else its weekday's
    in ``week``.  With ``stop_day``, no run starting after that day is begun.  The
    walk never steps through a gap of more than a week: a range of days without a
    window is jumped over, and when the weekly windows cover every second an open
    run jumps to the last days (or to the next day with a rule).
    """
    d = max(x // DAY - 1, first_day)
    last_start = last_day if stop_day is None else min(stop_day, last_day)
    run_first = run_end = owner = contributor = 0
    open_run = False
    while d <= last_day:
        i = -1 if rules is None else rules.find(d)
        span = week[(d + 3) % 7] if rules is None or i < 0 else rules.spans[i]
        if span is not None:
            first, end = d * DAY + span[0], d * DAY + span[1]
            if open_run and first <= run_end:
                if end > run_end:
                    run_end = end
                contributor = d
            else:
                if open_run:
                    yield run_first, run_end, owner, contributor
                    open_run = False
                if d > last_start:
                    return
                if end > x:
                    run_first, run_end, owner, contributor = first, end, d, d
                    open_run = True
        elif not open_run and d > last_start:
            return
        elif rules is not None and i >= 0 and rules.lasts[i] > d + 1:
            # A range of days without a window: no window after it can join a run
            # open here (a window reaches at most into the next day), so the run
            # is whole; jump to the range's last day.
            if open_run:
                yield run_first, run_end, owner, contributor
                open_run = False
            d = rules.lasts[i]
        d += 1
        if open_run and around_the_clock and run_end >= d * DAY and d > first_day:
            # Every wall-clock second is covered, so the run goes on at least to
            # local midnight of day `target`: the days from d - 1 to target - 1 are
            # all in range and follow the weekly schedule.  Resume one day before it.
            target = last_day - 1
            if rules is not None:
                ruled = rules.next_day(d)
                if ruled is not None and ruled < target:
                    target = ruled
            if target - 1 - d > 1:
                run_end = max(run_end, target * DAY)
                d = target - 1
    if open_run:
        yield run_first, run_end, owner, contributor


def template(week: tuple[Span, ...]) -> tuple[Run, ...]:
    """The runs of an unbounded campaign that start in one week, relative to its
    Monday: every other week repeats them, shifted by whole weeks."""
    base = _MONDAY * DAY
    # Start well before the week: a run that began earlier (Sunday's whole day
    # running into Monday's) must be seen whole, or Monday would look like a start.
    # Without around-the-clock cover every run is shorter than 9 days.
    runs = walk(week, base - 9 * DAY, _MONDAY - 10, _MONDAY + 16, False, stop_day=_MONDAY + 6)
    return tuple(
        (first - base, end - base, owner - _MONDAY, last - _MONDAY)
        for first, end, owner, last in runs
        if base <= first
    )


@dataclass(frozen=True, slots=True)
class Rotation:
    """The template started at its ``j``-th run (earlier runs moved a week on),
    with the steps from each window to the next as timedeltas, so that a block
    of weeks is three ``accumulate`` calls."""

    runs: tuple[Run, ...]
    reach: int  # the last day any run draws on, counted from the Monday
    start_steps: tuple[timedelta, ...]
    end_steps: tuple[timedelta, ...]
    day_steps: tuple[timedelta, ...]


def rotations(template: tuple[Run, ...]) -> tuple[Rotation, ...]:
    found = []
    for j in range(len(template)):
        runs = template[j:] + tuple(
            (first + WEEK, end + WEEK, owner + 7, last + 7)
            for first, end, owner, last in template[:j]
        )
        following = [*runs[1:], tuple(v + (WEEK if k < 2 else 7) for k, v in enumerate(runs[0]))]
        found.append(
            Rotation(
                runs=runs,
                reach=max(run[3] for run in runs),
                start_steps=tuple(
                    timedelta(seconds=b[0] - a[0]) for a, b in zip(runs, following, strict=True)
                ),
                end_steps=tuple(
                    timedelta(seconds=b[1] - a[1]) for a, b in zip(runs, following, strict=True)
                ),
                day_steps=tuple(
                    timedelta(days=b[2] - a[2]) for a, b in zip(runs, following, strict=True)
                ),
            )
        )
    return tuple(found)
