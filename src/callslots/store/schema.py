"""The store's tables (docs/store.md, "The schema"), created and migrated by the store.

``callslots_schema`` holds one row, the schema version.  Opening a store creates
the tables when they are missing and refuses a database whose version is newer
than this callslots knows.  Every table name starts with ``callslots_`` so the
store can live in an application's own database.
"""

from __future__ import annotations

from ._db import Database
from .errors import StoreError

__all__ = ["VERSION", "migrate"]

#: The schema version this callslots writes and reads.  Version 2 added
#: ``callslots_runs.takeovers`` and ``callslots_runs.unreadable`` (store.stats()).
#: Version 3 writes compact log rows (one a write, ``_log.py``) and adds
#: ``callslots_runs.free_wakeup``, so that the writes of a held run change no
#: indexed column (PostgreSQL updates them in place: HOT), and
#: ``callslots_runs.inbox_applied`` (the last inbox row the holder applied in a
#: poll it did not log yet).
VERSION = 3

# Free runs are found by ``free_wakeup``, which only a release or a webhook for
# a run nobody holds changes (it equals ``next_wakeup`` while ``lease_owner`` is
# NULL); the holder's own runs by ``lease_owner`` (at most ``max_runs`` rows).
# So a held run's poll or webhook changes no indexed column.
_FREE_INDEX = (
    "CREATE INDEX callslots_runs_free ON callslots_runs (free_wakeup) "
    "WHERE lease_owner IS NULL AND free_wakeup IS NOT NULL"
)
_HELD_INDEX = (
    "CREATE INDEX callslots_runs_held ON callslots_runs (lease_owner) WHERE lease_owner IS NOT NULL"
)
# PostgreSQL: room on every page for the new versions of a run's row (an update
# that changes no indexed column and finds room on its page is HOT: no index
# entry, and the old version is pruned in place without VACUUM); the campaign
# moved out of line (TOAST), so that a version is a few hundred bytes; the live
# totals kept in the row, compressed.
_PG_RUNS = (
    "ALTER TABLE callslots_runs SET (fillfactor = 50, toast_tuple_target = 128)",
    "ALTER TABLE callslots_runs ALTER COLUMN summary SET STORAGE MAIN",
)

_TYPES = {
    "sqlite": {
        "ID": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "INT": "INTEGER",
        "REAL": "REAL",
        "COMPACT": " WITHOUT ROWID",
    },
    "postgresql": {
        "ID": "BIGSERIAL PRIMARY KEY",
        "INT": "BIGINT",
        "REAL": "DOUBLE PRECISION",
        "COMPACT": "",
    },
}

_TABLES = """
CREATE TABLE callslots_runs (
    id {ID},
    name TEXT,
    campaign TEXT NOT NULL,
    campaign_digest TEXT NOT NULL,
    customer_count {INT} NOT NULL,
    status TEXT NOT NULL,
    next_wakeup {INT},
    position {INT} NOT NULL DEFAULT 0,
    snapshot_position {INT} NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_gen {INT} NOT NULL DEFAULT 0,
    lease_expires {REAL} NOT NULL DEFAULT 0,
    created_at {REAL} NOT NULL,
    summary TEXT,
    takeovers {INT} NOT NULL DEFAULT 0,
    unreadable TEXT,
    free_wakeup {INT},
    inbox_applied {INT}
);
CREATE INDEX callslots_runs_free ON callslots_runs (free_wakeup)
    WHERE lease_owner IS NULL AND free_wakeup IS NOT NULL;
CREATE INDEX callslots_runs_held ON callslots_runs (lease_owner)
    WHERE lease_owner IS NOT NULL;
CREATE INDEX callslots_runs_lease ON callslots_runs (lease_expires)
    WHERE lease_owner IS NOT NULL;
CREATE TABLE callslots_customers (
    run_id {INT} NOT NULL,
    idx {INT} NOT NULL,
    phone TEXT NOT NULL,
    properties TEXT,
    PRIMARY KEY (run_id, idx)
){COMPACT};
CREATE TABLE callslots_snapshots (
    run_id {INT} NOT NULL,
    position {INT} NOT NULL,
    customer_count {INT} NOT NULL,
    body TEXT NOT NULL,
    taken_at {REAL} NOT NULL,
    PRIMARY KEY (run_id, position)
){COMPACT};
CREATE TABLE callslots_events (
    run_id {INT} NOT NULL,
    position {INT} NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (run_id, position)
){COMPACT};
CREATE TABLE callslots_inbox (
    id {ID},
    run_id {INT} NOT NULL,
    kind TEXT NOT NULL,
    call_id TEXT,
    body TEXT NOT NULL,
    received_at {REAL} NOT NULL
);
CREATE UNIQUE INDEX callslots_inbox_once ON callslots_inbox (run_id, kind, call_id, body);
CREATE TABLE callslots_schema (version {INT} NOT NULL);
"""


