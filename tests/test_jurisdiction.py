"""Calling rules by jurisdiction (docs/compliance.md, section 5): a customer's states,
the rules that apply to it, their effective instants, and its callable set.

The named cases use the shipped US pack (its rules are in force on every date up to
their end, or from their stated start: docs/compliance.md, "Effective dates"); the
property at the end checks a customer's set against a brute-force reading of the pack's rules
written here, with zoneinfo and the holidays package, and none of the engine's code.
"""

from __future__ import annotations

import functools
import os
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callslots import Campaign, ConfigError
from callslots import jurisdiction as jur
from callslots.customers import PHONE_INSTALL, MissingPhoneNumbers, zones_by_number
from callslots.limits import START_US, ContactLimit, QuietRule
from callslots.rulepack import CALLED_PARTY, WEEKDAY_CODES, RulePack, load_pack, read_pack

phonenumbers = pytest.importorskip("phonenumbers")

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
FLORIDA = "+13055550100"  # Miami
NEW_YORK_NUMBER = "+12125550100"
RHODE_ISLAND = "+14015550100"
WASHINGTON = "+12065550100"  # Seattle
CANADA = "+16045550100"  # Vancouver, British Columbia


def holidays_package() -> ModuleType:
    """The holidays package; a skip without it, except where CI requires it."""
    if os.environ.get("CALLSLOTS_EXTRAS"):
        import holidays

        return holidays
    return pytest.importorskip("holidays")


def campaign(**fields: Any) -> Campaign:
    payload: dict[str, Any] = {
        "timezone": "America/New_York",
        "startDate": "2027-01-01",
        "startTime": "09:00",
        "endTime": "21:00",
        "callingRules": ["US"],
    }
    payload.update(fields)
    return Campaign.from_dict(payload)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


def micros(t: datetime) -> int:
    """An aware instant in microseconds since the epoch (a limit's ``since``)."""
    return round(t.timestamp()) * 1_000_000


def day_windows(view: Any, day: date) -> list[tuple[str, str]]:
    """The windows of New York date ``day`` in New York time."""
    start = ny(day.year, day.month, day.day)
    return [
        (f"{w.start.astimezone(NEW_YORK):%H:%M}", f"{w.end.astimezone(NEW_YORK):%H:%M}")
        for w in view.windows(start, start + timedelta(days=1))
    ]


# -- where a customer is ---------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "state"),
    [
        ("+13055550100", "FL"),
        ("+12125550100", "NY"),
        ("+12255550100", "LA"),
        ("+14015550100", "RI"),
        ("+12065550100", "WA"),
        ("+12025550100", "DC"),
        ("+17875550100", "PR"),
    ],
)
def test_the_state_of_an_area_code_comes_from_the_geocoder(phone: str, state: str) -> None:
    assert jur.number_place(phone) == (True, state)


def test_numbers_outside_the_us_have_no_place_and_a_toll_free_number_no_state() -> None:
    assert jur.number_place(CANADA) == (False, None)  # +1, but Canada
    assert jur.number_place("+442079460000") == (False, None)
    assert jur.number_place("+18005550100") == (True, None)


def test_geocoder_descriptions_map_to_codes() -> None:
    assert jur.state_of_description("Florida") == "FL"
    assert jur.state_of_description("Miami, FL") == "FL"
    assert jur.state_of_description("Washington State") == "WA"
    assert jur.state_of_description("Washington D.C.") == "DC"
    assert jur.state_of_description("British Columbia") is None
    assert jur.state_of_description("") is None


# -- named cases ------------------------------------------------------------------


def test_a_florida_number_from_a_new_york_campaign_stops_at_20_00() -> None:
    holidays_package()
    c = campaign()
    view = c.for_customer(FLORIDA)
    assert view.scopes == ("federal", "FL")
    assert view.key == jur_key(("America/New_York",), ("federal", "FL"))
    friday = date(2027, 1, 15)
    assert day_windows(view, friday) == [("09:00", "20:00")]
    assert day_windows(c.for_customer(NEW_YORK_NUMBER), friday) == [("09:00", "21:00")]
    # 20:00 in New York is 20:00 in Miami: the last callable second is 19:59:59.
    assert view.is_callable(ny(2027, 1, 15, 19, 59, 59))
    assert not view.is_callable(ny(2027, 1, 15, 20, 0))
    assert view.next_callable(ny(2027, 1, 15, 20, 0)) == ny(2027, 1, 16, 9, 0)
    reasons = [str(r) for r in view.explain(ny(2027, 1, 15, 20, 30)).reasons]
    assert reasons == [
        "calling rule: Fri 20:30 EST in America/New_York is outside US-FL-hours "
        f"[{load_pack().label}; in force since 2021-07-01]: "
        "Fla. Stat. 501.616(6)(a): 08:00-20:00 at the called person's location"
    ]
    # The three calls in 24 hours are a limit for the dispatcher: exposed, named.
    assert view.limits == (
        ContactLimit(
            max_calls=3,
            days=1,
            per="customer",
            count="attempts",
            window="rolling",
            name="Fla. Stat. 501.616(6)(b): at most 3 calls in 24 hours, per person and "
            "subject matter",
            since=micros(ny(2021, 7, 1)),  # the effective date, on the customer's clock
        ),
    )
    assert view.quiet == ()


def test_floridas_three_calls_in_24_hours_count_from_the_laws_effective_date() -> None:
    """Fla. Stat. 501.616(6)(b) took effect on 2021-07-01 (the pack's date): from the
    first instant of that date on the customer's clock it counts every call of the
    24 hours before, also calls made before it; before it, it allows everything."""
    holidays_package()
    c = campaign(startDate="2021-06-28", startTime="09:00", endTime="17:00")
    history = [(FLORIDA, ny(2021, 6, 30, hour, 0), "No Answer") for hour in (14, 15, 16)]
    view = c.for_customer(FLORIDA, history=history)
    # 30 June, 16:30: three calls in the last 24 hours, but the law is not in force.
    assert view.is_callable(ny(2021, 6, 30, 16, 30))
    # 1 July: in force from 00:00 New York; 14:00 June 30 is 24 hours before 14:00.
    assert not view.is_callable(ny(2021, 7, 1, 9, 0))
    assert view.next_callable(ny(2021, 7, 1, 9, 0)) == ny(2021, 7, 1, 14, 0)
    reasons = [str(r) for r in view.explain(ny(2021, 7, 1, 9, 0)).reasons]
    assert any("Fla. Stat. 501.616(6)(b)" in r for r in reasons), reasons
    # A New York customer is never held to it.
    other = c.for_customer(NEW_YORK_NUMBER, history=[(NEW_YORK_NUMBER, *h[1:]) for h in history])
    assert other.is_callable(ny(2021, 7, 1, 9, 0))


