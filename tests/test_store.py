"""callslots.store on a real SQLite file and a real PostgreSQL server: runs,
leases, the write-ahead rule, webhooks from anywhere, snapshots, bad state."""

from __future__ import annotations

import io
import json
import re
import sys
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from callslots import Campaign, ConfigError, Dispatcher, DispatchError
from callslots.store import LeaseLost, RunUnreadable, Store, StoreError
from store_support import CAMPAIGN, EXAMPLES, FAR, ROOT, postgres_server, store_url

sys.path.insert(0, str(EXAMPLES))
import store_service

__all__ = ["postgres_server", "store_url"]


def at(clock: str) -> datetime:
    return datetime.fromisoformat(f"2024-03-04T{clock}+00:00")


def numbers(count: int, base: int = 0) -> list[str]:
    return [f"+1212555{base + i:04d}" for i in range(count)]


def test_example_service_runs_every_customer_once(store_url: str, tmp_path: Path) -> None:
    store = Store.open(store_url)
    runs = [store.create_run(store_service.CAMPAIGN, store_service.phones(25, k)) for k in range(3)]
    telephony = store_service.FakeTelephony(str(tmp_path / "calls.db"))
    out = io.StringIO()
    assert store_service.work(store, telephony, "w", out=out) == 0
    result = store_service.report(store, telephony)
    assert result["twice"] == 0
    calls = telephony.calls()
    for run_id in runs:
        totals = result["runs"][run_id]
        assert totals["finished"] and totals["pending"] == 0 and totals["in_doubt"] == []
        accounted = sum(totals[k] for k in ("reached", "not_reached", "unscheduled", "cancelled"))
        assert accounted == 25
        # every call placed ended once, and nothing expired: attempts == calls placed
        placed = [c for c in calls if c[0] == run_id]
        assert totals["attempts"] == len(placed) and totals["expired"] == 0
        assert store.info(run_id).status == "finished"
    assert store.info(runs[0]).lease_owner is None
    store.close()


def test_the_store_drives_the_engine_exactly(store_url: str) -> None:
    """The Dials of a stored run are the engine's, event for event, across a
    worker that loses its engine (restore from snapshot + log) in the middle."""
    store = Store.open(store_url, snapshot_every=7)
    campaign = Campaign.from_dict(CAMPAIGN)
    run_id = store.create_run(campaign, numbers(12))
    mirror = Dispatcher(campaign, numbers(12))
    worker = store.worker("w", hold_seconds=10**9)
    now = at("14:00:00")
    handed = []
    for step in range(60):
        (run,) = worker.due(FAR)
        if step in (20, 41):
            # a restart: the engine comes back from the database; Dials not
            # confirmed are in doubt there and in the mirror restored the same way
            worker.forget()
            (run,) = worker.due(FAR)
            mirror = Dispatcher.restore(campaign, mirror.snapshot(), numbers(12))
            # the webhooks waiting in the inbox are applied at the restore
            assert run.in_doubt() == mirror.in_doubt()
            for dial in mirror.in_doubt():
                run.started(dial.call_id, dial.at + timedelta(seconds=1))
                mirror.started(dial.call_id, dial.at + timedelta(seconds=1))
        dials = run.poll(now)
        assert dials == mirror.poll(now)
        for dial in dials:
            handed.append(dial)
            outcome = "Completed" if int(dial.call_id) % 3 else "Busy"
            end = dial.at + timedelta(seconds=50)
            store.record_ended(run_id, dial.call_id, outcome, end)
            mirror.ended(dial.call_id, outcome, end)
        if run.finished and mirror.finished:
            break
        now += timedelta(seconds=60)
    (run,) = worker.due(FAR) or [None]
    engine = store.inspect(run_id)
    assert engine.summary == mirror.summary
    assert engine.summary.pending == 0 and len(handed) == engine.summary.attempts
    info = store.info(run_id)
    assert info.position - info.snapshot_position < 7 + 3
    store.close()


