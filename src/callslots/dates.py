"""Date exceptions: blackout days, per-date windows, and public holidays.

These are the rules that name calendar dates of the campaign zone rather than
weekdays (docs/compliance.md, "Date exceptions").  For local date ``d`` in the
campaign's range, in this order:

1. a day the zone skips entirely owns no window (docs/semantics.md);
2. a ``dateSchedules`` entry gives ``d`` its window, even on an inactive weekday
   and even on a public holiday;
3. a ``blackoutDates`` entry, a date named by a ``blackoutRules`` rule (see
   :mod:`callslots.recurrence`) or a public holiday of ``holidays`` leaves ``d``
   without a window;
4. otherwise the weekly rule applies (``activeDays``, ``daySchedules``).

A rule only ever replaces the window *owned by* its date: the after-midnight tail
of the previous day's overnight window is the previous day's and stays.

Public holidays come from the ``holidays`` package (the optional extra
``callslots[holidays]``), resolved once, when the campaign is read, for the years
of its range, and kept as a list of dates and names, so that a campaign behaves the
same wherever it is unpickled or re-read from ``to_dict()``.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import date

from .windows import Hours

__all__ = ["HOLIDAYS_INSTALL", "DayRule", "Holidays", "resolve"]

HOLIDAYS_INSTALL = "pip install 'callslots[holidays]'"


@dataclass(frozen=True, slots=True)
class Holidays:
    """The public holidays of ``country`` (ISO 3166-1, such as ``"US"``) and optionally
    ``subdivision`` (ISO 3166-2 without the country, such as ``"CA"``): ``dates`` are
    the holidays that fall in the campaign's years, sorted, with their names."""

    country: str
    subdivision: str | None
    dates: tuple[tuple[date, str], ...]

    @property
    def label(self) -> str:
        """The calendar's name: ``US``, or ``US-CA`` with a subdivision."""
        return self.country if self.subdivision is None else f"{self.country}-{self.subdivision}"

    def name_of(self, day: date) -> str | None:
        """The holiday's name on ``day``, or None."""
        i = bisect_left(self.dates, (day, ""))  # sorted by date
        if i < len(self.dates) and self.dates[i][0] == day:
            return self.dates[i][1]
        return None


@dataclass(frozen=True, slots=True)
class DayRule:
    """Which rule gives local date ``day`` its window: ``hours`` (None: no window),
    ``rule`` one of ``"weekly"``, ``"inactive weekday"``, ``"dateSchedules"``,
    ``"blackoutDates"``, ``"blackoutRules"``, ``"holiday"``, ``"skipped"`` (the zone
    skips the date), ``"before start"``, ``"after end"``; ``reason`` says it in words."""

    day: date
    hours: Hours | None
    rule: str
    reason: str


def resolve(
    country: str, subdivision: str | None, first_year: int, last_year: int
) -> tuple[tuple[tuple[date, str], ...], int]:
    """The holidays of the years ``first_year..last_year`` that the ``holidays``
    package covers, sorted, and the last year it covers.

    Raises ImportError without the package, and ValueError, with a message for a
    person, for a country or subdivision it does not know.
    """
    import holidays  # the optional extra: imported only when a campaign asks for it

    supported: dict[str, list[str]] = holidays.list_supported_countries()
    if country not in supported:
        raise ValueError(f"{country!r} is not a country code the holidays package knows")
    if subdivision is not None and subdivision not in supported[country]:
        known = supported[country]
        listed = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        raise ValueError(
            f"{subdivision!r} is not a subdivision of {country} the holidays package knows"
            + (f" (it knows {listed})" if known else " (it knows none)")
        )
    probe = holidays.country_holidays(country, subdiv=subdivision)
    end_year = int(getattr(probe, "end_year", 2100))
    start_year = int(getattr(probe, "start_year", 1))
    years = range(max(first_year, start_year), min(last_year, end_year) + 1)
    if not years:
        return (), end_year
    found = holidays.country_holidays(country, subdiv=subdivision, years=years)
    return tuple(sorted((day, str(name)) for day, name in found.items())), end_year