def jur_key(zones: tuple[str, ...], scopes: tuple[str, ...]) -> object:
    from callslots.recipients import ViewKey

    return ViewKey(zones, scopes)


def test_rhode_island_sundays_and_weekday_holidays_have_no_calls() -> None:
    holidays_package()
    view = campaign().for_customer(RHODE_ISLAND)
    assert view.scopes == ("federal", "RI")
    assert day_windows(view, date(2027, 1, 15)) == [("09:00", "18:00")]  # Friday
    assert day_windows(view, date(2027, 1, 16)) == [("10:00", "17:00")]  # Saturday
    assert day_windows(view, date(2027, 1, 17)) == []  # Sunday: no hours at all
    assert day_windows(view, date(2027, 1, 18)) == []  # Monday, Martin Luther King Jr. Day
    assert day_windows(view, date(2027, 1, 19)) == [("09:00", "18:00")]
    assert view.next_callable(ny(2027, 1, 16, 17, 0)) == ny(2027, 1, 19, 9, 0)
    (reason,) = view.explain(ny(2027, 1, 18, 12, 0)).reasons
    assert reason.rule == "calling rule"
    assert reason.message == (
        "2027-01-18 in America/New_York is Martin Luther King Jr. Day: no calls under "
        f"US-RI-holidays [{load_pack().label}; in force (start date not known)]: "
        "R.I. Gen. Laws 5-61-2: no calls on state or federal holidays "
        "falling on MO, TU, WE, TH, FR"
    )
    # Victory Day (2027-08-09) is a Rhode Island holiday only; a holiday on a
    # Saturday (Juneteenth, 2027-06-19) keeps the Saturday hours, its observed
    # Friday does not have any.
    assert day_windows(view, date(2027, 8, 9)) == []
    assert day_windows(campaign().for_customer(NEW_YORK_NUMBER), date(2027, 8, 9)) == [
        ("09:00", "21:00")
    ]
    assert day_windows(view, date(2027, 6, 19)) == [("10:00", "17:00")]
    assert day_windows(view, date(2027, 6, 18)) == []


def test_an_area_code_and_a_state_that_disagree_bring_both_states_rules() -> None:
    holidays_package()
    c = campaign()
    both = c.for_customer({"phoneNumber": FLORIDA, "properties": {"state": "wa"}})
    assert both.scopes == ("federal", "FL", "WA")
    assert [
        r.message.split(" is outside ")[1].split(" [")[0]
        for r in both.explain(ny(2027, 1, 15, 20, 30)).reasons
    ] == ["US-FL-hours", "US-WA-hours"]
    assert len(both.limits) == 1 and both.limits[0].name.startswith("Fla. Stat. 501.616(6)(b)")
    # The stricter result: a Florida number of a Rhode Island resident gets Rhode
    # Island's days and hours and Florida's limit; the property hides nothing.
    mixed = c.for_customer({"phoneNumber": FLORIDA, "properties": {"state": "RI"}})
    assert mixed.scopes == ("federal", "FL", "RI")
    assert day_windows(mixed, date(2027, 1, 15)) == [("09:00", "18:00")]
    assert day_windows(mixed, date(2027, 1, 17)) == []
    assert mixed.limits == c.for_customer(FLORIDA).limits
    reverse = c.for_customer({"phoneNumber": RHODE_ISLAND, "properties": {"state": "FL"}})
    assert reverse.scopes == ("federal", "FL", "RI")
    assert day_windows(reverse, date(2027, 1, 17)) == []
    assert reverse.key == mixed.key  # the same rules, the same view
    # The same compiled view (for_customer wraps it with the customer's calls counted).
    assert c.view_for({"phoneNumber": RHODE_ISLAND, "properties": {"state": "FL"}}) is c.view_for(
        {"phoneNumber": FLORIDA, "properties": {"state": "RI"}}
    )


def test_a_number_outside_the_us_gets_no_rules() -> None:
    holidays_package()
    c = campaign()
    for phone in (CANADA, "+442079460000"):
        view = c.for_customer(phone)
        assert view.scopes == () and view.limits == () and view.quiet == () and view.cuts == ()
        assert day_windows(view, date(2027, 1, 17)) == [("09:00", "21:00")]
        assert view.explain(ny(2027, 1, 17, 20, 30)).callable
    # A state given for it says the person is in the US: its rules apply.
    placed = c.for_customer({"phoneNumber": CANADA, "properties": {"state": "RI"}})
    assert placed.scopes == ("federal", "RI")


def test_a_bad_state_is_an_error_with_its_path() -> None:
    with pytest.raises(ConfigError) as caught:
        Campaign.from_dict(
            {
                "callingRules": ["US"],
                "callPurpose": "debt-collection",
                "customers": [
                    {"phoneNumber": FLORIDA},
                    {"phoneNumber": FLORIDA, "properties": {"state": "Florida"}},
                    {"phoneNumber": FLORIDA, "properties": {"state": 12}},
                ],
            }
        )
    assert [p.path for p in caught.value.errors] == [
        "customers.1.properties.state",
        "customers.2.properties.state",
    ]
    assert "'Florida' is not a US state" in caught.value.errors[0].message
    c = campaign(callPurpose="debt-collection")
    with pytest.raises(ConfigError) as caught:
        c.for_customer({"phoneNumber": FLORIDA, "properties": {"state": "ZZ"}})
    assert caught.value.errors[0].path == "customer.properties.state"


def test_calling_rules_and_call_purpose_are_validated_with_paths() -> None:
    with pytest.raises(ConfigError) as caught:
        Campaign.from_dict({"callingRules": ["US", "XX", 5], "callPurpose": "sales"})
    found = {p.path: p.message for p in caught.value.errors}
    assert found["callingRules.1"] == "callslots has no rule pack 'XX' (it has 'US')"
    assert found["callingRules.2"].startswith("must be the name of a rule pack")
    assert found["callPurpose"].startswith(
        "must be 'telephone-solicitation' or 'debt-collection' or 'securities-solicitation'"
    )
    with pytest.raises(ConfigError) as caught:
        Campaign.from_dict({"callingRules": "US"})
    assert caught.value.errors[0].path == "callingRules"


def test_the_fields_read_back_from_to_dict() -> None:
    c = Campaign.from_dict(
        {"callingRules": ["US"], "callPurpose": "debt-collection", "startDate": "2027-01-01"}
    )
    data = c.to_dict()
    assert data["callingRules"] == ["US"] and data["callPurpose"] == "debt-collection"
    assert Campaign.from_dict(data) == c
    plain = Campaign.from_dict({"startDate": "2027-01-01"}).to_dict()
    assert plain["callingRules"] == [] and plain["callPurpose"] == "telephone-solicitation"


