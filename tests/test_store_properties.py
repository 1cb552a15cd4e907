"""Property: a run kept in the store behaves exactly like the engine alone.

Random sequences of polls, webhooks (through the inbox, from another
connection) and the holder's own events, with restarts (the engine rebuilt from
the database) and takeovers (another worker, after the lease ran out) in
between, give the same Dials and the same totals as one in-memory Dispatcher
that is put through a snapshot at the same moments (the crash rule).  On SQLite,
to keep it quick; tests/test_store.py runs the same paths on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from callslots import Campaign, Dispatcher, DispatchError
from callslots.store import Store, summary_dict
from store_support import CAMPAIGN, FAR, UTC

START = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)
PAYLOAD = {**CAMPAIGN, "retryDelaySeconds": 300, "maxCallSeconds": 600}
OUTCOMES = ["Completed", "Busy", "No Answer"]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("poll"), st.integers(0, 900)),
        st.tuples(st.just("webhook_end"), st.integers(0, 5), st.sampled_from(OUTCOMES)),
        st.tuples(st.just("webhook_start"), st.integers(0, 5)),
        st.tuples(st.just("end"), st.integers(0, 5), st.sampled_from(OUTCOMES)),
        st.tuples(st.just("not_started"), st.integers(0, 5)),
        st.tuples(st.just("cancel"), st.integers(0, 7)),
        st.tuples(st.just("restart"), st.booleans()),
    ),
    min_size=5,
    max_size=40,
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps, customers=st.integers(1, 8))
# Found in CI: the last poll hands out nothing, so it is logged with the next write;
# the live totals and inspect() still count the webhook it applied.
@example(steps=[("poll", 0)] * 6 + [("webhook_end", 0, "Completed")], customers=2)
def test_a_stored_run_is_the_engine(tmp_path: Path, steps: list[Any], customers: int) -> None:
    url = f"sqlite:///{tmp_path}/p{abs(hash((tuple(steps), customers)))}.db?synchronous=normal"
    numbers = [f"+1212555{i:04d}" for i in range(customers)]
    campaign = Campaign.from_dict(PAYLOAD)
    store = Store.open(url, snapshot_every=3, status_seconds=0)
    web = Store.open(url)  # a web process
    run_id = store.create_run(campaign, numbers)
    mirror = Dispatcher(campaign, numbers)
    wall = [1000.0]
    worker = store.worker("w", lease_seconds=30, hold_seconds=10**9)
    worker.clock = lambda: wall[0]
    queued: list[tuple[str, str, Any]] = []  # webhooks in the inbox, for the mirror
    handed: list[str] = []
    now = START

    def mirror_inbox() -> None:
        for kind, call_id, value in queued:
            try:
                if kind == "ended":
                    mirror.ended(call_id, value[0], value[1])
                else:
                    mirror.started(call_id, value)
            except DispatchError:
                pass  # the store logs it as rejected
            touch()
        queued.clear()

    def touch() -> None:
        # The store asks the engine for its wake-up after every event, which
        # reads customers ahead (they then count as read: summary.pending);
        # the mirror is asked the same (callslots.store.store.look_ahead).
        if mirror.next_wakeup() is None:
            _ = mirror.finished

    def lease() -> Any:
        runs = worker.due(FAR)
        assert len(runs) <= 1
        return runs[0] if runs else None

    run = lease()
    for step in steps:
        if run is None or not run.held:
            run = lease()  # given back when it finished: due again for webhooks only
            if run is None:
                break
            mirror_inbox()  # a run taken again is restored with its inbox applied
        kind = step[0]
        open_calls = [d.call_id for d in mirror.in_progress()]
        if kind == "poll":
            now += timedelta(seconds=step[1])
            mirror_inbox()
            dials = run.poll(now)
            assert dials == mirror.poll(now)
            touch()
            assert [(a.customer_index, a.attempt) for a in run.expired()] == [
                (a.customer_index, a.attempt) for a in mirror.expired()
            ]
            handed += [d.call_id for d in dials]
        elif kind in ("webhook_end", "webhook_start") and handed:
            call_id = handed[step[1] % len(handed)]
            at = now + timedelta(seconds=5)
            if kind == "webhook_end":
                web.record_ended(run_id, call_id, step[2], at)
                queued.append(("ended", call_id, (step[2], at)))
            else:
                web.record_started(run_id, call_id, at)
                queued.append(("started", call_id, at))
        elif kind in ("end", "not_started") and open_calls:
            # the holder's own event: applied now, before the webhooks still
            # waiting in the inbox (applied at the next poll)
            call_id = open_calls[step[1] % len(open_calls)]
            at = now + timedelta(seconds=3)
            results = []
            for target in (run, mirror):
                try:
                    if kind == "end":
                        got = target.ended(call_id, step[2], at)
                    else:
                        got = target.not_started(call_id, "no line")
                    results.append(("ok", got))
                except DispatchError as error:
                    results.append(("error", str(error)))
            assert results[0] == results[1]
            touch()
        elif kind == "cancel":
            run.cancel(step[1] % customers)
            mirror.cancel(step[1] % customers)
            touch()
        elif kind == "restart":
            if step[1]:
                worker.forget()  # the same worker, its engine lost
            else:
                wall[0] += 31  # a takeover: another worker after the lease ran out
                other = Store.open(url, snapshot_every=3, status_seconds=0)
                worker = other.worker("v", hold_seconds=10**9)
                worker.clock = lambda: wall[0]
            run = lease()
            mirror = Dispatcher.restore(campaign, mirror.snapshot(), numbers)
            if run is None:  # not due: only an event could change anything
                assert mirror.next_wakeup() is None and not queued
                break
            mirror_inbox()
            touch()
            assert run.in_doubt() == mirror.in_doubt()
    if run is not None and not run.held:
        run = lease()
    if run is not None:
        mirror_inbox()
        final = run.poll(now + timedelta(seconds=1))
        assert final == mirror.poll(now + timedelta(seconds=1))
        touch()
        assert run.summary == mirror.summary
        # the live totals (stored at every write: status_seconds=0) are the engine's
        info = store.info(run_id)
        assert info.summary_position == info.position
        assert info.summary == {
            **summary_dict(mirror.summary),
            "in_doubt": len(mirror.in_doubt()),
        }
    assert store.inspect(run_id).summary == mirror.summary
    store.close()
    web.close()
