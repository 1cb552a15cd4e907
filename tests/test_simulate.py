"""The dialing simulation: pacing, concurrency, retries, accounting, determinism."""

from __future__ import annotations

import itertools
import pickle
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from callslots import Campaign, Outcome, RandomOutcomes, ReplayOutcomes, simulate
from strategies import Case, cases

UTC = timezone.utc
OUTCOME_NAMES = [o.value for o in Outcome]


@st.composite
def setups(draw: st.DrawFn) -> tuple[Case, Campaign, RandomOutcomes, list[str]]:
    case = draw(cases)
    phones = [f"+1415555{n:04d}" for n in draw(st.lists(st.integers(0, 40), max_size=30))]
    payload: dict[str, Any] = dict(
        case.payload,
        callIntervalSeconds=draw(st.sampled_from([1, 30, 300, 3600]) | st.integers(1, 7200)),
        maxConcurrency=draw(st.integers(1, 6)),
        callRetries=draw(st.integers(0, 4)),
        retryDelaySeconds=draw(st.sampled_from([0, 60, 3600, 86400])),
        retryDelayMode=draw(st.sampled_from(["fixed", "next_day"])),
        retryConditions=draw(
            st.lists(st.sampled_from(OUTCOME_NAMES[:14]), max_size=6, unique=True)
        ),
        phoneList=phones,
    )
    payload.pop("customers", None)
    campaign = Campaign.from_dict(payload, now=case.now)
    weights = draw(
        st.dictionaries(st.sampled_from(OUTCOME_NAMES), st.floats(0.1, 5), min_size=1, max_size=6)
    )
    mean = draw(st.sampled_from([1, 20, 300, 5000]))
    return case, campaign, RandomOutcomes(draw(st.integers(0, 2**32)), weights, mean), phones


@settings(max_examples=120)
@given(setups())
def test_the_rules_of_the_simulation_hold(
    setup: tuple[Case, Campaign, RandomOutcomes, list[str]],
) -> None:
    case, campaign, outcomes, phones = setup
    simulation = simulate(campaign, outcomes)
    attempts = list(simulation)
    summary = simulation.summary

    starts = [a.at for a in attempts]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)  # one call a slot
    for a in attempts:
        k = campaign.slot_index(a.at)
        assert campaign.slot_at(k) == a.at  # calls start on slots only
        assert oracle.is_callable(case.spec, int(a.at.timestamp()))
        assert a.ended_at >= a.at
    # never more than maxConcurrency calls in progress at once
    for a in attempts:
        running = sum(1 for b in attempts if b.at <= a.at < b.ended_at)
        assert running <= campaign.max_concurrency

    by_customer: dict[int, list[Any]] = defaultdict(list)
    for a in attempts:
        by_customer[a.customer_index].append(a)
    for tries in by_customer.values():
        assert [t.attempt for t in tries] == list(range(1, len(tries) + 1))
        assert len(tries) <= 1 + campaign.call_retries
        for earlier, later in itertools.pairwise(tries):
            assert earlier.retry_at is not None and later.at >= earlier.retry_at
        for t in tries:  # retries follow campaign.retry exactly
            decision = campaign.retry(t.outcome, t.attempt, t.ended_at, started_at=t.at)
            assert t.retry_at == decision.at
    # first attempts go in customer order, before any retry
    firsts = [a.customer_index for a in attempts if a.attempt == 1]
    assert firsts == sorted(firsts)
    if any(a.attempt > 1 for a in attempts) and firsts:
        first_retry = next(i for i, a in enumerate(attempts) if a.attempt > 1)
        last_first = max(i for i, a in enumerate(attempts) if a.attempt == 1)
        assert last_first < first_retry

    distinct = len(set(phones))
    assert summary.repeats == len(phones) - distinct
    assert summary.reached + summary.not_reached + summary.unscheduled == distinct
    assert summary.reached == sum(1 for a in attempts if a.outcome is Outcome.COMPLETED)
    assert summary.attempts == len(attempts)
    assert summary.attempts_by_outcome == Counter(a.outcome for a in attempts)
    zone = ZoneInfo(campaign.timezone)
    assert summary.calls_per_day == Counter(a.at.astimezone(zone).date() for a in attempts)
    assert summary.finished_at == (max(a.ended_at for a in attempts) if attempts else None)


