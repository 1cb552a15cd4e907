"""Real databases for the store tests: a SQLite file, and a throwaway PostgreSQL
server started in a temporary directory (initdb + pg_ctl, a unix socket there,
no TCP), stopped after the tests.

The PostgreSQL tests are skipped, saying why, only when no server can be
started and CALLSLOTS_REQUIRE_POSTGRES is not set; .ci/run sets it, so CI fails
instead of skipping.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
REQUIRE = bool(os.environ.get("CALLSLOTS_REQUIRE_POSTGRES"))

UTC = timezone.utc
#: Far in the future: every run is due then.
FAR = datetime(9000, 1, 1, tzinfo=UTC)
#: The campaign of the store's tests (two days, a slot a minute, two lines).
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


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A PostgreSQL server of its own in ``base`` (a temporary directory)."""

    def __init__(self, *, fsync: bool = False) -> None:
        # fsync off by default: the tests kill clients, never the machine.
        self.fsync = fsync
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise RuntimeError("initdb was not found (on PATH or in /usr/lib/postgresql/*/bin)")
        self.bin = bin_dir
        self.base = Path(tempfile.mkdtemp(prefix="callslots-pg-"))
        self.data = self.base / "data"
        self.port = _free_port()
        # initdb refuses to run as root: run the server as the postgres user.
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no 'postgres' user") from None
            self.user = "postgres"
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")  # fmt: skip
        self.start()

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / tool), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = self.base / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{tool} failed: {result.stdout}{result.stderr}{tail}")
        return result

    def start(self) -> None:
        options = f"-k {self.base} -p {self.port} -c listen_addresses='' -c max_connections=200"
        if not self.fsync:
            options += " -F"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.base / "log"), "-o", options,
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.base}&port={self.port}"

    def new_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """A new server, or pytest.skip / pytest.fail saying why there is none."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        why = "psycopg is not installed (pip install 'callslots[postgres]')"
    else:
        try:
            return PostgresServer()
        except (RuntimeError, OSError, subprocess.SubprocessError) as error:
            why = f"no PostgreSQL server could be started: {error}"
    if REQUIRE:
        pytest.fail(f"CALLSLOTS_REQUIRE_POSTGRES is set and {why}")
    pytest.skip(
        f"PostgreSQL tests skipped: {why}; set CALLSLOTS_REQUIRE_POSTGRES=1 to fail instead"
    )
    raise AssertionError  # unreachable


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty store database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db?synchronous=normal"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()
