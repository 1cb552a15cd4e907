"""A malformed snapshot is a DispatchError (docs/dispatch.md, "Snapshots"), nothing
else, and nothing hangs: a snapshot taken in the middle of a run (first attempts,
retries and a callback waiting, calls dialing and in progress) is damaged at one
place, a field of the JSON or one number of a packed column, and restored.  When
the damage still reads, the restored engine is driven to the end through the public
API, where again only DispatchError may come out."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callslots import Campaign, Dispatcher, DispatchError, snapshots

UTC = timezone.utc
PHONES = [f"+1212555{i:04d}" for i in range(12)]
CAMPAIGN = Campaign.from_dict(
    {
        "timezone": "America/New_York",
        "startDate": "2025-01-15",
        "endDate": "2025-01-17",
        "startTime": "09:00",
        "endTime": "10:00",
        "callIntervalSeconds": 300,
        "maxConcurrency": 3,
        "callRetries": 2,
        "retryDelaySeconds": 900,
        "phoneList": PHONES,
    }
)
NINE = datetime(2025, 1, 15, 14, 0, tzinfo=UTC)  # 09:00 in New York


def mid_run() -> dict[str, Any]:
    """Four calls made (two ended No Answer, one in progress, one dialing), a
    callback asked for, first attempts still waiting; as JSON read back."""
    engine = Dispatcher(CAMPAIGN)
    dials = []
    for k in range(4):
        (dial,) = engine.poll(NINE + timedelta(minutes=5 * k))
        dials.append(dial)
        if k < 2:
            engine.ended(dial.call_id, "No Answer", dial.at + timedelta(minutes=1))
    engine.callback(1, NINE + timedelta(minutes=40))
    engine.started(dials[2].call_id, NINE + timedelta(minutes=10, seconds=5))
    state: dict[str, Any] = json.loads(json.dumps(engine.snapshot()))
    return state


STATE = mid_run()
#: Where a packed column can be damaged: (group key, column name).
COLUMNS = [("firsts", "customer"), ("retries", "due"), ("retries", "customer"),
           ("retries", "attempt"), ("callbacks", "due"), ("callbacks", "customer")]  # fmt: skip
NUMBERS = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([-1, 0, 1, 2, 11, 12, 13, 10**12, 2**48, 2**48 + 1, -(2**48)]),
)
VALUES = st.one_of(
    NUMBERS,
    st.integers(),
    st.none(),
    st.booleans(),
    st.text(max_size=5),
    st.lists(st.integers(-3, 20), max_size=4),
    st.floats(allow_nan=True),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``value`` a damage can go: each key's and item's path."""
    found = [path] if path else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += leaves(v, (*path, i))
    return found


PLACES = leaves(STATE)


def damaged_at(path: tuple[Any, ...], value: Any, drop: bool) -> dict[str, Any]:
    state = json.loads(json.dumps(STATE))
    where = state
    for step in path[:-1]:
        where = where[step]
    if drop and isinstance(where, dict):
        del where[path[-1]]
    else:
        where[path[-1]] = value
    return state


def damaged_column(which: tuple[str, str], position: int, number: int) -> dict[str, Any]:
    state = json.loads(json.dumps(STATE))
    (group,) = state["groups"]
    kind, column = which
    if kind == "firsts":
        rows = [list(r) for r in snapshots.unpack_firsts(group["firsts"])]
    else:
        rows = [list(r) for r in snapshots.unpack_entries(group[kind])]
    names = ["customer", "phone"] if kind == "firsts" else ["due", "customer", "attempt", "phone"]
    if rows:
        rows[position % len(rows)][names.index(column)] = number
    elif kind == "firsts":  # none waits in this snapshot: one more is the damage
        rows = [[number, PHONES[-1]]]
    tuples: Any = [tuple(r) for r in rows]
    if kind == "firsts":
        group[kind] = snapshots.pack_firsts(tuples)
    else:
        group[kind] = snapshots.pack_entries(tuples)
    return state


def restore_and_run(state: dict[str, Any]) -> None:
    """Restore ``state`` and drive the engine to the end: only DispatchError may
    come out, and it ends."""
    started = time.process_time()
    try:
        engine = Dispatcher.restore(CAMPAIGN, state)
    except DispatchError:
        return
    try:
        for dial in engine.in_progress():
            engine.ended(dial.call_id, "No Answer", dial.at + timedelta(seconds=30))
        for _ in range(200):
            wake = engine.next_wakeup()
            if wake is None:
                break
            for dial in engine.poll(wake):
                engine.ended(dial.call_id, "Busy", dial.at + timedelta(seconds=20))
        else:
            pytest.fail("the restored engine did not finish in 200 wake-ups")
        engine.snapshot()
        _ = engine.summary
    except DispatchError:
        pass
    assert time.process_time() - started < 5, "a damaged snapshot took seconds"


def test_the_snapshot_restores_and_finishes_undamaged() -> None:
    engine = Dispatcher.restore(CAMPAIGN, json.loads(json.dumps(STATE)))
    assert len(engine.in_progress()) == 2
    restore_and_run(json.loads(json.dumps(STATE)))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PLACES), VALUES, st.booleans())
def test_a_damaged_field_is_a_dispatch_error_or_reads(
    path: tuple[Any, ...], value: Any, drop: bool
) -> None:
    restore_and_run(damaged_at(path, value, drop))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(COLUMNS), st.integers(0, 20), NUMBERS)
def test_a_damaged_packed_number_is_a_dispatch_error_or_reads(
    which: tuple[str, str], position: int, number: int
) -> None:
    restore_and_run(damaged_column(which, position, number))


@pytest.mark.parametrize(
    ("which", "number", "why"),
    [
        (("retries", "customer"), 2**48, "not read"),  # would be customer 0 once packed
        (("retries", "customer"), 10**12, "not read"),  # the list would take terabytes
        (("firsts", "customer"), -1, "not read"),
        (("firsts", "customer"), 4, "not read"),  # 4 customers were read: 0-3
        (("callbacks", "customer"), 0, "twice"),  # customer 0 waits among the retries
        (("retries", "due"), -(2**62), "not an attempt"),
        (("retries", "attempt"), 0, "not an attempt"),
    ],
)
def test_a_customer_out_of_the_list_or_twice_is_refused_by_name(
    which: tuple[str, str], number: int, why: str
) -> None:
    with pytest.raises(DispatchError, match=why):
        Dispatcher.restore(CAMPAIGN, damaged_column(which, 0, number))


def test_a_call_listed_twice_is_refused() -> None:
    state = json.loads(json.dumps(STATE))
    state["calls"][1][0] = state["calls"][0][0]
    with pytest.raises(DispatchError, match="call"):
        Dispatcher.restore(CAMPAIGN, state)
