"""An independent, brute-force oracle for callslots' contact limits (docs/limits.md).

Nothing here imports callslots: every answer is re-derived from the rule in
docs/limits.md, section 2, with the standard library and ``zoneinfo`` only, by
enumerating the spans and dates that can matter rather than by any formula for the
instant a limit frees.  It is meant to be slow and obviously right.

Instants are aware ``datetime`` objects in UTC (exact to the microsecond: ``c + D x
24 h`` keeps a call's fraction of a second).  A *call* is a :class:`Call`: its start,
its outcome (None: not known yet, a call in progress), the number it went to and the
customer it counts for (``properties.customerId``, else the number).  The caller passes
only calls that count at all: a Dial reported ``not_started`` is left out.

The questions:

* :func:`blocks` / :func:`allowed`: would a new call at ``t`` to ``phone`` (customer
  ``customer``) break a limit or fall in a quiet period?
* :func:`next_allowed`: the earliest instant at or after ``t`` that :func:`allowed`
  accepts, found by trying candidate instants in order (see its docstring for why
  those candidates are enough).
* :func:`violations`: after a run, every run call that is in a span or period over its
  limit, or in a quiet period, given the calls around it (the a-posteriori check of
  the dispatcher and ``simulate``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

UTC = timezone.utc
DAY = timedelta(days=1)  # 86 400 s of real time: aware UTC datetimes subtract exactly

#: docs/limits.md, section 3: the outcomes that count as connected by default.
DEFAULT_CONNECTED: frozenset[str] = frozenset(
    {
        "Completed",
        "voicemail",
        "exceeded-max-duration",
        "No Answer",
        "Rejected",
        "Cancelled",
        "Timeout",
        "Unspecified",
    }
)
#: The others of the 15 outcomes: never connected by default.
DEFAULT_NOT_CONNECTED: frozenset[str] = frozenset(
    {
        "Busy",
        "Invalid",
        "Unreachable",
        "Network Error",
        "Resource Unavailable",
        "Service Unavailable",
        "Protocol Error",
    }
)
CONVERSATION = "Completed"


@dataclass(frozen=True, slots=True)
class Limit:
    """One entry of ``contactLimits`` with the documented defaults filled in."""

    max_calls: int
    days: int
    per: str = "customer"  # or "number"
    count: str = "attempts"  # or "connected"
    window: str = "rolling"  # or "calendar"
    #: A calling rule's limit is in force from its effective instant on (None:
    #: always); before it, it allows every call.
    since: datetime | None = None
    #: A rolling span of this many hours instead of ``days`` (``days`` is then 0).
    hours: int | None = None

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> Limit:
        hours = entry.get("hours")
        return cls(
            int(entry["maxCalls"]),
            0 if hours is not None else int(entry["days"]),
            str(entry.get("per", "customer")),
            str(entry.get("count", "attempts")),
            str(entry.get("window", "rolling")),
            hours=None if hours is None else int(hours),
        )

    @property
    def width(self) -> timedelta:
        """A rolling limit's span of real time."""
        return self.days * DAY if self.hours is None else timedelta(hours=self.hours)

    def describe(self) -> str:
        span = f"{self.days}d" if self.hours is None else f"{self.hours}h"
        return f"{self.max_calls}/{span} {self.window} {self.count} per {self.per}"


