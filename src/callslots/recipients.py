"""Recipient-local calling hours: each customer's own zones and callable set.

With ``recipientHours`` a call is allowed only when the customer's own wall clock
is inside that daily window too (docs/compliance.md, section 2).  A customer's
callable set is

    the campaign's callable set  ∩  the recipient window in each of its zones,

each recipient window read with exactly the rules of docs/semantics.md (a
calendar of its own, every day active, no start and no end).  Customers with the
same zones share one :class:`RecipientView`.

The intersection is found by leapfrogging: ask each calendar for its first
callable second at or after ``u`` and move ``u`` to the latest answer until all
agree.  Where the sets never meet, that alone would walk window by window to the
end of time, so between steps the search skips ahead.  While no zone changes its
offset (a *stretch*), each set is a fixed pattern shifted into UTC: the
recipient hours repeat every day, and a campaign day's window depends only on
the window the day is given (its weekday's, or a date rule's).  So whether the
window of a day can meet the recipient hours at all is decided once per stretch's
offsets and per distinct window, by arithmetic on one day; the search then jumps
to the first day from ``u`` on whose window can meet them (a few bisections in
the date rules, however many there are), or to the end of the stretch.  After
every zone's last listed transition and the last dated rule, the whole picture
repeats every 400 years, which bounds the search.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from .config import Settings
from .explain import Explanation, explain
from .outcomes import Outcome
from .retry import RetryDecision, decide
from .tz import CYCLE, DAY, MAX_UTC, load_zone
from .windows import (
    Calendar,
    Hours,
    Window,
    clip_windows,
    day_date,
    from_micros,
    from_seconds,
    local_date,
    periodic_point,
    split_seconds,
    to_seconds,
)

__all__ = ["RecipientView", "Views"]


@cache
def recipient_calendar(key: str, hours: Hours) -> Calendar:
    """The recipient window ``hours`` every day in zone ``key``, unbounded."""
    return Calendar.build(load_zone(key), (hours,) * 7, None, None, None)


def _periodic_from(campaign: Calendar, calendars: tuple[Calendar, ...]) -> int:
    """An instant after which the callable set repeats every 400 years: the
    campaign's and every recipient calendar's :func:`periodic_point` (the weekly
    pattern repeats too: 146,097 days are 20,871 weeks)."""
    return min(MAX_UTC, max(periodic_point(c) for c in (campaign, *calendars)))


def _daily(span: tuple[int, int], offset: int) -> list[tuple[int, int]]:
    """A daily window (local seconds after midnight; the end may pass 24 h) as UTC
    seconds of the day, ``[a, b)`` pieces within ``[0, DAY)``, under ``offset``."""
    first, end = span
    if end - first >= DAY:
        return [(0, DAY)]
    a = (first - offset) % DAY
    b = a + end - first
    return [(a, b)] if b <= DAY else [(a, DAY), (0, b - DAY)]


def _meet(pieces: list[tuple[int, int]], others: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The intersection of two sets of pieces of one day."""
    return sorted(
        (max(a, c), min(b, d)) for a, b in pieces for c, d in others if max(a, c) < min(b, d)
    )


