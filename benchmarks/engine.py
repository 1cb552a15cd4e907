"""The Dispatcher before and after its rebuild (issue 19), side by side in one run.

    python -m benchmarks engine [--customers N] [--live N] [--waiting N] [--rounds R]
    python -m benchmarks engine --quick        # tiny sizes: the code still works

``old`` is the engine frozen before the rebuild (``tests/frozen/dispatch_v1.py``,
driven by ``tests/frozen/simulate_v1.py`` as ``simulate()`` drove it then); ``new``
is ``callslots`` as installed.  Every measurement runs in a fresh process per engine
(so neither inherits the other's memory or caches), the engines alternating (old,
new, old, new, ...) for ``--rounds`` rounds on the same inputs; the tables give
medians.  Workloads (benchmarks/README.md, "The engine, old and new"):

1. ``simulate()``, N customers (E.164 strings), 3 retries, no recipient hours:
   attempts/s, and the peak memory of that process (VmHWM, and ``ru_maxrss``);
2. the same with ``recipientHours`` and the customers over four US zones: the cost
   per attempt against 1;
3. two contact limits, then the same with ``callingRules: ["US"]`` (when the
   ``holidays`` extra is installed: the pack's general purpose needs it), customers
   over four zones with a state: the cost per attempt against the same campaign
   without them;
4. the live API: ``next_wakeup()``, ``poll()`` and ``ended()`` at once for every
   Dial, on a ``--live``-customer campaign: round trips/s;
5. ``cancel`` and ``callback`` latency with ``--waiting`` retries waiting: every
   customer's first attempt made and failed (its retry waits), then ``cancel`` of
   some customers and ``callback`` of others, each timed alone;
6. the floors: ``simulate()``'s driver loop, and the loop of 4, over
   :class:`NoEngine`, the public API with no scheduling behind it, for as many
   attempts (round trips) as the new engine made.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UTC = timezone.utc
ENGINES = ("old", "new")
BASE: dict[str, Any] = {
    "timezone": "America/New_York",
    "startDate": "2024-01-01",
    "startTime": "09:00",
    "endTime": "17:00",
    "activeDays": [0, 1, 2, 3, 4],
    "callRetries": 3,
    "maxConcurrency": 5,
    "callIntervalSeconds": 30,
}
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
STATES = ("NY", "FL", "CO", "CA")
LIMITS = [
    {"maxCalls": 3, "days": 7, "window": "rolling"},
    {"maxCalls": 2, "days": 1, "window": "calendar", "count": "connected"},
]


# -- the child: one measurement of one engine, in its own process ---------------------------


def _engine(name: str) -> tuple[Any, Callable[..., tuple[Iterator[Any], Callable[[], Any]]]]:
    """The Dispatcher class of engine ``name``, and ``simulate`` as ``(attempts,
    summary())`` for either driver."""
    if name == "old":
        from tests.frozen.dispatch_v1 import Dispatcher
        from tests.frozen.simulate_v1 import simulate as simulate_v1

        def run_old(*args: Any) -> tuple[Iterator[Any], Callable[[], Any]]:
            attempts, result = simulate_v1(*args)
            return attempts, lambda: result[0]

        return Dispatcher, run_old
    from callslots import Dispatcher as New
    from callslots import simulate

    def run_new(*args: Any) -> tuple[Iterator[Any], Callable[[], Any]]:
        sim = simulate(*args)
        return iter(sim), lambda: sim.summary

    return New, run_new


class NoEngine:
    """The floor: the Dispatcher's public API with no scheduling behind it.

    ``next_wakeup`` names the next 30-second slot, ``poll`` hands out one Dial
    on it, ``ended`` returns its Attempt with a retry a day later, until
    ``attempts`` calls were made.  It converts instants and builds the values
    exactly as the engine does (``callslots.dispatch.values``), so the time of
    ``simulate()``'s driver loop over it is what any engine behind this API costs
    at least: the rest of the engine's time is its scheduling."""

    def __init__(self, attempts: int) -> None:
        # The engine's own helpers, looked up once (an import per call would be
        # charged to the floor).
        from callslots import Outcome
        from callslots.dispatch.values import instant, make_attempt, make_dial, utc

        self.outcome, self.instant, self.utc = Outcome, instant, utc
        self.make_dial, self.make_attempt = make_dial, make_attempt
        self.left = attempts
        self.u = 1704117600  # 2024-01-01T14:00:00Z
        self.seq = 0
        self.calls: dict[str, Any] = {}

    def next_wakeup(self) -> datetime | None:
        if self.left <= 0:
            return None
        self.u += 30
        found: datetime = self.utc(self.u)
        return found

    def poll(self, now: datetime) -> list[Any]:
        self.instant(now, "now")
        self.seq += 1
        self.left -= 1
        dial = self.make_dial(str(self.seq), self.seq, "+14150000000", 1, now)
        self.calls[dial.call_id] = dial
        return [dial]

    def ended(self, call_id: str, outcome: Any, at: datetime) -> Any:
        parsed = outcome if isinstance(outcome, self.outcome) else self.outcome.parse(outcome)
        ended = self.instant(at, "at", up=True)
        dial = self.calls.pop(call_id)
        return self.make_attempt(
            dial.customer_index, dial.phone, 1, dial.at, at, parsed, ended + 86400
        )

    @property
    def finished(self) -> bool:
        return self.left <= 0

    @property
    def summary(self) -> None:
        return None


