"""Self-checks of the oracle's per-date exceptions (``blackoutDates``, ``dateSchedules``).

These test the oracle (and the strategies that feed it) alone: nothing here imports
callslots.  The expected instants are worked out by hand from the zone's offsets.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
import strategies
from strategies import Case, cases

H = 3600
UTC = timezone.utc
NY = "America/New_York"
WEEKDAYS = frozenset(range(5))
NINE_TO_FIVE = ((9 * H, 17 * H),) * 7


def z(text: str) -> int:
    """A UTC wall time ("2024-07-04T13:00") as epoch seconds."""
    return oracle.floor_seconds(datetime.fromisoformat(text).replace(tzinfo=UTC))


def spec(**kw: Any) -> oracle.Spec:
    base: dict[str, Any] = {
        "tz": NY,
        "start_date": date(2024, 7, 1),
        "end_date": date(2024, 7, 12),
        "active_days": WEEKDAYS,
        "day_windows": NINE_TO_FIVE,
    }
    base.update(kw)
    return oracle.Spec(**base)


def local_day(d: date, tz: str = NY) -> tuple[int, int]:
    """The UTC instants of local midnight of ``d`` and of ``d + 1`` in ``tz``."""
    zi = oracle.zone(tz)

    def midnight(x: date) -> int:
        return oracle.floor_seconds(datetime(x.year, x.month, x.day, tzinfo=zi))

    return midnight(d), midnight(d + timedelta(days=1))


# ----------------------------------------------------------------------- hand examples


def test_blackout_date_has_no_window() -> None:
    # July 2024 in New York is EDT (UTC-4): 09:00-17:00 local is 13:00Z-21:00Z.
    s = spec(blackout_dates=frozenset({date(2024, 7, 4)}))
    a, b = local_day(date(2024, 7, 4))
    assert (a, b) == (z("2024-07-04T04:00"), z("2024-07-05T04:00"))
    assert oracle.windows(s, a, b) == []
    assert not oracle.is_callable(s, z("2024-07-04T15:00"))
    # the neighbours keep theirs
    assert oracle.windows(s, z("2024-07-03T00:00"), z("2024-07-04T00:00")) == [
        (z("2024-07-03T13:00"), z("2024-07-03T21:00"))
    ]
    assert oracle.windows(s, z("2024-07-05T00:00"), z("2024-07-06T00:00")) == [
        (z("2024-07-05T13:00"), z("2024-07-05T21:00"))
    ]
    # without the blackout, July 4 (a Thursday) would be callable
    assert oracle.windows(spec(), a, b) == [(z("2024-07-04T13:00"), z("2024-07-04T21:00"))]


def test_blackout_range_is_inclusive() -> None:
    dates = frozenset(date(2024, 7, 8) + timedelta(days=i) for i in range(3))  # Mon..Wed
    s = spec(blackout_dates=dates)
    assert oracle.windows(s, z("2024-07-08T00:00"), z("2024-07-11T00:00")) == []
    assert oracle.windows(s, z("2024-07-11T00:00"), z("2024-07-12T00:00")) == [
        (z("2024-07-11T13:00"), z("2024-07-11T21:00"))
    ]


def test_date_schedule_on_an_inactive_saturday() -> None:
    # Saturday 2024-07-06 10:00-12:00 EDT = 14:00Z-16:00Z, though Saturday is inactive.
    s = spec(date_windows={date(2024, 7, 6): (10 * H, 12 * H)})
    a, b = local_day(date(2024, 7, 6))
    assert oracle.windows(s, a, b) == [(z("2024-07-06T14:00"), z("2024-07-06T16:00"))]
    assert oracle.day_of(s, z("2024-07-06T15:00")) == date(2024, 7, 6)
    # Sunday stays inactive, Friday keeps its weekday window
    assert oracle.windows(s, *local_day(date(2024, 7, 7))) == []
    assert oracle.windows(s, *local_day(date(2024, 7, 5))) == [
        (z("2024-07-05T13:00"), z("2024-07-05T21:00"))
    ]


def test_date_schedule_overrides_the_weekday_window() -> None:
    # Wednesday 2024-07-03 gets 18:00:30-20:15 EDT instead of 09:00-17:00:
    # 22:00:30Z to 00:15Z on July 4 (odd seconds: a candidate boundary of its own).
    s = spec(date_windows={date(2024, 7, 3): (18 * H + 30, 20 * H + 15 * 60)})
    assert oracle.windows(s, *local_day(date(2024, 7, 3))) == [
        (z("2024-07-03T22:00:30"), z("2024-07-04T00:15"))
    ]


def test_blackout_keeps_the_tail_of_the_previous_overnight_window() -> None:
    # Every day active; Friday's window is 22:00-02:00, Saturday 2024-07-06 is blacked
    # out.  Friday 22:00 EDT = Sat 02:00Z, Saturday 02:00 EDT = Sat 06:00Z.  Saturday's
    # own 09:00-17:00 (13:00Z-21:00Z) is gone, Friday's tail 00:00-02:00 local
    # (04:00Z-06:00Z) stays.
    windows = list(NINE_TO_FIVE)
    windows[4] = (22 * H, 2 * H)
    s = spec(
        active_days=frozenset(range(7)),
        day_windows=tuple(windows),
        blackout_dates=frozenset({date(2024, 7, 6)}),
    )
    a, b = local_day(date(2024, 7, 6))
    assert oracle.windows(s, a, b) == [(z("2024-07-06T04:00"), z("2024-07-06T06:00"))]
    # Friday's own 22:00 start (Sat 02:00Z) runs through its tail; Sunday 09:00 EDT
    # (13:00Z) is next.
    assert oracle.windows(s, z("2024-07-05T12:00"), z("2024-07-07T04:00")) == [
        (z("2024-07-06T02:00"), z("2024-07-06T06:00"))
    ]
    assert oracle.day_of(s, z("2024-07-06T05:00")) == date(2024, 7, 5)
    assert not oracle.is_callable(s, z("2024-07-06T14:00"))


def test_date_schedule_keeps_the_tail_of_the_previous_overnight_window() -> None:
    # As above, but Saturday has its own 01:00-03:00 instead of a blackout: Friday's
    # tail 00:00-02:00 and Saturday's 01:00-03:00 join into 00:00-03:00 local
    # (04:00Z-07:00Z); 01:30 local (05:30Z) is in both, the earliest owner is Friday.
    windows = list(NINE_TO_FIVE)
    windows[4] = (22 * H, 2 * H)
    s = spec(
        active_days=frozenset(range(7)),
        day_windows=tuple(windows),
        date_windows={date(2024, 7, 6): (1 * H, 3 * H)},
    )
    a, b = local_day(date(2024, 7, 6))
    assert oracle.windows(s, a, b) == [(z("2024-07-06T04:00"), z("2024-07-06T07:00"))]
    assert oracle.owners(s, z("2024-07-06T05:30")) == [date(2024, 7, 5), date(2024, 7, 6)]
    assert oracle.day_of(s, z("2024-07-06T05:30")) == date(2024, 7, 5)
    assert oracle.in_later_day(s, z("2024-07-06T05:30"), date(2024, 7, 5))
    assert oracle.day_of(s, z("2024-07-06T06:30")) == date(2024, 7, 6)
    assert not oracle.in_later_day(s, z("2024-07-06T04:30"), date(2024, 7, 5))


def test_date_schedule_on_spring_forward_day() -> None:
    # Sunday 2024-03-10 (inactive weekday), New York springs forward at 02:00 EST
    # = 07:00Z straight to 03:00 EDT.  Window 01:30-03:30 local:
    #   01:30 EST (UTC-5) = 06:30Z; the wall clock reaches 02:00 at 07:00Z and jumps to
    #   03:00 EDT (UTC-4); 03:30 EDT = 07:30Z.
    # So one interval 06:30Z-07:30Z: 60 real minutes for 120 wall minutes.
    s = spec(
        start_date=date(2024, 3, 4),
        end_date=date(2024, 3, 15),
        date_windows={date(2024, 3, 10): (H + 30 * 60, 3 * H + 30 * 60)},
    )
    a, b = local_day(date(2024, 3, 10))
    assert (a, b) == (z("2024-03-10T05:00"), z("2024-03-11T04:00"))
    assert oracle.windows(s, a, b) == [(z("2024-03-10T06:30"), z("2024-03-10T07:30"))]


def test_date_schedule_on_fall_back_day() -> None:
    # Sunday 2024-11-03, New York falls back at 02:00 EDT = 06:00Z to 01:00 EST.
    # Window 01:30-03:30 local:
    #   01:30 EDT (UTC-4) = 05:30Z to 02:00 EDT = 06:00Z;
    #   then 01:00-01:30 EST (06:00Z-06:30Z) is before the start again: not callable;
    #   01:30 EST (UTC-5) = 06:30Z to 03:30 EST = 08:30Z.
    s = spec(
        start_date=date(2024, 11, 1),
        end_date=date(2024, 11, 8),
        date_windows={date(2024, 11, 3): (H + 30 * 60, 3 * H + 30 * 60)},
    )
    assert oracle.windows(s, *local_day(date(2024, 11, 3))) == [
        (z("2024-11-03T05:30"), z("2024-11-03T06:00")),
        (z("2024-11-03T06:30"), z("2024-11-03T08:30")),
    ]


def test_date_schedules_outside_the_range_are_ignored() -> None:
    # Range 2024-07-01 (Mon) .. 2024-07-05 (Fri).  A date window on Saturday 07-06 is
    # ignored; an overnight one on Sunday 06-30 (before the start) is ignored too, so
    # its tail on Monday 00:00-02:00 is not callable; Friday's overnight window reaches
    # past the end date into Saturday as usual.
    s = spec(
        end_date=date(2024, 7, 5),
        date_windows={
            date(2024, 7, 6): (10 * H, 12 * H),
            date(2024, 6, 30): (22 * H, 2 * H),
            date(2024, 7, 5): (22 * H, 2 * H),
        },
    )
    assert oracle.windows(s, z("2024-06-29T00:00"), z("2024-07-01T12:00")) == []
    assert oracle.windows(s, *local_day(date(2024, 7, 6))) == [
        (z("2024-07-06T04:00"), z("2024-07-06T06:00"))
    ]
    assert oracle.windows(s, *local_day(date(2024, 7, 5))) == [
        (z("2024-07-06T02:00"), z("2024-07-06T04:00"))
    ]


def test_date_schedule_on_a_skipped_day_owns_nothing() -> None:
    # Pacific/Apia skipped 2011-12-30: 2011-12-29 23:59:59 (UTC-10) was followed by
    # 2011-12-31 00:00 (UTC+14) = 2011-12-30T10:00Z.  An overnight 22:00-02:00 on the
    # skipped day would show only as a tail on the 31st; the skipped day owns no
    # window, so nothing is callable.  The 31st's own 10:00-11:00 (UTC+14 = 20:00Z
    # on the 30th) still is.
    assert oracle.SKIPPED_DAYS_OWN_NO_WINDOW
    assert not oracle.day_occurs("Pacific/Apia", date(2011, 12, 30))
    s = oracle.Spec(
        tz="Pacific/Apia",
        start_date=date(2011, 12, 28),
        end_date=date(2012, 1, 1),
        active_days=frozenset({0}),
        date_windows={
            date(2011, 12, 30): (22 * H, 2 * H),
            date(2011, 12, 31): (10 * H, 11 * H),
        },
    )
    assert oracle.windows(s, z("2011-12-27T00:00"), z("2012-01-03T00:00")) == [
        (z("2011-12-30T20:00"), z("2011-12-30T21:00"))
    ]


def test_spec_stays_hashable_and_normalises_its_exceptions() -> None:
    a = spec(date_windows={date(2024, 7, 6): (10 * H, 12 * H)}, blackout_dates={date(2024, 7, 4)})
    b = spec(
        date_windows=oracle.DateWindows([(date(2024, 7, 6), (10 * H, 12 * H))]),
        blackout_dates=frozenset({date(2024, 7, 4)}),
    )
    assert a == b and hash(a) == hash(b)
    assert isinstance(a.blackout_dates, frozenset)
    assert spec() != a and spec() == spec() and hash(spec()) == hash(spec())
    for bad in [(3600, 3600), (-1, 5), (0, oracle.DAY + 1)]:
        try:
            spec(date_windows={date(2024, 7, 6): bad})
        except ValueError:
            continue
        raise AssertionError(f"{bad} accepted")


# ------------------------------------------------------------------ the strategies


def _parse_time(text: str) -> int:
    parts = [int(p) for p in text.split(":")]
    assert len(parts) in (2, 3), text
    h, m, sec = (*parts, 0)[:3]
    return h * 3600 + m * 60 + sec


def _payload_exceptions(payload: dict[str, Any]) -> tuple[set[date], dict[date, tuple[int, int]]]:
    """An independent reading of the payload's exceptions, to check the strategy."""
    blacked: set[date] = set()
    for item in payload.get("blackoutDates", []):
        if isinstance(item, str):
            blacked.add(date.fromisoformat(item))
        else:
            assert set(item) == {"start", "end"}
            start, end = date.fromisoformat(item["start"]), date.fromisoformat(item["end"])
            assert start <= end
            blacked.update(start + timedelta(days=i) for i in range((end - start).days + 1))
    own: dict[date, tuple[int, int]] = {}
    for key, entry in payload.get("dateSchedules", {}).items():
        assert set(entry) == {"startTime", "endTime"}
        s, e = _parse_time(entry["startTime"]), _parse_time(entry["endTime"])
        assert s != e
        own[date.fromisoformat(key)] = (s, e)
    return blacked, own