def test_a_purpose_selects_only_its_rules() -> None:
    debt = campaign(callPurpose="debt-collection").for_customer(FLORIDA)
    # Regulation F's hours (08:00-21:00, as the campaign's here) and its counts.
    assert debt.scopes == ("federal",)
    assert [cut.rule.split(" [")[0] for cut in debt.cuts if cut.rule] == ["US-RegF-hours"]
    assert day_windows(debt, date(2027, 1, 15)) == [("09:00", "21:00")]
    assert debt.limits == (
        ContactLimit(
            7,
            7,
            "customer",
            "attempts",
            "calendar",
            "12 CFR 1006.14(b)(2)(i)(A): at most 7 calls in 7 consecutive days, per person "
            "and debt",
            since=micros(ny(2021, 11, 30)),
        ),
    )
    assert debt.quiet == (
        QuietRule(
            7,
            "12 CFR 1006.14(b)(2)(i)(B): no call for 7 days after a conversation, per "
            "person and debt",
            since=micros(ny(2021, 11, 30)),
        ),
    )
    # Illinois' securities rule is read on Central time, whatever the customer's zone.
    securities = campaign(callPurpose="securities-solicitation")
    view = securities.for_customer("+13125550100")  # Chicago
    assert view.scopes == ("IL",) and view.zones == ()
    assert day_windows(view, date(2027, 1, 15)) == [("10:00", "21:00")]  # 09:00 CST
    assert day_windows(view, date(2027, 1, 17)) == [("13:00", "21:00")]  # Sunday 12:00
    assert securities.for_customer(FLORIDA).cuts == ()


def test_a_rule_takes_effect_at_local_midnight_of_its_effective_date() -> None:
    custom = read_pack(
        {
            "pack": "US",
            "version": 1,
            "title": "test",
            "notice": "test",
            "rules": [
                {
                    **_rule_fields("US-CA-test", "CA"),
                    "limit": "hours",
                    "values": {"hours": {code: ["10:00", "12:00"] for code in WEEKDAY_CODES}},
                    "effective": "2030-03-15",
                }
            ],
            "not_covered": [],
        }
    )
    with _pack(custom):
        c = Campaign.from_dict(
            {"timezone": "UTC", "startDate": "2030-01-01", "callingRules": ["US"]}
        )
        los_angeles = ZoneInfo("America/Los_Angeles")
        for zone in (los_angeles, NEW_YORK):
            view = c.for_customer(
                {"phoneNumber": FLORIDA, "properties": {"state": "CA", "timezone": zone.key}}
            )
            assert view.scopes == ("CA",)
            midnight = datetime(2030, 3, 15, tzinfo=zone)
            assert view.is_callable(midnight - timedelta(seconds=1))
            assert not view.is_callable(midnight)
            assert view.next_callable(midnight) == datetime(2030, 3, 15, 10, tzinfo=zone)
            before = view.explain(midnight - timedelta(seconds=1))
            assert [r.rule for r in before.reasons] == ["window"]  # not in force: not named
            assert view.explain(midnight).reasons[0].rule == "calling rule"
            windows = list(view.windows(midnight - timedelta(days=1), midnight + timedelta(days=1)))
            assert [(w.start, w.end) for w in windows] == [
                (midnight - timedelta(days=1), midnight),
                (datetime(2030, 3, 15, 10, tzinfo=zone), datetime(2030, 3, 15, 12, tzinfo=zone)),
            ]


def _rule_fields(rule_id: str, scope: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "scope": scope,
        "applies_to": "telephone-solicitation",
        "clock": CALLED_PARTY,
        "effective_basis": "reported",
        "citation": "Test Code 1",
        "url": "https://example.org/law",
        "source": "official",
        "read_at": "https://example.org/law",
        "quote": "test",
        "checked": "2026-12-01",
        "notes": "",
        "ends": None,
        "text": "test",
        "technology": None,
    }


class _pack:
    """Within the block, callslots reads ``custom`` as its US pack."""

    def __init__(self, custom: RulePack) -> None:
        self.custom = custom
        self.patch = pytest.MonkeyPatch()

    def __enter__(self) -> None:
        self.patch.setattr(jur, "load_pack", lambda name: self.custom)

    def __exit__(self, *_: object) -> None:
        self.patch.undo()


def test_rules_that_never_meet_the_campaign_are_answered_at_once() -> None:
    holidays_package()
    evening = campaign(startTime="21:00", endTime="23:00")
    sundays = campaign(activeDays=[6], startTime="10:00", endTime="17:00")
    for c, phone in ((evening, FLORIDA), (evening, RHODE_ISLAND), (sundays, RHODE_ISLAND)):
        view = c.for_customer(phone)
        for t in (
            datetime(1, 1, 1, tzinfo=UTC),
            ny(2027, 3, 1),
            datetime(9999, 12, 31, tzinfo=UTC),
        ):
            began = time.perf_counter()
            assert view.next_callable(t) is None
            assert time.perf_counter() - began < 1.0, (phone, t)
    # A debt-collection campaign from the year 1: a New York number is callable in
    # the evening until Regulation F's hours take effect, 2021-11-30 (midnight EST).
    # (The telephone-solicitation hours of the TSR have no known start: in force on
    # every date, so that campaign is never callable in the evening.)
    early = campaign(
        startDate="0001-01-01", startTime="21:00", endTime="23:00", callPurpose="debt-collection"
    )
    view = early.for_customer(NEW_YORK_NUMBER)
    assert view.next_callable(datetime(2021, 11, 29, 23, 0, tzinfo=UTC)) == datetime(
        2021, 11, 30, 2, 0, tzinfo=UTC
    )  # 21:00 EST on 2021-11-29, the evening before the rule
    began = time.perf_counter()
    assert view.next_callable(datetime(2021, 11, 30, 5, 0, tzinfo=UTC)) is None
    assert time.perf_counter() - began < 1.0


def test_without_phonenumbers_a_state_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "phonenumbers", None)  # import fails
    jur.area_code_place.cache_clear()
    jur._whole_number_place.cache_clear()
    zones_by_number.cache_clear()
    c = campaign(callPurpose="debt-collection")
    try:
        with pytest.raises(MissingPhoneNumbers) as caught:
            c.for_customer("+13055550111")
        assert isinstance(caught.value, jur.MissingNumberStates)
        assert PHONE_INSTALL in caught.value.errors[0].message
        view = c.for_customer(
            {
                "phoneNumber": "+13055550111",
                "properties": {"state": "FL", "timezone": "America/New_York"},
            }
        )
        assert view.scopes == ("federal",)  # no FL rule is about debt collection
        with pytest.raises(ConfigError) as parsed:
            Campaign.from_dict(
                {
                    "callingRules": ["US"],
                    "callPurpose": "debt-collection",
                    "phoneList": ["+13055550111"],
                }
            )
        assert parsed.value.errors[0].path == "callingRules"
        assert "phonenumbers" in parsed.value.errors[0].message
    finally:
        jur.area_code_place.cache_clear()
        jur._whole_number_place.cache_clear()
        zones_by_number.cache_clear()


