"""Contact limits (docs/limits.md), tested against an independent oracle.

``tests/limits_oracle.py`` decides by brute force over spans and local dates whether a
call at an instant is allowed and which instant is the first allowed one; it shares no
code with ``src/callslots/limits.py`` (it was written from the doc, without reading the
engine).  The properties here hold the engine to it:

* ``for_customer(c, history=h)``: ``next_callable(t)``, ``is_callable(t)``,
  ``retry`` and ``explain`` against the oracle combined with the customer's windows
  without limits (``for_customer(c)`` with no history, which tests/test_properties.py
  and tests/test_recipients.py hold to the window oracle);
* ``simulate(..., history=...)`` and a service loop over the ``Dispatcher``'s public
  API (late ends, expiries, not_started, callbacks, snapshots): no call of a run is
  over a limit or in a quiet period, every customer is counted once, a customer is
  in one call at a time, a lone customer is dialed on the first allowed slot, and a
  blocked customer does not hold up the others;
* named cases from issue 12, checked by hand in the comments, and the disagreements
  the properties found, reduced (the end of the file);
* the new payload fields and history records, fuzzed against the doc's table;
* the ends of the time line.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

import limits_oracle as lo
from callslots import (
    Attempt,
    Campaign,
    ConfigError,
    Dispatcher,
    DispatchError,
    Outcome,
    RandomOutcomes,
    ReplayOutcomes,
    simulate,
)

UTC = timezone.utc
OUTCOME_NAMES = [o.value for o in Outcome]

#: A DST change of each zone the tests use, as the centre of the drawn histories.
#: America/Santiago falls back at 24:00 (to 23:00 of the same date) on 2026-04-04;
#: Australia/Lord_Howe moves by 30 minutes (02:00 -> 01:30) on 2026-04-05.
CENTRES: dict[str, list[date]] = {
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
    "Europe/London": [date(2026, 3, 29), date(2026, 10, 25)],
    "America/Santiago": [date(2026, 4, 5), date(2026, 9, 6)],
    "Australia/Lord_Howe": [date(2026, 4, 5), date(2026, 10, 4)],
}
ZONES = sorted(CENTRES)


def utc(text: str) -> datetime:
    # "Z" spelled out: Python 3.10's fromisoformat does not read it
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def local(text: str, zone: str) -> datetime:
    """A wall-clock time in ``zone`` (the earlier reading when it is ambiguous), in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def phone(n: int) -> str:
    return f"+1212555{n:04d}"


# ===================================================================== the oracle itself


def test_oracle_first_instants_of_dates_around_clock_changes() -> None:
    # New York falls back at 02:00 EDT on 2026-11-01: that date starts at 04:00Z and
    # lasts 25 hours, the next one starts at 05:00Z.
    assert lo.first_instant(date(2026, 11, 1), "America/New_York") == utc("2026-11-01T04:00Z")
    assert lo.first_instant(date(2026, 11, 2), "America/New_York") == utc("2026-11-02T05:00Z")
    # Santiago: on 2026-09-06 the clock skips 00:00-01:00 (spring forward at 24:00), so
    # the date starts at 01:00 -03, 04:00Z; on 2026-04-05 (after the 24:00 -> 23:00
    # fall back on the 4th) the date starts at 00:00 -04, 04:00Z.
    assert lo.first_instant(date(2026, 9, 6), "America/Santiago") == utc("2026-09-06T04:00Z")
    assert lo.first_instant(date(2026, 4, 5), "America/Santiago") == utc("2026-04-05T04:00Z")
    assert lo.first_instant(date(2026, 4, 4), "America/Santiago") == utc("2026-04-04T03:00Z")
    # Lord Howe: +11 in southern summer, +10:30 in winter.
    assert lo.first_instant(date(2026, 4, 6), "Australia/Lord_Howe") == utc("2026-04-05T13:30Z")
    assert lo.first_instant(date(2026, 4, 5), "Australia/Lord_Howe") == utc("2026-04-04T13:00Z")
    # Samoa skipped 2011-12-30 entirely.
    assert lo.first_instant(date(2011, 12, 30), "Pacific/Apia") is None


GRID = timedelta(minutes=30)  # every candidate of the oracle lies on it in these tests


@st.composite
def small_worlds(draw: st.DrawFn) -> tuple[lo.Rules, list[lo.Call], datetime, str]:
    """Calls on a 30-minute grid near a clock change, limits of a few days."""
    zone = draw(st.sampled_from(ZONES))
    centre = draw(st.sampled_from(CENTRES[zone]))
    base = datetime(centre.year, centre.month, centre.day, tzinfo=UTC) - timedelta(days=4)
    steps = st.integers(0, 8 * 48)
    calls = [
        lo.Call(base + k * GRID, draw(st.sampled_from([*OUTCOME_NAMES, None])), "+1", "c")
        for k in draw(st.lists(steps, max_size=8))
    ]
    limits = draw(st.lists(limit_dicts(max_days=3), min_size=1, max_size=2))
    quiet = draw(st.none() | st.integers(1, 3))
    t = base + draw(steps) * GRID
    return lo.Rules.of(limits, quiet), calls, t, zone


@given(small_worlds())
def test_oracle_next_allowed_is_the_first_allowed_point_of_the_grid(
    world: tuple[lo.Rules, list[lo.Call], datetime, str],
) -> None:
    """The candidate argument of ``next_allowed`` against a plain walk over the grid."""
    rules, calls, t, zone = world
    found = lo.next_allowed(rules, t, calls, "+1", "c", [zone])
    x = t
    while not lo.allowed(rules, x, calls, "+1", "c", [zone]):
        x += GRID
    assert found == x
    if found > t:  # the instant just before it is blocked (it is the first)
        assert not lo.allowed(rules, found - timedelta(microseconds=1), calls, "+1", "c", [zone])


@given(small_worlds(), st.integers(0, 47))
def test_oracle_rolling_spans_agree_with_every_span_of_the_grid(
    world: tuple[lo.Rules, list[lo.Call], datetime, str], offset: int
) -> None:
    """Trying only the spans that start at t or at a call gives the same verdict as
    trying every span start on a 1-minute grid (calls and t are on it)."""
    rules, calls, t, _ = world
    t += offset * timedelta(minutes=1)
    for limit in rules.limits:
        width = limit.width
        mine = [
            c
            for c in calls
            if limit.count == "attempts" or c.outcome is None or c.outcome in rules.connected
        ]
        over = False
        s = t - width + timedelta(minutes=1)
        while s <= t:
            held = sum(1 for c in mine if s <= c.at < s + width)
            over = over or held + 1 > limit.max_calls
            s += timedelta(minutes=1)
        rolling = lo.Rules(
            (lo.Limit(limit.max_calls, limit.days, "number", limit.count, hours=limit.hours),)
        )
        assert lo.allowed(rolling, t, calls, "+1", "c", ["UTC"]) == (not over)


# ====================================================================== strategies


def limit_dicts(
    max_days: int = 4, max_calls: int = 3, windows: Sequence[str] = ("rolling", "calendar")
) -> st.SearchStrategy[dict[str, Any]]:
    """A ``contactLimits`` entry, its optional fields sometimes left to their default."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        entry: dict[str, Any] = {"maxCalls": draw(st.integers(1, max_calls))}
        window = draw(st.sampled_from(list(windows)))
        if window == "rolling" and draw(st.integers(0, 3)) == 0:
            # A span of hours, some not a whole number of days (ME: one call in 8 hours).
            entry["hours"] = draw(
                st.sampled_from([1, 8, 23, 25, 36]) | st.integers(1, 24 * max_days)
            )
        else:
            entry["days"] = draw(st.integers(1, max_days))
        for key, values in (
            ("per", ["customer", "number"]),
            ("count", ["attempts", "connected"]),
        ):
            if draw(st.booleans()):
                entry[key] = draw(st.sampled_from(values))
        if window == "calendar" or draw(st.booleans()):  # rolling is the default
            entry["window"] = window
        return entry

    return build()


connected_sets = st.none() | st.lists(st.sampled_from(OUTCOME_NAMES), min_size=1, unique=True)


def limit_fields(
    limits: list[dict[str, Any]], quiet: int | None, connected: list[str] | None
) -> dict[str, Any]:
    fields: dict[str, Any] = {"contactLimits": limits}
    if quiet is not None:
        fields["quietAfterConversationDays"] = quiet
    if connected is not None:
        fields["connectedOutcomes"] = connected
    return fields


@dataclass
class World:
    """One customer's question: a campaign, the customer, a history and an instant."""

    zone: str
    campaign: Campaign
    rules: lo.Rules
    customer: dict[str, Any]
    history: list[tuple[str, datetime, str]]
    t: datetime


