"""Calling windows: the exact callable set of a campaign, in integer UTC seconds.

The rule (docs/semantics.md): an instant is callable when its wall clock in the
campaign zone falls in the window of an active day.  Wall clock = UTC + offset,
so inside one constant-offset segment of the zone (see :mod:`callslots.tz`) the
callable instants are the *local* callable stretches shifted by that segment's
offset.  Everything below follows from that one sentence:

* local stretches ("runs") come from the weekly schedule, one day at a time,
  starting at the day of the instant asked about (never at the campaign start);
* each run is mapped into UTC per segment, and pieces that touch at a segment
  boundary are merged.

A spring-forward gap is a stretch of local time no segment maps onto, so its
wall times are simply absent; a fall-back overlap is a stretch two segments
both map onto, so its wall times are callable twice.  No special cases.

Local time is counted as "local seconds": seconds since 1970-01-01T00:00 on the
wall clock, so local day ``n`` (days since 1970-01-01) starts at ``n * 86400``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import partial
from itertools import accumulate, chain, cycle, islice, starmap
from zoneinfo import ZoneInfo

from . import weekly
from .tz import DAY, MAX_UTC, MIN_UTC, Zone, days_from_civil
from .weekly import WEEK, DateRules, Rotation, Run, Span

__all__ = [
    "Calendar",
    "Hours",
    "Window",
    "clip_windows",
    "from_micros",
    "from_seconds",
    "periodic_point",
    "split_seconds",
    "to_seconds",
]

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()
#: The local days a campaign may own: those a ``date`` can represent.
FIRST_DAY = days_from_civil(1, 1, 1)
LAST_DAY = days_from_civil(9999, 12, 31)


def _checked(t: datetime, name: str) -> datetime:
    if not isinstance(t, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(t).__name__}")
    tz = t.tzinfo
    if tz is not UTC and (tz is None or t.utcoffset() is None):
        raise TypeError(
            f"{name} is a naive datetime ({t.isoformat()}); pass an aware one, "
            "for example t.replace(tzinfo=timezone.utc)"
        )
    return t


def to_seconds(t: datetime, name: str = "t") -> int:
    """Whole UTC seconds of an aware datetime, rounded down, exactly.

    Any aware datetime has an answer, also one whose UTC instant lies outside the
    time line (``datetime.min`` at +14:00 is in UTC year 0): the subtraction below
    never leaves integer arithmetic, so nothing overflows.
    """
    delta = _checked(t, name) - _EPOCH
    return delta.days * DAY + delta.seconds


def split_seconds(t: datetime, name: str = "t") -> tuple[int, int]:
    """``(whole UTC seconds rounded down, microseconds past them)`` of an aware
    datetime, exactly: the fraction of a second in UTC, which is not
    ``t.microsecond`` when the offset itself has microseconds."""
    delta = _checked(t, name) - _EPOCH
    return delta.days * DAY + delta.seconds, delta.microseconds


def from_micros(u: int, micros: int) -> datetime:
    """The aware UTC datetime ``micros`` microseconds after whole UTC second ``u``."""
    return from_seconds(u) + timedelta(microseconds=micros) if micros else from_seconds(u)


def from_seconds(u: int) -> datetime:
    """The aware UTC datetime of whole UTC second ``u``."""
    try:
        return datetime.fromtimestamp(u, UTC)
    except (OverflowError, OSError, ValueError):  # platforms with a narrow time_t
        return _EPOCH + timedelta(seconds=u)


def day_date(n: int) -> date:
    """The date of local day ``n`` (days since 1970-01-01)."""
    return date.fromordinal(n + _EPOCH_ORDINAL)


def local_date(n: int, t: datetime) -> date:
    """The date of local day ``n``, the answer of ``day_of(t)``; a ValueError naming
    ``t`` when no ``date`` can hold it (a local date in year 0 or 10000)."""
    if not FIRST_DAY <= n <= LAST_DAY:
        raise ValueError(f"{t.isoformat()} falls on a local date outside the years 1-9999")
    return day_date(n)


def periodic_point(calendar: Calendar) -> int:
    """A UTC second from which ``calendar``'s callable set repeats every 400 years
    (as far as its last day allows): its zone is past the transitions the tz
    database lists (the offsets then follow the zone's rule, which repeats every
    400 years, or stay fixed), and its start, first day and dated rules are behind,
    with a day to spare for any offset; 146,097 days are 20,871 weeks, so the
    weekly pattern repeats too."""
    zone, rules = calendar.zone, calendar.rules
    return max(
        calendar.start_at,
        (calendar.first_day + 2) * DAY,
        zone.cycle_from if zone.cycle_from is not None else zone.starts[-1],
        MIN_UTC if rules is None else (rules.lasts[-1] + 3) * DAY,
    )


def day_number(d: date) -> int:
    return d.toordinal() - _EPOCH_ORDINAL


@dataclass(frozen=True, slots=True, order=True)
class Hours:
    """A daily calling window on the wall clock, in seconds after local midnight.

    ``start`` is in ``[0, 86400)``, ``end`` in ``(0, 86400]`` (86400 is 24:00) and
    the two differ.  When ``start > end`` the window is *overnight*: it runs from
    ``start`` on its own day to ``end`` on the next day.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < DAY and 0 < self.end <= DAY and self.start != self.end):
            raise ValueError(f"invalid daily window {self.start}-{self.end}")

    @property
    def overnight(self) -> bool:
        """Whether the hours cross midnight (``start`` after ``end``)."""
        return self.start > self.end

    @property
    def span(self) -> tuple[int, int]:
        """``(start, end)`` in seconds after the owning day's midnight; end may pass 24 h."""
        return (self.start, self.end + DAY if self.overnight else self.end)

    @property
    def seconds(self) -> int:
        """Wall-clock length; the real length differs on days with a transition."""
        start, end = self.span
        return end - start

    @property
    def start_time(self) -> time:
        """The opening on the wall clock, as a ``datetime.time``."""
        return _time(self.start)

    @property
    def end_time(self) -> time:
        """The closing on the wall clock, as a ``datetime.time``; 24:00 (the end of
        the day) is ``time(0, 0)``, as the API writes it: ``00:00``."""
        return _time(self.end % DAY)

    def __str__(self) -> str:
        return f"{clock(self.start)}-{clock(self.end)}"


