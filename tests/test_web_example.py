"""examples/web_service.py, run as three kinds of processes against real servers on
loopback addresses: the FastAPI service (uvicorn), the fake provider posting real HTTP
webhooks, and workers, one of them killed with SIGKILL mid-run; on SQLite and on a
real PostgreSQL server.  Nobody is rung twice, every customer is accounted for,
every webhook is accepted, and bad requests get answers that say what is wrong."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store_support import CAMPAIGN as STORE_CAMPAIGN
from store_support import EXAMPLES, _free_port, postgres_server, store_url

pytest.importorskip("fastapi", reason="the web example needs the web extra")
pytest.importorskip("uvicorn", reason="the web example needs the web extra")

sys.path.insert(0, str(EXAMPLES))
import web_service

__all__ = ["postgres_server", "store_url"]

SCRIPT = str(EXAMPLES / "web_service.py")
CAMPAIGN: dict[str, Any] = {**STORE_CAMPAIGN, "callRetries": 2, "maxCallSeconds": 900}


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, SCRIPT, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url}: the server exited: {process.stderr.read()!r}")  # type: ignore[union-attr]
        try:
            web_service.get(url)
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer in {seconds} s")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:  # pragma: no cover
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_the_web_service_end_to_end(
    store_url: str, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    service_port, provider_port = _free_port(), _free_port()
    service = f"http://127.0.0.1:{service_port}"
    provider = f"http://127.0.0.1:{provider_port}"
    log = str(tmp_path / "calls.db")
    processes.append(start("serve", "--store", store_url, "--port", str(service_port)))
    wait_for(f"{service}/stats", processes[-1])
    processes.append(
        start("provider", "--port", str(provider_port), "--service", service, "--log", log)
    )
    # the provider answers POSTs only: wait until its port takes connections
    deadline = time.monotonic() + 30
    while True:
        try:
            web_service.post(f"{provider}/lookups", {"run": 0, "call": "0"}, attempts=1)
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)

    # campaigns through the API; a misspelt field comes back as a warning
    count = 30
    runs = []
    for k in range(2):
        customers = [f"+1212{k:03d}{i:04d}" for i in range(count)]
        status, body = web_service.post(
            f"{service}/campaigns",
            {"campaign": {**CAMPAIGN, "maxConcurency": 1}, "customers": customers},
        )
        assert status == 200, body
        assert [w["path"] for w in body["warnings"]] == ["maxConcurency"]
        runs.append(body["run"])
    status, body = web_service.get(f"{service}/campaigns/{runs[0]}")
    assert status == 200 and body["customers"] == count and body["status"] == "active"
    assert body["unread"] + body["totals"]["pending"] == count

    # bad requests: answers that say what is wrong, and nothing stored
    status, body = web_service.post(
        f"{service}/campaigns", {"campaign": CAMPAIGN, "customers": ["555-0100", "+12125550100"]}
    )
    assert status == 422 and body["detail"]["problems"][0]["path"] == "customers.0"
    status, body = web_service.post(
        f"{service}/webhooks/ended",
        {"run": 10**20, "call": "1", "outcome": "Busy", "at": "2024-03-04T14:00:00Z"},
    )
    assert status == 404 and body["detail"] == f"no run {10**20} in this store"
    status, body = web_service.post(
        f"{service}/webhooks/started", {"run": runs[0], "call": "1", "at": "2024-03-04T14:00:00"}
    )
    assert status == 422 and "aware datetime" in body["detail"]
    status, body = web_service.post(
        f"{service}/webhooks/not-started", {"run": runs[0], "call": "1", "reason": "x" * 500}
    )
    assert status == 422 and "at most 200 characters" in body["detail"]
    assert web_service.get(f"{service}/campaigns/999999")[0] == 404

    # a worker with short leases, killed with SIGKILL once it has placed some calls
    first = start("worker", "--store", store_url, "--provider", provider, "--name", "a",
                  "--lease-seconds", "2")  # fmt: skip
    processes.append(first)
    deadline = time.monotonic() + 120
    while placed(log) < 8:
        assert first.poll() is None, first.stderr.read()  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    second = start("worker", "--store", store_url, "--provider", provider, "--name", "b",
                   "--lease-seconds", "2", "--until-idle")  # fmt: skip
    processes.append(second)
    assert second.wait(timeout=300) == 0, second.stderr.read()  # type: ignore[union-attr]

    # every customer accounted for, nobody rung twice for one attempt, every
    # webhook accepted
    with sqlite3.connect(log) as conn:
        calls = conn.execute("SELECT run, call, customer, attempt FROM calls").fetchall()
        deadline = time.monotonic() + 30
        while conn.execute("SELECT COUNT(*) FROM posted").fetchone()[0] < 2 * len(calls):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        refused = conn.execute("SELECT * FROM posted WHERE status <> 200").fetchall()
    assert refused == []
    # A webhook can arrive after b saw every run finished (a `started` posted after
    # its `ended`): one more worker applies what the inbox still holds, then stops.
    last = start("worker", "--store", store_url, "--provider", provider, "--name", "c",
                 "--lease-seconds", "2", "--until-idle")  # fmt: skip
    processes.append(last)
    assert last.wait(timeout=120) == 0, last.stderr.read()  # type: ignore[union-attr]
    assert len({(r, c, a) for r, _, c, a in calls}) == len(calls)
    for run_id in runs:
        status, body = web_service.get(f"{service}/campaigns/{run_id}")
        totals = body["totals"]
        assert body["status"] == "finished" and body["unread"] == 0 and body["inbox"] == 0
        assert totals["in_progress"] == 0 and totals["in_doubt"] == 0
        accounted = ("reached", "not_reached", "unscheduled", "cancelled")
        assert sum(totals[k] for k in accounted) == count
        # every call the provider placed ended once (none expired: the virtual
        # clock waited for the webhooks)
        assert totals["attempts"] == sum(1 for c in calls if c[0] == run_id)
        assert totals["expired"] == 0
    status, stats = web_service.get(f"{service}/stats")
    assert stats["runs"] == {"finished": 2} and stats["inbox"] == 0 and stats["in_doubt"] == 0
    assert stats["takeovers"] >= 1  # b took the runs a held when it was killed


def placed(log: str) -> int:
    try:
        with sqlite3.connect(log) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
