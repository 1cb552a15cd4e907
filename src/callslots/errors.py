"""The error and warning values shared by every step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ConfigError", "DispatchError", "Problem"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about a campaign payload.

    ``path`` names the field with dots, list indexes and mapping keys included
    (``daySchedules.2.endTime``, ``activeDays.3``); it is ``""`` for the payload
    as a whole.  ``message`` says what is wrong and what would be right.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(campaign)'}: {self.message}"


class ConfigError(ValueError):
    """A campaign payload that cannot be scheduled; ``errors`` lists every problem."""

    def __init__(self, errors: Iterable[Problem]) -> None:
        self.errors: tuple[Problem, ...] = tuple(errors)
        count = len(self.errors)
        head = f"invalid campaign ({count} problem{'s' if count != 1 else ''})"
        super().__init__("\n".join([head, *(f"  {e}" for e in self.errors)]))


class DispatchError(ValueError):
    """A dispatcher caller's mistake: an unknown call, a conflicting event, time
    running backwards, a naive datetime, a snapshot that does not fit.  The
    engine's state is left exactly as it was (docs/dispatch.md)."""
