"""Recurring blackout dates: RFC 5545 recurrence rules read as rules about local dates.

``blackoutRules`` (docs/compliance.md, section 1) is a list of rules such as
``"FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24,25,26"``.  :func:`parse_rule` reads one into
a :class:`Recurrence` (or a list of every problem with it) and :func:`expand` lists
the dates it names between two dates, with ``dateutil.rrule`` doing the calendar
work.

Exactness to the year 9999 without expanding day by day rests on two facts of the
Gregorian calendar:

* **400-year invariance.** 400 Gregorian years are exactly 146,097 days, a whole
  number of weeks, so moving a date by that many days keeps its month, day of month,
  weekday, day of year and ISO-style week number.  Every part of a date-only rule
  reads only these, so the dates a rule names from an anchor ``A + 146097`` are the
  dates it names from ``A``, moved by 146,097 days.
* **Periodicity.** The rule's sets (a year, a month, a week or a day, every
  ``INTERVAL``-th one) come back in the same position after ``P`` days, the least
  common multiple of the rule's step and the 400-year cycle (:func:`period_days`).
  So the dates of one period, counted once, give every later date by adding ``P``.

``dateutil`` is asked for one period at most, in a frame moved by whole 400-year
cycles so that it ends in the last 400 years before 9999-12-24: ``dateutil`` then
never builds a set that reaches the year 10000 (which it cannot represent) before
the period is complete, and a rule that names no date at all stops searching within
400 years.  Everything after that is integer arithmetic.
"""

from __future__ import annotations

import difflib
import re
from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from math import lcm
from typing import Literal

from dateutil import rrule as du

__all__ = [
    "CYCLE_DAYS",
    "MAX_DAYS",
    "BlackoutRule",
    "Recurrence",
    "TooManyDays",
    "Unexpandable",
    "expand",
    "parse_rule",
    "period_days",
]