def test_a_history_counts_in_a_stored_run_across_restarts(store_url: str) -> None:
    """create_run(..., history=...): the contact limits count calls made elsewhere,
    also after the engine comes back from the database (docs/limits.md), and the
    run places the same calls as an engine in memory given the same history."""
    payload = {**CAMPAIGN, "contactLimits": [{"maxCalls": 1, "days": 1}], "callRetries": 2}
    phones = numbers(6)
    customers = [
        {"phoneNumber": p, "properties": {"customerId": f"C{i % 3}"}} for i, p in enumerate(phones)
    ]
    # C0 (numbers 0 and 3) was called at 13:30 UTC elsewhere: not again until 13:30 the
    # next day, on either number; C1's record is older than a day and blocks nothing.
    history = [
        (phones[3], at("13:30:00"), "No Answer"),
        (phones[1], at("13:00:00") - timedelta(days=2), "Completed"),
    ]
    store = Store.open(store_url, snapshot_every=5)
    run_id = store.create_run(payload, customers, history=history)
    campaign = Campaign.from_dict(payload)
    mirror = Dispatcher(campaign, customers, history=history)
    worker = store.worker("w", hold_seconds=10**9)
    now = at("14:00:00")
    handed = []
    for step in range(100):
        (run,) = worker.due(FAR)
        if step in (3, 9):  # a restart: the engine and its history come from the database
            worker.forget()
            (run,) = worker.due(FAR)
        dials = run.poll(now)
        assert dials == mirror.poll(now)
        for dial in dials:
            handed.append(dial)
            end = dial.at + timedelta(seconds=50)
            store.record_ended(run_id, dial.call_id, "No Answer", end)
            mirror.ended(dial.call_id, "No Answer", end)
        wake = mirror.next_wakeup()
        if wake is None:
            break
        now = max(now, wake)
    assert mirror.finished
    assert store.inspect(run_id).summary == mirror.summary
    freed = at("13:30:00") + timedelta(days=1)
    c0 = [d.at for d in handed if d.phone in (phones[0], phones[3])]
    assert c0 and min(c0) >= freed
    assert any(d.phone == phones[1] and d.at < freed for d in handed)  # not held back
    by_customer: dict[str, list[datetime]] = {}
    for d in handed:
        by_customer.setdefault(f"C{phones.index(d.phone) % 3}", []).append(d.at)
    for calls in by_customer.values():  # at most one call in any 24 hours
        calls.sort()
        assert all(b - a >= timedelta(days=1) for a, b in pairwise(calls))
    store.close()


def test_a_bad_history_stores_nothing(store_url: str) -> None:
    store = Store.open(store_url)
    with pytest.raises(ConfigError, match=r"history\.0"):
        store.create_run(CAMPAIGN, numbers(2), history=[("+12125550100", "yesterday", "Busy")])
    assert store.run_ids() == []
    store.close()


def test_write_ahead_a_dial_is_stored_before_it_is_returned(store_url: str) -> None:
    store = Store.open(store_url)
    run_id = store.create_run(CAMPAIGN, numbers(3))
    (run,) = store.worker("a").due(FAR)
    (dial,) = run.poll(at("14:00:00"))
    # another connection (another process) already sees it, and a restore
    # holds it in doubt
    other = Store.open(store_url)
    engine = other.inspect(run_id)
    assert [(d.call_id, d.phone) for d in engine.in_doubt()] == [(dial.call_id, dial.phone)]
    poll = list(other.events(run_id))[-1]
    assert poll.kind == "poll" and poll.body["dials"] == [["1", 0, 1]]
    other.close()
    store.close()


