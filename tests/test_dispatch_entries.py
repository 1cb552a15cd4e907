"""A waiting attempt's queue entry is one int, its due second and its position
packed together (docs/dispatch.md, "The files"), and an entry left behind by a
callback is stale only while it differs from its record's.  The hard case: a
retry replaced by a callback, whose own call ends with a retry due at the same
second as the one replaced.  The heap then holds two equal entries of one
customer, and the customer must still be dialed once, counted once, and written
once in a snapshot.  Each script is run on the engine before the rebuild too
(``tests/frozen/dispatch_v1.py``, which told entries apart by a token), and the two
must agree on every Dial and total.

The campaign is in UTC, Wednesday 2025-01-15 and Thursday 2025-01-16, 09:00-10:00,
slots every 10 minutes, two lines, a retry 30 minutes after a call: a call that
ends after 09:30 has its retry due at Thursday 09:00, the next callable second.
Customer 1's retry, due on Wednesday at 09:41 and never dialed that day, sits
above customer 0's entries in the heap, so that the one left behind is not
dropped before the equal one comes in.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from tests.frozen import dispatch_v1 as v1

from callslots import Campaign, Dispatcher, snapshots
from engine_invariants import check_totals

UTC = timezone.utc
PHONES = ["+12125550000", "+12125550001"]
ENGINES = pytest.mark.parametrize("make", [Dispatcher, v1.Dispatcher], ids=["new", "v1"])


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 1, day, hour, minute, tzinfo=UTC)


CAMPAIGN = Campaign.from_dict(
    {
        "timezone": "UTC",
        "startDate": "2025-01-15",
        "endDate": "2025-01-16",
        "startTime": "09:00",
        "endTime": "10:00",
        "callIntervalSeconds": 600,
        "maxConcurrency": 2,
        "callRetries": 3,
        "retryDelaySeconds": 1800,
        "phoneList": PHONES,
    }
)


def same_due_twice(engine: Any) -> list[tuple[int, int]]:
    """Customer 0's first call ends at 09:40 (retry due Thursday 09:00); a
    callback at 09:50 replaces that retry; the callback's call fails at 09:51, and
    its retry is due at Thursday 09:00 again.  Returns the Dials as ``(index,
    attempt)``."""
    (c0,) = engine.poll(at(15, 9))
    (c1,) = engine.poll(at(15, 9, 10))
    assert engine.ended(c1.call_id, "No Answer", at(15, 9, 11)).retry_at == at(15, 9, 41)
    assert engine.ended(c0.call_id, "No Answer", at(15, 9, 40)).retry_at == at(16, 9)
    assert engine.callback(0, at(15, 9, 50)) == at(15, 9, 50)
    assert engine.poll(at(15, 9, 40)) == []  # customer 1's retry is due at 09:41
    (back,) = engine.poll(at(15, 9, 50))
    second = engine.ended(back.call_id, "No Answer", at(15, 9, 51))
    assert second.retry_at == at(16, 9)  # the due second of the retry it replaced
    return [(d.customer_index, d.attempt) for d in (c0, c1, back)]


def run_out(engine: Any, dials: list[tuple[int, int]]) -> None:
    """Poll where the engine says, every call failing a minute after its slot."""
    while (wake := engine.next_wakeup()) is not None:
        for dial in engine.poll(wake):
            dials.append((dial.customer_index, dial.attempt))
            engine.ended(dial.call_id, "No Answer", dial.at.replace(minute=dial.at.minute + 1))


def totals(summary: Any) -> dict[str, Any]:
    """A Summary as a dict, without the totals the engine before the rebuild did
    not keep."""
    found = dataclasses.asdict(summary)
    found.pop("held_by_limits", None)
    return found


def outcome(make: Any, script: Any) -> tuple[list[tuple[int, int]], Any]:
    engine = make(CAMPAIGN)
    dials = same_due_twice(engine)
    script(engine, dials)
    assert engine.finished
    return dials, engine.summary


@ENGINES
def test_a_retry_due_again_at_the_second_it_was_replaced_at_is_dialed_once(make: Any) -> None:
    dials, summary = outcome(make, run_out)
    assert dials[:5] == [(0, 1), (1, 1), (0, 2), (1, 2), (0, 3)]
    assert dials.count((0, 3)) == 1 and dials.count((0, 4)) <= 1
    check_totals(summary, PHONES)
    old_dials, old_summary = outcome(v1.Dispatcher, run_out)
    assert (dials, totals(summary)) == (old_dials, totals(old_summary))


@ENGINES
def test_such_a_retry_left_when_the_run_ends_is_counted_once(make: Any) -> None:
    """Paused until after the last window: no retry is dialed, and each customer is
    cut off once (counting each equal entry would count customer 0 twice)."""

    def pause_to_the_end(engine: Any, dials: list[tuple[int, int]]) -> None:
        engine.pause()
        engine.poll(at(16, 11))

    dials, summary = outcome(make, pause_to_the_end)
    assert dials == [(0, 1), (1, 1), (0, 2)]
    assert (summary.attempts, summary.not_reached, summary.cut_off) == (3, 2, 2)
    assert summary.pending == 0
    check_totals(summary, PHONES)


def test_such_a_retry_is_written_once_in_a_snapshot_and_restores() -> None:
    engine = Dispatcher(CAMPAIGN)
    same_due_twice(engine)
    state = json.loads(json.dumps(engine.snapshot()))
    (group,) = state["groups"]
    assert [row[1] for row in snapshots.unpack_entries(group["retries"])] == [1, 0]
    again = Dispatcher.restore(CAMPAIGN, state)
    runs = []
    for run in (engine, again):
        dials: list[tuple[int, int]] = []
        run_out(run, dials)
        runs.append((dials, run.summary))
    assert runs[0] == runs[1]
    assert runs[0][0].count((0, 3)) == 1


def test_a_callback_at_the_second_its_retry_was_due_waits_once_as_a_callback() -> None:
    """The callback's entry equals the retry's it replaces, in the other heap: the
    snapshot lists the customer once, among the callbacks, and the run goes on as
    the engine before the rebuild's does."""
    runs = []
    for make in (Dispatcher, v1.Dispatcher):
        engine = make(CAMPAIGN)
        dials = same_due_twice(engine)
        assert engine.callback(0, at(16, 9)) == at(16, 9)
        if make is Dispatcher:
            (group,) = engine.snapshot()["groups"]
            assert [row[1] for row in snapshots.unpack_entries(group["retries"])] == [1]
            assert [row[1] for row in snapshots.unpack_entries(group["callbacks"])] == [0]
        run_out(engine, dials)
        check_totals(engine.summary, PHONES)
        runs.append((dials, totals(engine.summary)))
    assert runs[0] == runs[1]
    assert runs[0][0][3] == (0, 3)  # the callback goes first on Thursday


def test_entries_order_as_due_then_position_across_the_time_line() -> None:
    """The packed int orders as the pair, for due seconds before 1970 (negative)
    and up to year 9999, and positions up to the bound."""
    from callslots.dispatch.states import INDEX_BITS, Record
    from callslots.tz import MAX_UTC, MIN_UTC

    dues = [MIN_UTC, MIN_UTC + 1, -1, 0, 1, MAX_UTC - 1, MAX_UTC]
    indexes = [0, 1, 255, 256, 10**9, (1 << INDEX_BITS) - 1]
    pairs = [(d, i) for d in dues for i in indexes]
    records = [Record(i, "+1", None, d) for d, i in pairs]
    assert sorted(records, key=lambda r: r.entry) == [
        r for _, r in sorted(zip(pairs, records, strict=True), key=lambda p: p[0])
    ]
    assert [(r.due, r.index) for r in records] == pairs
    record = records[-1]
    record.due = MIN_UTC
    assert (record.due, record.index) == (MIN_UTC, (1 << INDEX_BITS) - 1)
