"""The correctness column: how often each contender breaks the wall-clock rule.

The rule (docs/semantics.md): with a daily 00:00-04:00 window and a call every 30 s,
the right instants of a day are exactly those whose wall clock in the zone reads
00:00:00, 00:00:30, ..., 03:59:30 on that day; a wall time skipped by a spring-forward
gap has no instant, and one repeated by a fall-back has two.  The expected set is
built here from ``zoneinfo`` alone, by trying every wall time under every UTC offset
the zone has that day.

For a contender's instants over the same days we count

* ``missing``: right instants it never gives,
* ``extra``: instants it gives that are not right (a wall time that does not exist,
  moved to some other instant, or an hour given once too often),
* ``duplicates``: the same instant given twice,
* ``nonexistent``: instants given as a local wall time that never happens on that
  day's clock (a datetime inside a gap).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
#: The DST days of 2024 that the column looks at: (zone, local date).
DAYS = [
    ("America/New_York", date(2024, 3, 10)),
    ("America/New_York", date(2024, 11, 3)),
    ("Europe/Prague", date(2024, 3, 31)),
    ("Europe/Prague", date(2024, 10, 27)),
    ("Australia/Lord_Howe", date(2024, 4, 7)),
    ("Australia/Lord_Howe", date(2024, 10, 6)),
]
STEP = 30
WINDOW_END = 4 * 3600  # 00:00-04:00


def expected(zone: str, day: date) -> set[int]:
    """The right instants (UTC seconds) of ``day``, from zoneinfo alone."""
    tz = ZoneInfo(zone)
    midnight = datetime.combine(day, time(), tz)
    offsets = {
        int((midnight + timedelta(hours=h)).utcoffset().total_seconds())  # type: ignore[union-attr]
        for h in range(-12, 36)
    }
    local_midnight = int(datetime.combine(day, time(), UTC).timestamp())
    found = set()
    for second in range(0, WINDOW_END, STEP):
        wall = local_midnight + second  # the wall time as if it were UTC
        for offset in offsets:
            u = wall - offset
            local = datetime.fromtimestamp(u, tz)
            if (
                local.date() == day
                and local.hour * 3600 + local.minute * 60 + local.second == second
            ):
                found.add(u)
    return found


def real_wall_time(t: datetime) -> bool:
    """Whether aware ``t``'s wall time exists in its zone (not inside a gap)."""
    return t.astimezone(UTC).astimezone(t.tzinfo).replace(tzinfo=None) == t.replace(tzinfo=None)


def count(
    zone: str, day: date, produce: Callable[[ZoneInfo, datetime, datetime], Iterable[datetime]]
) -> dict[str, int]:
    """Compare a contender's instants of ``day`` with the rule."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(), tz) - timedelta(hours=2)  # before the day
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    right = expected(zone, day)
    given = [t for t in produce(tz, start, end) if start <= t < end]
    seconds = [int(t.timestamp()) for t in given]
    unique = set(seconds)
    return {
        "missing": len(right - unique),
        "extra": len(unique - right),
        "duplicates": len(seconds) - len(unique),
        "nonexistent": sum(1 for t in given if t.tzinfo is not UTC and not real_wall_time(t)),
    }


def column(produce: Callable[[ZoneInfo, datetime, datetime], Iterable[datetime]]) -> dict[str, int]:
    """The counts summed over every day of :data:`DAYS`."""
    total = {"missing": 0, "extra": 0, "duplicates": 0, "nonexistent": 0}
    for zone, day in DAYS:
        for key, n in count(zone, day, produce).items():
            total[key] += n
    return total


def describe(counts: dict[str, int]) -> str:
    wrong = {k: n for k, n in counts.items() if n}
    return "right" if not wrong else ", ".join(f"{n} {k}" for k, n in wrong.items())


# -- the contenders, each producing the instants of [start, end) for 00:00-04:00 every 30 s


def callslots_slots(tz: ZoneInfo, start: datetime, end: datetime) -> Iterable[datetime]:
    from callslots import Campaign

    campaign = Campaign.from_dict(
        {
            "timezone": tz.key,
            "startDate": str(start.astimezone(tz).date() - timedelta(days=1)),
            "endDate": str(end.astimezone(tz).date()),
            "startTime": "00:00",
            "endTime": "04:00",
            "callIntervalSeconds": STEP,
        }
    )
    for t in campaign.slots(start):
        if t >= end:
            return
        yield t


def croniter_slots(tz: ZoneInfo, start: datetime, end: datetime) -> Iterable[datetime]:
    from croniter import croniter

    it = croniter("* 0-3 * * * */30", start - timedelta(seconds=1))
    while (t := it.get_next(datetime)) < end:
        yield t


def cronsim_slots(tz: ZoneInfo, start: datetime, end: datetime) -> Iterable[datetime]:
    from cronsim import CronSim

    for t in CronSim("*/30 * 0-3 * * *", start - timedelta(seconds=1)):
        if t >= end:
            return
        yield t


def rrule_slots(tz: ZoneInfo, start: datetime, end: datetime) -> Iterable[datetime]:
    from dateutil.rrule import SECONDLY, rrule

    first = datetime.combine(start.date(), time(), tz)
    return rrule(SECONDLY, interval=STEP, byhour=(0, 1, 2, 3), dtstart=first).between(
        start, end, inc=True
    )


def plain_slots(tz: ZoneInfo, start: datetime, end: datetime) -> Iterable[datetime]:
    """Each day's two ends converted with combine().astimezone(), then every 30 s."""
    day = start.astimezone(tz).date() - timedelta(days=1)
    while datetime.combine(day, time(), tz) < end:
        a = int(datetime.combine(day, time(0), tz).timestamp())
        b = int(datetime.combine(day, time(4), tz).timestamp())
        yield from (datetime.fromtimestamp(u, UTC) for u in range(a, b, STEP))
        day += timedelta(days=1)


SLOT_CONTENDERS = {
    "callslots slots()": callslots_slots,
    "croniter get_next()": croniter_slots,
    "cronsim": cronsim_slots,
    "dateutil rrule": rrule_slots,
    "plain fromtimestamp() loop over each window": plain_slots,
}


QUERIES_PER_DAY = 40
QUERIES = QUERIES_PER_DAY * len(DAYS)


def wrong_answers(
    produce: Callable[[ZoneInfo, datetime, datetime], Iterable[datetime]],
    queries: int = QUERIES_PER_DAY,
) -> int:
    """Of ``queries`` instants spread over each DST day, how many times the
    contender's next instant at or after the query is not the rule's."""
    wrong = 0
    for zone, day in DAYS:
        tz = ZoneInfo(zone)
        right = sorted(expected(zone, day))
        first = int(datetime.combine(day, time(), tz).timestamp()) - 3600
        for k in range(queries):
            t = first + k * (right[-1] - first) // queries
            at = datetime.fromtimestamp(t, tz)
            answer = next((a for a in produce(tz, at, at + timedelta(days=1)) if a >= at), None)
            truth = next(u for u in right if u >= t)
            if answer is None or int(answer.timestamp()) != truth:
                wrong += 1
    return wrong
