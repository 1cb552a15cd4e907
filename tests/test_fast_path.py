"""The weekly fast path of windows() against the general path, over long date ranges.

``Calendar.windows`` repeats whole template weeks where the zone's offset is
constant; ``Calendar.pieces`` is the general path.  Both must give exactly the
same windows, and the windows' edges must agree with the independent oracle.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from callslots import Campaign
from callslots.tz import MAX_UTC, MIN_UTC, zone_names
from callslots.windows import day_date, from_seconds

ZONES = sorted(zone_names())
DAY = 86400


def clock(s: int) -> str:
    return "24:00" if s == DAY else f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@st.composite
def long_campaigns(draw: st.DrawFn) -> tuple[Campaign, oracle.Spec]:
    tz = draw(
        st.sampled_from(
            [
                "America/New_York",
                "Europe/Dublin",
                "Australia/Lord_Howe",
                "America/Santiago",
                "Africa/Casablanca",
                "Asia/Kathmandu",
            ]
        )
        | st.sampled_from(ZONES)
    )
    start = draw(st.dates(date(1970, 1, 1), date(2090, 1, 1)))
    end = start + timedelta(days=draw(st.integers(0, 3 * 366)))
    quarter = st.integers(0, 95).map(lambda q: q * 900)
    windows = []
    for _ in range(7):
        if draw(st.integers(0, 3)) == 0:  # whole days chain into runs of several days
            windows.append((0, DAY))
            continue
        s = draw(quarter)
        e = draw(st.integers(1, 96).map(lambda q: q * 900).filter(lambda e, s=s: e != s))
        windows.append((s, e))
    active = draw(st.sets(st.integers(0, 6), min_size=1))
    # Dated rules cut the weekly blocks short: a few blackouts and date windows.
    days = st.integers(-2, (end - start).days + 2).map(lambda k: start + timedelta(days=k))
    blackouts = draw(st.sets(days, max_size=6))
    dated: dict[date, tuple[int, int]] = {}
    for day in draw(st.sets(days, max_size=4)) - blackouts:
        s = draw(quarter)
        dated[day] = (
            s,
            draw(st.integers(1, 96).map(lambda q: q * 900).filter(lambda e, s=s: e != s)),
        )
    payload = {
        "timezone": tz,
        "startDate": start.isoformat(),
        "endDate": end.isoformat(),
        "startTime": clock(windows[0][0]),
        "endTime": clock(windows[0][1]),
        "activeDays": sorted(active),
        "daySchedules": {
            str(d): {"startTime": clock(s), "endTime": clock(e)} for d, (s, e) in enumerate(windows)
        },
        "blackoutDates": sorted(d.isoformat() for d in blackouts),
        "dateSchedules": {
            d.isoformat(): {"startTime": clock(s), "endTime": clock(e)}
            for d, (s, e) in dated.items()
        },
    }
    spec = oracle.Spec(
        tz=tz,
        start_date=start,
        end_date=end,
        active_days=frozenset(active),
        day_windows=tuple(windows),
        blackout_dates=frozenset(blackouts),
        date_windows=dated,
    )
    return Campaign.from_dict(payload), spec


@settings(max_examples=60)
@given(long_campaigns())
def test_fast_path_equals_general_path_and_the_oracle(case: tuple[Campaign, oracle.Spec]) -> None:
    campaign, spec = case
    calendar = campaign._calendar
    fast = [(w.start, w.end, w.day) for w in calendar.windows(MIN_UTC, MAX_UTC)]
    general = [
        (from_seconds(a), from_seconds(b), day_date(owner))
        for a, b, owner in calendar.pieces(MIN_UTC, MAX_UTC)
    ]
    assert fast == general
    assert list(calendar.spans(MIN_UTC, MAX_UTC)) == [
        (int(a.timestamp()), int(b.timestamp())) for a, b, _ in fast
    ]
    for start, end, day in fast[:: max(1, len(fast) // 40)]:
        a, b = int(start.timestamp()), int(end.timestamp())
        assert oracle.is_callable(spec, a) and oracle.is_callable(spec, b - 1)
        assert not oracle.is_callable(spec, a - 1) and not oracle.is_callable(spec, b)
        assert oracle.day_of(spec, a) == day