def instants_near(draw: st.DrawFn, centre: datetime, days: int) -> datetime:
    """An instant within ``days`` of ``centre``: on a whole hour, half hour or second
    (so that sums of calls and days meet exactly), sometimes with a fraction."""
    kind = draw(st.sampled_from(["hour", "half", "second", "micro"]))
    span = days * 86400
    if kind == "hour":
        return centre + timedelta(hours=draw(st.integers(-span // 3600, span // 3600)))
    if kind == "half":
        return centre + timedelta(minutes=30 * draw(st.integers(-span // 1800, span // 1800)))
    seconds = timedelta(seconds=draw(st.integers(-span, span)))
    micro = (
        timedelta(microseconds=draw(st.integers(1, 999_999))) if kind == "micro" else timedelta()
    )
    return centre + seconds + micro


@st.composite
def worlds(draw: st.DrawFn, windows: Sequence[str] = ("rolling", "calendar")) -> World:
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(CENTRES[zone]))
    centre = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    campaign_zone = draw(st.sampled_from([zone, zone, "UTC", "Asia/Kolkata"]))
    payload: dict[str, Any] = {
        "timezone": campaign_zone,
        "startDate": (day - timedelta(days=20)).isoformat(),
        "endDate": (day + timedelta(days=draw(st.sampled_from([10, 40])))).isoformat(),
        "callRetries": 3,
        "retryDelaySeconds": draw(st.sampled_from([0, 600, 3600, 86400])),
        "retryDelayMode": draw(st.sampled_from(["fixed", "fixed", "next_day"])),
    }
    if draw(st.booleans()):  # otherwise open all day, every day: only the limits decide
        payload["startTime"], payload["endTime"] = draw(
            st.sampled_from([("09:00", "17:00"), ("00:30", "02:30"), ("22:00", "03:00")])
        )
    if draw(st.integers(0, 3)) == 0:  # the customer's own hours too
        payload["recipientHours"] = draw(
            st.sampled_from(
                [
                    {"startTime": "08:00", "endTime": "21:00"},
                    {"startTime": "20:00", "endTime": "02:30"},
                ]
            )
        )
    limits = draw(st.lists(limit_dicts(windows=windows), min_size=1, max_size=3))
    quiet = draw(st.none() | st.integers(1, 4))
    connected = draw(connected_sets)
    payload.update(limit_fields(limits, quiet, connected))
    campaign = Campaign.from_dict(payload)
    me, other = phone(1), phone(2)
    properties: dict[str, Any] = {"timezone": zone}
    if draw(st.booleans()):
        properties["customerId"] = "C-1"
    customer = {"phoneNumber": me, "properties": properties}
    history = [
        (
            draw(st.sampled_from([me, me, other])),
            instants_near(draw, centre, 14),
            draw(st.sampled_from(OUTCOME_NAMES)),
        )
        for _ in range(draw(st.integers(0, 30)))
    ]
    if draw(st.booleans()):  # the same instants written in another zone: nothing changes
        written = ZoneInfo(draw(st.sampled_from(ZONES)))
        history = [(n, at.astimezone(written), o) for n, at, o in history]
    t = instants_near(draw, centre, 16)
    return World(zone, campaign, lo.Rules.of(limits, quiet, connected), customer, history, t)


def oracle_calls(world: World) -> list[lo.Call]:
    """For ``for_customer`` every record is a call to that customer (docs/limits.md,
    section 4): one customer key for all, the number as given."""
    return [lo.Call(at, outcome, number, "me") for number, at, outcome in world.history]


def expected_next(world: World, t: datetime) -> datetime | None:
    """The first instant at or after ``t`` that the campaign's windows (without limits)
    and the limits oracle both accept: alternate between the two until they meet (each
    step moves to the first instant the other one accepts, so none is skipped)."""
    calls = oracle_calls(world)
    me = world.customer["phoneNumber"]
    windows = world.campaign.for_customer(world.customer)  # no history: windows only
    x = windows.next_callable(t)
    while x is not None:
        y = lo.next_allowed(world.rules, x, calls, me, "me", [world.zone])
        if windows.is_callable(y):
            return y
        x = windows.next_callable(y)
    return None


# ============================================================ the customer's questions


@given(worlds())
def test_next_callable_and_is_callable_agree_with_the_oracle(world: World) -> None:
    check_the_customers_questions(world)


@given(worlds(windows=["calendar"]))
def test_calendar_limits_and_the_quiet_period_agree_with_the_oracle(world: World) -> None:
    """The same, only calendar limits (so that a disagreement about rolling spans
    does not hide one about dates)."""
    check_the_customers_questions(world)


def check_the_customers_questions(world: World) -> None:
    view = world.campaign.for_customer(world.customer, history=world.history)
    calls = oracle_calls(world)
    me = world.customer["phoneNumber"]
    blocks = lo.blocks(world.rules, world.t, calls, me, "me", [world.zone])
    note(f"t={world.t.isoformat()} blocks={blocks}")
    windows = world.campaign.for_customer(world.customer)  # no history: windows only
    expected = windows.is_callable(world.t) and not blocks
    assert view.is_callable(world.t) == expected
    assert view.explain(world.t).callable == expected
    said = world.campaign.explain(world.t, world.customer, history=world.history)
    assert said.callable == expected
    if not expected:
        assert view.explain(world.t).reasons
    found = view.next_callable(world.t)
    assert found == expected_next(world, world.t)
    event("limits block t" if blocks else "limits allow t")
    if found is not None and found != windows.next_callable(world.t):
        event("a limit moved next_callable")
    if found is not None:
        assert view.is_callable(found)


def micros_of(t: datetime) -> int:
    return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


@st.composite
def rules_in_force_from(draw: st.DrawFn) -> tuple[str, datetime, Any, Any, list[Any]]:
    """A zone, a centre, the same limits (some in force from an instant near the
    centre) for the oracle and the engine, and those instants."""
    from callslots.limits import ContactLimit, QuietRule, Rules

    zone = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(CENTRES[zone]))
    centre = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    entries = draw(st.lists(limit_dicts(), min_size=1, max_size=3))
    starts = [draw(st.none() | st.just(instants_near(draw, centre, 6))) for _ in entries]
    quiet = draw(st.none() | st.integers(1, 4))
    quiet_since = instants_near(draw, centre, 6) if draw(st.booleans()) else None
    plain = [lo.Limit.of(e) for e in entries]
    oracle_rules = lo.Rules(
        tuple(
            lo.Limit(x.max_calls, x.days, x.per, x.count, x.window, since, x.hours)
            for x, since in zip(plain, starts, strict=True)
        ),
        quiet,
        quiet_since=quiet_since,
    )
    engine_rules = Rules(
        tuple(
            ContactLimit(
                limit.max_calls,
                limit.days,
                limit.per,
                limit.count,
                limit.window,
                f"rule {i}",
                *(() if limit.since is None else (micros_of(limit.since),)),
                hours=limit.hours,
            )
            for i, limit in enumerate(oracle_rules.limits)
        ),
        ()
        if quiet is None
        else (
            QuietRule(quiet, "quiet", *(() if quiet_since is None else (micros_of(quiet_since),))),
        ),
    )
    return zone, centre, oracle_rules, engine_rules, starts


@given(rules_in_force_from(), st.data())
def test_limits_in_force_from_an_instant_agree_with_the_oracle(
    world: tuple[str, datetime, Any, Any, list[Any]], data: st.DataObject
) -> None:
    """A calling rule's limit or quiet period is in force from its effective instant on
    (docs/compliance.md, "Effective dates"): before it, it allows every call; from it
    on, it counts every call of its span, earlier ones too.  The engine's ledger
    against the oracle, at and after an instant near the rules' starts."""
    from callslots.limits import Ledger
    from callslots.tz import load_zone

    zone, centre, oracle_rules, engine_rules, starts = world
    draw: Any = data.draw
    me, other = phone(1), phone(2)
    history = [
        (
            draw(st.sampled_from([me, me, other])),
            instants_near(draw, centre, 8),
            draw(st.sampled_from(OUTCOME_NAMES)),
        )
        for _ in range(draw(st.integers(0, 20)))
    ]
    ledger = Ledger(me, engine_rules, (load_zone(zone),))
    for number, at, outcome in history:
        ledger.add(number, micros_of(at), Outcome.parse(outcome))
    calls = [lo.Call(at, outcome, number, "me") for number, at, outcome in history]
    t = instants_near(draw, centre, 8)
    blocked = lo.blocks(oracle_rules, t, calls, me, "me", [zone])
    note(f"t={t.isoformat()} blocks={blocked}")
    assert bool(ledger.blocks(micros_of(t))) == bool(blocked)
    expected = lo.next_allowed(oracle_rules, t, calls, me, "me", [zone])
    assert ledger.first_allowed(micros_of(t)) == micros_of(expected)
    event("blocked" if blocked else "allowed")
    if any(since is not None and t < since for since in starts):
        event("a limit not in force yet at t")


@given(worlds())
def test_explain_names_each_blocking_limit_and_when_it_frees(world: World) -> None:
    """docs/limits.md section 5: ``explain`` adds each limit that blocks ``t`` (its
    path, or ``quietAfterConversationDays``) and when it frees: each limit is judged
    alone by the oracle, and its first allowed instant is in the text (when it is a
    whole second, written ``YYYY-MM-DDTHH:MM:SSZ``).  A limit listed twice is one
    limit, named by its first path."""
    view = world.campaign.for_customer(world.customer, history=world.history)
    text = str(view.explain(world.t))
    calls = oracle_calls(world)
    me = world.customer["phoneNumber"]
    seen: set[lo.Limit] = set()
    singles: list[tuple[str, lo.Rules]] = []
    for i, limit in enumerate(world.rules.limits):
        if limit not in seen:
            seen.add(limit)
            singles.append((f"contactLimits.{i}", lo.Rules((limit,), None, world.rules.connected)))
    if world.rules.quiet_days is not None:
        singles.append(("quietAfterConversationDays", lo.Rules((), world.rules.quiet_days)))
    for path, rules in singles:
        blocked = bool(lo.blocks(rules, world.t, calls, me, "me", [world.zone]))
        named = re.search(re.escape(path) + r"\b", text) is not None
        assert named == blocked, (path, text)
        if blocked:
            free = lo.next_allowed(rules, world.t, calls, me, "me", [world.zone])
            if not free.microsecond:
                assert free.strftime("%Y-%m-%dT%H:%M:%SZ") in text, (path, free, text)


@given(worlds(), st.sampled_from(OUTCOME_NAMES), st.integers(1, 3))
def test_retry_adds_the_call_that_ended_and_waits_for_the_limits(
    world: World, outcome: str, attempt: int
) -> None:
    """``retry`` counts the call that just ended (at ``started_at``) and searches the
    retry rule's due time in the callable and allowed time: its ``at`` is the first
    instant the oracle allows at or after the due time the campaign gives without
    limits, whenever the campaign itself retries."""
    started = world.t
    ended = started + timedelta(seconds=95)
    view = world.campaign.for_customer(world.customer, history=world.history)
    plain = world.campaign.for_customer(world.customer).retry(
        outcome, attempt, ended, started_at=started
    )
    limited = view.retry(outcome, attempt, ended, started_at=started)
    if not plain.retry or plain.at is None:
        assert not limited.retry or limited.at is None
        return
    event("retried")
    me = world.customer["phoneNumber"]
    longer = World(
        world.zone,
        world.campaign,
        world.rules,
        world.customer,
        [*world.history, (me, started, outcome)],
        world.t,
    )
    # The campaign's due time is the window's first callable instant at or after the
    # rule's delay; with limits the search goes on from there in the allowed time.
    assert limited.at == expected_next(longer, plain.at)


# ========================================================================= named cases


def test_regulation_f_seven_in_seven_with_a_conversation_on_day_3() -> None:
    """docs/limits.md's worked example, one week earlier start so that 1 March counts.

    Calls at 09:00 New York time on 2-8 March 2026, the one of 4 March (day 3 of the
    seven) Completed.  By hand, for a call at noon on each date:
    - up to 1 March: the runs of 7 dates containing the date hold at most 6 calls
      (1-7 March holds 2-7: six), so a seventh is allowed: callable;
    - 2 and 3 March: the run 2-8 March holds 7 calls already: not callable;
    - 4-8 March: the same, and quiet (4 March is day 1 of 4-10 March);
    - 9 and 10 March: every run holds at most 6 (3-9: 3..8 = six), but quiet;
    - 11 March on: day 8 after the conversation, runs hold at most 4: callable.
    """
    zone = "America/New_York"
    campaign = Campaign.from_dict(
        {
            "timezone": zone,
            "startDate": "2026-02-23",
            "endDate": "2026-03-31",
            "startTime": "09:00",
            "endTime": "17:00",
            "contactLimits": [{"maxCalls": 7, "days": 7, "window": "calendar"}],
            "quietAfterConversationDays": 7,
        }
    )
    customer = {"phoneNumber": phone(1), "properties": {"timezone": zone}}
    history = [
        (phone(1), local(f"2026-03-{d:02d}T09:00", zone), "Completed" if d == 4 else "No Answer")
        for d in range(2, 9)
    ]
    view = campaign.for_customer(customer, history=history)
    callable_dates = {
        d for d in range(1, 14) if view.is_callable(local(f"2026-03-{d:02d}T12:00", zone))
    }
    assert callable_dates == {1, 11, 12, 13}
    assert view.is_callable(local("2026-02-27T12:00", zone))
    # the doc's figures: 09:00 EDT on 11 March is 13:00Z (clocks went forward on 8 March)
    assert view.next_callable(utc("2026-03-09T14:00Z")) == utc("2026-03-11T13:00Z")
    text = str(view.explain(utc("2026-03-09T14:00Z")))
    assert "quietAfterConversationDays" in text
    assert "2026-03-04" in text
    assert "2026-03-11T04:00:00Z" in text  # the doc: it frees at local midnight
    assert "contactLimits" not in text  # the run 3-9 March holds six: the count allows
    # on 5 March both block: the count (seven in 2-8 March, free on 9 March, 04:00Z)
    # and the quiet period
    text = str(view.explain(local("2026-03-05T09:00", zone)))
    assert "contactLimits.0" in text and "quietAfterConversationDays" in text
    assert "2026-03-02" in text and "2026-03-08" in text
    assert "2026-03-09T04:00:00Z" in text
    rules = lo.Rules.of([{"maxCalls": 7, "days": 7, "window": "calendar"}], 7)
    calls = [lo.Call(at, o, n, "me") for n, at, o in history]
    for d in range(1, 14):
        at = local(f"2026-03-{d:02d}T12:00", zone)
        assert lo.allowed(rules, at, calls, phone(1), "me", [zone]) == (d in callable_dates)


def test_a_calendar_day_limit_across_the_fall_back_night() -> None:
    """1 call per calendar day in New York.  2026-11-01 has 25 hours (04:00Z to
    05:00Z the next day): a call at 00:30 EDT (04:30Z) blocks the whole date, also
    23:30 EST (04:30Z on the 2nd, exactly 24 hours later), and the limit frees at
    00:00 EST on 2 November, 05:00Z.  A rolling 1-per-24-hours limit frees at 04:30Z."""
    zone = "America/New_York"
    customer = {"phoneNumber": phone(1), "properties": {"timezone": zone}}
    history = [(phone(1), utc("2026-11-01T04:30Z"), "No Answer")]

    def view(window: str) -> Any:
        return Campaign.from_dict(
            {
                "timezone": "UTC",  # the customer's zone decides the dates, not the campaign's
                "startDate": "2026-10-25",
                "endDate": "2026-11-10",
                "contactLimits": [{"maxCalls": 1, "days": 1, "window": window}],
            }
        ).for_customer(customer, history=history)

    calendar = view("calendar")
    assert not calendar.is_callable(utc("2026-11-01T04:00Z"))  # 00:00 EDT, same date
    assert calendar.is_callable(utc("2026-11-01T03:59:59Z"))  # 23:59:59 EDT on the 31st
    assert not calendar.is_callable(utc("2026-11-02T04:30Z"))  # 23:30 EST, 24 h later
    assert not calendar.is_callable(utc("2026-11-02T04:59:59.999999Z"))
    assert calendar.next_callable(utc("2026-11-01T04:30Z")) == utc("2026-11-02T05:00Z")
    rolling = view("rolling")
    assert rolling.next_callable(utc("2026-11-01T04:30Z")) == utc("2026-11-02T04:30Z")
    assert not rolling.is_callable(utc("2026-10-31T04:30:00.000001Z"))
    assert rolling.is_callable(utc("2026-10-31T04:30Z"))  # exactly 24 h before: allowed


def test_santiago_calendar_day_when_the_clock_goes_back_at_midnight() -> None:
    """Santiago's 2026-04-04 runs 03:00Z to 04:00Z on the 5th (25 hours: the clock goes
    from 24:00 back to 23:00 of the 4th); a call at 23:30 of the 4th (first reading,
    03:30Z on the 5th) blocks the date to its end, the second 23:00-24:00 included."""
    zone = "America/Santiago"
    campaign = Campaign.from_dict(
        {
            "timezone": zone,
            "startDate": "2026-03-30",
            "endDate": "2026-04-10",
            "contactLimits": [{"maxCalls": 1, "days": 1, "window": "calendar"}],
        }
    )
    customer = {"phoneNumber": phone(1), "properties": {"timezone": zone}}
    view = campaign.for_customer(customer, history=[(phone(1), utc("2026-04-05T03:30Z"), "Busy")])
    assert not view.is_callable(utc("2026-04-05T03:59:59Z"))
    assert view.next_callable(utc("2026-04-04T12:00Z")) == utc("2026-04-05T04:00Z")


def test_history_later_than_t_counts() -> None:
    """A span is a span: a record ten hours after ``t`` blocks ``t`` under 1 per 24 h,
    and one exactly 24 hours after ``t`` does not."""
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2026-06-01",
            "endDate": "2026-06-30",
            "contactLimits": [{"maxCalls": 1, "days": 1}],
        }
    )
    record = utc("2026-06-10T10:00Z")
    view = campaign.for_customer(phone(1), history=[(phone(1), record, "Busy")])
    t = record - timedelta(hours=10)
    assert not view.is_callable(t)
    assert view.next_callable(t) == record + timedelta(days=1)
    assert view.is_callable(record - timedelta(days=1))
    assert not view.is_callable(record - timedelta(days=1) + timedelta(microseconds=1))


def test_per_number_and_per_customer_in_for_customer() -> None:
    """Two numbers of one customer (``customerId`` C-1): a call to the other number
    counts for a per-customer limit, not for a per-number one."""
    mine, other = phone(1), phone(2)
    customer = {"phoneNumber": mine, "properties": {"customerId": "C-1", "timezone": "UTC"}}
    history = [(other, utc("2026-06-10T10:00Z"), "No Answer")]
    t = utc("2026-06-10T12:00Z")

    def view(per: str) -> Any:
        c = Campaign.from_dict(
            {
                "timezone": "UTC",
                "startDate": "2026-06-01",
                "endDate": "2026-06-30",
                "contactLimits": [{"maxCalls": 1, "days": 1, "per": per}],
            }
        )
        return c.for_customer(customer, history=history)

    assert view("number").is_callable(t)
    assert not view("customer").is_callable(t)
    assert view("customer").next_callable(t) == utc("2026-06-11T10:00Z")


@pytest.mark.parametrize(
    ("connected", "outcome", "counts"),
    [
        (None, "No Answer", True),  # it rang
        (None, "voicemail", True),
        (None, "Rejected", True),
        (None, "Unspecified", True),
        (None, "Busy", False),  # a busy signal
        (None, "Invalid", False),
        (None, "Network Error", False),
        (["Completed", "voicemail"], "No Answer", False),  # the table replaced
        (["Completed", "voicemail"], "voicemail", True),
        (["Completed", "voicemail"], "Unspecified", False),
        (["Busy"], "Busy", True),
        (["completed", "no_answer"], "No Answer", True),  # spelled leniently
    ],
)
def test_what_connects(connected: list[str] | None, outcome: str, counts: bool) -> None:
    """1 connected call per 24 hours: a record counts only when its outcome connects
    (docs/limits.md section 3, or ``connectedOutcomes``); an attempts limit counts it
    whatever the outcome."""
    fields: dict[str, Any] = {
        "timezone": "UTC",
        "startDate": "2026-06-01",
        "endDate": "2026-06-30",
        "contactLimits": [{"maxCalls": 1, "days": 1, "count": "connected"}],
    }
    if connected is not None:
        fields["connectedOutcomes"] = connected
    history = [(phone(1), utc("2026-06-10T10:00Z"), outcome)]
    t = utc("2026-06-10T12:00Z")
    view = Campaign.from_dict(fields).for_customer(phone(1), history=history)
    assert view.is_callable(t) == (not counts)
    fields["contactLimits"] = [{"maxCalls": 1, "days": 1, "count": "attempts"}]
    assert not Campaign.from_dict(fields).for_customer(phone(1), history=history).is_callable(t)
    assert set(OUTCOME_NAMES) == lo.DEFAULT_CONNECTED | lo.DEFAULT_NOT_CONNECTED


def test_quiet_period_counts_the_conversation_date_as_day_1_in_the_customers_zone() -> None:
    """A conversation at 23:30 in Lord Howe on 2026-04-04 (+11, 12:30Z): with 2 quiet
    days, 4 and 5 April (local) are quiet; 6 April starts at 00:00 +10:30 (the clocks
    went back on the 5th), 13:30Z on the 5th."""
    zone = "Australia/Lord_Howe"
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2026-03-30",
            "endDate": "2026-04-20",
            "quietAfterConversationDays": 2,
        }
    )
    customer = {"phoneNumber": phone(1), "properties": {"timezone": zone}}
    view = campaign.for_customer(
        customer, history=[(phone(1), utc("2026-04-04T12:30Z"), "Completed")]
    )
    assert view.next_callable(utc("2026-04-04T12:30Z")) == utc("2026-04-05T13:30Z")
    assert view.is_callable(utc("2026-04-03T12:59:59Z"))  # 23:59:59 on the 3rd
    assert not view.is_callable(utc("2026-04-03T13:00Z"))  # 00:00 on the 4th: day 1


