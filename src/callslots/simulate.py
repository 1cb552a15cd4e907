"""Simulation: play a campaign forward, retries included, deterministically.

``simulate`` is a driver of the live engine (:class:`~callslots.dispatch.Dispatcher`):
a virtual clock that polls at each instant the engine names, an outcome model
that decides how each call ends, and the end reported at once (the engine keeps
a line busy until a call's end).  So the preview and a production run follow the
same rules (docs/pacing.md, "Simulation"; docs/dispatch.md).

Memory grows with the retries waiting at a moment, not with the customers still to
dial (they are pulled from the iterable one at a time) nor with the attempts made
(they are yielded, not kept).  The exceptions: the 8-16 bytes a number that
remember which numbers were dialed, so that a repeated number is dialed once, and
the byte a call that remembers how each call ended.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from itertools import accumulate

from .dispatch import Attempt, Dispatcher, Summary
from .outcomes import Outcome
from .schedule import Schedule

__all__ = [
    "Attempt",
    "OutcomeModel",
    "RandomOutcomes",
    "ReplayOutcomes",
    "Simulation",
    "Summary",
    "simulate",
]

OutcomeModel = Callable[[int, int, datetime], tuple[Outcome | str, float]]
"""An outcome model for :func:`simulate`: ``(customer_index, attempt, at) ->
(outcome, duration in seconds)``, the outcome an :class:`Outcome` or its name."""


class Simulation:
    """An iterator of :class:`Attempt` in start-time order; once it is exhausted,
    :attr:`summary` holds the totals (reading it first plays the rest)."""

    def __init__(
        self, attempts: Iterator[Attempt], result: list[Summary], settings: str = ""
    ) -> None:
        self._attempts = attempts
        self._result = result
        self._settings = settings

    def __repr__(self) -> str:
        return f"Simulation({self._settings})"

    def __iter__(self) -> Iterator[Attempt]:
        return self._attempts  # the generator itself: no Python frame per attempt

    def __next__(self) -> Attempt:
        return next(self._attempts)

    def to_rows(self) -> Iterator[dict[str, object]]:
        """The remaining attempts as flat rows, one dict a call with the keys
        ``customer_index``, ``phone``, ``attempt`` (ints and a str), ``at``,
        ``ended_at``, ``retry_at`` (aware UTC datetimes; ``retry_at`` None when no
        retry follows) and ``outcome`` (its API name, a str).  Every row has every
        key, so ``pandas.DataFrame(list(sim.to_rows()))`` or
        ``polars.DataFrame(list(sim.to_rows()))`` load it with no parsing.  Consumes
        the simulation like iterating it does (then :attr:`summary` is at hand)."""
        for a in self._attempts:
            yield {
                "customer_index": a.customer_index,
                "phone": a.phone,
                "attempt": a.attempt,
                "at": a.at,
                "ended_at": a.ended_at,
                "outcome": a.outcome.value,
                "retry_at": a.retry_at,
            }

    @property
    def summary(self) -> Summary:
        """The totals of the whole simulation (plays it to its end when needed)."""
        for _ in self._attempts:
            pass
        return self._result[0]


def simulate(
    campaign: Schedule,
    outcomes: OutcomeModel,
    customers: Iterable[object] | None = None,
    start: datetime | None = None,
    history: Iterable[object] | None = None,
) -> Simulation:
    """Play ``campaign`` forward with ``outcomes`` deciding how each call ends.

    ``customers``: the payload's when None, else any iterable (see ``Campaign.plan``).
    ``start``: the first instant to call (default: the campaign's start).
    ``history``: calls made elsewhere, counted by the contact limits (docs/limits.md).
    """
    engine = Dispatcher(campaign, customers, history, start=start)
    result: list[Summary] = []
    shown = f"{campaign!r}, {outcomes!r}" + ("" if start is None else f", start={start}")
    return Simulation(_drive(engine, outcomes, result), result, shown)


def _drive(engine: Dispatcher, outcomes: OutcomeModel, result: list[Summary]) -> Iterator[Attempt]:
    """Poll at every instant the engine names; each call's end is decided by the
    model and reported at once (through the engine's public API, as a service
    would)."""
    u = engine.next_wakeup()
    while u is not None:
        dials = engine.poll(u)
        for dial in dials:
            outcome, seconds = outcomes(dial.customer_index, dial.attempt, dial.at)
            ended = _after(u, seconds)
            attempt = engine.ended(dial.call_id, outcome, ended)
            assert attempt is not None  # the first end of a call is never a duplicate
            yield attempt
        following = engine.next_wakeup()
        if not dials and following is not None and following <= u:
            raise RuntimeError(f"the dispatcher named {u} twice without a call: a bug")
        u = following
    _ = engine.finished  # accounts for what the end of the campaign cut off
    result.append(engine.summary)


#: The last second of the time line: an end past it is kept there (docs/dispatch.md, rule 5).
_LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)


def _after(u: datetime, seconds: float) -> datetime:
    """``u`` plus ``seconds`` rounded up to whole seconds, kept at the last second
    of the time line."""
    if not seconds > 0:
        return u
    try:
        return u + timedelta(seconds=math.ceil(seconds))
    except OverflowError:
        return _LAST


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
        weights: Mapping[Outcome | str, float] | None = None,
        duration: float | Mapping[Outcome | str, float] | None = None,
    ) -> None:
        self._shown = f"seed={seed}" + "".join(
            f", {name}={value!r}"
            for name, value in (("weights", weights), ("duration", duration))
            if value is not None
        )
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

    def __repr__(self) -> str:
        return f"RandomOutcomes({self._shown})"

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
        records: Mapping[tuple[int, int], tuple[Outcome | str, float]]
        | Iterable[Mapping[str, object]],
        default: tuple[Outcome | str, float] | None = None,
    ) -> None:
        table: dict[tuple[int, int], tuple[Outcome, float]] = {}
        if isinstance(records, Mapping):
            for (index, attempt), (outcome, seconds) in records.items():
                table[int(index), int(attempt)] = (Outcome.parse(outcome), float(seconds))
        else:
            for row in records:
                key = (_whole(row["customer_index"]), _whole(row["attempt"]))
                table[key] = (Outcome.parse(row["outcome"]), _seconds(row["duration"]))
        self._table = table
        self._default = None if default is None else (Outcome.parse(default[0]), float(default[1]))

    def __repr__(self) -> str:
        default = "" if self._default is None else f", default={self._default!r}"
        return f"ReplayOutcomes({len(self._table)} records{default})"

    def __call__(self, customer_index: int, attempt: int, at: datetime) -> tuple[Outcome, float]:
        found = self._table.get((customer_index, attempt), self._default)
        if found is None:
            raise KeyError(f"no recorded result for customer {customer_index}, attempt {attempt}")
        return found


def _whole(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected a whole number, not {value!r}")
    return int(value)


def _seconds(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a duration in seconds, not {value!r}")
    return float(value)
