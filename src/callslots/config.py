"""Parse and validate the scheduling part of a create-campaign request body.

:func:`parse` reads a JSON-shaped payload (camelCase keys, as the public API
spells them) into :class:`Settings`, the normalized scheduling fields.  It never
stops at the first mistake: every problem is collected with its path and the
whole list is raised as one :class:`~callslots.errors.ConfigError`.  Findings
that do not prevent scheduling are returned as warnings.
"""

from __future__ import annotations

import difflib
import re
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from .customers import Customer, MissingPhoneNumbers, phone_problem, zones_of
from .dates import HOLIDAYS_INSTALL, Holidays, resolve
from .errors import ConfigError, Problem
from .instants import parse_iso
from .jurisdiction import (
    CALL_TECHNOLOGIES,
    DEFAULT_PURPOSE,
    DEFAULT_TECHNOLOGY,
    PURPOSES,
    MissingNumberStates,
    missing_holidays,
    needs_zones,
    pack,
    scopes_of,
    selected_rules,
)
from .limits import CONNECTED, ContactLimit
from .outcomes import DEFAULT_RETRY_CONDITIONS, RETRYABLE, Outcome
from .recurrence import MAX_DAYS, BlackoutRule, TooManyDays, Unexpandable, expand, parse_rule
from .tz import load_zone, zone_names
from .windows import Hours, clock, day_date, day_number, to_seconds

__all__ = ["DELAY_MODES", "FIELDS", "WEEKDAYS", "PayloadField", "Settings", "parse", "to_payload"]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DELAY_MODES = ("fixed", "next_day")
SCHEDULING_MODES = ("even", "spread")
#: The common legal calling hours; a window reaching outside them gets a warning.
POLITE_HOURS = Hours(8 * 3600, 21 * 3600)
WHOLE_DAY = Hours(0, 86400)


@dataclass(frozen=True, slots=True)
class PayloadField:
    """One top-level field of a campaign body.

    ``where`` says where it appears: in the create-campaign ``request`` body schema,
    in the ``response``'s campaign object (``data.result.campaign``), in both, or
    only in callslots (``extension``).  ``read`` says whether callslots reads it:
    the other fields are accepted silently and never looked at (they do not
    affect scheduling), whatever their value.
    """

    name: str
    where: str
    read: bool


_REQ, _RESP, _BOTH, _EXT = "request", "response", "request, response", "extension"

#: Every field callslots knows, in one table (docs/campaign.md lists it too): the
#: fields of the public API's create-campaign request body and of the campaign object
#: in its response, and callslots' own extensions.  A top-level key not here is
#: warned about; did-you-mean hints are drawn from these names only.
FIELDS: tuple[PayloadField, ...] = (
    # read: they decide when calls may be placed, how they are paced, and to whom
    PayloadField("timezone", _BOTH, True),
    PayloadField("startDate", _BOTH, True),
    PayloadField("startAt", _EXT, True),
    PayloadField("endDate", _RESP, True),
    PayloadField("startTime", _BOTH, True),
    PayloadField("endTime", _BOTH, True),
    PayloadField("activeDays", _BOTH, True),
    PayloadField("daySchedules", _BOTH, True),
    PayloadField("dateSchedules", _EXT, True),
    PayloadField("blackoutDates", _EXT, True),
    PayloadField("blackoutRules", _EXT, True),
    PayloadField("holidays", _EXT, True),
    PayloadField("recipientHours", _EXT, True),
    PayloadField("callingRules", _EXT, True),
    PayloadField("callPurpose", _EXT, True),
    PayloadField("callTechnology", _EXT, True),
    PayloadField("callRetries", _BOTH, True),
    PayloadField("retryDelaySeconds", _BOTH, True),
    PayloadField("retryDelayMode", _BOTH, True),
    PayloadField("retryConditions", _BOTH, True),
    PayloadField("callIntervalSeconds", _RESP, True),
    PayloadField("maxConcurrency", _RESP, True),
    PayloadField("maxCallSeconds", _EXT, True),
    PayloadField("contactLimits", _EXT, True),
    PayloadField("quietAfterConversationDays", _EXT, True),
    PayloadField("connectedOutcomes", _EXT, True),
    PayloadField("schedulingMode", _RESP, True),
    PayloadField("customers", _BOTH, True),
    PayloadField("phoneList", _REQ, True),
    # not read: who runs the campaign, its identity and its record
    PayloadField("name", _BOTH, False),
    PayloadField("description", _BOTH, False),
    PayloadField("assistantId", _BOTH, False),
    PayloadField("assistantName", _REQ, False),
    PayloadField("phoneNumber", _BOTH, False),
    PayloadField("phoneNumberId", _RESP, False),
    PayloadField("webhookUrl", _BOTH, False),
    PayloadField("workspaceId", _BOTH, False),
    PayloadField("id", _RESP, False),
    PayloadField("status", _RESP, False),
    PayloadField("createdAt", _RESP, False),
    PayloadField("updatedAt", _RESP, False),
    PayloadField("callIds", _RESP, False),
    PayloadField("roomNames", _RESP, False),
    PayloadField("events", _RESP, False),
    PayloadField("version", _RESP, False),
)
#: The fields the parser reads, in the table's order.
SCHEDULING_FIELDS = tuple(f.name for f in FIELDS if f.read)
#: Fields of the API that do not affect scheduling: accepted and not read.
OTHER_FIELDS = tuple(f.name for f in FIELDS if not f.read)
KNOWN_FIELDS = tuple(f.name for f in FIELDS)
#: The keys of the API's response envelope ``{"success", "data": {"message", "result":
#: {"status", "isScheduled", "campaign", "message"}}}`` that lead to the campaign,
#: each with the path of the campaign below it.  A payload with one of these at its
#: top is (part of) a response, not a campaign: it is refused, never read as an empty
#: (24/7, UTC) campaign.
ENVELOPE: dict[str, str] = {
    "success": "data.result.campaign",
    "data": "data.result.campaign",
    "result": "result.campaign",
    "campaign": "campaign",
}

_AFTER_LAST = "after 9999-12-31T23:59:59Z, the last"
_FIRST_DAY = day_number(date.min)
_LAST_DAY = day_number(date.max)

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_CLOCK = re.compile(r"(\d{2}):(\d{2})(?::(\d{2}))?", re.ASCII)


