"""Measure callslots side by side with what people would write instead.

Every workload runs its contenders alternately in one process (A B A B ...) for
several rounds; the table gives each contender's median time, its min-max spread,
and its ratio to callslots (higher = callslots is faster).  Absolute times vary from
machine to machine; the ratios are the result.

    python -m benchmarks [--rounds N] [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock
from functools import partial
from itertools import islice
from zoneinfo import ZoneInfo

import callslots
from callslots import Campaign
from callslots.customers import zones_by_number

from . import correctness

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")
OPEN, CLOSE = clock(9), clock(17)


@dataclass
class Result:
    workload: str
    contender: str
    unit: str  # what one operation is
    operations: int
    seconds: list[float]
    correct: str = ""  # the correctness column (DST days; see correctness.py)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def race(
    workload: str,
    unit: str,
    operations: int,
    contenders: dict[str, Callable[[], object]],
    rounds: int,
) -> list[Result]:
    """Run the contenders alternately, ``rounds`` times each."""
    results = {name: Result(workload, name, unit, operations, []) for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            started = time.perf_counter()
            run()
            results[name].seconds.append(time.perf_counter() - started)
    return list(results.values())


# -- workload 1: windows across N years ----------------------------------------------------


def weekday_campaign(first: date, last: date | None) -> Campaign:
    payload = {
        "timezone": "America/New_York",
        "startDate": first.isoformat(),
        "startTime": "09:00",
        "endTime": "17:00",
        "activeDays": [0, 1, 2, 3, 4],
    }
    if last is not None:
        payload["endDate"] = last.isoformat()
    return Campaign.from_dict(payload)


def plain_windows(first: date, last: date) -> list[tuple[datetime, datetime]]:
    """The loop one writes without a library: convert each active day's two ends."""
    out = []
    day, one = first, timedelta(days=1)
    while day <= last:
        if day.weekday() < 5:
            out.append(
                (
                    datetime.combine(day, OPEN, NEW_YORK).astimezone(UTC),
                    datetime.combine(day, CLOSE, NEW_YORK).astimezone(UTC),
                )
            )
        day += one
    return out


def windows_workload(years: int, rounds: int) -> list[Result]:
    first = date(2024, 1, 1)
    last = date(2024 + years, 1, 1) - timedelta(days=1)
    campaign = weekday_campaign(first, last)
    count = len(plain_windows(first, last))
    assert count == sum(1 for _ in campaign.windows())
    return race(
        f"windows, {years} years (Mon-Fri 09:00-17:00, New York)",
        "window",
        count,
        {
            "callslots windows()": lambda: list(campaign.windows()),
            "plain combine().astimezone() loop": lambda: plain_windows(first, last),
        },
        rounds,
    )


# -- workload 2: next callable instant ---------------------------------------------------------


def naive_next_callable(t: datetime) -> datetime:
    """Per query: the local date of t, then walk days until a window ends after t."""
    day = t.astimezone(NEW_YORK).date() - timedelta(days=1)
    while True:
        if day.weekday() < 5:
            start = datetime.combine(day, OPEN, NEW_YORK).astimezone(UTC)
            end = datetime.combine(day, CLOSE, NEW_YORK).astimezone(UTC)
            if end > t:
                return max(start, t)
        day += timedelta(days=1)


def queries(first_year: int, years: int, count: int, seed: int = 7) -> list[datetime]:
    rng = random.Random(seed)
    base = datetime(first_year, 1, 1, tzinfo=UTC)
    span = int((datetime(first_year + years, 1, 1, tzinfo=UTC) - base).total_seconds())
    return [base + timedelta(seconds=rng.randrange(span)) for _ in range(count)]