def test_without_holidays_only_a_customer_under_a_holiday_rule_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/compliance.md, section 5: the holidays package is needed only for a
    customer whose rules include a holiday rule, and then the error names the
    customer, the rule and what to install."""
    monkeypatch.setitem(sys.modules, "holidays", None)  # import fails
    c = Campaign.from_dict({"callingRules": ["US"], "startDate": "2027-01-01"})
    assert c.for_customer(FLORIDA).scopes == ("federal", "FL")  # no holiday rule
    with pytest.raises(jur.MissingHolidays) as caught:
        c.for_customer(RHODE_ISLAND)
    (problem,) = caught.value.errors
    assert problem.path == "customer"
    assert "US-RI-holidays (R.I. Gen. Laws 5-61-2)" in problem.message
    assert problem.message.endswith("pip install 'callslots[holidays]'")
    # A device holiday rule (Alabama's) applies only with a device.
    live = Campaign.from_dict({"callingRules": ["US"], "callTechnology": ["live-agent"]})
    assert live.for_customer("+12055550100").scopes == ("federal",)
    with pytest.raises(jur.MissingHolidays):
        c.for_customer("+12055550100")
    # Customers in the payload are checked when it is read, each with its path.
    with pytest.raises(ConfigError) as caught:
        Campaign.from_dict(
            {
                "callingRules": ["US"],
                "customers": [
                    {"phoneNumber": phone} for phone in (FLORIDA, RHODE_ISLAND, "+12255550100")
                ],
            }
        )
    paths = [p.path for p in caught.value.errors]
    assert paths == ["customers.1", "customers.2"], caught.value.errors


def test_per_customer_is_set_by_either_field() -> None:
    assert campaign(callPurpose="debt-collection").per_customer
    assert not Campaign.from_dict({}).per_customer


# -- the property: the view against a brute-force reading of the rules -------------------

#: Area codes the test knows the state of (or that it is not a US one).
AREA_CODES = {
    "305": "FL",
    "212": "NY",
    "401": "RI",
    "206": "WA",
    "312": "IL",
    "207": "ME",
    "213": "CA",
    "604": None,
}
STATES = ("FL", "RI", "WA", "IL", "NY", "TX", "MS", "UT", "MA", "ME", "CA", "NE")
CLOCKS = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Phoenix",
    "Pacific/Honolulu",
    "Europe/Prague",
    "Asia/Tokyo",
    "Australia/Lord_Howe",
)


def brute_is_callable(
    c: Campaign,
    pack: RulePack,
    purpose: str,
    scopes: set[str],
    zones: tuple[str, ...],
    recipient: tuple[int, int] | None,
    t: datetime,
) -> bool:
    """``t`` is callable: for the campaign, in recipient hours on each zone, and under
    every rule of ``scopes`` for ``purpose`` that is in force on its clock."""
    if not c.is_callable(t):
        return False
    for key in zones if recipient else ():
        local = t.astimezone(ZoneInfo(key))
        seconds = local.hour * 3600 + local.minute * 60 + local.second
        start, end = recipient  # type: ignore[misc]
        if not start <= seconds < end:
            return False
    for rule in pack.rules:
        if rule.applies_to != purpose or rule.scope not in scopes:
            continue
        if rule.limit not in ("hours", "days"):
            continue
        for key in zones if rule.clock == CALLED_PARTY else (rule.clock,):
            local = t.astimezone(ZoneInfo(key))
            today = local.date()
            # In force from its start (every date when not known) to before its end.
            if rule.effective is not None and today < rule.effective:
                continue
            if rule.ends is not None and today >= rule.ends:
                continue
            values: Any = rule.values
            if rule.limit == "hours":
                hours = values.hours[today.weekday()]
                seconds = local.hour * 3600 + local.minute * 60 + local.second
                if hours is None or not hours.start <= seconds < hours.end:
                    return False
            elif today.weekday() in values.weekdays:
                state = rule.scope if rule.scope != "federal" else None
                kinds = tuple(values.holidays)
                if today in banned_days(state, kinds, today.year):
                    return False
    return True


@functools.cache
def banned_days(state: str | None, kinds: tuple[str, ...], year: int) -> frozenset[date]:
    """The holidays of ``year`` a days rule of ``state`` names: its state's (the
    holidays package's subdivision, federal ones included) and the federal ones."""
    holidays = holidays_package()
    return frozenset(
        day
        for kind in kinds
        for day in holidays.country_holidays(
            "US", subdiv=state if kind == "state" else None, years=year
        )
    )


@st.composite
def customers(draw: st.DrawFn) -> dict[str, Any]:
    code = draw(st.sampled_from(sorted(AREA_CODES)))
    properties: dict[str, Any] = {}
    state = draw(st.sampled_from((None, *STATES)))
    if state is not None:
        properties["state"] = state
    zone = draw(st.sampled_from((None, *CLOCKS)))
    if zone is not None:
        properties["timezone"] = zone
    return {"phoneNumber": f"+1{code}5550100", "properties": properties}


instants = st.integers(
    int(datetime(2026, 11, 25, tzinfo=UTC).timestamp()),
    int(datetime(2028, 1, 10, tzinfo=UTC).timestamp()),
).map(lambda u: datetime.fromtimestamp(u, UTC))
#: Dates worth a closer look: holidays (federal, Rhode Island's own, observed, on a
#: Saturday), the days around the pack's check date, when rules take effect, and the
#: two DST Sundays of 2027 in the US zones.
NOTABLE = (
    date(2026, 11, 30),
    date(2026, 12, 1),
    date(2026, 12, 25),
    date(2027, 1, 1),
    date(2027, 1, 18),
    date(2027, 3, 14),
    date(2027, 6, 18),
    date(2027, 6, 19),
    date(2027, 8, 9),
    date(2027, 10, 11),
    date(2027, 11, 7),
    date(2027, 12, 31),
)
notable_instants = st.builds(
    lambda d, s: datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(seconds=s),
    st.sampled_from(NOTABLE),
    st.integers(-12 * 3600, 36 * 3600),
)
quarter = st.integers(0, 95).map(lambda q: q * 900)