def _time(seconds: int) -> time:
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def clock(seconds: int) -> str:
    """``HH:MM`` or ``HH:MM:SS`` for seconds after midnight (86400 is ``24:00``)."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}" if s else f"{h:02d}:{m:02d}"


@dataclass(frozen=True, slots=True)
class Window:
    """A maximal interval ``[start, end)`` of callable time, in UTC.

    ``day`` is the local date that owns ``start``: the earliest active day whose
    own window contains it.  ``timezone`` is the campaign's zone, which
    :attr:`local_start` and :attr:`local_end` read the window in.
    """

    start: datetime
    end: datetime
    day: date
    timezone: str = "UTC"

    @property
    def duration(self) -> timedelta:
        """The window's real length, ``end - start`` (a clock change shows here)."""
        return self.end - self.start

    @property
    def local_start(self) -> datetime:
        """``start`` on the campaign's wall clock: an aware datetime in its zone.
        ValueError when that wall clock is past 9999-12-31 (a window at the very end
        of the time line, east of UTC)."""
        return _local(self.start, self.timezone)

    @property
    def local_end(self) -> datetime:
        """``end`` on the campaign's wall clock (see :attr:`local_start`)."""
        return _local(self.end, self.timezone)


def _local(t: datetime, key: str) -> datetime:
    try:
        return t.astimezone(ZoneInfo(key))
    except (OverflowError, ValueError):
        raise ValueError(f"{t} in {key} is a wall clock outside the years 1-9999") from None


def clip_windows(
    source: Callable[[int, int], Iterator[Window]],
    start: datetime | None,
    end: datetime | None,
) -> Iterator[Window]:
    """The windows ``source(first, last)`` gives in whole UTC seconds, cut exactly to
    ``[start, end)`` (None: no bound), fractions of a second included.

    The one place where bounds given as datetimes become seconds, so that the
    campaign and a customer's view clip alike.  The bounds are checked at the call
    (a naive one is a TypeError), not when the iterator is first advanced.
    """
    first, start_us = (MIN_UTC, 0) if start is None else split_seconds(start, "start")
    last, end_us = (MAX_UTC, 0) if end is None else split_seconds(end, "end")
    if start is not None and end is not None and (last, end_us) <= (first, start_us):
        return iter(())
    if end_us:
        last += 1  # [last - 1, last) holds callable instants before `end`
    if not start_us and not end_us:
        return source(first, last)
    return _clipped(source(first, last), first, start_us, last, end_us)


