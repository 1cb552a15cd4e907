"""What a web service reads and relies on (issue 21, section 1): the last poll's
exact instant after either kind of restore, a cheap live status, JSON-ready
totals, the campaign's warnings, late webhooks; on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from callslots import DispatchError
from callslots.store import Store
from store_support import postgres_server, store_url

__all__ = ["postgres_server", "store_url"]

UTC = timezone.utc
FAR = datetime(9000, 1, 1, tzinfo=UTC)
CAMPAIGN: dict[str, Any] = {
    "timezone": "America/New_York",
    "startDate": "2024-03-04",
    "endDate": "2024-03-05",
    "startTime": "09:00",
    "endTime": "17:00",
    "callIntervalSeconds": 60,
    "maxConcurrency": 2,
    "callRetries": 1,
    "retryDelaySeconds": 600,
}


def numbers(count: int, base: int = 0) -> list[str]:
    return [f"+1212555{base + i:04d}" for i in range(count)]


@pytest.mark.parametrize("snapshot_every", [1, 1000], ids=["by-snapshot", "by-replay"])
def test_last_now_is_the_exact_instant_after_either_restore(
    store_url: str, snapshot_every: int
) -> None:
    store = Store.open(store_url, snapshot_every=snapshot_every)
    run_id = store.create_run(CAMPAIGN, numbers(3))
    first = datetime(2024, 3, 4, 14, 0, 0, 761520, tzinfo=UTC)
    a = store.worker("a")
    (run,) = a.due(FAR)
    assert run.last_now is None
    run.poll(first)
    assert run.last_now == first and run.last_now.tzinfo is not None
    run.release()
    info = store.info(run_id)  # the poll was stored in a snapshot, or only in the log
    assert info.snapshot_position == (1 if snapshot_every == 1 else 0) and info.position == 1
    (again,) = store.worker("b").due(FAR)
    assert again is not run
    # the snapshot (every event) or the replay of the logged poll: the same instant
    assert again.last_now == first
    again.poll(again.last_now)  # polling again at the last poll's instant is allowed
    with pytest.raises(DispatchError, match=r"previous poll at 2024-03-04T14:00:00\.761520"):
        again.poll(first - timedelta(microseconds=1))
    assert store.inspect(run_id).next_wakeup() is not None
    store.close()
