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
VERSION = 2

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
    unreadable TEXT
);
CREATE INDEX callslots_runs_free ON callslots_runs (next_wakeup)
    WHERE lease_owner IS NULL AND next_wakeup IS NOT NULL;
CREATE INDEX callslots_runs_held ON callslots_runs (lease_owner, next_wakeup)
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
CREATE INDEX callslots_inbox_run ON callslots_inbox (run_id, id);
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
            if version == 1:
                # Two columns with defaults: no row is rewritten by either database.
                db.execute(
                    f"ALTER TABLE callslots_runs ADD COLUMN takeovers {_TYPES[db.kind]['INT']} "
                    "NOT NULL DEFAULT 0"
                )
                db.execute("ALTER TABLE callslots_runs ADD COLUMN unreadable TEXT")
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
        db.execute("INSERT INTO callslots_schema (version) VALUES (?)", (VERSION,))
