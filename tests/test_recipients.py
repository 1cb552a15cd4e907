"""Recipient hours: each customer's set is the campaign's cut to recipientHours
in each of its zones.

The oracle for the intersection is ``oracle.Intersection``: the core oracle applied
to the campaign's ``Spec`` and, for each recipient zone, to a ``Spec`` of its own
(every day active, the recipient window, no dates), an instant being callable when
all of them say so.  ``tests/test_contract.py`` holds a view to the campaign's whole
contract against the same model.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from callslots import Campaign, ConfigError
from callslots.recipients import RecipientView
from strategies import HARD_ZONES, ZONES, Case, cases

UTC = timezone.utc
DAY = 86400
quarter_hours = st.integers(0, 95).map(lambda q: q * 900)


def clock(s: int) -> str:
    return "24:00" if s == DAY else f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@st.composite
def recipient_cases(draw: st.DrawFn) -> tuple[Case, Campaign, RecipientView, list[oracle.Spec]]:
    case = draw(cases)
    start = draw(quarter_hours)
    end = draw(st.integers(1, 96).map(lambda q: q * 900).filter(lambda e: e != start))
    zones = tuple(
        sorted(
            set(
                draw(
                    st.lists(
                        st.sampled_from(HARD_ZONES) | st.sampled_from(ZONES), min_size=1, max_size=3
                    )
                )
            )
        )
    )
    payload = dict(case.payload, recipientHours={"startTime": clock(start), "endTime": clock(end)})
    payload.pop("customers", None)
    campaign = Campaign.from_dict(payload, now=case.now)
    window = (start, end if end != 0 else DAY)
    specs = [oracle.recipient_spec(z, window) for z in zones]
    return case, campaign, campaign._views.get(zones), specs


@settings(max_examples=120, deadline=None)
@given(recipient_cases(), st.data())
def test_a_customers_set_is_the_intersection_the_oracle_finds(
    setup: tuple[Case, Campaign, RecipientView, list[oracle.Spec]], data: st.DataObject
) -> None:
    case, _, view, specs = setup
    model = oracle.Intersection(case.spec, tuple(specs))
    lo, hi = case.lo, case.hi
    candidates = model.candidate_boundaries(lo, hi)
    assert list(view.spans(lo, hi)) == model.windows(lo, hi)
    u = data.draw(st.sampled_from(candidates) | st.integers(lo, hi - 1), label="u")
    assert view.callable_at(u) == model.is_callable(u)
    following = next((c for c in [u, *candidates] if c >= u and model.is_callable(c)), None)
    found = view.next_second(u)
    if following is not None:
        assert found == following
    else:  # nothing before hi: the engine's answer, if any, is at or after hi
        assert found is None or found >= hi
    explanation = view.explain(datetime.fromtimestamp(u, UTC))
    assert explanation.callable == model.is_callable(u)


NEW_YORK: dict[str, Any] = {
    "timezone": "America/New_York",
    "startDate": "2024-07-01",
    "startTime": "09:00",
    "endTime": "17:00",
    "activeDays": [0, 1, 2, 3, 4],
    "recipientHours": {"startTime": "08:00", "endTime": "21:00"},
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def spans(view: RecipientView, a: str, b: str) -> list[tuple[str, str]]:
    return [(f"{w.start:%m-%d %H:%M}", f"{w.end:%H:%M}") for w in view.windows(at(a), at(b))]


def test_a_us_number_three_hours_behind_starts_at_its_own_eight() -> None:
    campaign = Campaign.from_dict(NEW_YORK)
    view = campaign.for_customer("+14155550100")  # San Francisco
    assert view.zones == ("America/Los_Angeles",)
    # 08:00 PDT is 11:00 EDT: the window is 11:00-17:00 New York, 15:00-21:00 UTC.
    assert spans(view, "2024-07-01", "2024-07-03") == [
        ("07-01 15:00", "21:00"),
        ("07-02 15:00", "21:00"),
    ]
    assert not view.is_callable(at("2024-07-01T14:59:59"))
    assert view.next_callable(at("2024-07-01T13:00")) == at("2024-07-01T15:00")
    decision = view.retry("Busy", 1, at("2024-07-01T20:59"))
    assert decision.retry is False  # callRetries 0
    with_retries = Campaign.from_dict({**NEW_YORK, "callRetries": 2}).for_customer("+14155550100")
    # ended 16:55 EDT + 300 s = 17:00 EDT: next morning at 08:00 PDT, 15:00 UTC
    assert with_retries.retry("Busy", 1, at("2024-07-01T20:55")).at == at("2024-07-02T15:00")


def test_a_canadian_number_in_two_zones_gets_the_stricter_hours() -> None:
    campaign = Campaign.from_dict(
        {**NEW_YORK, "startTime": "06:00", "endTime": "23:00", "activeDays": [0]}
    )
    view = campaign.for_customer("+17095550100")  # Newfoundland and Labrador
    assert view.zones == ("America/Halifax", "America/St_Johns")
    # Both clocks must read 08:00-21:00: from 08:00 ADT (UTC-3), 11:00 UTC, which
    # is 08:30 NDT (UTC-2:30), to 21:00 NDT, 23:30 UTC, which is 20:30 ADT.
    assert spans(view, "2024-07-01", "2024-07-02") == [("07-01 11:00", "23:30")]


def test_a_customer_whose_hours_never_meet_the_campaigns_is_answered_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from callslots.windows import Calendar

    campaign = Campaign.from_dict(NEW_YORK)  # no end date
    view = campaign.for_customer(
        {"phoneNumber": "+81312345678", "properties": {"timezone": "Asia/Tokyo"}}
    )
    # Counted, not timed: the calendars' searches.  Walking window by window to
    # the year 9999 would take about four million.
    searches = 0
    search = Calendar.next_callable

    def counted(calendar: Calendar, u: int, first_day: int | None = None) -> int | None:
        nonlocal searches
        searches += 1
        return search(calendar, u, first_day)

    monkeypatch.setattr(Calendar, "next_callable", counted)
    assert view.next_callable(at("2024-07-01T00:00")) is None
    assert list(view.windows()) == []
    assert searches < 20_000  # a week and a day per change of offset, over 400 years
    reasons = [(r.rule, r.message) for r in view.explain(at("2024-07-01T14:00")).reasons]
    assert reasons == [
        (
            "recipient hours",
            "Mon 23:00 JST in Asia/Tokyo is outside the recipient hours 08:00-21:00",
        )
    ]


def test_recipient_hours_read_back_and_mistakes_are_named() -> None:
    campaign = Campaign.from_dict(NEW_YORK)
    assert campaign.to_dict()["recipientHours"] == {"startTime": "08:00", "endTime": "21:00"}
    assert Campaign.from_dict(campaign.to_dict()) == campaign
    for fields, path in [
        ({"recipientHours": "08:00-21:00"}, "recipientHours"),
        ({"recipientHours": {"startTime": "08:00"}}, "recipientHours"),
        ({"recipientHours": {"startTime": "08:00", "endTime": "25:00"}}, "recipientHours.endTime"),
        (
            {
                "customers": [
                    {"phoneNumber": "+14155550100", "properties": {"timezone": "Mars/Base"}}
                ]
            },
            "customers.0.properties.timezone",
        ),
    ]:
        with pytest.raises(ConfigError) as caught:
            Campaign.from_dict({**NEW_YORK, **fields})
        assert path in {p.path for p in caught.value.errors}, caught.value


def test_a_number_with_no_known_zone_falls_back_to_the_campaigns_with_a_warning() -> None:
    # a satellite network's number: it exists (no warning that it cannot), but no zone
    payload = {**NEW_YORK, "phoneList": ["+881612345678"]}
    campaign = Campaign.from_dict(payload)
    assert [(w.path, w.message) for w in campaign.warnings] == [
        (
            "phoneList.0",
            "no time zone is known for +881612345678; the campaign's (America/New_York) "
            "is used for its recipient hours",
        )
    ]
    view = campaign.for_customer("+881612345678")
    assert view.zones == ("America/New_York",) and view.note is not None


def test_spread_with_recipient_hours_is_said_to_use_the_even_grid() -> None:
    campaign = Campaign.from_dict(
        {**NEW_YORK, "endDate": "2024-07-05", "schedulingMode": "spread", "phoneList": []}
    )
    assert [w.path for w in campaign.warnings] == ["schedulingMode"]
    assert "'even' grid" in campaign.warnings[0].message


def test_a_streamed_number_with_no_known_zone_is_noted_in_the_plan() -> None:
    campaign = Campaign.from_dict(NEW_YORK)
    (slot,) = campaign.plan(["+8823456789"])
    assert slot.at == at("2024-07-01T13:00")  # New York hours stand in
    assert slot.note == (
        "no time zone is known for +8823456789; the campaign's (America/New_York) "
        "is used for its recipient hours"
    )


def test_without_phonenumbers_the_customers_needing_it_are_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from callslots import customers

    def missing(phone: str) -> tuple[str, ...]:
        raise ImportError("No module named 'phonenumbers'")

    monkeypatch.setattr(customers, "zones_by_number", missing)
    payload = {
        **NEW_YORK,
        "customers": [
            {"phoneNumber": "+14155550100"},
            {"phoneNumber": "+14155550101", "properties": {"timezone": "America/Chicago"}},
            {"phoneNumber": "+14155550102"},
        ],
    }
    with pytest.raises(ConfigError) as caught:
        Campaign.from_dict(payload)
    (problem,) = caught.value.errors
    assert problem.path == "recipientHours"
    assert "customers.0 and 1 more have no properties.timezone" in problem.message
    assert "pip install 'callslots[phone]'" in problem.message
    campaign = Campaign.from_dict({**payload, "customers": payload["customers"][1:2]})
    with pytest.raises(ConfigError, match="phonenumbers"):
        campaign.for_customer("+14155550100")