def next_callable_workload(count: int, rounds: int) -> list[Result]:
    campaign = weekday_campaign(date(2024, 1, 1), None)
    instants = queries(2024, 30, count)
    assert all(campaign.next_callable(t) == naive_next_callable(t) for t in instants[:2000])
    year_1 = queries(2024, 1, count, seed=8)
    year_30 = queries(2053, 1, count, seed=9)
    ours = campaign.next_callable
    return race(
        "next_callable, random instants",
        "query",
        count,
        {
            "callslots next_callable(), 30 years": lambda: [ours(t) for t in instants],
            "naive day walk per query, 30 years": lambda: [
                naive_next_callable(t) for t in instants
            ],
            "callslots next_callable(), year 1 only": lambda: [ours(t) for t in year_1],
            "callslots next_callable(), year 30 only": lambda: [ours(t) for t in year_30],
        },
        rounds,
    )


def next_slot_workload(count: int, few: int, rounds: int) -> list[Result]:
    """The next slot (call-start instant) at or after random instants, against the cron
    libraries and rrule, which answer that question per query."""
    from croniter import croniter
    from cronsim import CronSim
    from dateutil.rrule import FR, MO, SECONDLY, TH, TU, WE, rrule

    campaign = slot_campaign()
    instants = queries(2024, 30, count, seed=12)
    # rrule.after walks from its start, so its queries fall in January 2024 only.
    rng = random.Random(13)
    january = datetime(2024, 1, 1, tzinfo=UTC)
    near = [
        january + timedelta(seconds=rng.randrange(31 * 86400)) for _ in range(max(2, few // 30))
    ]
    local = [t.astimezone(NEW_YORK) for t in instants[:few]]
    rule = rrule(
        SECONDLY,
        interval=30,
        byhour=range(9, 17),
        byweekday=(MO, TU, WE, TH, FR),
        dtstart=datetime(2024, 1, 1, tzinfo=NEW_YORK),
    )

    def ours(points: list[datetime]) -> list[datetime | None]:
        return [campaign.slot_at(campaign.slot_index(t)) for t in points]

    campaign.slot_at(10_000_000)  # build the index before timing
    assert ours(local[:50]) == [
        croniter("* 9-16 * * 1-5 */30", t - timedelta(seconds=1)).get_next(datetime)
        for t in local[:50]
    ]
    results = race(
        f"next slot, {count:,} random instants over 30 years",
        "query",
        count,
        {"callslots slot_at(slot_index(t))": lambda: ours(instants)},
        rounds,
    )
    results += race(
        f"next slot, {few:,} random instants (the peers are slow: fewer queries)",
        "query",
        few,
        {
            "callslots slot_at(slot_index(t))": lambda: ours(local),
            "croniter get_next()": lambda: [
                croniter("* 9-16 * * 1-5 */30", t).get_next(datetime) for t in local
            ],
            "cronsim": lambda: [next(CronSim("*/30 * 9-16 * * 1-5", t)) for t in local],
        },
        rounds,
    )
    results += race(
        f"next slot, {len(near):,} instants in January 2024 (rrule.after walks from its start)",
        "query",
        len(near),
        {
            "callslots slot_at(slot_index(t))": lambda: ours(near),
            "dateutil rrule.after()": lambda: [rule.after(t, inc=True) for t in near],
        },
        rounds,
    )
    names = {
        "callslots slot_at(slot_index(t))": "callslots slots()",
        "croniter get_next()": "croniter get_next()",
        "cronsim": "cronsim",
        "dateutil rrule.after()": "dateutil rrule",
    }
    for r in results:
        produce = correctness.SLOT_CONTENDERS[names[r.contender]]
        wrong = correctness.wrong_answers(produce)
        r.correct = f"{wrong} of {correctness.QUERIES} answers wrong" if wrong else "right"
    return results


def retry_workload(count: int, rounds: int) -> list[Result]:
    campaign = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-01-01",
            "startTime": "09:00",
            "endTime": "17:00",
            "activeDays": [0, 1, 2, 3, 4],
            "callRetries": 3,
            "retryDelaySeconds": 3600,
        }
    )
    outcomes = list(callslots.Outcome)
    ended = queries(2024, 5, count, seed=14)
    calls = [(outcomes[i % len(outcomes)], 1 + i % 4, t) for i, t in enumerate(ended)]
    retry = campaign.retry
    return race(
        f"retry decisions, {count:,}, mixed outcomes and attempts",
        "decision",
        count,
        {"callslots retry()": lambda: [retry(o, n, t) for o, n, t in calls]},
        rounds,
    )