def test_webhooks_duplicated_out_of_order_early_and_while_nobody_holds_the_run(
    store_url: str,
) -> None:
    store = Store.open(store_url)
    run_id = store.create_run(CAMPAIGN, numbers(3))
    worker = store.worker("a")
    (run,) = worker.due(FAR)
    (d1,) = run.poll(at("14:00:00"))
    (d2,) = run.poll(at("14:01:00"))
    worker.release_all()
    assert store.info(run_id).lease_owner is None
    # Nobody holds the run: webhooks wait in its inbox and make it due.
    store.record_ended(run_id, d2.call_id, "Busy", at("14:01:40"))  # ended before started
    store.record_started(run_id, d2.call_id, at("14:01:02"))  # late start, changes nothing
    store.record_ended(run_id, d1.call_id, "Completed", at("14:00:50"))
    store.record_ended(run_id, d1.call_id, "Completed", at("14:00:50"))  # exact duplicate
    store.record_ended(run_id, d1.call_id, "completed", at("14:00:50"))  # same, spelled otherwise
    store.record_ended(run_id, d1.call_id, "Completed", at("14:00:51"))  # resent, other time
    store.record_ended(run_id, d1.call_id, "Busy", at("14:00:50"))  # a conflict: logged, refused
    info = store.info(run_id)
    assert info.inbox == 5 and info.next_wakeup is None  # due now, whatever the clock
    other = store.worker("b")
    (run,) = other.due(at("14:02:00"))
    assert run.poll(at("14:02:00")) != []  # both lines were freed by the webhooks
    events = list(store.events(run_id))[-6:]
    assert [e.kind for e in events] == ["ended", "started", "ended", "ended", "ended", "poll"]
    assert [e.note for e in events][:5] == [None, None, None, "duplicate", events[4].note]
    assert events[4].note is not None and events[4].note.startswith("rejected: call 1 was already")
    summary = run.summary
    assert summary.reached == 1 and summary.attempts == 2
    assert store.info(run_id).inbox == 0
    store.close()


def test_webhook_mistakes_are_refused_when_recorded(store_url: str) -> None:
    store = Store.open(store_url)
    run_id = store.create_run(CAMPAIGN, numbers(2))
    with pytest.raises(StoreError, match="no run 999"):
        store.record_ended(999, "1", "Busy", at("14:00:00"))
    with pytest.raises(StoreError, match="unknown outcome 'Sideways'"):
        store.record_ended(run_id, "1", "Sideways", at("14:00:00"))
    with pytest.raises(StoreError, match="aware datetime"):
        store.record_started(run_id, "1", datetime(2024, 3, 4, 14))
    with pytest.raises(StoreError, match="decimal string"):
        store.record_not_started(run_id, "call-1")
    assert store.info(run_id).inbox == 0
    # an id no Dial had: accepted (durable), then refused by the engine and logged
    store.record_started(run_id, "7", at("14:00:00"))
    (run,) = store.worker("w").due(FAR)
    run.poll(at("14:00:00"))
    first = next(iter(store.events(run_id)))
    assert (
        first.kind == "started"
        and first.note == "rejected: unknown call_id '7': no Dial had that id"
    )
    store.close()


def test_a_run_is_driven_by_one_worker_and_a_stale_one_cannot_write(store_url: str) -> None:
    clock = [1000.0]
    store_a, store_b = Store.open(store_url), Store.open(store_url)
    run_id = store_a.create_run(CAMPAIGN, numbers(4))
    a = store_a.worker("a", lease_seconds=30)
    b = store_b.worker("b", lease_seconds=30)
    a.clock = b.clock = lambda: clock[0]
    (run_a,) = a.due(FAR)
    assert b.due(FAR) == []  # held
    run_a.poll(at("14:00:00"))
    clock[0] += 31  # a stalls past its lease
    (run_b,) = b.due(FAR)
    assert [d.call_id for d in run_b.in_doubt()] == ["1"]
    position = store_b.info(run_id).position
    with pytest.raises(LeaseLost):
        run_a.poll(at("14:01:00"))
    with pytest.raises(LeaseLost):
        run_a.started("1", at("14:00:01"))
    assert not run_a.may_dial()
    assert store_b.info(run_id).position == position  # a wrote nothing
    run_b.started("1", at("14:00:01"))
    assert run_b.poll(at("14:01:00"))[0].call_id == "2"
    # a's own lease expired and b took the run: a finds nothing to do
    assert a.due(FAR) == []
    store_a.close()
    store_b.close()


