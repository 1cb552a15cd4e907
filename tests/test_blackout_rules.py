"""blackoutRules: recurrence rules for days without calls (docs/compliance.md, section 1).

The oracle below is an independent reading of a subset of RFC 5545 (FREQ, INTERVAL,
WKST, BYMONTH, BYMONTHDAY, BYDAY with or without a number, COUNT, UNTIL): it decides
for one date at a time whether the rule names it, from the RFC's words, without
dateutil and without the periods and frames that make :func:`expand` fast.
"""

from __future__ import annotations

import calendar
import pickle
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from callslots import Campaign, ConfigError
from callslots.recurrence import (
    CYCLE_DAYS,
    MAX_DAYS,
    Recurrence,
    expand,
    parse_rule,
    period_days,
)

UTC = timezone.utc
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


# -- the oracle -------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A rule of the oracle's subset, and its text."""

    freq: str
    interval: int = 1
    week_start: int = 0
    by_month: tuple[int, ...] = ()
    by_month_day: tuple[int, ...] = ()
    by_day: tuple[tuple[int, int], ...] = ()  # (weekday, n); n 0 for every one
    count: int | None = None
    until: date | None = None

    @property
    def text(self) -> str:
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.week_start:
            parts.append(f"WKST={DAYS[self.week_start]}")
        if self.by_month:
            parts.append("BYMONTH=" + ",".join(map(str, self.by_month)))
        if self.by_month_day:
            parts.append("BYMONTHDAY=" + ",".join(map(str, self.by_month_day)))
        if self.by_day:
            parts.append("BYDAY=" + ",".join(f"{n if n else ''}{DAYS[w]}" for w, n in self.by_day))
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.until is not None:
            u = self.until  # strftime writes years before 1000 without their zeros
            parts.append(f"UNTIL={u.year:04d}{u.month:02d}{u.day:02d}")
        return ";".join(parts)


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def nth_in(d: date, first: date, last: date) -> tuple[int, int]:
    """Which ``d.weekday()`` of ``first..last`` ``d`` is: from the start, from the end."""
    return (d - first).days // 7 + 1, -((last - d).days // 7 + 1)


def day_matches(spec: Spec, anchor: date, d: date) -> bool:
    """The day-level parts: BYMONTHDAY and BYDAY, or the anchor's day when both are
    left out (RFC 5545: parts left out come from DTSTART)."""
    if spec.by_month_day:
        length = days_in_month(d.year, d.month)
        if d.day not in spec.by_month_day and d.day - length - 1 not in spec.by_month_day:
            return False
    if spec.by_day:
        ok = False
        for weekday, n in spec.by_day:
            if d.weekday() != weekday:
                continue
            if n == 0:
                ok = True
                continue
            if spec.freq == "MONTHLY" or spec.by_month:  # counted within the month
                first = d.replace(day=1)
                last = d.replace(day=days_in_month(d.year, d.month))
            else:  # counted within the year
                first, last = date(d.year, 1, 1), date(d.year, 12, 31)
            ok = ok or n in nth_in(d, first, last)
        if not ok:
            return False
    if not spec.by_month_day and not spec.by_day:
        if spec.freq == "WEEKLY":
            return d.weekday() == anchor.weekday()
        if spec.freq in ("MONTHLY", "YEARLY"):
            return d.day == anchor.day
    return True