@dataclass(frozen=True, slots=True)
class _Meeting:
    """Under one tuple of offsets: the weekdays (bit set, bit 0 = Monday) whose weekly
    window can meet the recipient hours, and the date rules' windows that can."""

    weekdays: int
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True, eq=False)
class RecipientView:
    """The callable set of the customers whose zones are ``zones``: the campaign's,
    cut to ``recipientHours`` on each zone's wall clock.  It answers the campaign's
    questions (``windows``, ``is_callable``, ``next_callable``, ``day_of``,
    ``retry``, ``explain``) for those customers, under the campaign's contract
    (docs/semantics.md, sections 5 and 6) applied to this set, with the same
    errors."""

    #: The campaign's settings and its compiled calendar (the set this view cuts).
    settings: Settings = field(repr=False)
    base: Calendar = field(repr=False)
    zones: tuple[str, ...]
    calendars: tuple[Calendar, ...] = field(repr=False)
    #: After this instant the set repeats every 400 years (:func:`_periodic_from`).
    periodic_from: int = field(default=MAX_UTC, repr=False)
    #: How the zones were found, when a person should hear of it (a fallback).
    note: str | None = None
    #: Which windows can meet the recipient hours, by offsets (campaign zone first):
    #: made on first use, shared by the views of the same zones.
    meetings: dict[tuple[int, ...], _Meeting] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, settings: Settings, base: Calendar, zones: tuple[str, ...]) -> RecipientView:
        hours = settings.recipient_hours
        if hours is None or not zones:  # no recipient hours: the campaign's own set
            return cls(settings, base, (), ())
        calendars = tuple(recipient_calendar(z, hours) for z in zones)
        return cls(settings, base, zones, calendars, _periodic_from(base, calendars))

    # -- seconds ------------------------------------------------------------

    def callable_at(self, u: int) -> bool:
        return self.base.is_callable(u) and all(c.is_callable(u) for c in self.calendars)

    def next_second(self, u: int, first_day: int | None = None) -> int | None:
        """The first second ``>= u`` callable for these customers (in a campaign
        window of a day ``>= first_day``), or None."""
        campaign = self.base
        others = self.calendars
        limit = max(u, self.periodic_from) + CYCLE  # see _periodic_from
        while u < limit:
            found = campaign.next_callable(u, first_day)
            if found is None:
                return None
            agreed = True
            for calendar in others:
                there = calendar.next_callable(found)
                if there is None:
                    return None
                if there != found:
                    found, agreed = there, False
            if agreed:
                return found
            # Nothing is callable in [u, found): skip on to the first window that
            # can meet the recipient hours before the offsets change.
            u = self._resume(found, first_day)
        return None

    def _resume(self, u: int, first_day: int | None) -> int:
        """Where the search goes on from ``u``: ``u`` itself, or the start of the first
        campaign window from ``u`` on (of a day ``>= first_day``) that can meet the
        recipient hours under the offsets in force at ``u``, or the end of those
        offsets when none can.  Sound because within a stretch of constant offsets
        the sets are fixed patterns: a window that cannot meet them there does not."""
        calendar = self.base
        _, end, offsets = self._stretch(u)
        meeting = self.meetings.get(offsets)
        if meeting is None:
            meeting = self.meetings[offsets] = self._meeting(offsets)
        offset, rules = offsets[0], calendar.rules
        day = max((u + offset) // DAY - 1, calendar.first_day)
        if first_day is not None:
            day = max(day, first_day)
        while day <= calendar.last_day:
            found: int | None = None
            if meeting.weekdays:
                if rules is None:
                    found = day
                    while not meeting.weekdays >> ((found + 3) % 7) & 1:
                        found += 1
                else:
                    found = rules.next_free(day, meeting.weekdays)
            if rules is not None:
                for span in meeting.spans:
                    ruled = rules.next_with(day, span)
                    if ruled is not None and (found is None or ruled < found):
                        found = ruled
            if found is None or found > calendar.last_day:
                return max(u, end)
            window = calendar.span_of(found)
            assert window is not None
            if found * DAY + window[1] - offset <= u:  # that window is over: the next
                day = found + 1
                continue
            return max(u, min(end, found * DAY + window[0] - offset))
        return max(u, end)

    def _stretch(self, u: int) -> tuple[int, int, tuple[int, ...]]:
        """The stretch around ``u`` where no zone involved changes its offset, and
        the offsets there (the campaign zone's first)."""
        first, end, offset = self.base.zone.segment_at(u)
        offsets = [offset]
        for calendar in self.calendars:
            a, b, offset = calendar.zone.segment_at(u)
            first, end = max(first, a), min(end, b)
            offsets.append(offset)
        return first, end, tuple(offsets)

    def _meeting(self, offsets: tuple[int, ...]) -> _Meeting:
        """Which campaign windows can meet the recipient hours under ``offsets``."""
        calendar = self.base
        hours: list[tuple[int, int]] = [(0, DAY)]
        for other, offset in zip(self.calendars, offsets[1:], strict=True):
            span = other.week[0]  # the recipient window, every day alike
            assert span is not None
            hours = _meet(hours, _daily(span, offset))

        def meets(span: tuple[int, int] | None) -> bool:
            if span is None:
                return False
            first, end = span[0] - offsets[0], span[1] - offsets[0]  # UTC, that day
            return any(
                a + k * DAY < end and first < b + k * DAY
                for a, b in hours
                for k in range(first // DAY - 1, end // DAY + 2)
            )

        weekdays = sum(1 << w for w in range(7) if meets(calendar.week[w]))
        rules = calendar.rules
        spans = set() if rules is None else {s for s in rules.spans if s is not None and meets(s)}
        return _Meeting(weekdays, tuple(sorted(spans)))

    def spans(self, first: int, end: int) -> Iterator[tuple[int, int]]:
        """The callable set inside ``[first, end)`` as maximal ``(start, end)`` seconds."""
        u = first
        while u < end:
            a = self.next_second(u)
            if a is None or a >= end:
                return
            # The recipients' windows first: they last a day at most, and the
            # campaign's (which may run for centuries) is then read no further.
            b = end
            for calendar in (*self.calendars, self.base):
                b = _window_end(calendar, a, b)
            yield a, b
            u = b

    # -- the campaign's questions ---------------------------------------------

    def day_second(self, u: int) -> int:
        """The day (number) owning UTC second ``u`` in this set: the campaign's day
        whose window holds it when ``u`` is callable here, else ``u``'s local date."""
        calendar = self.base
        if self.callable_at(u):
            return calendar.day_of(u)
        return calendar.local_day(u)

    def windows(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[Window]:
        """Like ``Campaign.windows``, for these customers: this set inside ``[start,
        end)``, cut there exactly, as maximal disjoint windows in order; ``Window.day``
        is the campaign's day that owns the window's start."""
        owner, key = self.base.owner, self.base.zone.key

        def whole(first: int, last: int) -> Iterator[Window]:
            for a, b in self.spans(first, last):
                day = owner(a)
                assert day is not None
                yield Window(from_seconds(a), from_seconds(b), day_date(day), key)

        return clip_windows(whole, start, end)

    def is_callable(self, t: datetime) -> bool:
        """Whether ``t`` is callable for these customers."""
        return self.callable_at(to_seconds(t))

    def next_callable(self, t: datetime) -> datetime | None:
        """``t`` itself when callable for these customers, else the start of their
        next window; None when none remains."""
        u, micros = split_seconds(t)
        found = self.next_second(u)
        if found is None:
            return None
        return from_micros(u, micros) if found == u else from_seconds(found)

    def day_of(self, t: datetime) -> date:
        """Like ``Campaign.day_of``, on this set: the campaign's day owning the window
        that contains ``t`` when ``t`` is callable for these customers, else ``t``'s
        local date in the campaign zone.  ValueError when that date is outside the
        years 1-9999."""
        return local_date(self.day_second(to_seconds(t)), t)

    def retry(
        self,
        outcome: Outcome | str,
        attempt: int,
        ended_at: datetime,
        *,
        started_at: datetime | None = None,
    ) -> RetryDecision:
        """``Campaign.retry``'s rule on this set: the due time is searched in these
        customers' callable time, and with ``next_day`` the attempt's day is
        :meth:`day_of` ``(started_at or ended_at)``."""
        return decide(
            self.settings,
            self.base,
            outcome,
            attempt,
            ended_at,
            started_at,
            search=self.next_second,
            owner=self.day_second,
        )

    def explain(self, t: datetime) -> Explanation:
        """``campaign.explain(t, customer)`` for these customers."""
        return explain(
            self.settings, self.base, t, tuple(zip(self.zones, self.calendars, strict=True))
        )


def _window_end(calendar: Calendar, u: int, limit: int) -> int:
    """The end of ``calendar``'s window that contains callable second ``u``, or
    ``limit`` when that is sooner (the window is not read past it)."""
    for _, b in calendar.spans(u, limit):
        return b
    return u  # not reached for a callable u below limit


@dataclass(eq=False)
class Views:
    """The views of one campaign, one per zone set, made on first use (thread-safe)."""

    settings: Settings
    base: Calendar
    made: dict[tuple[str, ...], RecipientView] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __reduce__(self) -> tuple[type[Views], tuple[Settings, Calendar]]:
        return (Views, (self.settings, self.base))  # made again on first use after unpickling

    def get(self, zones: tuple[str, ...]) -> RecipientView:
        view = self.made.get(zones)
        if view is None:
            with self.lock:
                view = self.made.get(zones)
                if view is None:
                    view = self.made[zones] = RecipientView.build(self.settings, self.base, zones)
        return view