@settings(max_examples=150, deadline=None)
@given(
    customers(),
    st.sampled_from(
        (
            "telephone-solicitation",
            "telephone-solicitation",
            "debt-collection",
            "securities-solicitation",
        )
    ),
    st.sampled_from(("America/New_York", "America/Los_Angeles", "Europe/Prague", "UTC")),
    quarter,
    st.integers(1, 96).map(lambda q: q * 900),
    st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True),
    st.none() | st.tuples(quarter, st.integers(1, 96).map(lambda q: q * 900)),
    st.lists(instants | notable_instants, min_size=1, max_size=8),
)
def test_a_customers_set_is_what_the_rules_say(
    customer: dict[str, Any],
    purpose: str,
    campaign_zone: str,
    start: int,
    end: int,
    active: list[int],
    recipient: tuple[int, int] | None,
    moments: list[datetime],
) -> None:
    holidays_package()
    if start == end % 86400 or (recipient and recipient[0] == recipient[1] % 86400):
        return
    if recipient is not None and recipient[0] > recipient[1]:
        recipient = (recipient[1], recipient[0])  # the model reads daytime windows only
    fields: dict[str, Any] = {
        "timezone": campaign_zone,
        "startDate": "2026-11-20",
        "startTime": _clock(start),
        "endTime": _clock(end),
        "activeDays": active,
        "callingRules": ["US"],
        "callPurpose": purpose,
    }
    if recipient is not None:
        fields["recipientHours"] = {
            "startTime": _clock(recipient[0]),
            "endTime": _clock(recipient[1]),
        }
    c = Campaign.from_dict(fields)
    view = c.for_customer(customer)
    # Where the customer is, read here from the test's own table and the property.
    code = customer["phoneNumber"][2:5]
    given = customer["properties"].get("state")
    found = {s for s in (given, AREA_CODES[code]) if s is not None}
    in_us = code != "604" or given is not None  # 604: Vancouver, Canada
    scopes = {"federal", *found} if in_us else set()
    zones = (
        (customer["properties"]["timezone"],)
        if "timezone" in customer["properties"]
        else tuple(
            phonenumbers.timezone.time_zones_for_number(phonenumbers.parse(customer["phoneNumber"]))
        )
    )
    pack = load_pack("US")
    for t in moments:
        expected = brute_is_callable(c, pack, purpose, scopes, zones, recipient, t)
        assert view.is_callable(t) == expected, t
        assert view.explain(t).callable == expected
        following = view.next_callable(t)
        if expected:
            assert following == t
            continue
        if following is not None:
            assert brute_is_callable(c, pack, purpose, scopes, zones, recipient, following)
        # Nothing callable is skipped: every offset and window edge here falls on a
        # UTC quarter hour, so the quarter hours from t on (a week of them) tell.
        mark = datetime.fromtimestamp(-(-int(t.timestamp()) // 900) * 900, UTC)
        stop = t + timedelta(days=7)
        if following is not None:
            stop = min(stop, following)
        while mark < stop:
            assert not brute_is_callable(c, pack, purpose, scopes, zones, recipient, mark), mark
            mark += timedelta(seconds=900)


def _clock(seconds: int) -> str:
    return "24:00" if seconds == 86400 else f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def test_a_north_american_number_is_placed_by_its_area_code() -> None:
    """docs/compliance.md, section 5: every valid number of an area code has the
    place the area code is given (sampled on every area code), and an invalid
    number of a US area code is in that area code's state."""
    phonenumbers = pytest.importorskip("phonenumbers")
    from callslots.jurisdiction import _whole_number_place, number_place

    rng = random.Random(12)
    checked = 0
    for npa in range(200, 1000):
        for _ in range(4):
            number = f"+1{npa}{rng.randint(2_000_000, 9_999_999)}"
            if not phonenumbers.is_valid_number(phonenumbers.parse(number)):
                continue
            checked += 1
            assert number_place(number) == _whole_number_place(number), number
    assert checked > 1000
    assert number_place("+14150000001") == (True, "CA")
    assert number_place("+16045550100") == (False, None)  # Canada


def test_a_louisiana_sunday_and_a_louisiana_holiday() -> None:
    """La. R.S. 45:811(2),(3) (US-LA-hours, US-LA-holidays): 08:00-20:00 Monday to
    Saturday on the called person's clock, no call on Sundays nor on Louisiana's
    state holidays.  A Baton Rouge number (+1 225, Central time) from a New York
    campaign open 07:00-23:00: Saturday 2 January 2027 is 09:00-21:00 New York
    (08:00-20:00 Central), Sunday the 3rd has no window, Monday the 4th is open again,
    and Mardi Gras (Tuesday 9 February 2027, a Louisiana holiday) has none."""
    holidays_package()
    c = campaign(startTime="07:00", endTime="23:00")
    view = c.for_customer("+12255550100")
    assert view.scopes == ("federal", "LA")
    assert day_windows(view, date(2027, 1, 2)) == [("09:00", "21:00")]
    assert day_windows(view, date(2027, 1, 3)) == []
    assert day_windows(view, date(2027, 1, 4)) == [("09:00", "21:00")]
    assert day_windows(view, date(2027, 2, 9)) == []
    assert day_windows(view, date(2027, 2, 10)) == [("09:00", "21:00")]
    sunday = view.explain(ny(2027, 1, 3, 11))
    assert not sunday.callable
    assert any(
        "US-LA-hours" in r.message and "La. R.S. 45:811" in r.message for r in sunday.reasons
    )
    # A New York number is called on that Sunday (no state rule bans it).
    assert day_windows(c.for_customer(NEW_YORK_NUMBER), date(2027, 1, 3)) == [("08:00", "21:00")]


# -- effective dates (docs/compliance.md, section 5, "Effective dates") -------------


def test_a_2024_campaign_gets_the_tcpa_hours_and_louisianas_sunday_ban() -> None:
    """The TCPA's hours are in force since 1992-12-20 and Louisiana's Sunday ban since
    a date not known, so both cut a campaign of 2024 (the pack's first version read
    them as starting on its check date, 2026-12-01, and cut nothing in 2024)."""
    holidays_package()
    c = campaign(startDate="2024-03-01", startTime="07:00", endTime="23:00")
    new_york = c.for_customer(NEW_YORK_NUMBER)
    assert day_windows(new_york, date(2024, 3, 5)) == [("08:00", "21:00")]
    louisiana = c.for_customer("+12255550100")
    assert day_windows(louisiana, date(2024, 3, 10)) == []  # Sunday
    assert day_windows(louisiana, date(2024, 3, 9)) == [("09:00", "21:00")]  # Saturday
    reasons = [r.message for r in louisiana.explain(ny(2024, 3, 10, 12)).reasons]
    assert any("US-LA-hours [" in m and "in force (start date not known)]" in m for m in reasons), (
        reasons
    )


@pytest.mark.parametrize("year", [2000, 2030])
def test_a_rule_whose_start_is_not_known_is_in_force_on_every_date(year: int) -> None:
    """Washington's 08:00-20:00 (start not known) cuts a Seattle number in 2000 and
    in 2030 alike, and explain says so."""
    c = campaign(startDate=f"{year}-01-01", startTime="07:00", endTime="23:59")
    view = c.for_customer(WASHINGTON)
    seattle = ZoneInfo("America/Los_Angeles")
    day = date(year, 6, 14)
    start = datetime(year, 6, 14, tzinfo=seattle)
    windows = [
        (f"{w.start.astimezone(seattle):%H:%M}", f"{w.end.astimezone(seattle):%H:%M}")
        for w in view.windows(start, start + timedelta(days=1))
    ]
    assert windows == [("08:00", "20:00")], day
    late = view.explain(datetime(year, 6, 14, 20, 30, tzinfo=seattle))
    assert not late.callable
    messages = [r.message for r in late.reasons]
    assert any("US-WA-hours [" in m and "in force (start date not known)]" in m for m in messages)
    early = view.explain(datetime(year, 6, 14, 12, 0, tzinfo=seattle))
    assert early.callable
    assert any("in force (start date not known)" in r.message for r in early.reasons)


def test_a_rule_that_ends_stops_at_local_midnight_of_its_end_date() -> None:
    """A rule in force over a range: from the first instant of ``effective`` to
    before the first instant of ``ends``, on each clock it is read on; after it the
    rule allows everything and explain does not name it."""
    custom = read_pack(
        {
            "pack": "US",
            "version": 1,
            "title": "test",
            "notice": "test",
            "rules": [
                {
                    **_rule_fields("US-CA-range", "CA"),
                    "limit": "hours",
                    "values": {"hours": {code: ["10:00", "12:00"] for code in WEEKDAY_CODES}},
                    "effective": "2030-03-15",
                    "ends": "2030-03-18",
                }
            ],
            "not_covered": [],
        }
    )
    with _pack(custom):
        c = Campaign.from_dict(
            {"timezone": "UTC", "startDate": "2030-01-01", "callingRules": ["US"]}
        )
        for key in ("America/Los_Angeles", "America/New_York"):
            zone = ZoneInfo(key)
            view = c.for_customer(
                {"phoneNumber": FLORIDA, "properties": {"state": "CA", "timezone": key}}
            )
            end = datetime(2030, 3, 18, tzinfo=zone)
            assert not view.is_callable(end - timedelta(seconds=1))
            assert view.is_callable(end)
            assert view.next_callable(datetime(2030, 3, 17, 12, tzinfo=zone)) == end
            named = [r.rule for r in view.explain(end).reasons]
            assert named == ["window"]
            msg = view.explain(end - timedelta(seconds=1)).reasons[0].message
            assert "in force since 2030-03-15 until 2030-03-17" in msg
            windows = list(view.windows(end - timedelta(days=1), end + timedelta(days=1)))
            assert [(w.start, w.end) for w in windows] == [
                (datetime(2030, 3, 17, 10, tzinfo=zone), datetime(2030, 3, 17, 12, tzinfo=zone)),
                (end, end + timedelta(days=1)),
            ]
            # Every day of the range: 10:00-12:00; before and after: the whole day.
            assert view.next_callable(datetime(2030, 3, 14, 23, tzinfo=zone)) == datetime(
                2030, 3, 14, 23, tzinfo=zone
            )


# -- calling technology and fixed standard-time clocks (section 5) ------------------


def test_device_rules_apply_only_to_campaigns_that_use_the_device() -> None:
    """15 O.S. 755.1 (automatic dial announcing devices, 09:00-21:00 in Oklahoma):
    by default callTechnology is every way of calling, so the rule applies; a campaign
    of live agents only is not cut by it, one with an artificial (AI) voice is."""
    tulsa = "+19185550100"
    chicago = ZoneInfo("America/Chicago")

    def first_window(**fields: Any) -> tuple[str, str]:
        c = campaign(startTime="07:00", endTime="23:00", **fields)
        start = datetime(2027, 1, 15, tzinfo=chicago)
        (w,) = c.for_customer(tulsa).windows(start, start + timedelta(days=1))
        return f"{w.start.astimezone(chicago):%H:%M}", f"{w.end.astimezone(chicago):%H:%M}"

    assert first_window() == ("09:00", "21:00")
    assert first_window(callTechnology=["artificial-voice"]) == ("09:00", "21:00")
    assert first_window(callTechnology=["live-agent"]) == ("08:00", "21:00")  # the TCPA's
    default = campaign().for_customer(tulsa)
    (named,) = [cut.rule for cut in default.cuts if cut.rule and "US-OK-adad-hours" in cut.rule]
    assert named is not None and "for calls made with an automatic-dialer or " in named


def test_call_technology_is_validated_and_written_back() -> None:
    c = campaign(callTechnology=["artificial-voice", "live-agent", "artificial-voice"])
    assert c.to_dict()["callTechnology"] == ["live-agent", "artificial-voice"]
    assert campaign().to_dict()["callTechnology"] == [
        "live-agent",
        "automatic-dialer",
        "prerecorded-voice",
        "artificial-voice",
    ]
    for bad, path, words in (
        ([], "callTechnology", "non-empty list"),
        ("live-agent", "callTechnology", "non-empty list"),
        (["robot"], "callTechnology.0", "'live-agent'"),
    ):
        with pytest.raises(ConfigError) as caught:
            campaign(callTechnology=bad)
        assert any(p.path == path and words in p.message for p in caught.value.errors), bad


def test_mississippi_hours_are_on_central_standard_time_all_year() -> None:
    """Miss. Code 77-3-723: 08:00-20:00 'Central Standard Time' (Etc/GMT+6), no
    Sunday: in January 08:00-20:00 CST, in July 09:00-21:00 CDT on the wall clock."""
    jackson = "+16015550100"
    chicago = ZoneInfo("America/Chicago")
    c = campaign(startTime="06:00", endTime="23:30")
    view = c.for_customer(jackson)
    assert view.scopes == ("federal", "MS")

    def windows(day: date) -> list[tuple[str, str]]:
        start = datetime(day.year, day.month, day.day, tzinfo=chicago)
        return [
            (f"{w.start.astimezone(chicago):%H:%M}", f"{w.end.astimezone(chicago):%H:%M}")
            for w in view.windows(start, start + timedelta(days=1))
        ]

    assert windows(date(2027, 1, 15)) == [("08:00", "20:00")]  # Friday, CST
    assert windows(date(2027, 7, 16)) == [("09:00", "21:00")]  # Friday, CDT: 08:00-20:00 CST
    assert windows(date(2027, 7, 18)) == []  # Sunday
    # Saturday 2027-07-17 runs to 21:00 CDT (20:00 CST); Monday opens at 09:00 CDT.
    assert windows(date(2027, 7, 17)) == [("09:00", "21:00")]
    late = view.explain(datetime(2027, 7, 16, 21, 30, tzinfo=chicago))
    assert any("Etc/GMT+6" in r.message and "US-MS-hours" in r.message for r in late.reasons)


def test_utah_sundays_and_legal_holidays_have_no_calls() -> None:
    """Utah Code 13-25a-103(3): 08:00-21:00, none on Sundays or legal holidays
    (the holidays package's calendar of subdivision UT: Pioneer Day, 24 July)."""
    holidays_package()
    salt_lake = "+18015550100"
    denver = ZoneInfo("America/Denver")
    c = campaign(startTime="06:00", endTime="23:59")
    view = c.for_customer(salt_lake)
    assert view.scopes == ("federal", "UT")

    def windows(day: date) -> list[tuple[str, str]]:
        start = datetime(day.year, day.month, day.day, tzinfo=denver)
        return [
            (f"{w.start.astimezone(denver):%H:%M}", f"{w.end.astimezone(denver):%H:%M}")
            for w in view.windows(start, start + timedelta(days=1))
        ]

    assert windows(date(2028, 7, 21)) == [("08:00", "21:00")]  # Friday
    assert windows(date(2028, 7, 23)) == []  # Sunday
    assert windows(date(2028, 7, 24)) == []  # Monday, Pioneer Day
    assert windows(date(2028, 7, 25)) == [("08:00", "21:00")]


def local_windows(view: Any, day: date, key: str) -> list[tuple[str, str]]:
    """The windows of local date ``day`` on clock ``key``, in that clock's time."""
    zone = ZoneInfo(key)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return [
        (f"{w.start.astimezone(zone):%H:%M}", f"{w.end.astimezone(zone):%H:%M}")
        for w in view.windows(start, start + timedelta(days=1))
    ]


def test_maine_device_hours_are_weekdays_09_to_17_on_maines_clock() -> None:
    """10 M.R.S. 1498(3) (US-ME-automated-hours): a recorded-message device may call
    weekdays 09:00-17:00 'according to the time in this State' (America/New_York).
    Around the spring change of 2027 (Sunday 14 March): Friday 09:00-17:00 EST is
    14:00-22:00 UTC, Monday 09:00-17:00 EDT is 13:00-21:00 UTC, and the weekend, DST
    Sunday included, has no window.  Live agents and a dialer that plays no recorded
    message are held to the TCPA's 08:00-21:00 only."""
    portland = "+12075550100"
    c = campaign(startTime="06:00", endTime="23:59")
    view = c.for_customer(portland)
    assert view.scopes == ("federal", "ME")
    assert local_windows(view, date(2027, 3, 12), "America/New_York") == [("09:00", "17:00")]
    assert local_windows(view, date(2027, 3, 13), "America/New_York") == []
    assert local_windows(view, date(2027, 3, 14), "America/New_York") == []
    assert local_windows(view, date(2027, 3, 15), "America/New_York") == [("09:00", "17:00")]
    friday = ny(2027, 3, 12)
    monday = ny(2027, 3, 15)
    assert [(w.start, w.end) for w in view.windows(friday, friday + timedelta(days=1))] == [
        (datetime(2027, 3, 12, 14, tzinfo=UTC), datetime(2027, 3, 12, 22, tzinfo=UTC))
    ]
    assert [(w.start, w.end) for w in view.windows(monday, monday + timedelta(days=1))] == [
        (datetime(2027, 3, 15, 13, tzinfo=UTC), datetime(2027, 3, 15, 21, tzinfo=UTC))
    ]
    assert view.next_callable(ny(2027, 3, 12, 17, 0)) == ny(2027, 3, 15, 9, 0)
    late = [r.message for r in view.explain(ny(2027, 3, 15, 17, 30)).reasons]
    assert any(
        "US-ME-automated-hours [" in m and "in America/New_York" in m and "10 M.R.S. 1498(3)" in m
        for m in late
    ), late
    for kinds in (["live-agent"], ["automatic-dialer"]):
        other = campaign(startTime="06:00", endTime="23:59", callTechnology=kinds)
        live = other.for_customer(portland)
        assert local_windows(live, date(2027, 3, 14), "America/New_York") == [("08:00", "21:00")]
        assert local_windows(live, date(2027, 3, 15), "America/New_York") == [("08:00", "21:00")]
    voice = campaign(startTime="06:00", endTime="23:59", callTechnology=["artificial-voice"])
    assert local_windows(voice.for_customer(portland), date(2027, 3, 13), "America/New_York") == []
    # The same sentence's one call per number in each 8-hour period, for the same
    # devices: a call at 08:30 EDT (made elsewhere, in the history) holds the number
    # until 16:30 EDT, 8 hours later; a live-agent campaign is not under it.
    (count,) = view.limits
    assert count == ContactLimit(
        max_calls=1,
        days=0,
        hours=8,
        per="customer",
        count="attempts",
        window="rolling",
        name="10 M.R.S. 1498(3): at most 1 call in 8 hours, per telephone number, for calls "
        "made with a prerecorded-voice or artificial-voice",
        since=START_US,  # start not known: in force on every date
    )
    history = [(portland, ny(2027, 3, 15, 8, 30), "No Answer")]
    held = c.for_customer(portland, history=history)
    assert not held.is_callable(ny(2027, 3, 15, 9, 0))
    assert held.next_callable(ny(2027, 3, 15, 9, 0)) == ny(2027, 3, 15, 16, 30)
    assert held.is_callable(ny(2027, 3, 15, 16, 30))
    reasons = [r.message for r in held.explain(ny(2027, 3, 15, 12, 0)).reasons]
    assert any("10 M.R.S. 1498(3): at most 1 call in 8 hours" in m for m in reasons), reasons
    live = campaign(startTime="06:00", endTime="23:59", callTechnology=["live-agent"])
    assert live.for_customer(portland).limits == ()
    assert live.for_customer(portland, history=history).is_callable(ny(2027, 3, 15, 9, 0))
    # Maine's clock, not the customer's: a Maine customer living on Pacific time is
    # callable 06:00-14:00 Pacific under it, and from 08:00 under the TCPA there.
    away = c.for_customer(
        {
            "phoneNumber": NEW_YORK_NUMBER,
            "properties": {"state": "ME", "timezone": "America/Los_Angeles"},
        }
    )
    assert local_windows(away, date(2027, 3, 15), "America/Los_Angeles") == [("08:00", "14:00")]


def test_california_device_hours_start_at_09_00_california_time() -> None:
    """Cal. Pub. Util. Code 2872(c) (US-CA-adad-hours): no call by an automatic
    dialing-announcing device between 21:00 and 09:00 'California time'
    (America/Los_Angeles), every day: 09:00-21:00 on the 23-hour Sunday of 14 March 2027
    and the 25-hour Sunday of 7 November 2027 alike (16:00Z and 17:00Z), an hour later
    than the TCPA's 08:00, which a live-agent campaign keeps."""
    los_angeles = "+12135550100"
    c = campaign(timezone="America/Los_Angeles", startTime="06:00", endTime="23:00")
    view = c.for_customer(los_angeles)
    assert view.scopes == ("federal", "CA")
    for day in (date(2027, 3, 13), date(2027, 3, 14), date(2027, 11, 7)):
        assert local_windows(view, day, "America/Los_Angeles") == [("09:00", "21:00")], day
    pacific = ZoneInfo("America/Los_Angeles")
    spring = datetime(2027, 3, 14, tzinfo=pacific)
    (w,) = view.windows(spring, spring + timedelta(days=1))
    assert (w.start, w.end) == (
        datetime(2027, 3, 14, 16, tzinfo=UTC),
        datetime(2027, 3, 15, 4, tzinfo=UTC),
    )
    autumn = datetime(2027, 11, 7, tzinfo=pacific)
    (w,) = view.windows(autumn, autumn + timedelta(days=1))
    assert (w.start, w.end) == (
        datetime(2027, 11, 7, 17, tzinfo=UTC),
        datetime(2027, 11, 8, 5, tzinfo=UTC),
    )
    early = [r.message for r in view.explain(datetime(2027, 3, 14, 8, 30, tzinfo=pacific)).reasons]
    assert any("US-CA-adad-hours [" in m and "America/Los_Angeles" in m for m in early), early
    for kinds, opens in ((["live-agent"], "08:00"), (["artificial-voice"], "09:00")):
        other = campaign(
            timezone="America/Los_Angeles", startTime="06:00", endTime="23:00", callTechnology=kinds
        )
        got = local_windows(
            other.for_customer(los_angeles), date(2027, 3, 14), "America/Los_Angeles"
        )
        assert got == [(opens, "21:00")], kinds
    # docs/compliance.md, "A state's own clock": a California customer on New York
    # time is callable from 09:00 Pacific (12:00 New York) to the TCPA's 21:00 there.
    east = campaign(startTime="06:00", endTime="23:59").for_customer(
        {
            "phoneNumber": NEW_YORK_NUMBER,
            "properties": {"state": "CA", "timezone": "America/New_York"},
        }
    )
    assert local_windows(east, date(2027, 3, 15), "America/New_York") == [("12:00", "21:00")]


@pytest.mark.parametrize(
    ("phone", "key", "rule", "device"),
    [
        ("+14025550100", "America/Chicago", "US-NE-adad-hours", True),
        ("+15025550100", "America/New_York", "US-KY-automated-hours", True),
        ("+14065550100", "America/Denver", "US-MT-hours", False),
        ("+18045550100", "America/New_York", "US-VA-hours", False),
    ],
)
def test_state_rules_with_the_federal_hours_are_named_and_cut_nothing_more(
    phone: str, key: str, rule: str, device: bool
) -> None:
    """Neb. Rev. Stat. 86-248, KRS 367.461(2)(e), Mont. Code Ann. 30-14-1412(1)(d) and
    Va. Code 59.1-511 say 08:00-21:00, as the TCPA does: the window is the TCPA's on
    the spring DST day, and explain names the state's rule beside the federal ones;
    the two device rules only for a campaign that may play a recorded message."""
    zone = ZoneInfo(key)
    for kinds in (None, ["live-agent"]):
        fields: dict[str, Any] = {"startTime": "00:00", "endTime": "23:59"}
        if kinds is not None:
            fields["callTechnology"] = kinds
        c = campaign(**fields)
        view = c.for_customer(phone)
        assert local_windows(view, date(2027, 3, 14), key) == [("08:00", "21:00")]
        named = [
            r.message for r in view.explain(datetime(2027, 3, 14, 21, 30, tzinfo=zone)).reasons
        ]
        assert any("US-TCPA-hours [" in m for m in named), named
        applies = kinds is None or not device
        assert any(f"{rule} [" in m for m in named) == applies, (kinds, named)


# -- ZIP codes as a location signal (section 5) ---------------------------------------


def test_area_code_zip_code_and_state_naming_three_states_bring_all_three() -> None:
    """A Florida number (+1 305) of a customer whose properties.state is Rhode Island
    and whose postalCode is in Salt Lake City (84101): the rules of all three states
    apply (callable only when callable under each), and explain names which signal
    brought which state."""
    holidays_package()
    pytest.importorskip("zipcodes")
    customer = {
        "phoneNumber": FLORIDA,
        "properties": {"state": "RI", "postalCode": "84101", "timezone": "America/New_York"},
    }
    c = campaign(startTime="07:00", endTime="23:00")
    view = c.for_customer(customer)
    assert view.scopes == ("federal", "FL", "RI", "UT")
    # Friday: Rhode Island's 09:00-18:00 is the narrowest; Saturday its 10:00-17:00;
    # Sunday: none (Rhode Island and Utah); Pioneer Day (Utah, Monday 2028-07-24):
    # none; and none on Friday 2027-07-23, when Utah observes Saturday's Pioneer Day.
    assert day_windows(view, date(2027, 6, 11)) == [("09:00", "18:00")]
    assert day_windows(view, date(2027, 6, 12)) == [("10:00", "17:00")]
    assert day_windows(view, date(2027, 6, 13)) == []
    assert day_windows(view, date(2027, 7, 23)) == []
    assert day_windows(view, date(2028, 7, 24)) == []
    assert day_windows(view, date(2028, 7, 25)) == [("09:00", "18:00")]
    reasons = c.explain(ny(2027, 6, 11, 12), customer).reasons
    assert reasons[-1].rule == "jurisdiction"
    assert reasons[-1].message == (
        "the customer's states: FL from the number's area code (+1 305); RI from "
        "properties.state; UT from properties.postalCode 84101"
    )
    # ZIP+4 and the `zip` key read the same; a ZIP alone places the customer in the US.
    alone = c.for_customer({"phoneNumber": CANADA, "properties": {"zip": "84101-1234"}})
    assert alone.scopes == ("federal", "UT")


def test_a_bad_or_unknown_zip_code_is_an_error_with_its_path() -> None:
    pytest.importorskip("zipcodes")
    c = campaign()
    for value, words in (
        ("8410", "is not a US ZIP code"),
        (84101, "is not a US ZIP code"),
        ("00000", "not a ZIP code the zipcodes package knows"),
    ):
        with pytest.raises(ConfigError) as caught:
            c.for_customer({"phoneNumber": FLORIDA, "properties": {"postalCode": value}})
        (problem,) = caught.value.errors
        assert problem.path == "customer.properties.postalCode" and words in problem.message


def test_without_zipcodes_a_zip_code_property_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "zipcodes", None)  # import fails
    jur._zip_index.cache_clear()
    try:
        c = campaign(callPurpose="debt-collection")
        with pytest.raises(jur.MissingZipCodes) as caught:
            c.for_customer({"phoneNumber": FLORIDA, "properties": {"zip": "33101"}})
        assert "pip install 'callslots[zip]'" in caught.value.errors[0].message
        assert c.for_customer(FLORIDA).scopes == ("federal",)  # no ZIP: not needed
    finally:
        jur._zip_index.cache_clear()
