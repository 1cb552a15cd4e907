"""The compiled schedule: a campaign's settings and what is computed from them once.

A :class:`Schedule` is what the steps above the calling windows need from a
campaign, and nothing more: the validated settings (it *is* a
:class:`~callslots.config.Settings`), the compiled calendar of its callable set,
the index of its slot grid, and the callable sets of its customers (one
:class:`~callslots.recipients.RecipientView` per zone set and rules' scopes).  The sharing of slots,
the dispatcher and the simulation take a Schedule; only the ``Campaign`` facade
(a Schedule with the public questions) knows every step.

The compiled parts are named with a leading underscore: they are the library's,
shared by the modules of this package, and not part of the public API.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from .config import Settings
from .customers import PHONE_INSTALL, MissingPhoneNumbers, customer_from, zones_of
from .errors import Problem
from .jurisdiction import MissingNumberStates, missing_holidays, needs_zones, scopes_of
from .recipients import RecipientView, ViewKey, Views
from .slots import SlotIndex, slot_seconds
from .tz import MIN_UTC, load_zone
from .windows import Calendar, Hours, day_number, to_seconds

__all__ = ["Schedule"]


@dataclass(frozen=True, slots=True)
class Schedule(Settings):
    """Settings with their compiled calendar, slot index and customer views."""

    _calendar: Calendar = field(init=False, compare=False, repr=False)
    _slots: SlotIndex = field(init=False, compare=False, repr=False)
    _views: Views = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        try:
            zone = load_zone(self.timezone)
        except KeyError:
            raise ValueError(f"unknown IANA timezone {self.timezone!r}") from None
        calendar = Calendar.build(
            zone,
            tuple(self.hours_on(weekday) for weekday in range(7)),
            day_number(self.start_date) if self.start_date else None,
            day_number(self.end_date) if self.end_date else None,
            to_seconds(self.start_at) if self.start_at else None,
            self.date_rules(),
        )
        object.__setattr__(self, "_calendar", calendar)
        object.__setattr__(self, "_slots", SlotIndex(calendar, self.call_interval_seconds))
        object.__setattr__(self, "_views", Views(self, calendar))

    def date_rules(self) -> tuple[tuple[int, int, Hours | None], ...]:
        """The per-date rules as ``(first, last, hours)`` day-number ranges, in order
        of precedence (docs/compliance.md): date schedules, then blackouts (dates,
        then recurrence rules), then holidays."""
        scheduled = [(day_number(d), day_number(d), h) for d, h in self.date_hours]
        blacked: list[tuple[int, int, Hours | None]] = [
            (day_number(a), day_number(b), None) for a, b in self.blackouts
        ]
        for rule in self.blackout_rules:
            blacked += rule.day_ranges()
        if self.holidays is not None:
            blacked += [(day_number(d), day_number(d), None) for d, _ in self.holidays.dates]
        return (*scheduled, *blacked)

    def view_for(self, customer: object, path: str = "customer") -> RecipientView:
        """The callable set of ``customer`` (a phone string, a ``Customer`` or a
        ``{phoneNumber, properties}`` mapping): the campaign's, cut to
        ``recipientHours`` in its zones and by the calling rules of its
        jurisdictions.  Customers with the same :class:`ViewKey` share one view; the
        view carries a note when the campaign's zone stood in.  A ConfigError naming
        ``path`` for a bad property; :class:`~callslots.customers.MissingPhoneNumbers`
        when the zones or states must come from the number without phonenumbers."""
        person = customer_from(customer, path)
        if not self.per_customer:
            return self._views.get(ViewKey(()))
        scopes: tuple[str, ...] = ()
        needed = self.recipient_hours is not None
        if self.calling_rules:
            rules = self._views.rules()
            scopes = scopes_of(person, rules, path)
            if scopes and scopes in self._views.holiday_scopes():
                missing_holidays(rules, scopes, path)
            needed = needed or needs_zones(rules, scopes)
        if not needed:
            return self._views.get(ViewKey((), scopes))
        try:
            zones, note = zones_of(person, self.timezone, path)
        except MissingPhoneNumbers as e:
            if self.recipient_hours is not None:
                raise
            raise MissingNumberStates(
                [
                    Problem(
                        path,
                        "callingRules needs this customer's time zone: give "
                        "properties.timezone, or install the optional phonenumbers package "
                        f"({PHONE_INSTALL}) to find it from the number",
                    )
                ]
            ) from e
        view = self._views.get(ViewKey(zones, scopes))
        if note is not None:  # the campaign's zone stands in: say so on this view
            if self.recipient_hours is None:
                note = note.replace("its recipient hours", "its calling rules")
            view = replace(view, note=note)  # the same tables: `meetings` is shared
        return view

    def slots_from(self, u: int) -> Iterator[int]:
        """The slots at or after UTC second ``u``, as integers."""
        start = None if u <= MIN_UTC else u
        return slot_seconds(self._calendar, self._slots, self.call_interval_seconds, start)