def pattern_matches(spec: Spec, anchor: date, d: date) -> bool:
    """Whether the pattern (without COUNT and UNTIL) names ``d``, anchored at ``anchor``."""
    if d < anchor:
        return False
    n = spec.interval
    if spec.freq == "DAILY" and (d - anchor).days % n:
        return False
    if spec.freq == "WEEKLY":

        def week_of(x: date) -> int:  # the ordinal of its week's first day
            return x.toordinal() - (x.weekday() - spec.week_start) % 7

        if ((week_of(d) - week_of(anchor)) // 7) % n:
            return False
    if spec.freq == "MONTHLY" and ((d.year - anchor.year) * 12 + d.month - anchor.month) % n:
        return False
    if spec.freq == "YEARLY":
        if (d.year - anchor.year) % n:
            return False
        # the anchor's month only when no part names a month or a day
        named = spec.by_month or spec.by_month_day or spec.by_day
        if not named and d.month != anchor.month:
            return False
    if spec.by_month and d.month not in spec.by_month:
        return False
    return day_matches(spec, anchor, d)


def oracle_days(spec: Spec, anchor: date, first: date, last: date) -> list[date]:
    """The dates the rule names in ``first..last``, by walking every day (from the
    anchor when COUNT needs counting)."""
    found = []
    d = anchor if spec.count is not None else max(anchor, first)
    seen = 0
    while d <= last:
        if spec.until is not None and d > spec.until:
            break
        if pattern_matches(spec, anchor, d):
            seen += 1
            if spec.count is not None and seen > spec.count:
                break
            if d >= first:
                found.append(d)
        if d == date.max:
            break
        d += timedelta(days=1)
    return found


# -- strategies -------------------------------------------------------------------------


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    interval = draw(st.sampled_from([1, 1, 1, 2, 3, 5, 7]))
    by_month = tuple(sorted(draw(st.sets(st.integers(1, 12), max_size=3))))
    by_month_day: tuple[int, ...] = ()
    if freq != "WEEKLY" and draw(st.booleans()):
        by_month_day = tuple(
            sorted(draw(st.sets(st.integers(1, 31) | st.integers(-31, -1), min_size=1, max_size=3)))
        )
    by_day: tuple[tuple[int, int], ...] = ()
    if draw(st.booleans()):
        numbered = freq in ("MONTHLY", "YEARLY") and not by_month_day and draw(st.booleans())
        limit = 5 if freq == "MONTHLY" or by_month else 53
        ns = st.integers(1, limit) | st.integers(-limit, -1) if numbered else st.just(0)
        by_day = tuple(
            sorted(draw(st.sets(st.tuples(st.integers(0, 6), ns), min_size=1, max_size=3)))
        )
    ending = draw(st.sampled_from(["none", "none", "count", "until"]))
    count = draw(st.integers(1, 40)) if ending == "count" else None
    return Spec(
        freq,
        interval,
        draw(st.integers(0, 6)) if freq == "WEEKLY" else 0,
        by_month,
        by_month_day,
        by_day,
        count,
        None,  # UNTIL is drawn with the dates, below
    )


def ordinals_to_dates(days: Any) -> list[date]:
    return [date.fromordinal(n) for n in days]


def parsed(text: str) -> Recurrence:
    rule, problems = parse_rule(text)
    assert rule is not None, problems
    return rule


# -- properties -------------------------------------------------------------------------


@given(
    spec=specs(),
    anchor=st.dates(date(1, 1, 1), date(9999, 12, 31)),
    gap=st.integers(0, 3_000_000),
    length=st.integers(0, 500),
    until_after=st.integers(0, 600),
    use_until=st.booleans(),
)
def test_expansion_agrees_with_the_day_by_day_oracle(
    spec: Spec, anchor: date, gap: int, length: int, until_after: int, use_until: bool
) -> None:
    """Any anchor from the year 1 to 9999, a stretch of dates up to thousands of years
    after it (so that the periods and frames are exercised), the last date 9999-12-31
    included."""
    if spec.count is not None:
        gap = min(gap, 400)  # the oracle counts from the anchor, day by day
    first_ord = min(anchor.toordinal() + gap, date.max.toordinal())
    first = date.fromordinal(first_ord)
    last = date.fromordinal(min(first_ord + length, date.max.toordinal()))
    if use_until and spec.count is None:
        spec = Spec(
            **{
                **spec.__dict__,
                "until": date.fromordinal(min(first_ord + until_after, last.toordinal())),
            }
        )
    rule = parsed(spec.text)
    got = ordinals_to_dates(expand(rule, anchor, first, last, MAX_DAYS))
    assert got == oracle_days(spec, anchor, first, last), spec.text


@given(spec=specs(), anchor=st.dates(date(1, 1, 1), date(9999, 12, 31)), data=st.data())
def test_the_dates_a_period_later_are_the_same_dates(
    spec: Spec, anchor: date, data: st.DataObject
) -> None:
    """The fact the expansion rests on, checked with the oracle: a date at least one
    period after the anchor is named exactly when the date a period before it is."""
    assume(spec.count is None)
    rule = parsed(spec.text)
    period = period_days(rule)
    assert period % CYCLE_DAYS == 0
    assume(anchor.toordinal() + period <= date.max.toordinal())
    late = data.draw(st.integers(anchor.toordinal() + period, date.max.toordinal()))
    d = date.fromordinal(late)
    back = date.fromordinal(late - period)
    assert pattern_matches(spec, anchor, d) == pattern_matches(spec, anchor, back)


@st.composite
def full_rules(draw: st.DrawFn) -> str:
    """Rules with the parts the oracle leaves out too (BYSETPOS, BYYEARDAY,
    BYWEEKNO), valid by RFC 5545's table of which part goes with which FREQ."""
    freq = draw(st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]))
    parts = [f"FREQ={freq}", f"INTERVAL={draw(st.sampled_from([1, 1, 2, 3, 12]))}"]
    parts.append(f"WKST={draw(st.sampled_from(DAYS))}")
    signed = st.integers(1, 3) | st.integers(-3, -1)
    if freq == "YEARLY" and draw(st.booleans()):
        parts.append(f"BYWEEKNO={draw(st.integers(1, 53) | st.integers(-53, -1))}")
    elif freq == "YEARLY" and draw(st.booleans()):
        parts.append(f"BYYEARDAY={draw(st.integers(1, 366) | st.integers(-366, -1))}")
    if draw(st.booleans()):
        parts.append(f"BYMONTH={draw(st.integers(1, 12))}")
    if freq != "WEEKLY" and draw(st.booleans()):
        parts.append(f"BYMONTHDAY={draw(st.integers(1, 31) | st.integers(-31, -1))}")
    days = draw(st.sets(st.sampled_from(DAYS), min_size=1, max_size=4))
    parts.append("BYDAY=" + ",".join(sorted(days)))
    if draw(st.booleans()):
        parts.append(f"BYSETPOS={draw(signed)}")
    return ";".join(parts)