def test_a_small_campaign_step_by_step() -> None:
    c = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2024-01-01",
            "startTime": "09:00",
            "endTime": "10:00",
            "callIntervalSeconds": 300,
            "maxConcurrency": 2,
            "callRetries": 1,
            "retryDelaySeconds": 600,
            "phoneList": ["+14155550100", "+14155550101", "+14155550102"],
        }
    )
    replay = ReplayOutcomes(
        {
            (0, 1): ("Completed", 900),
            (1, 1): ("Busy", 60),
            (2, 1): ("No Answer", 30),
            (1, 2): ("Completed", 120),
            (2, 2): ("No Answer", 30),
        }
    )
    sim = simulate(c, replay)
    got = [
        (
            a.customer_index,
            a.attempt,
            a.at.strftime("%H:%M"),
            a.outcome.value,
            a.retry_at and a.retry_at.strftime("%H:%M"),
        )
        for a in sim
    ]
    assert got == [
        (0, 1, "09:00", "Completed", None),
        (1, 1, "09:05", "Busy", "09:16"),  # ended 09:06, retry 10 minutes later
        (2, 1, "09:10", "No Answer", "09:20"),  # customer 0 still talks; line 2 is free
        (1, 2, "09:20", "Completed", None),  # due 09:16: the next slot is 09:20
        (2, 2, "09:25", "No Answer", None),  # due 09:20:30: the next slot; its last attempt
    ]
    summary = sim.summary
    assert (summary.reached, summary.not_reached, summary.unscheduled) == (2, 1, 0)
    assert summary.attempts_by_outcome == {
        Outcome.COMPLETED: 2,
        Outcome.BUSY: 1,
        Outcome.NO_ANSWER: 2,
    }


def test_customers_left_when_the_campaign_ends_are_counted() -> None:
    c = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2024-01-01",
            "endDate": "2024-01-01",
            "startTime": "09:00",
            "endTime": "09:10",
            "callIntervalSeconds": 300,
            "callRetries": 2,
            "retryDelaySeconds": 60,
        }
    )
    # Slots 09:00 and 09:05 go to the first two customers; their retries, due at
    # 09:01:10 and 09:06:10, are cut off by the end of the campaign.
    phones = [f"+1415555000{n}" for n in range(5)] + ["+14155550000"]
    sim = simulate(c, ReplayOutcomes([], default=("Busy", 10)), customers=phones)
    assert [a.customer_index for a in sim] == [0, 1]
    s = sim.summary
    assert (s.reached, s.not_reached, s.cut_off, s.unscheduled, s.repeats) == (0, 2, 2, 3, 1)


def test_idle_stretches_are_skipped_not_walked() -> None:
    # One retry due a day later, with a one-second grid: walking slots would take a
    # day's worth of iterations; the result must come at once and be right.
    c = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2024-01-01",
            "callIntervalSeconds": 1,
            "callRetries": 1,
            "retryDelaySeconds": 86400,
        }
    )
    sim = simulate(c, ReplayOutcomes([], default=("Busy", 5)), customers=["+14155550100"])
    assert [a.at for a in sim] == [
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 2, 0, 0, 5, tzinfo=UTC),
    ]


def test_random_outcomes_depend_only_on_seed_customer_and_attempt() -> None:
    model = RandomOutcomes(42)
    at = datetime(2024, 1, 1, tzinfo=UTC)
    draws = [model(i, n, at) for i in range(2000) for n in (1, 2)]
    assert draws == [
        RandomOutcomes(42)(i, n, at + timedelta(days=9)) for i in range(2000) for n in (1, 2)
    ]
    assert draws != [RandomOutcomes(43)(i, n, at) for i in range(2000) for n in (1, 2)]
    share = Counter(o for o, _ in draws)[Outcome.COMPLETED] / len(draws)
    assert 0.30 < share < 0.40  # default weight 0.35
    assert all(seconds >= 1 for _, seconds in draws)
    with pytest.raises(ValueError):
        RandomOutcomes(1, {"Busy": 0})
    with pytest.raises(ValueError, match="did you mean"):
        RandomOutcomes(1, {"Bussy": 1})


def test_replay_names_a_missing_record() -> None:
    with pytest.raises(KeyError, match="customer 3, attempt 2"):
        ReplayOutcomes([{"customer_index": 3, "attempt": 1, "outcome": "busy", "duration": 4}])(
            3, 2, datetime(2024, 1, 1, tzinfo=UTC)
        )


