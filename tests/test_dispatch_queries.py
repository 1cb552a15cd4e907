"""Queries are queries (docs/dispatch.md, "Queries answer from one settled state").

``next_wakeup()``, ``finished`` and ``summary`` each first bring the engine to one
settled state; doing it again changes nothing.  So two engines driven by the same
random events, one of which (``asker``) is asked a random run of queries before
every event and the other (``plain``) only ``summary``, must answer every event and
every later query alike and end with the same snapshot.  ``in_doubt()`` and
``in_progress()`` change nothing at all: asked before every event, the snapshot is
the same as without them.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from callslots import ConfigError, Dispatcher, DispatchError, Outcome
from test_engine_equivalence import UTC, Setup, setups

#: Under the ci profile (derandomized): 400 and 300 examples, about a minute.
CI = settings.default.derandomize
queries_examples = settings(
    max_examples=400 if CI else settings.default.max_examples,
    suppress_health_check=[HealthCheck.too_slow],
)
doubt_examples = settings(
    max_examples=300 if CI else settings.default.max_examples,
    suppress_health_check=[HealthCheck.too_slow],
)

QUERIES = ["next_wakeup", "finished", "summary", "in_doubt", "in_progress"]
EVENTS = ["wake", "wake", "wake", "late", "end", "end", "end", "start", "not_started",
          "cancel", "callback", "pause", "resume"]  # fmt: skip


def query(engine: Dispatcher, name: str) -> Any:
    value = getattr(engine, name)
    return value() if callable(value) else value


def answer(call: Any, *args: Any) -> tuple[str, Any]:
    try:
        value = call(*args)
    except (DispatchError, ConfigError) as error:
        return "error", type(error).__name__
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return "ok", dataclasses.astuple(value)
    if isinstance(value, list):
        return "ok", [dataclasses.astuple(v) for v in value]
    return "ok", value


def state(engine: Dispatcher) -> str:
    return json.dumps(engine.snapshot(), sort_keys=True)


@queries_examples
@given(setup=setups(), data=st.data(), steps=st.integers(1, 40))
def test_any_run_of_queries_answers_as_one_summary(
    setup: Setup, data: st.DataObject, steps: int
) -> None:
    campaign = setup.campaign
    made = [Dispatcher(campaign, list(setup.customers), history=setup.history) for _ in range(2)]
    asker, plain = made
    first = campaign.slot_at(0) or datetime(2024, 1, 1, tzinfo=UTC)
    clock = first
    calls: list[str] = []
    for _ in range(steps):
        asked = data.draw(st.lists(st.sampled_from(QUERIES), min_size=1, max_size=5))
        note(f"queries {asked}")
        for name in asked:
            query(asker, name)
        query(plain, "summary")
        assert answer(query, asker, "summary") == answer(query, plain, "summary")
        wake = plain.next_wakeup()
        assert asker.next_wakeup() == wake
        event = data.draw(st.sampled_from(EVENTS))
        note(f"event {event} at {clock}")
        if event in ("wake", "late"):
            if wake is not None and wake > clock:
                clock = wake
            if event == "late":
                clock += timedelta(seconds=data.draw(st.integers(1, 4000)))
            one, two = (answer(e.poll, clock) for e in made)
            assert one == two
            if one[0] == "ok":
                calls += [dial[0] for dial in one[1]]
            continue
        if event == "pause":
            for engine in made:
                engine.pause()
            continue
        if event == "resume":
            for engine in made:
                engine.resume()
            continue
        if event in ("cancel", "callback"):
            index = data.draw(st.integers(0, len(setup.customers) + 1))
            if event == "cancel":
                one, two = (answer(e.cancel, index) for e in made)
            else:
                at = clock + timedelta(minutes=data.draw(st.integers(0, 600)))
                one, two = (answer(e.callback, index, at) for e in made)
            assert one == two
            continue
        if not calls:
            continue
        call = data.draw(st.sampled_from(calls))
        if event == "start":
            one, two = (answer(e.started, call, clock) for e in made)
        elif event == "not_started":
            one, two = (answer(e.not_started, call) for e in made)
        else:
            outcome = data.draw(st.sampled_from(list(Outcome)))
            ended = clock + timedelta(seconds=data.draw(st.integers(0, 900)))
            one, two = (answer(e.ended, call, outcome, ended) for e in made)
        assert one == two
    for name in ("summary", "finished", "next_wakeup", "in_doubt", "in_progress"):
        assert answer(query, asker, name) == answer(query, plain, name)
    assert state(asker) == state(plain)


@doubt_examples
@given(setup=setups(), data=st.data(), steps=st.integers(1, 30))
def test_in_doubt_and_in_progress_change_nothing(
    setup: Setup, data: st.DataObject, steps: int
) -> None:
    campaign = setup.campaign
    made = [Dispatcher(campaign, list(setup.customers), history=setup.history) for _ in range(2)]
    clock = campaign.slot_at(0) or datetime(2024, 1, 1, tzinfo=UTC)
    for _ in range(steps):
        made[0].in_doubt()
        made[0].in_progress()
        clock += timedelta(seconds=data.draw(st.integers(0, 3600)))
        dials = [answer(e.poll, clock) for e in made]
        assert dials[0] == dials[1]
        if dials[0][0] == "ok":
            for dial in dials[0][1]:
                for engine in made:
                    engine.ended(dial[0], "No Answer", clock + timedelta(seconds=30))
        assert state(made[0]) == state(made[1])
