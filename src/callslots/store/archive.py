"""Archiving a finished run's log as JSON Lines (docs/store.md, "Retention").

:meth:`Store.archive_run` writes a run's row, customers, final snapshot and
every event to a file and then deletes the events from the database;
:func:`read_archive` reads such a file back and :meth:`Store.restore_run` puts
it into a store again as a new run.  The file is UTF-8 JSON, one object a line:

* ``{"format": "callslots.run-archive", "version": 1, "run": {...}}``: the run's
  row (``id``, ``name``, ``status``, ``campaign`` as an object,
  ``campaign_digest``, ``customer_count``, ``created_at``, ``position``,
  ``snapshot_position``, ``summary``);
* ``{"customer": [index, phone, properties]}`` for each customer, in order;
* ``{"snapshot": {"position", "customer_count", "body", "taken_at"}}``;
* ``{"event": [position, kind, body, note]}`` for each event, in order;
* ``{"end": {"customers": n, "events": m}}``: a file without it was cut short.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from ..snapshots import digest
from ._log import BATCH, encode
from .errors import StoreError

if TYPE_CHECKING:
    from .store import Event, Store

__all__ = ["FORMAT", "RunArchive", "archive_run", "read_archive", "restore_run"]

FORMAT = "callslots.run-archive"
VERSION = 1


@dataclass(frozen=True, slots=True)
class RunArchive:
    """A run read back from an archive: ``run`` (its row, as written),
    ``customers`` (``(index, phone, properties)``), ``snapshot`` (the final one)
    and ``events`` (every :class:`~callslots.store.Event`, positions 1 to
    ``run["position"]``)."""

    run: dict[str, Any]
    customers: list[tuple[int, str, dict[str, Any] | None]]
    snapshot: dict[str, Any]
    events: list[Event]


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _opened(file: str | os.PathLike[str] | IO[str], mode: str) -> tuple[IO[str], bool]:
    if isinstance(file, str | os.PathLike):
        try:
            return open(file, mode, encoding="utf-8"), True  # the caller closes it
        except (OSError, ValueError) as error:  # ValueError: a NUL in the path
            shown = repr(os.fspath(file))
            shown = shown if len(shown) <= 60 else f"{shown[:50]}..."
            raise StoreError(f"cannot open the archive {shown}: {error}") from None
    if not hasattr(file, "write" if mode == "w" else "readline"):
        raise StoreError(f"an archive is a path or a text file, not {type(file).__name__}")
    return file, False


def archive_run(store: Store, run_id: int, file: str | os.PathLike[str] | IO[str]) -> int:
    """See :meth:`Store.archive_run`."""
    db = store.db
    rows = db.execute(
        "SELECT id, name, status, campaign, campaign_digest, customer_count, created_at, "
        "position, snapshot_position, summary, lease_owner, lease_expires, "
        "(SELECT COUNT(*) FROM callslots_inbox i WHERE i.run_id = r.id) "
        "FROM callslots_runs r WHERE id = ?",
        (run_id,),
    )
    if not rows:
        raise StoreError(f"no run {run_id!r} in this store")
    (rid, name, status, campaign, digest, count, created, position, snap, summary) = rows[0][:10]
    inbox = int(rows[0][12])
    if status != "finished" or int(snap) != int(position) or inbox:
        raise StoreError(
            f"run {run_id} is not finished (status {status}, {inbox} webhooks waiting, "
            f"snapshot at {snap} of {position} events): only a finished run is archived"
        )
    position = int(position)
    out, close = _opened(file, "w")
    events = 0
    try:
        run = {
            "id": int(rid),
            "name": name,
            "status": status,
            "campaign": json.loads(campaign),
            "campaign_digest": digest,
            "customer_count": int(count),
            "created_at": float(created),
            "position": position,
            "snapshot_position": int(snap),
            "summary": None if summary is None else json.loads(summary),
        }
        out.write(_dump({"format": FORMAT, "version": VERSION, "run": run}) + "\n")
        written = 0
        for index, phone, properties in _customer_rows(store, run_id):
            props = None if properties is None else json.loads(properties)
            out.write(_dump({"customer": [index, phone, props]}) + "\n")
            written += 1
        found = db.execute(
            "SELECT position, customer_count, body, taken_at FROM callslots_snapshots "
            "WHERE run_id = ? ORDER BY position DESC LIMIT 1",
            (run_id,),
        )
        if not found or int(found[0][0]) != position:
            raise StoreError(f"run {run_id} has no snapshot at its last position {position}")
        p, c, body, taken = found[0]
        snapshot = {
            "position": int(p),
            "customer_count": int(c),
            "body": json.loads(body),
            "taken_at": float(taken),
        }
        out.write(_dump({"snapshot": snapshot}) + "\n")
        for event in store._events(run_id, 0):
            if event.position > position:
                break
            if event.position != events + 1:
                raise StoreError(f"run {run_id}: event {events + 1} is missing from the log")
            out.write(_dump({"event": [event.position, event.kind, event.body, event.note]}))
            out.write("\n")
            events += 1
        if events != position:
            raise StoreError(f"run {run_id}: the log ends at {events}, the run says {position}")
        out.write(_dump({"end": {"customers": written, "events": events}}) + "\n")
        out.flush()
        if close:
            os.fsync(out.fileno())
    finally:
        if close:
            out.close()
    with db.transaction():
        again = db.execute(
            f"SELECT position FROM callslots_runs WHERE id = ?{db.for_update}", (run_id,)
        )
        waiting = db.execute("SELECT 1 FROM callslots_inbox WHERE run_id = ? LIMIT 1", (run_id,))
        if int(again[0][0]) != position or waiting:
            raise StoreError(
                f"run {run_id} moved while it was archived (a webhook came): the file holds "
                f"its log to position {position}; nothing was deleted"
            )
        db.execute(
            "DELETE FROM callslots_events WHERE run_id = ? AND position <= ?", (run_id, position)
        )
    return events


def _customer_rows(store: Store, run_id: int) -> Iterator[tuple[int, str, str | None]]:
    after = -1
    while True:
        rows = store.db.execute(
            "SELECT idx, phone, properties FROM callslots_customers WHERE run_id = ? AND idx > ? "
            "ORDER BY idx LIMIT 2000",
            (run_id, after),
        )
        for idx, phone, properties in rows:
            yield int(idx), phone, properties
        if len(rows) < 2000:
            return
        after = int(rows[-1][0])


def read_archive(file: str | os.PathLike[str] | IO[str]) -> RunArchive:
    """A run archive read back (StoreError naming the line for a damaged or
    cut-short file)."""
    from .store import Event

    source, close = _opened(file, "r")
    run: dict[str, Any] | None = None
    customers: list[tuple[int, str, dict[str, Any] | None]] = []
    snapshot: dict[str, Any] | None = None
    events: list[Event] = []
    ended = False
    try:
        for number, line in enumerate(source, 1):
            try:
                item = json.loads(line)
                if ended:
                    raise ValueError("a line after the end")
                if number == 1:
                    if item.get("format") != FORMAT or item.get("version") != VERSION:
                        raise ValueError(f"not a {FORMAT} version {VERSION} file")
                    run = dict(item["run"])
                elif "customer" in item:
                    index, phone, properties = item["customer"]
                    customers.append((int(index), str(phone), properties))
                elif "snapshot" in item:
                    snapshot = dict(item["snapshot"])
                elif "event" in item:
                    position, kind, body, note = item["event"]
                    if position != len(events) + 1 or not isinstance(body, dict):
                        raise ValueError(f"event {len(events) + 1} expected")
                    events.append(Event(int(position), str(kind), body, note))
                elif "end" in item:
                    end = item["end"]
                    if end != {"customers": len(customers), "events": len(events)}:
                        raise ValueError(f"the end line says {end}")
                    ended = True
                else:
                    raise ValueError("an unknown line")
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                raise StoreError(f"archive line {number}: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StoreError(f"cannot read the archive: {error}") from None
    finally:
        if close:
            source.close()
    if run is None or snapshot is None or not ended:
        raise StoreError("the archive is cut short (no end line)")
    return RunArchive(run, customers, snapshot, events)


def restore_run(store: Store, file: str | os.PathLike[str] | IO[str]) -> int:
    """See :meth:`Store.restore_run`."""
    archive = read_archive(file)
    run, snap = archive.run, archive.snapshot
    try:
        row = (
            None if run["name"] is None else str(run["name"]),
            _dump(run["campaign"]),
            str(run["campaign_digest"]),
            int(run["customer_count"]),
            str(run["status"]),
            int(run["position"]),
            int(run["snapshot_position"]),
            float(run["created_at"]),
            None if run["summary"] is None else _dump(run["summary"]),
        )
        snapshot = (
            int(snap["position"]),
            int(snap["customer_count"]),
            _dump(snap["body"]),
            float(snap["taken_at"]),
        )
        if digest(run["campaign"]) != row[2]:
            raise ValueError("its campaign does not match its digest")
        if row[5] != len(archive.events) or snapshot[0] != row[5]:
            raise ValueError("its run, snapshot and events do not end at one position")
        customers = [
            (i, str(phone), None if props is None else _dump(props))
            for i, phone, props in archive.customers
        ]
        if [c[0] for c in customers] != list(range(len(customers))):
            raise ValueError("its customers are not numbered 0, 1, 2, ...")
        events = [
            (e.position, encode(_lease(e.body), [(e.kind, e.body, e.note)])) for e in archive.events
        ]
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise StoreError(f"the archive cannot be restored: {error}") from None
    db = store.db
    with db.transaction():
        new_id = int(
            db.execute(
                "INSERT INTO callslots_runs (name, campaign, campaign_digest, customer_count, "
                "status, next_wakeup, free_wakeup, position, snapshot_position, created_at, "
                "summary) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?) RETURNING id",
                row,
            )[0][0]
        )
        db.copy_rows(
            "callslots_customers",
            ("run_id", "idx", "phone", "properties"),
            ((new_id, *c) for c in customers),
        )
        db.execute(
            "INSERT INTO callslots_snapshots (run_id, position, customer_count, body, taken_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (new_id, *snapshot),
        )
        db.executemany(
            "INSERT INTO callslots_events (run_id, position, kind, body, note) "
            f"VALUES (?, ?, '{BATCH}', ?, NULL)",
            ((new_id, position, body) for position, body in events),
        )
    return new_id


def _lease(body: dict[str, Any]) -> int:
    """The lease generation a row holding this event is written under (a poll's
    own; any other event's does not matter)."""
    lease = body.get("lease", 0)
    return lease if isinstance(lease, int) and not isinstance(lease, bool) else 0
