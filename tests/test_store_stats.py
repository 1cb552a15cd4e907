"""store.stats(): the numbers an operator watches, on both databases, against
what the test itself did to the store; and the schema migration that added
the columns they need."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from callslots.store import Store
from store_support import CAMPAIGN, FAR, UTC, postgres_server, store_url

__all__ = ["postgres_server", "store_url"]

T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)


def numbers(count: int, base: int = 0) -> list[str]:
    return [f"+1212555{base + i:04d}" for i in range(count)]


def test_stats_follow_what_happened(store_url: str) -> None:
    store = Store.open(store_url, status_seconds=0)
    empty = store.stats(T0, wall=1000.0)
    assert empty.runs == {} and empty.due == 0 and empty.oldest_due_seconds is None
    assert empty.inbox == 0 and empty.in_doubt == 0 and empty.takeovers == 0
    runs = [store.create_run(CAMPAIGN, numbers(3, 10 * k)) for k in range(3)]
    finished = store.create_run({**CAMPAIGN, "endDate": "2024-03-04"}, [])
    # at 14:05 the three runs have waited 5 minutes since their first slot
    later = store.stats(T0 + timedelta(minutes=5), wall=1000.0)
    assert later.runs == {"active": 3, "finished": 1}
    assert later.due == later.due_unheld == 3 and later.oldest_due_seconds == 300.0
    wall = [1000.0]
    a = store.worker("a", lease_seconds=30, hold_seconds=10**9)
    a.clock = lambda: wall[0]
    held = a.due(FAR)
    for run in held:
        run.poll(T0)
    stats = store.stats(T0, wall=wall[0])
    assert stats.leases == {a.owner: 3} and stats.lapsed_leases == 0 and stats.in_doubt == 0
    assert stats.due == 0  # next at 14:01
    at_next = store.stats(T0 + timedelta(minutes=1), wall=wall[0])
    assert at_next.due == 3 and at_next.due_unheld == 0  # held: waiting for no one
    # two webhooks for the first run wait in its inbox
    store.record_started(runs[0], "1", T0 + timedelta(seconds=2))
    wall[0] += 10
    store.record_ended(runs[0], "1", "Completed", T0 + timedelta(seconds=40))
    stats = store.stats(T0)  # arrivals are stamped with the real wall clock
    assert stats.inbox == 2 and stats.inbox_oldest_seconds is not None
    assert 0 <= stats.inbox_oldest_seconds < 60
    assert stats.due == 1 and stats.oldest_due_seconds == stats.inbox_oldest_seconds
    # a dies: its leases lapse, b takes the runs over; the unconfirmed calls are in doubt
    wall[0] += 31
    lapsed = store.stats(T0, wall=wall[0])
    assert lapsed.leases == {} and lapsed.lapsed_leases == 3 and lapsed.due_unheld == 1
    b = store.worker("b", lease_seconds=30, hold_seconds=10**9)
    b.clock = lambda: wall[0]
    taken = b.due(FAR)
    assert len(taken) == 3
    stats = store.stats(T0, wall=wall[0])
    assert stats.takeovers == 3 and stats.leases == {b.owner: 3} and stats.inbox == 0
    assert stats.in_doubt == 2 == sum(len(r.in_doubt()) for r in taken)  # run 0's was settled
    for run in taken:
        for dial in run.in_doubt():
            run.not_started(dial.call_id, "not in the telephony log")
        run.poll(T0 + timedelta(minutes=1))
    assert store.stats(T0, wall=wall[0]).in_doubt == 0
    # a run that cannot be restored is counted, with the reason, until it is readable
    b.release_all()
    with store.db.transaction():
        store.db.execute(
            "UPDATE callslots_snapshots SET body = '{not json' WHERE run_id = ?", (runs[1],)
        )
    c = store.worker("c")
    c.due(FAR)
    stats = store.stats(T0)
    assert list(stats.unreadable) == [runs[1]] and "is not JSON" in stats.unreadable[runs[1]]
    assert stats.takeovers == 3  # given back, not taken over
    assert json.loads(json.dumps(stats.as_dict()))["unreadable"] == {
        str(runs[1]): stats.unreadable[runs[1]]
    }
    assert finished not in stats.unreadable
    store.close()
