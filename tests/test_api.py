"""Named behaviours of the public API that the property tests do not pin by name."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

import callslots
from callslots import Campaign, Window

UTC = timezone.utc


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_public_names() -> None:
    assert set(callslots.__all__) >= {
        "Campaign",
        "ConfigError",
        "Outcome",
        "Problem",
        "RetryDecision",
        "Window",
    }
    for name in callslots.__all__:
        assert hasattr(callslots, name)


@pytest.mark.parametrize("method", ["is_callable", "next_callable", "day_of"])
def test_naive_datetimes_are_refused(method: str) -> None:
    c = Campaign.from_dict({"startDate": "2024-01-01"})
    with pytest.raises(TypeError, match="naive"):
        getattr(c, method)(datetime(2024, 1, 1, 12))
    with pytest.raises(TypeError, match="datetime"):
        getattr(c, method)(date(2024, 1, 1))


def test_naive_window_bounds_are_refused_at_the_call() -> None:
    c = Campaign.from_dict({"startDate": "2024-01-01"})
    with pytest.raises(TypeError, match="naive"):
        c.windows(datetime(2024, 1, 1))
    with pytest.raises(TypeError, match="naive"):
        c.windows(end=datetime(2024, 1, 1))


def test_results_are_utc_and_subsecond_bounds_are_kept() -> None:
    c = Campaign.from_dict(
        {
            "timezone": "Europe/Prague",
            "startDate": "2024-01-01",
            "startTime": "09:00",
            "endTime": "17:00",
        }
    )
    start = datetime(2024, 1, 2, 10, 0, 0, 500, tzinfo=ZoneInfo("Europe/Prague"))
    end = utc(2024, 1, 3, 12, 0, 0, 750)
    got = list(c.windows(start, end))
    assert got[0].start == start and got[0].start.tzinfo is UTC
    assert got[-1].end == end and got[-1].day == date(2024, 1, 3)
    assert c.next_callable(start) == start and c.next_callable(start).tzinfo is UTC  # type: ignore[union-attr]


def test_windows_are_lazy_and_endless_without_an_end() -> None:
    c = Campaign.from_dict({"startDate": "2024-01-01", "startTime": "09:00", "endTime": "10:00"})
    first = list(itertools.islice(c.windows(), 3))
    assert [w.day for w in first] == [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)]
    far = next(iter(c.windows(utc(9999, 12, 30))))
    assert far.start == utc(9999, 12, 30, 9)


def test_around_the_clock_forever_is_one_window_to_the_end_of_time() -> None:
    c = Campaign.from_dict({"timezone": "America/New_York", "startDate": "2024-01-01"})
    (only,) = list(c.windows())
    assert only.start == utc(2024, 1, 1, 5) and only.end == utc(9999, 12, 31, 23, 59, 59)
    assert only.day == date(2024, 1, 1)


def test_around_the_clock_with_an_end_date() -> None:
    c = Campaign.from_dict(
        {
            "timezone": "Asia/Tokyo",
            "startDate": "2024-01-01",
            "endDate": "2099-12-31",
            "startTime": "12:00",
            "endTime": "12:00:01",
        }
        | {"daySchedules": {str(d): {"startTime": "00:00", "endTime": "24:00"} for d in range(7)}}
    )
    (only,) = list(c.windows())
    assert (only.start, only.end) == (utc(2023, 12, 31, 15), utc(2099, 12, 31, 15))


def test_nothing_callable_is_answered_at_once() -> None:
    # Only 02:00-02:30 on the day New York springs forward: that wall time never happens.
    c = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-03-10",
            "endDate": "2024-03-10",
            "startTime": "02:00",
            "endTime": "02:30",
        }
    )
    assert list(c.windows()) == []
    assert c.next_callable(utc(1970, 1, 1)) is None
    assert not c.is_callable(utc(2024, 3, 10, 7, 15))
    assert c.retry("Busy", 1, utc(2024, 3, 1)).retry is False
    ended = Campaign.from_dict({"startDate": "2020-01-01", "endDate": "2020-01-02"})
    assert ended.next_callable(utc(2024, 1, 1)) is None


def test_far_future_and_the_end_of_the_time_line() -> None:
    c = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2100-03-01",
            "startTime": "01:30",
            "endTime": "02:30",
        }
    )
    # 2100-03-14 is the second Sunday of March: the gap swallows 02:00-02:30.
    day = next(w for w in c.windows() if w.day == date(2100, 3, 14))
    assert (day.start, day.end) == (utc(2100, 3, 14, 6, 30), utc(2100, 3, 14, 7))
    late = Campaign.from_dict({"timezone": "Pacific/Kiritimati", "startDate": "9999-12-30"})
    (last,) = list(late.windows())
    assert last.end == utc(9999, 12, 31, 10)  # 9999-12-31 24:00 at +14:00
    assert late.next_callable(utc(9999, 12, 31, 23)) is None


def test_immediate_start_inside_an_overnight_window() -> None:
    now = datetime(2024, 6, 5, 1, 0, tzinfo=ZoneInfo("Europe/Prague"))
    c = Campaign.from_dict(
        {"timezone": "Europe/Prague", "startTime": "22:00", "endTime": "02:00"}, now=now
    )
    assert c.is_callable(now) and c.day_of(now) == date(2024, 6, 4)
    first = next(iter(c.windows()))
    assert first.start == now and first.end == utc(2024, 6, 5, 0) and first.day == date(2024, 6, 4)
    assert not c.is_callable(now - timedelta(seconds=1))


def test_day_of_prefers_the_earliest_owner_where_windows_overlap() -> None:
    c = Campaign.from_dict(
        {
            "startDate": "2024-01-01",
            "startTime": "20:00",
            "endTime": "10:00",
            "daySchedules": {"1": {"startTime": "08:00", "endTime": "12:00"}},
        }
    )
    # Monday's overnight window runs to Tuesday 10:00; Tuesday's own window opens at 08:00.
    assert c.day_of(utc(2024, 1, 2, 9)) == date(2024, 1, 1)
    assert c.day_of(utc(2024, 1, 2, 11)) == date(2024, 1, 2)
    merged = next(w for w in c.windows() if w.day == date(2024, 1, 1))
    assert (merged.start, merged.end) == (utc(2024, 1, 1, 20), utc(2024, 1, 2, 12))
    # Outside every window: the local date.
    assert c.day_of(utc(2024, 1, 2, 15)) == date(2024, 1, 2)


def test_window_is_a_frozen_value() -> None:
    w = Window(utc(2024, 1, 1), utc(2024, 1, 1, 1), date(2024, 1, 1))
    assert w.duration == timedelta(hours=1)
    with pytest.raises(AttributeError):
        w.start = utc(2024, 1, 2)  # type: ignore[misc]
    assert w == Window(utc(2024, 1, 1), utc(2024, 1, 1, 1), date(2024, 1, 1))


def test_a_skipped_calendar_day_owns_no_window_not_even_an_overnight_tail() -> None:
    # Samoa skipped Friday 2011-12-30: 2011-12-29 24:00 (-10:00) was followed by
    # 2011-12-31 00:00 (+14:00).  Thursday's overnight window keeps its two real
    # hours; Friday's window, tail included, does not exist; Saturday is normal.
    c = Campaign.from_dict(
        {
            "timezone": "Pacific/Apia",
            "startDate": "2011-12-29",
            "endDate": "2011-12-31",
            "startTime": "22:00",
            "endTime": "02:00",
        }
    )
    got = [(w.start, w.end, w.day) for w in c.windows()]
    assert got == [
        (utc(2011, 12, 30, 8), utc(2011, 12, 30, 10), date(2011, 12, 29)),
        (utc(2011, 12, 31, 8), utc(2011, 12, 31, 12), date(2011, 12, 31)),
    ]
    assert not c.is_callable(utc(2011, 12, 30, 11))  # 2011-12-31 01:00 local, Friday's tail
    assert c.day_of(utc(2011, 12, 30, 11)) == date(2011, 12, 31)


def test_around_the_clock_across_a_skipped_day_stays_one_window() -> None:
    c = Campaign.from_dict({"timezone": "Pacific/Apia", "startDate": "2011-12-20"})
    (only,) = list(c.windows())
    assert only.start == utc(2011, 12, 20, 10) and only.end == utc(9999, 12, 31, 11)


def test_an_overnight_window_ending_at_midnight_is_the_rest_of_its_day() -> None:
    c = Campaign.from_dict({"startDate": "2024-01-01", "startTime": "22:00", "endTime": "00:00"})
    assert str(c.hours) == "22:00-24:00" and c.to_dict()["endTime"] == "24:00"
    first = next(iter(c.windows()))
    assert (first.start, first.end) == (utc(2024, 1, 1, 22), utc(2024, 1, 2))


def test_whole_days_that_chain_across_a_week_boundary_merge() -> None:
    # Sunday and Monday, whole days: one two-day window a week, never a second
    # window starting on Monday (the weekly fast path once produced one).
    c = Campaign.from_dict({"startDate": "2024-01-01", "activeDays": [0, 6]})
    got = [(w.start, w.end, w.day) for w in itertools.islice(c.windows(), 4)]
    assert got == [
        (utc(2024, 1, 1), utc(2024, 1, 2), date(2024, 1, 1)),
        (utc(2024, 1, 7), utc(2024, 1, 9), date(2024, 1, 7)),
        (utc(2024, 1, 14), utc(2024, 1, 16), date(2024, 1, 14)),
        (utc(2024, 1, 21), utc(2024, 1, 23), date(2024, 1, 21)),
    ]


def test_an_empty_range_has_no_windows_even_inside_a_second() -> None:
    c = Campaign.from_dict({"startDate": "2024-01-01", "startTime": "09:00", "endTime": "17:00"})
    t = utc(2024, 1, 2, 10, 0, 0, 1)
    assert list(c.windows(t, t)) == []
    assert list(c.windows(t, t - timedelta(microseconds=1))) == []


def test_a_window_that_runs_across_a_fall_back_stays_one_window_after_a_fast_week() -> None:
    # Cairo fell back at 1972-10-01T00:00Z (03:00 EET+1 -> 02:00).  Saturday's window
    # 03:00:01 -> 03:00 next day runs across it; a block of whole weeks ending right at
    # the change once left it as two touching windows.
    c = Campaign.from_dict(
        {
            "timezone": "Africa/Cairo",
            "startDate": "1972-09-29",
            "activeDays": [4, 5],
            "daySchedules": {
                "4": {"startTime": "02:00:01", "endTime": "02:00:00"},
                "5": {"startTime": "03:00:01", "endTime": "03:00:00"},
            },
        }
    )
    got = [(w.start, w.end) for w in itertools.islice(c.windows(), 3)]
    assert got[1] == (utc(1972, 9, 30, 0, 0, 1), utc(1972, 10, 1, 1))
    assert all(a[1] < b[0] for a, b in itertools.pairwise(got))


def test_public_types_names_and_reprs() -> None:
    """Issue 10, point 8: what a public method returns is importable, the engine's
    parts are not public attributes, and reprs are one short line."""
    from zoneinfo import ZoneInfo

    import callslots

    c = Campaign.from_dict(
        {
            "timezone": "Pacific/Kiritimati",
            "startDate": "2024-03-15",
            "startTime": "09:00",
            "endTime": "17:00",
            "activeDays": [0, 1, 2, 3, 4],
            "phoneList": [f"+1415{n:07d}" for n in range(200_000)],
        }
    )
    assert all(not hasattr(c, name) for name in ("calendar", "slot_table", "views"))
    shown = repr(c)
    assert "\n" not in shown and len(shown) < 200 and "customers=200000" in shown
    assert "Pacific/Kiritimati" in shown and "09:00-17:00" in shown
    assert c.zone == ZoneInfo("Pacific/Kiritimati")
    w = next(c.windows())
    assert w.local_start == datetime(2024, 3, 15, 9, tzinfo=ZoneInfo("Pacific/Kiritimati"))
    assert w.local_end.hour == 17 and w.local_start.utcoffset() == timedelta(hours=14)
    assert (c.hours.start_time.hour, c.hours.end_time.hour) == (9, 17)
    assert type(c.for_customer("+14155550100")).__name__ in callslots.__all__
    model = callslots.RandomOutcomes(3, {"Busy": 1.0}, 60.0)
    assert repr(model) == "RandomOutcomes(seed=3, weights={'Busy': 1.0}, duration=60.0)"
    small = Campaign.from_dict(
        {"timezone": "UTC", "phoneList": ["+14155550100"]}, now=utc(2024, 1, 1)
    )
    simulation = callslots.simulate(small, model)
    assert repr(simulation).startswith("Simulation(Campaign(timezone='UTC'")
    assert "RandomOutcomes(seed=3" in repr(simulation) and "\n" not in repr(simulation)


def test_a_window_at_the_end_of_the_time_line_has_no_local_end_east_of_utc() -> None:
    c = Campaign.from_dict({"timezone": "Pacific/Kiritimati", "startDate": "9999-12-31"})
    last = list(c.windows())[-1]
    assert last.local_start.year == 9999
    with pytest.raises(ValueError, match="outside the years 1-9999"):
        _ = last.local_end