@dataclass(frozen=True, slots=True)
class Settings:
    """The normalized scheduling fields of a campaign (all defaults filled in).

    ``start_date`` is None for an immediate start, and then ``start_at`` holds
    the resolved start instant (UTC, whole seconds).  ``hours`` is the global
    daily window; ``day_hours`` the overrides of active weekdays that differ from
    it, as sorted ``(weekday, Hours)`` pairs.  ``date_hours`` are the per-date
    windows, ``blackouts`` the blacked-out days as sorted, merged, inclusive
    ranges, ``holidays`` the public holidays that black days out and
    ``blackout_rules`` the recurrence rules that do, each with the dates it names
    in the campaign's range (see :mod:`callslots.dates` for how they combine).
    """

    timezone: str
    start_date: date | None
    start_at: datetime | None
    end_date: date | None
    hours: Hours
    active_days: tuple[int, ...]
    day_hours: tuple[tuple[int, Hours], ...]
    call_retries: int
    retry_delay_seconds: int
    retry_delay_mode: str
    retry_conditions: tuple[Outcome, ...]  # in the API's order
    call_interval_seconds: int
    max_concurrency: int
    scheduling_mode: str
    #: The payload's customers in their order, repeats included (they are dialed
    #: once; see ``customers.py``).
    customers: tuple[Customer, ...]
    date_hours: tuple[tuple[date, Hours], ...] = ()
    blackouts: tuple[tuple[date, date], ...] = ()
    holidays: Holidays | None = None
    #: The daily window on each customer's own wall clock (docs/compliance.md).
    recipient_hours: Hours | None = None
    #: A call with no reported end this long after it started is closed as
    #: ``Unspecified`` by the dispatcher (docs/dispatch.md).
    max_call_seconds: int = 3600
    #: ``blackoutRules``, in the payload's order (docs/compliance.md, section 1).
    blackout_rules: tuple[BlackoutRule, ...] = ()
    #: ``contactLimits`` in the payload's order, and the quiet period after a
    #: conversation, in local days (docs/limits.md).
    contact_limits: tuple[ContactLimit, ...] = ()
    quiet_after_conversation_days: int | None = None
    #: The outcomes counted as connected (docs/limits.md, section 3).
    connected_outcomes: frozenset[Outcome] = CONNECTED

    @property
    def limited(self) -> bool:
        """Whether any contact limit or quiet period applies."""
        return bool(self.contact_limits) or self.quiet_after_conversation_days is not None

    #: ``callingRules``: the rule packs turned on (``("US",)``), and ``callPurpose``,
    #: the kind of call whose rules apply (docs/compliance.md, section 5).
    calling_rules: tuple[str, ...] = ()
    call_purpose: str = DEFAULT_PURPOSE
    #: ``callTechnology``: how the calls are placed (``("live-agent",)``, ...); only
    #: the rules about one of these technologies apply.  Default: every way.
    call_technology: tuple[str, ...] = DEFAULT_TECHNOLOGY

    def hours_on(self, weekday: int) -> Hours | None:
        """The window of ``weekday`` (0 = Monday), or None when it is inactive."""
        if weekday not in self.active_days:
            return None
        return dict(self.day_hours).get(weekday, self.hours)

    @property
    def per_customer(self) -> bool:
        """Whether customers may have callable sets of their own (``recipientHours``
        or ``callingRules``): then slots are shared by customers' views."""
        return self.recipient_hours is not None or bool(self.calling_rules)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.casefold(): c for c in choices}
        close = [lowered[word.casefold()]] if word.casefold() in lowered else []
    return f"; did you mean {close[0]!r}?" if close else ""


def _kind(value: object) -> str:
    """How a JSON value is named in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


class _Reader:
    """Collects every error and warning while reading one payload."""

    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(Problem(path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(Problem(path, message))

    def integer(self, value: object, path: str, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, f"must be an integer from {low} to {high}, not {_kind(value)}")
            return None
        if not low <= value <= high:
            self.error(path, f"must be from {low} to {high}, not {value}")
            return None
        return value

    def choice(self, value: object, path: str, choices: tuple[str, ...]) -> str:
        """``value`` when it is one of ``choices``; else an error and the first choice."""
        if value in choices:
            assert isinstance(value, str)
            return value
        shown = repr(value) if isinstance(value, str) else _kind(value)
        hint = _did_you_mean(value, choices) if isinstance(value, str) else ""
        allowed = " or ".join(repr(c) for c in choices)
        self.error(path, f"must be {allowed}, not {shown}{hint}")
        return choices[0]

    def day(self, value: object, path: str) -> date | None:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            shown = repr(value) if isinstance(value, str) else _kind(value)
            self.error(path, f"must be a date written YYYY-MM-DD, not {shown}")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.error(path, f"{value!r} is not a day of the calendar")
            return None

    def clock(self, value: object, path: str, *, end: bool) -> int | None:
        """Seconds after midnight of ``HH:MM[:SS]``; ``24:00`` only as an end."""
        bad = f"must be a time of day written HH:MM or HH:MM:SS{' (or 24:00)' if end else ''}"
        if not isinstance(value, str) or not (m := _CLOCK.fullmatch(value)):
            shown = repr(value) if isinstance(value, str) else _kind(value)
            self.error(path, f"{bad}, not {shown}")
            return None
        h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
        if end and h == 24 and mi == 0 and s == 0:
            return 86400
        if h > 23 or mi > 59 or s > 59:
            limits = "hours 00-23, minutes and seconds 00-59"
            self.error(
                path,
                f"{value!r} is not a time of day ({limits}{'; 24:00 ends the day' if end else ''})",
            )
            return None
        return h * 3600 + mi * 60 + s

    def unknown_keys(self, entry: Mapping[Any, Any], path: str, known: tuple[str, ...]) -> None:
        """Warn about every key of ``entry`` (at ``path``) that is not in ``known``."""
        for name in entry:
            if name not in known:
                hint = _did_you_mean(name, known) if isinstance(name, str) else ""
                self.warn(_join(path, name), f"unknown field, ignored{hint}")

    def entry_hours(self, entry: object, path: str, default: Hours) -> Hours | None:
        """A ``{startTime, endTime}`` entry of ``daySchedules`` or ``dateSchedules``; a
        time left out is ``default``'s."""
        if not isinstance(entry, Mapping):
            self.error(path, f"must be an object with startTime and endTime, not {_kind(entry)}")
            return None
        self.unknown_keys(entry, path, ("startTime", "endTime"))
        start: int | None = default.start
        end: int | None = default.end
        if entry.get("startTime") is not None:
            start = self.clock(entry["startTime"], f"{path}.startTime", end=False)
        if entry.get("endTime") is not None:
            end = self.clock(entry["endTime"], f"{path}.endTime", end=True)
        return self.window(start, end, path, f"{path}.startTime", f"{path}.endTime")

    def window(
        self, start: int | None, end: int | None, path: str, start_path: str, end_path: str
    ) -> Hours | None:
        if start is None or end is None:
            return None
        if start == end:
            self.error(
                path or start_path,
                f"startTime and endTime are both {clock(start)}, so the window would be "
                "empty; leave both out (or use 00:00 and 24:00) for the whole day",
            )
            return None
        if end == 0:  # an overnight window to midnight is the rest of its own day
            end = 86400
        return Hours(start, end)


