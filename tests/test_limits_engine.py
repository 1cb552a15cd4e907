"""Contact limits in the engine (docs/limits.md): the documented example, snapshots
that keep the counted calls, customerId groups, and for_customer's compatibility.

The independent oracle and its properties are in tests/test_limits.py."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callslots import Campaign, ConfigError, Dial, Dispatcher, RandomOutcomes
from callslots.limited import LimitedView
from callslots.recipients import RecipientView

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")

REG_F = {
    "timezone": "America/New_York",
    "startDate": "2026-03-02",
    "startTime": "09:00",
    "endTime": "17:00",
    "contactLimits": [{"maxCalls": 7, "days": 7, "window": "calendar"}],
    "quietAfterConversationDays": 7,
}
CUSTOMER = {"phoneNumber": "+12125550100", "properties": {"timezone": "America/New_York"}}


def reg_f_history() -> list[tuple[str, datetime, str]]:
    """09:00 New York on 2-8 March 2026; the call of 4 March was a conversation."""
    return [
        (
            "+12125550100",
            datetime(2026, 3, day, 9, tzinfo=NEW_YORK),
            "Completed" if day == 4 else "No Answer",
        )
        for day in range(2, 9)
    ]


def test_the_documented_example() -> None:
    """docs/limits.md, section 2, worked example."""
    view = Campaign.from_dict(REG_F).for_customer(CUSTOMER, history=reg_f_history())
    asked = datetime(2026, 3, 9, 14, tzinfo=UTC)
    assert view.next_callable(asked) == datetime(2026, 3, 11, 13, tzinfo=UTC)
    assert not view.is_callable(asked)
    text = str(view.explain(asked))
    assert "quietAfterConversationDays" in text and "2026-03-04" in text
    assert "2026-03-11T04:00:00Z" in text
    # Without the quiet period, the count alone: 9 March is allowed (3-9 March holds
    # seven with the new call), 8 March is not (2-8 March would hold eight).
    counted = Campaign.from_dict({**REG_F, "quietAfterConversationDays": None})
    view = counted.for_customer(CUSTOMER, history=reg_f_history())
    assert view.is_callable(asked)
    eighth = datetime(2026, 3, 8, 15, tzinfo=UTC)
    assert view.next_callable(eighth) == datetime(2026, 3, 9, 13, tzinfo=UTC)


def test_without_limits_the_view_is_the_plain_one() -> None:
    campaign = Campaign.from_dict({"timezone": "UTC"})
    view = campaign.for_customer("+12125550100", history=[])
    assert type(view) is RecipientView
    with pytest.raises(ConfigError) as caught:
        campaign.for_customer("+12125550100", history=[("+1", "yesterday", "Nope")])
    paths = [p.path for p in caught.value.errors]
    assert paths == ["history.0.phone", "history.0.at", "history.0.outcome"]


def test_a_limited_view_is_a_recipient_view() -> None:
    view = Campaign.from_dict(REG_F).for_customer(CUSTOMER)
    assert isinstance(view, LimitedView) and isinstance(view, RecipientView)


def test_retry_counts_the_call_that_just_ended() -> None:
    """Two calls a rolling day: the retry of the second call of a day waits until
    the first is 24 hours old."""
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2026-01-01",
            "callRetries": 3,
            "retryDelaySeconds": 60,
            "contactLimits": [{"maxCalls": 2, "days": 1}],
        }
    )
    first = datetime(2026, 1, 5, 10, tzinfo=UTC)
    view = campaign.for_customer("+12125550100", history=[("+12125550100", first, "Busy")])
    ended = first + timedelta(hours=1)
    decision = view.retry("Busy", 2, ended, started_at=ended - timedelta(minutes=1))
    assert decision.retry and decision.at == first + timedelta(days=1)


PAYLOAD = {
    "timezone": "America/New_York",
    "startDate": "2026-10-30",
    "endDate": "2026-11-12",
    "startTime": "08:00",
    "endTime": "20:00",
    "callRetries": 5,
    "retryDelaySeconds": 900,
    "callIntervalSeconds": 120,
    "maxConcurrency": 2,
    "retryConditions": ["No Answer", "Busy", "voicemail"],
    "contactLimits": [
        {"maxCalls": 2, "days": 1, "window": "calendar"},
        {"maxCalls": 3, "days": 3, "count": "connected", "per": "number"},
    ],
    "quietAfterConversationDays": 2,
}


def customers(n: int) -> list[object]:
    found: list[object] = []
    for i in range(n):
        phone = f"+1212555{i:04d}"
        if i % 5 == 0:  # pairs of numbers of one person
            found.append({"phoneNumber": phone, "properties": {"customerId": f"p{i // 10}"}})
        elif i % 3 == 0:
            found.append({"phoneNumber": phone, "properties": {"timezone": "America/Chicago"}})
        else:
            found.append(phone)
    return found


def history() -> list[tuple[str, datetime, str]]:
    start = datetime(2026, 10, 29, 12, tzinfo=UTC)
    return [
        (
            f"+1212555{i:04d}",
            start + timedelta(hours=i % 30),
            ("No Answer", "Completed")[i % 7 == 0],
        )
        for i in range(0, 40, 3)
    ]


#: The same with a span of hours too (docs/limits.md): one call a number in 5 hours.
HOURS = {**PAYLOAD, "contactLimits": [*PAYLOAD["contactLimits"], {"maxCalls": 1, "hours": 5}]}


def drive(
    engine: Dispatcher, seed: int, restore_every: int | None, payload: dict[str, Any] = PAYLOAD
) -> tuple[list[object], object]:
    """Run ``engine`` to the end, reporting ends at once, optionally through a
    snapshot (as JSON) and a restore every ``restore_every`` Dials."""
    campaign = Campaign.from_dict(payload)
    model = RandomOutcomes(
        seed, weights={"No Answer": 4, "Busy": 2, "voicemail": 2, "Completed": 1}
    )
    dials: list[object] = []
    while (wake := engine.next_wakeup()) is not None:
        for dial in engine.poll(wake):
            dials.append(dial)
            outcome, seconds = model(dial.customer_index, dial.attempt, dial.at)
            engine.ended(dial.call_id, outcome, dial.at + timedelta(seconds=max(1, int(seconds))))
            if restore_every and len(dials) % restore_every == 0:
                state = json.loads(json.dumps(engine.snapshot()))
                engine = Dispatcher.restore(campaign, state, customers(40))
    return dials, engine.summary


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), every=st.integers(1, 9))
def test_a_restored_engine_counts_exactly_the_same(seed: int, every: int) -> None:
    campaign = Campaign.from_dict(PAYLOAD)
    straight = drive(Dispatcher(campaign, customers(40), history()), seed, None)
    restored = drive(Dispatcher(campaign, customers(40), history()), seed, every)
    assert straight == restored


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000), every=st.integers(1, 9))
def test_a_span_of_hours_holds_through_restores(seed: int, every: int) -> None:
    """With a span of hours among the limits, a restored engine counts the same,
    and no number is dialed twice within 5 hours."""
    campaign = Campaign.from_dict(HOURS)
    straight = drive(Dispatcher(campaign, customers(40), history()), seed, None, HOURS)
    restored = drive(Dispatcher(campaign, customers(40), history()), seed, every, HOURS)
    assert straight == restored
    by_phone: dict[str, list[datetime]] = {}
    for dial in straight[0]:
        assert isinstance(dial, Dial)
        by_phone.setdefault(dial.phone, []).append(dial.at)
    for phone, times in by_phone.items():
        for a, b in pairwise(times):
            assert b - a >= timedelta(hours=5), (phone, a, b)


def test_the_limits_hold_in_a_run() -> None:
    """Per local date (New York or the customer's clock), per rolling 3 days of
    connected calls per number, the quiet period per person (customerId)."""
    campaign = Campaign.from_dict(PAYLOAD)
    listed = customers(40)
    dials, summary = drive(Dispatcher(campaign, listed, history()), 7, None)
    assert summary.attempts == len(dials)  # type: ignore[attr-defined]
    person = {}
    clock = {}
    for item in listed:
        if isinstance(item, dict):
            phone = item["phoneNumber"]
            person[phone] = item["properties"].get("customerId", phone)
            clock[phone] = ZoneInfo(item["properties"].get("timezone", "America/New_York"))
        else:
            person[item] = item
            clock[item] = NEW_YORK
    per_person: dict[str, list[datetime]] = defaultdict(list)
    for dial in dials:
        per_person[person[dial.phone]].append(dial.at)  # type: ignore[attr-defined]
    for phone, at, _ in history():
        per_person[person.get(phone, phone)].append(at)
    for key, starts in per_person.items():
        zone = next(clock[p] for p in person if person[p] == key)
        dates = Counter(t.astimezone(zone).date() for t in starts)
        assert max(dates.values()) <= 2, (key, dates)
    # Every customer is accounted for once.
    s = summary  # type: ignore[assignment]
    assert s.reached + s.not_reached + s.unscheduled + s.cancelled + s.pending == 40 - s.repeats  # type: ignore[attr-defined]


def test_a_history_blocks_the_first_call_and_others_go_first() -> None:
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2026-01-05",
            "startTime": "09:00",
            "endTime": "17:00",
            "callIntervalSeconds": 60,
            "maxConcurrency": 1,
            "contactLimits": [{"maxCalls": 1, "days": 1}],
        }
    )
    earlier = datetime(2026, 1, 4, 12, tzinfo=UTC)  # another campaign, yesterday noon
    engine = Dispatcher(
        campaign, ["+12125550100", "+12125550101"], [("+12125550100", earlier, "No Answer")]
    )
    first = engine.poll(datetime(2026, 1, 5, 9, tzinfo=UTC))
    assert [d.phone for d in first] == ["+12125550101"]
    engine.ended(first[0].call_id, "Completed", datetime(2026, 1, 5, 9, 0, 30, tzinfo=UTC))
    assert engine.next_wakeup() == datetime(2026, 1, 5, 12, tzinfo=UTC)
    second = engine.poll(datetime(2026, 1, 5, 12, tzinfo=UTC))
    assert [d.phone for d in second] == ["+12125550100"]


def test_held_by_limits_counts_the_attempts_put_back() -> None:
    """docs/limits.md section 6, "How often limits held attempts back": one call a
    number in 5 hours, a history call to customer 0 an hour before the opening."""
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2026-06-01",
            "endDate": "2026-06-01",
            "startTime": "09:00",
            "endTime": "17:00",
            "callRetries": 0,
            "maxConcurrency": 1,
            "callIntervalSeconds": 60,
            "contactLimits": [{"maxCalls": 1, "hours": 5}],
        }
    )
    phones = ["+12075550100", "+12075550101", "+12075550102"]
    opening = datetime(2026, 6, 1, 9, tzinfo=UTC)
    history = [(phones[0], opening - timedelta(hours=1), "No Answer")]
    engine = Dispatcher(campaign, phones, history)
    dials: list[Dial] = []
    while (wake := engine.next_wakeup()) is not None:
        for dial in engine.poll(wake):
            dials.append(dial)
            engine.ended(dial.call_id, "Busy", dial.at + timedelta(seconds=20))
    assert [(d.customer_index, d.at) for d in dials] == [
        (1, opening),
        (2, opening + timedelta(minutes=1)),
        (0, opening + timedelta(hours=4)),
    ]
    assert engine.summary.held_by_limits == 1
    restored = Dispatcher.restore(campaign, json.loads(json.dumps(engine.snapshot())), phones)
    assert restored.summary == engine.summary
    # Without the history nothing is held back.
    plain = Dispatcher(campaign, phones)
    while (wake := plain.next_wakeup()) is not None:
        for dial in plain.poll(wake):
            plain.ended(dial.call_id, "Busy", dial.at + timedelta(seconds=20))
    assert plain.summary.held_by_limits == 0


def test_a_customer_ids_old_calls_count_for_its_number_read_days_later() -> None:
    """docs/limits.md section 6: a customerId none of whose numbers waits keeps its
    calls while they can still count.  Customer 0 (customerId x) has a conversation
    on Monday 4 January at 09:00; 30 other customers fill the slots (8 a day) until
    Thursday 15:00; customer 31, x's other number, comes up at 16:00 and must wait
    out the 5 quiet days, 4-8 January: it is dialed on Saturday 9 January at 09:00."""
    campaign = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2027-01-04",
            "endDate": "2027-01-20",
            "startTime": "09:00",
            "endTime": "17:00",
            "callRetries": 0,
            "maxConcurrency": 1,
            "callIntervalSeconds": 3600,
            "quietAfterConversationDays": 5,
        }
    )
    customers: list[object] = [{"phoneNumber": "+12125550000", "properties": {"customerId": "x"}}]
    customers += [f"+1212555{i:04d}" for i in range(1, 31)]
    customers.append({"phoneNumber": "+12125550031", "properties": {"customerId": "x"}})
    engine = Dispatcher(campaign, customers)
    dials: list[Dial] = []
    while (wake := engine.next_wakeup()) is not None:
        for dial in engine.poll(wake):
            dials.append(dial)
            engine.ended(dial.call_id, "Completed", dial.at + timedelta(seconds=60))
    ny = ZoneInfo("America/New_York")
    at = {d.customer_index: d.at.astimezone(ny) for d in dials}
    assert at[0] == datetime(2027, 1, 4, 9, tzinfo=ny)
    assert at[30] == datetime(2027, 1, 7, 15, tzinfo=ny)  # the last filler
    assert at[31] == datetime(2027, 1, 9, 9, tzinfo=ny)  # after the 5 quiet dates
    assert engine.summary.held_by_limits == 1