# -- workload 3: the slot stream ---------------------------------------------------------------


def slot_campaign() -> Campaign:
    return Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-01-01",
            "startTime": "09:00",
            "endTime": "17:00",
            "activeDays": [0, 1, 2, 3, 4],
            "callIntervalSeconds": 30,
        }
    )


def plain_slots(campaign: Campaign, count: int) -> list[datetime]:
    """A plain loop over each window's integer range, one fromtimestamp() a slot."""
    out: list[datetime] = []
    for window in campaign.windows():
        first, end = int(window.start.timestamp()), int(window.end.timestamp())
        out.extend(datetime.fromtimestamp(t, UTC) for t in range(first, end, 30))
        if len(out) >= count:
            return out[:count]
    return out


def slots_workload(count: int, peers: int, rounds: int) -> list[Result]:
    """``count`` slots from callslots and the plain loop; ``peers`` from the cron
    libraries, which are far slower (the ratio is per slot)."""
    from croniter import croniter
    from cronsim import CronSim

    campaign = slot_campaign()
    start = datetime(2024, 1, 1, tzinfo=NEW_YORK)
    ours = list(islice(campaign.slots(), peers))
    cron = croniter("* 9-16 * * 1-5 */30", start)
    assert [cron.get_next(datetime).astimezone(UTC) for _ in range(peers)] == ours
    results = race(
        f"slots, {count:,} (Mon-Fri 09:00-17:00 New York, every 30 s)",
        "slot",
        count,
        {
            "callslots slots()": lambda: list(islice(campaign.slots(), count)),
            "callslots slot_seconds() (integers)": lambda: list(
                islice(campaign.slot_seconds(), count)
            ),
            "plain fromtimestamp() loop over each window": lambda: plain_slots(campaign, count),
            "floor: a bare range of integers": lambda: list(range(0, 30 * count, 30)),
        },
        rounds,
    )

    def cron_next() -> list[datetime]:
        it = croniter("* 9-16 * * 1-5 */30", start)
        return [it.get_next(datetime) for _ in range(peers)]

    def cronsim_next() -> list[datetime]:
        it = CronSim("*/30 * 9-16 * * 1-5", start)
        return [next(it) for _ in range(peers)]

    def ours_few() -> list[datetime]:
        return list(islice(campaign.slots(), peers))

    def rrule_next() -> list[datetime]:
        from dateutil.rrule import FR, MO, SECONDLY, TH, TU, WE, rrule

        weekdays = (MO, TU, WE, TH, FR)
        rule = rrule(SECONDLY, interval=30, byhour=range(9, 17), byweekday=weekdays, dtstart=start)
        return list(islice(rule, peers))

    few = race(
        f"slots, {peers:,} (the peers are slow: fewer slots, same per-slot ratio)",
        "slot",
        peers,
        {
            "callslots slots()": ours_few,
            "croniter get_next()": cron_next,
            "cronsim": cronsim_next,
            "dateutil rrule": rrule_next,
        },
        rounds,
    )
    every = results + few
    for r in every:
        produce = correctness.SLOT_CONTENDERS.get(r.contender)
        if produce is not None:
            r.correct = correctness.describe(correctness.column(produce))
    return every


def slot_at_workload(count: int, rounds: int) -> list[Result]:
    campaign = slot_campaign()
    rng = random.Random(11)
    ks = [rng.randrange(10_000_000) for _ in range(count)]
    campaign.slot_at(10_000_000)  # the index is built once, on first use
    return race(
        "slot_at(k), k random below 10 million",
        "query",
        count,
        {"callslots slot_at()": lambda: [campaign.slot_at(k) for k in ks]},
        rounds,
    )


# -- workload: recipient hours, customers over 1 zone and over 20 zones ------------------

TWENTY_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Phoenix",
    "America/Toronto",
    "America/Vancouver",
    "America/Halifax",
    "America/St_Johns",
    "America/Puerto_Rico",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Madrid",
    "Atlantic/Azores",
    "America/Regina",
)


