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
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .outcomes import Outcome
from .windows import day_date, from_seconds, to_seconds

if TYPE_CHECKING:
    from .campaign import Campaign

__all__ = ["RetryDecision", "decide"]


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """``retry`` says whether to call again, ``at`` when (aware UTC), ``reason`` why."""

    retry: bool
    at: datetime | None
    reason: str


def _no(reason: str) -> RetryDecision:
    return RetryDecision(False, None, reason)


def refusal(campaign: Campaign, outcome: Outcome, attempt: int) -> str | None:
    """Why attempt ``attempt`` ending with ``outcome`` is not retried, or None."""
    retries = campaign.call_retries
    if outcome is Outcome.COMPLETED:
        return "no retry: the call completed"
    if outcome not in campaign.retry_conditions:
        return f"no retry: {outcome.value!r} is not in retryConditions"
    if attempt > retries:
        return (
            f"no retry: attempt {attempt} was the last one allowed "
            f"(callRetries {retries} means at most {retries + 1} attempts)"
        )
    return None


#: ``(u, first_day) -> first callable second >= u`` in a window of a day >= first_day
Search = Callable[[int, "int | None"], "int | None"]


def due(campaign: Campaign, ended: int, started: int, search: Search | None = None) -> int | None:
    """The due second of a retry, in whole UTC seconds, or None when no callable
    time remains (the rule of :func:`decide`, for callers that count in seconds).
    ``search`` finds callable time (default: the campaign's; a customer's view
    passes its own)."""
    calendar = campaign.calendar
    find = calendar.next_callable if search is None else search
    earliest = ended + campaign.retry_delay_seconds
    if campaign.retry_delay_mode == "next_day":
        return find(earliest, calendar.day_of(started) + 1)
    return find(earliest, None)


def decide(
    campaign: Campaign,
    outcome: Outcome | str,
    attempt: int,
    ended_at: datetime,
    started_at: datetime | None = None,
    search: Search | None = None,
) -> RetryDecision:
    """The retry decision for ``attempt`` (1 = the first call) that just ended
    (``search``: see :func:`due`)."""
    outcome = Outcome.parse(outcome)
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt must be a whole number from 1 (the first call), not {attempt!r}")
    ended = to_seconds(ended_at, "ended_at")
    if started_at is not None and to_seconds(started_at, "started_at") > ended:
        raise ValueError(f"started_at ({started_at}) is after ended_at ({ended_at})")

    no = refusal(campaign, outcome, attempt)
    if no is not None:
        return _no(no)
    retries = campaign.call_retries
    delay = campaign.retry_delay_seconds
    earliest = ended_at.astimezone(timezone.utc) + timedelta(seconds=delay)
    what = f"{outcome.value!r} is a retry condition; attempt {attempt + 1} of {retries + 1}"
    started = to_seconds(started_at, "started_at") if started_at is not None else ended
    found = due(campaign, ended, started, search)
    if campaign.retry_delay_mode == "next_day":
        owner = day_date(campaign.calendar.day_of(started))
        rule = (
            f"the first callable time of an active day after {owner}, "
            f"not before ended_at + {delay} s"
        )
    else:
        rule = f"the first callable time at or after ended_at + {delay} s"
    if found is None:
        return _no(f"no retry: {what}, but no callable time remains ({rule})")
    # Whole seconds decide (every boundary is a whole second); when `earliest`
    # itself is callable it is kept exactly, fraction of a second included.
    at = earliest if found == ended + delay else from_seconds(found)
    return RetryDecision(True, at, f"retry: {what}, at {rule}")