def test_an_expired_lease_nobody_took_cannot_write_either(store_url: str) -> None:
    clock = [1000.0]
    store = Store.open(store_url)
    store.create_run(CAMPAIGN, numbers(2))
    worker = store.worker("a", lease_seconds=5)
    worker.clock = lambda: clock[0]
    (run,) = worker.due(FAR)
    clock[0] += 6
    with pytest.raises(LeaseLost, match="expiry passed"):
        run.poll(at("14:00:00"))
    (again,) = worker.due(FAR)  # taken again (a new generation), restored
    assert again is not run and again.gen == run.gen + 1
    assert again.poll(at("14:00:00"))[0].call_id == "1"
    store.close()


def test_bad_campaigns_and_customers_store_nothing(store_url: str) -> None:
    store = Store.open(store_url)
    with pytest.raises(ConfigError, match=r"customers\.2: '555-0100' is not an E\.164"):
        store.create_run(CAMPAIGN, ["+12125550100", "+12125550101", "555-0100"])
    with pytest.raises(ConfigError, match="callIntervalSeconds"):
        store.create_run({**CAMPAIGN, "callIntervalSeconds": 0}, [])
    assert store.run_ids() == []
    assert store.db.execute("SELECT COUNT(*) FROM callslots_customers")[0][0] == 0
    store.close()


def test_customers_stream_in_and_come_back_in_order(store_url: str) -> None:
    store = Store.open(store_url)
    count = 5003

    def generated() -> Any:
        for i in range(count):
            if i % 1000 == 7:
                yield {"phoneNumber": f"+1646555{i:04d}", "properties": {"n": i}}
            else:
                yield f"+1646555{i:04d}"

    run_id = store.create_run(CAMPAIGN, generated())
    assert store.info(run_id).customer_count == count
    got = list(store._customers(run_id, 0, count))
    assert got[0] == "+16465550000" and got[-1] == f"+1646555{count - 1:04d}"
    assert got[7].phone == "+16465550007" and got[7].properties == {"n": 7}  # type: ignore[attr-defined]
    store.close()


def test_schema_is_created_once_and_a_newer_one_refused(store_url: str) -> None:
    Store.open(store_url).close()
    store = Store.open(store_url)  # opening again migrates nothing
    assert store.db.execute("SELECT version FROM callslots_schema") == [(3,)]
    with store.db.transaction():
        store.db.execute("UPDATE callslots_schema SET version = 99")
    store.close()
    with pytest.raises(StoreError, match="schema version 99; this callslots reads version 3"):
        Store.open(store_url)


