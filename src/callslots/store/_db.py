"""The two databases behind :class:`callslots.store.Store`: one small interface.

SQLite (standard library ``sqlite3``) and PostgreSQL (``psycopg`` 3, imported
only when a ``postgresql://`` URL is opened) differ in four places that matter
here, and nowhere else: the parameter style, how a write transaction takes its
locks (``BEGIN IMMEDIATE`` takes SQLite's one write lock; PostgreSQL locks rows
with ``FOR UPDATE``, and ``SKIP LOCKED`` lets workers lease different runs at
once), the column types of the schema, and bulk loading (PostgreSQL ``COPY``).
Every SQL text in the store is written once with ``?`` placeholders.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import StoreError, StoreUnavailable

Row = tuple[Any, ...]

#: How long a SQLite connection waits for another process's write lock.
SQLITE_BUSY_SECONDS = 60.0


class Database:
    """One connection, in autocommit mode; writes go through :meth:`transaction`."""

    kind = ""
    #: Appended to a SELECT that must lock the rows it reads until the commit.
    for_update = ""
    #: The same, skipping rows another transaction holds.
    skip_locked = ""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[None]:
        raise NotImplementedError
        yield  # pragma: no cover

    def notify(self, payload: str) -> None:
        """Wake listening workers when the transaction commits (PostgreSQL
        ``NOTIFY``; SQLite has nothing of the kind: workers poll)."""

    def vacuum(self, table: str) -> None:
        """Reclaim the dead rows of ``table`` now (PostgreSQL ``VACUUM``, outside
        any transaction; SQLite reuses a deleted row's space by itself)."""

    def listener(self) -> Listener | None:
        """A new connection that waits for notifications; None on SQLite."""
        return None

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Insert many rows (streamed: never all in memory)."""
        marks = ", ".join("?" for _ in columns)
        self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def close(self) -> None:
        raise NotImplementedError


class SQLite(Database):
    kind = "sqlite"

    def __init__(self, path: str, synchronous: str = "full") -> None:
        self.path = path
        try:
            # isolation_level=None: autocommit, so BEGIN IMMEDIATE is ours to issue.
            # check_same_thread=False: the Store gives each thread its own
            # connection and only closes this one from another thread.
            self.conn = sqlite3.connect(
                path, timeout=SQLITE_BUSY_SECONDS, isolation_level=None, check_same_thread=False
            )
            # WAL: readers never wait for the writer; synchronous=FULL: a commit
            # is on disk when it returns (durable across a power cut, not only a crash).
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(f"PRAGMA synchronous={synchronous}")
            self.conn.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.Error, ValueError, OSError) as error:
            raise StoreUnavailable(f"cannot open the SQLite database {path!r}: {error}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as error:
            raise StoreUnavailable(f"SQLite {self.path!r}: {error}") from error
        except sqlite3.Error as error:
            raise StoreError(f"SQLite {self.path!r}: {error}") from error

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.OperationalError as error:
            raise StoreUnavailable(f"SQLite {self.path!r}: {error}") from error
        except sqlite3.Error as error:
            raise StoreError(f"SQLite {self.path!r}: {error}") from error

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock at BEGIN: two workers never both read
        # a run as free and then both take it.
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:
                self.conn.rollback()
            raise
        try:
            self.conn.commit()
        except sqlite3.Error as error:
            raise StoreUnavailable(f"SQLite {self.path!r}: commit failed: {error}") from error

    def close(self) -> None:
        self.conn.close()


class Postgres(Database):
    kind = "postgresql"
    for_update = " FOR UPDATE"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                "a postgresql:// store needs psycopg 3: pip install 'callslots[postgres]'"
            ) from None
        self._psycopg = psycopg
        self.url = url
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as error:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {error}") from None
        self._depth = 0

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def _fail(self, error: Exception) -> StoreError:
        errors = self._psycopg.errors
        lost = isinstance(error, self._psycopg.OperationalError) or self.conn.closed
        if isinstance(error, errors.AdminShutdown | errors.CannotConnectNow):
            lost = True
        message = f"PostgreSQL: {error}".strip()
        return StoreUnavailable(message) if lost else StoreError(message)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            cursor = self.conn.execute(self._sql(sql), params)
            return cursor.fetchall() if cursor.description is not None else []
        except self._psycopg.Error as error:
            raise self._fail(error) from error

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            with self.conn.cursor() as cursor:
                cursor.executemany(self._sql(sql), rows)
        except self._psycopg.Error as error:
            raise self._fail(error) from error

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self.conn.transaction():
                yield
        except self._psycopg.Error as error:
            raise self._fail(error) from error

    def notify(self, payload: str) -> None:
        self.execute("SELECT pg_notify(?, ?)", (CHANNEL, payload))

    def vacuum(self, table: str) -> None:
        # Only outside a transaction (VACUUM cannot run in one, and a failed
        # statement would abort it).  SKIP_LOCKED: when another worker is
        # vacuuming it, do not wait.  Not the table's owner: PostgreSQL warns and
        # skips it (autovacuum still runs).
        if self.conn.info.transaction_status == self._psycopg.pq.TransactionStatus.IDLE:
            self.execute(f"VACUUM (SKIP_LOCKED) {table}")

    def listener(self) -> Listener:
        return Listener(self._psycopg, self.url)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        try:
            with (
                self.conn.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        except self._psycopg.Error as error:
            raise self._fail(error) from error

    def close(self) -> None:
        self.conn.close()


#: The PostgreSQL channel of the store's notifications (payload: ``"run_id owner"``,
#: the owner empty when nobody holds the run's lease).
CHANNEL = "callslots"


class Listener:
    """A PostgreSQL connection of its own that ``LISTEN``s on :data:`CHANNEL`."""

    def __init__(self, psycopg: Any, url: str) -> None:
        self._psycopg = psycopg
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
            self.conn.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as error:
            raise StoreUnavailable(f"cannot listen on PostgreSQL: {error}") from None

    def wait(self, timeout: float) -> list[str]:
        """The payloads received within ``timeout`` seconds: returns at the first
        one (with any others already there), or empty at the timeout."""
        try:
            found = [n.payload for n in self.conn.notifies(timeout=timeout, stop_after=1)]
            # what else came meanwhile, without waiting
            found += [n.payload for n in self.conn.notifies(timeout=0)]
        except self._psycopg.Error as error:
            raise StoreUnavailable(f"PostgreSQL listener: {error}") from error
        return found

    def close(self) -> None:
        self.conn.close()


def connect(url: str) -> Database:
    """A connection for ``url``: ``sqlite:///relative.db``, ``sqlite:////abs/path.db``,
    ``sqlite:///:memory:`` or ``postgresql://...`` (any libpq URL)."""
    if not isinstance(url, str):
        raise StoreError(f"a store URL is a string, not {url!r}")
    if "\x00" in url:
        raise StoreError("a store URL must not contain a NUL character")
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        if not url.startswith("sqlite:///"):
            raise StoreError(
                f"{url!r}: a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db"
            )
        path, _, query = url[len("sqlite:///") :].partition("?")
        options = dict(parse_qsl(query, keep_blank_values=True))
        synchronous = options.pop("synchronous", "full").lower()
        if options or synchronous not in ("full", "normal", "extra"):
            raise StoreError(
                f"{url!r}: the one SQLite option is ?synchronous=full (the default), "
                "normal (durable when a process dies, not when the machine loses power) or extra"
            )
        return SQLite(unquote(path), synchronous)
    if scheme in ("postgresql", "postgres"):
        return Postgres(url)
    raise StoreError(f"{url!r}: the store URL must start with sqlite:/// or postgresql://")
