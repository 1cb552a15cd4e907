"""Explanations: why an instant is, or is not, callable.

:func:`explain` re-reads the rules of docs/semantics.md and docs/compliance.md for
one instant and names each one that decides it, with its values in local time.  It
answers from the same compiled calendar as ``is_callable`` (so the verdict always
agrees with it) and from :func:`day_rule` for the words.  It is meant for
people and logs, not for hot paths.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .config import WEEKDAYS, Settings
from .dates import DayRule
from .jurisdiction import Cut
from .tz import DAY, MAX_UTC, MIN_UTC, Zone, civil_from_days
from .windows import (
    FIRST_DAY,
    LAST_DAY,
    Calendar,
    clock,
    day_date,
    day_number,
    from_micros,
    from_seconds,
    split_seconds,
)

__all__ = ["RULES", "Explanation", "Reason", "day_rule", "explain"]

#: The rule names a :class:`Reason` may carry.
RULES = (
    "window",  # callable: inside a day's window
    "before start",  # before the campaign's first day or start instant
    "after end",  # after endDate
    "inactive weekday",  # the weekday is not in activeDays
    "blackoutDates",
    "blackoutRules",  # a date a recurrence rule blacks out
    "holiday",
    "skipped",  # the zone skipped the whole date
    "before window",  # earlier on the day than its window
    "after window",  # later on the day than its window (or its overnight tail)
    "dst gap",  # the day's window loses wall-clock times that do not exist
    "out of range",  # outside the time line, or a local date outside the years 1-9999
    "recipient hours",  # the customer's own wall clock, inside or outside recipientHours
    "contact limit",  # a contactLimits entry (or a rule pack's) is full (docs/limits.md)
    "quiet after conversation",  # quietAfterConversationDays after a conversation
    "calling rule",  # a rule of callingRules (hours or days) on its clock, allowing or not
    "jurisdiction",  # with callingRules: which signal placed the customer in which state
)


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that decides an instant: ``rule`` (one of :data:`RULES`) and a
    ``message`` with its values in local time."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass(frozen=True, slots=True)
class Explanation:
    """The verdict on ``at`` (``callable``, the same answer as ``is_callable``), its
    wall clock in the campaign zone (``local``), and the ``reasons``: for a
    callable instant the window it is in, otherwise every rule that keeps it out.

    ``at`` is the instant asked about, exactly, in UTC; an instant that UTC cannot
    hold (before 0001-01-01T00:00:00Z or after 9999-12-31T23:59:59.999999Z, such
    as ``datetime.min`` written at +14:00) is kept as it was given, and its reason
    is ``out of range``."""

    at: datetime
    callable: bool
    local: str
    reasons: tuple[Reason, ...]

    def __str__(self) -> str:
        verdict = "callable" if self.callable else "not callable"
        at = self.at
        shown = (
            f"{at.year:04d}-{at:%m-%dT%H:%M:%S}Z"
            if at.utcoffset() == timedelta(0)
            else at.isoformat(timespec="seconds")
        )
        lines = [f"{shown} ({self.local}) is {verdict}"]
        lines += [f"  - {reason}" for reason in self.reasons]
        return "\n".join(lines)


def _label(day: date) -> str:
    return f"{day:%A} {day.isoformat()}"


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _wall_clock(key: str, zone: Zone, u: int) -> tuple[str, str, str, str]:
    """``(weekday, YYYY-MM-DD, HH:MM:SS, zone abbreviation)`` of UTC second ``u`` on
    the wall clock of zone ``key``, for any ``u``: where ``datetime`` cannot hold the
    local time (year 0 or 10000) the date is computed here and the abbreviation is
    the UTC offset."""
    offset = zone.offset_at(u)
    n, seconds = divmod(u + offset, DAY)
    y, m, d = civil_from_days(n)
    abbreviation = None
    if MIN_UTC <= u <= MAX_UTC and FIRST_DAY <= n <= LAST_DAY:
        try:
            abbreviation = from_seconds(u).astimezone(ZoneInfo(key)).tzname()
        except (OverflowError, ValueError):  # pragma: no cover - zoneinfo at the very ends
            abbreviation = None
    if abbreviation is None:
        sign, size = ("-", -offset) if offset < 0 else ("+", offset)
        abbreviation = f"UTC{sign}{clock(size)}"
    hms = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return _WEEKDAYS[(n + 3) % 7], f"{y:04d}-{m:02d}-{d:02d}", hms, abbreviation


def _instant(t: datetime, u: int, micros: int) -> datetime:
    """``t`` as aware UTC, exactly; as given when UTC cannot hold it (outside years 1-9999)."""
    return from_micros(u, micros) if MIN_UTC <= u <= MAX_UTC else t


def explain(
    settings: Settings,
    calendar: Calendar,
    t: datetime,
    cuts: tuple[Cut, ...] = (),
) -> Explanation:
    """The explanation for instant ``t`` in the campaign whose compiled calendar is
    ``calendar``; with ``cuts``, for customers whose set the campaign's is cut
    by those cuts (a customer view's: its recipient hours, then its calling rules).
    A calling rule not in force at ``t`` (before its start, from its end) is not
    mentioned."""
    u, micros = split_seconds(t)
    found = _campaign_explanation(settings, calendar, u, _instant(t, u, micros))
    if not cuts or found.reasons[0].rule == "out of range":
        return found
    hours = settings.recipient_hours
    inside: list[Reason] = []
    outside: list[Reason] = []
    for cut in cuts:
        zone, own = cut.zone, cut.calendar
        if u < cut.since or u >= cut.until:
            continue
        weekday, day_text, hms, abbreviation = _wall_clock(zone, own.zone, u)
        here = f"{weekday} {hms[:5]} {abbreviation}"
        allowed = own.is_callable(u)
        if cut.rule is None:
            if allowed:
                inside.append(Reason("recipient hours", f"{here} in {zone} is inside {hours}"))
            else:
                outside.append(
                    Reason(
                        "recipient hours",
                        f"{here} in {zone} is outside the recipient hours {hours}",
                    )
                )
        elif cut.holidays is not None:  # a days rule: only a banned date is worth a word
            if not allowed:
                name = _holiday_name(cut, day_text)
                what = f"{day_text} in {zone} is {name}" if name else f"{day_text} in {zone}"
                outside.append(Reason("calling rule", f"{what}: no calls under {cut.rule}"))
        elif allowed:
            inside.append(Reason("calling rule", f"{here} in {zone} is inside {cut.rule}"))
        else:
            outside.append(Reason("calling rule", f"{here} in {zone} is outside {cut.rule}"))
    if found.callable and not outside:
        return Explanation(found.at, True, found.local, (*found.reasons, *inside))
    reasons = outside if found.callable else [*found.reasons, *outside]
    return Explanation(found.at, False, found.local, tuple(reasons))


def _holiday_name(cut: Cut, day_text: str) -> str | None:
    """The name of the holiday of ``cut`` on the date written ``day_text`` (None
    for a date no ``date`` can hold, in year 0 or 10000)."""
    assert cut.holidays is not None
    try:
        return cut.holidays.name_of(date.fromisoformat(day_text))
    except ValueError:
        return None


def _campaign_explanation(
    campaign: Settings, calendar: Calendar, u: int, at: datetime
) -> Explanation:
    zone = calendar.zone
    x = u + zone.offset_at(u)
    today, seconds = divmod(x, DAY)
    weekday, day_text, hms, abbreviation = _wall_clock(campaign.timezone, zone, u)
    local = f"{weekday} {day_text} {hms} {abbreviation}"
    here = clock(seconds)
    if calendar.is_callable(u):  # the verdict first: it is always is_callable's
        owner = calendar.owner(u)
        assert owner is not None
        rule = day_rule(campaign, calendar, day_date(owner))
        source = " (its dateSchedules entry)" if rule.rule == "dateSchedules" else ""
        message = f"{here} is in the window {rule.hours} of {_label(rule.day)}{source}"
        return Explanation(at, True, local, (Reason("window", message),))
    if not MIN_UTC <= u < MAX_UTC:
        reason = Reason(
            "out of range",
            "the time line runs from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z",
        )
        return Explanation(at, False, local, (reason,))
    if not FIRST_DAY <= today <= LAST_DAY:
        reason = Reason(
            "out of range",
            f"its local date in {campaign.timezone} is outside the years 1-9999, "
            "which no campaign day can be",
        )
        return Explanation(at, False, local, (reason,))

    reasons: list[Reason] = []
    start_at = calendar.start_at
    if campaign.start_at is not None and u < start_at:
        _, begins_day, begins_hms, begins_zone = _wall_clock(campaign.timezone, zone, start_at)
        reasons.append(
            Reason(
                "before start", f"the campaign starts at {begins_day} {begins_hms} {begins_zone}"
            )
        )
    if today > FIRST_DAY:  # the day before the first date has no rule to read
        yesterday = day_rule(campaign, calendar, day_date(today - 1))
        if yesterday.hours is not None and yesterday.hours.overnight:
            reasons.append(
                Reason(
                    "after window",
                    f"the overnight window {yesterday.hours} of {_label(yesterday.day)} "
                    f"ended at {clock(yesterday.hours.end)}",
                )
            )
    rule = day_rule(campaign, calendar, day_date(today))
    hours = rule.hours
    if hours is None:
        if not (rule.rule == "before start" and any(r.rule == rule.rule for r in reasons)):
            reasons.append(Reason(rule.rule, rule.reason))
    elif seconds < hours.start:
        reasons.append(
            Reason("before window", f"{here} is before the window {hours} of {_label(rule.day)}")
        )
    elif not hours.overnight and seconds >= hours.end:
        reasons.append(
            Reason("after window", f"{here} is after the window {hours} of {_label(rule.day)}")
        )
    if hours is not None:
        gap = _gap(campaign.timezone, zone, today, hours.span)
        if gap is not None:
            reasons.append(Reason("dst gap", gap))
    if not reasons:  # cannot happen: the wall clock is inside an open window
        reasons.append(Reason("window", f"{here} is outside every window"))
    return Explanation(at, False, local, tuple(reasons))


def _gap(timezone: str, zone: Zone, day: int, span: tuple[int, int]) -> str | None:
    """Words for a spring-forward gap that removes wall times from ``day``'s window."""
    first, end = day * DAY + span[0], day * DAY + span[1]  # local seconds
    for instant, before, after in zone.transitions(
        day * DAY - zone.max_offset, (day + 2) * DAY - zone.min_offset
    ):
        if after <= before:
            continue
        lost_first, lost_end = instant + before, instant + after  # the wall times skipped
        if lost_first < end and first < lost_end:
            return (
                f"the clocks in {timezone} jump from {_wall(lost_first)} to "
                f"{_wall(lost_end)}, so the window's wall times in between do not exist"
            )
    return None


def _wall(x: int) -> str:
    """Local second ``x`` as ``YYYY-MM-DD HH:MM`` (any year)."""
    y, m, d = civil_from_days(x // DAY)
    return f"{y:04d}-{m:02d}-{d:02d} {clock(x % DAY)}"


def day_rule(settings: Settings, calendar: Calendar, day: date) -> DayRule:
    """The window local date ``day`` owns (campaign zone) and the rule that decided
    it, in the order of docs/compliance.md, section 1 (``Campaign.day_rule``)."""
    weekday = WEEKDAYS[day.weekday()]
    # An immediate start cuts the time line at an instant, not at a date: the
    # days before it keep their windows (explain() names the start instant).
    first = settings.start_date
    if first is not None and day < first:
        return DayRule(day, None, "before start", f"{day} is before the campaign starts ({first})")
    if settings.end_date is not None and day > settings.end_date:
        return DayRule(day, None, "after end", f"{day} is after endDate ({settings.end_date})")
    if day_number(day) in calendar.zone.skipped_days:
        return DayRule(
            day,
            None,
            "skipped",
            f"{day} never happens in {settings.timezone} (skipped by the zone)",
        )
    date_hours = settings.date_hours
    i = bisect_left(date_hours, day, key=lambda entry: entry[0])  # sorted by date
    if i < len(date_hours) and date_hours[i][0] == day:
        own = date_hours[i][1]
        return DayRule(day, own, "dateSchedules", f"{day} has its own window {own} (dateSchedules)")
    blackouts = settings.blackouts
    i = bisect_right(blackouts, (day, date.max)) - 1  # sorted, disjoint ranges
    if i >= 0 and blackouts[i][0] <= day <= blackouts[i][1]:
        a, b = blackouts[i]
        span = "" if a == b else f", in {a} to {b}"
        return DayRule(day, None, "blackoutDates", f"{day} is blacked out (blackoutDates{span})")
    for k, recurring in enumerate(settings.blackout_rules):
        if recurring.names(day):
            label = f"blackoutRules.{k}: {recurring.label}"
            return DayRule(day, None, "blackoutRules", f"{day} is blacked out ({label})")
    holidays = settings.holidays
    name = holidays.name_of(day) if holidays else None
    if name is not None:
        assert holidays is not None
        return DayRule(day, None, "holiday", f"{day} is {name} (holidays {holidays.label})")
    hours = settings.hours_on(day.weekday())
    if hours is None:
        return DayRule(day, None, "inactive weekday", f"{weekday} is not in activeDays")
    return DayRule(day, hours, "weekly", f"{weekday}'s window is {hours}")