@dataclass(frozen=True, slots=True)
class Call:
    at: datetime  # the start, aware (any zone; compared as instants)
    outcome: str | None  # None: not known yet (counts as connected)
    phone: str
    customer: str  # the customerId, or the number when there is none


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything of a campaign that limits how often: the limits, the quiet period
    (None: none), the connected outcomes."""

    limits: tuple[Limit, ...]
    quiet_days: int | None = None
    connected: frozenset[str] = DEFAULT_CONNECTED
    quiet_since: datetime | None = None  # the quiet period is in force from then on

    @classmethod
    def of(
        cls,
        limits: Iterable[Mapping[str, Any]],
        quiet_days: int | None = None,
        connected: Iterable[str] | None = None,
    ) -> Rules:
        return cls(
            tuple(Limit.of(x) for x in limits),
            quiet_days,
            DEFAULT_CONNECTED if connected is None else frozenset(connected),
        )


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_date(at: datetime, zone: str) -> date:
    """The date on the wall clock of ``zone`` at instant ``at``."""
    return at.astimezone(_zone(zone)).date()


def _mine(limit: Limit, call: Call, phone: str, customer: str) -> bool:
    """Whether ``call`` is one of those ``limit`` counts for a new call to ``phone``."""
    return call.phone == phone if limit.per == "number" else call.customer == customer


def _counted(limit: Limit, call: Call, connected: frozenset[str]) -> bool:
    """An attempt always counts; a connected-count limit counts a call whose outcome
    connects or is not known yet (it may have connected)."""
    return limit.count == "attempts" or call.outcome is None or call.outcome in connected


def _relevant(
    rules: Rules, limit: Limit, calls: Iterable[Call], phone: str, customer: str
) -> list[Call]:
    return [
        c for c in calls if _mine(limit, c, phone, customer) and _counted(limit, c, rules.connected)
    ]


# ------------------------------------------------------------------------- one instant


@dataclass(frozen=True, slots=True)
class Breach:
    """Why a call at an instant is refused: the limit (or ``quiet``), the span or
    period that would be over, and how many counted calls it already holds."""

    what: str
    first: datetime | date
    last: datetime | date
    held: int


def _rolling_breach(limit: Limit, t: datetime, calls: Sequence[Call]) -> Breach | None:
    """A span ``[s, s + W)`` (W = days x 24 h) that contains ``t`` and would hold more
    than ``maxCalls`` calls with the new one, if there is one.

    The spans containing ``t`` are those with ``t - W < s <= t``; a call ``c`` is in
    ``[s, s + W)`` exactly when ``c - W < s <= c``.  Which spans need trying: take any
    span ``[s, s + W)`` containing ``t`` and let ``s*`` be the earliest of ``t`` and the
    calls it holds.  Then ``s <= s* <= t``, so ``[s*, s* + W)`` still contains ``t``,
    and it still holds every one of those calls (each is ``>= s*`` and ``< s + W <=
    s* + W``): it holds at least as many.  So the fullest span containing ``t`` starts
    at ``t`` or at one of the calls in ``(t - W, t]``, and trying those starts is
    enough.  (For good measure the spans *ending* just after each call are tried too,
    ``s = c - W + 1 us``: superfluous by the argument above, they cost nothing.)
    """
    width = limit.width
    starts = {t}
    for c in calls:
        if t - width < c.at <= t:
            starts.add(c.at)
        s = c.at - width + timedelta(microseconds=1)
        if t - width < s <= t:
            starts.add(s)
    for s in sorted(starts):
        held = sum(1 for c in calls if s <= c.at < s + width)
        if held + 1 > limit.max_calls:
            return Breach(limit.describe(), s, s + width, held)
    return None


def _calendar_breach(limit: Limit, t: datetime, calls: Sequence[Call], zone: str) -> Breach | None:
    """A run of ``days`` consecutive local dates (in ``zone``) containing ``t``'s date
    that would hold more than ``maxCalls`` calls with the new one: every such run is
    tried, the one starting on ``t``'s date and each of the ``days - 1`` before."""
    today = local_date(t, zone)
    dates = [local_date(c.at, zone) for c in calls]
    for back in range(limit.days):
        first = today - timedelta(days=back)
        last = first + timedelta(days=limit.days - 1)
        held = sum(1 for d in dates if first <= d <= last)
        if held + 1 > limit.max_calls:
            return Breach(f"{limit.describe()} in {zone}", first, last, held)
    return None


def _quiet_breach(
    rules: Rules, t: datetime, calls: Iterable[Call], customer: str, zone: str
) -> Breach | None:
    """A conversation of the customer whose quiet period, read in ``zone``, holds
    ``t``'s local date: the conversation's date is day 1, days 1 to D are quiet.

    Read literally, as the doc words it: the dates decide, whichever side of ``t`` the
    conversation is on (a history record later the same day makes that whole date
    quiet)."""
    if rules.quiet_days is None or (rules.quiet_since is not None and t < rules.quiet_since):
        return None
    today = local_date(t, zone)
    for c in calls:
        if c.customer != customer or c.outcome != CONVERSATION:
            continue
        first = local_date(c.at, zone)
        last = first + timedelta(days=rules.quiet_days - 1)
        if first <= today <= last:
            return Breach(f"quiet {rules.quiet_days}d in {zone}", first, last, 1)
    return None


def blocks(
    rules: Rules,
    t: datetime,
    calls: Iterable[Call],
    phone: str,
    customer: str,
    zones: Sequence[str],
) -> list[Breach]:
    """Every reason a new call at ``t`` to ``phone`` (counted for ``customer``, whose
    calendar is read in each of ``zones``) is refused; empty when it is allowed."""
    assert zones, "a customer has at least one zone (the campaign's at worst)"
    t = t.astimezone(UTC)
    calls = [Call(c.at.astimezone(UTC), c.outcome, c.phone, c.customer) for c in calls]
    found: list[Breach] = []
    for limit in rules.limits:
        if limit.since is not None and t < limit.since:
            continue  # not in force yet
        mine = _relevant(rules, limit, calls, phone, customer)
        if limit.window == "rolling":
            breach = _rolling_breach(limit, t, mine)
            if breach is not None:
                found.append(breach)
        else:
            for zone in zones:  # the strictest reading: every calendar must allow it
                breach = _calendar_breach(limit, t, mine, zone)
                if breach is not None:
                    found.append(breach)
    for zone in zones:
        breach = _quiet_breach(rules, t, calls, customer, zone)
        if breach is not None:
            found.append(breach)
    return found


