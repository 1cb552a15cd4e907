"""An independent test oracle for callslots' calling windows.

Nothing here imports callslots: the oracle re-derives every answer from the rule in
the core issue (section 3) by asking the standard library's ``zoneinfo`` for the wall
clock of one instant at a time.

Instants are whole seconds since the Unix epoch (``int``).  Every boundary of the
callable set lies on a whole second, so callability is constant on each ``[n, n + 1)``
and deciding it at integer instants decides it everywhere.

The rule, for a campaign ``spec``: local day ``d`` *owns* a window ``(s, e)``, or none,
by the first of these that applies:

1. ``d`` outside ``start_date .. end_date`` (a missing bound does not restrict): none
   (a date window outside the range is ignored);
2. ``d`` is a calendar day the zone skips entirely: none (see
   ``SKIPPED_DAYS_OWN_NO_WINDOW``);
3. ``d`` in ``date_windows`` (the payload's ``dateSchedules``): ``date_windows[d]``,
   even when ``d.weekday()`` is not in ``active_days``;
4. ``d`` in ``blackout_dates`` (``blackoutDates``, ranges expanded): none;
5. ``d.weekday()`` not in ``active_days``: none; otherwise
   ``day_windows[d.weekday()]``.

A day that owns a window is *active*.  A window ``(s, e)`` is in seconds of the day,
``e`` may be 86400 (``24:00``); ``s < e`` covers local date ``d`` at ``[s, e)``;
``s > e`` is an overnight window: local date ``d`` at ``[s, 86400)`` and local date
``d + 1`` at ``[0, e)``.  The tail on ``d + 1`` belongs to ``d``'s window: it stays
even when ``d + 1`` is blacked out or has a date window of its own (exceptions only
replace or remove the day's *own* window).

Instant ``u`` is callable iff its wall clock (local date and second of the day, as
``datetime.fromtimestamp(u, ZoneInfo(tz))`` reports it) lies in the window of an active
day, and, for an immediate start, ``u >= now`` (``now`` already rounded up to a whole
second).

``candidate_boundaries`` lists every instant of a UTC range at which callability can
change, so evaluating the oracle at those instants (and nowhere else) gives the exact
callable set of the range: see ``windows``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

DAY = 86_400
UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

#: The 14 call outcomes of the reference API, spelled exactly as the API spells them.
OUTCOMES: tuple[str, ...] = (
    "Rejected",
    "Unreachable",
    "Busy",
    "No Answer",
    "Network Error",
    "Invalid",
    "Timeout",
    "Cancelled",
    "Resource Unavailable",
    "Service Unavailable",
    "Protocol Error",
    "Unspecified",
    "voicemail",
    "exceeded-max-duration",
)

DEFAULT_RETRY_CONDITIONS: frozenset[str] = frozenset(
    {
        "No Answer",
        "Busy",
        "Timeout",
        "Unreachable",
        "Network Error",
        "Resource Unavailable",
        "Service Unavailable",
        "voicemail",
    }
)

#: Zones that skip a whole calendar day (Pacific/Apia 2011-12-30, Pacific/Kiritimati
#: 1994-12-31, Kwajalein 1993-08-21): the pure wall-clock reading would give the skipped
#: day d the after-midnight tail of its overnight window (local d + 1 before the end
#: time, which does exist).  The core issue says "a skipped calendar day has no window,
#: and that window must not move onto the next day", and the engine's
#: docs/semantics.md (section 3, item 6) decides that the skipped day owns no window at
#: all, not even that tail.  The oracle follows that decision; set this to False for
#: the pure wall-clock reading.
SKIPPED_DAYS_OWN_NO_WINDOW = True

#: A wall clock: (local date, second of the local day).
Wall = tuple[date, int]
Clock = Callable[[str, int], Wall]
#: A window: (start, end) seconds of the day, see the module docstring.
Window = tuple[int, int]


class DateWindows(Mapping[date, Window]):
    """An immutable, hashable mapping from local dates to their own windows."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[date, Window] | Iterable[tuple[date, Window]] = ()) -> None:
        self._items: dict[date, Window] = dict(items)

    def __getitem__(self, key: date) -> Window:
        return self._items[key]

    def __iter__(self) -> Iterator[date]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __repr__(self) -> str:
        return f"DateWindows({self._items!r})"