def parse(payload: object, now: datetime | None = None) -> tuple[Settings, tuple[Problem, ...]]:
    """Read and validate ``payload``; return the settings and the warnings.

    ``now`` resolves an immediate start (no ``startDate``); it must be aware.
    Raises :class:`ConfigError` listing every problem; no other exception
    escapes for any JSON-shaped payload.
    """
    r = _Reader()
    if not isinstance(payload, Mapping):
        raise ConfigError([Problem("", f"must be a JSON object, not {_kind(payload)}")])
    _refuse_envelope(payload)
    fields: dict[str, Any] = {}
    for key, value in payload.items():
        if not isinstance(key, str):
            r.warn(_join("", repr(key)), "unknown field (field names are strings); ignored")
        elif key in KNOWN_FIELDS:
            if value is not None:  # null means "not given"
                fields[key] = value
        else:
            r.warn(key, f"unknown field, ignored{_did_you_mean(key, KNOWN_FIELDS)}")

    tz_name = _timezone(r, fields.get("timezone", "UTC"))
    start_date = r.day(fields["startDate"], "startDate") if "startDate" in fields else None
    end_date = r.day(fields["endDate"], "endDate") if "endDate" in fields else None
    start_at = _start_at(r, fields, now, tz_name)
    if start_date and end_date and end_date < start_date:
        r.error("endDate", f"{end_date} is before startDate {start_date}")

    hours = _global_hours(r, fields)
    active = _active_days(r, fields.get("activeDays"))
    day_hours = _day_hours(r, fields.get("daySchedules"), fields, hours or WHOLE_DAY, active)
    date_hours = _date_hours(r, fields.get("dateSchedules"), hours or WHOLE_DAY)
    blackouts = _blackouts(r, fields.get("blackoutDates"))
    # (an unknown zone is already an error: UTC then only bounds the holiday years)
    first = start_date or (_first_local_date(start_at, tz_name or "UTC") if start_at else None)
    holidays = _holidays(r, fields.get("holidays"), first, end_date)
    blackout_rules = _blackout_rules(r, fields.get("blackoutRules"), first, end_date)
    _date_conflicts(r, date_hours, blackouts)
    recipient_hours = _recipient_hours(r, fields.get("recipientHours"))
    calling_rules = _calling_rules(r, fields.get("callingRules"))
    purpose = r.choice(fields.get("callPurpose", DEFAULT_PURPOSE), "callPurpose", PURPOSES)
    technology = _call_technology(r, fields.get("callTechnology"))

    retries = r.integer(fields.get("callRetries", 0), "callRetries", 0, 10)
    delay = r.integer(fields.get("retryDelaySeconds", 300), "retryDelaySeconds", 0, 86400)
    mode = r.choice(fields.get("retryDelayMode", "fixed"), "retryDelayMode", DELAY_MODES)
    conditions = _retry_conditions(r, fields)
    interval, concurrency, scheduling = _pacing(r, fields, end_date)
    customers = _customers(r, fields)
    max_call = r.integer(fields.get("maxCallSeconds", 3600), "maxCallSeconds", 1, 86400)
    limits = _contact_limits(r, fields.get("contactLimits"))
    quiet = fields.get("quietAfterConversationDays")
    if quiet is not None:
        quiet = r.integer(quiet, "quietAfterConversationDays", 1, 366)
    connected = _connected_outcomes(r, fields.get("connectedOutcomes"))

    if r.errors:
        raise ConfigError(r.errors)
    assert hours is not None and active is not None and day_hours is not None
    assert retries is not None and delay is not None and conditions is not None
    assert interval is not None and concurrency is not None and customers is not None
    assert date_hours is not None and blackouts is not None and max_call is not None
    assert blackout_rules is not None and calling_rules is not None
    settings = Settings(
        timezone=tz_name or "UTC",
        start_date=start_date,
        start_at=start_at,
        end_date=end_date,
        hours=hours,
        active_days=active,
        day_hours=day_hours,
        call_retries=retries,
        retry_delay_seconds=delay,
        retry_delay_mode=mode,
        retry_conditions=conditions,
        call_interval_seconds=interval,
        max_concurrency=concurrency,
        scheduling_mode=scheduling,
        customers=customers,
        date_hours=date_hours,
        blackouts=blackouts,
        holidays=holidays,
        recipient_hours=recipient_hours,
        max_call_seconds=max_call,
        blackout_rules=blackout_rules,
        contact_limits=limits,
        quiet_after_conversation_days=quiet,
        connected_outcomes=connected,
        calling_rules=calling_rules,
        call_purpose=purpose,
        call_technology=technology,
    )
    _advise(r, settings, fields)
    _recipient_zones(r, settings, fields)
    _customer_states(r, settings, fields)
    if r.errors:
        raise ConfigError(r.errors)
    return settings, tuple(r.warnings)


def _refuse_envelope(payload: Mapping[Any, Any]) -> None:
    """A ConfigError naming the campaign's path when ``payload`` is the API's response
    envelope (or a part of it above the campaign) instead of a campaign."""
    found = [key for key in ENVELOPE if key in payload]
    if not found:
        return
    path = ENVELOPE[found[0]]
    value: object = payload
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    what = f"this is a create-campaign response (it has {found[0]!r}), not a campaign"
    if isinstance(value, Mapping):
        message = f"{what}: pass the campaign object found at {path}"
    else:
        message = f"{what}, and it holds no campaign object at {path}"
    raise ConfigError([Problem(path, message)])


