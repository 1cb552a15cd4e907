"""Simulation: play a campaign forward, retries included, deterministically.

The rules (docs/pacing.md, "Simulation"):

* calls start only on slots, at most one per slot;
* at a slot a call starts only while fewer than ``maxConcurrency`` calls are in
  progress;
* the call started is the pending attempt with the earliest due time (every first
  attempt is due at the start, a retry at the time ``campaign.retry`` gives), ties
  broken by customer order;
* a retry exists exactly when ``campaign.retry`` says so;
* stretches with nothing to do are skipped in one step, never slot by slot.

Memory grows with the retries waiting at a moment, not with the customers still to
dial (they are pulled from the iterable one at a time) nor with the attempts made
(they are yielded, not kept).  The one exception: the 8-16 bytes a number that
remember which numbers were dialed, so that a repeated number is dialed once.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from .customers import read_phones
from .outcomes import Outcome
from .retry import due, refusal
from .tz import MAX_UTC, MIN_UTC
from .windows import day_date, from_seconds, to_seconds

if TYPE_CHECKING:
    from .campaign import Campaign

__all__ = [
    "Attempt",
    "OutcomeModel",
    "RandomOutcomes",
    "ReplayOutcomes",
    "Simulation",
    "Summary",
    "simulate",
]

#: ``(customer_index, attempt, at) -> (outcome, duration in seconds)``
OutcomeModel = Callable[[int, int, datetime], tuple[Any, float]]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One call: customer ``customer_index`` (position in the customer list), its
    ``attempt`` number (1 = first), start ``at``, ``ended_at``, ``outcome``, and
    ``retry_at``, the due time of the next attempt (None when there is none)."""

    customer_index: int
    phone: str
    attempt: int
    at: datetime
    ended_at: datetime
    outcome: Outcome
    retry_at: datetime | None


@dataclass(frozen=True, slots=True)
class Summary:
    """The result of a whole simulation.

    ``reached``: customers with a completed call.  ``not_reached``: dialed, never
    completed, and no retry left (attempts used up, an outcome that is not retried,
    or a retry that the campaign's end cut off: ``cut_off`` counts those).
    ``unscheduled``: never dialed before the campaign ended.  ``repeats``: list
    entries whose number came earlier (dialed once).  ``calls_per_day``: calls by
    the local date (campaign zone) they started on.
    """

    finished_at: datetime | None
    attempts: int
    attempts_by_outcome: Mapping[Outcome, int]
    reached: int
    not_reached: int
    cut_off: int
    unscheduled: int
    repeats: int
    calls_per_day: Mapping[date, int] = field(default_factory=dict)


class Simulation:
    """An iterator of :class:`Attempt` in start-time order; once it is exhausted,
    :attr:`summary` holds the totals (reading it first plays the rest)."""

    def __init__(self, attempts: Iterator[Attempt], result: list[Summary]) -> None:
        self._attempts = attempts
        self._result = result

    def __iter__(self) -> Iterator[Attempt]:
        return self._attempts  # the generator itself: no Python frame per attempt

    def __next__(self) -> Attempt:
        return next(self._attempts)

    @property
    def summary(self) -> Summary:
        for _ in self._attempts:
            pass
        return self._result[0]


def simulate(
    campaign: Campaign,
    outcomes: OutcomeModel,
    customers: Iterable[object] | None = None,
    start: datetime | None = None,
) -> Simulation:
    """Play ``campaign`` forward with ``outcomes`` deciding how each call ends.

    ``customers``: the payload's when None, else any iterable (see ``Campaign.plan``).
    ``start``: the first instant to call (default: the campaign's start).
    """
    first = (
        MIN_UTC if start is None else to_seconds(start, "start") + (1 if start.microsecond else 0)
    )
    source: Iterable[object] = campaign.customers if customers is None else customers
    result: list[Summary] = []
    if campaign.recipient_hours is not None:  # each customer's own hours: sharing.py
        from .sharing import play_shared

        return Simulation(play_shared(campaign, outcomes, source, first, result), result)
    return Simulation(_play(campaign, outcomes, source, first, result), result)