def migrate(db: Database) -> None:
    """Create the tables when they are missing; refuse a newer schema."""
    with db.transaction():
        if db.kind == "postgresql":
            # Two processes opening a new database at once: one creates, one waits.
            db.execute("SELECT pg_advisory_xact_lock(7411260513)")
            found = db.execute("SELECT to_regclass('callslots_schema') IS NOT NULL")[0][0]
        else:
            found = bool(
                db.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'callslots_schema'"
                )
            )
        if found:
            rows = db.execute("SELECT version FROM callslots_schema")
            version = rows[0][0] if rows else None
            if version == VERSION:
                return
            if version in (1, 2):
                if version == 1:
                    # Two columns with defaults: no row is rewritten by either database.
                    db.execute(
                        f"ALTER TABLE callslots_runs ADD COLUMN takeovers "
                        f"{_TYPES[db.kind]['INT']} NOT NULL DEFAULT 0"
                    )
                    db.execute("ALTER TABLE callslots_runs ADD COLUMN unreadable TEXT")
                _to_3(db)
                db.execute("UPDATE callslots_schema SET version = ?", (VERSION,))
                return
            if isinstance(version, int) and version > VERSION:
                raise StoreError(
                    f"the database has callslots store schema version {version}; this "
                    f"callslots reads version {VERSION}: upgrade callslots"
                )
            raise StoreError(f"the callslots_schema table holds {rows!r}, not a version")
        for statement in _TABLES.format(**_TYPES[db.kind]).split(";"):
            if statement.strip():
                db.execute(statement)
        if db.kind == "postgresql":
            for statement in _PG_RUNS:
                db.execute(statement)
        db.execute("INSERT INTO callslots_schema (version) VALUES (?)", (VERSION,))


def _to_3(db: Database) -> None:
    """Version 2 to 3: ``free_wakeup`` (the wake-up of free runs, indexed in
    place of ``next_wakeup``), the held runs indexed by owner alone, one index
    less on the inbox, and on
    PostgreSQL the storage settings of the runs table (new pages only).  The log
    rows written before stay as they are: one event a row, read as before."""
    db.execute(f"ALTER TABLE callslots_runs ADD COLUMN free_wakeup {_TYPES[db.kind]['INT']}")
    db.execute(f"ALTER TABLE callslots_runs ADD COLUMN inbox_applied {_TYPES[db.kind]['INT']}")
    db.execute("UPDATE callslots_runs SET free_wakeup = next_wakeup")
    db.execute("DROP INDEX callslots_runs_free")
    db.execute("DROP INDEX callslots_runs_held")
    db.execute(_FREE_INDEX)
    db.execute(_HELD_INDEX)
    # a run's inbox is found through callslots_inbox_once (run_id first)
    db.execute("DROP INDEX callslots_inbox_run")
    if db.kind == "postgresql":
        for statement in _PG_RUNS:
            db.execute(statement)