@settings(max_examples=150)  # dateutil walks from the anchor: slower than the rest
@given(
    text=full_rules(),
    anchor=st.dates(date(2, 1, 1), date(9000, 12, 31)),
    gap=st.integers(0, 8_000),
    length=st.integers(0, 800),
)
def test_periods_frames_and_restarts_change_nothing_dateutil_names(
    text: str, anchor: date, gap: int, length: int
) -> None:
    """For the parts the oracle does not read: the expansion (one period, in a frame
    moved by 400-year cycles, restarted near the first date) names the dates that
    dateutil names when asked directly, from the anchor."""
    from dateutil.rrule import rrulestr

    first = anchor + timedelta(days=gap)
    last = first + timedelta(days=length)
    got = ordinals_to_dates(expand(parsed(text), anchor, first, last, MAX_DAYS))
    direct = rrulestr(text, dtstart=datetime(anchor.year, anchor.month, anchor.day))
    expected = [
        d.date()
        for d in direct.between(
            datetime.combine(first, datetime.min.time()),
            datetime.combine(last, datetime.min.time()),
            inc=True,
        )
    ]
    assert got == expected, text


@given(spec=specs(), start=st.dates(date(2000, 1, 1), date(2100, 12, 31)), span=st.integers(0, 120))
def test_the_campaign_blacks_out_the_oracles_dates_and_no_others(
    spec: Spec, start: date, span: int
) -> None:
    end = start + timedelta(days=span)
    c = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "startTime": "09:00",
            "endTime": "17:00",
            "blackoutRules": [spec.text],
        }
    )
    named = set(oracle_days(spec, start, start, end))
    for k in range(span + 1):
        day = start + timedelta(days=k)
        rule = c.day_rule(day)
        assert (rule.rule == "blackoutRules") == (day in named), (spec.text, day)
        noon = datetime(day.year, day.month, day.day, 17, tzinfo=UTC)  # 12:00 or 13:00 local
        assert c.is_callable(noon) == (day not in named)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24,25,26",
            "FREQ=MONTHLY;BYDAY=-1FR",
            "FREQ=DAILY;COUNT=3",
            "FREQ=WEEKLY;UNTIL=20270101;BYDAY=MO",
            "DTSTART;VALUE=DATE:20260102\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
            "FREQ=YEARLY;BYWEEKNO=53;BYDAY=SU;BYSETPOS=-1",
            "FREQ=HOURLY",
            "RRULE:FREQ=MONTHLY;BYMONTHDAY=31;BYSETPOS=1",
        ]
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=10,
)