def _rows(store: Store, run_id: int) -> list[Any]:
    """Everything stored about a run except its lease fields."""
    db = store.db
    return [
        db.execute(
            "SELECT campaign, campaign_digest, customer_count, status, next_wakeup, position, "
            "snapshot_position FROM callslots_runs WHERE id = ?",
            (run_id,),
        ),
        db.execute("SELECT * FROM callslots_snapshots WHERE run_id = ?", (run_id,)),
        db.execute("SELECT * FROM callslots_events WHERE run_id = ? ORDER BY position", (run_id,)),
        db.execute("SELECT COUNT(*) FROM callslots_customers WHERE run_id = ?", (run_id,)),
    ]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("UPDATE callslots_snapshots SET body = '{not json' WHERE run_id = ?", "is not JSON"),
        (
            'UPDATE callslots_snapshots SET body = \'{"format": "somebody.else"}\' '
            "WHERE run_id = ?",
            "not a callslots dispatcher snapshot",
        ),
        (
            "UPDATE callslots_runs SET campaign = REPLACE(campaign, '\"maxConcurrency\":2', "
            "'\"maxConcurrency\":3') WHERE id = ?",
            "its campaign changed since the run was created",
        ),
        (
            "UPDATE callslots_events SET body = REPLACE(body, '[\"1\",0,1]', '[\"1\",1,1]') "
            "WHERE run_id = ?",
            "event 1 \\(poll\\) does not replay",
        ),
        (
            "UPDATE callslots_events SET body = '[1,{\"n\": 5}]' WHERE run_id = ?",
            "its log row at position 1 cannot be read",
        ),
    ],
    ids=[
        "corrupted-snapshot",
        "foreign-snapshot",
        "campaign-changed",
        "log-changed",
        "log-damaged",
    ],
)
def test_unreadable_runs_are_reported_and_left_untouched(
    store_url: str, damage: str, message: str
) -> None:
    store = Store.open(store_url)
    bad = store.create_run(CAMPAIGN, numbers(3))
    good = store.create_run(CAMPAIGN, numbers(3, 10))
    worker = store.worker("a")
    for run in worker.due(FAR):
        run.poll(at("14:00:00"))
    worker.forget()
    worker.release_all()
    with store.db.transaction():
        store.db.execute(damage, (bad,))
    before = _rows(store, bad)
    again = store.worker("b")
    runs = again.due(FAR)
    assert [r.id for r in runs] == [good]  # the good run goes on
    assert again.failed.keys() == {bad}
    assert f"run {bad}: " in again.failed[bad]
    assert _rows(store, bad) == before
    assert store.info(bad).lease_owner is None
    with pytest.raises(RunUnreadable, match=message):
        store.inspect(bad)
    assert again.due(FAR) == [runs[0]]  # not tried again by this worker
    store.close()


def test_a_foreign_snapshot_of_another_campaign_is_refused(store_url: str) -> None:
    store = Store.open(store_url)
    one = store.create_run(CAMPAIGN, numbers(3))
    other = store.create_run({**CAMPAIGN, "maxConcurrency": 1}, numbers(3))
    with store.db.transaction():
        body = store.db.execute("SELECT body FROM callslots_snapshots WHERE run_id = ?", (other,))
        store.db.execute(
            "UPDATE callslots_snapshots SET body = ? WHERE run_id = ?", (body[0][0], one)
        )
    with pytest.raises(RunUnreadable, match="taken on a different campaign"):
        store.inspect(one)
    store.close()


def test_snapshots_bound_the_replay_and_old_ones_are_dropped(store_url: str) -> None:
    store = Store.open(store_url, snapshot_every=4)
    run_id = store.create_run(CAMPAIGN, numbers(30))
    worker = store.worker("a", hold_seconds=10**9)
    now = at("14:00:00")
    for _ in range(13):
        for run in worker.due(FAR):
            for dial in run.poll(now):
                run.ended(dial.call_id, "Completed", dial.at + timedelta(seconds=30))
        now += timedelta(seconds=60)
    info = store.info(run_id)
    assert info.status == "active" and info.position == 13 * 2
    assert 0 < info.position - info.snapshot_position < 4
    kept = store.db.execute("SELECT position FROM callslots_snapshots WHERE run_id = ?", (run_id,))
    assert kept == [(info.snapshot_position,)]
    assert info.summary is not None and info.summary["reached"] >= 1
    store.close()


def test_commands_through_the_inbox(store_url: str) -> None:
    store = Store.open(store_url)
    run_id = store.create_run(CAMPAIGN, numbers(3))
    store.cancel(run_id, 1, "opted out")
    store.pause(run_id)
    worker = store.worker("a", hold_seconds=10**9)
    (run,) = worker.due(FAR)
    assert run.poll(at("14:00:00")) == [] and run.paused
    store.resume(run_id)
    assert store.add_customers(run_id, ["+12125559999"]) == (3, 4)
    (run,) = worker.due(FAR)
    (dial,) = run.poll(at("14:01:00"))
    assert dial.customer_index == 0
    run.ended(dial.call_id, "Completed", at("14:01:30"))
    seen = []
    now = at("14:02:00")
    while not run.finished:
        for dial in run.poll(now):
            seen.append(dial.customer_index)
            run.ended(dial.call_id, "Completed", dial.at + timedelta(seconds=30))
        now += timedelta(seconds=60)
    assert seen == [2, 3]  # 1 was cancelled; the added customer came last
    summary = run.summary
    assert summary.cancelled == 1 and summary.reached == 3
    assert store.info(run_id).status == "finished"
    store.close()


