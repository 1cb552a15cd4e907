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
end of time, so it is bounded: while every zone's offset stays constant and no
date rule is near, both sets repeat every week, so a week and a day examined with
nothing found means nothing is found until an offset changes or a dated rule
comes, and the search jumps there (and remembers those offsets as empty).  After
every zone's last listed transition and the last dated rule, the whole picture
repeats every 400 years, which bounds the search.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from .customers import Customer
from .errors import ConfigError, Problem
from .tz import CYCLE, DAY, MAX_UTC, load_zone, zone_names
from .windows import (
    Calendar,
    Hours,
    Window,
    clip_windows,
    day_date,
    from_micros,
    from_seconds,
    local_date,
    split_seconds,
    to_seconds,
)

if TYPE_CHECKING:
    from .campaign import Campaign
    from .explain import Explanation
    from .outcomes import Outcome
    from .retry import RetryDecision

__all__ = ["PHONE_INSTALL", "MissingPhoneNumbers", "RecipientView", "zones_of"]

PHONE_INSTALL = "pip install 'callslots[phone]'"
#: A week and a day: long enough that a weekly pattern has shown all of itself,
#: overnight windows included.
_EXAMINED = 8 * DAY


@cache
def recipient_calendar(key: str, hours: Hours) -> Calendar:
    """The recipient window ``hours`` every day in zone ``key``, unbounded."""
    return Calendar.build(load_zone(key), (hours,) * 7, None, None, None)


@lru_cache(maxsize=65536)
def zones_by_number(phone: str) -> tuple[str, ...]:
    """The zones ``phonenumbers`` gives for ``phone`` that this tz database knows."""
    import phonenumbers  # the optional extra, imported only when needed
    from phonenumbers import timezone as number_zones

    try:
        parsed = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return ()
    known = zone_names()
    found = number_zones.time_zones_for_number(parsed)
    return tuple(sorted({z for z in found if z in known}))


class MissingPhoneNumbers(ConfigError):
    """A customer's zone must come from its number, and ``phonenumbers`` is missing."""


def zones_of(
    customer: Customer, campaign_zone: str, path: str
) -> tuple[tuple[str, ...], str | None]:
    """The customer's zones, and a note when the campaign's zone stands in.

    ``properties.timezone`` (an IANA name) when given; else the zones of the phone
    number (``phonenumbers``); else the campaign's zone, and the note says so (a
    warning).  A ConfigError names ``path`` for a bad ``timezone`` property, and
    :class:`MissingPhoneNumbers` for a missing ``phonenumbers`` package.
    """
    given = customer.properties.get("timezone")
    if given is not None:
        if not isinstance(given, str) or given not in zone_names():
            shown = repr(given) if isinstance(given, str) else type(given).__name__
            raise ConfigError(
                [Problem(f"{path}.properties.timezone", f"{shown} is not an IANA time zone name")]
            )
        return (given,), None
    try:
        found = zones_by_number(customer.phone)
    except ImportError:
        raise MissingPhoneNumbers(
            [
                Problem(
                    path,
                    "recipientHours needs this customer's time zone: give properties.timezone, "
                    f"or install the optional phonenumbers package ({PHONE_INSTALL}) to find "
                    "it from the number",
                )
            ]
        ) from None
    if not found:
        return (campaign_zone,), (
            f"no time zone is known for {customer.phone}; the campaign's ({campaign_zone}) "
            "is used for its recipient hours"
        )
    return found, None


def _periodic_from(campaign: Calendar, calendars: tuple[Calendar, ...]) -> int:
    """An instant after which the callable set repeats every 400 years: every zone
    is past its listed transitions (its offsets repeat by 400-year cycles or stay
    constant), the campaign is past its start and its dated rules, and the weekly
    pattern repeats too (146,097 days are 20,871 weeks)."""
    last = max(campaign.start_at, campaign.first_day * DAY)
    for calendar in (campaign, *calendars):
        zone = calendar.zone
        last = max(last, zone.table_end if zone.cycle_from is not None else zone.starts[-1])
        if calendar.rules is not None:
            last = max(last, (calendar.rules.lasts[-1] + 2) * DAY)
    return min(last, MAX_UTC)


