"""plan and simulate under recipientHours: a slot goes to the earliest-due pending
attempt that is callable for its customer, ties by customer order."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import datetime, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from callslots import Campaign, Outcome, RandomOutcomes, simulate
from callslots.sharing import NEVER
from strategies import ZONES, Case, cases

UTC = timezone.utc
FEW_ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Asia/Tokyo",
    "Asia/Kolkata",
]
OUTCOME_NAMES = [o.value for o in Outcome]


@st.composite
def setups(draw: st.DrawFn) -> tuple[Case, Campaign, list[dict[str, Any]], RandomOutcomes]:
    case = draw(cases)
    zones = st.sampled_from(FEW_ZONES) | st.sampled_from(ZONES)
    customers = [
        {"phoneNumber": f"+1415555{n:04d}", "properties": {"timezone": draw(zones)}}
        for n in draw(st.lists(st.integers(0, 30), max_size=16))
    ]
    start = draw(st.integers(0, 23)) * 3600
    payload: dict[str, Any] = dict(
        case.payload,
        recipientHours={
            "startTime": f"{start // 3600:02d}:00",
            "endTime": f"{(start // 3600 + draw(st.integers(1, 23))) % 24:02d}:00",
        },
        callIntervalSeconds=draw(st.sampled_from([60, 300, 1800, 3600])),
        maxConcurrency=draw(st.integers(1, 4)),
        callRetries=draw(st.integers(0, 3)),
        retryDelaySeconds=draw(st.sampled_from([0, 600, 3600])),
        retryDelayMode=draw(st.sampled_from(["fixed", "next_day"])),
        retryConditions=draw(
            st.lists(st.sampled_from(OUTCOME_NAMES[:14]), max_size=6, unique=True)
        ),
        customers=customers,
    )
    if payload["recipientHours"]["startTime"] == payload["recipientHours"]["endTime"]:
        payload["recipientHours"]["endTime"] = "24:00"
    campaign = Campaign.from_dict(payload, now=case.now)
    weights = draw(
        st.dictionaries(st.sampled_from(OUTCOME_NAMES), st.floats(0.1, 5), min_size=1, max_size=5)
    )
    outcomes = RandomOutcomes(
        draw(st.integers(0, 2**32)), weights, draw(st.sampled_from([20, 600]))
    )
    return case, campaign, customers, outcomes


def _first_indexes(customers: list[dict[str, Any]]) -> dict[str, int]:
    first: dict[str, int] = {}
    for i, c in enumerate(customers):
        first.setdefault(c["phoneNumber"], i)
    return first


@settings(max_examples=80, deadline=None)
@given(setups())
def test_the_plan_gives_each_slot_to_the_first_customer_callable_then(
    setup: tuple[Case, Campaign, list[dict[str, Any]], RandomOutcomes],
) -> None:
    case, campaign, customers, _ = setup
    planned = list(campaign.plan())
    assert sorted(p.customer_index for p in planned) == list(range(len(customers)))
    views = {i: campaign.for_customer(c) for i, c in enumerate(customers)}
    scheduled = [p for p in planned if p.at is not None]
    starts = [p.at for p in scheduled]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    first = _first_indexes(customers)
    for p in planned:
        if first[p.phone] != p.customer_index:
            assert p.at is None and "repeat" in (p.note or "")
        elif p.note == NEVER:
            assert (
                views[p.customer_index].next_callable(datetime.fromtimestamp(case.lo, UTC)) is None
            )
    for p in scheduled:
        assert p.at is not None
        assert campaign.slot_at(campaign.slot_index(p.at)) == p.at
        assert views[p.customer_index].is_callable(p.at)
        assert oracle.is_callable(case.spec, int(p.at.timestamp()))
        # nobody before this customer in the list, still waiting, could take the slot
        for q in planned:
            if (
                q.customer_index < p.customer_index
                and first[q.phone] == q.customer_index
                and (q.at is None or q.at > p.at)
                and q.note != NEVER
            ):
                assert not views[q.customer_index].is_callable(p.at), (p, q)


@settings(max_examples=80, deadline=None)
@given(setups())
def test_the_simulation_follows_each_customers_hours_and_the_priority_rule(
    setup: tuple[Case, Campaign, list[dict[str, Any]], RandomOutcomes],
) -> None:
    _, campaign, customers, outcomes = setup
    simulation = simulate(campaign, outcomes)
    attempts = list(simulation)
    summary = simulation.summary
    views = {i: campaign.for_customer(c) for i, c in enumerate(customers)}
    starts = [a.at for a in attempts]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for a in attempts:
        assert campaign.slot_at(campaign.slot_index(a.at)) == a.at
        assert views[a.customer_index].is_callable(a.at)
        running = sum(1 for b in attempts if b.at <= a.at < b.ended_at)
        assert running <= campaign.max_concurrency
    by_customer: dict[int, list[Any]] = defaultdict(list)
    for a in attempts:
        by_customer[a.customer_index].append(a)
    for index, tries in by_customer.items():
        assert [t.attempt for t in tries] == list(range(1, len(tries) + 1))
        assert len(tries) <= 1 + campaign.call_retries
        for t in tries:
            decision = views[index].retry(t.outcome, t.attempt, t.ended_at, started_at=t.at)
            assert t.retry_at == decision.at
        for earlier, later in itertools.pairwise(tries):
            assert earlier.retry_at is not None and later.at >= earlier.retry_at
    # The priority rule: when attempt A starts at s, no other attempt that was
    # pending then (due, not started) and callable for its customer comes first by
    # (due, customer order); a first attempt is due at the start.
    first = _first_indexes(customers)
    never_started = {
        i for i, c in enumerate(customers) if first[c["phoneNumber"]] == i and i not in by_customer
    }
    low = datetime.min.replace(tzinfo=UTC)
    for a in attempts:
        key_a = (low if a.attempt == 1 else _due(by_customer, a), a.customer_index)
        for index, tries in by_customer.items():
            for t in tries:
                if t is a or t.at <= a.at:
                    continue
                due = low if t.attempt == 1 else _due(by_customer, t)
                pending = due <= a.at and (t.attempt == 1 or _previous(by_customer, t).at < a.at)
                if pending and views[index].is_callable(a.at):
                    assert (due, index) > key_a, (a, t)
        for index in never_started:
            if views[index].is_callable(a.at):
                assert a.attempt == 1 and a.customer_index < index, (a, index)
    distinct = len(first)
    assert summary.reached + summary.not_reached + summary.unscheduled == distinct
    assert summary.repeats == len(customers) - distinct
    assert summary.attempts == len(attempts)
    assert summary.attempts_by_outcome == Counter(a.outcome for a in attempts)
    assert sum(summary.calls_per_day.values()) == len(attempts)


def _previous(by_customer: dict[int, list[Any]], t: Any) -> Any:
    return by_customer[t.customer_index][t.attempt - 2]


def _due(by_customer: dict[int, list[Any]], t: Any) -> datetime:
    due: datetime = _previous(by_customer, t).retry_at
    return due


def test_the_look_ahead_bounds_the_customers_held_waiting(monkeypatch: Any) -> None:
    from callslots import sharing

    payload = {
        "timezone": "America/New_York",
        "startDate": "2024-07-01",
        "endDate": "2024-07-01",
        "startTime": "09:00",
        "endTime": "12:00",
        "callIntervalSeconds": 3600,
        "recipientHours": {"startTime": "08:00", "endTime": "21:00"},
        "customers": [
            {"phoneNumber": f"+1415555000{i}", "properties": {"timezone": zone}}
            for i, zone in enumerate(["America/Los_Angeles"] * 3 + ["America/New_York"])
        ],
    }
    campaign = Campaign.from_dict(payload)

    def plan() -> list[tuple[int, str | None]]:
        return [(p.customer_index, p.at and f"{p.at:%H:%M}") for p in campaign.plan()]

    # 09:00 New York is 06:00 in Los Angeles: only the New York customer may take it.
    assert plan() == [(3, "13:00"), (0, "15:00"), (1, None), (2, None)]
    monkeypatch.setattr(sharing, "LOOKAHEAD", 2)
    # Two Los Angeles customers wait and fill the look-ahead: 09:00 and 10:00 stay
    # unused, 11:00 (08:00 PDT) goes to the first of them.
    assert plan() == [(0, "15:00"), (1, None), (2, None), (3, None)]


def test_a_customer_read_after_its_zones_hours_ended_is_out_of_time_not_never() -> None:
    # Berlin's 08:00-21:00 CEST ends at 19:00 UTC, two hours before New York's window.
    # Found by the plan property: the second Berlin customer, read after that, was
    # reported "never callable" because its group's window had moved past the end.
    from callslots.slots import NO_TIME_LEFT

    zones = ["America/New_York"] * 6 + ["Europe/Berlin"] * 2 + ["America/New_York"]
    campaign = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-07-01",
            "endDate": "2024-07-01",
            "startTime": "09:00",
            "endTime": "17:00",
            "callIntervalSeconds": 3600,
            "recipientHours": {"startTime": "08:00", "endTime": "21:00"},
            "customers": [
                {"phoneNumber": f"+1415555000{i}", "properties": {"timezone": zone}}
                for i, zone in enumerate(zones)
            ],
        }
    )
    planned = {p.customer_index: (p.at and f"{p.at:%H:%M}", p.note) for p in campaign.plan()}
    assert [planned[i][0] for i in (0, 1, 2, 3, 4, 5, 8)] == [
        "13:00",
        "14:00",
        "15:00",
        "16:00",
        "17:00",
        "18:00",
        "19:00",
    ]
    assert planned[6] == planned[7] == (None, NO_TIME_LEFT)