def _check_window(w: Window) -> None:
    s, e = w
    if not (0 <= s < DAY and 0 <= e <= DAY and s != e):
        raise ValueError(f"bad window {(s, e)}")


@dataclass(frozen=True)
class Spec:
    """The scheduling rule of one campaign, in the oracle's own terms."""

    tz: str = "UTC"
    start_date: date | None = None
    end_date: date | None = None
    active_days: frozenset[int] = frozenset(range(7))
    #: (start, end) seconds of the day for Monday .. Sunday (index = weekday()).
    day_windows: tuple[tuple[int, int], ...] = ((0, DAY),) * 7
    #: Immediate start only (no start_date): the first callable second, i.e. ``now``
    #: rounded up to a whole second.  ``None`` when start_date is given.
    now: int | None = None
    call_retries: int = 0
    retry_delay: int = 300
    retry_mode: str = "fixed"
    retry_conditions: frozenset[str] = field(default=DEFAULT_RETRY_CONDITIONS)
    #: ``blackoutDates`` with its ranges expanded: these local dates own no window
    #: (unless ``date_windows`` gives them one).
    blackout_dates: frozenset[date] = frozenset()
    #: ``dateSchedules``: a local date's own window, overriding its weekday's.  Any
    #: mapping may be passed; it is stored as a ``DateWindows``.
    date_windows: Mapping[date, Window] = field(default_factory=DateWindows)

    def __post_init__(self) -> None:
        if len(self.day_windows) != 7:
            raise ValueError("day_windows needs 7 entries")
        for w in self.day_windows:
            _check_window(w)
        object.__setattr__(self, "blackout_dates", frozenset(self.blackout_dates))
        object.__setattr__(self, "date_windows", DateWindows(self.date_windows))
        for w in self.date_windows.values():
            _check_window(w)
        if (self.start_date is None) == (self.now is None):
            raise ValueError("exactly one of start_date and now must be given")
        if not self.active_days or not self.active_days <= frozenset(range(7)):
            raise ValueError("bad active days")


# --------------------------------------------------------------------------- conversions


def ceil_seconds(dt: datetime) -> int:
    """An aware datetime as epoch seconds, rounded up."""
    delta = dt - EPOCH
    whole = delta.days * DAY + delta.seconds
    return whole + (1 if delta.microseconds else 0)


def floor_seconds(dt: datetime) -> int:
    """An aware datetime as epoch seconds, rounded down."""
    delta = dt - EPOCH
    return delta.days * DAY + delta.seconds


def to_datetime(u: int) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return EPOCH + timedelta(seconds=u)


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return d.toordinal() - EPOCH_ORDINAL


def utc_midnight(d: date) -> int:
    """00:00 UTC of date ``d`` as epoch seconds."""
    return day_number(d) * DAY


# ------------------------------------------------------------------------ the wall clock


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def wall_clock(tz: str, u: int) -> Wall:
    """The wall clock of instant ``u`` in zone ``tz``, straight from zoneinfo."""
    local = datetime.fromtimestamp(u, zone(tz))
    return local.date(), local.hour * 3600 + local.minute * 60 + local.second


def utc_offset(tz: str, u: int) -> int:
    """The zone's UTC offset (seconds) at instant ``u``."""
    offset = datetime.fromtimestamp(u, zone(tz)).utcoffset()
    assert offset is not None
    return offset // timedelta(seconds=1)


# ------------------------------------------------------------------------------- the rule


def in_range(spec: Spec, d: date) -> bool:
    """Whether ``d`` lies in ``start_date .. end_date`` (a missing bound: no limit)."""
    if spec.start_date is not None and d < spec.start_date:
        return False
    return spec.end_date is None or d <= spec.end_date


def window_of(spec: Spec, d: date) -> Window | None:
    """The window local day ``d`` owns, None when it owns none (rules 1, 3, 4, 5).

    Rule 2 (a skipped day owns no window) is applied in ``in_window_of``: a skipped
    day's wall clock never shows, so only its overnight tail could ever match.
    """
    if not in_range(spec, d):
        return None
    own = spec.date_windows.get(d)
    if own is not None:
        return own
    if d in spec.blackout_dates or d.weekday() not in spec.active_days:
        return None
    return spec.day_windows[d.weekday()]