def _clipped(
    windows: Iterator[Window], first: int, start_us: int, last: int, end_us: int
) -> Iterator[Window]:
    # The source works in whole seconds; restore the exact bounds asked for.  A
    # window that starts at `first` began at or before `start` (it is cut there);
    # one that ends at `last` runs on past `end` (it is cut there too).
    for window in windows:
        if start_us:
            if to_seconds(window.start) == first:
                window = _make(
                    from_micros(first, start_us), window.end, window.day, window.timezone
                )
            start_us = 0
        if end_us and to_seconds(window.end) == last:
            window = _make(window.start, from_micros(last - 1, end_us), window.day, window.timezone)
        yield window


_ONE_WEEK = timedelta(weeks=1)
# Frozen dataclasses refuse attribute assignment; the slot descriptors make a
# Window in 0.66 us where its __init__ takes 1.1 us (timeit, Python 3.11, 2 cores):
# windows() of a weekly campaign is about 0.6 us a window in all (benchmarks/).
_SET_START = vars(Window)["start"].__set__
_SET_END = vars(Window)["end"].__set__
_SET_DAY = vars(Window)["day"].__set__
_SET_ZONE = vars(Window)["timezone"].__set__


def _make(start: datetime, end: datetime, day: date, timezone: str) -> Window:
    window: Window = object.__new__(Window)
    _SET_START(window, start)
    _SET_END(window, end)
    _SET_DAY(window, day)
    _SET_ZONE(window, timezone)
    return window


def _window(timezone: str, a: int, b: int, owner: int) -> Window:
    return _make(from_seconds(a), from_seconds(b), day_date(owner), timezone)


