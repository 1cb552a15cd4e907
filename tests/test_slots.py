"""The slot grid, random access into it, and the plan of first attempts."""

from __future__ import annotations

import itertools
import pickle
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from callslots import Campaign, ConfigError, Customer
from strategies import Case, cases

UTC = timezone.utc
LIMIT = 4000  # slots looked at per example


def with_pacing(case: Case, interval: int) -> Campaign:
    payload: dict[str, Any] = dict(case.payload, callIntervalSeconds=interval)
    return Campaign.from_dict(payload, now=case.now)


intervals = st.one_of(st.sampled_from([1, 30, 300, 3600, 86400]), st.integers(1, 7200))


@settings(max_examples=150)
@given(cases, intervals)
def test_slots_are_the_grid_of_every_window_and_all_callable(case: Case, interval: int) -> None:
    campaign = with_pacing(case, interval)
    windows = list(itertools.islice(campaign.windows(), 200))
    grid = (
        w.start + timedelta(seconds=k * interval)
        for w in windows
        for k in range(-(-int((w.end - w.start).total_seconds()) // interval))
    )
    expected = list(itertools.islice(grid, LIMIT))
    got = list(itertools.islice(campaign.slots(), len(expected)))
    assert got == expected
    assert list(itertools.islice(campaign.slot_seconds(), len(expected))) == [
        int(t.timestamp()) for t in expected
    ]
    for t in got[:: max(1, len(got) // 50)]:
        assert oracle.is_callable(case.spec, int(t.timestamp()))


@settings(max_examples=150)
@given(cases, intervals, st.data())
def test_random_access_agrees_with_iteration(
    case: Case, interval: int, data: st.DataObject
) -> None:
    campaign = with_pacing(case, interval)
    slots = list(itertools.islice(campaign.slots(), LIMIT))
    for k in data.draw(st.lists(st.integers(0, len(slots) + 3), max_size=20)):
        if k < len(slots):
            assert campaign.slot_at(k) == slots[k]
            assert campaign.slot_index(slots[k]) == k
        elif len(slots) < LIMIT:
            assert campaign.slot_at(k) is None
    if slots:
        t = data.draw(st.sampled_from(slots)) + timedelta(
            microseconds=data.draw(st.integers(1, 10**6))
        )
        k = campaign.slot_index(t)
        later = list(itertools.islice(campaign.slots(start=t), 5))
        assert later == [s for s in slots[k : k + 5]] or len(slots) <= k + 5
        assert all(s >= t for s in later)


def test_grid_restarts_at_each_opening_of_a_split_fall_back_window() -> None:
    c = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-11-03",
            "endDate": "2024-11-03",
            "startTime": "01:30",
            "endTime": "02:30",
            "callIntervalSeconds": 1200,
        }
    )
    assert [t.strftime("%H:%M") for t in c.slots()] == [
        "05:30",
        "05:50",  # 01:30, 01:50 EDT; the window ends at 02:00 EDT
        "06:30",
        "06:50",
        "07:10",  # 01:30, 01:50, 02:10 EST: a new window, a new grid
    ]


def test_slot_index_counts_slots_strictly_before() -> None:
    c = Campaign.from_dict(
        {
            "startDate": "2024-01-01",
            "startTime": "09:00",
            "endTime": "10:00",
            "callIntervalSeconds": 600,
        }
    )
    nine = datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert c.slot_index(nine) == 0 and c.slot_index(nine + timedelta(seconds=1)) == 1
    assert c.slot_index(nine + timedelta(hours=2)) == 6
    assert c.slot_at(6) == nine + timedelta(days=1)
    with pytest.raises(ValueError):
        c.slot_at(-1)


def test_slot_at_far_away_is_quick_and_exact() -> None:
    c = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-01-01",
            "startTime": "09:00",
            "endTime": "17:00",
            "activeDays": [0, 1, 2, 3, 4],
        }
    )
    # 960 slots a weekday; slot 10,000,000 is 10,416 weekdays and 640 slots later.
    t = c.slot_at(10_000_000)
    assert t is not None and c.slot_index(t) == 10_000_000
    local = t.astimezone(oracle.zone("America/New_York"))
    assert local.weekday() < 5 and (local.hour, local.minute) == (14, 20)


def test_plan_pairs_customers_with_slots_and_loses_nobody() -> None:
    c = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2024-01-01",
            "endDate": "2024-01-01",
            "startTime": "09:00",
            "endTime": "09:02",
            "callIntervalSeconds": 30,
            "phoneList": [
                "+14155550100",
                "+14155550101",
                "+14155550100",
                "+14155550102",
                "+14155550103",
                "+14155550104",
            ],
        }
    )
    got = [(p.customer_index, p.at and p.at.strftime("%H:%M:%S"), p.note) for p in c.plan()]
    assert got == [
        (0, "09:00:00", None),
        (1, "09:00:30", None),
        (2, None, "repeat of an earlier number: dialed once"),
        (3, "09:01:00", None),
        (4, "09:01:30", None),
        (5, None, "no callable time left: the campaign ends first"),
    ]
    assert all(p.attempt == 1 for p in c.plan())


def test_plan_streams_a_generator_of_millions_lazily() -> None:
    c = Campaign.from_dict({"startDate": "2024-01-01", "callIntervalSeconds": 1})
    numbers = (f"+1415{n:07d}" for n in range(10**9))  # never materialized
    first = list(itertools.islice(c.plan(numbers), 3))
    assert [p.at for p in first] == [datetime(2024, 1, 1, 0, 0, k, tzinfo=UTC) for k in range(3)]
    objects = [Customer("+14155550100", {"name": "Ada"}), {"phoneNumber": "+14155550101"}]
    assert [p.customer.properties for p in c.plan(objects)] == [{"name": "Ada"}, {}]