def is_active(spec: Spec, d: date) -> bool:
    """Whether day ``d`` owns a window (skipped days aside, see ``window_of``)."""
    return window_of(spec, d) is not None


def in_window_of(spec: Spec, d: date, wall: Wall) -> bool:
    """Whether a wall clock lies in the window day ``d`` owns (False when it owns none)."""
    window = window_of(spec, d)
    if window is None:
        return False
    local_date, sod = wall
    s, e = window
    if s < e:
        return local_date == d and s <= sod < e
    if local_date == d:
        return sod >= s
    if local_date != d + timedelta(days=1) or sod >= e:
        return False
    # the after-midnight tail of an overnight window
    return not SKIPPED_DAYS_OWN_NO_WINDOW or day_occurs(spec.tz, d)


def owners(spec: Spec, u: int, clock: Clock = wall_clock) -> list[date]:
    """The active days whose window contains ``u``, earliest first (ignores ``now``)."""
    wall = clock(spec.tz, u)
    local_date = wall[0]
    found = []
    for d in (local_date - timedelta(days=1), local_date):
        if in_window_of(spec, d, wall):
            found.append(d)
    return found


def is_callable(spec: Spec, u: int, clock: Clock = wall_clock) -> bool:
    if spec.now is not None and u < spec.now:
        return False
    return bool(owners(spec, u, clock))


def day_of(spec: Spec, u: int, clock: Clock = wall_clock) -> date:
    """The earliest active day whose window contains ``u``, else ``u``'s local date."""
    found = owners(spec, u, clock)
    return found[0] if found else clock(spec.tz, u)[0]


def in_later_day(spec: Spec, u: int, after: date, clock: Clock = wall_clock) -> bool:
    """Whether ``u`` is callable and in the window of an active day later than ``after``."""
    if spec.now is not None and u < spec.now:
        return False
    return any(d > after for d in owners(spec, u, clock))


# ------------------------------------------------------------------ transitions, offsets

#: Transition scans are cached per chunk of 2**21 s (about 24 days) of one zone.
_CHUNK = 1 << 21
_SAMPLE = 900  # sample the offset every 15 minutes


def _first_change(tz: str, lo: int, hi: int, off_lo: int) -> int:
    """The first second in (lo, hi] whose offset differs from ``off_lo`` (which hi has)."""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if utc_offset(tz, mid) == off_lo:
            lo = mid
        else:
            hi = mid
    return hi


def scan_transitions(tz: str, lo: int, hi: int, step: int = _SAMPLE) -> list[tuple[int, int, int]]:
    """Transitions in ``(lo, hi]`` as (instant, offset before, offset after).

    Samples the UTC offset every ``step`` seconds and bisects each change to the
    second.  A change and its reversal within one ``step`` would be missed; with the
    default 15 minutes no zone in the tz database has one.
    """
    found: list[tuple[int, int, int]] = []
    t, off = lo, utc_offset(tz, lo)
    while t < hi:
        nxt = min(t + step, hi)
        off_next = utc_offset(tz, nxt)
        cur, cur_off = t, off
        while cur_off != off_next:
            # several changes may hide in one step: peel them off one by one
            at = _first_change(tz, cur, nxt, cur_off)
            after = utc_offset(tz, at)
            found.append((at, cur_off, after))
            cur, cur_off = at, after
        t, off = nxt, off_next
    return found


@lru_cache(maxsize=8192)
def _chunk(tz: str, k: int) -> tuple[tuple[int, int, int], ...]:
    return tuple(scan_transitions(tz, k * _CHUNK, (k + 1) * _CHUNK))


