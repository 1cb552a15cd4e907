"""Write less per dial (issue 21, section 3; docs/store.md, "Database size" and
"Retention"): one compact log row per write that reads back the same events,
a held run's writes that change no indexed column (PostgreSQL updates them in
place), the archive of a finished run's log, and a database made by schema 2
that still opens and runs."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callslots import Campaign, Dispatcher
from callslots.store import Event, Store, StoreError, _db, _log, read_archive
from callslots.store.store import look_ahead
from store_support import CAMPAIGN, ROOT, UTC, postgres_server, store_url

__all__ = ["postgres_server", "store_url"]

OUTCOMES = ["No Answer", "Completed", "Busy", "Completed", "voicemail"]


def at(clock: str) -> datetime:
    return datetime.fromisoformat(f"2024-03-04T{clock}+00:00")


def numbers(count: int, base: int = 0) -> list[str]:
    return [f"+1212555{base + i:04d}" for i in range(count)]


def drive(store: Store, run_id: int, now: datetime, *, until_finished: bool = True) -> datetime:
    """Poll the run a slot at a time, each Dial answered through the inbox (as a
    web process would), with a duplicate webhook now and then, until it is
    finished.  Returns the instant after the last poll."""
    worker = store.worker("w", hold_seconds=10**9)
    k = 0
    for _ in range(2000):
        if until_finished and store.info(run_id).status == "finished":
            break
        for run in worker.due(now):
            for dial in run.poll(now):
                store.record_started(run_id, dial.call_id, dial.at + timedelta(seconds=2))
                end = dial.at + timedelta(seconds=30)
                outcome = OUTCOMES[k % len(OUTCOMES)]
                store.record_ended(run_id, dial.call_id, outcome, end)
                if k % 4 == 1:  # the provider sends it again, and again a second later
                    store.record_ended(run_id, dial.call_id, outcome, end)
                    store.record_ended(run_id, dial.call_id, outcome, end + timedelta(seconds=1))
                if k % 7 == 3:  # and a conflicting one
                    store.record_ended(run_id, dial.call_id, "Protocol Error", end)
                k += 1
        now += timedelta(seconds=60)
        if not until_finished:
            break
    worker.release_all()
    return now


# -- the compact rows ------------------------------------------------------------

_call = st.integers(0, 10**6).map(str)
_instant = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat()),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])).map(
        lambda t: t.replace(microsecond=0).isoformat()
    ),
    st.text(max_size=5),
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
_events = st.one_of(
    st.builds(
        lambda now, us, lease, dials, expired: (
            "poll",
            {
                "now": now,
                "lease": lease,
                "dials": dials,
                "expired": expired,
                **({"us": us} if us else {}),
            },
        ),
        st.integers(-(2**40), 2**40),
        st.integers(0, 999_999),
        st.integers(0, 3),
        st.lists(st.tuples(_call, st.integers(0, 99), st.integers(1, 3)).map(list), max_size=3),
        st.lists(st.tuples(st.integers(0, 99), st.integers(1, 3)).map(list), max_size=2),
    ),
    st.builds(
        lambda call, outcome, t: ("ended", {"call": call, "outcome": outcome, "at": t}),
        _call,
        st.sampled_from([*_log.OUTCOMES, "Odd", ""]),
        _instant,
    ),
    st.builds(lambda call, t: ("started", {"call": call, "at": t}), _call, _instant),
    st.tuples(
        st.sampled_from(["not_started", "cancel", "callback", "pause", "resume", "add", "poll"]),
        st.dictionaries(st.sampled_from(["call", "reason", "customer", "at", "now"]), _json),
    ),
)


@given(
    st.integers(0, 3),
    st.lists(
        st.tuples(_events, st.none() | st.sampled_from(["duplicate", "late", "rejected: x"])),
        min_size=1,
        max_size=6,
    ),
)
def test_a_compact_row_reads_back_every_event_as_it_was_logged(
    lease: int, items: list[tuple[tuple[str, dict[str, Any]], str | None]]
) -> None:
    """Lossless whatever the event: a short form is used only when it reads back
    the same (keys in order, as one-event rows read back)."""
    events = [(kind, body, note) for (kind, body), note in items]
    back = _log.decode(_log.encode(lease, events))
    assert back == [(k, dict(sorted(b.items())), n) for k, b, n in events]
    assert [list(b) for _, b, _ in back] == [sorted(b) for _, b, _ in events]


def test_a_write_is_one_row_and_the_log_reads_as_before(store_url: str) -> None:
    store = Store.open(store_url)
    run_id = store.create_run(CAMPAIGN, numbers(8))
    drive(store, run_id, at("14:00:00.500000"))
    db = store.db
    rows = db.execute(
        "SELECT position, kind, body FROM callslots_events WHERE run_id = ? ORDER BY position",
        (run_id,),
    )
    events = list(store.events(run_id))
    assert [e.position for e in events] == list(range(1, store.info(run_id).position + 1))
    # one row a write; a poll that handed out nothing and closed nothing is
    # logged with the next write (with the webhooks it applied), so each row
    # but the run's last ends with a poll that handed out a Dial
    assert {kind for _, kind, _ in rows} == {_log.BATCH}
    for _, _, body in rows[:-1]:
        last = _log.decode(body)[-1]
        assert last[0] == "poll" and last[1]["dials"], body
    assert sum(e.kind == "poll" and not e.body["dials"] for e in events) > 0
    # every event as the API gave it before schema 3 (sorted keys, the same fields)
    for e in events:
        if e.kind == "poll":
            assert set(e.body) <= {"now", "lease", "dials", "expired", "us"}
            assert {"now", "lease", "dials", "expired"} <= set(e.body) and e.body["us"] == 500000
        elif e.kind == "ended":
            assert list(e.body) == ["at", "call", "outcome"]
            assert datetime.fromisoformat(e.body["at"]).tzinfo is not None
    notes = {(e.note or "")[:9] for e in events if e.kind == "ended"}
    assert notes == {"", "duplicate", "rejected:"}
    # smaller than the one-event rows of schema 2 (their bodies and notes), here
    # about half (started webhooks, duplicates and their notes included)
    compact = sum(len(body) for _, _, body in rows)
    one_a_row = sum(
        len(json.dumps(e.body, separators=(",", ":"))) + len(e.note or "") for e in events
    )
    assert compact < 0.6 * one_a_row
    # events(after) starts inside a row when asked to
    for after in range(len(events)):
        assert [e.position for e in store.events(run_id, after)][:1] == [after + 1]
    store.close()


def test_a_held_runs_writes_are_heap_only_updates_on_postgresql(store_url: str) -> None:
    """The poll and the webhooks of a held run change no indexed column, so
    PostgreSQL writes them as HOT updates (no index entry, old versions pruned
    in the page without VACUUM)."""
    if not store_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL storage property")
    store = Store.open(store_url)
    run_id = store.create_run(CAMPAIGN, numbers(100))
    worker = store.worker("w", hold_seconds=10**9, lease_seconds=3600)
    (run,) = worker.due(at("14:00:00"))
    db = store.db

    def counts() -> tuple[int, int]:
        db.execute("SELECT pg_stat_force_next_flush()")  # this session's counts, now
        db.execute("SELECT pg_stat_clear_snapshot()")
        rows = db.execute(
            "SELECT n_tup_hot_upd, n_tup_upd FROM pg_stat_user_tables "
            "WHERE relname = 'callslots_runs'"
        )
        return int(rows[0][0]), int(rows[0][1])

    hot0, updates0 = counts()
    now = at("14:00:00")
    for _ in range(30):
        for dial in run.poll(now):
            store.record_ended(run_id, dial.call_id, "No Answer", dial.at)
        now += timedelta(seconds=60)
    hot, updates = counts()
    hot, updates = hot - hot0, updates - updates0
    assert updates >= 50 and hot == updates
    store.close()


# -- retention ------------------------------------------------------------------


def _replay(archive_campaign: dict[str, Any], phones: list[str], events: list[Event]) -> Any:
    """A new engine fed the archived events in order: the Dials each poll hands
    out, and the totals at the end (an oracle independent of the store's
    restore: no snapshot is read)."""
    engine = Dispatcher(Campaign.from_dict(archive_campaign), phones)
    look_ahead(engine)
    for e in events:
        if e.note is not None and e.note.startswith("rejected"):
            continue
        b = e.body
        if e.kind == "poll":
            now = datetime.fromtimestamp(b["now"], UTC) + timedelta(microseconds=b.get("us", 0))
            dials = [[d.call_id, d.customer_index, d.attempt] for d in engine.poll(now)]
            assert dials == b["dials"], e
        elif e.kind == "started":
            engine.started(b["call"], datetime.fromisoformat(b["at"]))
        elif e.kind == "ended":
            engine.ended(b["call"], b["outcome"], datetime.fromisoformat(b["at"]))
        elif e.kind == "cancel":
            engine.cancel(b["customer"], b["reason"])
        else:
            raise AssertionError(e)
        look_ahead(engine)
    return engine


def test_an_archive_restores_the_runs_history(store_url: str, tmp_path: Path) -> None:
    store = Store.open(store_url, snapshot_every=7)
    phones = numbers(9)
    run_id = store.create_run(CAMPAIGN, phones, name="archived")
    keep = store.create_run(CAMPAIGN, numbers(3, 50))
    store.cancel(run_id, 8, "opted out")
    with pytest.raises(StoreError, match=f"run {run_id} is not finished"):
        store.archive_run(run_id, tmp_path / "early.jsonl")
    drive(store, run_id, at("14:00:00"))
    info = store.info(run_id)
    assert info.status == "finished"
    before = list(store.events(run_id))
    summary = store.inspect(run_id).summary
    others = list(store.events(keep))

    path = tmp_path / "run.jsonl"
    assert store.archive_run(run_id, path) == len(before) == info.position
    # deleted from the database; the row, customers and final snapshot stay
    assert list(store.events(run_id)) == []
    assert store.info(run_id) == info
    assert store.inspect(run_id).summary == summary
    assert list(store.events(keep)) == others  # other runs untouched
    # restores: the same events, and replayed on a new engine they hand out the
    # same Dials and end with the same totals
    archive = read_archive(path)
    assert archive.events == before
    assert archive.run["summary"] == info.summary | {"position": info.position}
    assert [phone for _, phone, _ in archive.customers] == phones
    assert _replay(archive.run["campaign"], phones, archive.events).summary == summary
    # and into a store again, as a new run with the same log
    again = store.restore_run(path)
    assert list(store.events(again)) == before
    assert store.inspect(again).summary == summary
    assert store.info(again).summary == info.summary
    # a damaged or cut-short file is refused, naming the line
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    with pytest.raises(StoreError, match="cut short"):
        read_archive(io.StringIO("".join(lines[:-1])))
    with pytest.raises(StoreError, match=f"archive line {len(lines) - 1}: "):
        read_archive(io.StringIO("".join([*lines[:-2], "{not json\n", *lines[-1:]])))
    store.close()


# -- a database made by schema 2 --------------------------------------------------

# The tables of schema 2 (callslots before this change), frozen here.
SCHEMA_2 = """
CREATE TABLE callslots_runs (
    id {ID}, name TEXT, campaign TEXT NOT NULL, campaign_digest TEXT NOT NULL,
    customer_count {INT} NOT NULL, status TEXT NOT NULL, next_wakeup {INT},
    position {INT} NOT NULL DEFAULT 0, snapshot_position {INT} NOT NULL DEFAULT 0,
    lease_owner TEXT, lease_gen {INT} NOT NULL DEFAULT 0,
    lease_expires {REAL} NOT NULL DEFAULT 0, created_at {REAL} NOT NULL, summary TEXT,
    takeovers {INT} NOT NULL DEFAULT 0, unreadable TEXT
);
CREATE INDEX callslots_runs_free ON callslots_runs (next_wakeup)
    WHERE lease_owner IS NULL AND next_wakeup IS NOT NULL;