rule_texts = st.lists(
    st.sampled_from(
        [
            "FREQ",
            "=",
            ";",
            ",",
            "YEARLY",
            "MONTHLY",
            "WEEKLY",
            "DAILY",
            "SECONDLY",
            "INTERVAL",
            "COUNT",
            "UNTIL",
            "20260101",
            "99991231",
            "00010101",
            "20260230",
            "T000000Z",
            "BYMONTH",
            "BYMONTHDAY",
            "BYYEARDAY",
            "BYWEEKNO",
            "BYDAY",
            "BYSETPOS",
            "BYHOUR",
            "WKST",
            "MO",
            "-1FR",
            "+5SU",
            "53TH",
            "0",
            "1",
            "-1",
            "12",
            "31",
            "-366",
            "400",
            "9999999",
            "DTSTART:",
            "DTSTART;VALUE=DATE:",
            "DTSTART;TZID=X:",
            "RRULE:",
            "\n",
            " ",
            "x",
        ]
    ),
    max_size=14,
).map("".join)


@given(
    value=json_values | st.lists(rule_texts, max_size=3),
    start=st.sampled_from([None, "2026-01-01", "9999-06-01", "0001-01-01"]),
)
def test_any_json_for_blackout_rules_gives_a_campaign_or_a_config_error(
    value: Any, start: str | None
) -> None:
    payload: dict[str, Any] = {"blackoutRules": value}
    if start is not None:
        payload["startDate"] = start
    try:
        campaign = Campaign.from_dict(payload, now=datetime(2026, 3, 4, tzinfo=UTC))
    except ConfigError as e:
        assert e.errors
        assert all(p.path.startswith("blackoutRules") for p in e.errors), e.errors
        return
    again = Campaign.from_dict(campaign.to_dict())
    assert again == campaign
    assert [r.days for r in again.blackout_rules] == [r.days for r in campaign.blackout_rules]


# -- named cases ------------------------------------------------------------------------


def campaign(*rules: str, **fields: Any) -> Campaign:
    payload: dict[str, Any] = {
        "timezone": "America/New_York",
        "startDate": "2026-01-01",
        "startTime": "09:00",
        "endTime": "17:00",
        "blackoutRules": list(rules),
        **fields,
    }
    return Campaign.from_dict(payload)


def test_christmas_eve_to_boxing_day_every_year() -> None:
    c = campaign("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24,25,26")
    for year in (2026, 2027, 2400, 5000, 9999):
        for day in (23, 27):
            assert c.day_rule(date(year, 12, day)).rule == "weekly"
        for day in (24, 25, 26):
            rule = c.day_rule(date(year, 12, day))
            assert (rule.rule, rule.hours) == ("blackoutRules", None)
            assert "blackoutRules.0: FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24,25,26" in rule.reason
    # 2026-12-24 is a Thursday: 10:00 New York is 15:00 UTC
    assert not c.is_callable(datetime(2026, 12, 24, 15, tzinfo=UTC))
    assert c.next_callable(datetime(2026, 12, 24, 15, tzinfo=UTC)) == datetime(
        2026, 12, 27, 14, tzinfo=UTC
    )
    reasons = c.explain(datetime(2026, 12, 25, 15, tzinfo=UTC)).reasons
    assert [r.rule for r in reasons] == ["blackoutRules"]
    assert reasons[0].message == (
        "2026-12-25 is blacked out (blackoutRules.0: FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24,25,26)"
    )
    # three dates a year from 2026 to 9999, each year's three joined into one range
    assert len(c.blackout_rules[0].days) == 3 * (9999 - 2026 + 1)
    assert len(c.blackout_rules[0].day_ranges()) == 9999 - 2026 + 1


