"""The start instant at the edges of the time line, read the same on every Python, and
``to_dict()`` round-tripping every campaign ``from_dict`` can build (years 1 to 9999)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from callslots import Campaign, ConfigError

UTC = timezone.utc
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
WRITTEN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", re.ASCII)


def problems(payload: dict[str, object], now: datetime = NOW) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        Campaign.from_dict(payload, now=now)
    return {p.path: p.message for p in info.value.errors}


# -- startAt reads the same on Python 3.10 and 3.11+ ---------------------------------------
# datetime.fromisoformat on 3.10 refuses every one of these; 3.11+ accepts them.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-15T09:00:00.5Z", datetime(2024, 3, 15, 9, 0, 1, tzinfo=UTC)),  # rounded up
        ("20240315T090000Z", datetime(2024, 3, 15, 9, 0, tzinfo=UTC)),
        ("2024-03-15t09:00:00z", datetime(2024, 3, 15, 9, 0, tzinfo=UTC)),
        ("2024-03-15T10:00:00+0100", datetime(2024, 3, 15, 9, 0, tzinfo=UTC)),
        ("2024-03-15T04:00:00-05:00", datetime(2024, 3, 15, 9, 0, tzinfo=UTC)),
    ],
)
def test_start_at_is_iso_8601_on_every_python(text: str, expected: datetime) -> None:
    campaign = Campaign.from_dict({"startAt": text})
    assert campaign.start_at == expected
    assert campaign.to_dict()["startAt"] == expected.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("2024-03-15T09:00:00", "no UTC offset"),
        ("2024-03-15", "no UTC offset"),
        ("soon", "ISO 8601"),
        ("348-05-01T00:00:00Z", "ISO 8601"),
        (1710493200, "not an integer"),
        ("2024-03-15T09:00:00+24:00", "ISO 8601"),
    ],
)
def test_a_start_at_that_is_not_an_instant_is_an_error(value: object, words: str) -> None:
    assert words in problems({"startAt": value})["startAt"]


# -- instants that cannot be represented are ConfigErrors with their path ------------


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"startAt": "0001-01-01T00:00:00+14:00"}, "before 0001-01-01T00:00:00Z"),
        ({"startAt": "0001-01-01T00:00:00.5+00:01"}, "before 0001-01-01T00:00:00Z"),
        ({"startAt": "9999-12-31T23:59:59.5Z"}, "rounded up to a whole second, is after"),
        ({"startAt": "9999-12-31T23:59:59.000001Z"}, "rounded up to a whole second, is after"),
        ({"startAt": "9999-12-31T23:59:59-00:01"}, "is after 9999-12-31T23:59:59Z"),
        (
            {"startAt": "9999-12-31T10:00:00Z", "timezone": "Pacific/Kiritimati"},
            "after 9999-12-31 on the clocks of Pacific/Kiritimati",
        ),
    ],
)
def test_a_start_at_off_the_time_line_is_a_config_error(
    payload: dict[str, object], words: str
) -> None:
    found = problems(payload)
    assert list(found) == ["startAt"]
    assert words in found["startAt"]


@pytest.mark.parametrize(
    ("now", "zone", "words"),
    [
        (LAST + timedelta(microseconds=500000), "UTC", "rounded up to a whole second"),
        (LAST + timedelta(microseconds=1), "UTC", "rounded up to a whole second"),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))), "UTC", "before 0001-01-01"),
        (datetime(9999, 12, 31, 15, tzinfo=UTC), "Asia/Tokyo", "after 9999-12-31 on the clocks"),
    ],
)
def test_an_immediate_start_off_the_time_line_is_a_config_error(
    now: datetime, zone: str, words: str
) -> None:
    found = problems({"timezone": zone}, now=now)
    assert list(found) == ["startDate"]
    assert "is not given, so the campaign starts now" in found["startDate"]
    assert words in found["startDate"]


def test_the_first_and_last_instants_start_a_campaign() -> None:
    first = Campaign.from_dict({"startAt": "0001-01-01T00:00:00Z", "timezone": "America/New_York"})
    assert first.start_at == datetime(1, 1, 1, tzinfo=UTC)
    assert first.to_dict()["startAt"] == "0001-01-01T00:00:00Z"
    last = Campaign.from_dict({"timezone": "America/New_York"}, now=LAST)
    assert last.start_at == LAST
    for campaign in (first, last):
        assert Campaign.from_dict(campaign.to_dict()) == campaign


def test_an_immediate_start_in_the_year_348_round_trips() -> None:
    campaign = Campaign.from_dict({}, now=datetime(348, 5, 1, tzinfo=UTC))
    assert campaign.to_dict()["startAt"] == "0348-05-01T00:00:00Z"
    assert Campaign.from_dict(campaign.to_dict()) == campaign


# -- the property: years 1 to 9999, any offset, any zone --------------------------------

OFFSETS = [timezone(timedelta(minutes=m)) for m in (0, 1, -1, 345, -570, 14 * 60, -(14 * 60))]
ZONES = ["UTC", "Pacific/Kiritimati", "Etc/GMT+12", "America/New_York", "Asia/Kathmandu"]
EDGES = [
    datetime.min,
    datetime.min + timedelta(hours=14, microseconds=1),
    datetime.max,
    datetime.max - timedelta(hours=14),
    datetime.max.replace(microsecond=0),
    datetime(348, 5, 1),
    datetime(999, 12, 31, 23, 59, 59, 999999),
]


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """Aware datetimes over the years 1 to 9999, often within a day of either end."""
    naive = draw(
        st.one_of(
            st.datetimes(),
            st.sampled_from(EDGES),
            st.datetimes(min_value=datetime.min, max_value=datetime(1, 1, 2)),
            st.datetimes(min_value=datetime(9999, 12, 30), max_value=datetime.max),
        )
    )
    return naive.replace(tzinfo=draw(st.sampled_from(OFFSETS)))


def expected_problem(instant: datetime, zone: str) -> str | None:
    """The edge ``instant`` crosses as a start in ``zone``, worked out with zoneinfo."""
    try:
        utc = instant.astimezone(UTC)
    except OverflowError:
        return "before" if instant.year == 1 else "after"
    if utc.microsecond and utc.replace(microsecond=0) == LAST.replace(tzinfo=UTC):
        return "rounded"
    rounded = utc.replace(microsecond=0) + timedelta(seconds=1 if utc.microsecond else 0)
    try:
        rounded.astimezone(ZoneInfo(zone))
    except OverflowError:
        # the local date is out of range: after 9999-12-31 is refused, before the year 1
        # only loses days that do not exist
        return "clocks" if rounded.year == 9999 else None
    return None


def check_start(payload: dict[str, object], now: datetime, path: str, zone: str) -> None:
    instant = now if path == "startDate" else datetime.fromisoformat(str(payload["startAt"]))
    problem = expected_problem(instant, zone)
    try:
        campaign = Campaign.from_dict(payload, now=now)
    except ConfigError as error:
        assert [p.path for p in error.errors] == [path], error
        assert problem is not None, (instant, error)
        message = error.errors[0].message
        assert {"before": "before 0001", "after": "is after 9999", "rounded": "rounded up"}.get(
            problem, "on the clocks of"
        ) in message
        return
    assert problem is None, (instant, zone, problem)
    written = campaign.to_dict()
    assert WRITTEN.fullmatch(written["startAt"]), written["startAt"]
    again = Campaign.from_dict(written)
    assert again == campaign and again.to_dict() == written


@given(instants(), st.sampled_from(ZONES))
@example(datetime(348, 5, 1, tzinfo=UTC), "UTC")
@example(LAST.replace(microsecond=500000), "UTC")
@example(datetime(1, 1, 1, tzinfo=OFFSETS[5]), "UTC")
def test_every_immediate_start_round_trips_or_is_refused_at_an_edge(
    now: datetime, zone: str
) -> None:
    check_start({"timezone": zone}, now, "startDate", zone)


@given(instants(), st.sampled_from(ZONES))
@example(datetime(1, 1, 1, tzinfo=OFFSETS[5]), "UTC")
@example(LAST.replace(microsecond=500000), "UTC")
def test_every_start_at_round_trips_or_is_refused_at_an_edge(instant: datetime, zone: str) -> None:
    text = instant.isoformat()
    if text[:4] != f"{instant.year:04d}":  # isoformat always pads; keep the check honest
        raise AssertionError(text)
    check_start({"timezone": zone, "startAt": text}, NOW, "startAt", zone)