CREATE INDEX callslots_runs_held ON callslots_runs (lease_owner, next_wakeup)
    WHERE lease_owner IS NOT NULL;
CREATE INDEX callslots_runs_lease ON callslots_runs (lease_expires)
    WHERE lease_owner IS NOT NULL;
CREATE TABLE callslots_customers (
    run_id {INT} NOT NULL, idx {INT} NOT NULL, phone TEXT NOT NULL, properties TEXT,
    PRIMARY KEY (run_id, idx)
){COMPACT};
CREATE TABLE callslots_snapshots (
    run_id {INT} NOT NULL, position {INT} NOT NULL, customer_count {INT} NOT NULL,
    body TEXT NOT NULL, taken_at {REAL} NOT NULL, PRIMARY KEY (run_id, position)
){COMPACT};
CREATE TABLE callslots_events (
    run_id {INT} NOT NULL, position {INT} NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
    note TEXT, PRIMARY KEY (run_id, position)
){COMPACT};
CREATE TABLE callslots_inbox (
    id {ID}, run_id {INT} NOT NULL, kind TEXT NOT NULL, call_id TEXT, body TEXT NOT NULL,
    received_at {REAL} NOT NULL
);
CREATE UNIQUE INDEX callslots_inbox_once ON callslots_inbox (run_id, kind, call_id, body);
CREATE INDEX callslots_inbox_run ON callslots_inbox (run_id, id);
CREATE TABLE callslots_schema (version {INT} NOT NULL)
"""
TYPES = {
    "sqlite": {"ID": "INTEGER PRIMARY KEY AUTOINCREMENT", "INT": "INTEGER", "REAL": "REAL"},
    "postgresql": {"ID": "BIGSERIAL PRIMARY KEY", "INT": "BIGINT", "REAL": "DOUBLE PRECISION"},
}


def make_schema_2(url: str, *, version: int = 2) -> dict[str, Any]:
    """The database tests/data/store_v2.json holds: written by callslots at
    schema 2 (a run of 6 customers mid-way, one-event log rows, two webhooks
    waiting in its inbox), loaded into fresh tables of schema 2."""
    data: dict[str, Any] = json.loads((ROOT / "tests" / "data" / "store_v2.json").read_text())
    db = _db.connect(url)
    compact = " WITHOUT ROWID" if db.kind == "sqlite" else ""
    with db.transaction():
        for statement in SCHEMA_2.format(COMPACT=compact, **TYPES[db.kind]).split(";"):
            db.execute(statement)
        for table, content in data["tables"].items():
            columns = content["columns"]
            marks = ", ".join("?" for _ in columns)
            db.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                [tuple(row) for row in content["rows"]],
            )
        if db.kind == "postgresql":
            for table in ("callslots_runs", "callslots_inbox"):
                db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
        if version == 1:
            db.execute("ALTER TABLE callslots_runs DROP COLUMN takeovers")
            db.execute("ALTER TABLE callslots_runs DROP COLUMN unreadable")
            db.execute("UPDATE callslots_schema SET version = 1")
    db.close()
    return data


def test_a_schema_2_database_opens_and_its_run_goes_on(store_url: str) -> None:
    data = make_schema_2(store_url)
    old = [Event(p, k, b, n) for p, k, b, n in data["events"]]
    store = Store.open(store_url)
    assert store.db.execute("SELECT version FROM callslots_schema") == [(3,)]
    (run_id,) = store.run_ids()
    info = store.info(run_id)
    assert (info.position, info.inbox, info.name) == (14, 2, "made by schema 2")
    assert list(store.events(run_id)) == old  # the old rows read as they were
    # a worker restores it (snapshot 0, then the 14 one-event rows) and applies
    # the two webhooks that waited in the inbox; the call the old worker left
    # unanswered (in doubt now) ends, and the run goes on to its end
    worker = store.worker("new")
    (run,) = worker.due(at("14:10:00"))
    assert [d.call_id for d in run.in_doubt()] == ["5"]
    store.record_ended(run_id, "5", "Busy", at("14:05:30"))
    worker.release_all()
    drive(store, run_id, at("14:10:00"))
    events = list(store.events(run_id))
    assert events[:14] == old and store.info(run_id).status == "finished"
    assert [e.kind for e in events[14:16]] == ["cancel", "ended"]  # the inbox, first
    # a restore reads the old rows and the compact ones behind them alike
    inspected = store.inspect(run_id)
    assert inspected.finished and inspected.summary == _replay_v2(data, events).summary
    # new runs beside it
    fresh = store.create_run(CAMPAIGN, numbers(2, 100))
    drive(store, fresh, at("14:30:00"))
    assert store.info(fresh).status == "finished"
    store.close()


def _replay_v2(data: dict[str, Any], events: list[Event]) -> Any:
    (row,) = data["tables"]["callslots_runs"]["rows"]
    columns = data["tables"]["callslots_runs"]["columns"]
    campaign = json.loads(row[columns.index("campaign")])
    phones = [r[2] for r in data["tables"]["callslots_customers"]["rows"]]
    return _replay(campaign, phones, events)


def test_a_schema_1_database_is_migrated_through_2(store_url: str) -> None:
    make_schema_2(store_url, version=1)
    store = Store.open(store_url)
    assert store.db.execute("SELECT version FROM callslots_schema") == [(3,)]
    assert store.db.execute("SELECT takeovers, unreadable FROM callslots_runs") == [(0, None)]
    assert store.stats(at("14:10:00")).takeovers == 0
    store.close()


def test_a_poll_that_changes_nothing_is_logged_with_the_next_write(store_url: str) -> None:
    """The webhook a poll applies without handing anything out stays in the inbox
    (not counted as waiting) until the run's next logged write; a crash before
    that loses nothing: the next holder applies it from the inbox."""
    store = Store.open(store_url)
    campaign = {**CAMPAIGN, "maxConcurrency": 1}
    run_id = store.create_run(campaign, numbers(5))
    clock = [1000.0]
    worker = store.worker("a", hold_seconds=10**9, lease_seconds=30)
    worker.clock = lambda: clock[0]
    (run,) = worker.due(at("14:00:00"))
    (dial,) = run.poll(at("14:00:00"))
    store.record_ended(run_id, dial.call_id, "No Answer", at("14:00:20"))
    assert store.info(run_id).inbox == 1 and store.stats(at("14:00:21"), wall=clock[0]).inbox == 1
    (run,) = worker.due(at("14:00:21"))
    assert run.poll(at("14:00:21")) == []  # the line is free, the next slot is 14:01
    position = store.info(run_id).position
    rows = store.db.execute("SELECT COUNT(*) FROM callslots_inbox")[0][0]
    assert (position, rows) == (1, 1)  # not logged, still in the table
    info, stats = store.info(run_id), store.stats(at("14:00:21"), wall=clock[0])
    assert info.inbox == 0 and stats.inbox == 0 and stats.inbox_oldest_seconds is None
    assert info.next_wakeup == at("14:01:00") and worker.due(at("14:00:30")) == []
    assert run.summary.attempts == 1  # applied in the engine

    # the holder dies here; another worker takes the run when the lease runs out
    worker.forget()
    clock[0] += 31
    other = store.worker("b", hold_seconds=10**9)
    other.clock = lambda: clock[0]
    (again,) = other.due(at("14:01:00"))
    assert store.db.execute("SELECT COUNT(*) FROM callslots_inbox")[0][0] == 0
    (second,) = again.poll(at("14:01:00"))
    kinds = [(e.kind, e.body.get("call")) for e in store.events(run_id)]
    assert kinds == [("poll", None), ("ended", dial.call_id), ("poll", None)]
    assert second.customer_index == 1
    store.record_ended(run_id, second.call_id, "Completed", at("14:01:20"))
    (again,) = other.due(at("14:01:21"))
    assert again.poll(at("14:01:21")) == []
    (again,) = other.due(at("14:02:00"))
    assert len(again.poll(at("14:02:00"))) == 1
    # logged with this write: the webhook, the poll that handed out nothing, the Dial
    tail = [(e.kind, e.body.get("call"), e.body.get("now")) for e in store.events(run_id, 3)]
    assert tail == [
        ("ended", second.call_id, None),
        ("poll", None, int(at("14:01:21").timestamp())),
        ("poll", None, int(at("14:02:00").timestamp())),
    ]
    assert store.db.execute("SELECT COUNT(*) FROM callslots_inbox")[0][0] == 0
    # a restore replays it all to the same engine
    assert store.inspect(run_id).summary == again.summary
    store.close()


def test_workers_vacuum_the_inbox_on_postgresql(store_url: str) -> None:
    """After deleting inbox rows, a worker's due() vacuums the inbox, at most every
    INBOX_VACUUM_SECONDS of its clock (autovacuum comes once a minute at best)."""
    if not store_url.startswith("postgresql"):
        pytest.skip("SQLite reuses a deleted row's space by itself")
    from callslots.store.store import INBOX_VACUUM_SECONDS

    store = Store.open(store_url)
    run_id = store.create_run(CAMPAIGN, numbers(20))
    clock = [1000.0]
    worker = store.worker("w", hold_seconds=10**9, lease_seconds=3600)
    worker.clock = lambda: clock[0]
    db = store.db

    def vacuums() -> int:
        db.execute("SELECT pg_stat_clear_snapshot()")
        rows = db.execute(
            "SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'callslots_inbox'"
        )
        return int(rows[0][0])

    now = at("14:00:00")

    def slot() -> None:
        """The next slot's Dials (which logs, and deletes, the webhooks of the
        last ones), each answered through the inbox."""
        nonlocal now
        (run,) = worker.due(now)
        dials = run.poll(now)
        assert dials
        for dial in dials:
            store.record_ended(run_id, dial.call_id, "Busy", dial.at)
        now += timedelta(seconds=60)

    slot()
    assert vacuums() == 0  # nothing deleted yet: no VACUUM
    slot()
    clock[0] += INBOX_VACUUM_SECONDS / 2
    worker.due(now)
    assert vacuums() == 1  # the first time at once
    slot()
    worker.due(now)
    assert vacuums() == 1  # not again within INBOX_VACUUM_SECONDS
    clock[0] += INBOX_VACUUM_SECONDS
    worker.due(now)
    assert vacuums() == 2
    store.close()
