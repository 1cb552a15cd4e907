"""Contact limits: how often a customer may be called (docs/limits.md).

A limit is a set of forbidden instants derived from the calls already counted.
Everything here is in integer UTC **microseconds** (a history's instants may carry
fractions of a second); local dates are day numbers (days since 1970-01-01).

* A rolling limit of N calls in L microseconds forbids ``t`` exactly when N counted
  calls fit, together with ``t``, in less than L: for sorted starts ``c``, the union
  over ``j`` of the open intervals ``(c[j+N-1] - L, c[j] + L)``.  Both ends grow
  with ``j``, so the first allowed instant from ``t`` is found by a bisection and a
  short walk over the intervals that overlap.
* A calendar limit is the same on local day numbers (N calls in D dates), and the
  quiet period forbids the dates ``[d, d + D - 1]`` of each conversation date ``d``;
  a free date is turned into its first instant on the zone's clock, segment by
  segment (a fall-back across midnight can show a date again).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .outcomes import Outcome
from .tz import DAY, MAX_UTC, Zone

__all__ = [
    "CONNECTED",
    "MICROS",
    "ContactLimit",
    "QuietRule",
    "first_allowed_day",
    "first_allowed_instant",
    "first_allowed_rolling",
    "first_quiet_free_day",
]

MICROS = 1_000_000
#: The end of the time line in microseconds: nothing is allowed from here on.
END_US = MAX_UTC * MICROS

#: The outcomes that reached the person's line (docs/limits.md, section 3).
CONNECTED = frozenset(
    {
        Outcome.COMPLETED,
        Outcome.VOICEMAIL,
        Outcome.EXCEEDED_MAX_DURATION,
        Outcome.NO_ANSWER,
        Outcome.REJECTED,
        Outcome.CANCELLED,
        Outcome.TIMEOUT,
        Outcome.UNSPECIFIED,
    }
)


@dataclass(frozen=True, slots=True)
class ContactLimit:
    """At most ``max_calls`` counted calls in ``days`` (rolling: any ``days`` x 24 h;
    calendar: any ``days`` consecutive local dates), ``per`` ``"customer"`` or
    ``"number"``, counting ``"attempts"`` or ``"connected"`` calls.  ``name`` says
    where it comes from in explanations (``contactLimits.0``, or a rule's citation)."""

    max_calls: int
    days: int
    per: str = "customer"
    count: str = "attempts"
    window: str = "rolling"
    name: str = ""

    @property
    def span_us(self) -> int:
        """A rolling span in microseconds."""
        return self.days * DAY * MICROS

    def describe(self) -> str:
        span = (
            f"{self.days} consecutive local day{'s' if self.days != 1 else ''}"
            if self.window == "calendar"
            else f"any {self.days * 24} hours"
        )
        what = "connected calls" if self.count == "connected" else "calls"
        return f"at most {self.max_calls} {what} in {span}, per {self.per}"


@dataclass(frozen=True, slots=True)
class QuietRule:
    """No call to a customer on the ``days`` local dates that start with the date of
    a conversation (a ``Completed`` call).  ``name``: where it comes from."""

    days: int
    name: str = "quietAfterConversationDays"


def first_allowed_rolling(starts: Sequence[int], most: int, span: int, t: int) -> int:
    """The first instant ``>= t`` at which a new call keeps every span of length
    ``span`` at ``most`` calls or fewer, given the sorted ``starts`` (any unit)."""
    n = len(starts)
    if n < most:
        return t
    j = bisect_right(starts, t - span)  # intervals before j ended at or before t
    last = n - most
    while j <= last:
        if starts[j + most - 1] - span < t:  # t is inside interval j
            t = starts[j] + span
            j = bisect_right(starts, t - span, j + 1)
        else:
            return t  # every later interval starts later still
    return t


def first_allowed_day(days: Sequence[int], most: int, span: int, x: int) -> int:
    """:func:`first_allowed_rolling` on local day numbers: the first date ``>= x``
    on which a new call keeps every ``span`` consecutive dates at ``most`` calls or
    fewer, given the sorted call dates ``days``."""
    return first_allowed_rolling(days, most, span, x)


def first_quiet_free_day(days: Sequence[int], quiet: int, x: int) -> int:
    """The first date ``>= x`` outside ``[d, d + quiet - 1]`` for each sorted
    conversation date ``d`` in ``days``."""
    j = bisect_right(days, x - quiet)  # conversations whose quiet dates end before x
    while j < len(days) and days[j] <= x:
        x = days[j] + quiet
        j = bisect_right(days, x - quiet, j + 1)
    return x


def day_of_us(zone: Zone, u: int) -> int:
    """The local date (day number) of microsecond ``u`` on ``zone``'s clock."""
    s = u // MICROS
    return (s + zone.offset_at(s)) // DAY


def first_allowed_instant(zone: Zone, u: int, free_day: Callable[[int], int]) -> int | None:
    """The first microsecond ``>= u`` whose local date on ``zone`` is free, where
    ``free_day(x)`` is the first free date ``>= x``; None past the end of time.

    Within a stretch of constant offset the dates only grow, so a blocked date's
    next free one is met at its first instant there, or not in that stretch; the
    search then goes on from the stretch's end (where a date may show again)."""
    while u < END_US:
        s = u // MICROS
        _, end, offset = zone.segment_at(s)
        x = (s + offset) // DAY
        y = free_day(x)
        if y == x:
            return u
        first = y * DAY - offset
        if first < end:
            return first * MICROS if first < MAX_UTC else None
        u = end * MICROS
    return None


def bisect_count(starts: Sequence[int], first: int, end: int) -> int:
    """How many of the sorted ``starts`` lie in ``[first, end)``."""
    return bisect_left(starts, end) - bisect_left(starts, first)
