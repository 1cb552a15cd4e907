"""What a web service reads and relies on (issue 21, section 1): the last poll's
exact instant after either kind of restore, a cheap live status, JSON-ready
totals, the campaign's warnings, late webhooks; on both databases."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from callslots import DispatchError
from callslots.store import Store, summary_dict
from store_support import CAMPAIGN, FAR, UTC, postgres_server, store_url

__all__ = ["postgres_server", "store_url"]


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


def test_live_totals_without_a_rebuild(store_url: str) -> None:
    """info().summary is the run's totals as of its last write (every write with
    status_seconds=0), JSON-ready; live calls count as in progress, never as in
    doubt; the customers not read yet are info().unread."""
    store = Store.open(store_url, status_seconds=0)
    run_id = store.create_run(CAMPAIGN, numbers(5))
    info = store.info(run_id)
    assert info.summary is not None and info.summary_position == 0
    assert info.customer_count == 5 and info.unread is not None
    assert info.unread + info.summary["pending"] == 5
    worker = store.worker("w", hold_seconds=10**9)
    now = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
    live: list[str] = []
    while True:
        (run,) = worker.due(FAR)
        dials = run.poll(now)
        live += [d.call_id for d in dials]
        info = store.info(run_id)
        assert info.summary_position == info.position
        assert info.summary == {
            **json.loads(json.dumps(summary_dict(run.summary))),
            "in_doubt": 0,
        }
        assert info.summary["in_progress"] == len(live)  # dialing, not in doubt
        assert info.unread == 5 - sum(
            info.summary[k]
            for k in ("reached", "not_reached", "unscheduled", "cancelled", "pending", "repeats")
        )
        if live:
            call = live.pop(0)
            store.record_ended(run_id, call, "Completed", now + timedelta(seconds=30))
        if run.finished:
            break
        now += timedelta(seconds=60)
    info = store.info(run_id)
    assert info.status == "finished" and info.summary is not None
    assert info.summary["reached"] == 5 and info.unread == 0
    assert info.summary["calls_per_day"] == {"2024-03-04": 5}
    assert info.summary["attempts_by_outcome"] == {"Completed": 5}
    store.close()


def test_live_totals_are_refreshed_at_most_every_status_seconds(store_url: str) -> None:
    store = Store.open(store_url)  # status_seconds=1.0
    run_id = store.create_run(CAMPAIGN, numbers(4))
    wall = [1000.0]
    worker = store.worker("w", hold_seconds=10**9)
    worker.clock = lambda: wall[0]
    (run,) = worker.due(FAR)  # the takeover writes them (a snapshot)
    first = store.info(run_id).summary_position
    run.poll(datetime(2024, 3, 4, 14, 0, tzinfo=UTC))  # within the second: not written
    assert store.info(run_id).summary_position == first
    wall[0] += 1.0
    run.poll(datetime(2024, 3, 4, 14, 1, tzinfo=UTC))
    info = store.info(run_id)
    assert info.summary_position == info.position and info.summary is not None
    assert info.summary["in_progress"] == 2
    run.started("1", datetime(2024, 3, 4, 14, 0, 1, tzinfo=UTC))  # not written yet
    assert store.info(run_id).summary_position == info.position
    run.release()  # giving the run back writes them
    released = store.info(run_id)
    assert released.summary_position == released.position == info.position + 1
    store.close()


def test_create_run_exposes_the_campaigns_warnings(store_url: str) -> None:
    store = Store.open(store_url)
    run_id = store.create_run({**CAMPAIGN, "maxConcurency": 3}, numbers(1))
    assert isinstance(run_id, int) and store.info(run_id).id == run_id
    (warning,) = run_id.warnings
    assert warning.path == "maxConcurency" and "did you mean" in warning.message
    assert store.create_run(CAMPAIGN, numbers(1)).warnings == ()
    store.close()


def test_an_ended_after_the_expiry_is_late_not_duplicate(store_url: str) -> None:
    store = Store.open(store_url, snapshot_every=2)
    run_id = store.create_run({**CAMPAIGN, "maxCallSeconds": 120}, numbers(4))
    (run,) = store.worker("w", hold_seconds=10**9).due(FAR)
    t0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
    (d1,) = run.poll(t0)
    (d2,) = run.poll(t0 + timedelta(seconds=60))
    run.ended(d2.call_id, "Busy", t0 + timedelta(seconds=90))
    run.poll(t0 + timedelta(seconds=180))  # call 1 expired at 14:02 (a snapshot since)
    assert [a.customer_index for a in run.expired()] == [d1.customer_index]
    assert run.ended(d1.call_id, "Completed", t0 + timedelta(seconds=100)) is None
    store.record_ended(run_id, d1.call_id, "Completed", t0 + timedelta(seconds=101))
    assert run.ended(d2.call_id, "Busy", t0 + timedelta(seconds=95)) is None
    store.record_ended(run_id, d2.call_id, "Busy", t0 + timedelta(seconds=91))
    run.poll(t0 + timedelta(seconds=240))
    notes = [(e.kind, e.body.get("call"), e.note) for e in store.events(run_id)]
    ignored = [n for n in notes if n[2] is not None]
    assert ignored == [
        ("ended", d1.call_id, "late"),
        ("ended", d2.call_id, "duplicate"),
        ("ended", d1.call_id, "late"),
        ("ended", d2.call_id, "duplicate"),
    ]
    store.close()