def transitions(tz: str, a: int, b: int) -> list[tuple[int, int, int]]:
    """The zone's offset transitions at instants in ``[a, b)``, found independently."""
    if b <= a:
        return []
    out: list[tuple[int, int, int]] = []
    for k in range((a - 1) // _CHUNK, (b - 2) // _CHUNK + 1):
        out.extend(tr for tr in _chunk(tz, k) if a <= tr[0] < b)
    return out


def offsets(tz: str, a: int, b: int) -> set[int]:
    """Every UTC offset the zone has at some instant of ``[a, b)``."""
    result = {utc_offset(tz, a)}
    result.update(after for _, _, after in transitions(tz, a, b))
    return result


@lru_cache(maxsize=65536)
def day_occurs(tz: str, d: date) -> bool:
    """Whether local date ``d`` shows on the zone's wall clock at all.

    It does not when one forward jump skips all of it: the wall clock runs up to
    ``t + before`` (exclusive) and resumes at ``t + after``.
    """
    midnight = day_number(d) * DAY
    for t, before, after in transitions(tz, midnight - 2 * DAY, midnight + 3 * DAY):
        if t + before <= midnight and midnight + DAY <= t + after:
            return False
    return True


# ------------------------------------------------------- candidates and derived answers


def _wall_boundaries(spec: Spec, first: date, last: date) -> set[int]:
    """Wall-clock boundaries (local seconds since 1970-01-01 00:00) of days first..last.

    Both the weekday window and the date's own window (if any) count, whether or not
    the day is active: a superset of the boundaries is harmless.
    """
    out: set[int] = set()
    d = first
    while d <= last:
        base = day_number(d) * DAY
        out.add(base)  # local midnight: the date changes
        own = spec.date_windows.get(d)
        for s, e in (spec.day_windows[d.weekday()], *([own] if own is not None else [])):
            out.add(base + s)
            out.add(base + e if s < e else base + DAY + e)
        d += timedelta(days=1)
    return out


def candidate_boundaries(spec: Spec, a: int, b: int) -> list[int]:
    """Every instant in ``[a, b)`` where callability (or ``day_of``) can change.

    These are ``a`` itself, the immediate-start instant, the zone's transitions, and
    each window boundary ``L(d) + s`` / ``L(d) + e`` (weekday windows and date
    windows alike, and local midnights, where blackouts start and end) converted to
    UTC under every offset the zone has in the range.  Between two consecutive
    candidates the offset is constant and no boundary is crossed, so the callable set
    (and day_of) is constant there.
    """
    if b <= a:
        return []
    zone_offsets = offsets(spec.tz, a, b)
    first = to_datetime(a).date() - timedelta(days=2)
    last = to_datetime(b).date() + timedelta(days=2)
    cands = {a}
    cands.update(t for t, _, _ in transitions(spec.tz, a, b))
    if spec.now is not None and a <= spec.now < b:
        cands.add(spec.now)
    for w in _wall_boundaries(spec, first, last):
        for off in zone_offsets:
            u = w - off
            if a <= u < b:
                cands.add(u)
    return sorted(cands)


def intervals(
    pred: Callable[[int], bool], candidates: Iterable[int], b: int
) -> list[tuple[int, int]]:
    """Maximal half-open intervals of ``[candidates[0], b)`` where ``pred`` holds."""
    out: list[tuple[int, int]] = []
    cands = list(candidates)
    for i, c in enumerate(cands):
        if not pred(c):
            continue
        end = cands[i + 1] if i + 1 < len(cands) else b
        if out and out[-1][1] == c:
            out[-1] = (out[-1][0], end)
        else:
            out.append((c, end))
    return out


def windows(spec: Spec, a: int, b: int, clock: Clock = wall_clock) -> list[tuple[int, int]]:
    """The callable set within ``[a, b)`` as maximal, sorted, non-touching intervals."""
    return intervals(lambda u: is_callable(spec, u, clock), candidate_boundaries(spec, a, b), b)


def horizon(spec: Spec) -> int | None:
    """An instant after which nothing is callable (None when there is no end date)."""
    if spec.end_date is None:
        return None
    return utc_midnight(spec.end_date) + 4 * DAY


def first_where(
    spec: Spec, pred: Callable[[int], bool], t: int, limit: int | None = None
) -> int | None:
    """The first second ``u >= t`` with ``pred(u)``, searching ``[t, limit)``.

    ``pred`` must be constant between candidate boundaries.  ``limit`` defaults to the
    campaign's horizon; None means not found before ``limit``.
    """
    if limit is None:
        limit = horizon(spec)
        if limit is None:
            raise ValueError("an unbounded campaign needs a search limit")
    if pred(t):
        return t
    for c in candidate_boundaries(spec, t, limit):
        if c > t and pred(c):
            return c
    return None


def next_callable(spec: Spec, t: int, limit: int | None = None) -> int | None:
    """``t`` if callable, else the start of the next window (None: none before limit)."""
    return first_where(spec, lambda u: is_callable(spec, u), t, limit)


def retry_at(
    spec: Spec,
    outcome: str,
    attempt: int,
    ended_at: datetime,
    started_at: datetime | None = None,
    limit: int | None = None,
) -> datetime | None:
    """When the retry happens per section 4 of the issue, None for no retry.

    The result may be fractional (``ended_at + delay`` itself when that is callable).
    With an explicit ``limit`` on an unbounded campaign, None can also mean "not
    before limit".
    """
    if outcome not in spec.retry_conditions or attempt > spec.call_retries:
        return None
    earliest = ended_at + timedelta(seconds=spec.retry_delay)
    base = floor_seconds(earliest)
    if spec.retry_mode == "fixed":
        found = next_callable(spec, base, limit)
    else:
        owner = day_of(spec, floor_seconds(started_at or ended_at))
        found = first_where(spec, lambda u: in_later_day(spec, u, owner), base, limit)
    if found is None:
        return None
    return earliest if found == base else to_datetime(found)


# ------------------------------------------------------------- a customer's callable set


@dataclass(frozen=True)
class Intersection:
    """A callable set as docs/compliance.md (section 2) composes it: the campaign's
    (``spec``) intersected with each ``recipients`` spec's, the recipient window read
    on that zone's clock with exactly the campaign's rules (every day active, no end).
    With no recipients it is the campaign's set itself, so one model serves the
    campaign and every customer view.

    The answers follow docs/semantics.md, section 5, on *this* set: ``day_of(u)`` is
    the earliest campaign day whose window holds ``u`` when ``u`` is in the set, else
    ``u``'s local date in the campaign zone.
    """

    spec: Spec
    recipients: tuple[Spec, ...] = ()

    def is_callable(self, u: int) -> bool:
        return is_callable(self.spec, u) and all(is_callable(s, u) for s in self.recipients)

    def day_of(self, u: int) -> date:
        if self.is_callable(u):
            return owners(self.spec, u)[0]
        return wall_clock(self.spec.tz, u)[0]

    def candidate_boundaries(self, a: int, b: int) -> list[int]:
        """Every instant of ``[a, b)`` where membership (or ``day_of``) can change."""
        found = set(candidate_boundaries(self.spec, a, b))
        for spec in self.recipients:
            found.update(candidate_boundaries(spec, a, b))
        return sorted(found)

    def windows(self, a: int, b: int) -> list[tuple[int, int]]:
        """The set within ``[a, b)`` as maximal, sorted, non-touching intervals."""
        return intervals(self.is_callable, self.candidate_boundaries(a, b), b)

    def first_where(self, pred: Callable[[int], bool], t: int, limit: int | None) -> int | None:
        """The first second ``u >= t`` with ``pred(u)`` before ``limit`` (default: the
        campaign's horizon); ``pred`` must be constant between candidate boundaries."""
        if limit is None:
            limit = horizon(self.spec)
            if limit is None:
                raise ValueError("an unbounded campaign needs a search limit")
        if pred(t):
            return t
        for c in self.candidate_boundaries(t, limit):
            if c > t and pred(c):
                return c
        return None

    def next_callable(self, t: int, limit: int | None = None) -> int | None:
        return self.first_where(self.is_callable, t, limit)

    def retry_at(
        self,
        outcome: str,
        attempt: int,
        ended_at: datetime,
        started_at: datetime | None = None,
        limit: int | None = None,
    ) -> datetime | None:
        """The retry rule of docs/semantics.md, section 6, searched in this set; None
        for no retry (or, with an explicit ``limit``, none before it)."""
        spec = self.spec
        if outcome not in spec.retry_conditions or attempt > spec.call_retries:
            return None
        earliest = ended_at + timedelta(seconds=spec.retry_delay)
        base = floor_seconds(earliest)
        if spec.retry_mode == "fixed":
            found = self.first_where(self.is_callable, base, limit)
        else:
            owner = self.day_of(floor_seconds(started_at or ended_at))
            found = self.first_where(
                lambda u: self.is_callable(u) and any(d > owner for d in owners(spec, u)),
                base,
                limit,
            )
        if found is None:
            return None
        return earliest if found == base else to_datetime(found)


def recipient_spec(tz: str, window: Window) -> Spec:
    """The recipient window ``window`` every day in zone ``tz``, unbounded (from the
    second day of the calendar, so that its first local day is a whole one)."""
    return Spec(tz=tz, start_date=date(1, 1, 2), day_windows=(window,) * 7)
