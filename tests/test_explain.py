"""Explanations: the verdict agrees with the oracle, and each rule is named."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from callslots import Campaign
from callslots.explain import RULES
from strategies import Case, cases

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@settings(max_examples=150)
@given(cases, st.data())
def test_the_verdict_is_the_oracles_and_every_reason_is_a_known_rule(
    case: Case, data: st.DataObject
) -> None:
    campaign = case.campaign()
    boundaries = oracle.candidate_boundaries(case.spec, case.lo, case.hi)
    u = data.draw(st.sampled_from(boundaries) | st.integers(case.lo, case.hi), label="u")
    explanation = campaign.explain(datetime.fromtimestamp(u, UTC))
    assert explanation.callable == oracle.is_callable(case.spec, u)
    assert explanation.reasons
    assert {r.rule for r in explanation.reasons} <= set(RULES)
    if explanation.callable:
        (reason,) = explanation.reasons
        assert reason.rule == "window"
        assert str(oracle.day_of(case.spec, u)) in reason.message
    else:
        assert "window" not in {r.rule for r in explanation.reasons}


CAMPAIGN: dict[str, Any] = {
    "timezone": "America/New_York",
    "startDate": "2024-03-01",
    "endDate": "2024-07-08",
    "startTime": "09:00",
    "endTime": "17:00",
    "activeDays": [0, 1, 2, 3, 4],
    "blackoutDates": [{"start": "2024-07-02", "end": "2024-07-03"}],
    "dateSchedules": {
        "2024-07-06": {"startTime": "10:00", "endTime": "12:00"},
        "2024-03-10": {"startTime": "01:30", "endTime": "02:45"},
    },
    "holidays": {"country": "US", "dates": {"2024-07-04": "Independence Day"}},
}


def reasons(c: Campaign, t: str) -> list[tuple[str, str]]:
    return [(r.rule, r.message) for r in c.explain(at(t)).reasons]


def test_each_rule_is_named_with_its_values_in_local_time() -> None:
    c = Campaign.from_dict(CAMPAIGN)
    assert reasons(c, "2024-07-01T14:00") == [
        ("window", "10:00 is in the window 09:00-17:00 of Monday 2024-07-01")
    ]
    assert reasons(c, "2024-07-06T15:00") == [
        (
            "window",
            "11:00 is in the window 10:00-12:00 of Saturday 2024-07-06 (its dateSchedules entry)",
        )
    ]
    assert reasons(c, "2024-07-01T12:00") == [
        ("before window", "08:00 is before the window 09:00-17:00 of Monday 2024-07-01")
    ]
    assert reasons(c, "2024-07-01T21:00") == [
        ("after window", "17:00 is after the window 09:00-17:00 of Monday 2024-07-01")
    ]
    assert reasons(c, "2024-07-03T14:00") == [
        ("blackoutDates", "2024-07-03 is blacked out (blackoutDates, in 2024-07-02 to 2024-07-03)")
    ]
    assert reasons(c, "2024-07-04T14:00") == [
        ("holiday", "2024-07-04 is Independence Day (holidays US)")
    ]
    assert reasons(c, "2024-07-07T14:00") == [("inactive weekday", "Sunday is not in activeDays")]
    assert reasons(c, "2024-07-09T14:00") == [
        ("after end", "2024-07-09 is after endDate (2024-07-08)")
    ]
    assert reasons(c, "2024-02-29T14:00") == [
        ("before start", "2024-02-29 is before the campaign starts (2024-03-01)")
    ]
    # 2024-03-10: 01:30-02:45 loses 02:00-03:00; 07:10Z is 03:10 EDT.
    assert reasons(c, "2024-03-10T07:10") == [
        ("after window", "03:10 is after the window 01:30-02:45 of Sunday 2024-03-10"),
        (
            "dst gap",
            "the clocks in America/New_York jump from 2024-03-10 02:00 to 2024-03-10 03:00, "
            "so the window's wall times in between do not exist",
        ),
    ]
    assert c.explain(at("2024-03-10T06:59")).callable  # 01:59 EST


def test_an_overnight_tail_and_an_immediate_start() -> None:
    c = Campaign.from_dict(
        {"timezone": "Europe/Prague", "startTime": "22:00", "endTime": "02:00", "activeDays": [4]},
        now=at("2024-06-01T00:00"),
    )
    assert reasons(c, "2024-06-08T03:00") == [
        ("after window", "the overnight window 22:00-02:00 of Friday 2024-06-07 ended at 02:00"),
        ("inactive weekday", "Saturday is not in activeDays"),
    ]
    assert reasons(c, "2024-06-07T23:30") == [  # 01:30 CEST Saturday: Friday's window
        ("window", "01:30 is in the window 22:00-02:00 of Friday 2024-06-07")
    ]
    assert reasons(c, "2024-05-31T21:00") == [
        ("before start", "the campaign starts at 2024-06-01 02:00:00 CEST")
    ]
    text = str(c.explain(at("2024-05-31T21:00")))
    assert (
        text.splitlines()[0]
        == "2024-05-31T21:00:00Z (Fri 2024-05-31 23:00:00 CEST) is not callable"
    )


@settings(max_examples=150)
@given(cases, st.data())
def test_the_rule_a_date_follows_gives_the_oracles_window(case: Case, data: st.DataObject) -> None:
    from datetime import timedelta

    campaign = case.campaign()
    around = case.spec.start_date or datetime.fromtimestamp(case.lo, UTC).date()
    day = around + timedelta(days=data.draw(st.integers(-3, 40), label="offset"))
    rule = campaign.day_rule(day)
    expected = oracle.window_of(case.spec, day)
    if expected is None or not oracle.day_occurs(case.spec.tz, day):
        assert rule.hours is None, rule
    else:
        assert rule.hours is not None, rule
        start, end = rule.hours.start, rule.hours.end
        assert (start, end) == (expected[0], expected[1] if expected[1] != 0 else 86400), rule