def test_a_later_conversation_on_the_same_date_makes_the_date_quiet() -> None:
    """The doc: the conversation's date is day 1 and there is no call on days 1 to D.
    Read literally, a call earlier that date (the conversation being a later history
    record) is on day 1 too."""
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2026-06-01",
            "endDate": "2026-06-30",
            "quietAfterConversationDays": 1,
        }
    )
    view = campaign.for_customer(
        phone(1), history=[(phone(1), utc("2026-06-10T15:00Z"), "Completed")]
    )
    assert not view.is_callable(utc("2026-06-10T09:00Z"))
    assert view.is_callable(utc("2026-06-09T23:59:59Z"))


# ----------------------------------------------------------------- the dispatcher, named


def run_service(
    d: Dispatcher, outcomes: dict[str, str] | None = None, seconds: int = 30
) -> list[Attempt]:
    """Poll at every wake-up and end each call ``seconds`` later with its number's
    outcome (Completed by default)."""
    done: list[Attempt] = []
    for _ in range(10_000):
        wake = d.next_wakeup()
        if wake is None:
            return done
        for dial in d.poll(wake):
            outcome = (outcomes or {}).get(dial.phone, "Completed")
            a = d.ended(dial.call_id, outcome, dial.at + timedelta(seconds=seconds))
            assert a is not None
            done.append(a)
    raise AssertionError("the loop did not end")


def small_campaign(**fields: Any) -> Campaign:
    payload: dict[str, Any] = {
        "timezone": "UTC",
        "startDate": "2026-06-01",
        "endDate": "2026-06-03",
        "startTime": "09:00",
        "endTime": "17:00",
        "callIntervalSeconds": 60,
        "maxConcurrency": 1,
        "callRetries": 0,
    }
    payload.update(fields)
    return Campaign.from_dict(payload)


