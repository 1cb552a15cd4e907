"""Hypothesis strategies: campaign payloads paired with the oracle's reading of them.

A ``Case`` holds the JSON payload handed to ``Campaign.from_dict``, the ``now`` passed
with it, and the oracle ``Spec`` built from the *same draws* (never by parsing the
payload), plus a UTC range ``[lo, hi)`` that covers the whole campaign when it has an
end date (nothing is callable at or after ``hi``), or a finite horizon when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import available_timezones

from hypothesis import strategies as st

import oracle

DAY = oracle.DAY
ZONES: tuple[str, ...] = tuple(sorted(available_timezones()))
#: Zones with hard transitions, sampled more often than their share of ZONES.
HARD_ZONES: tuple[str, ...] = (
    "America/New_York",
    "Europe/Prague",
    "Europe/Dublin",
    "Europe/Moscow",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "America/Sao_Paulo",
    "America/St_Johns",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "Pacific/Chatham",
    "Africa/Casablanca",
    "Africa/Monrovia",
    "Antarctica/Troll",
    "Asia/Kathmandu",
    "Asia/Tehran",
    "America/Asuncion",
    "Asia/Gaza",
)
zones = st.one_of(st.sampled_from(ZONES), st.sampled_from(HARD_ZONES))

FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2100, 12, 31)


@dataclass(frozen=True)
class Case:
    payload: dict[str, Any]
    spec: oracle.Spec
    now: datetime | None
    lo: int
    hi: int

    @property
    def bounded(self) -> bool:
        return self.spec.end_date is not None

    def campaign(self) -> Any:
        from callslots import Campaign

        return Campaign.from_dict(self.payload, now=self.now)


# ------------------------------------------------------------------------ times of day

_SPECIAL_SECONDS = (
    0,
    1,
    59,
    60,
    1799,
    1800,
    3599,
    3600,
    3601,
    5400,
    7200,
    9000,
    10800,
    12600,
    14400,
    43200,
    DAY - 3600,
    DAY - 1800,
    DAY - 60,
    DAY - 1,
)

seconds_of_day = st.one_of(
    st.integers(0, DAY - 1),
    st.integers(0, 95).map(lambda q: q * 900),
    st.integers(0, 23).map(lambda h: h * 3600),
    st.sampled_from(_SPECIAL_SECONDS),
)


@st.composite
def time_text(draw: st.DrawFn, sod: int) -> str:
    """``sod`` (0..86400) as HH:MM or HH:MM:SS; 86400 is "24:00"."""
    if sod == DAY:
        return "24:00"
    h, rest = divmod(sod, 3600)
    m, s = divmod(rest, 60)
    if s == 0 and draw(st.booleans()):
        return f"{h:02d}:{m:02d}"
    return f"{h:02d}:{m:02d}:{s:02d}"


@st.composite
def window_pairs(
    draw: st.DrawFn,
    starts: st.SearchStrategy[int] = seconds_of_day,
    ends: st.SearchStrategy[int] | None = None,
) -> tuple[int, int]:
    """(start, end) seconds, start in 0..86399, end in 0..86400, start != end.

    start > end is an overnight window (end 0, i.e. "00:00", is overnight too).
    """
    s = draw(starts)
    if ends is None:
        ends = st.one_of(seconds_of_day, st.just(DAY))
    e = draw(ends)
    if e == s:
        e = DAY if s == 0 else (s + draw(st.integers(1, DAY))) % (DAY + 1)
        if e == s:  # pragma: no cover - (s + k) % 86401 == s needs k == 86401
            e = DAY
    if draw(st.integers(0, 3)) == 0 and s < e:
        s, e = (e if e < DAY else 0), s  # flip into an overnight window (or 00:00 start)
        if s == e:
            e = DAY
    return s, e


# ------------------------------------------------------------------- per-date exceptions


@dataclass(frozen=True)
class Exceptions:
    """Drawn ``blackoutDates`` / ``dateSchedules``: payload values and the spec's reading.

    A payload value of None means the field is left out.
    """

    blackout_payload: list[Any] | None = None
    schedules_payload: dict[str, dict[str, str]] | None = None
    blackout_dates: frozenset[date] = frozenset()
    date_windows: tuple[tuple[date, tuple[int, int]], ...] = ()


def transition_days(tz: str, first: date, last: date) -> list[date]:
    """Local dates around the zone's transitions between ``first`` and ``last``.

    For each transition: the local dates just before and at it, and the day before
    (whose overnight window reaches into the transition day).
    """
    a = oracle.utc_midnight(first) - DAY
    b = oracle.utc_midnight(last) + 2 * DAY
    out: set[date] = set()
    for t, _, _ in oracle.transitions(tz, a, b):
        before = oracle.wall_clock(tz, t - 1)[0]
        out.update((before - timedelta(days=1), before, oracle.wall_clock(tz, t)[0]))
    return sorted(out)


@st.composite
def exceptions(
    draw: st.DrawFn,
    tz: str,
    first: date,
    last: date,
    active: frozenset[int],
    windows: st.SearchStrategy[tuple[int, int]],
) -> Exceptions:
    """Blackouts and date schedules near the campaign's dates ``first .. last``.

    Dates come from ``first - 3 .. last + 3`` (so some fall outside the range), with
    extra weight on the range's ends, the zone's transition days and inactive
    weekdays.  Blackouts mix single dates and inclusive ranges (which may overlap each
    other); a date schedule never lands on a blacked-out date.
    """
    lo = max(first - timedelta(days=3), FIRST_DAY)
    hi = min(max(last, first) + timedelta(days=3), LAST_DAY)
    pool = [lo + timedelta(days=i) for i in range((hi - lo).days + 1)]
    special = {first - timedelta(days=1), first, last, last + timedelta(days=1)}
    special.update(d for d in pool if d.weekday() not in active)
    shifts = [d for d in transition_days(tz, lo, hi) if lo <= d <= hi]
    special.update(shifts)
    specials = sorted(d for d in special if lo <= d <= hi)
    dates = st.one_of(
        st.sampled_from(pool), st.sampled_from(specials or pool), st.sampled_from(shifts or pool)
    )

    blackout_payload: list[Any] = []
    blacked: set[date] = set()
    for _ in range(draw(st.integers(0, 4))):
        start = draw(dates)
        if draw(st.booleans()):
            blackout_payload.append(start.isoformat())
            blacked.add(start)
            continue
        end = min(start + timedelta(days=draw(st.integers(0, 5))), LAST_DAY)
        blackout_payload.append({"start": start.isoformat(), "end": end.isoformat()})
        blacked.update(start + timedelta(days=i) for i in range((end - start).days + 1))

    schedules_payload: dict[str, dict[str, str]] = {}
    own: dict[date, tuple[int, int]] = {}
    for _ in range(draw(st.integers(0, 3))):
        d = draw(dates)
        if d in blacked or d in own:
            continue  # the engine refuses a date both blacked out and scheduled
        s, e = draw(windows)
        schedules_payload[d.isoformat()] = {
            "startTime": draw(time_text(s)),
            "endTime": draw(time_text(e)),
        }
        own[d] = (s, e)

    # an empty field is still a valid field: sometimes send it, sometimes leave it out
    send_blackouts = bool(blackout_payload) or draw(st.booleans())
    send_schedules = bool(schedules_payload) or draw(st.booleans())
    return Exceptions(
        blackout_payload=blackout_payload if send_blackouts else None,
        schedules_payload=schedules_payload if send_schedules else None,
        blackout_dates=frozenset(blacked),
        date_windows=tuple(sorted(own.items())),
    )


# ----------------------------------------------------------------------- whole payloads


def _ordinal_day(o: int) -> date:
    return date.fromordinal(o)


@st.composite
def date_spans(draw: st.DrawFn) -> tuple[date, int]:
    """A first day and a length in days (inclusive span is length + 1 days)."""
    length = draw(st.one_of(st.integers(0, 10), st.integers(0, 40)))
    era = draw(st.sampled_from(["any", "any", "far-future", "epoch", "modern"]))
    last_first = LAST_DAY.toordinal() - length
    if era == "far-future":
        lo_o = date(2099, 1, 1).toordinal()
    elif era == "epoch":
        lo_o, last_first = FIRST_DAY.toordinal(), date(1970, 3, 1).toordinal()
    elif era == "modern":
        lo_o, last_first = date(2000, 1, 1).toordinal(), date(2040, 1, 1).toordinal()
    else:
        lo_o = FIRST_DAY.toordinal()
    return _ordinal_day(draw(st.integers(lo_o, last_first))), length


@st.composite
def campaigns(
    draw: st.DrawFn,
    tz: str | None = None,
    windows: st.SearchStrategy[tuple[int, int]] | None = None,
    around: int | None = None,
    around_day: date | None = None,
) -> Case:
    """A random campaign payload and its oracle spec.

    ``tz``/``windows``/``around`` (a UTC instant)/``around_day`` (a local date that
    must be active and in range) let near-transition cases steer the draw.
    """
    if tz is None:
        tz = draw(zones)
    if windows is None:
        windows = window_pairs()
    payload: dict[str, Any] = {}
    if tz != "UTC" or draw(st.booleans()):
        payload["timezone"] = tz

    # -- dates and start
    immediate = draw(st.integers(0, 3)) == 0
    now: datetime | None = None
    spec_now: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    if around_day is not None:
        length = draw(st.integers(0, 6))
        before = draw(st.integers(0, length))
        first = around_day - timedelta(days=before)
    elif around is not None:
        length = draw(st.integers(0, 6))
        first = oracle.to_datetime(around).date() - timedelta(days=draw(st.integers(0, length)))
    else:
        first, length = draw(date_spans())
    if immediate:
        base = oracle.utc_midnight(first) if around is None else around - 3 * DAY
        base = min(base, oracle.utc_midnight(LAST_DAY) - 3 * DAY)
        base_us = draw(st.integers(0, 3 * DAY - 1)) * 1_000_000
        if draw(st.booleans()):
            base_us += draw(st.integers(0, 999_999))
        now = oracle.to_datetime(base) + timedelta(microseconds=base_us)
        spec_now = oracle.ceil_seconds(now)
        first = now.date()
        if draw(st.integers(0, 4)) > 0:
            end_date = first + timedelta(days=draw(st.integers(-1, length + 1)))
        if draw(st.booleans()):
            # the same instant in another zone: only the instant matters
            offset = timedelta(minutes=draw(st.integers(-14 * 60, 14 * 60)))
            now = now.astimezone(timezone(offset))
    else:
        start_date = first
        if draw(st.integers(0, 4)) > 0:
            end_date = first + timedelta(days=length)
        if draw(st.integers(0, 5)) == 0:
            # now is irrelevant once startDate is given
            now = oracle.to_datetime(oracle.utc_midnight(first) + draw(st.integers(-DAY, 9 * DAY)))
    if start_date is not None:
        payload["startDate"] = start_date.isoformat()
    if end_date is not None:
        if end_date > LAST_DAY:
            end_date = LAST_DAY
        payload["endDate"] = end_date.isoformat()

    # -- active days
    if around_day is not None and draw(st.booleans()):
        active = frozenset(range(7))
    else:
        active = frozenset(draw(st.sets(st.integers(0, 6), min_size=1)))
    if around_day is not None:
        active |= {around_day.weekday()}
    if active == frozenset(range(7)) and draw(st.booleans()):
        pass  # the default
    else:
        days = sorted(active)
        if draw(st.booleans()):
            days = days + draw(st.lists(st.sampled_from(days), max_size=3))  # duplicates
        payload["activeDays"] = draw(st.permutations(days))

    # -- windows
    whole_day = draw(st.integers(0, 5)) == 0
    if whole_day:
        gs, ge = 0, DAY
    else:
        gs, ge = draw(windows)
        payload["startTime"] = draw(time_text(gs))
        payload["endTime"] = draw(time_text(ge))
    per_day = [(gs, ge)] * 7
    schedules: dict[str, dict[str, str]] = {}
    for wd in sorted(draw(st.sets(st.integers(0, 6), max_size=7))):
        s, e = draw(windows)
        entry: dict[str, str] = {}
        half = draw(st.sampled_from(["both", "both", "start", "end"])) if not whole_day else "both"
        if half == "start":
            e = ge
        elif half == "end":
            s = gs
        if s == e:
            continue  # an invalid combination: leave this day on the global window
        if half != "end":
            entry["startTime"] = draw(time_text(s))
        if half != "start":
            entry["endTime"] = draw(time_text(e))
        schedules[str(wd)] = entry
        per_day[wd] = (s, e)
    if schedules:
        payload["daySchedules"] = schedules

    # -- per-date exceptions: nominally 3 examples in 5, about 40% in practice since
    # Hypothesis favours small integers; shrinks towards none
    extra = Exceptions()
    if draw(st.integers(0, 4)) >= 2:
        last = end_date if end_date is not None else first + timedelta(days=length)
        extra = draw(exceptions(tz, first, last, active, windows))
        if extra.blackout_payload is not None:
            payload["blackoutDates"] = extra.blackout_payload
        if extra.schedules_payload is not None:
            payload["dateSchedules"] = extra.schedules_payload

    # -- retries
    retries = draw(st.integers(0, 10))
    if retries or draw(st.booleans()):
        payload["callRetries"] = retries
    delay = draw(st.one_of(st.sampled_from([0, 1, 60, 300, 3600, 43200, DAY]), st.integers(0, DAY)))
    if delay != 300 or draw(st.booleans()):
        payload["retryDelaySeconds"] = delay
    mode = draw(st.sampled_from(["fixed", "next_day"]))
    if mode != "fixed" or draw(st.booleans()):
        payload["retryDelayMode"] = mode
    if draw(st.booleans()):
        conditions = frozenset(oracle.DEFAULT_RETRY_CONDITIONS)
    else:
        chosen = draw(st.sets(st.sampled_from(oracle.OUTCOMES)))
        conditions = frozenset(chosen)
        payload["retryConditions"] = sorted(chosen)

    # -- ignored fields
    if draw(st.integers(0, 4)) == 0:
        payload["name"] = "property test"
        payload["customers"] = [{"phoneNumber": "+14155559001"}]

    spec = oracle.Spec(
        tz=tz,
        start_date=start_date,
        end_date=end_date,
        active_days=active,
        day_windows=tuple(per_day),
        now=spec_now,
        call_retries=retries,
        retry_delay=delay,
        retry_mode=mode,
        retry_conditions=conditions,
        blackout_dates=extra.blackout_dates,
        date_windows=dict(extra.date_windows),
    )
    origin = oracle.utc_midnight(first) if spec_now is None else spec_now
    lo = origin - 2 * DAY
    hi = oracle.horizon(spec)
    if hi is None:
        hi = oracle.utc_midnight(first) + (length + 5) * DAY
    hi = max(hi, lo + DAY)
    return Case(payload=payload, spec=spec, now=now, lo=lo, hi=hi)


# ------------------------------------------------------------------ near transitions


@st.composite
def transition_points(draw: st.DrawFn, tz: str | None = None) -> tuple[str, int, int, int] | None:
    """A zone and one of its transitions (instant, offset before, offset after).

    Found with the oracle's own scan: a random year (1970-2100), then up to three
    years onward, sampled daily and bisected to the second.  None if the zone has
    no transition there.
    """
    if tz is None:
        tz = draw(zones)
    year = draw(st.integers(1970, 2100))
    a = oracle.utc_midnight(date(year, 1, 1))
    b = min(a + 3 * 366 * DAY, oracle.utc_midnight(LAST_DAY) - 10 * DAY)
    found = oracle.scan_transitions(tz, a, b, step=DAY) if a < b else []
    if not found:
        return None
    t, before, after = found[draw(st.integers(0, min(len(found), 8) - 1))]
    return tz, t, before, after


@st.composite
def near_transition_cases(draw: st.DrawFn) -> Case:
    """Campaigns whose window edges sit on, or a few seconds off, a transition's wall times."""
    point = draw(transition_points())
    if point is None:
        return draw(campaigns())
    tz, t, _, _ = point
    # wall clock the old offset reaches (exclusive) and the new offset starts from
    day_before, sod_before = oracle.wall_clock(tz, t - 1)
    day_after, sod_after = oracle.wall_clock(tz, t)
    sod_before += 1
    marks = sorted({sod_before % DAY, sod_after, (sod_before + sod_after) // 2 % DAY})
    end_marks = sorted({*marks, sod_before})  # an end may be 24:00
    jitter = st.sampled_from([0, 0, 0, 1, -1, 60, -60, 900, -900, 3600, -3600])

    def near(points: list[int], lim: int) -> st.SearchStrategy[int]:
        base = st.one_of(st.sampled_from(points), seconds_of_day)
        return st.tuples(base, jitter).map(lambda p: min(max(p[0] + p[1], 0), lim))

    windows = window_pairs(starts=near(marks, DAY - 1), ends=near(end_marks, DAY))
    around_day = draw(st.sampled_from([day_before, day_after, day_before - timedelta(days=1)]))
    if draw(st.booleans()):
        return draw(campaigns(tz=tz, windows=windows, around_day=around_day))
    return draw(campaigns(tz=tz, windows=windows, around=t - draw(st.integers(-DAY, 2 * DAY))))


cases = st.one_of(campaigns(), near_transition_cases())


# --------------------------------------------------------------------------- instants


def interesting_instants(case: Case) -> list[int]:
    """Candidate boundaries of the case's range, with their neighbours."""
    out: set[int] = set()
    for c in oracle.candidate_boundaries(case.spec, case.lo, case.hi):
        out.update((c - 1, c, c + 1))
    return sorted(u for u in out if case.lo <= u < case.hi)


def instants(
    case: Case, candidates: list[int] | None = None, floor: int | None = None
) -> st.SearchStrategy[int]:
    """Whole-second instants in ``[floor or lo, hi)``, favouring candidate boundaries."""
    if candidates is None:
        candidates = interesting_instants(case)
    lo = case.lo if floor is None else max(floor, case.lo)
    uniform = st.integers(lo, case.hi - 1)
    near = [c for c in candidates if c >= lo]
    if not near:
        return uniform
    return st.one_of(uniform, st.sampled_from(near))


def datetimes_at(u: int) -> st.SearchStrategy[datetime]:
    """Aware datetimes within the second ``[u, u + 1)``, in UTC or another offset."""
    return st.builds(
        lambda us, minutes: (oracle.to_datetime(u) + timedelta(microseconds=us)).astimezone(
            timezone(timedelta(minutes=minutes))
        ),
        st.one_of(st.just(0), st.integers(0, 999_999)),
        st.one_of(st.just(0), st.integers(-14 * 60, 14 * 60)),
    )
