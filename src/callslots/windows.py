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

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from .tz import DAY, MAX_UTC, MIN_UTC, Zone, days_from_civil

__all__ = ["Calendar", "Hours", "Window", "from_seconds", "to_seconds"]

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = 719163  # date(1970, 1, 1).toordinal()
#: The local days a campaign may own: those a ``date`` can represent.
FIRST_DAY = days_from_civil(1, 1, 1)
LAST_DAY = days_from_civil(9999, 12, 31)
WEEK = 7 * DAY


def to_seconds(t: datetime, name: str = "t") -> int:
    """Whole UTC seconds of an aware datetime, rounded down (exact, no floats)."""
    if not isinstance(t, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(t).__name__}")
    if t.tzinfo is None or t.utcoffset() is None:
        raise TypeError(
            f"{name} is a naive datetime ({t.isoformat()}); pass an aware one, "
            "for example t.replace(tzinfo=timezone.utc)"
        )
    delta = t - _EPOCH
    return delta.days * DAY + delta.seconds


def from_seconds(u: int) -> datetime:
    """The aware UTC datetime of whole UTC second ``u``."""
    return _EPOCH + timedelta(seconds=u)


def day_date(n: int) -> date:
    """The date of local day ``n`` (days since 1970-01-01)."""
    return date.fromordinal(n + _EPOCH_ORDINAL)


def day_number(d: date) -> int:
    return d.toordinal() - _EPOCH_ORDINAL


def _weekday(n: int) -> int:
    return (n + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday


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

    def __str__(self) -> str:
        return f"{clock(self.start)}-{clock(self.end)}"


def clock(seconds: int) -> str:
    """``HH:MM`` or ``HH:MM:SS`` for seconds after midnight (86400 is ``24:00``)."""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:02d}:{m:02d}:{s:02d}" if s else f"{h:02d}:{m:02d}"


@dataclass(frozen=True, slots=True)
class Window:
    """A maximal interval ``[start, end)`` of callable time, in UTC.

    ``day`` is the local date that owns ``start``: the earliest active day whose
    own window contains it.
    """

    start: datetime
    end: datetime
    day: date

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def _covers_every_second(week: tuple[tuple[int, int] | None, ...]) -> bool:
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


@dataclass(frozen=True, slots=True)
class Calendar:
    """The compiled callable set of one campaign.

    ``week[w]`` is the window span of weekday ``w`` (0 = Monday) or None when the
    day is inactive; days ``first_day..last_day`` (day numbers, inclusive) may be
    active; no instant before ``start_at`` (UTC seconds) is callable.
    """

    zone: Zone
    week: tuple[tuple[int, int] | None, ...]
    first_day: int
    last_day: int
    start_at: int
    around_the_clock: bool

    @classmethod
    def build(
        cls,
        zone: Zone,
        week: tuple[Hours | None, ...],
        first_day: int | None,
        last_day: int | None,
        start_at: int | None,
    ) -> Calendar:
        spans = tuple(None if h is None else h.span for h in week)
        return cls(
            zone=zone,
            week=spans,
            first_day=FIRST_DAY if first_day is None else max(first_day, FIRST_DAY),
            last_day=LAST_DAY if last_day is None else min(last_day, LAST_DAY),
            start_at=MIN_UTC if start_at is None else start_at,
            around_the_clock=_covers_every_second(spans),
        )

    # -- local time ---------------------------------------------------------

    def _runs(self, x: int, first_day: int) -> Iterator[tuple[int, int]]:
        """Maximal local stretches ``(first, end)`` of the windows of active days
        ``>= first_day``, in order, from the one containing or following local
        second ``x``.  Starts one day before ``x`` (an overnight window may still
        be open); never walks more than a week past a gap."""
        week, last = self.week, self.last_day
        d = max(x // DAY - 1, first_day)
        run_first = run_end = -1
        open_run = False
        while d <= last:
            span = week[(d + 3) % 7]
            if span is not None:
                first, end = d * DAY + span[0], d * DAY + span[1]
                if open_run and first <= run_end:
                    run_end = max(run_end, end)
                else:
                    if open_run:
                        yield run_first, run_end
                        open_run = False
                    if end > x:
                        run_first, run_end, open_run = first, end, True
            d += 1
            if (
                open_run
                and self.around_the_clock
                and run_end >= d * DAY
                and d > first_day
                and last - d > 3
            ):
                # Every wall-clock second is covered, so the run cannot end before
                # the last days: jump there instead of walking (see _covers_every_second).
                run_end = max(run_end, (last - 1) * DAY)
                d = last - 2
        if open_run:
            yield run_first, run_end

    def _owner(self, x: int, first_day: int) -> int | None:
        """The earliest active day ``>= first_day`` whose window contains local ``x``."""
        n = x // DAY
        for d in (n - 1, n):
            if first_day <= d <= self.last_day:
                span = self.week[(d + 3) % 7]
                if span is not None and span[0] <= x - d * DAY < span[1]:
                    return d
        return None

    # -- UTC ----------------------------------------------------------------

    def pieces(
        self, first: int, end: int, first_day: int | None = None
    ) -> Iterator[tuple[int, int]]:
        """Maximal callable intervals ``[a, b)`` inside ``[first, end)``, in order.

        With ``first_day``, only windows of days ``>= first_day`` count.
        """
        zone = self.zone
        lo_day = self.first_day if first_day is None else max(first_day, self.first_day)
        u = max(first, self.start_at, MIN_UTC)
        # No window ends after local (last_day + 2) * DAY, hence nothing after this:
        end = min(end, MAX_UTC, (self.last_day + 2) * DAY - zone.min_offset)
        cur_first = cur_end = None
        while u < end:
            _, seg_end, offset = zone.segment_at(u)
            stop = min(seg_end, end)
            for run_first, run_end in self._runs(u + offset, lo_day):
                a = run_first - offset
                if a >= stop:
                    break
                a = max(a, u)
                b = min(run_end - offset, stop)
                if a == cur_end:  # touches the previous piece across a segment boundary
                    cur_end = b
                else:
                    if cur_end is not None:
                        yield cur_first, cur_end  # type: ignore[misc]
                    cur_first, cur_end = a, b
                u = b
                if b >= stop:
                    break
            u = max(u, stop)
        if cur_end is not None:
            yield cur_first, cur_end  # type: ignore[misc]

    def owner(self, u: int, first_day: int | None = None) -> int | None:
        """The owning day of callable UTC second ``u``, or None if none owns it."""
        lo_day = self.first_day if first_day is None else max(first_day, self.first_day)
        return self._owner(u + self.zone.offset_at(u), lo_day)

    def local_day(self, u: int) -> int:
        return (u + self.zone.offset_at(u)) // DAY

    def is_callable(self, u: int) -> bool:
        if u < self.start_at or not MIN_UTC <= u < MAX_UTC:
            return False
        return self.owner(u) is not None

    def next_callable(self, u: int, first_day: int | None = None) -> int | None:
        for first, _ in self.pieces(u, MAX_UTC, first_day):
            return first
        return None
