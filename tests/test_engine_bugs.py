"""The engine's bugs found reading it (issue 19), each pinned by a small case worked
by hand, through the public API only.  Each failed on the engine before the rebuild
(``tests/frozen/dispatch_v1.py``; they were strict xfails on main until the rebuilt
engine landed, and ``test_the_invariant_finds_bug_1_in_v1`` still shows bug 1 there).

The campaigns are in UTC on Wednesday 2025-01-15, 09:00-10:00, with slots every 30
minutes (09:00 and 09:30) and one line: nothing depends on a zone.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from callslots import Campaign, Dispatcher, simulate, snapshots
from engine_invariants import check_totals, totals_problems

UTC = timezone.utc


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 1, 15, hour, minute, tzinfo=UTC)


def campaign(**fields: Any) -> Campaign:
    payload: dict[str, Any] = {
        "timezone": "UTC",
        "startDate": "2025-01-15",
        "endDate": "2025-01-15",
        "startTime": "09:00",
        "endTime": "10:00",
        "callIntervalSeconds": 1800,
        "maxConcurrency": 1,
        "phoneList": ["+12125550000"],
    }
    payload.update(fields)
    return Campaign.from_dict(payload)


def bug_1_run() -> Dispatcher:
    """Two retries, one hour after a call.  The 09:00 call ends Completed at 09:05;
    during it the customer asked to be called back at 09:30, which replaces the
    retry (docs/dispatch.md, callback).  The 09:30 callback call ends No Answer at
    09:31: attempt 2 of 3, so a retry would be due at 10:31, after the campaign's
    last window (it ends at 10:00): no time is left."""
    engine = Dispatcher(campaign(callRetries=2, retryDelaySeconds=3600))
    (dial,) = engine.poll(at(9))
    assert engine.callback(0, at(9, 30)) == at(9, 30)
    first = engine.ended(dial.call_id, "Completed", at(9, 5))
    assert first is not None and first.retry_at == at(9, 30)
    (dial,) = engine.poll(at(9, 30))
    assert (dial.customer_index, dial.attempt) == (0, 2)
    second = engine.ended(dial.call_id, "No Answer", at(9, 31))
    assert second is not None and second.retry_at is None
    assert engine.finished
    return engine


def test_bug_1_a_customer_reached_is_not_counted_cut_off() -> None:
    """Summary: ``cut_off`` counts again customers counted ``not_reached``; this
    customer had a completed call, so it is ``reached`` (once) and not cut off."""
    totals = bug_1_run().summary
    assert (totals.reached, totals.not_reached, totals.cut_off) == (1, 0, 0)


def test_bug_1_breaks_the_totals_invariant() -> None:
    """The invariant the stateful machine checks (tests/engine_invariants.py)."""
    engine = bug_1_run()
    assert totals_problems(engine.summary, ["+12125550000"]) == []


def test_the_invariant_finds_bug_1_in_v1() -> None:
    """The invariant helper is not blind: on the frozen v1 engine's totals for bug
    1's run (v1 keeps the bug) it names the problem."""
    from tests.frozen import dispatch_v1 as v1

    engine = v1.Dispatcher(campaign(callRetries=2, retryDelaySeconds=3600))
    (dial,) = engine.poll(at(9))
    engine.callback(0, at(9, 30))
    engine.ended(dial.call_id, "Completed", at(9, 5))
    (dial,) = engine.poll(at(9, 30))
    engine.ended(dial.call_id, "No Answer", at(9, 31))
    assert totals_problems(engine.summary, ["+12125550000"]) == ["cut_off 1 > not_reached 0"]
    with pytest.raises(AssertionError):
        check_totals(engine.summary, ["+12125550000"])


def ledger_numbers(engine: Dispatcher) -> list[str]:
    """The numbers whose counted calls a snapshot keeps (format version 1: the
    ``limits`` part, packed JSON, its ``ledgers`` rows start with the number)."""
    state = json.loads(json.dumps(engine.snapshot()))
    assert state["version"] == 1, "a new snapshot version: read its ledgers here"
    limits = json.loads(snapshots.unpack_bytes(state["limits"]))
    return [row[0] for row in limits["ledgers"]]


def test_bug_2_not_started_for_a_cancelled_customer_drops_its_ledger() -> None:
    """A contact limit (at most 3 calls a day) makes the engine keep each customer's
    counted calls while it may still be called.  Customer 0 is dialed at 09:00,
    cancelled during the call, and the call is reported not started: the customer
    is done (cancelled), so its ledger goes, as it goes when a customer with
    nothing in progress is cancelled (compared below)."""
    limited = campaign(
        endDate="2025-01-16",
        contactLimits=[{"maxCalls": 3, "days": 1}],
        phoneList=["+12125550000", "+12125550001"],
    )
    engine = Dispatcher(limited)
    (dial,) = engine.poll(at(9))
    assert engine.cancel(0, "opted out")
    engine.not_started(dial.call_id, "no trunk")
    assert engine.summary.cancelled == 1
    # The same customer cancelled while its attempt waits (not in a call): dropped.
    other = Dispatcher(limited)
    (dial,) = other.poll(at(9))
    other.not_started(dial.call_id, "no trunk")
    assert other.cancel(0, "opted out")
    assert "+12125550000" not in ledger_numbers(other)
    assert "+12125550000" not in ledger_numbers(engine)


def test_simulate_from_a_start_between_two_slots_begins_at_the_next_slot() -> None:
    """``simulate(campaign, model, start=x)`` with ``x`` (09:10) between the 09:00
    and 09:30 slots: nothing is called before ``x``; the first attempt is on the
    first slot at or after it, as ``Campaign.slots(start=x)`` and ``plan(start=x)``
    say (09:30)."""
    one = campaign()
    start = at(9, 10)
    first_slot = next(one.slots(start=start))
    assert first_slot == at(9, 30)
    (planned,) = one.plan(start=start)
    assert planned.at == first_slot
    attempts = list(simulate(one, lambda i, n, t: ("Completed", 10), start=start))
    assert [a.at for a in attempts] == [first_slot]