def recipient_workload(count: int, phones: int, rounds: int) -> list[Result]:
    """plan() under recipientHours: the same customers in one zone and spread over
    twenty (zones given as properties.timezone), and zones found from the numbers."""
    base = {
        "timezone": "America/New_York",
        "startDate": "2024-01-01",
        "startTime": "08:00",
        "endTime": "22:00",
        "activeDays": [0, 1, 2, 3, 4, 5],
        "callIntervalSeconds": 1,
    }
    plain = Campaign.from_dict(base)
    campaign = Campaign.from_dict(
        {**base, "recipientHours": {"startTime": "08:00", "endTime": "21:00"}}
    )

    def people(zones: tuple[str, ...]) -> list[callslots.Customer]:
        return [
            callslots.Customer(f"+1415{i:07d}", {"timezone": zones[i % len(zones)]})
            for i in range(count)
        ]

    one, twenty = people(TWENTY_ZONES[:1]), people(TWENTY_ZONES)
    numbers = [f"+1{_AREAS[i % len(_AREAS)]}{i // len(_AREAS):07d}" for i in range(phones)]

    def lookup(customers: list[str]) -> None:
        zones_by_number.cache_clear()  # each round looks every number up afresh
        drain(campaign, customers)

    def drain(c: Campaign, customers: object) -> None:
        for _ in c.plan(customers):  # type: ignore[arg-type]
            pass

    results = race(
        f"plan, {count:,} customers, recipientHours 08:00-21:00",
        "customer",
        count,
        {
            "callslots plan(), customers in 1 zone": lambda: drain(campaign, one),
            "callslots plan(), customers over 20 zones": lambda: drain(campaign, twenty),
            "callslots plan(), no recipientHours": lambda: drain(plain, one),
        },
        rounds,
    )
    results += race(
        f"plan, {phones:,} customers, zones from the numbers (phonenumbers)",
        "customer",
        phones,
        {"callslots plan(), zones from phone numbers": lambda: lookup(numbers)},
        rounds,
    )
    return results


_AREAS = ["212", "312", "415", "907", "808", "602", "416", "604", "902", "709"]


def holidays_workload(years: int, rounds: int) -> list[Result]:
    """windows() with a blackout every few weeks against the same campaign without."""
    first = date(2024, 1, 1)
    last = date(first.year + years, 1, 1)
    plain = weekday_campaign(first, last)
    blackouts = [(first + timedelta(days=d)).isoformat() for d in range(10, years * 366, 23)]
    ruled = Campaign.from_dict({**plain.to_dict(), "blackoutDates": blackouts})
    return race(
        f"windows, {years} years, a blackout date every 23 days",
        "window",
        sum(1 for _ in ruled.windows()),
        {
            "callslots windows(), with blackoutDates": lambda: list(ruled.windows()),
            "callslots windows(), without": lambda: list(plain.windows()),
        },
        rounds,
    )


# -- workload 4: simulation scaling, each size in its own process (peak memory) ---------------

SIMULATION = """
import resource, sys, time
from callslots import Campaign, RandomOutcomes, simulate
n = int(sys.argv[1])
c = Campaign.from_dict({"timezone": "America/New_York", "startDate": "2024-01-01",
    "startTime": "09:00", "endTime": "17:00", "activeDays": [0, 1, 2, 3, 4],
    "callRetries": 3, "maxConcurrency": 5, "callIntervalSeconds": 30})
customers = (f"+1415{i:07d}" for i in range(n))
started = time.perf_counter()
sim = simulate(c, RandomOutcomes(1), customers)
attempts = sum(1 for _ in sim)
seconds = time.perf_counter() - started
try:  # VmHWM starts afresh at exec; ru_maxrss may carry the parent's size over
    status = open("/proc/self/status").read()
    peak = int(status.split("VmHWM:")[1].split()[0])
except (OSError, IndexError):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(attempts, seconds, peak, sim.summary.finished_at)
"""


# -- workload 5: the live engine through its public API, in its own process -----------------