def allowed(
    rules: Rules,
    t: datetime,
    calls: Iterable[Call],
    phone: str,
    customer: str,
    zones: Sequence[str],
) -> bool:
    return not blocks(rules, t, calls, phone, customer, zones)


# -------------------------------------------------------------- the earliest allowed


def first_instant(day: date, zone: str) -> datetime | None:
    """The first instant whose wall clock in ``zone`` shows local date ``day`` (its
    midnight, or later when the clock skips midnight); None when the zone skips the
    whole date.

    Found by bisection on whole seconds over two days around the naive midnight: the
    predicate "the local date is ``day`` or later" only goes from false to true in the
    zones the tests use (no transition there moves the clock back across a midnight:
    America/Santiago's fall-back turns 24:00 into 23:00 of the *same* date), and every
    transition of the tz database is on a whole second.  The monotonicity is checked
    at the ends and the answer is checked by reading its wall clock back.
    """
    naive = datetime(day.year, day.month, day.day, tzinfo=UTC)
    lo = naive - timedelta(hours=30)  # offsets stay within +-26 h
    hi = naive + timedelta(hours=30)
    assert local_date(lo, zone) < day <= local_date(hi, zone)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) // 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            mid = lo + timedelta(seconds=1)
        if local_date(mid, zone) >= day:
            hi = mid
        else:
            lo = mid
    if local_date(hi, zone) != day:
        return None  # the zone went from the day before to the day after
    assert local_date(hi - timedelta(seconds=1), zone) < day
    return hi


def next_allowed(
    rules: Rules,
    t: datetime,
    calls: Iterable[Call],
    phone: str,
    customer: str,
    zones: Sequence[str],
) -> datetime:
    """The earliest instant at or after ``t`` at which :func:`allowed` holds.

    Brute force over candidates, each checked with :func:`allowed`: ``t``; every
    call's start plus each limit's ``days x 24 h`` (a rolling limit blocks ``x`` when
    some group of calls fits with ``x`` in less than W, i.e. ``x`` in the open
    interval ``(max - W, min + W)``: the blocked set is a union of open intervals, so
    the first allowed instant after a blocked ``t`` is the right end ``min + W`` of
    one of them); and the first instant of every local date, in every zone, from
    ``t``'s date to the last date any call or ``t`` can make busy (calendar limits and
    quiet periods are constant over a local date).  Every set involved is a union of
    intervals closed on the left whose left ends are among the candidates, so is their
    intersection, and its first point at or after ``t`` is ``t`` or a candidate.  Past
    the last date every limit allows a call, so there always is an answer.  A limit in
    force from an instant ``since`` on allows the interval before it as well, whose
    left end is unbounded: it brings no new left end, so no new candidate.
    """
    t = t.astimezone(UTC)
    calls = [Call(c.at.astimezone(UTC), c.outcome, c.phone, c.customer) for c in calls]
    candidates = {t}
    widths = {limit.width for limit in rules.limits}
    spread = max({limit.days for limit in rules.limits} | {rules.quiet_days or 0, 1})
    for c in calls:
        for width in widths:
            candidates.add(c.at + width)
    for zone in zones:
        dates = [local_date(t, zone)] + [local_date(c.at, zone) for c in calls]
        day = local_date(t, zone) + DAY
        last = max(dates) + (spread + 1) * DAY
        while day <= last:
            found = first_instant(day, zone)
            if found is not None:
                candidates.add(found)
            day += DAY
    for x in sorted(u for u in candidates if u >= t):
        if allowed(rules, x, calls, phone, customer, zones):
            return x
    raise AssertionError("no candidate allowed: the oracle's own argument is wrong")


# ------------------------------------------------------------ after a run: violations


@dataclass(frozen=True, slots=True)
class Violation:
    call: Call
    breach: Breach


def violations(
    rules: Rules,
    history: Iterable[Call],
    run: Sequence[Call],
    zones_of: Mapping[str, Sequence[str]],
) -> list[Violation]:
    """Every call of ``run`` (the calls of a run in the order they were dialed, which
    is time order) that was over a limit or in a quiet period when it was dialed.
    ``zones_of`` maps a number to the zones its customer's dates are read in.

    Run call ``i`` is judged as a new call (counted as 1) against the history (all of
    it, before and after: a span is a span) and the run calls dialed before it, each by
    its *final* outcome.  When ``i`` was dialed the engine counted each of those at
    least as much (an outcome not known yet counts as connected), so a breach found
    here is a breach the engine should have seen; and this also covers every span
    after the fact: a span holding run calls was judged when its latest run call was
    dialed, with all the others already known.  The run calls dialed after ``i`` are
    left out (the engine could not know them).
    """
    history = list(history)
    found: list[Violation] = []
    for i, call in enumerate(run):
        known = history + list(run[:i])
        zones = zones_of[call.phone]
        for breach in blocks(rules, call.at, known, call.phone, call.customer, zones):
            found.append(Violation(call, breach))
    return found