def _play(
    campaign: Campaign,
    outcomes: OutcomeModel,
    source: Iterable[object],
    first: int,
    result: list[Summary],
) -> Iterator[Attempt]:
    calendar = campaign.calendar
    interval, lines = campaign.call_interval_seconds, campaign.max_concurrency
    people = read_phones(source)
    # keyed by id(): an Enum member hashes in Python, an int in C
    by_outcome = dict.fromkeys(map(id, Outcome), 0)
    per_day: Counter[int] = Counter()
    zone = calendar.zone
    seg_first = seg_end = offset = 0  # the zone's segment of the last call, for its local day
    day = calls = 0
    day_end = MIN_UTC  # the local day of the last call, its calls, and its end (UTC)
    reached = not_reached = attempts = 0
    finished = -1
    push, pop, completed = heapq.heappush, heapq.heappop, Outcome.COMPLETED
    # from_seconds guards against platforms whose time_t stops at 1970; a campaign
    # that starts later can use fromtimestamp directly, a third cheaper per call.
    after_1970 = max(first, calendar.first_day * 86400 - zone.max_offset, calendar.start_at) >= 0
    fromtimestamp, utc = datetime.fromtimestamp, timezone.utc

    def slow(u: int, _: object) -> datetime:
        return from_seconds(u)

    stamp = fromtimestamp if after_1970 else slow
    busy: list[int] = []  # end seconds of the calls in progress
    waiting: list[tuple[int, int, int, str]] = []  # (due, customer, attempt, phone)

    read = distinct = 0  # list entries read, and how many were new numbers

    def counted() -> Iterator[tuple[int, str]]:
        nonlocal read, distinct
        for index, phone, new in people:
            read = index + 1
            if new:
                distinct += 1
                yield index, phone

    firsts = counted()
    person = next(firsts, None)
    # Whether attempt n ending with an outcome is retried, for every pair, from the
    # rule itself (refusal), so that the loop only looks it up.
    retried = {  # id(outcome) -> the attempt numbers it is retried after
        id(outcome): frozenset(
            n for n in range(1, campaign.call_retries + 2) if refusal(campaign, outcome, n) is None
        )
        for outcome in Outcome
    }
    delay, fixed = campaign.retry_delay_seconds, campaign.retry_delay_mode == "fixed"
    new = object.__new__
    slot = vars(Attempt)
    set_index, set_phone = slot["customer_index"].__set__, slot["phone"].__set__
    set_attempt, set_at = slot["attempt"].__set__, slot["at"].__set__
    set_ended, set_outcome = slot["ended_at"].__set__, slot["outcome"].__set__
    set_retry = slot["retry_at"].__set__
    for a, b in calendar.spans(first, MAX_UTC):
        s = a
        while s < b:
            while busy and busy[0] <= s:
                pop(busy)
            if len(busy) >= lines:  # every line taken: the first slot after one frees
                s = a + -(-(busy[0] - a) // interval) * interval
                continue
            if person is not None:
                (index, phone), number = person, 1
                person = next(firsts, None)
            elif waiting and waiting[0][0] <= s:
                _, index, number, phone = pop(waiting)
            elif waiting:  # nothing due yet: the first slot at or after the next due time
                s = a + max(0, -(-(waiting[0][0] - a) // interval)) * interval
                continue
            else:
                break
            at = stamp(s, utc)
            outcome, seconds = outcomes(index, number, at)
            if not isinstance(outcome, Outcome):
                outcome = Outcome.parse(outcome)
            ended = s + math.ceil(seconds) if seconds > 0 else s  # whole seconds, rounded up
            retry = None
            key = id(outcome)
            if number in retried[key]:
                retry = ended + delay
                # Inside this span the earliest time is callable itself (fixed mode).
                if not (fixed and retry < b):
                    retry = due(campaign, ended, s)
            if retry is not None:
                push(waiting, (retry, index, number + 1, phone))
            elif outcome is completed:
                reached += 1
            else:
                not_reached += 1
            push(busy, ended)
            attempts += 1
            by_outcome[key] += 1
            if s >= day_end:  # calls start in time order: count by day in runs
                per_day[day] += calls
                if not seg_first <= s < seg_end:
                    seg_first, seg_end, offset = zone.segment_at(s)
                day, calls = (s + offset) // 86400, 0
                # the day's end, or the segment's, whichever comes first
                day_end = min((day + 1) * 86400 - offset, seg_end)
            calls += 1
            if ended > finished:
                finished = ended
            record = new(Attempt)  # a third of the time Attempt(...) takes
            set_index(record, index)
            set_phone(record, phone)
            set_attempt(record, number)
            set_at(record, at)
            set_ended(record, stamp(ended, utc))
            set_outcome(record, outcome)
            set_retry(record, None if retry is None else stamp(retry, utc))
            yield record
            s += interval
        else:
            continue
        break  # nothing left to do
    per_day[day] += calls
    unscheduled = 0
    while person is not None:
        unscheduled += 1
        person = next(firsts, None)
    repeats = read - distinct
    result.append(
        Summary(
            finished_at=None if finished < 0 else from_seconds(finished),
            attempts=attempts,
            attempts_by_outcome={o: by_outcome[id(o)] for o in Outcome if by_outcome[id(o)]},
            reached=reached,
            not_reached=not_reached + len(waiting),
            cut_off=len(waiting),
            unscheduled=unscheduled,
            repeats=repeats,
            calls_per_day={day_date(d): n for d, n in sorted(per_day.items()) if n},
        )
    )


_M64 = 0xFFFFFFFFFFFFFFFF


def _mix(x: int) -> int:
    """SplitMix64: a well-spread 64-bit hash, so outcomes do not depend on call order."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


DEFAULT_WEIGHTS: Mapping[str, float] = {
    "Completed": 0.35,
    "No Answer": 0.30,
    "voicemail": 0.15,
    "Busy": 0.10,
    "Unreachable": 0.05,
    "Rejected": 0.05,
}


class RandomOutcomes:
    """A seeded random outcome model.

    The outcome of attempt ``n`` of customer ``i`` depends only on ``(seed, i, n)``,
    not on when or in which order calls happen, so it is the same in every process
    and for every pacing.  ``weights`` maps outcomes to relative weights (default
    :data:`DEFAULT_WEIGHTS`).  ``duration`` is the mean call length in seconds, one
    number or a mapping by outcome (default 180 s for a completed call, 30 s for the
    rest); lengths are exponentially distributed and at least 1 second.
    """

    def __init__(
        self,
        seed: int,
        weights: Mapping[Any, float] | None = None,
        duration: float | Mapping[Any, float] | None = None,
    ) -> None:
        given = DEFAULT_WEIGHTS if weights is None else weights
        pairs = [(Outcome.parse(name), float(weight)) for name, weight in given.items()]
        if (
            not pairs
            or any(w < 0 or not math.isfinite(w) for _, w in pairs)
            or sum(w for _, w in pairs) <= 0
        ):
            raise ValueError("weights must be finite, not negative, and not all zero")
        total = sum(w for _, w in pairs)
        self._outcomes = [o for o, _ in pairs]
        self._cumulative = list(accumulate(w / total for _, w in pairs))
        if duration is None:
            means = {o: (180.0 if o is Outcome.COMPLETED else 30.0) for o in self._outcomes}
        elif isinstance(duration, Mapping):
            means = {Outcome.parse(k): float(v) for k, v in duration.items()}
        else:
            means = {o: float(duration) for o in self._outcomes}
        self._mean_list = [means.get(o, 30.0) for o in self._outcomes]
        self._count = len(self._outcomes)
        if any(m < 0 or not math.isfinite(m) for m in self._mean_list):
            raise ValueError("durations must be finite and not negative")
        self._seed = _mix(seed & 0xFFFFFFFFFFFFFFFF)

    def __call__(self, customer_index: int, attempt: int, at: datetime) -> tuple[Outcome, float]:
        # _mix(seed ^ key), written out: this runs once per simulated call.
        h = ((self._seed ^ ((customer_index << 8) | attempt)) + 0x9E3779B97F4A7C15) & _M64
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _M64
        h ^= h >> 31
        # The high 32 bits choose the outcome, the low 32 bits its length.
        i = bisect_right(self._cumulative, (h >> 32) * 2.3283064365386963e-10)
        if i == self._count:  # rounding at the top edge
            i -= 1
        seconds = -self._mean_list[i] * math.log1p(-(h & 0xFFFFFFFF) * 2.3283064365386963e-10)
        return self._outcomes[i], seconds if seconds > 1.0 else 1.0


class ReplayOutcomes:
    """Recorded results played back: ``records`` maps ``(customer_index, attempt)`` to
    ``(outcome, duration)``, or is an iterable of mappings with those four keys
    (``customer_index``, ``attempt``, ``outcome``, ``duration``).  An attempt with no
    record gets ``default`` when given, else raises KeyError naming it."""

    def __init__(
        self,
        records: Mapping[tuple[int, int], tuple[Any, float]] | Iterable[Mapping[str, Any]],
        default: tuple[Any, float] | None = None,
    ) -> None:
        table: dict[tuple[int, int], tuple[Outcome, float]] = {}
        if isinstance(records, Mapping):
            for (index, attempt), (outcome, seconds) in records.items():
                table[int(index), int(attempt)] = (Outcome.parse(outcome), float(seconds))
        else:
            for row in records:
                key = (int(row["customer_index"]), int(row["attempt"]))
                table[key] = (Outcome.parse(row["outcome"]), float(row["duration"]))
        self._table = table
        self._default = None if default is None else (Outcome.parse(default[0]), float(default[1]))

    def __call__(self, customer_index: int, attempt: int, at: datetime) -> tuple[Outcome, float]:
        found = self._table.get((customer_index, attempt), self._default)
        if found is None:
            raise KeyError(f"no recorded result for customer {customer_index}, attempt {attempt}")
        return found