def child_floor(n: int) -> dict[str, Any]:
    """simulate()'s own driver loop over :class:`NoEngine`, for ``n`` attempts."""
    from callslots import RandomOutcomes
    from callslots.simulate import _drive

    result: list[Any] = []
    started = time.process_time()
    engine: Any = NoEngine(n)  # the Dispatcher's public API, duck-typed
    count = sum(1 for _ in _drive(engine, RandomOutcomes(1), result))
    return {"attempts": count, "seconds": time.process_time() - started}


def _customers(kind: str, n: int) -> Iterator[object]:
    if kind == "plain":
        return (f"+1415{i:07d}" for i in range(n))
    return (
        {
            "phoneNumber": f"+1415{i:07d}",
            "properties": {"timezone": ZONES[i % 4], "state": STATES[i % 4]},
        }
        for i in range(n)
    )


def _payload(kind: str) -> dict[str, Any]:
    payload = dict(BASE)
    if kind == "zones":
        payload["recipientHours"] = {"startTime": "09:00", "endTime": "17:00"}
    if kind in ("limits", "rules"):
        payload["contactLimits"] = LIMITS
    if kind == "rules":
        payload["callingRules"] = ["US"]
    return payload


def _peak() -> dict[str, int]:
    """Peak resident memory of this process in KiB: VmHWM (reset at exec) and
    ``ru_maxrss`` (which may carry a parent's size over on some systems)."""
    import resource

    out = {"ru_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    try:
        status = Path("/proc/self/status").read_text()
        out["vmhwm_kib"] = int(status.split("VmHWM:")[1].split()[0])
    except (OSError, IndexError):
        out["vmhwm_kib"] = out["ru_maxrss_kib"]
    return out


def child_simulate(engine: str, kind: str, n: int) -> dict[str, Any]:
    from callslots import Campaign, RandomOutcomes

    _, run = _engine(engine)
    campaign = Campaign.from_dict(_payload(kind))
    customers = _customers("plain" if kind == "plain" else "zoned", n)
    started = time.process_time()
    attempts, summary = run(campaign, RandomOutcomes(1), customers)
    count = sum(1 for _ in attempts)
    seconds = time.process_time() - started
    totals = summary()
    return {
        "attempts": count,
        "seconds": seconds,
        "reached": totals.reached,
        "finished_at": str(totals.finished_at),
        **_peak(),
    }


def child_live(engine: str, n: int) -> dict[str, Any]:
    """``n`` customers driven through the live API; for ``engine`` "floor", ``n``
    round trips over :class:`NoEngine`."""
    from callslots import Campaign, RandomOutcomes

    model = RandomOutcomes(1)
    d: Any
    if engine == "floor":  # the same loop over the API with no engine behind it
        d = NoEngine(n)
    else:
        dispatcher, _ = _engine(engine)
        d = dispatcher(Campaign.from_dict(BASE), [f"+1415{i:07d}" for i in range(n)])
    trips = 0
    started = time.process_time()
    while True:
        wake = d.next_wakeup()
        if wake is None:
            break
        for dial in d.poll(wake):
            outcome, seconds = model(dial.customer_index, dial.attempt, dial.at)
            d.ended(dial.call_id, outcome, dial.at + timedelta(seconds=max(1, int(seconds))))
            trips += 1
    return {"trips": trips, "seconds": time.process_time() - started}


def child_latency(engine: str, n: int, probes: int) -> dict[str, Any]:
    """``n`` customers, one line-hungry campaign: every first attempt is dialed and
    ends No Answer (the retry waits a day), so ``n`` retries wait; then ``cancel``
    and ``callback`` of ``probes`` customers each, spread over the list."""
    from callslots import Campaign

    dispatcher, _ = _engine(engine)
    payload = dict(BASE, maxConcurrency=100, callIntervalSeconds=1, retryDelaySeconds=86400)
    payload.update(startTime="00:00", endTime="24:00", activeDays=[0, 1, 2, 3, 4, 5, 6])
    d = dispatcher(Campaign.from_dict(payload), [f"+1415{i:07d}" for i in range(n)])
    made = 0
    while made < n:
        wake = d.next_wakeup()
        assert wake is not None
        for dial in d.poll(wake):
            assert dial.attempt == 1
            d.ended(dial.call_id, "No Answer", dial.at + timedelta(seconds=1))
            made += 1
    waiting = d.summary.pending
    step = max(1, n // (2 * probes + 1))
    cancel_at = [i * step for i in range(1, probes + 1)]
    callback_at = [i * step + step // 2 for i in range(1, probes + 1)]
    later = datetime(2030, 1, 1, tzinfo=UTC)
    cancels, callbacks = [], []
    for index in cancel_at:
        started = time.process_time()
        assert d.cancel(index, "opted out")
        cancels.append(time.process_time() - started)
    for index in callback_at:
        started = time.process_time()
        d.callback(index, later)
        callbacks.append(time.process_time() - started)
    return {
        "waiting": waiting,
        "cancel_us": statistics.median(cancels) * 1e6,
        "callback_us": statistics.median(callbacks) * 1e6,
    }


def child(argv: list[str]) -> None:
    """Entry point of a measuring process: ``engine workload size [probes]``; prints
    one JSON object."""
    sys.path.insert(0, str(ROOT))  # tests.frozen
    engine, workload, n = argv[0], argv[1], int(argv[2])
    if workload == "floor":
        out = child_floor(n)
    elif workload == "live":
        out = child_live(engine, n)
    elif workload == "latency":
        out = child_latency(engine, n, int(argv[3]))
    else:
        out = child_simulate(engine, workload, n)
    print(json.dumps(out))


# -- the parent: alternate the engines, each measurement in a fresh process --------------------


def measure(engine: str, *args: object) -> dict[str, Any]:
    code = "import sys; from benchmarks.engine import child; child(sys.argv[1:])"
    done = subprocess.run(
        [sys.executable, "-c", code, engine, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{engine} {args}: {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def alternate(rounds: int, *args: object) -> dict[str, list[dict[str, Any]]]:
    """``measure`` for old and new, alternating, ``rounds`` times each."""
    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in ENGINES}
    for _ in range(rounds):
        for engine in ENGINES:
            runs[engine].append(measure(engine, *args))
    return runs


def median(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in runs))


def per_attempt(runs: list[dict[str, Any]]) -> float:
    return float(statistics.median(r["seconds"] / r["attempts"] for r in runs))


def simulate_rows(n: int, rounds: int) -> list[str]:
    kinds = ["plain", "zones", "none", "limits"]
    has_pack = importlib.util.find_spec("holidays") is not None
    if has_pack:
        kinds.append("rules")
    runs = {kind: alternate(rounds, kind, n) for kind in kinds}
    for kind, by_engine in runs.items():  # the same inputs give the same run
        old, new = (by_engine[e][0] for e in ENGINES)
        if (old["attempts"], old["reached"]) != (new["attempts"], new["reached"]):
            print(f"note: {kind}: the engines' runs differ: old {old}, new {new}")
    names = {
        "plain": "plain (E.164 strings), no recipient hours",
        "zones": "recipientHours, customers over 4 zones",
        "none": "customers over 4 zones with a state, no limits",
        "limits": "the same, 2 contact limits",
        "rules": 'the same, 2 contact limits and callingRules ["US"]',
    }
    base = {"zones": "plain", "limits": "none", "rules": "none"}
    rows = [
        f"simulate(), {n:,} customers, 3 retries, RandomOutcomes(1), {rounds} rounds, "
        "each run in a fresh process:",
        "",
        "| campaign | engine | attempts | median seconds | attempts/s | cost per attempt "
        "vs its base | new/old time |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in kinds:
        old_cost = per_attempt(runs[kind]["old"])
        for engine in ENGINES:
            r = runs[kind][engine]
            cost = per_attempt(r)
            vs = f"{cost / per_attempt(runs[base[kind]][engine]):.2f}x" if kind in base else ""
            rows.append(
                f"| {names[kind]} | {engine} | {r[0]['attempts']:,} | "
                f"{median(r, 'seconds'):.2f} | {1 / cost:,.0f} | {vs} | {cost / old_cost:.2f} |"
            )
    made = runs["plain"]["new"][0]["attempts"]
    floor = [measure("none", "floor", made) for _ in range(rounds)]
    cost = per_attempt(floor)
    rows.append(
        f"| the floor: simulate()'s driver over the API with no engine behind it "
        f"(benchmarks/engine.py, NoEngine) | - | {made:,} | {median(floor, 'seconds'):.2f} "
        f"| {1 / cost:,.0f} | | {cost / per_attempt(runs['plain']['old']):.2f} |"
    )
    if not has_pack:
        rows.append("\n(no callingRules row: the US pack needs the holidays extra)")
    rows += [
        "",
        f"Peak memory of the plain run ({n:,} customers), one process per engine:",
        "",
        "| engine | VmHWM | ru_maxrss |",
        "| --- | ---: | ---: |",
    ]
    for engine in ENGINES:
        r = runs["plain"][engine]
        rows.append(
            f"| {engine} | {median(r, 'vmhwm_kib') / 1024:.0f} MB "
            f"| {median(r, 'ru_maxrss_kib') / 1024:.0f} MB |"
        )
    return rows


def live_rows(n: int, waiting: int, probes: int, rounds: int) -> list[str]:
    live = alternate(rounds, "live", n)
    latency = alternate(rounds, "latency", waiting, probes)
    rows = [
        f"Live API, {n:,} customers: next_wakeup, poll, ended at once ({rounds} rounds):",
        "",
        "| engine | round trips | median seconds | round trips/s |",
        "| --- | ---: | ---: | ---: |",
    ]
    trips = live["new"][0]["trips"]
    live["the floor (NoEngine)"] = [measure("floor", "live", trips) for _ in range(rounds)]
    for engine, r in live.items():
        rows.append(
            f"| {engine} | {r[0]['trips']:,} | {median(r, 'seconds'):.2f} "
            f"| {r[0]['trips'] / median(r, 'seconds'):,.0f} |"
        )
    rows += [
        "",
        f"cancel and callback, {waiting:,} customers with a retry waiting, {probes} of each "
        "(median of each run's median):",
        "",
        "| engine | attempts waiting | cancel | callback |",
        "| --- | ---: | ---: | ---: |",
    ]
    for engine in ENGINES:
        r = latency[engine]
        rows.append(
            f"| {engine} | {r[0]['waiting']:,} | {median(r, 'cancel_us'):,.1f} µs "
            f"| {median(r, 'callback_us'):,.1f} µs |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks engine", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--customers", type=int, default=1_000_000, help="simulate() size")
    parser.add_argument("--live", type=int, default=100_000, help="live API campaign size")
    parser.add_argument("--waiting", type=int, default=1_000_000, help="retries waiting")
    parser.add_argument("--probes", type=int, default=50, help="cancels and callbacks timed")
    parser.add_argument("--rounds", type=int, default=3, help="runs per engine (default 3)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round")
    args = parser.parse_args(argv)
    if args.quick:
        args.customers, args.live, args.waiting, args.probes, args.rounds = 200, 200, 200, 3, 1
    import platform

    import callslots

    print(
        f"callslots {callslots.__version__} (new) against tests/frozen/dispatch_v1.py (old), "
        f"Python {platform.python_version()}, {platform.machine()}, "
        f"{datetime.now(UTC):%Y-%m-%d}\n"
    )
    print("\n".join(simulate_rows(args.customers, args.rounds)))
    print()
    print("\n".join(live_rows(args.live, args.waiting, args.probes, args.rounds)))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