@dataclass(frozen=True, slots=True, eq=False)
class RecipientView:
    """The callable set of the customers whose zones are ``zones``: the campaign's,
    cut to ``recipientHours`` on each zone's wall clock.  It answers the campaign's
    questions (``windows``, ``is_callable``, ``next_callable``, ``retry``,
    ``explain``) for those customers."""

    campaign: Campaign = field(repr=False)
    zones: tuple[str, ...]
    calendars: tuple[Calendar, ...] = field(repr=False)
    #: After this instant the set repeats every 400 years (:func:`_periodic_from`).
    periodic_from: int = field(default=MAX_UTC, repr=False)
    #: How the zones were found, when a person should hear of it (a fallback).
    note: str | None = None
    #: Offsets (campaign zone first) under which the sets were seen never to meet.
    empty_offsets: set[tuple[int, ...]] = field(default_factory=set, repr=False)

    @classmethod
    def build(cls, campaign: Campaign, zones: tuple[str, ...]) -> RecipientView:
        hours = campaign.recipient_hours
        if hours is None or not zones:  # no recipient hours: the campaign's own set
            return cls(campaign, (), ())
        calendars = tuple(recipient_calendar(z, hours) for z in zones)
        return cls(campaign, zones, calendars, _periodic_from(campaign.calendar, calendars))

    # -- seconds ------------------------------------------------------------

    def callable_at(self, u: int) -> bool:
        return self.campaign.calendar.is_callable(u) and all(
            c.is_callable(u) for c in self.calendars
        )

    def next_second(self, u: int, first_day: int | None = None) -> int | None:
        """The first second ``>= u`` callable for these customers (in a campaign
        window of a day ``>= first_day``), or None."""
        campaign = self.campaign.calendar
        others = self.calendars
        limit = max(u, self.periodic_from) + CYCLE  # see _periodic_from
        empty = self.empty_offsets
        entered = u  # where the examination of the current stretch began
        stretch: tuple[int, int] | None = None
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
            u = found
            # Nothing is callable in [entered, u).  Inside one stretch of constant
            # offsets and away from dated rules the sets repeat weekly, so a week
            # and a day with nothing means nothing until the stretch ends, and the
            # same offsets anywhere else give nothing either.
            first, end, offsets = self._stretch(u)
            if offsets in empty:
                target = self._regular_until(u, end, first_day, 0)
                if target is not None and target > u:
                    u = entered = target
                    stretch = None
                    continue
            if stretch != (first, end):
                stretch, entered = (first, end), max(u, first)
                continue
            if u - entered >= _EXAMINED:
                target = self._regular_until(entered, end, first_day, _EXAMINED)
                if target is not None:
                    empty.add(offsets)
                    if target > u:
                        u = entered = target
                        stretch = None
        return None

    def _stretch(self, u: int) -> tuple[int, int, tuple[int, ...]]:
        """The stretch around ``u`` where no zone involved changes its offset, and
        the offsets there."""
        first, end, offset = self.campaign.calendar.zone.segment_at(u)
        offsets = [offset]
        for calendar in self.calendars:
            a, b, offset = calendar.zone.segment_at(u)
            first, end = max(first, a), min(end, b)
            offsets.append(offset)
        return first, end, tuple(offsets)

    def _regular_until(
        self, entered: int, end: int, first_day: int | None, needed: int
    ) -> int | None:
        """How far the sets repeat weekly after ``entered`` (up to ``end``, the end of
        the constant-offset stretch): None when the days from ``entered`` for
        ``needed`` seconds are not regular (a dated rule, the range's first day, or
        the start instant among them)."""
        campaign = self.campaign.calendar
        if entered < campaign.start_at:
            return None
        target = end
        for calendar in (campaign, *self.calendars):
            offset = calendar.zone.offset_at(entered)
            first_local = (entered + offset) // DAY - 1
            if first_local < calendar.first_day or (
                calendar is campaign and first_day is not None and first_local < first_day
            ):
                return None
            rules = calendar.rules
            ruled = rules.next_day(first_local) if rules is not None else None
            if ruled is not None:
                # A rule may change the pattern from the evening before it on.
                stop = (ruled - 1) * DAY - offset
                if stop <= entered + needed:
                    return None
                target = min(target, stop)
        return target

    def spans(self, first: int, end: int) -> Iterator[tuple[int, int]]:
        """The callable set inside ``[first, end)`` as maximal ``(start, end)`` seconds."""
        u = first
        while u < end:
            a = self.next_second(u)
            if a is None or a >= end:
                return
            b = min(
                _window_end(self.campaign.calendar, a),
                *(_window_end(c, a) for c in self.calendars),
                end,
            )
            yield a, b
            u = b

    # -- the campaign's questions ---------------------------------------------

    def day_second(self, u: int) -> int:
        """The day (number) owning UTC second ``u`` in this set: the campaign's day
        whose window holds it when ``u`` is callable here, else ``u``'s local date."""
        calendar = self.campaign.calendar
        if self.callable_at(u):
            return calendar.day_of(u)
        return calendar.local_day(u)

    def windows(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[Window]:
        """Like ``Campaign.windows``, for these customers: this set inside ``[start,
        end)``, cut there exactly, as maximal disjoint windows in order; ``Window.day``
        is the campaign's day that owns the window's start."""
        owner = self.campaign.calendar.owner

        def whole(first: int, last: int) -> Iterator[Window]:
            for a, b in self.spans(first, last):
                day = owner(a)
                assert day is not None
                yield Window(from_seconds(a), from_seconds(b), day_date(day))

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
        from .retry import decide

        return decide(
            self.campaign,
            outcome,
            attempt,
            ended_at,
            started_at,
            search=self.next_second,
            owner=self.day_second,
        )

    def explain(self, t: datetime) -> Explanation:
        """``campaign.explain(t, customer)`` for these customers."""
        from .explain import explain

        return explain(self.campaign, t, self)


def _window_end(calendar: Calendar, u: int) -> int:
    """The end of ``calendar``'s window that contains callable second ``u``."""
    for _, b in calendar.spans(u, MAX_UTC):
        return b
    return u  # not reached for a callable u


@dataclass(eq=False)
class Views:
    """The views of one campaign, one per zone set, made on first use (thread-safe)."""

    campaign: Campaign
    made: dict[tuple[str, ...], RecipientView] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __reduce__(self) -> tuple[type[Views], tuple[Campaign]]:
        return (Views, (self.campaign,))  # made again on first use after unpickling

    def get(self, zones: tuple[str, ...]) -> RecipientView:
        view = self.made.get(zones)
        if view is None:
            with self.lock:
                view = self.made.get(zones)
                if view is None:
                    view = self.made[zones] = RecipientView.build(self.campaign, zones)
        return view