def test_a_history_from_another_campaign_blocks_the_first_call() -> None:
    """Customer 0 was called by another campaign at 10:30 the day before: under 1 call
    per 24 hours its first Dial is the 10:30 slot; customers 1 and 2 are dialed at
    09:00 and 09:01 meanwhile."""
    campaign = small_campaign(
        phoneList=[phone(0), phone(1), phone(2)], contactLimits=[{"maxCalls": 1, "days": 1}]
    )
    history = [(phone(0), utc("2026-05-31T10:30Z"), "No Answer")]
    attempts = run_service(Dispatcher(campaign, history=history))
    assert [(a.customer_index, a.at) for a in attempts] == [
        (1, utc("2026-06-01T09:00Z")),
        (2, utc("2026-06-01T09:01Z")),
        (0, utc("2026-06-01T10:30Z")),
    ]
    sim = list(simulate(campaign, ReplayOutcomes([], default=("Completed", 30)), history=history))
    assert [(a.customer_index, a.at) for a in sim] == [(a.customer_index, a.at) for a in attempts]


def test_per_customer_limits_hold_across_numbers_in_the_dispatcher() -> None:
    """Entries 0 and 1 are one customer (customerId C-1).  Per customer, 1 call a day:
    entry 1 waits until 09:00 the next day; per number: it is dialed at 09:01."""
    customers = [
        {"phoneNumber": phone(0), "properties": {"customerId": "C-1", "timezone": "UTC"}},
        {"phoneNumber": phone(1), "properties": {"customerId": "C-1", "timezone": "UTC"}},
        {"phoneNumber": phone(2), "properties": {"timezone": "UTC"}},
    ]
    busy = {phone(0): "Busy", phone(1): "Busy", phone(2): "Busy"}

    def run(per: str) -> list[tuple[int, datetime]]:
        campaign = small_campaign(contactLimits=[{"maxCalls": 1, "days": 1, "per": per}])
        return [
            (a.customer_index, a.at) for a in run_service(Dispatcher(campaign, customers), busy)
        ]

    assert run("customer") == [
        (0, utc("2026-06-01T09:00Z")),
        (2, utc("2026-06-01T09:01Z")),
        (1, utc("2026-06-02T09:00Z")),
    ]
    assert run("number") == [
        (0, utc("2026-06-01T09:00Z")),
        (1, utc("2026-06-01T09:01Z")),
        (2, utc("2026-06-01T09:02Z")),
    ]


def test_a_dial_not_started_counts_nothing() -> None:
    """1 call per day: a Dial reported not_started leaves the limit untouched, so the
    same attempt is dialed again on the next slot."""
    campaign = small_campaign(phoneList=[phone(0)], contactLimits=[{"maxCalls": 1, "days": 1}])
    d = Dispatcher(campaign)
    first = d.poll(utc("2026-06-01T09:00Z"))
    assert [x.attempt for x in first] == [1]
    d.not_started(first[0].call_id, "no line")
    assert d.next_wakeup() == utc("2026-06-01T09:01Z")
    again = d.poll(utc("2026-06-01T09:01Z"))
    assert [(x.customer_index, x.attempt, x.at) for x in again] == [
        (0, 1, utc("2026-06-01T09:01Z"))
    ]


def test_a_retry_waits_for_the_limit_without_using_up_an_attempt() -> None:
    """1 attempt per day, two retries, no delay: a Busy at 09:00 is retried at 09:00
    the next day (attempt 2) and the day after (attempt 3); with a connected-count
    limit the Busy does not count and the retries follow on the next slots."""
    campaign = small_campaign(
        phoneList=[phone(0)],
        callRetries=2,
        retryDelaySeconds=0,
        contactLimits=[{"maxCalls": 1, "days": 1}],
    )
    attempts = run_service(Dispatcher(campaign), {phone(0): "Busy"})
    assert [(a.attempt, a.at) for a in attempts] == [
        (1, utc("2026-06-01T09:00Z")),
        (2, utc("2026-06-02T09:00Z")),
        (3, utc("2026-06-03T09:00Z")),
    ]
    connected = small_campaign(
        phoneList=[phone(0)],
        callRetries=2,
        retryDelaySeconds=0,
        contactLimits=[{"maxCalls": 1, "days": 1, "count": "connected"}],
    )
    attempts = run_service(Dispatcher(connected), {phone(0): "Busy"})
    assert [(a.attempt, a.at) for a in attempts] == [
        (1, utc("2026-06-01T09:00Z")),
        (2, utc("2026-06-01T09:01Z")),
        (3, utc("2026-06-01T09:02Z")),
    ]


def test_a_retry_the_limit_pushes_past_the_end_is_cut_off() -> None:
    """One day of campaign, 1 call a day: the retry cannot happen; the customer is
    not reached, counted in cut_off."""
    campaign = small_campaign(
        endDate="2026-06-01",
        phoneList=[phone(0)],
        callRetries=1,
        retryDelaySeconds=0,
        contactLimits=[{"maxCalls": 1, "days": 1}],
    )
    sim = simulate(campaign, ReplayOutcomes([], default=("Busy", 30)))
    assert [a.attempt for a in sim] == [1]
    s = sim.summary
    assert (s.not_reached, s.cut_off, s.pending) == (1, 1, 0)


def test_a_first_attempt_the_history_blocks_to_the_end_is_unscheduled() -> None:
    campaign = small_campaign(
        endDate="2026-06-01",
        phoneList=[phone(0), phone(1)],
        contactLimits=[{"maxCalls": 1, "days": 7}],
    )
    history = [(phone(0), utc("2026-05-30T12:00Z"), "Busy")]
    sim = simulate(campaign, ReplayOutcomes([], default=("Busy", 30)), history=history)
    assert [a.customer_index for a in sim] == [1]
    s = sim.summary
    assert (s.unscheduled, s.not_reached, s.pending) == (1, 1, 0)


# =========================================================== runs: simulate, Dispatcher


@dataclass
class Run:
    campaign: Campaign
    rules: lo.Rules
    customers: list[dict[str, Any]]
    history: list[tuple[str, datetime, str]]
    key_of: dict[str, str]  # number -> customer key (customerId, else the number)
    zone_of: dict[str, str]  # number -> the zone of its customer's dates


@st.composite
def runs(draw: st.DrawFn, max_customers: int = 8, past_only: bool = False) -> Run:
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(CENTRES[zone]))
    start = day - timedelta(days=draw(st.integers(0, 4)))
    payload: dict[str, Any] = {
        "timezone": draw(st.sampled_from([zone, "UTC"])),
        "startDate": start.isoformat(),
        "endDate": (start + timedelta(days=draw(st.integers(2, 8)))).isoformat(),
        "callIntervalSeconds": draw(st.sampled_from([300, 900, 1800, 3600])),
        "maxConcurrency": draw(st.integers(1, 3)),
        "callRetries": draw(st.integers(0, 4)),
        "retryDelaySeconds": draw(st.sampled_from([0, 600, 3600, 14400, 86400])),
    }
    if draw(st.booleans()):
        payload["startTime"], payload["endTime"] = draw(
            st.sampled_from([("08:00", "20:00"), ("22:00", "02:00")])
        )
    if draw(st.integers(0, 3)) == 0:
        payload["recipientHours"] = {"startTime": "09:00", "endTime": "20:00"}
    limits = draw(st.lists(limit_dicts(max_days=3), min_size=1, max_size=3))
    quiet = draw(st.none() | st.integers(1, 3))
    connected = draw(connected_sets)
    payload.update(limit_fields(limits, quiet, connected))
    numbers = [phone(n) for n in range(6)]
    ids = {n: draw(st.sampled_from([None, None, "A", "B"])) for n in numbers}
    key_of = {n: ids[n] or n for n in numbers}
    group_zone = {k: draw(st.sampled_from([zone, *ZONES])) for k in sorted(set(key_of.values()))}
    zone_of = {n: group_zone[key_of[n]] for n in numbers}
    chosen = draw(st.lists(st.sampled_from(numbers), min_size=1, max_size=max_customers))
    customers = []
    for n in chosen:
        properties: dict[str, Any] = {"timezone": zone_of[n]}
        if ids[n] is not None:
            properties["customerId"] = ids[n]
        customers.append({"phoneNumber": n, "properties": properties})
    payload["customers"] = customers
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    # History records go to numbers without a customerId, to the first listed number
    # of a customerId group, and to numbers nobody on the list has (99).  A record to
    # a *later* number of a group is left to a named test: the engine reads the list
    # lazily and cannot know the group of a number it has not read
    # (test_a_record_to_a_later_number_of_the_same_customer_counts_for_the_first).
    firsts = {}
    for n in chosen:
        firsts.setdefault(key_of[n], n)
    recorded = [n for n in numbers if ids[n] is None or firsts.get(ids[n]) in (None, n)]
    recorded.append(phone(99))
    history = [
        (
            draw(st.sampled_from(recorded)),
            first
            + timedelta(minutes=30 * draw(st.integers(-10 * 48, -1 if past_only else 10 * 48))),
            draw(st.sampled_from(OUTCOME_NAMES)),
        )
        for _ in range(draw(st.integers(0, 12)))
    ]
    campaign = Campaign.from_dict(payload)
    # a record counts for the customers listed with its number (docs/limits.md,
    # section 4): a number nobody on the list has is nobody's, whatever its customerId
    # would have been
    for n in [*numbers, phone(99)]:
        if n not in chosen:
            key_of[n], zone_of[n] = n, "UTC"
    return Run(campaign, lo.Rules.of(limits, quiet, connected), customers, history, key_of, zone_of)


def check_run(run: Run, attempts: Sequence[tuple[datetime, str, str]]) -> None:
    """No call of the run over a limit or in a quiet period (by the oracle): the run
    calls are ``(start, number, final outcome)`` in the order they were dialed."""
    history = [lo.Call(at, o, n, run.key_of[n]) for n, at, o in run.history]
    calls = [lo.Call(at, o, n, run.key_of[n]) for at, n, o in attempts]
    assert [c.at for c in calls] == sorted(c.at for c in calls)
    zones = {n: [z] for n, z in run.zone_of.items()}
    found = lo.violations(run.rules, history, calls, zones)
    assert not found, found[:3]


def check_one_call_at_a_time(run: Run, attempts: Sequence[Attempt]) -> None:
    """A customer (its customerId group) is never in two calls at once: a call lasts
    from its Dial's slot to its reported end."""
    last_end: dict[str, datetime] = {}
    for a in sorted(attempts, key=lambda a: a.at):
        key = run.key_of[a.phone]
        assert a.at >= last_end.get(key, a.at), (key, a)
        last_end[key] = max(last_end.get(key, a.ended_at), a.ended_at)