def test_the_last_friday_of_each_month() -> None:
    c = campaign("FREQ=MONTHLY;BYDAY=-1FR")
    # by hand, from a calendar: the last Fridays of 2026
    lasts = ["01-30", "02-27", "03-27", "04-24", "05-29", "06-26"]
    lasts += ["07-31", "08-28", "09-25", "10-30", "11-27", "12-25"]
    named = [d for d in ordinals_to_dates(c.blackout_rules[0].days) if d.year == 2026]
    assert [f"{d:%m-%d}" for d in named] == lasts
    assert c.day_rule(date(2026, 1, 23)).rule == "weekly"  # a Friday, not the last
    assert c.day_rule(date(9999, 12, 31)).rule == "blackoutRules"  # a Friday, the last


def test_a_rule_that_never_matches_blacks_nothing_out_and_is_warned_about() -> None:
    c = campaign("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30")
    assert len(c.blackout_rules[0].days) == 0
    assert [(w.path, w.message) for w in c.warnings] == [
        (
            "blackoutRules.0",
            "names no date between 2026-01-01 and 9999-12-31, so it blacks nothing out",
        )
    ]
    assert c.date_rules() == ()


def test_count_counts_from_dtstart_and_until_is_the_last_date() -> None:
    counted = campaign("DTSTART;VALUE=DATE:20251201\nRRULE:FREQ=MONTHLY;BYMONTHDAY=1;COUNT=3")
    # 2025-12-01 is the first of the three, before the campaign: two are left
    assert ordinals_to_dates(counted.blackout_rules[0].days) == [date(2026, 1, 1), date(2026, 2, 1)]
    until = campaign("FREQ=WEEKLY;BYDAY=MO;UNTIL=20260119")
    assert ordinals_to_dates(until.blackout_rules[0].days) == [
        date(2026, 1, 5),
        date(2026, 1, 12),
        date(2026, 1, 19),
    ]
    # without DTSTART, COUNT counts from the campaign's first date
    first_three = campaign("FREQ=DAILY;COUNT=3")
    assert ordinals_to_dates(first_three.blackout_rules[0].days) == [
        date(2026, 1, 1),
        date(2026, 1, 2),
        date(2026, 1, 3),
    ]


def test_a_date_schedule_wins_over_a_rule_with_a_warning() -> None:
    c = campaign(
        "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24,25,26",
        dateSchedules={"2026-12-24": {"startTime": "09:00", "endTime": "12:00"}},
    )
    rule = c.day_rule(date(2026, 12, 24))
    assert rule.rule == "dateSchedules" and str(rule.hours) == "09:00-12:00"
    assert c.is_callable(datetime(2026, 12, 24, 15, tzinfo=UTC))
    assert [w.path for w in c.warnings] == ["dateSchedules.2026-12-24"]
    assert "blackoutRules.0" in c.warnings[0].message


def test_a_blacked_out_date_names_blackout_dates_first() -> None:
    c = campaign("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25", blackoutDates=["2026-12-25"])
    assert c.day_rule(date(2026, 12, 25)).rule == "blackoutDates"
    assert c.day_rule(date(2027, 12, 25)).rule == "blackoutRules"


def test_the_rules_apply_from_the_immediate_start_and_to_the_end_date() -> None:
    now = datetime(2026, 3, 4, 12, tzinfo=UTC)  # a Wednesday
    c = Campaign.from_dict(
        {
            "timezone": "Europe/Prague",
            "endDate": "2026-03-31",
            "startTime": "09:00",
            "endTime": "17:00",
            "blackoutRules": ["FREQ=WEEKLY"],
        },
        now=now,
    )
    # FREQ=WEEKLY alone: the anchor's weekday, Wednesday, counted from the start's date
    assert ordinals_to_dates(c.blackout_rules[0].days) == [
        date(2026, 3, 4),
        date(2026, 3, 11),
        date(2026, 3, 18),
        date(2026, 3, 25),
    ]
    assert [w.path for w in c.warnings] == ["blackoutRules.0"]
    assert "DTSTART" in c.warnings[0].message
    assert Campaign.from_dict(c.to_dict()) == c