#: Days in 400 Gregorian years (20,871 weeks): the calendar repeats with this period.
CYCLE_DAYS = 146_097
#: The most dates all of a campaign's ``blackoutRules`` may name together (about two
#: monthly rules from 2026 to 9999); more is refused (docs/compliance.md).
MAX_DAYS = 200_000

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_FINER = ("HOURLY", "MINUTELY", "SECONDLY")
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_PARTS = (
    "FREQ",
    "INTERVAL",
    "UNTIL",
    "COUNT",
    "BYMONTH",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYDAY",
    "BYSETPOS",
    "WKST",
)
_TIME_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
#: The largest INTERVAL and COUNT accepted: the calendar has fewer days than this.
_BIG = 3_652_059
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_DATE_TIME = re.compile(r"\d{8}T\d{6}Z?", re.ASCII)
_SIGNED = re.compile(r"([+-]?)(\d{1,7})", re.ASCII)
_BYDAY = re.compile(r"([+-]?)(\d{1,2})?([A-Z]{2})", re.ASCII)
#: The last date a frame may reach: a week before the calendar's last day, so that
#: ``dateutil`` never builds a week that runs into the year 10000 inside the frame.
_SAFE_LAST = date(9999, 12, 31).toordinal() - 7
#: The first date a frame may start on (``dateutil`` reads the year before the
#: anchor's for week numbers, and the year 0 does not exist).
_SAFE_FIRST = date(2, 1, 1).toordinal()
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()  # day numbers count from this date


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A date-only recurrence rule, parsed: RFC 5545's ``RECUR`` value without the
    time parts.  Weekdays count from 0 = Monday; ``by_day`` holds ``(weekday, n)``
    pairs, ``n`` 0 for "every" and otherwise the n-th (negative: from the end) in the
    month or year; ``start`` is the ``DTSTART`` date when the text gives one."""

    freq: str
    interval: int = 1
    start: date | None = None
    until: date | None = None
    count: int | None = None
    by_month: tuple[int, ...] = ()
    by_month_day: tuple[int, ...] = ()
    by_year_day: tuple[int, ...] = ()
    by_week_no: tuple[int, ...] = ()
    by_day: tuple[tuple[int, int], ...] = ()
    by_set_pos: tuple[int, ...] = ()
    week_start: int = 0

    @property
    def anchored(self) -> bool:
        """Whether the dates it names depend on the anchor (its ``DTSTART``, or the
        campaign's first date): a step of more than one, a ``COUNT``, or a set whose
        day is left to the anchor (``FREQ=YEARLY`` alone is the anchor's month and
        day every year, ``FREQ=YEARLY;BYMONTH=3`` the anchor's day of March)."""
        if self.interval > 1 or self.count is not None:
            return True
        days = self.by_month_day or self.by_year_day or self.by_week_no or self.by_day
        if self.freq in ("YEARLY", "MONTHLY"):
            return not days
        if self.freq == "WEEKLY":
            return not self.by_day
        return False


@dataclass(frozen=True, slots=True)
class BlackoutRule:
    """One entry of ``blackoutRules``: its ``text`` as given, the parsed ``rule``,
    and ``days``, the ordinals (``date.toordinal()``) of the dates it names in the
    campaign's range, sorted.  ``days`` follows from the text and the range, both
    part of the campaign, so it takes no part in comparisons; do not modify it."""

    text: str
    rule: Recurrence
    days: array[int] = field(compare=False, repr=False)

    @property
    def label(self) -> str:
        """The text on one line (a ``DTSTART`` line and the rule joined by a space)."""
        return " ".join(line.strip() for line in self.text.splitlines() if line.strip())

    def day_ranges(self) -> list[tuple[int, int, None]]:
        """The dates it names as ``(first, last, None)`` ranges of day numbers (days
        since 1970-01-01), consecutive dates joined: the form of
        ``Campaign.date_rules()``."""
        ranges: list[tuple[int, int, None]] = []
        first = last = None
        for n in self.days:
            day = n - _EPOCH_ORDINAL
            if last is not None and day == last + 1:
                last = day
                continue
            if first is not None and last is not None:
                ranges.append((first, last, None))
            first = last = day
        if first is not None and last is not None:
            ranges.append((first, last, None))
        return ranges

    def names(self, day: date) -> bool:
        """Whether the rule names ``day``."""
        n = day.toordinal()
        i = bisect_left(self.days, n)
        return i < len(self.days) and self.days[i] == n


class TooManyDays(ValueError):
    """A rule names more dates in the range than a campaign may hold; ``found`` is
    how many (at least), ``first`` and ``last`` the range looked at."""

    def __init__(self, found: int, first: date, last: date) -> None:
        super().__init__(f"names {found} dates between {first} and {last}")
        self.found, self.first, self.last = found, first, last


def _number(text: str, low: int, high: int, what: str, problems: list[str]) -> int | None:
    """A signed integer from ``low`` to ``high``, zero refused when ``low < 0``."""
    m = _SIGNED.fullmatch(text)
    if m is None:
        problems.append(f"{what}: {text!r} is not a whole number")
        return None
    value = int(m[2]) * (-1 if m[1] == "-" else 1)
    if low < 0 and value == 0:
        problems.append(f"{what}: 0 is not allowed (1 is the first, -1 the last)")
        return None
    if not low <= value <= high:
        shown = f"{low} to {high}" if low >= 0 else f"1 to {high} or -{high} to -1"
        problems.append(f"{what}: {value} is outside {shown}")
        return None
    return value


def _date(text: str, what: str, problems: list[str]) -> date | None:
    m = _DATE.fullmatch(text)
    if m is None:
        if _DATE_TIME.fullmatch(text):
            problems.append(
                f"{what}: {text!r} is a date-time; a blackout rule names whole dates, "
                f"so write the date alone ({text[:8]})"
            )
        else:
            problems.append(f"{what}: {text!r} is not a date written YYYYMMDD")
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        problems.append(f"{what}: {text!r} is not a day of the calendar")
        return None


def _list(text: str, what: str, problems: list[str]) -> list[str]:
    items = text.split(",")
    if any(not item for item in items):
        problems.append(f"{what}: {text!r} has an empty item (a list is values separated by ',')")
        return []
    return items


def _start_line(line: str, problems: list[str]) -> date | None:
    """``DTSTART:YYYYMMDD`` or ``DTSTART;VALUE=DATE:YYYYMMDD``."""
    head, sep, value = line.partition(":")
    if not sep:
        problems.append(f"{line!r} has no ':' (write DTSTART;VALUE=DATE:YYYYMMDD)")
        return None
    params = head.upper().split(";")[1:]
    for param in params:
        if param not in ("VALUE=DATE",):
            name = param.partition("=")[0]
            why = (
                "a blackout rule's dates are local dates of the campaign's zone"
                if name == "TZID"
                else "only VALUE=DATE is accepted"
            )
            problems.append(f"DTSTART: the parameter {param!r} is not accepted ({why})")
            return None
    return _date(value.strip(), "DTSTART", problems)


def parse_rule(text: str) -> tuple[Recurrence | None, list[str]]:
    """Read one ``blackoutRules`` entry: a ``RECUR`` value (``FREQ=...;...``),
    optionally written ``RRULE:FREQ=...`` and optionally after a ``DTSTART`` line
    (``DTSTART;VALUE=DATE:20260102`` and a newline).  Names and values are read
    without regard to case.

    Returns the rule and no problems, or None and every problem found, each a
    message for a person that names the part it is about.
    """
    problems: list[str] = []
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line]
    start: date | None = None
    body: str | None = None
    for line in lines:
        name = re.split(r"[;:=]", line, maxsplit=1)[0].upper()
        if name == "DTSTART":
            if start is not None:
                problems.append("DTSTART is given twice")
            start = _start_line(line, problems)
        elif name == "RRULE" and line[5:6] == ":":
            if body is not None:
                problems.append("more than one RRULE line; give each rule its own entry")
            body = line[6:]
        elif "=" in line and ":" not in line:
            if body is not None:
                problems.append("more than one rule; give each rule its own entry")
            body = line
        else:
            problems.append(
                f"{line[:40]!r} is not a rule: write FREQ=...;... (optionally after a "
                "DTSTART;VALUE=DATE:YYYYMMDD line)"
            )
    if body is None:
        if not problems:
            problems.append("is empty: write a rule such as FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25")
        return None, problems
    parts: dict[str, str] = {}
    chunks = body.split(";")
    if len(chunks) > 1 and chunks[-1] == "":
        chunks.pop()  # a trailing ';' is harmless
    for chunk in chunks:
        name, sep, value = chunk.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not sep or not name:
            problems.append(f"{chunk!r} is not a part written NAME=VALUE")
        elif name in parts:
            problems.append(f"{name} is given twice")
        elif name in _TIME_PARTS:
            problems.append(
                f"{name}: a blackout rule names whole dates, not times of day; remove it"
            )
        elif name not in _PARTS:
            close = difflib.get_close_matches(name, _PARTS, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            known = ", ".join(_PARTS)
            problems.append(f"{name} is not a part of a date rule (known: {known}){hint}")
        else:
            parts[name] = value
    rule = _read_parts(parts, start, problems)
    return (rule, []) if not problems and rule is not None else (None, problems)


def _read_parts(
    parts: dict[str, str], start: date | None, problems: list[str]
) -> Recurrence | None:
    freq = parts.get("FREQ")
    if freq is None:
        problems.append("FREQ is missing (DAILY, WEEKLY, MONTHLY or YEARLY)")
    elif freq in _FINER:
        problems.append(
            f"FREQ={freq} repeats within a day; a blackout rule names whole dates, so FREQ "
            "is DAILY, WEEKLY, MONTHLY or YEARLY"
        )
        freq = None
    elif freq not in FREQUENCIES:
        close = difflib.get_close_matches(freq, FREQUENCIES, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        problems.append(f"FREQ={freq} is not DAILY, WEEKLY, MONTHLY or YEARLY{hint}")
        freq = None
    interval = count = None
    if "INTERVAL" in parts:
        interval = _number(parts["INTERVAL"], 1, _BIG, "INTERVAL", problems)
    if "COUNT" in parts:
        count = _number(parts["COUNT"], 1, _BIG, "COUNT", problems)
    until = _date(parts["UNTIL"], "UNTIL", problems) if "UNTIL" in parts else None
    if "UNTIL" in parts and "COUNT" in parts:
        problems.append("UNTIL and COUNT together: RFC 5545 allows one or the other")
    if until is not None and start is not None and until < start:
        problems.append(f"UNTIL {until} is before DTSTART {start}, so the rule names no date")

    def numbers(name: str, low: int, high: int) -> tuple[int, ...]:
        if name not in parts:
            return ()
        found = [
            _number(item, low, high, name, problems) for item in _list(parts[name], name, problems)
        ]
        return tuple(sorted({n for n in found if n is not None}))

    by_month = numbers("BYMONTH", 1, 12)
    by_month_day = numbers("BYMONTHDAY", -31, 31)
    by_year_day = numbers("BYYEARDAY", -366, 366)
    by_week_no = numbers("BYWEEKNO", -53, 53)
    by_set_pos = numbers("BYSETPOS", -366, 366)
    by_day: list[tuple[int, int]] = []
    for item in _list(parts["BYDAY"], "BYDAY", problems) if "BYDAY" in parts else []:
        m = _BYDAY.fullmatch(item)
        if m is None or m[3] not in WEEKDAY_CODES or (m[1] and not m[2]):
            problems.append(
                f"BYDAY: {item!r} is not a weekday (MO, TU, WE, TH, FR, SA, SU, optionally "
                "after a number such as -1FR, the last Friday)"
            )
            continue
        n = int(m[2]) * (-1 if m[1] == "-" else 1) if m[2] else 0
        if m[2] and n == 0:
            problems.append(f"BYDAY: {item!r}: 0 is not allowed (1 is the first, -1 the last)")
            continue
        if abs(n) > 53:
            problems.append(f"BYDAY: {item!r}: no year has more than 53 of a weekday")
            continue
        if (WEEKDAY_CODES.index(m[3]), n) not in by_day:
            by_day.append((WEEKDAY_CODES.index(m[3]), n))
    week_start = 0
    if "WKST" in parts:
        if parts["WKST"] in WEEKDAY_CODES:
            week_start = WEEKDAY_CODES.index(parts["WKST"])
        else:
            problems.append(f"WKST: {parts['WKST']!r} is not a weekday (MO to SU)")
    # RFC 5545, 3.3.10: which parts each frequency may use.
    if freq is not None:
        if by_week_no and freq != "YEARLY":
            problems.append("BYWEEKNO is only allowed with FREQ=YEARLY")
        if by_year_day and freq in ("DAILY", "WEEKLY", "MONTHLY"):
            problems.append("BYYEARDAY is not allowed with FREQ=DAILY, WEEKLY or MONTHLY")
        if by_month_day and freq == "WEEKLY":
            problems.append("BYMONTHDAY is not allowed with FREQ=WEEKLY")
        numbered = [d for d in by_day if d[1]]
        if numbered and freq not in ("MONTHLY", "YEARLY"):
            problems.append(
                f"BYDAY: a numbered weekday (such as -1FR) needs FREQ=MONTHLY or YEARLY, not {freq}"
            )
        elif numbered and freq == "YEARLY" and by_week_no:
            problems.append("BYDAY: a numbered weekday is not allowed with BYWEEKNO")
        elif numbered and (freq == "MONTHLY" or by_month) and any(abs(n) > 5 for _, n in numbered):
            problems.append("BYDAY: no month has more than 5 of a weekday")
    if by_set_pos and not (by_month or by_month_day or by_year_day or by_week_no or by_day):
        problems.append("BYSETPOS needs another BY part (such as BYDAY) to choose among")
    if problems or freq is None:
        return None
    return Recurrence(
        freq=freq,
        interval=interval or 1,
        start=start,
        until=until,
        count=count,
        by_month=by_month,
        by_month_day=by_month_day,
        by_year_day=by_year_day,
        by_week_no=by_week_no,
        by_day=tuple(by_day),
        by_set_pos=by_set_pos,
        week_start=week_start,
    )


def period_days(rule: Recurrence) -> int:
    """``P``: the dates the rule names from any anchor ``A`` on repeat every ``P``
    days (a date ``d >= A + P`` is named exactly when ``d - P`` is): the step of its
    sets and the 400-year cycle must both come round."""
    n = rule.interval
    if rule.freq == "YEARLY":
        return lcm(n, 400) // 400 * CYCLE_DAYS
    if rule.freq == "MONTHLY":
        return lcm(n, 4800) // 4800 * CYCLE_DAYS
    if rule.freq == "WEEKLY":
        return lcm(7 * n, CYCLE_DAYS)
    return lcm(n, CYCLE_DAYS)


def _dateutil_rule(rule: Recurrence, anchor: date) -> du.rrule:
    frequency: Literal[0, 1, 2, 3] = du.YEARLY
    if rule.freq == "MONTHLY":
        frequency = du.MONTHLY
    elif rule.freq == "WEEKLY":
        frequency = du.WEEKLY
    elif rule.freq == "DAILY":
        frequency = du.DAILY
    weekdays = (du.MO, du.TU, du.WE, du.TH, du.FR, du.SA, du.SU)
    return du.rrule(
        frequency,
        dtstart=datetime(anchor.year, anchor.month, anchor.day),
        interval=rule.interval,
        wkst=weekdays[rule.week_start],
        bymonth=rule.by_month or None,
        bymonthday=rule.by_month_day or None,
        byyearday=rule.by_year_day or None,
        byweekno=rule.by_week_no or None,
        byweekday=[weekdays[w](n) if n else weekdays[w] for w, n in rule.by_day] or None,
        bysetpos=rule.by_set_pos or None,
        cache=False,
    )


def _one_period(rule: Recurrence, anchor: int, length: int) -> list[int]:
    """The offsets from ``anchor`` (an ordinal) of the dates the rule names from it
    in ``[anchor, anchor + length)``, by ``dateutil``, in a frame moved by whole
    400-year cycles to end in the last 400 years before :data:`_SAFE_LAST`."""
    last = anchor + length - 1
    shift = (_SAFE_LAST - last) // CYCLE_DAYS * CYCLE_DAYS
    frame = anchor + shift
    if frame < _SAFE_FIRST:  # cannot happen for length <= _FRAME_DAYS
        raise AssertionError("a frame longer than the calendar allows")
    found: list[int] = []
    end = last + shift
    try:
        for occurrence in _dateutil_rule(rule, date.fromordinal(frame)):
            n = occurrence.toordinal()
            if n > end:
                break
            found.append(n - frame)
    except (ValueError, OverflowError):
        # dateutil reached the year 10000, beyond the frame: every date of the
        # frame has already come (sets are built in date order, and none holding a
        # date of the frame reaches past _SAFE_LAST + 7).
        pass
    return found


def _explicit(rule: Recurrence, anchor: date) -> Recurrence:
    """The same rule with the parts it takes from its anchor written out (RFC 5545:
    a rule that names no day takes the anchor's), so that it names the same dates
    from any later start of one of its sets."""
    if rule.by_month_day or rule.by_year_day or rule.by_week_no or rule.by_day:
        return rule
    if rule.freq == "WEEKLY":
        return replace(rule, by_day=((anchor.weekday(), 0),))
    if rule.freq == "MONTHLY":
        return replace(rule, by_month_day=(anchor.day,))
    if rule.freq == "YEARLY":
        return replace(rule, by_month=rule.by_month or (anchor.month,), by_month_day=(anchor.day,))
    return rule


def _restart(rule: Recurrence, a: int, n: int) -> int:
    """The ordinal of the last start of one of the rule's sets (a day, a week from
    WKST, the first of a month or of a year, every INTERVAL-th one counted from the
    anchor ``a``) at or before ordinal ``n``; ``a`` when none comes after ``a``.

    From there, the rule (with :func:`_explicit`'s parts) names exactly the dates it
    names from ``a``: the sets are the same sets, and none is cut by the start."""
    k = rule.interval
    if rule.freq == "DAILY":
        return a + (n - a) // k * k
    if rule.freq == "WEEKLY":
        week = a - (date.fromordinal(a).weekday() - rule.week_start) % 7
        found = week + (n - week) // (7 * k) * 7 * k
    else:
        first, last = date.fromordinal(a), date.fromordinal(n)
        if rule.freq == "MONTHLY":
            months = (last.year - first.year) * 12 + last.month - first.month
            index = first.year * 12 + first.month - 1 + months // k * k
            found = date(index // 12, index % 12 + 1, 1).toordinal()
        else:
            found = date(first.year + (last.year - first.year) // k * k, 1, 1).toordinal()
    return found if found > a else a


#: The longest stretch one frame can hold: from the year 2 to _SAFE_LAST, less the
#: up to 400 years lost to aligning the frame on whole cycles.
_FRAME_DAYS = _SAFE_LAST - _SAFE_FIRST + 1 - CYCLE_DAYS


class Unexpandable(ValueError):
    """The rule's pattern repeats too seldom to be expanded over the whole range."""


def expand(rule: Recurrence, anchor: date, first: date, last: date, limit: int) -> array[int]:
    """The ordinals of the dates ``rule`` names in ``first..last`` (inclusive), sorted:
    the dates its pattern names on or after its ``DTSTART`` (else ``anchor``), the
    first ``COUNT`` of them (counted from there), up to ``UNTIL``.

    Raises :class:`TooManyDays` when they are more than ``limit``, before making
    them, and :class:`Unexpandable` for a pattern whose period is longer than the
    calendar allows to compute in one frame (a step such as ``INTERVAL=29`` years
    over a range of more than about 9,200 years).
    """
    a = (rule.start or anchor).toordinal()
    hi = last.toordinal()
    if rule.until is not None:
        hi = min(hi, rule.until.toordinal())
    lo = max(first.toordinal(), a)
    if hi < lo:
        return array("i")
    if rule.count is None and lo > a:
        # Nothing before `first` is needed: start from the last set at or before it.
        rule, a = _explicit(rule, date.fromordinal(a)), _restart(rule, a, lo)
    period = period_days(rule)
    length = min(period, hi - a + 1)
    if length > _FRAME_DAYS:
        raise Unexpandable(
            f"its pattern repeats only every {period // CYCLE_DAYS * 400} years, too seldom "
            f"to expand over {date.fromordinal(a)} to {date.fromordinal(hi)}"
        )
    offsets = _one_period(rule, a, length)
    per = len(offsets)

    def before(n: int, *, inclusive: bool) -> int:
        """How many named dates come before ordinal ``n`` (or at it, ``inclusive``)."""
        q, r = divmod(n - a, period)
        return q * per + (bisect_right if inclusive else bisect_left)(offsets, r)

    k0 = before(lo, inclusive=False)
    k1 = before(hi, inclusive=True)
    if rule.count is not None:
        k1 = min(k1, rule.count)
    if k1 - k0 > limit:
        raise TooManyDays(k1 - k0, date.fromordinal(lo), date.fromordinal(hi))
    days = array("i")
    for k in range(k0, k1):
        q, r = divmod(k, per)
        days.append(a + q * period + offsets[r])
    return days
