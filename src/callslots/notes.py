"""What a person is told about a day or a window: the notes of ``callslots windows``
and of the report's windows chart (one wording for both), and the local-time helpers
they need.  Presentation only: nothing here decides what is callable."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .campaign import Campaign
from .windows import Window

__all__ = ["WEEKDAYS", "day_text", "duration_text", "local", "removed_days", "window_note"]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: 400 Gregorian years: the calendar repeats after them, and so does every zone past its
#: last listed transition (a POSIX rule) or before its first (local mean time).
_CYCLE = timedelta(days=146097)


def day_text(day: date) -> str:
    """``Sun 2024-11-03`` (not strftime: it drops the zeros of years before 1000)."""
    return f"{WEEKDAYS[day.weekday()]} {day.isoformat()}"


def local(t: datetime, zone: ZoneInfo) -> tuple[int, datetime]:
    """``t`` in ``zone`` as ``(shift, local)``: the wall clock is ``local`` moved by
    ``shift`` years.  ``shift`` is 0 except where the wall clock is past 9999-12-31 (or
    before 0001-01-01), which ``datetime`` cannot hold: there ``local`` is read 400
    years nearer, where the calendar and the zone's offsets are the same."""
    try:
        return 0, t.astimezone(zone)
    except OverflowError:
        if t.year > 5000:
            return 400, (t - _CYCLE).astimezone(zone)
        return -400, (t + _CYCLE).astimezone(zone)


def duration_text(delta: timedelta) -> str:
    minutes, seconds = divmod(int(delta.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" + (f"{seconds:02d}s" if seconds else "")


def window_note(campaign: Campaign, window: Window, zone: ZoneInfo) -> str | None:
    """A window whose real length differs from its wall-clock length: say so."""
    hours = campaign.day_rule(window.day).hours
    nominal = timedelta(seconds=hours.seconds) if hours else window.duration
    first, last = local(window.start, zone)[1], local(window.end, zone)[1]
    change = first.utcoffset() != last.utcoffset()
    if window.duration == nominal and not change:
        return None
    real, wall = duration_text(window.duration), duration_text(nominal)
    note = f"lasts {real}, the wall-clock window is {wall}"
    return note + (f"; clock change {first.tzname()} -> {last.tzname()}" if change else "")


def removed_days(campaign: Campaign, first: date, last: date) -> list[tuple[date, str]]:
    """The dates of ``first..last`` that a blackout (a date, a range, a date of a
    recurrence rule) or a holiday took a window from, with a note naming the rule (a
    blackout range is one entry)."""
    found: list[tuple[date, str]] = []
    for a, b in campaign.blackouts:
        a, b = max(a, first), min(b, last)
        if a <= b:
            through = "" if a == b else f" through {day_text(b)}"
            found.append((a, f"no window{through}: blackoutDates"))
    ruled: set[date] = set()  # a date two rules name is one row
    for recurring in campaign.blackout_rules:
        days = recurring.days  # sorted ordinals: only those in first..last are read
        for n in days[bisect_left(days, first.toordinal()) : bisect_right(days, last.toordinal())]:
            day = date.fromordinal(n)
            if day not in ruled and campaign.hours_on(day.weekday()) is not None:
                ruled.add(day)
                rule = campaign.day_rule(day)
                if rule.rule == "blackoutRules":
                    found.append((day, f"no window: {rule.reason}"))
    if campaign.holidays is not None:
        for day, _ in campaign.holidays.dates:
            if first <= day <= last and campaign.hours_on(day.weekday()) is not None:
                rule = campaign.day_rule(day)
                if rule.rule == "holiday":
                    found.append((day, f"no window: {rule.reason}"))
    return sorted(found)