def _timezone(r: _Reader, value: object) -> str | None:
    if not isinstance(value, str):
        r.error(
            "timezone", f"must be an IANA timezone name such as 'Europe/Prague', not {_kind(value)}"
        )
        return None
    names = zone_names()
    if value in names:
        return value
    by_case = [n for n in names if n.casefold() == value.casefold()]
    close = by_case or difflib.get_close_matches(value, sorted(names), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    r.error("timezone", f"unknown IANA timezone {value!r}{hint}")
    return None


def _start_at(
    r: _Reader, fields: dict[str, Any], now: datetime | None, tz_name: str | None
) -> datetime | None:
    """The start instant of an immediate start, rounded up to a whole second.

    It must be an instant of the time line (0001-01-01T00:00:00Z to
    9999-12-31T23:59:59Z) whose local date in the campaign's zone is not after
    9999-12-31: a start after the calendar's last day could never call anyone.
    """
    if "startAt" in fields:
        if "startDate" in fields:
            r.error("startAt", "give startDate or startAt, not both")
            return None
        value = fields["startAt"]
        path = "startAt"
        bad = "must be an ISO 8601 instant with an offset, such as 2026-11-22T22:30:01Z"
        if not isinstance(value, str):
            r.error(path, f"{bad}, not {_kind(value)}")
            return None
        try:
            instant = parse_iso(value)  # the same strings on every Python
        except ValueError:
            r.error(path, f"{bad}, not {value!r}")
            return None
        if instant.utcoffset() is None:
            r.error(path, f"{value!r} has no UTC offset; add one, such as Z or +01:00")
            return None
        shown = repr(value)
    elif "startDate" in fields:
        return None
    else:
        if now is None:
            instant = datetime.now(timezone.utc)
        elif not isinstance(now, datetime) or now.utcoffset() is None:
            raise TypeError("now must be an aware datetime (with a tzinfo)")
        else:
            instant = now
        path = "startDate"
        shown = f"is not given, so the campaign starts now ({instant.isoformat()}), which"
    try:
        utc = instant.astimezone(timezone.utc)
    except OverflowError:
        edge = "before 0001-01-01T00:00:00Z, the first" if instant.year == 1 else _AFTER_LAST
        r.error(path, f"{shown} is {edge} instant callslots can represent")
        return None
    if utc.microsecond:
        try:
            utc = utc.replace(microsecond=0) + timedelta(seconds=1)
        except OverflowError:
            r.error(
                path,
                f"{shown}, rounded up to a whole second, is {_AFTER_LAST} instant callslots "
                "can represent",
            )
            return None
    if tz_name is not None:
        u = to_seconds(utc)
        if (u + load_zone(tz_name).offset_at(u)) // 86400 > _LAST_DAY:
            r.error(
                path,
                f"{shown} is after 9999-12-31 on the clocks of {tz_name}, the calendar's "
                "last day, so nothing could ever be called",
            )
            return None
    return utc


def _first_local_date(start_at: datetime, tz_name: str) -> date:
    """The local date of ``start_at`` in zone ``tz_name``; 0001-01-01 when the instant
    falls before the calendar's first day there (its start then loses nothing)."""
    u = to_seconds(start_at)
    day = (u + load_zone(tz_name).offset_at(u)) // 86400
    return day_date(max(day, _FIRST_DAY))


def _global_hours(r: _Reader, fields: dict[str, Any]) -> Hours | None:
    has_start, has_end = "startTime" in fields, "endTime" in fields
    if not has_start and not has_end:
        return WHOLE_DAY
    start = r.clock(fields["startTime"], "startTime", end=False) if has_start else None
    end = r.clock(fields["endTime"], "endTime", end=True) if has_end else None
    if has_start != has_end:
        missing = "endTime" if has_start else "startTime"
        r.error(
            missing, "is missing; give both startTime and endTime, or neither for the whole day"
        )
        return None
    return r.window(start, end, "", "startTime", "endTime")


def _active_days(r: _Reader, value: object) -> tuple[int, ...] | None:
    if value is None:
        return tuple(range(7))
    if not isinstance(value, (list, tuple)):
        r.error("activeDays", f"must be a list of weekdays 0-6 (0 = Monday), not {_kind(value)}")
        return None
    if not value:
        r.error(
            "activeDays",
            "is empty, so nothing could ever be scheduled; leave it out for all seven days",
        )
        return None
    days: list[int] = []
    ok = True
    for i, item in enumerate(value):
        if isinstance(item, int) and not isinstance(item, bool) and not 0 <= item <= 6:
            # 7 is Sunday in ISO 8601 and cron; here weeks run 0 (Monday) to 6 (Sunday)
            hint = "; Sunday is 6" if item == 7 else ""
            r.error(f"activeDays.{i}", f"must be from 0 (Monday) to 6 (Sunday), not {item}{hint}")
            ok = False
            continue
        day = r.integer(item, f"activeDays.{i}", 0, 6)
        if day is None:
            ok = False
        elif day in days:
            r.warn(f"activeDays.{i}", f"{WEEKDAYS[day]} ({day}) is listed twice; counted once")
        else:
            days.append(day)
    return tuple(sorted(days)) if ok else None


def _day_hours(
    r: _Reader,
    value: object,
    fields: dict[str, Any],
    default: Hours,
    active: tuple[int, ...] | None,
) -> tuple[tuple[int, Hours], ...] | None:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        r.error("daySchedules", f"must be an object keyed by weekday '0'-'6', not {_kind(value)}")
        return None
    result: dict[int, Hours] = {}
    ok = True
    seen: dict[int, str] = {}
    for key, entry in value.items():
        path = _join("daySchedules", key)
        weekday = _weekday_key(key)
        if weekday is None:
            r.error(path, f"{key!r} is not a weekday; use '0' (Monday) to '6' (Sunday)")
            ok = False
            continue
        if weekday in seen:
            r.error(path, f"{WEEKDAYS[weekday]} is given twice (also as {seen[weekday]!r})")
            ok = False
            continue
        seen[weekday] = repr(key)
        hours = r.entry_hours(entry, path, default)
        if hours is None:
            ok = False
            continue
        if active is not None and weekday not in active:
            r.warn(path, f"{WEEKDAYS[weekday]} is not in activeDays, so this entry is ignored")
        elif hours != default:
            result[weekday] = hours
    return tuple(sorted(result.items())) if ok else None


def _date_hours(r: _Reader, value: object, default: Hours) -> tuple[tuple[date, Hours], ...] | None:
    """``dateSchedules``: ``{"YYYY-MM-DD": {startTime, endTime}}``; a time left out is
    the global window's, as in ``daySchedules``."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        r.error("dateSchedules", f"must be an object keyed by date YYYY-MM-DD, not {_kind(value)}")
        return None
    found: dict[date, Hours] = {}
    ok = True
    for key, entry in value.items():
        path = _join("dateSchedules", key)
        day = r.day(key, path)
        hours = r.entry_hours(entry, path, default)
        if day is None or hours is None:
            ok = False
        elif day in found:  # JSON keys are unique, but a Python mapping may spell one date twice
            r.error(path, f"{day} is given twice")
            ok = False
        else:
            found[day] = hours
    return tuple(sorted(found.items())) if ok else None


def _blackouts(r: _Reader, value: object) -> tuple[tuple[date, date], ...] | None:
    """``blackoutDates``: dates and ``{start, end}`` inclusive ranges, merged."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        r.error(
            "blackoutDates",
            f"must be a list of dates YYYY-MM-DD or {{start, end}} ranges, not {_kind(value)}",
        )
        return None
    ranges: list[tuple[date, date]] = []
    ok = True
    for i, item in enumerate(value):
        path = f"blackoutDates.{i}"
        if isinstance(item, Mapping):
            r.unknown_keys(item, path, ("start", "end"))
            missing = [k for k in ("start", "end") if item.get(k) is None]
            if missing:
                r.error(path, f"a range needs start and end; {' and '.join(missing)} missing")
                ok = False
                continue
            first, last = r.day(item["start"], f"{path}.start"), r.day(item["end"], f"{path}.end")
            if first is None or last is None:
                ok = False
            elif last < first:
                r.error(f"{path}.end", f"{last} is before start {first}")
                ok = False
            else:
                ranges.append((first, last))
        elif isinstance(item, str):
            day = r.day(item, path)
            if day is None:
                ok = False
            else:
                ranges.append((day, day))
        else:
            r.error(path, f"must be a date YYYY-MM-DD or a {{start, end}} range, not {_kind(item)}")
            ok = False
    if not ok:
        return None
    merged: list[tuple[date, date]] = []
    for first, last in sorted(ranges):
        if merged and first.toordinal() <= merged[-1][1].toordinal() + 1:
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return tuple(merged)