@dataclass(frozen=True, slots=True)
class Calendar:
    """The compiled callable set of one campaign.

    ``week[w]`` is the window span of weekday ``w`` (0 = Monday) or None when the
    day is inactive; ``rules`` overrides it for single dates and ranges (date
    schedules, blackouts, and the local days the zone never had); days
    ``first_day..last_day`` (day numbers, inclusive) may own windows; no instant
    before ``start_at`` (UTC seconds) is callable.  ``template`` holds the runs of
    one unbounded week (empty when the windows cover every second, which the day
    walk handles by jumping).
    """

    zone: Zone
    week: tuple[Span, ...]
    first_day: int
    last_day: int
    start_at: int
    around_the_clock: bool
    template: tuple[Run, ...]
    rotations: tuple[Rotation, ...]
    #: The template's runs of the week before, the week and the week after, and
    #: their ends: ``next_callable``'s lookup table (empty without a template).
    nearby: tuple[Run, ...]
    nearby_ends: tuple[int, ...]
    rules: DateRules | None  # None when there are none (a cheaper test in hot paths)
    #: No callable second at or after this one (end of the range or of time).
    horizon: int

    @classmethod
    def build(
        cls,
        zone: Zone,
        week: tuple[Hours | None, ...],
        first_day: int | None,
        last_day: int | None,
        start_at: int | None,
        dates: tuple[tuple[int, int, Hours | None], ...] = (),
    ) -> Calendar:
        """``dates``: ``(first, last, hours)`` ranges of days whose window is
        ``hours`` (None: no window), the first listed winning where they overlap.
        A day the zone skips owns no window whatever ``dates`` says."""
        spans = tuple(None if h is None else h.span for h in week)
        rules = DateRules.of(
            [(d, d, None) for d in sorted(zone.skipped_days)]
            + [(a, b, None if h is None else h.span) for a, b, h in dates]
        )
        around_the_clock = weekly.covers_every_second(spans)
        last = LAST_DAY if last_day is None else min(last_day, LAST_DAY)
        template = () if around_the_clock else weekly.template(spans)
        nearby = tuple(
            (first + k * WEEK, end + k * WEEK, owner + 7 * k, last + 7 * k)
            for k in (-1, 0, 1)
            for first, end, owner, last in template
        )
        return cls(
            zone=zone,
            week=spans,
            first_day=FIRST_DAY if first_day is None else max(first_day, FIRST_DAY),
            last_day=last,
            start_at=MIN_UTC if start_at is None else start_at,
            around_the_clock=around_the_clock,
            template=template,
            rotations=weekly.rotations(template),
            nearby=nearby,
            nearby_ends=tuple(run[1] for run in nearby),
            rules=rules if rules.firsts else None,
            # No window ends after local (last + 2) * DAY.
            horizon=min(MAX_UTC, (last + 2) * DAY - zone.min_offset),
        )

    # -- local time ---------------------------------------------------------

    def _runs(self, x: int) -> Iterator[Run]:
        """The local runs of active days that end after local second ``x``, in order."""
        return weekly.walk(
            self.week, x, self.first_day, self.last_day, self.around_the_clock, self.rules
        )

    def span_of(self, d: int) -> Span:
        """The window of day ``d`` in local seconds after its midnight, or None
        (ignoring the date range)."""
        rules = self.rules
        if rules is None:
            return self.week[(d + 3) % 7]
        i = rules.find(d)
        return self.week[(d + 3) % 7] if i < 0 else rules.spans[i]

    def _owner(self, x: int) -> int | None:
        """The earliest active day whose window contains local second ``x``."""
        n = x // DAY
        for d in (n - 1, n):
            if self.first_day <= d <= self.last_day:
                span = self.span_of(d)
                if span is not None and span[0] <= x - d * DAY < span[1]:
                    return d
        return None

    # -- UTC ----------------------------------------------------------------

    def _bounds(self, first: int, end: int) -> tuple[int, int]:
        """``[first, end)`` narrowed to where callable time can be at all: no window
        starts before local ``first_day * DAY`` or ends after ``(last_day + 2) * DAY``."""
        first = max(first, self.start_at, MIN_UTC, self.first_day * DAY - self.zone.max_offset)
        return first, min(end, self.horizon)

    def pieces(self, first: int, end: int) -> Iterator[tuple[int, int, int]]:
        """Maximal callable intervals ``(a, b, owner)`` inside ``[first, end)``, in
        order, with the day owning ``a``: the general path of :meth:`windows`."""
        zone = self.zone
        u, end = self._bounds(first, end)
        cur_first = cur_end = cur_owner = None
        while u < end:
            _, seg_end, offset = zone.segment_at(u)
            stop = seg_end if seg_end < end else end
            for run_first, run_end, owner, _ in self._runs(u + offset):
                a = run_first - offset
                if a >= stop:
                    # Nothing more in this segment.  When no later offset can bring
                    # the wall clock back before u's, nothing comes before this run
                    # either: a long gap (a blackout of years) is crossed at once.
                    if stop + zone.min_offset >= u + offset:
                        stop = max(stop, min(end, run_first - zone.max_offset))
                    break
                if a < u:  # clipped: the owner of the run's start may not own u
                    a = u
                    owner = self._owner(u + offset)  # type: ignore[assignment]
                b = run_end - offset
                if b > stop:
                    b = stop
                if a == cur_end:  # continues the previous piece across a segment boundary
                    cur_end = b
                else:
                    if cur_end is not None:
                        yield cur_first, cur_end, cur_owner  # type: ignore[misc]
                    cur_first, cur_end, cur_owner = a, b, owner
                u = b
                if b >= stop:
                    break
            if u < stop:
                u = stop
        if cur_end is not None:
            yield cur_first, cur_end, cur_owner  # type: ignore[misc]

    def windows(self, first: int, end: int) -> Iterator[Window]:
        """The callable set inside ``[first, end)`` as :class:`Window` values, in order.

        Where whole weeks lie inside one constant-offset segment and inside the
        date range, every week repeats the one before shifted by exactly one
        week, so those weeks are made by adding weeks to one week's windows (see
        :meth:`_block`); the rest comes from :meth:`pieces`.
        """
        return chain.from_iterable(
            self._repeat(*part)
            if isinstance(part, tuple)
            else starmap(partial(_window, self.zone.key), part)
            for part in self.stretches(first, end)
        )

    def spans(self, first: int, end: int) -> Iterator[tuple[int, int]]:
        """The same windows as :meth:`windows`, as ``(start, end)`` UTC seconds."""
        return chain.from_iterable(
            self._repeat_spans(*part) if isinstance(part, tuple) else ((a, b) for a, b, _ in part)
            for part in self.stretches(first, end)
        )

    def stretches(
        self, first: int, end: int
    ) -> Iterator[list[tuple[int, int, int]] | tuple[int, int, int, Rotation]]:
        """The callable set inside ``[first, end)`` in consecutive parts: lists of
        general pieces ``(a, b, owner)``, and blocks ``(monday, count, offset,
        rotation)`` of template windows (see :meth:`_block`)."""
        u, end = self._bounds(first, end)
        while u < end:
            block = self._block(u, end) if self.template else None
            if block is not None:
                block_start, block_end, *repeat = block
                yield list(self.pieces(u, block_start))
                yield tuple(repeat)  # type: ignore[misc]
                u = block_end
                continue
            # No week fits before the offset changes or a day with a rule: take
            # pieces up to the first one that reaches past the change, or past the
            # day after those rules, then look again.
            _, seg_end, offset = self.zone.segment_at(u)
            stop, rules = seg_end, self.rules
            ruled = rules.next_day((u + offset) // DAY - 1) if rules is not None else None
            if rules is not None and ruled is not None:
                stop = min(stop, (rules.lasts[rules.find(ruled)] + 2) * DAY - offset)
            pieces = []
            for a, b, owner in self.pieces(u, end):
                pieces.append((a, b, owner))
                u = b
                if b >= stop:
                    break
            else:
                yield pieces
                return
            yield pieces

    def _block(self, u: int, end: int) -> tuple[int, int, int, int, int, Rotation] | None:
        """The next stretch of at least a week of template windows from ``u``:
        ``(start, end, monday, count, offset, rotation)``, or None.

        ``rotation`` is the template begun at its first run at or after ``u``,
        ``monday`` the Monday its runs count from.  A week qualifies when all its
        runs lie inside the segment of ``u`` (one offset) and before ``end``, and
        every day they draw on is inside the date range: then its windows are the
        template's.
        """
        template = self.template
        _, seg_end, offset = self.zone.segment_at(u)
        x = max(u + offset, self.first_day * DAY)  # runs must start on an active day
        monday = x // DAY
        monday -= (monday + 3) % 7
        j = 0
        while j < len(template) and monday * DAY + template[j][0] < x:
            j += 1
        if j == len(template):  # every run of this week started before u: next week
            monday, j = monday + 7, 0
        rotation = self.rotations[j]
        runs, reach = rotation.runs, rotation.reach
        base = monday * DAY - offset
        # A run ending exactly at the change of offset may go on after it (one
        # window across a fall-back), so the block stops short of seg_end.
        limit, last_day = min(seg_end - 1, end), self.last_day
        # Whole weeks by arithmetic (runs are sorted, so the last one ends last) ...
        weeks = min(
            (limit - (base + runs[-1][1])) // WEEK + 1, (last_day - reach - monday) // 7 + 1
        )
        # A day with a rule, or the day before a run (whose window could reach into
        # it), ends the block: its windows are not the template's.  Days before the
        # block's first run do not count.
        rules = self.rules
        ruled = rules.next_day(monday + runs[0][2] - 1) if rules is not None else None
        if ruled is not None and ruled <= monday + (weeks - 1) * 7 + reach + 1:
            # the last whole week must end its days before the day before the rule
            weeks = min(weeks, (ruled - reach - 2 - monday) // 7 + 1)
        weeks = max(weeks, 0)
        # ... then the runs of the next week that still fit.
        count = weeks * len(runs)
        week_base, week_monday = base + weeks * WEEK, monday + weeks * 7
        for _, run_end, _, last in runs:
            if (
                week_base + run_end > limit
                or week_monday + last > last_day
                or (ruled is not None and ruled <= week_monday + last + 1)
            ):
                break
            count += 1
        if count < len(runs):  # not even a week: not worth it
            return None
        week, index = divmod(count - 1, len(runs))
        block_end = base + week * WEEK + runs[index][1]
        return base + runs[0][0], block_end, monday, count, offset, rotation

    def _repeat(self, monday: int, count: int, offset: int, rotation: Rotation) -> Iterator[Window]:
        """The first ``count`` windows of ``rotation`` repeated weekly from ``monday``,
        each found from the one before by adding a step (``accumulate``, in C)."""
        base = monday * DAY - offset
        first, end, owner, _ = rotation.runs[0]
        more = count - 1
        starts = accumulate(
            islice(cycle(rotation.start_steps), more), initial=from_seconds(base + first)
        )
        ends = accumulate(islice(cycle(rotation.end_steps), more), initial=from_seconds(base + end))
        days = accumulate(islice(cycle(rotation.day_steps), more), initial=day_date(monday + owner))
        new, set_start, set_end, set_day = object.__new__, _SET_START, _SET_END, _SET_DAY
        set_zone, key = _SET_ZONE, self.zone.key
        for start, end_, day in zip(starts, ends, days, strict=True):
            window = new(Window)
            set_start(window, start)
            set_end(window, end_)
            set_day(window, day)
            set_zone(window, key)
            yield window

    def _repeat_spans(
        self, monday: int, count: int, offset: int, rotation: Rotation
    ) -> Iterator[tuple[int, int]]:
        """The windows of :meth:`_repeat` as UTC seconds."""
        base = monday * DAY - offset
        runs = rotation.runs
        for week in range(-(-count // len(runs))):
            shift = base + week * WEEK
            for first, end, _, _ in runs[: count - week * len(runs)]:
                yield shift + first, shift + end

    def owner(self, u: int) -> int | None:
        """The day owning UTC second ``u`` (the earliest active day whose window
        contains it), or None when ``u`` is in no window."""
        return self._owner(u + self.zone.offset_at(u))

    def local_day(self, u: int) -> int:
        return (u + self.zone.offset_at(u)) // DAY

    def day_of(self, u: int) -> int:
        """The day owning ``u`` when it is callable, else ``u``'s local date."""
        x = u + self.zone.offset_at(u)  # one offset lookup serves both answers
        owner = self._owner(x) if u >= self.start_at and MIN_UTC <= u < MAX_UTC else None
        return x // DAY if owner is None else owner

    def is_callable(self, u: int) -> bool:
        if u < self.start_at or not MIN_UTC <= u < MAX_UTC:
            return False
        return self.owner(u) is not None

    def next_callable(self, u: int, first_day: int | None = None) -> int | None:
        """The first callable second ``>= u`` (in a window of a day ``>= first_day``).

        The first window, in day order, that ends after the wall clock of ``u``
        gives the answer unless the zone's offset changes first; then the search
        goes on from the change.  Written without generators or helpers: it is
        the hot path of retries.
        """
        zone, week, last_day, rules = self.zone, self.week, self.last_day, self.rules
        lo_day = self.first_day
        if first_day is not None and first_day > lo_day:
            lo_day = first_day
        earliest = lo_day * DAY - zone.max_offset  # no window of a day >= lo_day before this
        if u < earliest:
            u = earliest
        if u < self.start_at:
            u = self.start_at
        end = self.horizon
        starts, ends, offsets = zone.starts, zone.ends, zone.offsets
        nearby, nearby_ends = self.nearby, self.nearby_ends
        while u < end:
            if zone.table_first <= u < zone.table_end:  # zone.segment_at, inlined
                i = bisect_right(starts, u) - 1
                seg_end, offset = ends[i], offsets[i]
            else:
                _, seg_end, offset = zone.segment_at(u)
            x = u + offset
            limit = (seg_end if seg_end < end else end) + offset  # local end of this segment
            if nearby:
                # One bisection in the weekly template finds the first run ending
                # after x; it is the answer when every day it draws on is in range
                # and no day between the run's start and x (or the day before x)
                # has a rule.
                monday = x // DAY
                monday -= (monday + 3) % 7
                first_rel, _, owner, last = nearby[bisect_right(nearby_ends, x - monday * DAY)]
                if (
                    monday + owner >= lo_day
                    and monday + last <= last_day
                    and (
                        rules is None
                        or rules.clear(
                            min(monday + owner, x // DAY - 1), max(monday + owner, x // DAY)
                        )
                    )
                ):
                    first = monday * DAY + first_rel
                    if first < limit:
                        return u if first <= x else first - offset
                    u = seg_end
                    continue
            d = x // DAY - 1
            if d < lo_day:
                d = lo_day
            while d <= last_day and d * DAY < limit:
                k = -1 if rules is None else rules.find(d)
                if rules is None or k < 0:
                    span = week[(d + 3) % 7]
                else:
                    span = rules.spans[k]
                    if span is None:  # a range of days without a window: past it
                        d = rules.lasts[k] + 1
                        if d * DAY >= limit and seg_end + zone.min_offset >= x:
                            # and past this segment: no later offset brings the wall
                            # clock back before x, and no window of a day from d
                            # starts before d's midnight in any offset
                            seg_end = max(seg_end, d * DAY - zone.max_offset)
                        continue
                if span is not None and d * DAY + span[1] > x:
                    first = d * DAY + span[0]
                    if first < limit:
                        return u if first <= x else first - offset
                    break
                d += 1
            u = seg_end
        return None
