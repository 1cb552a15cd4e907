"""The engine's state table is the one docs/dispatch.md shows ("An attempt's life"),
and an event that the table does not allow raises DispatchError and changes nothing."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from callslots import Campaign, Dispatcher, DispatchError
from callslots.dispatch.states import LATE, TRANSITIONS, Event, Record, State, advance

DOCS = Path(__file__).resolve().parent.parent / "docs" / "dispatch.md"


def table(name: str) -> set[tuple[str, str, str]]:
    """The rows of the table between ``<!-- name: begin -->`` and ``end``."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {name}: begin -->\n(.*?)<!-- {name}: end -->", text, re.S)
    assert found, f"docs/dispatch.md has no {name} table"
    rows = [line.strip("|").split("|") for line in found.group(1).splitlines()[2:]]
    return {(a.strip(), b.strip(), c.strip()) for a, b, c in rows}


def test_the_docs_show_the_transition_table() -> None:
    code = {(a.value, e.value, b.value) for (a, e), b in TRANSITIONS.items()}
    assert table("transitions") == code


def test_the_docs_show_what_a_late_event_does() -> None:
    code = {(c.value, e.value, what.value) for (c, e), what in LATE.items()}
    assert table("late events") == code


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("event", list(Event))
def test_a_pair_not_in_the_table_is_refused_and_changes_nothing(state: State, event: Event) -> None:
    record = Record(0, "+12125550100", None, 0)
    record.state = state
    if (state, event) in TRANSITIONS:
        assert advance(record, event) is TRANSITIONS[state, event] is record.state
    else:
        with pytest.raises(DispatchError):
            advance(record, event)
        assert record.state is state


def test_done_is_final_and_every_other_state_is_reached() -> None:
    assert not any(a is State.DONE for a, _ in TRANSITIONS)
    assert {b for b in TRANSITIONS.values()} | {State.PENDING} == set(State)


NINE = datetime(2024, 3, 4, 14, 0, tzinfo=timezone.utc)
PAYLOAD = {
    "timezone": "America/New_York", "startDate": "2024-03-04", "endDate": "2024-03-04",
    "startTime": "09:00", "endTime": "17:00", "callIntervalSeconds": 60, "maxConcurrency": 2,
    "callRetries": 1, "retryDelaySeconds": 600, "phoneList": ["+12125550100", "+12125550101"],
}  # fmt: skip


def test_a_refused_event_leaves_the_engine_as_it_was() -> None:
    """``not_started`` after ``started`` (in progress: not in the table) is refused
    with the engine's snapshot unchanged."""
    d = Dispatcher(Campaign.from_dict(PAYLOAD))
    [dial] = d.poll(NINE)
    d.started(dial.call_id, NINE + timedelta(seconds=2))
    before = json.dumps(d.snapshot(), sort_keys=True)
    with pytest.raises(DispatchError, match="was reported started"):
        d.not_started(dial.call_id)
    assert json.dumps(d.snapshot(), sort_keys=True) == before