def _holidays(r: _Reader, value: object, first: date | None, last: date | None) -> Holidays | None:
    """``holidays``: ``{country, subdivision?, dates?}``; ``dates`` (as ``to_dict``
    writes them) pins the list, otherwise the ``holidays`` package resolves it."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        r.error("holidays", f'must be an object such as {{"country": "US"}}, not {_kind(value)}')
        return None
    r.unknown_keys(value, "holidays", ("country", "subdivision", "dates"))
    country, subdivision = value.get("country"), value.get("subdivision")
    ok = True
    if not isinstance(country, str) or not country:
        shown = "missing" if country is None else f"not {_kind(country)}"
        r.error("holidays.country", f"must be an ISO 3166 country code such as 'US', {shown}")
        ok = False
    if subdivision is not None and (not isinstance(subdivision, str) or not subdivision):
        r.error(
            "holidays.subdivision",
            f"must be an ISO 3166-2 subdivision code such as 'CA', not {_kind(subdivision)}",
        )
        ok = False
    if not ok:
        return None
    assert isinstance(country, str) and (subdivision is None or isinstance(subdivision, str))
    pinned = value.get("dates")
    if pinned is not None:
        if not isinstance(pinned, Mapping):
            r.error("holidays.dates", f"must be an object of date: name, not {_kind(pinned)}")
            return None
        dates: list[tuple[date, str]] = []
        for key, name in pinned.items():
            day = r.day(key, _join("holidays.dates", key))
            if not isinstance(name, str):
                r.error(
                    _join("holidays.dates", key), f"must be the holiday's name, not {_kind(name)}"
                )
                ok = False
            elif day is None:
                ok = False
            else:
                dates.append((day, name))
        return Holidays(country, subdivision, tuple(sorted(dates))) if ok else None
    first_year = (first or date(1, 1, 1)).year
    last_year = last.year if last else 9999
    try:
        found, end_year = resolve(country, subdivision, first_year, last_year)
    except ImportError:
        r.error(
            "holidays",
            f"needs the optional holidays package: {HOLIDAYS_INSTALL} "
            "(or list the days in blackoutDates)",
        )
        return None
    except ValueError as e:
        r.error("holidays.subdivision" if "subdivision" in str(e) else "holidays.country", str(e))
        return None
    if last_year > end_year:
        r.warn(
            "holidays",
            f"the holidays package knows holidays up to {end_year}, so days after "
            f"{end_year}-12-31 are not blacked out; give an endDate, or list later "
            "holidays in blackoutDates",
        )
    return Holidays(country, subdivision, found)


def _blackout_rules(
    r: _Reader, value: object, first: date | None, last: date | None
) -> tuple[BlackoutRule, ...] | None:
    """``blackoutRules``: RFC 5545 recurrence rules, each expanded over the campaign's
    dates ``first..last`` (``last`` None: to 9999-12-31); ``first`` None (the start is
    already an error) checks the rules without expanding them."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        r.error(
            "blackoutRules",
            "must be a list of recurrence rules such as "
            f"'FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25', not {_kind(value)}",
        )
        return None
    found: list[BlackoutRule] = []
    total = 0
    ok = True
    end = last or date.max
    for i, item in enumerate(value):
        path = f"blackoutRules.{i}"
        if not isinstance(item, str):
            r.error(path, f"must be a recurrence rule written as a string, not {_kind(item)}")
            ok = False
            continue
        rule, problems = parse_rule(item)
        for problem in problems:
            r.error(path, problem)
        if rule is None:
            ok = False
            continue
        if first is None:
            continue
        try:
            days = expand(rule, first, first, end, MAX_DAYS)
        except TooManyDays as e:
            r.error(path, _too_many(e.found, e.first, e.last))
            ok = False
            continue
        except Unexpandable as e:
            r.error(path, f"{e}; give an endDate or a smaller INTERVAL")
            ok = False
            continue
        total += len(days)
        if total > MAX_DAYS:
            r.error(path, _too_many(total, first, end, together=True))
            ok = False
            continue
        found.append(BlackoutRule(item.strip(), rule, days))
    return tuple(found) if ok else None


def _too_many(found: int, first: date, last: date, *, together: bool = False) -> str:
    who = "together with the rules before it, it names" if together else "names"
    return (
        f"{who} {found:,} dates between {first} and {last}, more than the {MAX_DAYS:,} "
        "a campaign's blackoutRules may name; give an endDate, or an UNTIL or a COUNT "
        "(a weekday that is never called belongs out of activeDays)"
    )


def _recipient_hours(r: _Reader, value: object) -> Hours | None:
    """``recipientHours``: ``{startTime, endTime}`` on the customer's wall clock."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        r.error(
            "recipientHours",
            f'must be an object such as {{"startTime": "08:00", "endTime": "21:00"}}, '
            f"not {_kind(value)}",
        )
        return None
    r.unknown_keys(value, "recipientHours", ("startTime", "endTime"))
    missing = [k for k in ("startTime", "endTime") if value.get(k) is None]
    if missing:
        r.error("recipientHours", f"needs startTime and endTime; {' and '.join(missing)} missing")
        return None
    start = r.clock(value["startTime"], "recipientHours.startTime", end=False)
    end = r.clock(value["endTime"], "recipientHours.endTime", end=True)
    return r.window(
        start, end, "recipientHours", "recipientHours.startTime", "recipientHours.endTime"
    )


def zone_field(s: Settings) -> str | None:
    """The field that needs each customer's own time zone (``recipientHours``, a
    calendar contact limit, the quiet period), or None when none does."""
    if s.recipient_hours is not None:
        return "recipientHours"
    for limit in s.contact_limits:
        if limit.window == "calendar":
            return limit.name
    if s.quiet_after_conversation_days is not None:
        return "quietAfterConversationDays"
    return None


def _calling_rules(r: _Reader, value: object) -> tuple[str, ...] | None:
    """``callingRules``: the names of rule packs shipped with callslots (``"US"``)."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        r.error("callingRules", f"must be a list of rule packs such as ['US'], not {_kind(value)}")
        return None
    names: list[str] = []
    ok = True
    for i, item in enumerate(value):
        path = f"callingRules.{i}"
        if not isinstance(item, str):
            r.error(path, f"must be the name of a rule pack such as 'US', not {_kind(item)}")
            ok = False
            continue
        try:
            pack(item)
        except ValueError as e:  # no such pack (a malformed shipped pack says so too)
            r.error(path, str(e))
            ok = False
            continue
        if item in names:
            r.warn(path, f"{item!r} is listed twice; counted once")
        else:
            names.append(item)
    return tuple(names) if ok else None