def test_the_same_inputs_give_the_same_stream_in_another_process() -> None:
    payload = {
        "timezone": "Europe/Prague",
        "startDate": "2024-03-29",
        "startTime": "01:30",
        "endTime": "03:30",
        "callIntervalSeconds": 60,
        "maxConcurrency": 3,
        "callRetries": 2,
        "retryDelaySeconds": 120,
    }
    code = (
        "import json,sys\n"
        "from callslots import Campaign, simulate, RandomOutcomes\n"
        f"c = Campaign.from_dict({payload!r})\n"
        "phones = [f'+1415555{n:04d}' for n in range(300)]\n"
        "for a in simulate(c, RandomOutcomes(9), customers=phones):\n"
        "    print(a.customer_index, a.attempt, a.at.isoformat(), a.outcome.value, a.retry_at)\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={"PYTHONHASHSEED": seed},
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]
    campaign = pickle.loads(pickle.dumps(Campaign.from_dict(payload)))
    phones = [f"+1415555{n:04d}" for n in range(300)]
    here = "".join(
        f"{a.customer_index} {a.attempt} {a.at.isoformat()} {a.outcome.value} {a.retry_at}\n"
        for a in simulate(campaign, RandomOutcomes(9), customers=phones)
    )
    assert runs[0] == runs[1] == here and here.count("\n") > 300


@pytest.mark.parametrize(
    ("day", "zone"), [("1969-12-31", "UTC"), ("0001-01-01", "UTC"), ("0001-01-02", "Asia/Tokyo")]
)
def test_campaigns_before_1970_report_when_they_finished(day: str, zone: str) -> None:
    """No in-band sentinel: calls that end before 1970 (or in year 1) are real ends."""
    c = Campaign.from_dict(
        {
            "timezone": zone,
            "startDate": day,
            "endDate": day,
            "startTime": "22:00",
            "endTime": "23:00",
            "callIntervalSeconds": 600,
            "callRetries": 1,
            "retryDelaySeconds": 60,
            "phoneList": ["+14155550100", "+14155550101"],
        }
    )
    replay = ReplayOutcomes({(0, 1): ("Busy", 30), (1, 1): ("Completed", 90), (0, 2): ("Busy", 5)})
    simulation = simulate(c, replay)
    attempts = list(simulation)
    local = ZoneInfo(zone)
    starts = [a.at.astimezone(local).strftime("%H:%M") for a in attempts]
    assert starts == ["22:00", "22:10", "22:20"]  # the retry is due at 22:01:30
    assert all(a.at.astimezone(local).date().isoformat() == day for a in attempts)
    summary = simulation.summary
    assert summary.finished_at == attempts[-1].ended_at
    assert summary.finished_at is not None and summary.finished_at.year < 1970
    assert (summary.reached, summary.not_reached, summary.attempts) == (1, 1, 3)


def test_a_call_that_outlasts_the_last_window_leaves_the_rest_unscheduled() -> None:
    """Found by the property: with one line held past the campaign's last window,
    the customers read ahead and those never read are unscheduled, not lost."""
    c = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2024-01-01",
            "endDate": "2024-01-01",
            "startTime": "09:00",
            "endTime": "10:00",
            "callIntervalSeconds": 1,
            "maxConcurrency": 1,
            "phoneList": ["+14155550000", "+14155550001", "+14155550000", "+14155550002"],
        }
    )
    simulation = simulate(c, ReplayOutcomes({(0, 1): ("No Answer", 7200)}))
    assert [a.customer_index for a in simulation] == [0]
    summary = simulation.summary
    assert (summary.not_reached, summary.unscheduled, summary.repeats) == (1, 2, 1)
    assert summary.pending == 0


def test_an_invalid_customer_stops_the_dispatcher_every_time_it_is_read() -> None:
    from callslots import ConfigError, Dispatcher

    c = Campaign.from_dict({"timezone": "UTC", "startDate": "2024-01-01"})
    d = Dispatcher(c, ["+14155550100", "bad", "+14155550101"])
    wake = d.next_wakeup()
    assert wake is not None and len(d.poll(wake)) == 1
    for _ in range(3):  # never skipped: the same error at every read
        with pytest.raises(ConfigError) as found:
            d.poll(wake + timedelta(seconds=30))
        assert [p.path for p in found.value.errors] == ["customers.1"]