def test_round_trip_pickle_and_equality() -> None:
    text = "DTSTART;VALUE=DATE:20260102\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"
    c = campaign(text, "FREQ=MONTHLY;BYDAY=-1FR", endDate="2400-12-31")
    assert c.to_dict()["blackoutRules"] == [text, "FREQ=MONTHLY;BYDAY=-1FR"]
    again = Campaign.from_dict(c.to_dict())
    assert again == c and hash(again) == hash(c)
    unpickled = pickle.loads(pickle.dumps(c))
    assert unpickled == c
    assert unpickled.day_rule(date(2026, 1, 16)).reason == (
        "2026-01-16 is blacked out (blackoutRules.0: DTSTART;VALUE=DATE:20260102 "
        "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR)"
    )
    assert unpickled.day_rule(date(2026, 1, 9)).rule == "weekly"
    assert c != campaign("FREQ=MONTHLY;BYDAY=-1FR", endDate="2400-12-31")


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=HOURLY", "FREQ=HOURLY repeats within a day"),
        ("FREQ=DAILY;BYHOUR=9", "BYHOUR: a blackout rule names whole dates"),
        ("FREQ=YEARLY;BYMONT=12", "did you mean BYMONTH?"),
        ("FREQ=YEARLY;BYEASTER=0", "BYEASTER is not a part of a date rule"),
        ("BYMONTH=12", "FREQ is missing"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20270101", "UNTIL and COUNT together"),
        ("FREQ=DAILY;UNTIL=20270101T000000Z", "is a date-time"),
        ("FREQ=DAILY;UNTIL=20270230", "is not a day of the calendar"),
        ("FREQ=WEEKLY;BYMONTHDAY=1", "BYMONTHDAY is not allowed with FREQ=WEEKLY"),
        ("FREQ=MONTHLY;BYWEEKNO=1", "BYWEEKNO is only allowed with FREQ=YEARLY"),
        ("FREQ=WEEKLY;BYDAY=-1FR", "a numbered weekday (such as -1FR) needs FREQ=MONTHLY"),
        ("FREQ=MONTHLY;BYDAY=6FR", "no month has more than 5"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "0 is not allowed"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "32 is outside"),
        ("FREQ=MONTHLY;BYMONTHDAY=1,,2", "has an empty item"),
        ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS needs another BY part"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL: 0 is outside 1 to"),
        ("FREQ=DAILY;FREQ=WEEKLY", "FREQ is given twice"),
        ("DTSTART;TZID=Europe/Prague:20260101\nFREQ=DAILY", "TZID"),
        ("EXDATE:20260101\nFREQ=DAILY", "is not a rule"),
        ("", "is empty"),
        ("FREQ=YEARLY;INTERVAL=29", "repeats only every 11600 years"),
    ],
)
def test_mistakes_are_named_with_their_path(rule: str, words: str) -> None:
    start = "0100-01-01" if "INTERVAL=29" in rule else "2026-01-01"
    with pytest.raises(ConfigError) as caught:
        Campaign.from_dict({"startDate": start, "blackoutRules": ["FREQ=DAILY;COUNT=1", rule]})
    assert [p.path for p in caught.value.errors] == ["blackoutRules.1"] * len(caught.value.errors)
    assert any(words in p.message for p in caught.value.errors), caught.value.errors


def test_every_problem_of_a_rule_is_listed() -> None:
    with pytest.raises(ConfigError) as caught:
        Campaign.from_dict({"blackoutRules": ["FREQ=MINUTELY;BYHOUR=1;WKST=XX;BYMONTH=13"]})
    messages = [p.message for p in caught.value.errors]
    assert len(messages) == 4, messages
    assert {p.path for p in caught.value.errors} == {"blackoutRules.0"}


def test_too_many_dates_are_refused_with_the_way_out() -> None:
    with pytest.raises(ConfigError) as caught:
        campaign("FREQ=WEEKLY;BYDAY=SA")
    (problem,) = caught.value.errors
    assert problem.path == "blackoutRules.0"
    assert "416,063 dates between 2026-01-01 and 9999-12-31" in problem.message
    assert "give an endDate" in problem.message
    # with an endDate the same rule is fine
    assert len(campaign("FREQ=WEEKLY;BYDAY=SA", endDate="2026-12-31").blackout_rules[0].days) == 52


