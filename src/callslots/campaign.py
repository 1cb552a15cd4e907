"""The campaign: validated settings plus the questions a dialer asks of them."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timezone
from typing import Any

from . import config
from .customers import customer_from
from .dates import DayRule
from .errors import Problem
from .explain import Explanation, explain
from .outcomes import Outcome
from .recipients import RecipientView, Views, zones_of
from .retry import RetryDecision, decide
from .slots import CallSlot, SlotIndex, plan, slot_datetimes, slot_seconds
from .tz import MAX_UTC, MIN_UTC, load_zone
from .windows import (
    Calendar,
    Hours,
    Window,
    clip_windows,
    day_number,
    from_micros,
    from_seconds,
    local_date,
    split_seconds,
    to_seconds,
)

__all__ = ["Campaign"]

UTC = timezone.utc


@dataclass(frozen=True, slots=True)
class Campaign(config.Settings):
    """An immutable, hashable, picklable campaign schedule.

    Build one with :meth:`from_dict`.  Every method is a pure function of the
    campaign and its arguments, so one object may be shared by any number of
    threads.  Datetimes passed in must be aware (a naive one is a TypeError);
    datetimes returned are aware UTC.
    """

    warnings: tuple[Problem, ...] = field(default=(), compare=False, repr=False)
    calendar: Calendar = field(init=False, compare=False, repr=False)
    slot_table: SlotIndex = field(init=False, compare=False, repr=False)
    views: Views = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        try:
            zone = load_zone(self.timezone)
        except KeyError:
            raise ValueError(f"unknown IANA timezone {self.timezone!r}") from None
        calendar = Calendar.build(
            zone,
            tuple(self.hours_on(weekday) for weekday in range(7)),
            day_number(self.start_date) if self.start_date else None,
            day_number(self.end_date) if self.end_date else None,
            to_seconds(self.start_at) if self.start_at else None,
            self.date_rules(),
        )
        object.__setattr__(self, "calendar", calendar)
        object.__setattr__(self, "slot_table", SlotIndex(calendar, self.call_interval_seconds))
        object.__setattr__(self, "views", Views(self))

    def date_rules(self) -> tuple[tuple[int, int, Hours | None], ...]:
        """The per-date rules as ``(first, last, hours)`` day-number ranges, in order
        of precedence (docs/compliance.md): date schedules, then blackouts (dates,
        then recurrence rules), then holidays."""
        scheduled = [(day_number(d), day_number(d), h) for d, h in self.date_hours]
        blacked: list[tuple[int, int, Hours | None]] = [
            (day_number(a), day_number(b), None) for a, b in self.blackouts
        ]
        for rule in self.blackout_rules:
            blacked += rule.day_ranges()
        if self.holidays is not None:
            blacked += [(day_number(d), day_number(d), None) for d, _ in self.holidays.dates]
        return (*scheduled, *blacked)

    def day_rule(self, day: date) -> DayRule:
        """The window local date ``day`` owns (campaign zone) and the rule that decided
        it, in the order of docs/compliance.md, section 1."""
        weekday = config.WEEKDAYS[day.weekday()]
        # An immediate start cuts the time line at an instant, not at a date: the
        # days before it keep their windows (explain() names the start instant).
        first = self.start_date
        if first is not None and day < first:
            return DayRule(
                day, None, "before start", f"{day} is before the campaign starts ({first})"
            )
        if self.end_date is not None and day > self.end_date:
            return DayRule(day, None, "after end", f"{day} is after endDate ({self.end_date})")
        if day_number(day) in self.calendar.zone.skipped_days:
            return DayRule(
                day,
                None,
                "skipped",
                f"{day} never happens in {self.timezone} (skipped by the zone)",
            )
        i = bisect_left(self.date_hours, day, key=lambda entry: entry[0])  # sorted by date
        if i < len(self.date_hours) and self.date_hours[i][0] == day:
            own = self.date_hours[i][1]
            return DayRule(
                day, own, "dateSchedules", f"{day} has its own window {own} (dateSchedules)"
            )
        i = bisect_right(self.blackouts, (day, date.max)) - 1  # sorted, disjoint ranges
        if i >= 0 and self.blackouts[i][0] <= day <= self.blackouts[i][1]:
            a, b = self.blackouts[i]
            span = "" if a == b else f", in {a} to {b}"
            return DayRule(
                day, None, "blackoutDates", f"{day} is blacked out (blackoutDates{span})"
            )
        for k, recurring in enumerate(self.blackout_rules):
            if recurring.names(day):
                return DayRule(
                    day,
                    None,
                    "blackoutRules",
                    f"{day} is blacked out (blackoutRules.{k}: {recurring.label})",
                )
        name = self.holidays.name_of(day) if self.holidays else None
        if name is not None:
            assert self.holidays is not None
            return DayRule(
                day, None, "holiday", f"{day} is {name} (holidays {self.holidays.label})"
            )
        hours = self.hours_on(day.weekday())
        if hours is None:
            return DayRule(day, None, "inactive weekday", f"{weekday} is not in activeDays")
        return DayRule(day, hours, "weekly", f"{weekday}'s window is {hours}")

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any], *, now: datetime | None = None) -> Campaign:
        """Build a campaign from a create-campaign request body (camelCase keys), or
        from the campaign object of the API's response (``data.result.campaign``; the
        whole response is refused with a ConfigError naming that path).

        Without ``startDate`` the campaign starts at ``now`` (an aware datetime;
        default: the current time), rounded up to a whole second.  Raises
        :class:`~callslots.ConfigError` listing every problem in the payload, also
        for a start that cannot be represented (docs/campaign.md).
        """
        settings, warnings = config.parse(payload, now)
        values = {f.name: getattr(settings, f.name) for f in fields(config.Settings)}
        return cls(**values, warnings=warnings)

    def to_dict(self) -> dict[str, Any]:
        """The normalized scheduling fields, every default filled in (JSON-ready)."""
        return config.to_payload(self)

    # -- calling windows ----------------------------------------------------

    def windows(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[Window]:
        """The callable time inside ``[start, end)`` as maximal disjoint windows, in order.

        Lazy; without ``end`` and ``endDate`` it runs on to the end of the time line.
        Any aware bounds are accepted, also ones outside the time line.
        """
        return clip_windows(self.calendar.windows, start, end)

    def is_callable(self, t: datetime) -> bool:
        """Whether a call may be placed at instant ``t``."""
        return self.calendar.is_callable(to_seconds(t))

    def next_callable(self, t: datetime) -> datetime | None:
        """``t`` itself when callable, else the start of the next window; None if none remains."""
        u, micros = split_seconds(t)
        found = self.calendar.next_callable(u)
        if found is None:
            return None
        return from_micros(u, micros) if found == u else from_seconds(found)

    def day_of(self, t: datetime) -> date:
        """The local day owning the window that contains ``t`` (the earliest, where an
        overnight window and the next day's window overlap), else ``t``'s local date.

        Raises ValueError when that local date is outside the years 1-9999 (``t``
        within hours of the ends of the time line).
        """
        return local_date(self.calendar.day_of(to_seconds(t)), t)

    def explain(self, t: datetime, customer: object = None) -> Explanation:
        """Why ``t`` is or is not callable (for ``customer``, when given: a phone
        string, a ``Customer`` or a ``{phoneNumber, properties}`` mapping): the
        window it is in, or every rule that keeps it out (docs/compliance.md).  Any
        aware ``t`` is explained: outside the time line its one reason is ``out of
        range`` (and ``.at`` is ``t`` as given, which UTC cannot hold)."""
        view = None if customer is None else self.for_customer(customer)
        return explain(self, t, view)

    def for_customer(self, customer: object) -> RecipientView:
        """The campaign as ``customer`` sees it: the same questions (``windows``,
        ``is_callable``, ``next_callable``, ``day_of``, ``retry``, ``explain``)
        answered under the same contract on its callable set, the campaign's cut to
        ``recipientHours`` in its zones.
        Customers with the same zones share one view; without ``recipientHours``
        the view's set is the campaign's."""
        person = customer_from(customer, "customer")
        if self.recipient_hours is None:
            return self.views.get(())
        zones, note = zones_of(person, self.timezone, "customer")
        view = self.views.get(zones)
        if note is not None:  # the campaign's zone stands in: say so on this view
            view = replace(view, note=note)  # the same tables: `meetings` is shared
        return view

    # -- slots and pacing -------------------------------------------------------

    def slots(self, start: datetime | None = None) -> Iterator[datetime]:
        """The call-start grid, lazily: inside every window, its opening and then
        every ``callIntervalSeconds`` before it closes.  With ``start``, the slots at
        or after it (on the same grid)."""
        return slot_datetimes(
            self.calendar, self.slot_table, self.call_interval_seconds, _ceil(start)
        )

    def slot_seconds(self, start: datetime | None = None) -> Iterator[int]:
        """:meth:`slots` as integer UTC epoch seconds, for bulk consumers."""
        return slot_seconds(
            self.calendar, self.slot_table, self.call_interval_seconds, _ceil(start)
        )

    def slot_at(self, k: int) -> datetime | None:
        """The ``k``-th slot of the campaign (from 0), or None past its end (however
        large ``k``); ValueError for a negative ``k``."""
        found = self.slot_table.slot_at(k)
        return None if found is None else from_seconds(found[0])

    def slot_index(self, t: datetime) -> int:
        """How many slots come before ``t``: the index of ``t`` when it is a slot, and
        the index of the first slot after it otherwise."""
        u = _ceil(t, "t")
        assert u is not None
        return self.slot_table.slot_index(u)

    def plan(
        self, customers: Iterable[object] | None = None, start: datetime | None = None
    ) -> Iterator[CallSlot]:
        """The first attempt of every customer, in customer order, lazily.

        ``customers``: the payload's when None, else any iterable of E.164 strings,
        ``Customer`` objects or ``{phoneNumber, properties}`` mappings (a generator
        of millions is fine for ``even``; ``spread`` needs a sequence).  Every
        customer appears exactly once: with ``at`` None and a ``note`` when it gets
        no slot.
        """
        return plan(self, customers, _ceil(start))

    # -- retries ------------------------------------------------------------

    def retry(
        self,
        outcome: Outcome | str,
        attempt: int,
        ended_at: datetime,
        *,
        started_at: datetime | None = None,
    ) -> RetryDecision:
        """Whether and when to retry after ``attempt`` (1 = first call) ended with ``outcome``.

        A due time past the end of the time line is "no callable time remains".
        ValueError for an ``attempt`` that is not a whole number from 1, a
        ``started_at`` after ``ended_at`` and an unknown outcome name.
        """
        return decide(self, outcome, attempt, ended_at, started_at)


def _ceil(t: datetime | None, name: str = "start") -> int | None:
    """Whole UTC seconds of ``t`` rounded up (slots are whole seconds), kept within the
    time line: no slot lies outside it, so an earlier ``t`` means its first second
    and a later one its last."""
    if t is None:
        return None
    u, micros = split_seconds(t, name)
    return max(MIN_UTC, min(u + (1 if micros else 0), MAX_UTC))
