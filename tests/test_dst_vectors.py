"""The verified hard-day vectors of /work/shared/dst-vectors.md, one named case per window.

Every expected interval is written out in UTC here (half-open ``[start, end)``); "()"
means the window is empty that day.  Each case is checked three ways:

* the oracle agrees with the vector (this validates the oracle itself);
* a one-day campaign (startDate = endDate = D) yields exactly the expected windows;
* a three-day campaign (startDate = D - 1, endDate = D + 1, all seven days active)
  yields the expected windows as the windows owned by D (``Window.day == D``), and
  agrees with the oracle on all three days.  Where D's whole-day windows touch a
  neighbour's they merge into one window owned by the earlier day, so there the
  expected intervals must be covered by the windows instead.

Apia's overnight row also pins down the skipped-day decision (see
``oracle.SKIPPED_DAYS_OWN_NO_WINDOW``): the skipped 2011-12-30 owns no window, not even
the after-midnight tail of its own 22:00-02:00 window, so with 2011-12-28..2011-12-30
nothing follows Thursday's two hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

import oracle

DAY = oracle.DAY


@dataclass(frozen=True)
class Vector:
    name: str
    tz: str
    day: str  # local date D, YYYY-MM-DD
    start: str  # startTime
    end: str  # endTime
    expected: tuple[tuple[str, str], ...]  # UTC intervals, ISO 8601 with Z
    merges_with_neighbours: bool = False

    @property
    def d(self) -> date:
        return date.fromisoformat(self.day)


def _v(
    name: str,
    tz: str,
    day: str,
    window: str,
    *expected: tuple[str, str],
    merges: bool = False,
) -> Vector:
    start, end = window.split("-")
    return Vector(name, tz, day, start, end, tuple(expected), merges)


NY = "America/New_York"

VECTORS = [
    # America/New_York 2024-03-10, spring-forward at 07:00Z (02:00 -> 03:00)
    _v(
        "ny-2024-spring-09-17",
        NY,
        "2024-03-10",
        "09:00-17:00",
        ("2024-03-10T13:00:00Z", "2024-03-10T21:00:00Z"),
    ),
    _v(
        "ny-2024-spring-0130-0230",
        NY,
        "2024-03-10",
        "01:30-02:30",
        ("2024-03-10T06:30:00Z", "2024-03-10T07:00:00Z"),
    ),
    _v("ny-2024-spring-02-03-empty", NY, "2024-03-10", "02:00-03:00"),
    _v(
        "ny-2024-spring-0230-0330",
        NY,
        "2024-03-10",
        "02:30-03:30",
        ("2024-03-10T07:00:00Z", "2024-03-10T07:30:00Z"),
    ),
    _v(
        "ny-2024-spring-whole-day-23h",
        NY,
        "2024-03-10",
        "00:00-24:00",
        ("2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z"),
        merges=True,
    ),
    # America/New_York 2024-11-03, fall-back at 06:00Z (02:00 -> 01:00)
    _v(
        "ny-2024-fall-0130-0230-split",
        NY,
        "2024-11-03",
        "01:30-02:30",
        ("2024-11-03T05:30:00Z", "2024-11-03T06:00:00Z"),
        ("2024-11-03T06:30:00Z", "2024-11-03T07:30:00Z"),
    ),
    _v(
        "ny-2024-fall-01-02-two-hours",
        NY,
        "2024-11-03",
        "01:00-02:00",
        ("2024-11-03T05:00:00Z", "2024-11-03T07:00:00Z"),
    ),
    _v(
        "ny-2024-fall-0030-0130-split",
        NY,
        "2024-11-03",
        "00:30-01:30",
        ("2024-11-03T04:30:00Z", "2024-11-03T05:30:00Z"),
        ("2024-11-03T06:00:00Z", "2024-11-03T06:30:00Z"),
    ),
    _v(
        "ny-2024-fall-whole-day-25h",
        NY,
        "2024-11-03",
        "00:00-24:00",
        ("2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z"),
        merges=True,
    ),
    # overnight windows across the 2024 transitions
    _v(
        "ny-2024-overnight-22-02-across-fall-back",
        NY,
        "2024-11-02",
        "22:00-02:00",
        ("2024-11-03T02:00:00Z", "2024-11-03T07:00:00Z"),
    ),
    _v(
        "ny-2024-overnight-22-02-across-spring-forward",
        NY,
        "2024-03-09",
        "22:00-02:00",
        ("2024-03-10T03:00:00Z", "2024-03-10T07:00:00Z"),
    ),
    _v(
        "ny-2024-overnight-22-03-across-spring-forward",
        NY,
        "2024-03-09",
        "22:00-03:00",
        ("2024-03-10T03:00:00Z", "2024-03-10T07:00:00Z"),
    ),
    # America/New_York 2025
    _v(
        "ny-2025-spring-0130-0230",
        NY,
        "2025-03-09",
        "01:30-02:30",
        ("2025-03-09T06:30:00Z", "2025-03-09T07:00:00Z"),
    ),
    _v(
        "ny-2025-spring-0230-0330",
        NY,
        "2025-03-09",
        "02:30-03:30",
        ("2025-03-09T07:00:00Z", "2025-03-09T07:30:00Z"),
    ),
    _v(
        "ny-2025-fall-0130-0230-split",
        NY,
        "2025-11-02",
        "01:30-02:30",
        ("2025-11-02T05:30:00Z", "2025-11-02T06:00:00Z"),
        ("2025-11-02T06:30:00Z", "2025-11-02T07:30:00Z"),
    ),
    _v(
        "ny-2025-fall-09-17",
        NY,
        "2025-11-02",
        "09:00-17:00",
        ("2025-11-02T14:00:00Z", "2025-11-02T22:00:00Z"),
    ),
    # Europe/Prague
    _v("prague-2024-spring-02-03-empty", "Europe/Prague", "2024-03-31", "02:00-03:00"),
    _v(
        "prague-2024-spring-0130-0330",
        "Europe/Prague",
        "2024-03-31",
        "01:30-03:30",
        ("2024-03-31T00:30:00Z", "2024-03-31T01:30:00Z"),
    ),
    _v(
        "prague-2024-fall-02-03-two-hours",
        "Europe/Prague",
        "2024-10-27",
        "02:00-03:00",
        ("2024-10-27T00:00:00Z", "2024-10-27T02:00:00Z"),
    ),
    _v(
        "prague-2024-fall-0230-0330-split",
        "Europe/Prague",
        "2024-10-27",
        "02:30-03:30",
        ("2024-10-27T00:30:00Z", "2024-10-27T01:00:00Z"),
        ("2024-10-27T01:30:00Z", "2024-10-27T02:30:00Z"),
    ),
    # Australia/Lord_Howe: 30-minute DST
    _v("lord-howe-spring-02-0230-empty", "Australia/Lord_Howe", "2024-10-06", "02:00-02:30"),
    _v(
        "lord-howe-spring-0145-0245",
        "Australia/Lord_Howe",
        "2024-10-06",
        "01:45-02:45",
        ("2024-10-05T15:15:00Z", "2024-10-05T15:45:00Z"),
    ),
    _v(
        "lord-howe-fall-0130-02-one-hour",
        "Australia/Lord_Howe",
        "2024-04-07",
        "01:30-02:00",
        ("2024-04-06T14:30:00Z", "2024-04-06T15:30:00Z"),
    ),
    _v(
        "lord-howe-fall-0145-0215-split",
        "Australia/Lord_Howe",
        "2024-04-07",
        "01:45-02:15",
        ("2024-04-06T14:45:00Z", "2024-04-06T15:00:00Z"),
        ("2024-04-06T15:15:00Z", "2024-04-06T15:45:00Z"),
    ),
    # America/Santiago: transitions at local midnight
    _v("santiago-spring-00-01-empty", "America/Santiago", "2024-09-08", "00:00-01:00"),
    _v(
        "santiago-spring-whole-day-23h",
        "America/Santiago",
        "2024-09-08",
        "00:00-24:00",
        ("2024-09-08T04:00:00Z", "2024-09-09T03:00:00Z"),
        merges=True,
    ),
    _v(
        "santiago-spring-0030-0130",
        "America/Santiago",
        "2024-09-08",
        "00:30-01:30",
        ("2024-09-08T04:00:00Z", "2024-09-08T04:30:00Z"),
    ),
    _v(
        "santiago-fall-saturday-23-24-two-hours",
        "America/Santiago",
        "2024-04-06",
        "23:00-24:00",
        ("2024-04-07T02:00:00Z", "2024-04-07T04:00:00Z"),
    ),
    _v(
        "santiago-fall-saturday-overnight-2330-0030",
        "America/Santiago",
        "2024-04-06",
        "23:30-00:30",
        ("2024-04-07T02:30:00Z", "2024-04-07T03:00:00Z"),
        ("2024-04-07T03:30:00Z", "2024-04-07T04:30:00Z"),
    ),
    _v(
        "santiago-fall-sunday-00-01-once",
        "America/Santiago",
        "2024-04-07",
        "00:00-01:00",
        ("2024-04-07T04:00:00Z", "2024-04-07T05:00:00Z"),
    ),
    # America/Havana: midnight missing / repeated
    _v("havana-spring-00-01-empty", "America/Havana", "2024-03-10", "00:00-01:00"),
    _v(
        "havana-spring-whole-day-23h",
        "America/Havana",
        "2024-03-10",
        "00:00-24:00",
        ("2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z"),
        merges=True,
    ),
    _v(
        "havana-fall-00-01-two-hours",
        "America/Havana",
        "2024-11-03",
        "00:00-01:00",
        ("2024-11-03T04:00:00Z", "2024-11-03T06:00:00Z"),
    ),
    _v(
        "havana-fall-0030-0130-split",
        "America/Havana",
        "2024-11-03",
        "00:30-01:30",
        ("2024-11-03T04:30:00Z", "2024-11-03T05:00:00Z"),
        ("2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z"),
    ),
    # America/Sao_Paulo: historic midnight transitions
    _v("sao-paulo-2018-spring-00-01-empty", "America/Sao_Paulo", "2018-11-04", "00:00-01:00"),
    _v(
        "sao-paulo-2018-spring-whole-day",
        "America/Sao_Paulo",
        "2018-11-04",
        "00:00-24:00",
        ("2018-11-04T03:00:00Z", "2018-11-05T02:00:00Z"),
        merges=True,
    ),
    _v(
        "sao-paulo-2019-fall-saturday-23-24",
        "America/Sao_Paulo",
        "2019-02-16",
        "23:00-24:00",
        ("2019-02-17T01:00:00Z", "2019-02-17T03:00:00Z"),
    ),
    _v(
        "sao-paulo-2019-fall-saturday-whole-day-25h",
        "America/Sao_Paulo",
        "2019-02-16",
        "00:00-24:00",
        ("2019-02-16T02:00:00Z", "2019-02-17T03:00:00Z"),
        merges=True,
    ),
    # Pacific/Apia: 2011-12-30 skipped
    _v("apia-skipped-day-09-17-empty", "Pacific/Apia", "2011-12-30", "09:00-17:00"),
    _v(
        "apia-skipped-day-whole-day-empty", "Pacific/Apia", "2011-12-30", "00:00-24:00", merges=True
    ),
    _v(
        "apia-overnight-into-skipped-day",
        "Pacific/Apia",
        "2011-12-29",
        "22:00-02:00",
        ("2011-12-30T08:00:00Z", "2011-12-30T10:00:00Z"),
    ),
    # Pacific/Kiritimati: 1994-12-31 skipped, dst() = 0 on both sides
    _v("kiritimati-skipped-day-09-17-empty", "Pacific/Kiritimati", "1994-12-31", "09:00-17:00"),
    _v(
        "kiritimati-skipped-day-whole-day-empty",
        "Pacific/Kiritimati",
        "1994-12-31",
        "00:00-24:00",
        merges=True,
    ),
    # Europe/Dublin: negative DST
    _v("dublin-spring-01-02-empty", "Europe/Dublin", "2024-03-31", "01:00-02:00"),
    _v(
        "dublin-spring-0030-0230",
        "Europe/Dublin",
        "2024-03-31",
        "00:30-02:30",
        ("2024-03-31T00:30:00Z", "2024-03-31T01:30:00Z"),
    ),
    _v(
        "dublin-fall-01-02-two-hours",
        "Europe/Dublin",
        "2024-10-27",
        "01:00-02:00",
        ("2024-10-27T00:00:00Z", "2024-10-27T02:00:00Z"),
    ),
    _v(
        "dublin-fall-0130-0230-split",
        "Europe/Dublin",
        "2024-10-27",
        "01:30-02:30",
        ("2024-10-27T00:30:00Z", "2024-10-27T01:00:00Z"),
        ("2024-10-27T01:30:00Z", "2024-10-27T02:30:00Z"),
    ),
    # Africa/Casablanca: Ramadan suspension and return
    _v(
        "casablanca-ramadan-fold-02-03",
        "Africa/Casablanca",
        "2024-03-10",
        "02:00-03:00",
        ("2024-03-10T01:00:00Z", "2024-03-10T03:00:00Z"),
    ),
    _v(
        "casablanca-ramadan-fold-0230-0330-split",
        "Africa/Casablanca",
        "2024-03-10",
        "02:30-03:30",
        ("2024-03-10T01:30:00Z", "2024-03-10T02:00:00Z"),
        ("2024-03-10T02:30:00Z", "2024-03-10T03:30:00Z"),
    ),
    _v(
        "casablanca-ramadan-fold-09-17",
        "Africa/Casablanca",
        "2024-03-10",
        "09:00-17:00",
        ("2024-03-10T09:00:00Z", "2024-03-10T17:00:00Z"),
    ),
    _v("casablanca-return-gap-02-03-empty", "Africa/Casablanca", "2024-04-14", "02:00-03:00"),
    _v(
        "casablanca-return-gap-0230-0330",
        "Africa/Casablanca",
        "2024-04-14",
        "02:30-03:30",
        ("2024-04-14T02:00:00Z", "2024-04-14T02:30:00Z"),
    ),
    _v(
        "casablanca-return-gap-09-17",
        "Africa/Casablanca",
        "2024-04-14",
        "09:00-17:00",
        ("2024-04-14T08:00:00Z", "2024-04-14T16:00:00Z"),
    ),
    # Antarctica/Troll: 2-hour shifts
    _v("troll-spring-01-03-empty", "Antarctica/Troll", "2024-03-31", "01:00-03:00"),
    _v("troll-spring-0130-0230-empty", "Antarctica/Troll", "2024-03-31", "01:30-02:30"),
    _v(
        "troll-spring-0230-0330",
        "Antarctica/Troll",
        "2024-03-31",
        "02:30-03:30",
        ("2024-03-31T01:00:00Z", "2024-03-31T01:30:00Z"),
    ),
    _v(
        "troll-fall-01-03-four-hours",
        "Antarctica/Troll",
        "2024-10-27",
        "01:00-03:00",
        ("2024-10-26T23:00:00Z", "2024-10-27T03:00:00Z"),
    ),
    _v(
        "troll-fall-0130-0230-split",
        "Antarctica/Troll",
        "2024-10-27",
        "01:30-02:30",
        ("2024-10-26T23:30:00Z", "2024-10-27T00:30:00Z"),
        ("2024-10-27T01:30:00Z", "2024-10-27T02:30:00Z"),
    ),
    # Asia/Kathmandu: quarter-hour offset
    _v(
        "kathmandu-control-09-17",
        "Asia/Kathmandu",
        "2024-06-03",
        "09:00-17:00",
        ("2024-06-03T03:15:00Z", "2024-06-03T11:15:00Z"),
    ),
    _v(
        "kathmandu-1986-00-01-45-min",
        "Asia/Kathmandu",
        "1986-01-01",
        "00:00-01:00",
        ("1985-12-31T18:30:00Z", "1985-12-31T19:15:00Z"),
    ),
    _v("kathmandu-1986-00-0015-empty", "Asia/Kathmandu", "1986-01-01", "00:00-00:15"),
    # America/St_Johns: half-hour base offset
    _v(
        "st-johns-spring-09-17",
        "America/St_Johns",
        "2024-03-10",
        "09:00-17:00",
        ("2024-03-10T11:30:00Z", "2024-03-10T19:30:00Z"),
    ),
    _v(
        "st-johns-spring-0130-0230",
        "America/St_Johns",
        "2024-03-10",
        "01:30-02:30",
        ("2024-03-10T05:00:00Z", "2024-03-10T05:30:00Z"),
    ),
    _v(
        "st-johns-fall-09-17",
        "America/St_Johns",
        "2024-11-03",
        "09:00-17:00",
        ("2024-11-03T12:30:00Z", "2024-11-03T20:30:00Z"),
    ),
    _v(
        "st-johns-fall-0130-0230-split",
        "America/St_Johns",
        "2024-11-03",
        "01:30-02:30",
        ("2024-11-03T04:00:00Z", "2024-11-03T04:30:00Z"),
        ("2024-11-03T05:00:00Z", "2024-11-03T06:00:00Z"),
    ),
    # Pacific/Chatham: transitions at 02:45 local
    _v(
        "chatham-spring-02-03-45-min",
        "Pacific/Chatham",
        "2024-09-29",
        "02:00-03:00",
        ("2024-09-28T13:15:00Z", "2024-09-28T14:00:00Z"),
    ),
    _v("chatham-spring-0245-0345-empty", "Pacific/Chatham", "2024-09-29", "02:45-03:45"),
    _v(
        "chatham-fall-03-04-split",
        "Pacific/Chatham",
        "2024-04-07",
        "03:00-04:00",
        ("2024-04-06T13:15:00Z", "2024-04-06T14:00:00Z"),
        ("2024-04-06T14:15:00Z", "2024-04-06T15:15:00Z"),
    ),
    # Africa/Monrovia: an offset with seconds
    _v(
        "monrovia-1972-44m30s-gap",
        "Africa/Monrovia",
        "1972-01-07",
        "00:00-01:00",
        ("1972-01-07T00:44:30Z", "1972-01-07T01:00:00Z"),
    ),
    # Europe/Moscow: a fold with dst() = 0 on both sides
    _v(
        "moscow-2014-fold-01-02-two-hours",
        "Europe/Moscow",
        "2014-10-26",
        "01:00-02:00",
        ("2014-10-25T21:00:00Z", "2014-10-25T23:00:00Z"),
    ),
    _v(
        "moscow-2014-fold-0130-0230-split",
        "Europe/Moscow",
        "2014-10-26",
        "01:30-02:30",
        ("2014-10-25T21:30:00Z", "2014-10-25T22:00:00Z"),
        ("2014-10-25T22:30:00Z", "2014-10-25T23:30:00Z"),
    ),
]

IDS = [v.name for v in VECTORS]


def test_vector_names_are_unique() -> None:
    assert len(set(IDS)) == len(IDS)


def test_skipped_days_are_found_independently() -> None:
    assert not oracle.day_occurs("Pacific/Apia", date(2011, 12, 30))
    assert oracle.day_occurs("Pacific/Apia", date(2011, 12, 29))
    assert oracle.day_occurs("Pacific/Apia", date(2011, 12, 31))
    assert not oracle.day_occurs("Pacific/Kiritimati", date(1994, 12, 31))
    assert not oracle.day_occurs("Pacific/Kwajalein", date(1993, 8, 21))
    assert oracle.day_occurs("America/Santiago", date(2024, 9, 8))  # only its 00:00 hour is gone


def test_skipped_day_owns_no_overnight_tail() -> None:

    payload = {
        "timezone": "Pacific/Apia",
        "startDate": "2011-12-29",
        "endDate": "2011-12-31",
        "startTime": "22:00",
        "endTime": "02:00",
    }
    expected = [
        ("2011-12-30T08:00:00Z", "2011-12-30T10:00:00Z", date(2011, 12, 29)),
        ("2011-12-31T08:00:00Z", "2011-12-31T12:00:00Z", date(2011, 12, 31)),
    ]
    want = [(_utc(a), _utc(b), d) for a, b, d in expected]
    assert _engine_windows(payload) == want
    spec = oracle.Spec(
        tz="Pacific/Apia",
        start_date=date(2011, 12, 29),
        end_date=date(2011, 12, 31),
        day_windows=((79200, 7200),) * 7,
    )
    assert _as_datetimes(_oracle_windows(spec)) == [(a, b) for a, b, _ in want]


# ------------------------------------------------------------------------------ helpers


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _expected_seconds(v: Vector) -> list[tuple[int, int]]:
    return [(oracle.floor_seconds(_utc(a)), oracle.floor_seconds(_utc(b))) for a, b in v.expected]


def _seconds_of_day(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 3600 + int(m) * 60


def _spec(v: Vector, first: date, last: date) -> oracle.Spec:
    window = (_seconds_of_day(v.start), _seconds_of_day(v.end))
    return oracle.Spec(tz=v.tz, start_date=first, end_date=last, day_windows=(window,) * 7)


def _payload(v: Vector, first: date, last: date) -> dict[str, object]:
    return {
        "timezone": v.tz,
        "startDate": first.isoformat(),
        "endDate": last.isoformat(),
        "startTime": v.start,
        "endTime": v.end,
        "activeDays": [0, 1, 2, 3, 4, 5, 6],
    }


def _oracle_windows(spec: oracle.Spec) -> list[tuple[int, int]]:
    assert spec.start_date is not None
    lo = oracle.utc_midnight(spec.start_date) - 2 * DAY
    hi = oracle.horizon(spec)
    assert hi is not None
    return oracle.windows(spec, lo, hi)


def _engine_windows(payload: dict[str, object]) -> list[tuple[datetime, datetime, date]]:
    from callslots import Campaign

    campaign = Campaign.from_dict(payload)
    return [(w.start, w.end, w.day) for w in campaign.windows()]


def _as_datetimes(pairs: list[tuple[int, int]]) -> list[tuple[datetime, datetime]]:
    return [(oracle.to_datetime(a), oracle.to_datetime(b)) for a, b in pairs]


# -------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_oracle_agrees_with_vector(v: Vector) -> None:
    spec = _spec(v, v.d, v.d)
    assert _oracle_windows(spec) == _expected_seconds(v)
    # the owner of every instant of the expected intervals is D
    for a, b in _expected_seconds(v):
        for u in (a, (a + b) // 2, b - 1):
            assert oracle.day_of(spec, u) == v.d


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_one_day_campaign_matches_vector(v: Vector) -> None:
    got = _engine_windows(_payload(v, v.d, v.d))
    assert [(s, e) for s, e, _ in got] == _as_datetimes(_expected_seconds(v))
    assert all(day == v.d for _, _, day in got)


@pytest.mark.parametrize("v", VECTORS, ids=IDS)
def test_three_day_campaign_matches_vector(v: Vector) -> None:
    first, last = v.d - timedelta(days=1), v.d + timedelta(days=1)
    got = _engine_windows(_payload(v, first, last))
    expected = _as_datetimes(_expected_seconds(v))
    # the whole three days agree with the oracle
    assert [(s, e) for s, e, _ in got] == _as_datetimes(_oracle_windows(_spec(v, first, last)))
    if not v.merges_with_neighbours:
        assert [(s, e) for s, e, day in got if day == v.d] == expected
    else:
        for a, b in expected:
            assert any(s <= a and b <= e for s, e, _ in got), (a, b)
