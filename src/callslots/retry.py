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

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from .outcomes import Outcome
from .windows import to_seconds

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


def decide(
    campaign: Campaign,
    outcome: Outcome | str,
    attempt: int,
    ended_at: datetime,
    started_at: datetime | None = None,
) -> RetryDecision:
    """The retry decision for ``attempt`` (1 = the first call) that just ended."""
    outcome = Outcome.parse(outcome)
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise ValueError(f"attempt must be a whole number from 1 (the first call), not {attempt!r}")
    ended = to_seconds(ended_at, "ended_at")
    if started_at is not None and to_seconds(started_at, "started_at") > ended:
        raise ValueError(f"started_at ({started_at}) is after ended_at ({ended_at})")

    retries = campaign.call_retries
    if outcome is Outcome.COMPLETED:
        return _no("no retry: the call completed")
    if outcome not in campaign.retry_conditions:
        return _no(f"no retry: {outcome.value!r} is not in retryConditions")
    if attempt > retries:
        return _no(
            f"no retry: attempt {attempt} was the last one allowed "
            f"(callRetries {retries} means at most {retries + 1} attempts)"
        )
    delay = campaign.retry_delay_seconds
    earliest = ended_at.astimezone(timezone.utc) + timedelta(seconds=delay)
    what = f"{outcome.value!r} is a retry condition; attempt {attempt + 1} of {retries + 1}"
    if campaign.retry_delay_mode == "next_day":
        owner = campaign.day_of(started_at if started_at is not None else ended_at)
        at = campaign.next_callable_after_day(earliest, owner)
        rule = (
            f"the first callable time of an active day after {owner}, "
            f"not before ended_at + {delay} s"
        )
    else:
        at = campaign.next_callable(earliest)
        rule = f"the first callable time at or after ended_at + {delay} s"
    if at is None:
        return _no(f"no retry: {what}, but no callable time remains ({rule})")
    return RetryDecision(True, at, f"retry: {what}, at {rule}")