def check_summary(run: Run, summary: Any, attempts: int) -> None:
    distinct = len({c["phoneNumber"] for c in run.customers})
    s = summary
    assert s.pending == 0
    assert s.reached + s.not_reached + s.unscheduled + s.cancelled + s.pending == distinct
    assert s.repeats == len(run.customers) - distinct
    assert s.attempts == attempts


outcome_weights = st.dictionaries(
    st.sampled_from(OUTCOME_NAMES), st.floats(0.1, 5), min_size=1, max_size=6
)


@given(runs(), st.integers(0, 2**32), outcome_weights, st.sampled_from([20, 300, 5000]))
def test_simulate_never_breaks_a_limit(
    run: Run, seed: int, weights: dict[str, float], mean: int
) -> None:
    sim = simulate(run.campaign, RandomOutcomes(seed, weights, mean), history=run.history)
    attempts = list(sim)
    check_run(run, [(a.at, a.phone, a.outcome.value) for a in attempts])
    check_summary(run, sim.summary, len(attempts))
    budget = run.campaign.call_retries + 1
    seen: dict[int, list[int]] = {}
    for a in attempts:
        seen.setdefault(a.customer_index, []).append(a.attempt)
    for numbers in seen.values():  # a wait never uses up an attempt: 1, 2, 3, ...
        assert numbers == list(range(1, len(numbers) + 1))
        assert len(numbers) <= budget


@given(runs(), st.integers(0, 2**32), outcome_weights, st.data())
def test_a_service_loop_with_late_ends_and_unstarted_dials_never_breaks_a_limit(
    run: Run, seed: int, weights: dict[str, float], data: st.DataObject
) -> None:
    """The Dispatcher through its public API: ends reported late (up to two hours
    after the call ended, so the engine decides while calls are in progress, counted
    as connected, and some calls expire by ``maxCallSeconds``), some Dials reported
    not_started (counting nothing), outcomes from a random model.  The calls checked
    are the finished Attempts the engine returned (ended, or expired)."""
    d, finished = drive_service(run, seed, weights, data)
    check_run(run, [(a.at, a.phone, a.outcome.value) for a in finished])
    check_summary(run, d.summary, len(finished))
    event(f"calls: {'0' if not finished else '1-5' if len(finished) <= 5 else 'more'}")
    if d.summary.expired:
        event("some call expired")


@given(runs(), st.integers(0, 2**32), outcome_weights, st.data())
def test_a_customer_is_in_one_call_at_a_time(
    run: Run, seed: int, weights: dict[str, float], data: st.DataObject
) -> None:
    """docs/limits.md section 6: a customer (by customerId) is never in two calls at
    once; in ``simulate`` and in the service loop above (a call lasts from its slot
    to its reported end), callbacks included
    (test_a_callback_waits_for_the_reported_end_of_the_call_it_follows)."""
    check_one_call_at_a_time(
        run, list(simulate(run.campaign, RandomOutcomes(seed, weights, 600), history=run.history))
    )
    _, finished = drive_service(run, seed, weights, data, callbacks=True)
    check_one_call_at_a_time(run, finished)


def drive_service(
    run: Run, seed: int, weights: dict[str, float], data: st.DataObject, callbacks: bool = True
) -> tuple[Dispatcher, list[Attempt]]:
    model = RandomOutcomes(seed, weights, 600)
    d = Dispatcher(run.campaign, history=run.history)
    finished: list[Attempt] = []
    waiting: dict[str, tuple[datetime, Outcome, datetime]] = {}  # id -> report at, how, end
    for _ in range(20_000):
        wake = d.next_wakeup()
        report = min(waiting.items(), key=lambda kv: kv[1][0], default=None)
        if wake is None and report is None:
            break
        if report is not None and (wake is None or report[1][0] <= wake):
            call_id, (_, outcome, end) = report
            del waiting[call_id]
            a = d.ended(call_id, outcome, end)
            note(f"ended {call_id} {outcome} {end}: {a}")
            if a is not None:
                finished.append(a)
            continue
        assert wake is not None
        for dial in d.poll(wake):
            note(f"poll {wake}: {dial}")
            if data.draw(st.integers(0, 9), label="not started?") == 0:
                d.not_started(dial.call_id, "no line")
                continue
            outcome, seconds = model(dial.customer_index, dial.attempt, dial.at)
            end = dial.at + timedelta(seconds=math.ceil(seconds))
            lag = timedelta(seconds=data.draw(st.sampled_from([0, 0, 60, 3600, 7200]), label="lag"))
            waiting[dial.call_id] = (max(end + lag, wake), Outcome.parse(str(outcome)), end)
            if callbacks and data.draw(st.integers(0, 7), label="callback?") == 0:
                # the person asks to be called back: a callback is an attempt like
                # any other for the limits (docs/limits.md: every attempt waits)
                back = dial.at + timedelta(minutes=data.draw(st.integers(1, 600), label="in"))
                with contextlib.suppress(DispatchError):  # no callable time after it
                    due = d.callback(dial.customer_index, back)
                    note(f"callback {dial.customer_index} at {back}: due {due}")
        finished.extend(d.expired())
    else:
        raise AssertionError("the loop did not end")
    finished.extend(d.expired())
    assert d.finished
    finished.sort(key=lambda a: a.at)
    return d, finished


@given(runs(max_customers=1, past_only=True), st.integers(0, 2**32), outcome_weights)
def test_a_lone_customer_with_a_past_history_is_dialed_on_the_first_allowed_slot(
    run: Run, seed: int, weights: dict[str, float]
) -> None:
    """The next test, with a history that ends before the campaign starts (the usual
    case: calls of earlier campaigns), so that every counted call is before the slot
    being decided."""
    check_lone_customer(run, seed, weights)


@given(runs(max_customers=1), st.integers(0, 2**32), outcome_weights)
def test_a_lone_customer_is_dialed_on_the_first_allowed_slot(
    run: Run, seed: int, weights: dict[str, float]
) -> None:
    """One customer, so nothing else competes for a slot: each of its Dials is on the
    first slot of the grid, at or after the attempt's due time (the start, then the
    previous attempt's ``retry_at``) and an interval after the previous slot, that the
    oracle allows given the history and the calls before; when no such slot remains,
    there is no further Dial."""
    check_lone_customer(run, seed, weights)


def check_lone_customer(run: Run, seed: int, weights: dict[str, float]) -> None:
    campaign = run.campaign
    sim = simulate(campaign, RandomOutcomes(seed, weights, 300), history=run.history)
    attempts = list(sim)
    number = run.customers[0]["phoneNumber"]
    key, zones = run.key_of[number], [run.zone_of[number]]
    own = campaign.for_customer(run.customers[0])  # its windows, without limits
    calls = [lo.Call(at, o, n, run.key_of[n]) for n, at, o in run.history]
    due: datetime | None = None  # None: the campaign's start
    previous: datetime | None = None
    interval = timedelta(seconds=campaign.call_interval_seconds)
    for i, a in enumerate([*attempts, None]):
        earliest = due if previous is None or due is None else max(due, previous + interval)
        expected = None
        for slot in campaign.slots(earliest):
            if not own.is_callable(slot):  # recipient hours
                continue
            if lo.allowed(run.rules, slot, calls, number, key, zones):
                expected = slot
                break
            event("a limit moved a dial")
        note(f"due={due} expected={expected} got={a}")
        assert (a.at if a is not None else None) == expected
        if a is None:
            break
        calls.append(lo.Call(a.at, a.outcome.value, a.phone, key))
        previous, due = a.at, a.retry_at
        if due is None:  # no retry asked for: that was the last
            assert i == len(attempts) - 1
            break
    event(f"{len(attempts)} attempts")


# ============================================================== the payload's new fields


def bad_paths(payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        Campaign.from_dict(payload)
    return {p.path: p.message for p in info.value.errors}


def test_every_bad_limit_is_named_with_its_path() -> None:
    found = bad_paths(
        {
            "startTime": "25:00",
            "endTime": "17:00",
            "contactLimits": [
                {"maxCalls": 0, "days": 1},
                {"maxCalls": 2, "days": 3, "window": "daily"},
                {"days": 400, "per": "household", "count": "calls"},
                "seven in seven",
            ],
            "quietAfterConversationDays": 0,
            "connectedOutcomes": ["Completed", "Answered"],
        }
    )
    assert set(found) == {
        "startTime",
        "contactLimits.0.maxCalls",
        "contactLimits.1.window",
        "contactLimits.2.maxCalls",
        "contactLimits.2.days",
        "contactLimits.2.per",
        "contactLimits.2.count",
        "contactLimits.3",
        "quietAfterConversationDays",
        "connectedOutcomes.1",
    }
    # the doc's own wording (docs/limits.md section 1)
    assert found["contactLimits.1.window"] == "must be 'rolling' or 'calendar', not 'daily'"
    assert all(message for message in found.values())


def test_more_than_twenty_limits_and_a_limit_twice() -> None:
    many = [{"maxCalls": k, "days": 1} for k in range(1, 22)]
    assert "contactLimits" in bad_paths({"contactLimits": many})
    twice = Campaign.from_dict(
        {
            "contactLimits": [
                {"maxCalls": 3, "days": 1},
                {"maxCalls": 3, "days": 1, "per": "customer"},
            ]
        }
    )
    assert any(w.path.startswith("contactLimits") for w in twice.warnings)
    written = twice.to_dict()["contactLimits"]
    assert written[0] == {
        "maxCalls": 3,
        "days": 1,
        "per": "customer",
        "count": "attempts",
        "window": "rolling",
    }


JUNK = st.sampled_from([None, True, False, -1, 0, 2.5, "3", "x", [], {}])


def field_values(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, Any]]:
    """("absent", _), ("valid", value) or ("junk", value)."""
    return st.one_of(
        st.just(("absent", None)),
        valid.map(lambda v: ("valid", v)),
        JUNK.map(lambda v: ("junk", v)),
    )


ENTRY_FIELDS: dict[str, tuple[st.SearchStrategy[Any], bool, Any]] = {
    # name: (valid values, required, extra invalid values of the right type)
    "maxCalls": (st.integers(1, 1000), True, st.sampled_from([0, 1001, -5])),
    "days": (st.integers(1, 366), True, st.sampled_from([0, 367])),
    "per": (st.sampled_from(["customer", "number"]), False, st.just("household")),
    "count": (st.sampled_from(["attempts", "connected"]), False, st.just("calls")),
    "window": (st.sampled_from(["rolling", "calendar"]), False, st.just("daily")),
}


def _valid_junk(name: str, value: Any) -> bool:
    """Whether a junk value happens to be valid for the field (by the doc's table)."""
    if name in ("maxCalls", "days"):
        top = 1000 if name == "maxCalls" else 366
        return type(value) is int and 1 <= value <= top
    return False  # no junk string is one of the choices


