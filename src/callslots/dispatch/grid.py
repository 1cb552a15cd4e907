"""The campaign's slot grid, as the engine walks it (docs/dispatch.md, rules 1-2).

The slots of a campaign window are its opening and then every
``callIntervalSeconds`` before its end; the windows come from the compiled slot
table (:mod:`callslots.slots`), found by bisection, never by walking day by day.
"""

from __future__ import annotations

from ..slots import SlotIndex
from ..tz import MAX_UTC, MIN_UTC

__all__ = ["Grid"]


class Grid:
    """The slots of one campaign, with the stretch of window last looked up kept
    (most questions fall in it: a run moves forward through one window at a time)."""

    __slots__ = ("interval", "table", "window")

    def __init__(self, table: SlotIndex, interval: int) -> None:
        self.table = table
        self.interval = interval
        #: ``(s, b)``: a window's stretch from its slot ``s`` to its end ``b``.
        self.window = (MIN_UTC, MIN_UTC)

    def window_at(self, u: int) -> tuple[int, int] | None:
        """A stretch ``(s, b)`` of a campaign window, from its slot ``s`` to its end
        ``b``, that holds ``u``; else the one from the first slot after ``u``.
        None when no slot remains."""
        s, b = self.window
        if s <= u < b:
            return s, b
        table = self.table
        before = table.slot_index(u + 1) if u < MAX_UTC else table.slot_index(MAX_UTC)
        found = table.slot_at(before - 1) if before else None  # the last slot at or before u
        if found is not None and u < found[1]:
            self.window = found
            return found
        found = table.slot_at(before)  # the first slot after u
        if found is None:
            return None
        self.window = found
        return found

    def slot_from(self, u: int) -> int | None:
        """The first slot ``>= u``, or None."""
        a, b = self.window
        if not a <= u < b:
            window = self.window_at(u)
            if window is None:
                return None
            a, b = window
        if u <= a:
            return a
        s = a + -(-(u - a) // self.interval) * self.interval
        if s < b:
            return s
        window = self.window_at(b)
        return None if window is None else window[0]

    def slot_of(self, now: int) -> int | None:
        """The slot whose interval holds ``now``, when ``now`` is in a window."""
        a, b = self.window
        if not a <= now < b:
            a, b = self.window_at(now) or (MAX_UTC, MAX_UTC)
            if not a <= now < b:
                return None
        return a + (now - a) // self.interval * self.interval