def test_the_whole_calendar_from_the_year_1_to_9999() -> None:
    """A rule over every year of the calendar: the first and last dates come out, and
    dateutil never reaches the year 10000 that it cannot represent."""
    c = Campaign.from_dict(
        {"startDate": "0001-01-01", "blackoutRules": ["FREQ=YEARLY;BYMONTH=1,12;BYDAY=1MO,-1SU"]}
    )
    days = ordinals_to_dates(c.blackout_rules[0].days)
    assert days[0] == date(1, 1, 1)  # a Monday, the first of January of the year 1
    assert days[-1] == date(9999, 12, 26)  # the last Sunday of 9999
    assert len(days) == 4 * 9999
    weekly = Campaign.from_dict(
        {
            "startDate": "9990-01-01",
            "blackoutRules": ["FREQ=WEEKLY;BYDAY=MO,SU;WKST=MO;BYSETPOS=-1"],
        }
    )
    # the last week of 9999 runs into the year 10000: its Sunday is not a date
    assert ordinals_to_dates(weekly.blackout_rules[0].days)[-1] == date(9999, 12, 26)


def test_a_rule_that_names_nothing_does_not_walk_the_calendar() -> None:
    """FREQ=DAILY that never matches asks dateutil for at most about 800 years of days
    (one 400-year period and the search after it), not 8,000."""
    import time

    began = time.perf_counter()
    campaign("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")
    assert time.perf_counter() - began < 5


def test_the_worked_example_of_the_docs() -> None:
    import json
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "compliance.md").read_text("utf-8")
    section = text.split("#### Worked example", 1)[1]
    payload = re.search(r"```json\n(.*?)```", section, re.S)
    assert payload is not None
    c = Campaign.from_dict(json.loads(payload.group(1)))
    block = section.split("| local date | weekday | decided by |", 1)[1].split("\n\n", 1)[0]
    rows = [line.strip("|").split("|") for line in block.splitlines()[2:]]
    assert len(rows) == 6
    for day_text, weekday, decided in rows:
        day = date.fromisoformat(day_text.strip())
        assert f"{day:%A}" == weekday.strip()
        rule = c.day_rule(day)
        decided = decided.strip()
        if decided.startswith("weekly rule"):
            assert rule.rule == "weekly"
        else:
            name = decided.split(" ", 1)[0]
            assert rule.rule == "blackoutRules" and f"({name}: " in rule.reason


def test_the_command_line_lists_each_ruled_date_once(tmp_path: Any) -> None:
    import csv
    import io
    import json
    import subprocess
    import sys
    from pathlib import Path

    path = Path(tmp_path) / "c.json"
    path.write_text(
        json.dumps(
            {
                "timezone": "America/New_York",
                "startDate": "2026-12-20",
                "endDate": "2027-01-02",
                "startTime": "09:00",
                "endTime": "17:00",
                # 2026-12-25 is named by both
                "blackoutRules": [
                    "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24,25,26",
                    "FREQ=MONTHLY;BYDAY=-1FR",
                ],
            }
        )
    )
    args = [
        "windows",
        str(path),
        "--from",
        "2026-12-23T00:00:00Z",
        "--days",
        "7",
        "--format",
        "csv",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "callslots", *args], capture_output=True, text=True, check=True
    )
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["day"] for r in rows] == [
        "2026-12-23",
        "2026-12-24",
        "2026-12-25",
        "2026-12-26",
        "2026-12-27",
        "2026-12-28",
    ]
    assert rows[2]["note"] == (
        "no window: 2026-12-25 is blacked out "
        "(blackoutRules.0: FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24,25,26)"
    )
    bad = path.with_name("bad.json")
    bad.write_text(json.dumps({"blackoutRules": ["FREQ=HOURLY"]}))
    failed = subprocess.run(
        [sys.executable, "-m", "callslots", "validate", str(bad)], capture_output=True, text=True
    )
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert "blackoutRules.0: FREQ=HOURLY repeats within a day" in failed.stderr