@st.composite
def limit_entries(draw: st.DrawFn) -> tuple[Any, set[str]]:
    """An entry and the names of its fields the doc's table refuses ("" for the entry
    itself, when it is not an object)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["7/7", 7, None, []])), {""}
    entry: dict[str, Any] = {}
    bad: set[str] = set()
    for name, (valid, required, wrong) in ENTRY_FIELDS.items():
        kind = draw(st.sampled_from(["absent", "valid", "wrong", "junk"]))
        if kind == "absent":
            if required:
                bad.add(name)
            continue
        if kind == "valid":
            entry[name] = draw(valid)
        elif kind == "wrong":
            entry[name] = draw(wrong)
            bad.add(name)
        else:
            entry[name] = value = draw(JUNK)
            if not _valid_junk(name, value):
                bad.add(name)
    return entry, bad


QUIET = st.one_of(
    st.just(("absent", None)),
    st.integers(-2, 400).map(lambda v: ("given", v)),
    JUNK.map(lambda v: ("given", v)),
)


@st.composite
def connected_fields(draw: st.DrawFn) -> tuple[str, Any, set[str]]:
    """("absent" | "given", value, the paths the doc refuses)."""
    kind = draw(st.sampled_from(["absent", "list", "junk"]))
    if kind == "absent":
        return "absent", None, set()
    if kind == "junk":
        value = draw(st.sampled_from(["Completed", 3, {"Completed": True}, True]))
        return "given", value, {"connectedOutcomes"}
    names = draw(
        st.lists(st.sampled_from([*OUTCOME_NAMES, "Answered", 7, None]), min_size=1, max_size=4)
    )
    bad = {f"connectedOutcomes.{i}" for i, n in enumerate(names) if n not in OUTCOME_NAMES}
    return "given", names, bad


@given(st.lists(limit_entries(), max_size=4), QUIET, connected_fields())
def test_limit_fields_fuzzed_against_the_docs_table(
    entries: list[tuple[Any, set[str]]],
    quiet_field: tuple[str, Any],
    connected: tuple[str, Any, set[str]],
) -> None:
    payload: dict[str, Any] = {"contactLimits": [e for e, _ in entries]}
    expected: set[str] = set()
    for i, (_, bad) in enumerate(entries):
        expected |= {f"contactLimits.{i}" + (f".{name}" if name else "") for name in bad}
    kind, quiet = quiet_field
    if kind == "given":
        payload["quietAfterConversationDays"] = quiet
        if quiet is not None and not (type(quiet) is int and 1 <= quiet <= 366):
            expected.add("quietAfterConversationDays")
    if connected[0] == "given":
        payload["connectedOutcomes"] = connected[1]
        expected |= connected[2]
    note(f"expected {sorted(expected)}")
    if not expected:
        campaign = Campaign.from_dict(payload)
        written = campaign.to_dict()
        assert Campaign.from_dict(written).to_dict() == written
        for entry in written["contactLimits"]:  # every field written, defaults filled in
            assert set(entry) == {"maxCalls", "days", "per", "count", "window"}
        return
    assert set(bad_paths(payload)) == expected


def test_bad_history_records_are_named_with_their_paths() -> None:
    campaign = Campaign.from_dict({"contactLimits": [{"maxCalls": 1, "days": 1}]})
    at = utc("2026-06-10T10:00Z")
    history: list[Any] = [
        (phone(1), at, "Busy"),  # fine
        ("12125550100", at, "Busy"),  # not E.164
        (phone(1), datetime(2026, 6, 10, 10), "Busy"),  # naive
        (phone(1), at, "Answered"),  # no such outcome
        (phone(1), "2026-06-10T10:00Z", "Busy"),  # not a datetime
        ("x", None, 7),  # three at once
    ]
    for ask in (
        lambda: campaign.for_customer(phone(1), history=history),
        lambda: Dispatcher(campaign, [phone(1)], history=history),
    ):
        with pytest.raises(ConfigError) as info:
            ask()
        paths = {p.path for p in info.value.errors}
        assert paths == {
            "history.1.phone",
            "history.2.at",
            "history.3.outcome",
            "history.4.at",
            "history.5.phone",
            "history.5.at",
            "history.5.outcome",
        }


def test_a_history_record_that_is_not_a_triple() -> None:
    campaign = Campaign.from_dict({"contactLimits": [{"maxCalls": 1, "days": 1}]})
    with pytest.raises(ConfigError) as info:
        campaign.for_customer(phone(1), history=[(phone(1), utc("2026-06-10T10:00Z")), "x"])
    paths = {p.path for p in info.value.errors}
    assert {p.split(".")[1] for p in paths} == {"0", "1"}
    assert all(p.startswith("history.") for p in paths)


# ======================================= disagreements found by the properties, reduced


def test_two_calls_exactly_a_span_apart_do_not_share_a_span_with_a_call_between() -> None:
    """2 calls per 24 hours, calls at 12:00 on 8 and 9 June.  A call at 13:00 on the
    8th: the spans containing it hold 12:00 on the 8th (``[12:00, 12:00 + 24 h)``
    ends just before the 9th's call) or 12:00 on the 9th, never both; no 2 of the
    calls fit with it in less than 24 hours (12:00 to 12:00 is exactly 24).  So it is
    allowed (found by test_next_callable_and_is_callable_agree_with_the_oracle)."""
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2026-06-01",
            "endDate": "2026-06-30",
            "contactLimits": [{"maxCalls": 2, "days": 1}],
        }
    )
    history = [
        (phone(1), utc("2026-06-08T12:00Z"), "Busy"),
        (phone(1), utc("2026-06-09T12:00Z"), "Busy"),
    ]
    view = campaign.for_customer(phone(1), history=history)
    t = utc("2026-06-08T13:00Z")
    rules = lo.Rules.of([{"maxCalls": 2, "days": 1}])
    calls = [lo.Call(at, o, n, "me") for n, at, o in history]
    assert lo.allowed(rules, t, calls, phone(1), "me", ["UTC"])
    assert view.is_callable(t)
    assert view.next_callable(t) == t
    # the same with a 48-hour limit: 13:00 on the 8th and 13:00 on the 10th are 48 h
    # apart, so 12:00 on the 10th (47 h after the one, 1 h before the other) is free
    two_days = Campaign.from_dict(
        {**campaign.to_dict(), "contactLimits": [{"maxCalls": 2, "days": 2}]}
    ).for_customer(
        phone(1),
        history=[
            (phone(1), utc("2026-06-08T12:00Z"), "Busy"),
            (phone(1), utc("2026-06-08T13:00Z"), "Busy"),
            (phone(1), utc("2026-06-10T13:00Z"), "Busy"),
        ],
    )
    assert two_days.next_callable(utc("2026-06-08T12:00Z")) == utc("2026-06-10T12:00Z")


def test_calls_either_side_of_a_date_that_no_run_of_dates_holds_together() -> None:
    """2 calls in 3 calendar days, calls on 8 and 11 June.  On 10 June the runs are
    8-10 (the 8th's call and this one), 9-11 (the 11th's and this one) and 10-12 (the
    11th's and this one): two each, allowed.  8 to 11 June is four dates, no run
    (found by test_calendar_limits_and_the_quiet_period_agree_with_the_oracle)."""
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2026-06-01",
            "endDate": "2026-06-30",
            "contactLimits": [{"maxCalls": 2, "days": 3, "window": "calendar"}],
        }
    )
    customer = {"phoneNumber": phone(1), "properties": {"timezone": "UTC"}}
    history = [
        (phone(1), utc("2026-06-08T12:00Z"), "Busy"),
        (phone(1), utc("2026-06-11T12:00Z"), "Busy"),
    ]
    view = campaign.for_customer(customer, history=history)
    t = utc("2026-06-10T12:00Z")
    rules = lo.Rules.of([{"maxCalls": 2, "days": 3, "window": "calendar"}])
    calls = [lo.Call(at, o, n, "me") for n, at, o in history]
    assert lo.allowed(rules, t, calls, phone(1), "me", ["UTC"])
    assert view.is_callable(t)
    assert view.next_callable(t) == t
    # a third call, on the 9th, fills the run 8-10 June: the 10th is blocked until
    # the run 9-11 ... which holds the 9th and the 11th: free from the 12th
    fuller = campaign.for_customer(
        customer, history=[*history, (phone(1), utc("2026-06-09T12:00Z"), "Busy")]
    )
    assert not fuller.is_callable(t)
    assert fuller.next_callable(t) == utc("2026-06-12T00:00Z")


def test_a_record_to_a_later_number_of_the_same_customer_counts_for_the_first() -> None:
    """Entries +…05 and +…02 are one customer (customerId A); the history has a call
    to +…02 at 08:00 and the limit is 1 call per 24 hours per customer.  docs/limits.md
    section 4: a record counts for the customers listed with that number, and section
    2: customers sharing a customerId are one customer.  So the group was called at
    08:00 and +…05 may not be dialed at 09:00 (found by
    test_simulate_never_breaks_a_limit; the engine reads the list lazily and has not
    read +…02 when it dials +…05)."""
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2026-06-01",
            "endDate": "2026-06-03",
            "startTime": "09:00",
            "endTime": "17:00",
            "callIntervalSeconds": 60,
            "contactLimits": [{"maxCalls": 1, "days": 1}],
            "customers": [
                {"phoneNumber": phone(5), "properties": {"customerId": "A"}},
                {"phoneNumber": phone(2), "properties": {"customerId": "A"}},
            ],
        }
    )
    history = [(phone(2), utc("2026-06-01T08:00Z"), "Busy")]
    sim = simulate(campaign, ReplayOutcomes([], default=("Busy", 30)), history=history)
    assert [(a.customer_index, a.at) for a in sim] == [
        (0, utc("2026-06-02T09:00Z")),  # the first slot after 08:00 on the 2nd
        (1, utc("2026-06-03T09:00Z")),
    ]


# ================================================== snapshots, several zones, one line


@given(runs(), st.integers(0, 2**32), outcome_weights, st.data())
def test_a_restored_engine_counts_exactly_the_same(
    run: Run, seed: int, weights: dict[str, float], data: st.DataObject
) -> None:
    """A service loop that snapshots, serializes and restores the engine at random
    polls (without giving the history again: the snapshot keeps the counted calls)
    dials exactly what ``simulate`` dials."""
    model = RandomOutcomes(seed, weights, 300)
    d = Dispatcher(run.campaign, history=run.history)
    attempts: list[Attempt] = []
    for _ in range(10_000):
        wake = d.next_wakeup()
        if wake is None:
            break
        for dial in d.poll(wake):
            outcome, seconds = model(dial.customer_index, dial.attempt, dial.at)
            a = d.ended(dial.call_id, outcome, dial.at + timedelta(seconds=math.ceil(seconds)))
            assert a is not None
            attempts.append(a)
        if data.draw(st.booleans(), label="restore?"):
            state = json.loads(json.dumps(d.snapshot()))
            d = Dispatcher.restore(run.campaign, state)
    else:
        raise AssertionError("the loop did not end")
    expected = list(simulate(run.campaign, model, history=run.history))

    def key(a: Attempt) -> tuple[Any, ...]:
        return (a.customer_index, a.attempt, a.at, a.ended_at, a.outcome, a.retry_at)

    assert [key(a) for a in attempts] == [key(a) for a in expected]


def test_a_customer_is_never_in_two_calls_at_once() -> None:
    """Two entries of one customer (customerId C-1), three lines, 10-minute calls
    whose end is reported at once (as simulate does), no limit that would keep them
    apart: the second entry waits for the first one's call to end (docs/limits.md
    section 6: a customer, by customerId, is never in two calls at once; the call is
    in progress until its reported end, as it holds its line until then).  Found by
    test_simulate_never_breaks_a_limit: the engine dials entry 1 at 09:01; with the
    end not reported yet it does wait."""
    customers = [
        {"phoneNumber": phone(0), "properties": {"customerId": "C-1"}},
        {"phoneNumber": phone(1), "properties": {"customerId": "C-1"}},
        phone(2),
    ]
    campaign = small_campaign(maxConcurrency=3, contactLimits=[{"maxCalls": 5, "days": 1}])
    attempts = run_service(Dispatcher(campaign, customers), seconds=600)
    assert [(a.customer_index, a.at) for a in attempts] == [
        (0, utc("2026-06-01T09:00Z")),
        (2, utc("2026-06-01T09:01Z")),
        (1, utc("2026-06-01T09:10Z")),  # the slot at which entry 0's call has ended
    ]
    sim = simulate(campaign, ReplayOutcomes([], default=("Completed", 600)), customers=customers)
    assert [(a.customer_index, a.at) for a in sim] == [(a.customer_index, a.at) for a in attempts]


def test_a_number_in_several_zones_is_held_to_each_calendar() -> None:
    """An Australian mobile number without ``properties.timezone``: its zones (the
    phonenumbers package) run from Indian/Cocos (+06:30) to Australia/Sydney and
    Australia/Lord_Howe (+11 in April before the 5th).  1 call per calendar day.  A
    call at 2026-04-01T15:00Z is on 1 April in Cocos, Christmas, Perth and Eucla
    (+08:45, 23:45) and on 2 April in Brisbane (+10, 01:00), Adelaide, Sydney and
    Lord Howe.  A new call must be on another date in every zone:
    - it frees at the last of the midnights that end those dates: 3 April in Brisbane,
      2026-04-02T14:00Z (Sydney's and Lord Howe's came at 13:00Z, Adelaide's at 13:30Z);
    - before the call, the first zone to reach 1 April is Lord Howe... but there the
      used date is 2 April; the first to reach a used date is Eucla, whose 1 April
      starts at 2026-03-31T15:15Z: callable until then, not from then.
    """
    phonenumbers = pytest.importorskip("phonenumbers")
    from phonenumbers import timezone as pn_timezone

    number = "+61412345678"
    zones = list(pn_timezone.time_zones_for_number(phonenumbers.parse(number)))
    assert {"Indian/Cocos", "Australia/Eucla", "Australia/Brisbane"} <= set(zones)
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2026-03-25",
            "endDate": "2026-04-10",
            "contactLimits": [{"maxCalls": 1, "days": 1, "window": "calendar"}],
        }
    )
    history = [(number, utc("2026-04-01T15:00Z"), "Busy")]
    view = campaign.for_customer(number, history=history)
    rules = lo.Rules.of([{"maxCalls": 1, "days": 1, "window": "calendar"}])
    calls = [lo.Call(at, o, n, "me") for n, at, o in history]
    expected = lo.next_allowed(rules, utc("2026-04-01T15:00Z"), calls, number, "me", zones)
    assert expected == utc("2026-04-02T14:00Z")
    assert view.next_callable(utc("2026-04-01T15:00Z")) == expected
    for at, free in (("2026-03-31T15:14:59Z", True), ("2026-03-31T15:15Z", False)):
        assert lo.allowed(rules, utc(at), calls, number, "me", zones) == free
        assert view.is_callable(utc(at)) == free


# ============================================================ the ends of the time line

EDGE_ZONES = ["UTC", "Pacific/Niue", "Pacific/Kiritimati", "America/Santiago"]
FIRST = datetime(1, 1, 1, tzinfo=UTC)
LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


@st.composite
def edge_worlds(draw: st.DrawFn) -> tuple[Any, datetime]:
    early = draw(st.booleans())
    zone = draw(st.sampled_from(EDGE_ZONES))
    payload: dict[str, Any] = {
        "timezone": draw(st.sampled_from(EDGE_ZONES)),
        "startDate": "0001-01-01" if early else "9999-12-01",
        "callRetries": 2,
        "retryDelaySeconds": 3600,
    }
    if early:
        payload["endDate"] = "0001-02-01"
    limits = draw(st.lists(limit_dicts(max_days=366, max_calls=2), min_size=1, max_size=2))
    payload.update(limit_fields(limits, draw(st.none() | st.integers(1, 366)), None))
    campaign = Campaign.from_dict(payload)
    edge, sign = (FIRST, 1) if early else (LAST, -1)

    def near() -> datetime:
        return edge + sign * timedelta(seconds=draw(st.integers(0, 20 * 86400)))

    history = [
        (phone(1), near(), draw(st.sampled_from(OUTCOME_NAMES)))
        for _ in range(draw(st.integers(0, 5)))
    ]
    customer = {"phoneNumber": phone(1), "properties": {"timezone": zone}}
    return campaign.for_customer(customer, history=history), near()


@given(edge_worlds())
def test_nothing_fails_or_hangs_at_the_ends_of_the_time_line(world: tuple[Any, datetime]) -> None:
    """Limits whose spans or dates reach past year 1 or 9999 (zones up to 14 hours
    from UTC, limits up to 366 days): every question answers, consistently."""
    view, t = world
    found = view.next_callable(t)
    if found is not None:
        assert found >= t
        assert view.is_callable(found)
    assert view.explain(t).callable == view.is_callable(t)
    view.retry("Busy", 1, t)


def test_explain_a_calendar_limit_on_the_first_day_in_a_zone_behind_utc() -> None:
    """Niue was 11:19:40 behind UTC in year 1: a call at 0001-01-01T01:00Z is on a
    local date before year 1.  ``explain`` must still answer (docs/campaign.md: any
    aware ``t`` is explained), as ``is_callable`` does (found by probing the ends of
    the time line; the engine raised ``ValueError: ordinal must be >= 1``)."""
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "0001-01-01",
            "endDate": "0001-01-20",
            "contactLimits": [{"maxCalls": 1, "days": 1, "window": "calendar"}],
        }
    )
    customer = {"phoneNumber": phone(1), "properties": {"timezone": "Pacific/Niue"}}
    view = campaign.for_customer(customer, history=[(phone(1), utc("0001-01-01T01:00Z"), "Busy")])
    t = utc("0001-01-01T02:00Z")
    assert view.explain(t).callable == view.is_callable(t)


def test_a_call_closed_by_max_call_seconds_counts_as_connected() -> None:
    """docs/limits.md: a call counts as connected while its outcome is not known,
    also one closed by ``maxCallSeconds``.  With only Completed connecting and 1
    connected call a day: a call that expires (closed as Unspecified at 09:01) is
    retried the next day; a call reported Unspecified is not counted, and its retry
    goes on the next free slot."""
    campaign = small_campaign(
        phoneList=[phone(0)],
        callRetries=1,
        retryDelaySeconds=0,
        retryConditions=["Unspecified"],
        maxCallSeconds=60,
        connectedOutcomes=["Completed"],
        contactLimits=[{"maxCalls": 1, "days": 1, "count": "connected"}],
    )
    d = Dispatcher(campaign)
    first = d.poll(utc("2026-06-01T09:00Z"))
    assert [x.attempt for x in first] == [1]
    assert d.poll(utc("2026-06-01T09:01Z")) == []  # closes the call at its deadline
    [closed] = d.expired()
    assert closed.outcome == Outcome.UNSPECIFIED
    assert d.next_wakeup() == utc("2026-06-02T09:00Z")
    d = Dispatcher(campaign)
    first = d.poll(utc("2026-06-01T09:00Z"))
    d.ended(first[0].call_id, "Unspecified", utc("2026-06-01T09:00:30Z"))
    assert d.next_wakeup() == utc("2026-06-01T09:01Z")


def test_a_dial_counts_from_its_slot_not_from_its_reported_start() -> None:
    """docs/limits.md: a call counts from its start, for a Dial its slot (``at``).
    Dialed on the 09:00 slot, reported started at 09:00:40: under 1 call per 24 hours
    its retry goes on the 09:00 slot of the next day."""
    campaign = small_campaign(
        phoneList=[phone(0)],
        callRetries=1,
        retryDelaySeconds=0,
        contactLimits=[{"maxCalls": 1, "days": 1}],
    )
    d = Dispatcher(campaign)
    [dial] = d.poll(utc("2026-06-01T09:00Z"))
    d.started(dial.call_id, utc("2026-06-01T09:00:40Z"))
    d.ended(dial.call_id, "Busy", utc("2026-06-01T09:01:10Z"))
    assert d.next_wakeup() == utc("2026-06-02T09:00Z")


def test_retry_counts_the_call_that_ended_at_its_start_or_at_its_end() -> None:
    """``retry`` adds the call that just ended at ``started_at``, or at ``ended_at``
    when no start is given; 1 call per 24 hours."""
    campaign = Campaign.from_dict(
        {
            "timezone": "UTC",
            "startDate": "2026-06-01",
            "endDate": "2026-06-30",
            "callRetries": 2,
            "retryDelaySeconds": 0,
            "contactLimits": [{"maxCalls": 1, "days": 1}],
        }
    )
    view = campaign.for_customer(phone(1), history=[])
    ended = utc("2026-06-10T10:00Z")
    assert view.retry("Busy", 1, ended).at == utc("2026-06-11T10:00Z")
    started = utc("2026-06-10T09:55Z")
    assert view.retry("Busy", 1, ended, started_at=started).at == utc("2026-06-11T09:55Z")
    # the view itself is not changed by the question
    assert view.is_callable(ended)


@given(runs(), st.integers(0, 2**32), outcome_weights)
def test_a_blocked_customer_does_not_hold_up_the_others(
    run: Run, seed: int, weights: dict[str, float]
) -> None:
    """First attempts only (no retries), every number distinct and its own customer,
    a line for everyone: then docs/dispatch.md rule 4 and docs/limits.md section 6
    fix every Dial.  Each first attempt is due at the start, or, when the history
    blocks it when its customer is read (at the first slot: docs/limits.md section 6,
    "a first attempt that a history blocks waits ... from the moment its customer is
    read"), at the instant it frees.  On each slot of the grid (an
    interval after the slot used before), the attempts due by then whose customer's
    own hours allow the slot are taken earliest due first, ties by customer order:
    the first the oracle allows is dialed; each one before it is blocked at this slot
    and is due again when its limits free (the slot goes to the next)."""
    numbers: list[str] = []
    for c in run.customers:
        if c["phoneNumber"] not in numbers:
            numbers.append(c["phoneNumber"])
    customers = [{"phoneNumber": n, "properties": {"timezone": run.zone_of[n]}} for n in numbers]
    payload = run.campaign.to_dict()
    payload.update(callRetries=0, maxConcurrency=len(numbers), customers=customers)
    payload.pop("phoneList", None)
    campaign = Campaign.from_dict(payload)
    history = [lo.Call(at, o, n, n) for n, at, o in run.history]  # no customerId any more
    attempts = list(simulate(campaign, RandomOutcomes(seed, weights, 300), history=run.history))
    own = [campaign.for_customer(c) for c in customers]
    start = campaign.slot_at(0)  # where the engine first polls, and reads
    if start is None:
        assert attempts == []
        return

    def free_from(i: int, at: datetime) -> datetime:
        n = numbers[i]
        return lo.next_allowed(run.rules, at, history, n, n, [run.zone_of[n]])

    due = {i: free_from(i, start) for i in range(len(numbers))}
    expected: list[tuple[int, datetime]] = []
    interval = timedelta(seconds=campaign.call_interval_seconds)
    last: datetime | None = None
    for slot in campaign.slots():  # a finite grid: the campaign has an endDate
        if not due:
            break
        if last is not None and slot < last + interval:
            continue
        ready = sorted((d, i) for i, d in due.items() if d <= slot and own[i].is_callable(slot))
        for _, i in ready:
            freed = free_from(i, slot)
            if freed == slot:
                expected.append((i, slot))
                del due[i]
                last = slot
                break
            due[i] = freed  # blocked at this slot: due again when it frees
    assert [(a.customer_index, a.at) for a in attempts] == expected


def test_the_history_counts_for_customers_added_later() -> None:
    """A record counts for the customers listed with its number: also one given to
    ``add()`` after the run started.  Customer +…01 was called at 10:30 the day
    before; added at 09:00, under 1 call per 24 hours it is dialed at 10:30."""
    campaign = small_campaign(phoneList=[phone(0)], contactLimits=[{"maxCalls": 1, "days": 1}])
    d = Dispatcher(campaign, history=[(phone(1), utc("2026-05-31T10:30Z"), "Busy")])
    [dial] = d.poll(utc("2026-06-01T09:00Z"))
    d.ended(dial.call_id, "Completed", utc("2026-06-01T09:00:30Z"))
    d.add([phone(1)])
    assert [(a.customer_index, a.at) for a in run_service(d)] == [(1, utc("2026-06-01T10:30Z"))]


def test_next_wakeup_is_when_a_blocked_customer_frees() -> None:
    """docs/dispatch.md: ``next_wakeup()`` is the first slot at which a poll could
    hand out a Dial; docs/limits.md: a customer over a limit waits until it frees.
    With customer +…01 blocked until 10:30 (1 call per 24 hours, called at 10:30 the
    day before) and customer +…00 done at 09:00:30, no poll before 10:30 can dial.
    The engine names 09:01 (a poll there dials nothing) and 10:30 only after that
    poll: it learns of the block at a slot.  The doc's "a customer who is blocked at
    a slot waits" can be read either way."""
    campaign = small_campaign(contactLimits=[{"maxCalls": 1, "days": 1}])
    history = [(phone(1), utc("2026-05-31T10:30Z"), "Busy")]
    d = Dispatcher(campaign, [phone(0), phone(1)], history=history)
    [dial] = d.poll(utc("2026-06-01T09:00Z"))
    d.ended(dial.call_id, "Completed", utc("2026-06-01T09:00:30Z"))
    assert d.next_wakeup() == utc("2026-06-01T10:30Z")


def test_a_history_may_be_any_iterable_read_once() -> None:
    """A generator works (it is read once, eagerly): the same answers as a list."""
    campaign = small_campaign(phoneList=[phone(0)], contactLimits=[{"maxCalls": 1, "days": 1}])
    records = [(phone(0), utc("2026-05-31T10:30Z"), "Busy")]
    view = campaign.for_customer(phone(0), history=(r for r in records))
    assert view.next_callable(utc("2026-06-01T09:00Z")) == utc("2026-06-01T10:30Z")
    assert view.next_callable(utc("2026-06-01T09:00Z")) == utc("2026-06-01T10:30Z")
    d = Dispatcher(campaign, history=(r for r in records))
    assert [(a.customer_index, a.at) for a in run_service(d)] == [(0, utc("2026-06-01T10:30Z"))]


def test_a_callback_waits_for_the_reported_end_of_the_call_it_follows() -> None:
    """docs/limits.md section 6: a customer is never in two calls at once (a customer
    without a customerId is its number).  The person asks during the 09:00 call to be
    called back at 09:01; the call is reported to end at 09:15 (a webhook that
    carries the end ahead of the clock, as ``simulate`` reports every end): the
    callback is dialed on the first slot at or after 09:15, not at 09:05 while the
    first call is still on (found by test_a_customer_is_in_one_call_at_a_time)."""
    campaign = small_campaign(phoneList=[phone(0)], maxConcurrency=2, callIntervalSeconds=300)
    d = Dispatcher(campaign, history=[])
    [dial] = d.poll(utc("2026-06-01T09:00Z"))
    d.callback(0, utc("2026-06-01T09:01Z"))
    d.ended(dial.call_id, "No Answer", utc("2026-06-01T09:15Z"))
    assert d.poll(utc("2026-06-01T09:05Z")) == []
    assert d.next_wakeup() == utc("2026-06-01T09:15Z")


# ====================================================================== spans of hours


def test_a_span_of_hours_across_spring_forward_is_real_time() -> None:
    """docs/limits.md, "A span of hours": one call in 8 hours; a call at 00:30 EST
    on 2026-03-08 holds the number until 13:30Z = 09:30 EDT (9 wall hours later)."""
    customer = {"phoneNumber": "+12075550100", "properties": {"timezone": "America/New_York"}}
    campaign = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2026-03-01",
            "endDate": "2026-03-20",
            "contactLimits": [{"maxCalls": 1, "hours": 8}],
        }
    )
    view = campaign.for_customer(
        customer, history=[("+12075550100", utc("2026-03-08T05:30Z"), "No Answer")]
    )
    assert view.next_callable(utc("2026-03-08T06:00Z")) == utc("2026-03-08T13:30Z")
    assert not view.is_callable(utc("2026-03-08T13:29:59.999999Z"))
    assert view.is_callable(utc("2026-03-08T13:30Z"))
    assert view.is_callable(utc("2026-03-07T21:30Z"))  # exactly 8 h before: allowed
    assert not view.is_callable(utc("2026-03-07T21:30:00.000001Z"))