def test_dispatch_errors_from_the_holder_change_nothing(store_url: str) -> None:
    store = Store.open(store_url)
    run_id = store.create_run(CAMPAIGN, numbers(2))
    (run,) = store.worker("a").due(FAR)
    run.poll(at("14:00:00"))
    position = store.info(run_id).position
    with pytest.raises(DispatchError, match="unknown call_id"):
        run.started("9", at("14:00:00"))
    with pytest.raises(DispatchError, match="earlier than the previous poll"):
        run.poll(at("13:00:00"))
    assert store.info(run_id).position == position
    run.started("1", at("14:00:01"))  # the handle is still good
    assert store.info(run_id).position == position + 1
    store.close()


def test_store_urls_are_checked() -> None:
    with pytest.raises(StoreError, match="must start with sqlite:/// or postgresql://"):
        Store.open("mysql://x")
    with pytest.raises(StoreError, match="one SQLite option is"):
        Store.open("sqlite:///x.db?journal=off")


def test_the_example_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/cli.db?synchronous=normal"
    calls = str(tmp_path / "calls.db")
    assert store_service.main(["create", "--store", url, "--runs", "2", "--customers", "5"]) == 0
    assert store_service.main(["work", "--store", url, "--telephony", calls, "--until-idle"]) == 0
    capsys.readouterr()
    assert store_service.main(["report", "--store", url, "--telephony", calls]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["twice"] == 0 and all(r["finished"] for r in result["runs"].values())
    assert store_service.main(["stats", "--store", url]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["runs"] == {"finished": 2} and stats["due"] == 0 and stats["in_doubt"] == 0
    assert stats["leases"] == {} and stats["unreadable"] == {}
    assert store_service.main(["report", "--store", "nosuch://x", "--telephony", calls]) == 2


def test_the_worked_example_in_docs_store_md(capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "docs" / "store.md").read_text(encoding="utf-8")
    section = text.split("## A worked example", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    shown = re.search(r"```text\n(.*?)```", section, re.S)
    assert code is not None and shown is not None
    exec(compile(code.group(1), "docs/store.md", "exec"), {"__name__": "docs_store"})
    assert capsys.readouterr().out == shown.group(1)


def test_a_replay_across_a_snapshot_with_unconfirmed_calls_is_exact(store_url: str) -> None:
    """A snapshot taken while a Dial is unconfirmed, then the Dial expires: a
    restore from that snapshot must replay the expiry as it happened (the call
    was not in doubt for the engine that logged it), and only then put what is
    still unconfirmed in doubt."""
    store = Store.open(store_url, snapshot_every=3)
    run_id = store.create_run({**CAMPAIGN, "maxCallSeconds": 600}, numbers(6))
    worker = store.worker("a", hold_seconds=10**9)
    (run,) = worker.due(FAR)
    assert [d.call_id for d in run.poll(at("14:00:00"))] == ["1"]
    assert [d.call_id for d in run.poll(at("14:01:00"))] == ["2"]
    run.started("2", at("14:01:01"))
    assert store.info(run_id).snapshot_position == 3  # call 1 unconfirmed in it
    assert [d.call_id for d in run.poll(at("14:10:00"))] == ["3"]  # 1 expired at 14:10
    assert [(a.customer_index, a.attempt) for a in run.expired()] == [(0, 1)]
    assert store.info(run_id).snapshot_position == 3  # the restore replays the expiry
    live = [d.call_id for d in run.in_progress()]
    worker.forget()
    (again,) = worker.due(FAR)
    assert worker.failed == {}
    assert [d.call_id for d in again.in_progress()] == live == ["2", "3"]
    assert [d.call_id for d in again.in_doubt()] == ["3"]  # unconfirmed at the takeover
    assert again.summary.expired == 1
