"""A web service on callslots.store with FastAPI, a worker, and a fake telephony
provider that posts its webhooks back over HTTP (docs/store.md, "A web service").

    pip install 'callslots[web]'
    python examples/web_service.py serve    --store sqlite:///runs.db --port 8000
    python examples/web_service.py provider --port 8001 --service http://127.0.0.1:8000 \
        --log calls.db
    python examples/web_service.py worker   --store sqlite:///runs.db \
        --provider http://127.0.0.1:8001 --until-idle
    curl -X POST localhost:8000/campaigns -H 'content-type: application/json' \
        -d '{"campaign": {...}, "customers": ["+12125550100"]}'
    curl localhost:8000/campaigns/1        # live status;  curl localhost:8000/stats

Three processes, as in production: the web service (handlers that record webhooks and
read status; plain ``def`` handlers run on FastAPI's thread pool and share one
``Store``, the ``async def`` one hands its call to a thread), the provider (it "places"
a call by writing it to its own SQLite log before it answers, then posts the call's
``started`` and ``ended`` webhooks to the service a little later), and any number of
workers (they lease runs, poll them and ask the provider to dial).  The worker runs
on a *virtual clock* (``Run.virtual_now``): a campaign of hours takes seconds, and it
waits for the webhooks of live calls instead of expiring them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import queue
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from callslots import ConfigError
from callslots.store import LeaseLost, Run, Store, StoreError, StoreUnavailable

UTC = timezone.utc
#: Far enough ahead that every run with a wake-up is due (the virtual clock).
FAR = datetime(9000, 1, 1, tzinfo=UTC)


# -- HTTP in and out (stdlib: the provider and the worker need no framework) -----------


def post(url: str, body: dict[str, Any], *, attempts: int = 20) -> tuple[int, Any]:
    """POST JSON; returns (status, decoded body).  Retries while the server is not
    reachable (it may be restarting), never on an answer."""
    data = json.dumps(body).encode()
    for attempt in range(attempts):
        request = urllib.request.Request(
            url, data=data, headers={"content-type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# -- the web service ----------------------------------------------------------------


class NewCampaign(BaseModel):
    campaign: dict[str, Any]
    customers: list[Any]
    name: str | None = None


class Started(BaseModel):
    run: int
    call: str
    at: datetime


class Ended(BaseModel):
    run: int
    call: str
    outcome: str
    at: datetime


class NotStarted(BaseModel):
    run: int
    call: str
    reason: str = ""


def create_app(store: Store) -> FastAPI:
    """The FastAPI application over ``store`` (shared by the handler threads)."""

    def refused(error: Exception) -> HTTPException:
        """A store or campaign error as an HTTP answer that says what is wrong."""
        if isinstance(error, ConfigError):
            problems = [{"path": p.path, "message": p.message} for p in error.errors]
            return HTTPException(422, {"problems": problems})
        if isinstance(error, StoreUnavailable):
            return HTTPException(503, str(error))
        if str(error).startswith("no run "):
            return HTTPException(404, str(error))
        return HTTPException(422, str(error))

    app = FastAPI(title="callslots example service")

    # Plain `def` handlers: FastAPI runs them on its thread pool, each thread with
    # its own connection of the shared Store.
    @app.post("/campaigns")
    def create(body: NewCampaign) -> dict[str, Any]:
        try:
            run_id = store.create_run(body.campaign, body.customers, name=body.name)
        except (StoreError, ConfigError) as error:
            raise refused(error) from None
        warnings = [{"path": w.path, "message": w.message} for w in run_id.warnings]
        return {"run": int(run_id), "warnings": warnings}

    @app.post("/webhooks/started")
    def started(hook: Started) -> dict[str, str]:
        try:
            store.record_started(hook.run, hook.call, hook.at)
        except StoreError as error:
            raise refused(error) from None
        return {"status": "recorded"}

    @app.post("/webhooks/ended")
    def ended(hook: Ended) -> dict[str, str]:
        try:
            store.record_ended(hook.run, hook.call, hook.outcome, hook.at)
        except StoreError as error:
            raise refused(error) from None
        return {"status": "recorded"}

    @app.post("/webhooks/not-started")
    def not_started(hook: NotStarted) -> dict[str, str]:
        try:
            store.record_not_started(hook.run, hook.call, hook.reason)
        except StoreError as error:
            raise refused(error) from None
        return {"status": "recorded"}

    # An `async def` handler must not block the event loop: the store call goes to
    # a thread (asyncio.to_thread, or starlette.concurrency.run_in_threadpool).
    @app.get("/campaigns/{run_id}")
    async def status(run_id: int) -> dict[str, Any]:
        try:
            info = await asyncio.to_thread(store.info, run_id)
        except StoreError as error:
            raise refused(error) from None
        return {
            "run": info.id,
            "status": info.status,
            "customers": info.customer_count,
            "unread": info.unread,
            "inbox": info.inbox,
            "as_of_event": info.summary_position,
            "totals": info.summary,
        }

    @app.get("/stats")
    def stats() -> dict[str, Any]:
        try:
            return store.stats().as_dict()
        except StoreError as error:
            raise refused(error) from None

    return app


def serve(store_url: str, host: str, port: int) -> int:
    import uvicorn

    # status_seconds=0: the status endpoint always shows the last write's totals
    with Store.open(store_url, status_seconds=0) as store:
        uvicorn.run(create_app(store), host=host, port=port, log_level="warning")
    return 0


# -- the fake provider ----------------------------------------------------------------

OUTCOMES = ("Completed", "No Answer", "Busy", "Completed")


class Provider:
    """Places calls (writes them to its log, committed before it answers) and posts
    each call's webhooks to the service from a thread of its own, ``delay``
    seconds later.  Its log is the proof of what was dialed."""

    def __init__(self, log: str, service: str, delay: float = 0.005) -> None:
        self.service = service.rstrip("/")
        self.delay = delay
        self.conn = sqlite3.connect(log, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(
            "CREATE TABLE IF NOT EXISTS calls (run INTEGER, call TEXT, phone TEXT, "
            "customer INTEGER, attempt INTEGER, at TEXT, PRIMARY KEY (run, call));"
            "CREATE TABLE IF NOT EXISTS posted (run INTEGER, call TEXT, kind TEXT, "
            "status INTEGER);"
        )
        self.lock = threading.Lock()
        self.outbox: queue.Queue[tuple[int, str, str] | None] = queue.Queue()
        self.poster = threading.Thread(target=self._post_loop, daemon=True)
        self.poster.start()

    def dial(self, body: dict[str, Any]) -> dict[str, Any]:
        run, call = int(body["run"]), str(body["call"])
        with self.lock:
            placed = self.conn.execute(
                "INSERT OR IGNORE INTO calls VALUES (?, ?, ?, ?, ?, ?)",
                (run, call, body["phone"], body["customer"], body["attempt"], body["at"]),
            ).rowcount
        if placed:  # a retried request is placed once
            self.outbox.put((run, call, str(body["at"])))
        return {"placed": True}

    def lookup(self, body: dict[str, Any]) -> dict[str, Any]:
        """Whether a call was placed; a placed one has its webhooks sent again."""
        run, call = int(body["run"]), str(body["call"])
        with self.lock:
            row = self.conn.execute(
                "SELECT at FROM calls WHERE run = ? AND call = ?", (run, call)
            ).fetchone()
        if row is not None:
            self.outbox.put((run, call, row[0]))
        return {"placed": row is not None}

    def _post_loop(self) -> None:
        while True:
            item = self.outbox.get()
            if item is None:
                return
            run, call, at = item
            time.sleep(self.delay)
            slot = datetime.fromisoformat(at)
            outcome = OUTCOMES[zlib.crc32(f"{run}:{call}".encode()) % len(OUTCOMES)]
            for kind, hook in (
                ("started", {"at": (slot + timedelta(seconds=1)).isoformat()}),
                ("ended", {"outcome": outcome, "at": (slot + timedelta(seconds=40)).isoformat()}),
            ):
                status, _ = post(
                    f"{self.service}/webhooks/{kind}", {"run": run, "call": call, **hook}
                )
                with self.lock:
                    self.conn.execute(
                        "INSERT INTO posted VALUES (?, ?, ?, ?)", (run, call, kind, status)
                    )

    def server(self, host: str, port: int) -> ThreadingHTTPServer:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                answer = provider.dial(body) if self.path == "/calls" else provider.lookup(body)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        return ThreadingHTTPServer((host, port), Handler)

    def close(self) -> None:
        self.outbox.put(None)
        self.poster.join(timeout=30)
        self.conn.close()


# -- the worker -------------------------------------------------------------------------


def settle(run: Run, provider: str, asked: set[tuple[int, str]]) -> None:
    """Settle the calls in doubt after a takeover from the provider's log: one it
    placed has its webhooks sent again (asked once); one it never saw was not placed."""
    for dial in run.in_doubt():
        if (run.id, dial.call_id) in asked:
            continue
        asked.add((run.id, dial.call_id))
        _, answer = post(f"{provider}/lookups", {"run": run.id, "call": dial.call_id})
        if not answer["placed"]:
            run.not_started(dial.call_id, "not in the provider's log")


def work(store: Store, provider: str, name: str, *, lease_seconds: float, until_idle: bool) -> int:
    """The worker loop on the virtual clock; returns 0 when every run is finished and
    every webhook applied (``until_idle``)."""
    provider = provider.rstrip("/")
    worker = store.worker(name, lease_seconds=lease_seconds)
    checked = 0.0
    asked: set[tuple[int, str]] = set()
    while True:
        busy = False
        for run in worker.due(FAR):
            try:
                settle(run, provider, asked)
                when = run.virtual_now()
                if when is None:  # live calls: wait for their webhooks
                    continue
                for dial in run.poll(when):
                    busy = True
                    if not run.may_dial():
                        run.not_started(dial.call_id, "lease ending")
                        continue
                    body = {
                        "run": run.id,
                        "call": dial.call_id,
                        "phone": dial.phone,
                        "customer": dial.customer_index,
                        "attempt": dial.attempt,
                        "at": dial.at.isoformat(),
                    }
                    post(f"{provider}/calls", body)
            except LeaseLost:
                continue  # another worker has it now
        if until_idle and time.monotonic() > checked + 0.2:
            checked = time.monotonic()
            stats = store.stats()
            # Done when every run is finished and no webhook waits to be applied (a
            # late one for a finished run makes it due again: the loop applies it).
            if stats.runs.get("active", 0) == 0 and stats.inbox == 0:
                worker.release_all()
                return 0
        if not busy:
            time.sleep(0.002)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["serve", "provider", "worker"])
    parser.add_argument("--store", help="sqlite:///path.db or postgresql://...")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--service", default="http://127.0.0.1:8000", help="provider: where to post"
    )
    parser.add_argument("--provider", default="http://127.0.0.1:8001", help="worker: the provider")
    parser.add_argument("--log", default="calls.db", help="provider: its log of calls")
    parser.add_argument("--name", default="worker")
    parser.add_argument("--lease-seconds", type=float, default=30.0)
    parser.add_argument("--until-idle", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "provider":
        provider = Provider(args.log, args.service)
        server = provider.server(args.host, args.port)
        try:
            server.serve_forever()
        finally:
            provider.close()
        return 0
    if not args.store:
        print("error: --store is needed", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            return serve(args.store, args.host, args.port)
        with Store.open(args.store) as store:
            return work(
                store,
                args.provider,
                args.name,
                lease_seconds=args.lease_seconds,
                until_idle=args.until_idle,
            )
    except StoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 75 if isinstance(error, StoreUnavailable) else 2


if __name__ == "__main__":
    sys.exit(main())
