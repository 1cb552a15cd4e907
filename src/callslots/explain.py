"""Explanations: why an instant is, or is not, callable.

:func:`explain` re-reads the rules of docs/semantics.md and docs/compliance.md for
one instant and names each one that decides it, with its values in local time.  It
answers from the same compiled calendar as ``is_callable`` (so the verdict always
agrees with it) and from :meth:`Campaign.day_rule` for the words.  It is meant for
people and logs, not for hot paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .tz import DAY
from .windows import FIRST_DAY, LAST_DAY, clock, day_date, from_seconds

if TYPE_CHECKING:
    from .campaign import Campaign
    from .recipients import RecipientView

__all__ = ["RULES", "Explanation", "Reason", "explain"]

#: The rule names a :class:`Reason` may carry.
RULES = (
    "window",  # callable: inside a day's window
    "before start",  # before the campaign's first day or start instant
    "after end",  # after endDate
    "inactive weekday",  # the weekday is not in activeDays
    "blackoutDates",
    "holiday",
    "skipped",  # the zone skipped the whole date
    "before window",  # earlier on the day than its window
    "after window",  # later on the day than its window (or its overnight tail)
    "dst gap",  # the day's window loses wall-clock times that do not exist
    "out of range",  # outside the years 1-9999
    "recipient hours",  # the customer's own wall clock, inside or outside recipientHours
)


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that decides an instant: ``rule`` (one of :data:`RULES`) and a
    ``message`` with its values in local time."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass(frozen=True, slots=True)
class Explanation:
    """The verdict on ``at`` (``callable``, the same answer as ``is_callable``), its
    wall clock in the campaign zone (``local``), and the ``reasons``: for a
    callable instant the window it is in, otherwise every rule that keeps it out."""

    at: datetime
    callable: bool
    local: str
    reasons: tuple[Reason, ...]

    def __str__(self) -> str:
        verdict = "callable" if self.callable else "not callable"
        lines = [f"{self.at:%Y-%m-%dT%H:%M:%SZ} ({self.local}) is {verdict}"]
        lines += [f"  - {reason}" for reason in self.reasons]
        return "\n".join(lines)


def _label(day: date) -> str:
    return f"{day:%A} {day.isoformat()}"


def explain(campaign: Campaign, u: int, view: RecipientView | None = None) -> Explanation:
    """The explanation for UTC second ``u`` (for the customers of ``view``)."""
    found = _campaign_explanation(campaign, u)
    if view is None or not view.calendars or found.reasons[0].rule == "out of range":
        return found
    hours = campaign.recipient_hours
    inside, outside = [], []
    for zone, calendar in zip(view.zones, view.calendars, strict=True):
        wall = from_seconds(u).astimezone(ZoneInfo(zone))
        here = f"{wall:%a %H:%M %Z}"
        if calendar.is_callable(u):
            inside.append(Reason("recipient hours", f"{here} in {zone} is inside {hours}"))
        else:
            outside.append(
                Reason(
                    "recipient hours", f"{here} in {zone} is outside the recipient hours {hours}"
                )
            )
    if found.callable and not outside:
        return Explanation(found.at, True, found.local, (*found.reasons, *inside))
    reasons = outside if found.callable else [*found.reasons, *outside]
    return Explanation(found.at, False, found.local, tuple(reasons))


def _campaign_explanation(campaign: Campaign, u: int) -> Explanation:
    calendar, zone = campaign.calendar, campaign.calendar.zone
    at = from_seconds(u)
    x = u + zone.offset_at(u)
    today, seconds = divmod(x, DAY)
    wall = at.astimezone(ZoneInfo(campaign.timezone))
    local = f"{wall:%a %Y-%m-%d %H:%M:%S %Z}"
    here = clock(seconds)
    if not FIRST_DAY + 1 <= today <= LAST_DAY - 1:
        reason = Reason("out of range", "callslots schedules within the years 1-9999")
        return Explanation(at, False, local, (reason,))
    if calendar.is_callable(u):
        owner = calendar.owner(u)
        assert owner is not None
        rule = campaign.day_rule(day_date(owner))
        source = " (its dateSchedules entry)" if rule.rule == "dateSchedules" else ""
        message = f"{here} is in the window {rule.hours} of {_label(rule.day)}{source}"
        return Explanation(at, True, local, (Reason("window", message),))

    reasons: list[Reason] = []
    start_at = calendar.start_at
    if campaign.start_at is not None and u < start_at:
        begins = from_seconds(start_at).astimezone(ZoneInfo(campaign.timezone))
        reasons.append(
            Reason("before start", f"the campaign starts at {begins:%Y-%m-%d %H:%M:%S %Z}")
        )
    yesterday = campaign.day_rule(day_date(today - 1))
    if yesterday.hours is not None and yesterday.hours.overnight:
        reasons.append(
            Reason(
                "after window",
                f"the overnight window {yesterday.hours} of {_label(yesterday.day)} "
                f"ended at {clock(yesterday.hours.end)}",
            )
        )
    rule = campaign.day_rule(day_date(today))
    hours = rule.hours
    if hours is None:
        if not (rule.rule == "before start" and any(r.rule == rule.rule for r in reasons)):
            reasons.append(Reason(rule.rule, rule.reason))
    elif seconds < hours.start:
        reasons.append(
            Reason("before window", f"{here} is before the window {hours} of {_label(rule.day)}")
        )
    elif not hours.overnight and seconds >= hours.end:
        reasons.append(
            Reason("after window", f"{here} is after the window {hours} of {_label(rule.day)}")
        )
    if hours is not None:
        gap = _gap(campaign, today, hours.span)
        if gap is not None:
            reasons.append(Reason("dst gap", gap))
    if not reasons:  # cannot happen: the wall clock is inside an open window
        reasons.append(Reason("window", f"{here} is outside every window"))
    return Explanation(at, False, local, tuple(reasons))


def _gap(campaign: Campaign, day: int, span: tuple[int, int]) -> str | None:
    """Words for a spring-forward gap that removes wall times from ``day``'s window."""
    zone = campaign.calendar.zone
    first, end = day * DAY + span[0], day * DAY + span[1]  # local seconds
    for instant, before, after in zone.transitions(
        day * DAY - zone.max_offset, (day + 2) * DAY - zone.min_offset
    ):
        if after <= before:
            continue
        lost_first, lost_end = instant + before, instant + after  # the wall times skipped
        if lost_first < end and first < lost_end:
            return (
                f"the clocks in {campaign.timezone} jump from {_wall(lost_first)} to "
                f"{_wall(lost_end)}, so the window's wall times in between do not exist"
            )
    return None


def _wall(x: int) -> str:
    """Local second ``x`` as ``YYYY-MM-DD HH:MM``."""
    return f"{day_date(x // DAY)} {clock(x % DAY)}"
