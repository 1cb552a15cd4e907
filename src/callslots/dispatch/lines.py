"""The lines (docs/dispatch.md, rule 3): at most ``maxConcurrency`` calls at once.

A call on the line (dialing, in progress, in doubt) holds one until it ends; a
call reported ended at ``t`` holds it until ``t``, which may be later than the
last poll.  So the lines busy at a slot are the calls on the line and the ended
calls whose end is after it: those ends wait in a heap, dropped once passed.
"""

from __future__ import annotations

import heapq

from ..tz import MIN_UTC

__all__ = ["Lines"]


class Lines:
    """``count`` lines, and the ends of the ended calls that may still hold one."""

    __slots__ = ("count", "ends")

    def __init__(self, count: int) -> None:
        self.count = count
        self.ends: list[int] = []  # a heap

    def ended(self, ended: int, slot: int) -> None:
        """A call on ``slot`` ended at ``ended``: its line is held until then."""
        if ended > slot:
            heapq.heappush(self.ends, ended)

    def busy_at(self, s: int, on_the_line: int) -> int:
        """The lines held at ``s`` (the ends at or before it are dropped)."""
        ends = self.ends
        while ends and ends[0] <= s:
            heapq.heappop(ends)
        return on_the_line + len(ends)

    def free_from(self, on_the_line: int) -> int | None:
        """The first instant a line is free, counting ended calls that last longer;
        None while calls that have not ended hold every line."""
        free = self.count - on_the_line
        if free <= 0:
            return None
        ends = self.ends
        if len(ends) < free:
            return MIN_UTC
        if len(ends) == free:  # the common case when every line is used: no sort
            return ends[0]
        return heapq.nlargest(free, ends)[-1]