@given(cases)
def test_payload_and_spec_agree_on_exceptions(case: Case) -> None:
    blacked, own = _payload_exceptions(case.payload)
    assert blacked == set(case.spec.blackout_dates)
    assert own == dict(case.spec.date_windows)
    assert not blacked & set(own), "a date both blacked out and scheduled"


@given(cases, st.data())
def test_windows_see_date_window_boundaries(case: Case, data: st.DataObject) -> None:
    """``windows`` agrees with ``is_callable`` around every date window's wall times."""
    spec = case.spec
    if not spec.date_windows:
        return
    found = oracle.windows(spec, case.lo, case.hi)

    def inside(u: int) -> bool:
        return any(a <= u < b for a, b in found)

    offs = oracle.offsets(spec.tz, case.lo, case.hi)
    for d, (s, e) in spec.date_windows.items():
        base = oracle.day_number(d) * oracle.DAY
        for w in (base + s, base + e if s < e else base + oracle.DAY + e):
            for off in offs:
                for u in (w - off - 1, w - off, w - off + 1):
                    if case.lo <= u < case.hi:
                        assert inside(u) == oracle.is_callable(spec, u), (d, u)
    u = data.draw(st.integers(case.lo, case.hi - 1))
    assert inside(u) == oracle.is_callable(spec, u)


def test_cases_draw_exceptions_in_a_minority() -> None:
    seen: list[tuple[bool, bool, bool]] = []

    @settings(max_examples=300, derandomize=True, database=None, deadline=None)
    @given(cases)
    def run(case: Case) -> None:
        p = case.payload
        seen.append(
            (
                "blackoutDates" in p or "dateSchedules" in p,
                any(isinstance(i, dict) for i in p.get("blackoutDates", [])),
                any(
                    _parse_time(v["startTime"]) > _parse_time(v["endTime"])
                    for v in p.get("dateSchedules", {}).values()
                ),
            )
        )

    run()
    with_exceptions = sum(x[0] for x in seen) / len(seen)
    assert 0.2 <= with_exceptions <= 0.6, with_exceptions
    assert any(x[1] for x in seen) and any(x[2] for x in seen)


def test_transition_days_finds_new_york_spring_forward() -> None:
    days = strategies.transition_days(NY, date(2024, 3, 1), date(2024, 3, 20))
    assert days == [date(2024, 3, 9), date(2024, 3, 10)]