DISPATCH = """
import json, sys, time
from datetime import timedelta
from callslots import Campaign, Dispatcher, RandomOutcomes
n, stop = int(sys.argv[1]), sys.argv[2] == "middle"
c = Campaign.from_dict({"timezone": "America/New_York", "startDate": "2024-01-01",
    "startTime": "09:00", "endTime": "17:00", "activeDays": [0, 1, 2, 3, 4],
    "callRetries": 3, "maxConcurrency": 5, "callIntervalSeconds": 30})
model = RandomOutcomes(1)
customers = [f"+1415{i:07d}" for i in range(n)]
d = Dispatcher(c, customers)
trips, limit = 0, n if stop else 1 << 62  # the middle: every first attempt made
started = time.perf_counter()
while trips < limit:
    wake = d.next_wakeup()
    if wake is None:
        break
    for dial in d.poll(wake):
        outcome, seconds = model(dial.customer_index, dial.attempt, dial.at)
        d.ended(dial.call_id, outcome, dial.at + timedelta(seconds=max(1, int(seconds))))
        trips += 1
live = time.perf_counter() - started
started = time.perf_counter()
text = json.dumps(d.snapshot())
dump = time.perf_counter() - started
started = time.perf_counter()
again = Dispatcher.restore(c, json.loads(text), customers)
load = time.perf_counter() - started
assert again.next_wakeup() == d.next_wakeup() and again.summary == d.summary
print(trips, live, dump, load, len(text))
"""


