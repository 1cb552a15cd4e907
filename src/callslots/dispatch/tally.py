"""The totals of a run, and the one place that counts a customer as done.

Every distinct customer read is, at any moment, in exactly one of ``pending``
(waiting, dialing or in a call) or one of the final totals.  A customer leaves
``pending`` only through :meth:`Tally.finish`, so no two places can count one
customer differently (docs/dispatch.md, "Totals").
"""

from __future__ import annotations

from collections import Counter
from enum import Enum

from ..outcomes import Outcome
from ..tz import Zone
from ..windows import from_seconds
from .values import Summary, by_date

__all__ = ["EXPIRED", "FINAL_STATES", "NOT_STARTED", "OUTCOMES", "Done", "Tally"]

OUTCOMES = tuple(Outcome)
#: A call's final state by id (a byte each): 0 while on the line, an outcome's
#: code (1-based, in OUTCOMES' order) once ended, or one of these.
NOT_STARTED, EXPIRED = 254, 253
FINAL_STATES = frozenset([0, *range(1, len(OUTCOMES) + 1), NOT_STARTED, EXPIRED])


class Done(Enum):
    """How a customer's run ended, as :meth:`Tally.finish` counts it."""

    #: A call of it completed (or one completed before the callback now ending).
    REACHED = "reached"
    #: Dialed, never completed, nothing left to try.
    NOT_REACHED = "not reached"
    #: Dialed, never completed, and the retry the rule allowed found no time left.
    CUT_OFF = "cut off"
    #: Never dialed: no callable time left for it, or none ever.
    UNSCHEDULED = "unscheduled"
    #: Cancelled (an opt-out), whatever its calls did.
    CANCELLED = "cancelled"


class Tally:
    """The counters a :class:`Summary` is made of, kept as the run goes."""

    __slots__ = (
        "attempts",
        "by_code",
        "cancelled",
        "cut_off",
        "expired",
        "finished_at",
        "held_by_limits",
        "not_reached",
        "pending",
        "per_day",
        "reached",
        "repeats",
        "segment",
        "unscheduled",
        "zone",
    )

    #: The counters a snapshot holds, in its order (format version 1).
    SNAPSHOT_ORDER = (
        "attempts",
        "reached",
        "not_reached",
        "cut_off",
        "unscheduled",
        "repeats",
        "cancelled",
        "expired",
        "pending",
        "finished_at",
    )

    def __init__(self, zone: Zone) -> None:
        self.zone = zone  # the campaign's: calls are counted by its local date
        self.attempts = self.reached = self.not_reached = self.cut_off = 0
        self.unscheduled = self.repeats = self.cancelled = self.expired = 0
        self.pending = 0  # distinct customers read and not yet done
        self.held_by_limits = 0  # attempts put back by their limits (Summary)
        self.finished_at: int | None = None  # the latest reported end
        self.by_code = [0] * (len(OUTCOMES) + 1)  # attempts by outcome code (1-based)
        self.per_day: Counter[int] = Counter()  # attempts by local day number of the slot
        self.segment = (0, 0, 0)  # the zone's segment of the last call: (first, end, offset)

    def finish(self, done: Done, reached: bool = False) -> None:
        """A pending customer is done: count it once.  ``reached``: a call of it
        completed earlier (a callback after it was asked for), which wins over
        anything but a cancellation."""
        self.pending -= 1
        if done is Done.CANCELLED:
            self.cancelled += 1
        elif reached or done is Done.REACHED:
            self.reached += 1
        elif done is Done.UNSCHEDULED:
            self.unscheduled += 1
        elif done is Done.CUT_OFF:
            self.cut_off += 1
            self.not_reached += 1
        else:
            self.not_reached += 1

    def count_call(self, code: int, slot: int, ended: int) -> None:
        """A call finished: by its outcome code, its slot's local date, its end."""
        self.attempts += 1
        self.by_code[code] += 1
        first, end, offset = self.segment
        if not first <= slot < end:
            first, end, offset = self.segment = self.zone.segment_at(slot)
        self.per_day[(slot + offset) // 86400] += 1
        if self.finished_at is None or ended > self.finished_at:
            self.finished_at = ended

    def summary(self, in_progress: int) -> Summary:
        return Summary(
            finished_at=None if self.finished_at is None else from_seconds(self.finished_at),
            attempts=self.attempts,
            attempts_by_outcome={
                o: n for o, n in zip(OUTCOMES, self.by_code[1:], strict=True) if n
            },
            reached=self.reached,
            not_reached=self.not_reached,
            cut_off=self.cut_off,
            unscheduled=self.unscheduled,
            repeats=self.repeats,
            calls_per_day=by_date(self.per_day),
            cancelled=self.cancelled,
            expired=self.expired,
            pending=self.pending,
            in_progress=in_progress,
            held_by_limits=self.held_by_limits,
        )