@pytest.mark.parametrize("hours", [1, 8, 23, 25, 36, 48, 8784])
def test_a_span_of_hours_frees_exactly_that_many_hours_later(hours: int) -> None:
    """Over a fall-back night too: the span is H x 3600 s whatever the clocks do."""
    campaign = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2026-10-25",
            "contactLimits": [{"maxCalls": 1, "hours": hours}],
        }
    )
    call = utc("2026-11-01T05:30Z")  # 01:30 EDT, the first of the two
    view = campaign.for_customer("+12075550100", history=[("+12075550100", call, "Busy")])
    assert view.next_callable(call) == call + timedelta(hours=hours)
    rolling_days = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2026-10-25",
            "contactLimits": [{"maxCalls": 1, "days": 2}],
        }
    ).for_customer("+12075550100", history=[("+12075550100", call, "Busy")])
    if hours == 48:
        assert rolling_days.next_callable(call) == view.next_callable(call)


def test_hours_and_days_are_one_span_and_written_back_as_given() -> None:
    start = {"startDate": "2026-05-01"}
    hours = Campaign.from_dict({**start, "contactLimits": [{"maxCalls": 2, "hours": 48}]})
    days = Campaign.from_dict({**start, "contactLimits": [{"maxCalls": 2, "days": 2}]})
    assert hours.to_dict()["contactLimits"] == [
        {"maxCalls": 2, "hours": 48, "per": "customer", "count": "attempts", "window": "rolling"}
    ]
    assert Campaign.from_dict(hours.to_dict()).to_dict() == hours.to_dict()
    call = utc("2026-06-01T12:00Z")
    history = [("+12075550100", call, "Busy"), ("+12075550100", call + timedelta(hours=1), "Busy")]
    a = hours.for_customer("+12075550100", history=history)
    b = days.for_customer("+12075550100", history=history)
    assert a.next_callable(call) == b.next_callable(call) == call + timedelta(hours=48)


