"""Date exceptions: blackoutDates, dateSchedules and holidays, as named cases.

The Hypothesis properties in test_properties.py compare every rule with the
oracle; these pin the hard days by name and the messages a person reads.
"""

from __future__ import annotations

import pickle
from datetime import date, datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callslots import Campaign, ConfigError

UTC = timezone.utc
NEW_YORK_WEEKDAYS: dict[str, Any] = {
    "timezone": "America/New_York",
    "startTime": "09:00",
    "endTime": "17:00",
    "activeDays": [0, 1, 2, 3, 4],
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def spans(c: Campaign, start: str, end: str) -> list[tuple[str, str, str]]:
    return [
        (f"{w.start:%m-%d %H:%M}", f"{w.end:%m-%d %H:%M}", w.day.isoformat())
        for w in c.windows(at(start), at(end))
    ]


def test_a_holiday_on_a_monday_has_no_window() -> None:
    # Memorial Day 2024 is Monday 27 May; the dates are given as to_dict writes
    # them, so this case needs no holidays package.
    c = Campaign.from_dict(
        {
            **NEW_YORK_WEEKDAYS,
            "startDate": "2024-05-24",
            "endDate": "2024-05-28",
            "holidays": {"country": "US", "dates": {"2024-05-27": "Memorial Day"}},
        }
    )
    assert spans(c, "2024-05-24", "2024-05-29") == [
        ("05-24 13:00", "05-24 21:00", "2024-05-24"),
        ("05-28 13:00", "05-28 21:00", "2024-05-28"),
    ]
    assert not c.is_callable(at("2024-05-27T15:00"))
    assert c.next_callable(at("2024-05-25T00:00")) == at("2024-05-28T13:00")


def test_a_date_schedule_on_a_saturday_makes_it_active() -> None:
    c = Campaign.from_dict(
        {
            **NEW_YORK_WEEKDAYS,
            "startDate": "2024-07-05",
            "endDate": "2024-07-08",
            "dateSchedules": {"2024-07-06": {"startTime": "10:00", "endTime": "12:00"}},
        }
    )
    assert spans(c, "2024-07-05", "2024-07-09") == [
        ("07-05 13:00", "07-05 21:00", "2024-07-05"),
        ("07-06 14:00", "07-06 16:00", "2024-07-06"),  # 10:00-12:00 EDT
        ("07-08 13:00", "07-08 21:00", "2024-07-08"),
    ]
    assert c.day_of(at("2024-07-06T15:00")) == date(2024, 7, 6)


def test_a_blackout_keeps_the_tail_of_the_evening_before() -> None:
    # Friday 22:00-02:00 overnight; Saturday blacked out: Saturday 00:00-02:00 is
    # Friday's window, so it stays; Saturday's own 22:00 window goes.
    c = Campaign.from_dict(
        {
            "timezone": "Europe/Prague",
            "startDate": "2024-06-07",
            "endDate": "2024-06-09",
            "startTime": "22:00",
            "endTime": "02:00",
            "blackoutDates": ["2024-06-08"],
        }
    )
    assert spans(c, "2024-06-07", "2024-06-11") == [
        ("06-07 20:00", "06-08 00:00", "2024-06-07"),  # Fri 22:00-02:00 CEST
        ("06-09 20:00", "06-10 00:00", "2024-06-09"),
    ]


def test_a_date_schedule_on_the_spring_forward_day() -> None:
    # 2024-03-10 in New York: 02:00-03:00 does not exist. 01:30 EST is 06:30Z,
    # 03:30 EDT is 07:30Z: the window is one real hour.
    c = Campaign.from_dict(
        {
            **NEW_YORK_WEEKDAYS,
            "startDate": "2024-03-08",
            "endDate": "2024-03-11",
            "dateSchedules": {"2024-03-10": {"startTime": "01:30", "endTime": "03:30"}},
        }
    )
    assert spans(c, "2024-03-10", "2024-03-11") == [("03-10 06:30", "03-10 07:30", "2024-03-10")]


def test_a_range_of_blackouts_and_the_years_after_it_cost_no_walk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Five thousand years blacked out: the walks jump over the range in one step.
    # Counted, not timed: how many times a day is looked up among the rules.
    from callslots.weekly import DateRules

    c = Campaign.from_dict(
        {
            **NEW_YORK_WEEKDAYS,
            "startDate": "2024-01-01",
            "blackoutDates": [{"start": "2024-01-02", "end": "7024-06-30"}],
        }
    )
    looked_up = 0
    find = DateRules.find

    def counted(rules: DateRules, d: int) -> int:
        nonlocal looked_up
        looked_up += 1
        return find(rules, d)

    monkeypatch.setattr(DateRules, "find", counted)
    assert c.next_callable(at("2024-01-02T00:00")) == at("7024-07-01T13:00")
    first = list(c.windows(at("2024-01-01"), at("7024-07-03")))
    assert [w.day for w in first] == [date(2024, 1, 1), date(7024, 7, 1), date(7024, 7, 2)]
    assert looked_up < 200  # a day walk would look up 1.8 million days


def test_exceptions_round_trip_and_pickle() -> None:
    c = Campaign.from_dict(
        {
            **NEW_YORK_WEEKDAYS,
            "startDate": "2024-01-01",
            "blackoutDates": [
                "2024-12-24",
                {"start": "2024-12-26", "end": "2024-12-31"},
                {"start": "2024-12-25", "end": "2024-12-25"},  # joins the two
            ],
            "dateSchedules": {"2024-12-21": {"startTime": "10:00"}},
            "holidays": {"country": "US", "dates": {"2024-07-04": "Independence Day"}},
        }
    )
    payload = c.to_dict()
    assert payload["blackoutDates"] == [{"start": "2024-12-24", "end": "2024-12-31"}]
    assert payload["dateSchedules"] == {"2024-12-21": {"startTime": "10:00", "endTime": "17:00"}}
    assert payload["holidays"] == {"country": "US", "dates": {"2024-07-04": "Independence Day"}}
    assert Campaign.from_dict(payload) == c
    assert pickle.loads(pickle.dumps(c)) == c
    assert hash(Campaign.from_dict(payload)) == hash(c)


def test_a_date_both_scheduled_and_blacked_out_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        Campaign.from_dict(
            {
                **NEW_YORK_WEEKDAYS,
                "blackoutDates": [{"start": "2024-12-24", "end": "2024-12-26"}],
                "dateSchedules": {"2024-12-25": {"startTime": "10:00", "endTime": "12:00"}},
            }
        )
    assert [(p.path, p.message) for p in caught.value.errors] == [
        (
            "dateSchedules.2024-12-25",
            "2024-12-25 is also blacked out (the range 2024-12-24 to 2024-12-26 in "
            "blackoutDates); remove it from one of the two",
        )
    ]


@pytest.mark.parametrize(
    ("fields", "path", "words"),
    [
        ({"blackoutDates": "2024-12-25"}, "blackoutDates", "must be a list"),
        ({"blackoutDates": ["2024-13-01"]}, "blackoutDates.0", "not a day of the calendar"),
        ({"blackoutDates": [20241225]}, "blackoutDates.0", "not an integer"),
        ({"blackoutDates": [{"start": "2024-12-25"}]}, "blackoutDates.0", "end missing"),
        (
            {"blackoutDates": [{"start": "2024-12-25", "end": "2024-12-24"}]},
            "blackoutDates.0.end",
            "before start",
        ),
        ({"dateSchedules": []}, "dateSchedules", "keyed by date"),
        ({"dateSchedules": {"25.12.2024": {}}}, "dateSchedules.25.12.2024", "YYYY-MM-DD"),
        (
            {"dateSchedules": {"2024-12-25": {"startTime": "25:00"}}},
            "dateSchedules.2024-12-25.startTime",
            "not a time of day",
        ),
        (
            {"dateSchedules": {"2024-12-25": {"startTime": "10:00", "endTime": "10:00"}}},
            "dateSchedules.2024-12-25",
            "empty",
        ),
        ({"holidays": "US"}, "holidays", "must be an object"),
        ({"holidays": {"subdivision": "CA"}}, "holidays.country", "missing"),
        ({"holidays": {"country": "US", "subdivision": 5}}, "holidays.subdivision", "integer"),
        (
            {"holidays": {"country": "US", "dates": {"July 4": "x"}}},
            "holidays.dates.July 4",
            "date",
        ),
        (
            {"holidays": {"country": "US", "dates": {"2024-07-04": 1}}},
            "holidays.dates.2024-07-04",
            "name",
        ),
    ],
)
def test_mistakes_in_date_exceptions(fields: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Campaign.from_dict({**NEW_YORK_WEEKDAYS, **fields})
    problems = {p.path: p.message for p in caught.value.errors}
    assert path in problems, problems
    assert words in problems[path]


def test_warnings_name_what_is_ignored_and_what_overrides_a_holiday() -> None:
    c = Campaign.from_dict(
        {
            "timezone": "Pacific/Apia",
            "startDate": "2011-12-20",
            "endDate": "2012-01-10",
            "dateSchedules": {
                "2011-12-30": {"startTime": "09:00", "endTime": "17:00"},  # never happened
                "2012-02-01": {"startTime": "09:00", "endTime": "17:00"},  # after endDate
                "2012-01-02": {"startTime": "09:00", "endTime": "22:00"},  # late, on a holiday
            },
            "holidays": {"country": "WS", "dates": {"2012-01-02": "Day after New Year's Day"}},
        }
    )
    messages = {(w.path, w.message) for w in c.warnings}
    assert (
        "dateSchedules.2011-12-30",
        "2011-12-30 never happens in Pacific/Apia (the zone skips that whole day), "
        "so this entry is ignored",
    ) in messages
    assert (
        "dateSchedules.2012-02-01",
        "2012-02-01 is outside the campaign's dates (2011-12-20 to 2012-01-10), "
        "so this entry is ignored",
    ) in messages
    assert (
        "dateSchedules.2012-01-02",
        "2012-01-02 is Day after New Year's Day (holidays WS); this schedule overrides "
        "the holiday, so calls are made that day",
    ) in messages
    assert any(p == "dateSchedules.2012-01-02" and "08:00-21:00" in m for p, m in messages)
    assert c.is_callable(at("2012-01-02T07:59"))  # 21:59 local (UTC+14) on the holiday
    assert not c.is_callable(at("2012-01-02T08:00"))


def test_a_blackout_inside_a_run_of_whole_days_is_seen_by_next_callable() -> None:
    # Found by the oracle: Monday-Thursday all day make one run Mon 00:00 to Fri
    # 00:00; with Thursday 1970-01-01 blacked out, Thursday 00:00 is not callable
    # even though the weekly template says the run started on Monday.
    c = Campaign.from_dict(
        {
            "timezone": "Africa/Abidjan",
            "endDate": "1970-01-01",
            "activeDays": [0, 1, 2, 3],
            "blackoutDates": ["1970-01-01"],
        },
        now=at("1970-01-01T00:00"),
    )
    assert c.next_callable(at("1970-01-01T00:00")) is None
    c = Campaign.from_dict(
        {"timezone": "UTC", "activeDays": [0, 1, 2, 3], "blackoutDates": ["2024-01-04"]},
        now=at("2024-01-01T00:00"),
    )
    assert c.next_callable(at("2024-01-04T12:00")) == at("2024-01-08T00:00")
    assert c.next_callable(at("2024-01-03T12:00")) == at("2024-01-03T12:00")


@given(
    st.lists(
        st.tuples(
            st.integers(0, 40),
            st.integers(-1, 8),
            st.sampled_from([None, (0, 3600), (7200, 90000)]),
        ),
        max_size=10,
    )
)
def test_date_rules_keep_the_first_listed_rule_for_each_day(
    drawn: list[tuple[int, int, tuple[int, int] | None]],
) -> None:
    from callslots.weekly import DateRules

    ranges = [(first, first + extra, span) for first, extra, span in drawn]
    rules = DateRules.of(ranges)
    for day in range(-2, 52):
        expected = next(((span,) for a, b, span in ranges if a <= day <= b), None)
        i = rules.find(day)
        assert (None if i < 0 else (rules.spans[i],)) == expected, day
    for j in range(1, len(rules.firsts)):  # sorted, disjoint, neighbours joined
        assert rules.lasts[j - 1] < rules.firsts[j]
        joinable = rules.lasts[j - 1] + 1 == rules.firsts[j]
        assert not (joinable and rules.spans[j - 1] == rules.spans[j])


def test_fifty_thousand_blackout_dates_enter_the_rules_once_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Counted, not timed: the rules are built by one sweep in which each range is
    # pushed once (the first version compared every range with every other).
    import heapq
    import types

    from callslots import weekly

    pushed = 0

    def push(heap: list[int], item: int) -> None:
        nonlocal pushed
        pushed += 1
        heapq.heappush(heap, item)

    counting = types.SimpleNamespace(heappush=push, heappop=heapq.heappop)
    monkeypatch.setattr(weekly, "heapq", counting)
    first = date(2024, 1, 1).toordinal()
    dates = [date.fromordinal(first + 2 * k).isoformat() for k in range(50_000)]
    c = Campaign.from_dict({**NEW_YORK_WEEKDAYS, "startDate": "2024-01-01", "blackoutDates": dates})
    assert not c.is_callable(at("2024-01-03T15:00")) and c.is_callable(at("2024-01-02T15:00"))
    skipped = len(c._calendar.zone.skipped_days)
    assert pushed == 50_000 + skipped
    assert c._calendar.rules is not None and len(c._calendar.rules.firsts) == 50_000 + skipped


def test_a_long_blackout_after_a_fall_back_keeps_the_repeated_hour() -> None:
    # 00:00-01:30 every day; 2024-11-03 01:45 EDT is just before the clocks fall back,
    # and the next window after a long blackout is in 2030.  The repeated 01:00-01:30
    # EST of that night must not be jumped over with the blackout.
    c = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-11-01",
            "startTime": "00:00",
            "endTime": "01:30",
            "blackoutDates": [{"start": "2024-11-04", "end": "2029-12-31"}],
        }
    )
    assert c.next_callable(at("2024-11-03T05:45")) == at("2024-11-03T06:00")  # 01:00 EST
    assert spans(c, "2024-11-03T05:00", "2030-01-02") == [
        ("11-03 05:00", "11-03 05:30", "2024-11-03"),  # 01:00-01:30 EDT
        ("11-03 06:00", "11-03 06:30", "2024-11-03"),  # 01:00-01:30 EST, again
        ("01-01 05:00", "01-01 06:30", "2030-01-01"),  # 00:00-01:30 EST
    ]
    # The same with an overnight window whose tail is the repeated hour, and the
    # blackout starting the very next day: next_callable must not jump either.
    c = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-11-01",
            "startTime": "23:00",
            "endTime": "01:30",
            "blackoutDates": [{"start": "2024-11-03", "end": "2029-12-31"}],
        }
    )
    assert c.next_callable(at("2024-11-03T05:45")) == at("2024-11-03T06:00")  # 01:00 EST