def _call_technology(r: _Reader, value: object) -> tuple[str, ...]:
    """``callTechnology``: how the campaign's calls are placed, a non-empty list of
    ``live-agent``, ``automatic-dialer``, ``prerecorded-voice``, ``artificial-voice``
    (an AI voice agent's voice is an artificial voice); every way when not given.
    Written back in that order, each once."""
    if value is None:
        return DEFAULT_TECHNOLOGY
    allowed = " or ".join(repr(c) for c in CALL_TECHNOLOGIES)
    if not isinstance(value, (list, tuple)) or not value:
        r.error(
            "callTechnology",
            f"must be a non-empty list of {allowed} (how the calls are placed), not "
            f"{_kind(value) if value != [] else 'an empty list'}",
        )
        return DEFAULT_TECHNOLOGY
    chosen = {
        r.choice(item, f"callTechnology.{i}", CALL_TECHNOLOGIES) for i, item in enumerate(value)
    }
    return tuple(kind for kind in CALL_TECHNOLOGIES if kind in chosen)


def _customer_states(r: _Reader, s: Settings, fields: dict[str, Any]) -> None:
    """With ``callingRules``: the rules that need the holidays package can have it,
    every payload customer's state can be found (a bad ``properties.state`` or a
    missing phonenumbers package is an error), and a customer whose rules are read
    on its clock has a zone (else the campaign's stands in, with a warning)."""
    if not s.calling_rules:
        return
    rules = selected_rules(s.calling_rules, s.call_purpose, s.call_technology)
    name = (_customer_fields(fields) or ["customers"])[0]
    needs_package: list[str] = []
    for i, customer in enumerate(s.customers):
        path = f"{name}.{i}"
        try:
            scopes = scopes_of(customer, rules, path)
        except MissingNumberStates:
            needs_package.append(path)
            continue
        except ConfigError as e:
            r.errors.extend(e.errors)
            continue
        try:  # the holidays package is needed only for a customer under a holiday rule
            missing_holidays(rules, scopes, path)
        except ConfigError as e:
            r.errors.extend(e.errors)
        if s.recipient_hours is not None or not needs_zones(rules, scopes):
            continue  # the zones are checked (or not needed) already
        try:
            _, note = zones_of(customer, s.timezone, path)
        except MissingPhoneNumbers:
            needs_package.append(path)
            continue
        except ConfigError as e:
            r.errors.extend(e.errors)
            continue
        if note is not None:
            where = f"{path}.phoneNumber" if name == "customers" else path
            r.warn(where, note.replace("its recipient hours", "its calling rules"))
    if needs_package:
        more = f" and {len(needs_package) - 1} more" if len(needs_package) > 1 else ""
        r.error(
            "callingRules",
            f"needs each customer's state and time zone: {needs_package[0]}{more} lack "
            "properties.state or properties.timezone; install the optional phonenumbers "
            "package (pip install 'callslots[phone]') to find them from the numbers",
        )


def _recipient_zones(r: _Reader, s: Settings, fields: dict[str, Any]) -> None:
    """Every payload customer's zones can be found (a bad ``properties.timezone``
    or a missing phonenumbers package is an error; a number with no known zone
    is a warning: the campaign's zone stands in)."""
    needs = zone_field(s)
    if needs is None:
        return

    name = (_customer_fields(fields) or ["customers"])[0]
    needs_package: list[str] = []
    for i, customer in enumerate(s.customers):
        path = f"{name}.{i}"
        try:
            _, note = zones_of(customer, s.timezone, path)
        except MissingPhoneNumbers:
            needs_package.append(path)
            continue
        except ConfigError as e:
            r.errors.extend(e.errors)
            continue
        if note is not None:
            r.warn(f"{path}.phoneNumber" if name == "customers" else path, note)
    if needs_package:
        more = f" and {len(needs_package) - 1} more" if len(needs_package) > 1 else ""
        r.error(
            needs,
            f"needs each customer's time zone: {needs_package[0]}{more} have no "
            "properties.timezone; install the optional phonenumbers package "
            "(pip install 'callslots[phone]') to find zones from the numbers",
        )


_LIMIT_KEYS = ("maxCalls", "days", "hours", "per", "count", "window")


def _contact_limits(r: _Reader, value: object) -> tuple[ContactLimit, ...]:
    """``contactLimits``: a list of ``{maxCalls, days or hours, per, count, window}``."""
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        r.error("contactLimits", f"must be a list of limits, not {_kind(value)}")
        return ()
    if len(value) > 20:
        r.error("contactLimits", f"has {len(value)} limits; at most 20")
        return ()
    found: list[ContactLimit] = []
    for i, entry in enumerate(value):
        path = f"contactLimits.{i}"
        if not isinstance(entry, Mapping):
            r.error(
                path,
                "must be an object such as "
                '{"maxCalls": 7, "days": 7, "per": "customer", "count": "attempts", '
                f'"window": "calendar"}}, not {_kind(entry)}',
            )
            continue
        r.unknown_keys(entry, path, _LIMIT_KEYS)
        before = len(r.errors)
        most = days = hours = None
        if entry.get("maxCalls") is None:
            r.error(f"{path}.maxCalls", "is missing (an integer from 1 to 1000)")
        else:
            most = r.integer(entry["maxCalls"], f"{path}.maxCalls", 1, 1000)
        window = r.choice(entry.get("window", "rolling"), f"{path}.window", ("rolling", "calendar"))
        if entry.get("days") is not None and entry.get("hours") is not None:
            r.error(path, 'gives both "days" and "hours"; give one span')
        elif entry.get("hours") is not None:
            hours = r.integer(entry["hours"], f"{path}.hours", 1, 8784)
            if window == "calendar":
                r.error(
                    f"{path}.hours",
                    'a calendar window counts whole local dates: give "days", or use '
                    '"window": "rolling" for a span of hours',
                )
        elif entry.get("days") is None:
            r.error(
                f"{path}.days",
                'is missing (an integer from 1 to 366; or "hours", 1 to 8784, for a rolling span)',
            )
        else:
            days = r.integer(entry["days"], f"{path}.days", 1, 366)
        per = r.choice(entry.get("per", "customer"), f"{path}.per", ("customer", "number"))
        count = r.choice(entry.get("count", "attempts"), f"{path}.count", ("attempts", "connected"))
        if len(r.errors) > before or most is None or (days is None and hours is None):
            continue
        limit = ContactLimit(most, days or 0, per, count, window, path, hours=hours)
        if any(replace(limit, name="") == replace(f, name="") for f in found):
            r.warn(path, "is the same limit as one listed before; counted once")
            continue
        found.append(limit)
    return tuple(found)