def test_every_bad_span_is_named_with_its_path() -> None:
    found = bad_paths(
        {
            "contactLimits": [
                {"maxCalls": 1, "days": 1, "hours": 8},
                {"maxCalls": 1, "hours": 8, "window": "calendar"},
                {"maxCalls": 1, "hours": 0},
                {"maxCalls": 1, "hours": 8785},
                {"maxCalls": 1, "hours": "8"},
                {"maxCalls": 1},
            ]
        }
    )
    assert set(found) == {
        "contactLimits.0",
        "contactLimits.1.hours",
        "contactLimits.2.hours",
        "contactLimits.3.hours",
        "contactLimits.4.hours",
        "contactLimits.5.days",
    }
    assert "give one span" in found["contactLimits.0"]
    assert "calendar window counts whole local dates" in found["contactLimits.1.hours"]
    assert '"hours"' in found["contactLimits.5.days"]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["me", "other"]),
            st.integers(0, 10**12),
            st.sampled_from([None, *OUTCOME_NAMES]),
            st.booleans(),  # settled afterwards, with its outcome or as not started
        ),
        max_size=8,
    )
)
def test_a_ledger_made_lazily_counts_as_one_made_with_its_lists(
    calls: list[tuple[str, int, str | None, bool]],
) -> None:
    """A ledger holds the shared empty list until its first call (a customer read
    ahead of its hours costs the collector less): whichever number calls first, it
    counts as a ledger whose lists were made at once, and the shared list stays empty."""
    from callslots import limits
    from callslots.limits import ContactLimit, Ledger, Rules

    rules = Rules(
        (
            ContactLimit(2, 7, "number", "attempts", "rolling", "per number"),
            ContactLimit(3, 7, "customer", "connected", "rolling", "per customer"),
        ),
        (),
    )
    lazy, eager = Ledger(phone(1), rules), Ledger(phone(1), rules)
    eager.load([[], [], [], None, None])  # the lists made at once
    for who, at, outcome, settle in calls:
        number = phone(1) if who == "me" else phone(2)
        for ledger in (lazy, eager):
            ledger.add(number, at, None)
            if settle:
                ledger.settle(number, at, None if outcome is None else Outcome.parse(outcome))
    assert limits._NONE == []
    assert lazy.state() == eager.state()
    for t in (0, 5 * 10**11, 10**12 + 1):
        assert lazy.first_allowed(t) == eager.first_allowed(t)