def test_an_invalid_streamed_number_is_reported_with_its_index() -> None:
    c = Campaign.from_dict({"startDate": "2024-01-01"})
    with pytest.raises(ConfigError) as info:
        list(c.plan(["+14155550100", "0044 20 7946 0000"]))
    assert info.value.errors[0].path == "customers.1"


def test_spread_divides_the_callable_time_evenly() -> None:
    phones = [f"+1415555{n:04d}" for n in range(8)]
    c = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2024-01-01",
            "endDate": "2024-01-02",
            "startTime": "09:00",
            "endTime": "17:00",
            "schedulingMode": "spread",
            "callIntervalSeconds": 60,
            "phoneList": phones,
        }
    )
    ats = [p.at for p in c.plan()]
    # 16 callable hours for 8 customers: one every 2 callable hours, day 2 continuing the count.
    assert [t.strftime("%d %H:%M") for t in ats if t] == [
        "01 09:00",
        "01 11:00",
        "01 13:00",
        "01 15:00",
        "02 09:00",
        "02 11:00",
        "02 13:00",
        "02 15:00",
    ]
    with pytest.raises(TypeError, match="sequence"):
        list(c.plan(p for p in phones))


def test_spread_keeps_the_minimum_gap_when_customers_outnumber_the_time() -> None:
    phones = [f"+1415555{n:04d}" for n in range(100)]
    c = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2024-01-01",
            "endDate": "2024-01-01",
            "startTime": "09:00",
            "endTime": "10:00",
            "schedulingMode": "spread",
            "callIntervalSeconds": 60,
            "phoneList": phones,
        }
    )
    ats = [p.at for p in c.plan()]
    scheduled = [t for t in ats if t is not None]
    assert len(scheduled) == 60 and ats.count(None) == 40
    assert all(b - a == timedelta(seconds=60) for a, b in itertools.pairwise(scheduled))


def test_spread_needs_an_end_date() -> None:
    with pytest.raises(ConfigError) as info:
        Campaign.from_dict({"startDate": "2024-01-01", "schedulingMode": "spread"})
    assert info.value.errors[0].path == "schedulingMode"


@pytest.mark.parametrize(
    ("fields", "path", "words"),
    [
        ({"callIntervalSeconds": 0}, "callIntervalSeconds", "at least 1 second"),
        ({"callIntervalSeconds": -5}, "callIntervalSeconds", "at least 1 second"),
        ({"callIntervalSeconds": 86401}, "callIntervalSeconds", "1 to 86400"),
        ({"maxConcurrency": 0}, "maxConcurrency", "from 1 to 1000"),
        ({"schedulingMode": "evenly"}, "schedulingMode", "'even'"),
        (
            {"phoneList": ["+14155559002"], "customers": [{"phoneNumber": "+14155559001"}]},
            "phoneList",
            "not both",
        ),
        ({"phoneList": ["14155550100"]}, "phoneList.0", "E.164"),
        ({"customers": [{"phoneNumber": "+0123"}]}, "customers.0.phoneNumber", "E.164"),
        (
            {"customers": [{"phoneNumber": "+14155550100", "properties": []}]},
            "customers.0.properties",
            "object",
        ),
        ({"customers": ["+14155550100"]}, "customers.0", "object"),
    ],
)
def test_pacing_and_customer_mistakes(fields: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        Campaign.from_dict({"startDate": "2024-01-01", **fields})
    found = {p.path: p.message for p in info.value.errors}
    assert path in found and words in found[path], found


def test_repeated_payload_numbers_are_warned_with_both_indexes() -> None:
    c = Campaign.from_dict(
        {
            "startDate": "2024-01-01",
            "customers": [
                {"phoneNumber": "+14155550100"},
                {"phoneNumber": "+14155550101"},
                {"phoneNumber": "+14155550100"},
            ],
        }
    )
    (warning,) = [w for w in c.warnings if w.path.startswith("customers")]
    assert warning.path == "customers.2.phoneNumber" and "customers.0" in warning.message


def test_pacing_round_trips_and_pickles() -> None:
    c = Campaign.from_dict(
        {
            "startDate": "2024-01-01",
            "callIntervalSeconds": 45,
            "maxConcurrency": 9,
            "phoneList": ["+14155550100"],
        }
    )
    again = Campaign.from_dict(c.to_dict())
    assert again == c and again.customers == (Customer("+14155550100"),)
    copy = pickle.loads(pickle.dumps(c))
    assert list(itertools.islice(copy.slots(), 100)) == list(itertools.islice(c.slots(), 100))
    assert copy.slot_at(12345) == c.slot_at(12345)
    assert c.to_dict()["customers"] == [{"phoneNumber": "+14155550100", "properties": {}}]
    assert date(2024, 1, 1) == c.start_date


@settings(max_examples=60)
@given(
    st.lists(
        st.integers(1, 10**15 - 1) | st.integers(1, 3000).map(lambda k: k << 20),
        max_size=3000,
    )
)
def test_the_compact_set_of_dialed_numbers_agrees_with_a_python_set(numbers: list[int]) -> None:
    # Multiples of 2**20 collide in the low bits: they exercise long probes and growth.
    from callslots.customers import SeenNumbers

    seen, reference = SeenNumbers(), set()
    for n in numbers:
        assert seen.add(f"+{n}") == (n not in reference)
        reference.add(n)
    assert len(seen) == len(reference)
    assert all(not seen.add(f"+{n}") for n in reference)