def dispatch_rows(sizes: tuple[int, int]) -> list[str]:
    import subprocess

    rows = [
        "| customers | poll+ended round trips | seconds | round trips/s "
        "| snapshot (+ json.dumps) | restore (json.loads +) | snapshot size |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, stop in ((sizes[0], "end"), (sizes[1], "middle")):
        out = subprocess.run(
            [sys.executable, "-c", DISPATCH, str(n), stop],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        trips, live, dump, load, size = int(out[0]), *map(float, out[1:4]), int(out[4])
        rows.append(
            f"| {n:,} ({'the whole run' if stop == 'end' else 'to the middle'}) | {trips:,} "
            f"| {live:.1f} | {trips / live:,.0f} | {dump:.2f} s | {load:.2f} s "
            f"| {size / 1e6:.1f} MB |"
        )
    return rows


def simulation_rows(sizes: list[int]) -> list[str]:
    import subprocess

    rows = [
        "| customers | attempts | seconds | attempts/s | peak RSS | campaign finished |",
        "| ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for n in sizes:
        out = subprocess.run(
            [sys.executable, "-c", SIMULATION, str(n)], capture_output=True, text=True, check=True
        ).stdout.split(maxsplit=3)
        attempts, seconds, rss = int(out[0]), float(out[1]), int(out[2])
        rows.append(
            f"| {n:,} | {attempts:,} | {seconds:.1f} | {attempts / seconds:,.0f} "
            f"| {rss / 1024:.0f} MB | {out[3].strip()} |"
        )
    return rows


# -- workload 6: contact limits ------------------------------------------------------------

LIMITED_PAYLOAD = {
    "timezone": "UTC",
    "startDate": "2020-01-01",
    "contactLimits": [
        {"maxCalls": 3, "days": 1, "window": "rolling"},
        {"maxCalls": 7, "days": 7, "window": "calendar", "count": "connected"},
    ],
    "quietAfterConversationDays": 7,
}


def naive_allowed(calls: list[tuple[datetime, str]], t: datetime, zone: ZoneInfo) -> bool:
    """The loop one writes without an index: scan the whole history for each limit."""
    day = t.astimezone(zone).date()
    rolling = sum(1 for at, _ in calls if t - timedelta(days=1) < at <= t)
    if rolling >= 3:
        return False
    for first in (day - timedelta(days=k) for k in range(7)):
        last = first + timedelta(days=6)
        counted = sum(
            1
            for at, outcome in calls
            if outcome != "Busy" and first <= at.astimezone(zone).date() <= last
        )
        if counted >= 7:
            return False
    return not any(
        outcome == "Completed"
        and at.astimezone(zone).date() <= day < at.astimezone(zone).date() + timedelta(days=7)
        for at, outcome in calls
    )


def _each(ask: Callable[[datetime], object], points: list[datetime]) -> list[object]:
    return [ask(t) for t in points]


def history_workload(sizes: tuple[int, ...], count: int, rounds: int) -> list[Result]:
    """``for_customer(c, history=N calls).next_callable(t)``: a bisection per limit,
    whatever N; the naive scan is linear in N (and answers only yes or no)."""
    campaign = Campaign.from_dict(LIMITED_PAYLOAD)
    zone = ZoneInfo("America/New_York")
    customer = {"phoneNumber": "+12125550100", "properties": {"timezone": "America/New_York"}}
    results: list[Result] = []
    for size in sizes:
        rng = random.Random(size)
        start = datetime(2021, 1, 1, tzinfo=UTC)
        calls: list[tuple[datetime, str]] = []
        at = start
        for i in range(size):  # a call a day or so, and a burst of three now and then
            at += timedelta(minutes=20) if i % 50 in (1, 2) else timedelta(hours=26)
            calls.append((at, rng.choice(("No Answer", "Busy", "voicemail"))))
        view = campaign.for_customer(
            customer, history=[("+12125550100", at, outcome) for at, outcome in calls]
        )
        end = calls[-1][0]
        points = [start + (end - start) * rng.random() for _ in range(count)]
        peer_points = points[: max(1, count // max(1, size // 10))]
        ask = view.next_callable
        ours = race(
            f"next_callable with a history of {size:,} calls (3 limits)",
            "query",
            count,
            {"callslots next_callable()": partial(_each, ask, points)},
            rounds,
        )
        peer = race(
            f"next_callable with a history of {size:,} calls (3 limits)",
            "query",
            len(peer_points),
            {
                "naive scan, allowed(t) only": partial(
                    _each, partial(naive_allowed, calls, zone=zone), peer_points
                )
            },
            rounds,
        )
        results += ours + peer
    return results


SIMULATION_LIMITS = """
import sys, time
from callslots import Campaign, RandomOutcomes, simulate
n, limited = int(sys.argv[1]), sys.argv[2]
payload = {"timezone": "America/New_York", "startDate": "2024-01-01",
    "startTime": "09:00", "endTime": "17:00", "activeDays": [0, 1, 2, 3, 4],
    "callRetries": 3, "maxConcurrency": 5, "callIntervalSeconds": 30}
if limited != "none":
    payload["contactLimits"] = [
        {"maxCalls": 3, "days": 7, "window": "rolling"},
        {"maxCalls": 2, "days": 1, "window": "calendar", "count": "connected"}]
if limited == "rules":
    payload["callingRules"] = ["US"]
c = Campaign.from_dict(payload)
zones = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
states = ("NY", "FL", "CO", "CA")
customers = ({"phoneNumber": f"+1415{i:07d}",
              "properties": {"timezone": zones[i % 4], "state": states[i % 4]}}
             for i in range(n))
started = time.perf_counter()
sim = simulate(c, RandomOutcomes(1), customers)
attempts = sum(1 for _ in sim)
print(attempts, time.perf_counter() - started)
"""


def limits_rows(n: int, rounds: int) -> list[str]:
    """simulate() of the same customers without and with two contact limits (and with
    the US rule pack when the holidays package it needs is installed), alternating,
    each run in a fresh process."""
    import subprocess

    kinds = ["none", "limits"]
    if importlib.util.find_spec("holidays") is not None:  # the US pack needs it
        kinds.append("rules")
    times: dict[str, list[float]] = {k: [] for k in kinds}
    attempts: dict[str, int] = {}
    for _ in range(rounds):
        for kind in kinds:
            out = subprocess.run(
                [sys.executable, "-c", SIMULATION_LIMITS, str(n), kind],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            attempts[kind], seconds = int(out[0]), float(out[1])
            times[kind].append(seconds)
    base = statistics.median(times["none"])
    rows = [
        "| campaign | attempts | median seconds | min-max | attempts/s | cost vs no limits |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = {
        "none": "no limits",
        "limits": "2 contact limits (rolling 3 in 7 days, 2 connected a local day)",
        "rules": "the same and callingRules US",
    }
    for kind in kinds:
        median = statistics.median(times[kind])
        rows.append(
            f"| {names[kind]} | {attempts[kind]:,} | {median:.1f} | "
            f"{min(times[kind]):.1f}-{max(times[kind]):.1f} | {attempts[kind] / median:,.0f} "
            f"| {median / base:.2f}x |"
        )
    return rows


# -- report --------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    lines = [
        "| workload | contender | median | min-max | per op | ops/s | ratio to callslots "
        "| on the DST days |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    by_workload: dict[str, list[Result]] = {}
    for r in results:
        by_workload.setdefault(r.workload, []).append(r)
    for workload, group in by_workload.items():
        reference = group[0].median  # the first contender of a workload is callslots
        for r in group:
            lines.append(
                f"| {workload} | {r.contender} | {r.median * 1e3:.1f} ms "
                f"| {min(r.seconds) * 1e3:.1f}-{max(r.seconds) * 1e3:.1f} ms "
                f"| {r.median / r.operations * 1e6:.2f} µs | {r.operations / r.median:,.0f} "
                f"| {r.median / reference:.2f}x | {r.correct} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--rounds", type=int, default=7, help="rounds per contender (default 7)")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: a smoke run, not a measurement"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    rounds = 2 if args.quick else args.rounds
    results = windows_workload(1 if args.quick else 10, rounds)
    if not args.quick:
        results += windows_workload(50, rounds)
    results += next_callable_workload(200 if args.quick else 100_000, rounds)
    results += slots_workload(
        2_000 if args.quick else 1_000_000, 200 if args.quick else 20_000, rounds
    )
    results += slot_at_workload(200 if args.quick else 100_000, rounds)
    results += next_slot_workload(200 if args.quick else 100_000, 20 if args.quick else 300, rounds)
    results += retry_workload(2_000 if args.quick else 1_000_000, rounds)
    results += recipient_workload(
        1_000 if args.quick else 1_000_000, 200 if args.quick else 20_000, 2 if args.quick else 3
    )
    results += holidays_workload(1 if args.quick else 10, rounds)
    results += history_workload(
        (10, 1_000) if args.quick else (10, 1_000, 10_000), 200 if args.quick else 20_000, rounds
    )
    version, source = callslots.tz_database()
    print(
        f"callslots {callslots.__version__}, Python {platform.python_version()}, "
        f"tz database {version} ({source}), {platform.machine()}, {rounds} rounds, "
        f"{datetime.now(UTC):%Y-%m-%d}\n"
    )
    print(table(results))
    sizes = [1_000, 10_000] if args.quick else [10_000, 100_000, 1_000_000]
    print("\nsimulate(), 3 retries, RandomOutcomes(1), each size in a fresh process:\n")
    print("\n".join(simulation_rows(sizes)))
    print("\nsimulate() with contact limits, 3 retries, customers with timezone and state,")
    print("alternating runs, each in a fresh process:\n")
    print("\n".join(limits_rows(2_000 if args.quick else 1_000_000, 1 if args.quick else 3)))
    if importlib.util.find_spec("holidays") is not None:  # the pack's holiday rules
        from .packs import pack_rows

        print("\nsimulate() of customers over the 50 states and DC, the shipped US pack")
        print("against version 1 of it, alternating runs, each in a fresh process:\n")
        print("\n".join(pack_rows(2_000 if args.quick else 1_000_000, 1 if args.quick else 3)))
    print("\nDispatcher, public API: poll at next_wakeup(), ended() at once; then a")
    print("snapshot through json and a restore, each in a fresh process:\n")
    print("\n".join(dispatch_rows((2_000, 2_000) if args.quick else (100_000, 1_000_000))))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump([r.__dict__ for r in results], f, indent=2)
    sys.stdout.flush()
    return 0
