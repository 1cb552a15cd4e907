"""Retry decisions: whether, and when, a campaign calls a customer again.

The rules (docs/semantics.md, "Retries"): no retry when the outcome is not a
retry condition, when the attempt was the last one allowed, or when no callable
time remains.  Otherwise the retry is due at

* ``fixed``: the first callable instant at or after ``ended_at + retryDelaySeconds``;
* ``next_day``: the first instant, at or after ``ended_at + retryDelaySeconds``,
  in the window of an active day later than the day that owned the attempt
  (``day_of(started_at or ended_at)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .config import Settings
from .outcomes import Outcome
from .tz import MAX_UTC, civil_from_days
from .windows import Calendar, from_micros, from_seconds, split_seconds

__all__ = ["RetryDecision", "decide"]


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """``retry`` says whether to call again, ``at`` when (aware UTC), ``reason`` why."""

    retry: bool
    at: datetime | None
    reason: str


def _no(reason: str) -> RetryDecision:
    return RetryDecision(False, None, reason)


def refusal(settings: Settings, outcome: Outcome, attempt: int) -> str | None:
    """Why attempt ``attempt`` ending with ``outcome`` is not retried, or None."""
    retries = settings.call_retries
    if outcome is Outcome.COMPLETED:
        return "no retry: the call completed"
    if outcome not in settings.retry_conditions:
        return f"no retry: {outcome.value!r} is not in retryConditions"
    if attempt > retries:
        return (
            f"no retry: attempt {attempt} was the last one allowed "
            f"(callRetries {retries} means at most {retries + 1} attempts)"
        )
    return None


#: ``(u, first_day) -> first callable second >= u`` in a window of a day >= first_day
Search = Callable[[int, "int | None"], "int | None"]
#: ``u -> the day owning u`` (the local date when u is not callable)
Owner = Callable[[int], int]


def due(
    settings: Settings,
    calendar: Calendar,
    ended: int,
    started: int,
    search: Search | None = None,
    owner: Owner | None = None,
) -> int | None:
    """The due second of a retry, in whole UTC seconds, or None when no callable
    time remains (the rule of :func:`decide`, for callers that count in seconds).
    ``search`` finds callable time and ``owner`` names the day owning an instant
    (default: ``calendar``'s, the campaign's; a customer's view passes its own)."""
    find = calendar.next_callable if search is None else search
    earliest = ended + settings.retry_delay_seconds
    if earliest >= MAX_UTC:  # past the end of the time line: nothing is callable there
        return None
    if settings.retry_delay_mode == "next_day":
        return find(earliest, (calendar.day_of if owner is None else owner)(started) + 1)
    return find(earliest, None)


def decide(
    settings: Settings,
    calendar: Calendar,
    outcome: Outcome | str,
    attempt: int,
    ended_at: datetime,
    started_at: datetime | None = None,
    search: Search | None = None,
    owner: Owner | None = None,
) -> RetryDecision:
    """The retry decision for ``attempt`` (1 = the first call) that just ended
    (``search`` and ``owner``: see :func:`due`).

    Every aware ``ended_at`` has an answer, also at the ends of the time line (a
    retry that would fall after 9999-12-31T23:59:59Z is "no callable time
    remains").  ValueError for an ``attempt`` that is not a whole number from 1
    and for a ``started_at`` after ``ended_at``; ValueError too for an outcome
    name that is not one of :class:`Outcome` (from ``Outcome.parse``).
    """
    outcome = Outcome.parse(outcome)
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt must be a whole number from 1 (the first call), not {attempt!r}")
    ended, ended_us = split_seconds(ended_at, "ended_at")
    started = ended
    if started_at is not None:
        started, started_us = split_seconds(started_at, "started_at")
        if (started, started_us) > (ended, ended_us):
            raise ValueError(f"started_at ({started_at}) is after ended_at ({ended_at})")

    no = refusal(settings, outcome, attempt)
    if no is not None:
        return _no(no)
    retries = settings.call_retries
    delay = settings.retry_delay_seconds
    what = f"{outcome.value!r} is a retry condition; attempt {attempt + 1} of {retries + 1}"
    found = due(settings, calendar, ended, started, search, owner)
    if settings.retry_delay_mode == "next_day":
        owning = (calendar.day_of if owner is None else owner)(started)
        year, month, day = civil_from_days(owning)  # any year: started_at may be at an end
        after = f"{year:04d}-{month:02d}-{day:02d}"
        rule = (
            f"the first callable time of an active day after {after}, "
            f"not before ended_at + {delay} s"
        )
    else:
        rule = f"the first callable time at or after ended_at + {delay} s"
    if found is None:
        return _no(f"no retry: {what}, but no callable time remains ({rule})")
    # Whole seconds decide (every boundary is a whole second); when the earliest
    # instant itself is callable it is kept exactly, fraction of a second included.
    at = from_micros(found, ended_us) if found == ended + delay else from_seconds(found)
    return RetryDecision(True, at, f"retry: {what}, at {rule}")