def _connected_outcomes(r: _Reader, value: object) -> frozenset[Outcome]:
    """``connectedOutcomes``: the outcomes that count as connected."""
    if value is None:
        return CONNECTED
    if not isinstance(value, (list, tuple)):
        r.error("connectedOutcomes", f"must be a list of outcomes, not {_kind(value)}")
        return CONNECTED
    found: set[Outcome] = set()
    for i, item in enumerate(value):
        try:
            outcome = Outcome.parse(item)
        except ValueError as e:
            r.error(f"connectedOutcomes.{i}", str(e))
            continue
        if outcome in found:
            r.warn(f"connectedOutcomes.{i}", f"{outcome.value!r} is listed twice; counted once")
        found.add(outcome)
    return frozenset(found)


def _date_conflicts(
    r: _Reader,
    date_hours: tuple[tuple[date, Hours], ...] | None,
    blackouts: tuple[tuple[date, date], ...] | None,
) -> None:
    """A date both scheduled and blacked out is a mistake the user must settle."""
    if not date_hours or not blackouts:
        return
    firsts = [first for first, _ in blackouts]
    for day, _ in date_hours:
        i = bisect_right(firsts, day) - 1
        if i >= 0 and day <= blackouts[i][1]:
            first, last = blackouts[i]
            where = f"{first}" if first == last else f"the range {first} to {last}"
            r.error(
                f"dateSchedules.{day}",
                f"{day} is also blacked out ({where} in blackoutDates); "
                "remove it from one of the two",
            )


def _weekday_key(key: object) -> int | None:
    if isinstance(key, str) and key in ("0", "1", "2", "3", "4", "5", "6"):
        return int(key)
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key
    return None


def _retry_conditions(r: _Reader, fields: dict[str, Any]) -> tuple[Outcome, ...] | None:
    value = fields.get("retryConditions")
    if value is None:
        return tuple(o for o in RETRYABLE if o in DEFAULT_RETRY_CONDITIONS)
    if not isinstance(value, (list, tuple)):
        r.error("retryConditions", f"must be a list of outcomes, not {_kind(value)}")
        return None
    found: list[Outcome] = []
    ok = True
    for i, item in enumerate(value):
        path = f"retryConditions.{i}"
        try:
            outcome = Outcome.parse(item)
        except ValueError as e:
            r.error(path, str(e))
            ok = False
            continue
        if outcome not in RETRYABLE:
            r.error(path, f"{outcome.value!r} is a success, not a condition to retry on")
            ok = False
        elif outcome in found:
            r.warn(path, f"{outcome.value!r} is listed twice; counted once")
        else:
            found.append(outcome)
    return tuple(o for o in RETRYABLE if o in found) if ok else None


def _pacing(
    r: _Reader, fields: dict[str, Any], end_date: date | None
) -> tuple[int | None, int | None, str]:
    interval = fields.get("callIntervalSeconds", 30)
    if isinstance(interval, int) and not isinstance(interval, bool) and interval <= 0:
        r.error(
            "callIntervalSeconds",
            f"is {interval}, but two call starts must be at least 1 second apart (1-86400)",
        )
        interval = None
    else:
        interval = r.integer(interval, "callIntervalSeconds", 1, 86400)
    concurrency = r.integer(fields.get("maxConcurrency", 5), "maxConcurrency", 1, 1000)
    mode = r.choice(fields.get("schedulingMode", "even"), "schedulingMode", SCHEDULING_MODES)
    if mode == "spread" and end_date is None and "endDate" not in fields:
        r.error(
            "schedulingMode",
            "'spread' divides the time until endDate among the customers, so it needs an endDate",
        )
    return interval, concurrency, mode


def _customer_fields(fields: dict[str, Any]) -> list[str]:
    """Which of ``customers`` and ``phoneList`` are given; an empty list is the API's
    default (a response echoes ``"customers": []``), so it stands aside for the other."""
    return [
        name
        for name in ("customers", "phoneList")
        if name in fields and not (isinstance(fields[name], (list, tuple)) and not fields[name])
    ]


def _customers(r: _Reader, fields: dict[str, Any]) -> tuple[Customer, ...] | None:
    """The payload's ``customers`` (objects) or ``phoneList`` (strings), validated."""
    given = _customer_fields(fields)
    if len(given) == 2:
        r.error("phoneList", "give customers or phoneList, not both")
        return None
    name = given[0] if given else "customers"
    items = fields.get(name, [])
    if not isinstance(items, (list, tuple)):
        r.error(name, f"must be a list, not {_kind(items)}")
        return None
    found: list[Customer] = []
    first_seen: dict[str, int] = {}
    number_check = _impossible_number_check() if items else None
    ok = True
    for i, item in enumerate(items):
        path = f"{name}.{i}"
        if name == "customers":
            if not isinstance(item, Mapping):
                r.error(path, f"must be an object with phoneNumber, not {_kind(item)}")
                ok = False
                continue
            phone, properties = item.get("phoneNumber"), item.get("properties")
            phone_path = f"{path}.phoneNumber"
            r.unknown_keys(item, path, ("phoneNumber", "properties"))
            if properties is None:
                properties = {}
            elif not isinstance(properties, Mapping):
                r.error(f"{path}.properties", f"must be an object, not {_kind(properties)}")
                ok = False
        else:
            phone, properties, phone_path = item, {}, path
        problem = phone_problem(phone)
        if problem is not None:
            r.error(phone_path, problem)
            ok = False
            continue
        assert isinstance(phone, str)
        if phone in first_seen:
            r.warn(phone_path, f"{phone} is also {name}.{first_seen[phone]}; it is dialed once")
        else:
            first_seen[phone] = i
            note = number_check(phone) if number_check is not None else None
            if note is not None:
                r.warn(phone_path, note)
        if ok:
            found.append(
                Customer(phone, dict(properties) if isinstance(properties, Mapping) else {})
            )
    return tuple(found) if ok else None


def _impossible_number_check() -> Callable[[str], str | None] | None:
    """With the optional phonenumbers package, a function that says why an E.164
    number cannot exist in its country's numbering plan (None when it can); None
    without the package, which leaves the syntax check alone."""
    try:
        import phonenumbers
    except ImportError:
        return None
    from phonenumbers import ValidationResult as Length

    plans = f"numbering plans of phonenumbers {phonenumbers.__version__}"
    lengths = {
        Length.TOO_SHORT: "it is too short for a +{code} number",
        Length.IS_POSSIBLE_LOCAL_ONLY: "it is too short for a +{code} number",
        Length.TOO_LONG: "it is too long for a +{code} number",
        Length.INVALID_LENGTH: "no +{code} number has that many digits",
    }

    def why(phone: str) -> str | None:
        try:
            number = phonenumbers.parse(phone)
        except phonenumbers.NumberParseException as error:
            reason = (
                "no country uses the calling code it starts with"
                if error.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE
                else "it is too short or too long for a phone number"
            )
        else:
            if phonenumbers.is_valid_number(number):
                return None
            code = number.country_code
            length = phonenumbers.is_possible_number_with_reason(number)
            reason = lengths.get(length, "it is in no range of numbers that +{code} uses")
            reason = reason.format(code=code)
        return f"{phone} cannot exist: {reason} ({plans}); it stays in the campaign"

    return why


