"""Dispatcher.restore(..., exact=True): the engine that took the snapshot, for a
caller that replays its own log after it (callslots.store)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from callslots import Campaign, Dispatcher

PAYLOAD = {
    "timezone": "UTC",
    "startDate": "2024-03-04",
    "endDate": "2024-03-04",
    "startTime": "09:00",
    "endTime": "17:00",
    "callIntervalSeconds": 60,
    "maxConcurrency": 2,
    "maxCallSeconds": 600,
    "phoneList": ["+12125550100", "+12125550101", "+12125550102"],
}
NINE = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)


def test_exact_restore_keeps_unconfirmed_calls_as_they_were() -> None:
    campaign = Campaign.from_dict(PAYLOAD)
    original = Dispatcher(campaign)
    original.poll(NINE)  # call 1, never confirmed
    original.poll(NINE + timedelta(seconds=60))  # call 2
    original.started("2", NINE + timedelta(seconds=61))
    state = original.snapshot()
    exact = Dispatcher.restore(campaign, state, exact=True)
    crashed = Dispatcher.restore(campaign, state)
    assert exact.in_doubt() == [] and [d.call_id for d in crashed.in_doubt()] == ["1"]
    later = NINE + timedelta(seconds=600)  # call 1's deadline: it expires, freeing a line
    assert exact.poll(later) == original.poll(later) != []
    assert exact.summary == original.summary and exact.summary.expired == 1
    assert crashed.poll(later) == []  # in doubt: never expires, holds its line
    assert exact.snapshot() == original.snapshot()