def _advise(r: _Reader, s: Settings, fields: dict[str, Any]) -> None:
    """Warnings about a valid campaign that probably does not do what was meant."""
    if s.call_retries > 0 and not s.retry_conditions:
        r.warn("retryConditions", f"is empty, so the {s.call_retries} retries will never happen")
    if s.recipient_hours is not None and s.scheduling_mode == "spread":
        r.warn(
            "schedulingMode",
            "'spread' is not combined with recipientHours: the first attempts take the "
            "'even' grid, each slot going to the first customer whose own hours allow it",
        )
    # The API's own default list is what a response echoes back: not worth a warning.
    if (
        s.call_retries == 0
        and "retryConditions" in fields
        and set(s.retry_conditions) != set(DEFAULT_RETRY_CONDITIONS)
    ):
        r.warn("retryConditions", "has no effect while callRetries is 0")
    windows = [("startTime", s.hours)] if set(s.active_days) - {d for d, _ in s.day_hours} else []
    windows += [(f"daySchedules.{d}", h) for d, h in s.day_hours]
    windows += [(f"dateSchedules.{day}", h) for day, h in s.date_hours]
    for path, hours in windows:
        if hours.overnight or hours.start < POLITE_HOURS.start or hours.end > POLITE_HOURS.end:
            r.warn(
                path,
                f"the window {hours} reaches outside {POLITE_HOURS}, the common legal calling "
                "hours (for example under the US TCPA); check the rules where you call",
            )
    for i, rule in enumerate(s.blackout_rules):
        for day, _ in s.date_hours:
            if rule.names(day):
                r.warn(
                    f"dateSchedules.{day}",
                    f"{day} is also named by blackoutRules.{i} ({rule.text}); this schedule "
                    "overrides the rule, so calls are made that day",
                )
    _advise_rules(r, s)
    for day, _ in s.date_hours:
        holiday = s.holidays.name_of(day) if s.holidays else None
        if holiday is not None:
            assert s.holidays is not None
            r.warn(
                f"dateSchedules.{day}",
                f"{day} is {holiday} (holidays {s.holidays.label}); this schedule "
                "overrides the holiday, so calls are made that day",
            )
    first = s.start_date
    if s.start_at is not None:
        first = _first_local_date(s.start_at, s.timezone)
        if s.end_date and s.end_date < first:
            r.warn("endDate", f"{s.end_date} is before the start ({first}), so nothing is callable")
    for day, _ in s.date_hours:
        if (first and day < first) or (s.end_date and day > s.end_date):
            r.warn(
                f"dateSchedules.{day}",
                f"{day} is outside the campaign's dates ({first or 'start'} to "
                f"{s.end_date or 'no end'}), so this entry is ignored",
            )
        elif day_number(day) in load_zone(s.timezone).skipped_days:
            r.warn(
                f"dateSchedules.{day}",
                f"{day} never happens in {s.timezone} (the zone skips that whole day), "
                "so this entry is ignored",
            )
    if s.end_date and first and 0 <= (s.end_date - first).days < 7 and not s.date_hours:
        span = range((s.end_date - first).days + 1)
        if not any((first + timedelta(days=i)).weekday() in s.active_days for i in span):
            r.warn("activeDays", f"no active weekday falls between {first} and {s.end_date}")


def _advise_rules(r: _Reader, s: Settings) -> None:
    """A rule that names no date, and one whose dates hang on an immediate start."""
    first = s.start_date or (_first_local_date(s.start_at, s.timezone) if s.start_at else None)
    for i, rule in enumerate(s.blackout_rules):
        path = f"blackoutRules.{i}"
        if not rule.days:
            r.warn(
                path,
                f"names no date between {first} and {s.end_date or date.max}, so it "
                "blacks nothing out",
            )
        if rule.rule.start is None and s.start_date is None and rule.rule.anchored:
            r.warn(
                path,
                f"its dates are counted from the campaign's first date ({first}, the day it "
                "starts), since it has no DTSTART; add a line such as "
                "'DTSTART;VALUE=DATE:20260101' before the rule to fix them",
            )


def to_payload(s: Settings) -> dict[str, Any]:
    """The settings as an API payload with every default filled in."""
    payload: dict[str, Any] = {
        "timezone": s.timezone,
        "startDate": s.start_date.isoformat() if s.start_date else None,
    }
    if s.start_at is not None:
        # isoformat writes the year with four digits (strftime's %Y does not, before 1000)
        payload["startAt"] = s.start_at.replace(tzinfo=None).isoformat() + "Z"
    payload.update(
        {
            "endDate": s.end_date.isoformat() if s.end_date else None,
            "startTime": clock(s.hours.start),
            "endTime": clock(s.hours.end),
            "activeDays": list(s.active_days),
            "daySchedules": {
                str(d): {"startTime": clock(h.start), "endTime": clock(h.end)}
                for d, h in s.day_hours
            },
            "dateSchedules": {
                d.isoformat(): {"startTime": clock(h.start), "endTime": clock(h.end)}
                for d, h in s.date_hours
            },
            "blackoutDates": [
                a.isoformat() if a == b else {"start": a.isoformat(), "end": b.isoformat()}
                for a, b in s.blackouts
            ],
            "blackoutRules": [rule.text for rule in s.blackout_rules],
            "holidays": None
            if s.holidays is None
            else {
                "country": s.holidays.country,
                **({"subdivision": s.holidays.subdivision} if s.holidays.subdivision else {}),
                # the resolved list, so that the payload reads back the same anywhere
                "dates": {d.isoformat(): name for d, name in s.holidays.dates},
            },
            "recipientHours": None
            if s.recipient_hours is None
            else {
                "startTime": clock(s.recipient_hours.start),
                "endTime": clock(s.recipient_hours.end),
            },
            "callingRules": list(s.calling_rules),
            "callPurpose": s.call_purpose,
            "callTechnology": list(s.call_technology),
            "callRetries": s.call_retries,
            "retryDelaySeconds": s.retry_delay_seconds,
            "retryDelayMode": s.retry_delay_mode,
            "retryConditions": [o.value for o in s.retry_conditions],
            "callIntervalSeconds": s.call_interval_seconds,
            "maxConcurrency": s.max_concurrency,
            "maxCallSeconds": s.max_call_seconds,
            "contactLimits": [
                {
                    "maxCalls": c.max_calls,
                    **({"days": c.days} if c.hours is None else {"hours": c.hours}),
                    "per": c.per,
                    "count": c.count,
                    "window": c.window,
                }
                for c in s.contact_limits
            ],
            "quietAfterConversationDays": s.quiet_after_conversation_days,
            "connectedOutcomes": [o.value for o in Outcome if o in s.connected_outcomes],
            "schedulingMode": s.scheduling_mode,
            "customers": [
                {"phoneNumber": c.phone, "properties": dict(c.properties)} for c in s.customers
            ],
        }
    )
    return payload
