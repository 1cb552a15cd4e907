"""Contact limits: how often a customer may be called (docs/limits.md).

A limit is a set of forbidden instants derived from the calls already counted.
Everything here is in integer UTC **microseconds** (a history's instants may carry
fractions of a second); local dates are day numbers (days since 1970-01-01).

* A rolling limit of N calls in L microseconds forbids ``t`` exactly when N counted
  calls fit, together with ``t``, in less than L: for sorted starts ``c``, the union
  over the groups ``j`` that span less than L themselves (``c[j+N-1] - c[j] < L``)
  of the open intervals ``(c[j+N-1] - L, c[j] + L)``.  Both ends grow with ``j``,
  so the first allowed instant from ``t`` is found by a bisection and a short walk
  over the groups that overlap.
* A calendar limit is the same on local day numbers (N calls in D dates), and the
  quiet period forbids the dates ``[d, d + D - 1]`` of each conversation date ``d``;
  a free date is turned into its first instant on the zone's clock, segment by
  segment (a fall-back across midnight can show a date again).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .outcomes import Outcome
from .tz import DAY, MAX_UTC, MIN_UTC, Zone

__all__ = [
    "CONNECTED",
    "MICROS",
    "Block",
    "ContactLimit",
    "Ledger",
    "QuietRule",
    "Rules",
    "first_allowed_day",
    "first_allowed_instant",
    "first_allowed_rolling",
    "first_quiet_free_day",
]

MICROS = 1_000_000
#: The end of the time line in microseconds: nothing is allowed from here on.
END_US = MAX_UTC * MICROS
#: Its start: a limit in force from here on is in force always.
START_US = MIN_UTC * MICROS

#: The outcomes that reached the person's line (docs/limits.md, section 3).
CONNECTED = frozenset(
    {
        Outcome.COMPLETED,
        Outcome.VOICEMAIL,
        Outcome.EXCEEDED_MAX_DURATION,
        Outcome.NO_ANSWER,
        Outcome.REJECTED,
        Outcome.CANCELLED,
        Outcome.TIMEOUT,
        Outcome.UNSPECIFIED,
    }
)


@dataclass(frozen=True, slots=True)
class ContactLimit:
    """At most ``max_calls`` counted calls in ``days`` (rolling: any ``days`` x 24 h;
    calendar: any ``days`` consecutive local dates), ``per`` ``"customer"`` or
    ``"number"``, counting ``"attempts"`` or ``"connected"`` calls.  ``name`` says
    where it comes from in explanations (``contactLimits.0``, or a rule's citation).
    ``since``: the first microsecond at which it is in force (a rule's effective
    instant); from then on it counts every call of its span, earlier ones too.
    ``hours``: a rolling span of that many hours instead of ``days`` (which is then
    0): any ``hours`` x 3,600 s."""

    max_calls: int
    days: int
    per: str = "customer"
    count: str = "attempts"
    window: str = "rolling"
    name: str = ""
    since: int = START_US
    hours: int | None = None

    @property
    def span_us(self) -> int:
        """A rolling span in microseconds."""
        if self.hours is not None:
            return self.hours * 3600 * MICROS
        return self.days * DAY * MICROS

    def describe(self) -> str:
        """The limit in words: ``at most 7 calls in 7 consecutive local days, per
        customer``."""
        if self.window == "calendar":
            span = "one local day" if self.days == 1 else f"{self.days} consecutive local days"
        else:
            hours = self.days * 24 if self.hours is None else self.hours
            span = "any hour" if hours == 1 else f"any {hours} hours"
        what = "connected call" if self.count == "connected" else "call"
        plural = "" if self.max_calls == 1 else "s"
        return f"at most {self.max_calls} {what}{plural} in {span}, per {self.per}"


@dataclass(frozen=True, slots=True)
class QuietRule:
    """No call to a customer on the ``days`` local dates that start with the date of
    a conversation (a ``Completed`` call).  ``name``: where it comes from;
    ``since``: the first microsecond at which it is in force."""

    days: int
    name: str = "quietAfterConversationDays"
    since: int = START_US


def first_allowed_rolling(starts: Sequence[int], most: int, span: int, t: int) -> int:
    """The first instant ``>= t`` at which a new call keeps every span of length
    ``span`` at ``most`` calls or fewer, given the sorted ``starts`` (any unit)."""
    n = len(starts)
    if n < most:
        return t
    # Group j (the calls j to j + most - 1) fits in a span with t exactly when it
    # spans less than ``span`` itself and t is in (starts[j + most - 1] - span,
    # starts[j] + span).  Groups before j end at or before t.
    j = bisect_right(starts, t - span)
    last = n - most
    while j <= last:
        end = starts[j + most - 1]
        if end - span >= t:
            return t  # every later group starts later still
        if end - starts[j] < span:  # t is inside group j's interval
            t = starts[j] + span
            j = bisect_right(starts, t - span, j + 1)
        else:  # too spread to share a span with anything: the next group
            j += 1
    return t


def first_allowed_day(days: Sequence[int], most: int, span: int, x: int) -> int:
    """:func:`first_allowed_rolling` on local day numbers: the first date ``>= x``
    on which a new call keeps every ``span`` consecutive dates at ``most`` calls or
    fewer, given the sorted call dates ``days``."""
    return first_allowed_rolling(days, most, span, x)


def first_quiet_free_day(days: Sequence[int], quiet: int, x: int) -> int:
    """The first date ``>= x`` outside ``[d, d + quiet - 1]`` for each sorted
    conversation date ``d`` in ``days``."""
    j = bisect_right(days, x - quiet)  # conversations whose quiet dates end before x
    while j < len(days) and days[j] <= x:
        x = days[j] + quiet
        j = bisect_right(days, x - quiet, j + 1)
    return x


def day_of_us(zone: Zone, u: int) -> int:
    """The local date (day number) of microsecond ``u`` on ``zone``'s clock."""
    s = u // MICROS
    return (s + zone.offset_at(s)) // DAY


def first_allowed_instant(zone: Zone, u: int, free_day: Callable[[int], int]) -> int | None:
    """The first microsecond ``>= u`` whose local date on ``zone`` is free, where
    ``free_day(x)`` is the first free date ``>= x``; None past the end of time.

    Within a stretch of constant offset the dates only grow, so a blocked date's
    next free one is met at its first instant there, or not in that stretch; the
    search then goes on from the stretch's end (where a date may show again)."""
    while u < END_US:
        s = u // MICROS
        _, end, offset = zone.segment_at(s)
        x = (s + offset) // DAY
        y = free_day(x)
        if y == x:
            return u
        first = y * DAY - offset
        if first < end:
            return first * MICROS if first < MAX_UTC else None
        u = end * MICROS
    return None


@dataclass(frozen=True, slots=True)
class Rules:
    """The limits and quiet periods that apply to a customer, and the outcomes that
    count as connected; ``least``: below this many attempts (and with no
    conversation) no limit can bind."""

    limits: tuple[ContactLimit, ...]
    quiet: tuple[QuietRule, ...] = ()
    connected: frozenset[Outcome] = CONNECTED
    least: int = field(init=False)
    #: ``connected`` as outcome values: a set of strings hashes in C, of Enum
    #: members in Python (every counted call is looked up once or twice).
    connected_values: frozenset[str] = field(init=False)
    #: Whether local dates are read (a calendar limit or a quiet period).
    zoned: bool = field(init=False)
    #: Each limit as Ledger.first_allowed reads it: ``(which list, max_calls,
    #: span, calendar, since)``, the span in µs (rolling) or local days (calendar).
    plan: tuple[tuple[int, int, int, bool, int], ...] = field(init=False)
    #: How far back a counted call can matter (µs): a call that many microseconds
    #: or more before ``t`` forbids nothing at ``t`` or later (0: no limit at all).
    reach_us: int = field(init=False)

    def __post_init__(self) -> None:
        least = min((limit.max_calls for limit in self.limits), default=1 << 62)
        object.__setattr__(self, "least", least)
        object.__setattr__(self, "connected_values", frozenset(o.value for o in self.connected))
        zoned = bool(self.quiet) or any(limit.window == "calendar" for limit in self.limits)
        object.__setattr__(self, "zoned", zoned)
        plan = tuple(
            (
                (2 if limit.per == "number" else 0) + (limit.count == "connected"),
                limit.max_calls,
                limit.days if limit.window == "calendar" else limit.span_us,
                limit.window == "calendar",
                limit.since,
            )
            for limit in self.limits
        )
        object.__setattr__(self, "plan", plan)
        reach = [
            limit.span_us if limit.window == "rolling" else _reach(limit.days)
            for limit in self.limits
        ]
        reach += [_reach(rule.days) for rule in self.quiet]
        object.__setattr__(self, "reach_us", max(reach, default=0))


#: The empty list every ledger starts with for its calls and its conversations (never
#: appended to: a ledger makes its own lists at its first call, and at its first
#: conversation).
_NONE: list[int] = []


class Ledger:
    """The counted calls of one customer, and the first instant its limits allow.

    ``phone`` is the customer's own number (per-number limits count the calls to it);
    per-customer limits count every call added.  ``zones`` are the clocks on which
    calendar limits and quiet periods read local dates (each must allow a call).
    Starts are kept sorted: attempts, connected calls (outcome in ``connected`` or
    not known), conversations (``Completed``).  Day lists per zone are made on first
    use and dropped when a call is added or changed, so repeated questions on a long
    history cost a bisection each (docs/limits.md).  Conversations are kept only
    when a quiet period reads them."""

    __slots__ = (
        "_days",
        "attempts",
        "connected",
        "least",
        "number_attempts",
        "number_connected",
        "phone",
        "rules",
        "talks",
        "zones",
    )

    def __init__(self, phone: str, rules: Rules, zones: tuple[Zone, ...] = ()) -> None:
        self.phone = phone
        self.rules = rules
        self.zones = zones
        self.least = rules.least
        # Made at the first call counted (add; load): a customer read ahead of its
        # hours, waiting for its first call, then holds one object the garbage
        # collector walks instead of three.  Under the US pack, where a run reads
        # many ahead, the collector took 2.2 us an attempt instead of 3.4
        # (gc.callbacks; benchmarks/README.md, "The engine, old and new").
        self.attempts: list[int] = _NONE
        self.connected: list[int] = _NONE
        # Made on first use: most ledgers never hold a conversation, and a run keeps
        # one ledger per pending customer (a million, mid-run).
        self.talks: list[int] = _NONE
        # The calls to ``phone`` only: the same lists while every call counted is
        # to ``phone`` (a customer with one number: the common case).
        self.number_attempts = self.attempts
        self.number_connected = self.connected
        self._days: dict[tuple[int, int], list[int]] | None = None

    @property
    def _alias(self) -> bool:
        return self.number_attempts is self.attempts

    def _split(self) -> None:
        self.number_attempts = self.attempts.copy()
        self.number_connected = self.connected.copy()

    def read_on(self, zones: tuple[Zone, ...]) -> None:
        """Read local dates on ``zones`` from now on."""
        self.zones = zones
        self._days = None

    def copy(self) -> Ledger:
        """An independent ledger with the same calls."""
        other = Ledger(self.phone, self.rules, self.zones)
        other.load(self.state())
        return other

    def state(self) -> list[list[int] | None]:
        """The counted calls as lists (for a snapshot): attempts, connected,
        conversations, and the number's own attempts and connected calls (None when
        they are all of them)."""
        alias = self._alias
        return [
            self.attempts.copy(),
            self.connected.copy(),
            self.talks.copy(),
            None if alias else self.number_attempts.copy(),
            None if alias else self.number_connected.copy(),
        ]

    def load(self, state: list[list[int] | None]) -> None:
        """Take the calls :meth:`state` wrote (sorted again: a foreign order cannot
        break the bisections)."""
        attempts, connected, talks, own_attempts, own_connected = state
        self.attempts = sorted(attempts or ())
        self.connected = sorted(connected or ())
        self.talks = sorted(talks) if talks else _NONE
        if own_attempts is None or own_connected is None:
            self.number_attempts, self.number_connected = self.attempts, self.connected
        else:
            self.number_attempts = sorted(own_attempts)
            self.number_connected = sorted(own_connected)
        self._days = None

    # -- the calls ---------------------------------------------------------------

    def add(self, phone: str, at: int, outcome: Outcome | None) -> None:
        """Count a call to ``phone`` started at ``at`` (µs); ``outcome`` None while
        it is not known."""
        mine = phone == self.phone
        if self.attempts is _NONE:  # the first call counted: the lists are made now
            alias = self.number_attempts is _NONE
            self.attempts, self.connected = [], []
            if alias:
                self.number_attempts, self.number_connected = self.attempts, self.connected
        if not mine and self.number_attempts is self.attempts:
            self._split()
        counted = outcome is None or outcome._value_ in self.rules.connected_values
        insort(self.attempts, at)
        if counted:
            insort(self.connected, at)
        if mine and self.number_attempts is not self.attempts:
            insort(self.number_attempts, at)
            if counted:
                insort(self.number_connected, at)
        if outcome is Outcome.COMPLETED and self.rules.quiet:
            if self.talks is _NONE:
                self.talks = []
            insort(self.talks, at)
        self._days = None

    def settle(self, phone: str, at: int, outcome: Outcome | None) -> None:
        """The call added with an unknown outcome ended with ``outcome``; None: it
        never started (it counts nothing)."""
        own = phone == self.phone and self.number_attempts is not self.attempts
        if outcome is None:
            _remove(self.attempts, at)
            if own:
                _remove(self.number_attempts, at)
        if outcome is None or outcome._value_ not in self.rules.connected_values:
            _remove(self.connected, at)
            if own:
                _remove(self.number_connected, at)
        if outcome is Outcome.COMPLETED and self.rules.quiet:
            if self.talks is _NONE:
                self.talks = []
            insort(self.talks, at)
        self._days = None

    def _starts(self, limit: ContactLimit) -> list[int]:
        if limit.per == "number":
            return self.number_connected if limit.count == "connected" else self.number_attempts
        return self.connected if limit.count == "connected" else self.attempts

    def _dates(self, which: int, starts: list[int], z: int) -> list[int]:
        """The local dates of ``starts`` on zone ``z`` (sorted: dates follow starts
        within a zone's stretch, and are sorted anyway for a fall-back)."""
        key = (which, z)
        if self._days is None:
            self._days = {}
        found = self._days.get(key)
        if found is None:
            zone = self.zones[z]
            found = self._days[key] = sorted(day_of_us(zone, u) for u in starts)
        return found

    # -- the questions -----------------------------------------------------------

    def may_bind(self) -> bool:
        """Whether some limit or quiet period could forbid a call (else every
        instant is allowed: fewer calls than the least ``maxCalls``, and no
        conversation)."""
        return len(self.attempts) >= self.least or bool(self.talks)

    def first_allowed(self, t: int) -> int | None:
        """The first microsecond ``>= t`` at which a new call to ``phone`` is allowed
        by every limit and quiet period; None when none is before the end of time."""
        if len(self.attempts) < self.least and not self.talks:
            return t if t < END_US else None
        lists = (self.attempts, self.connected, self.number_attempts, self.number_connected)
        while True:
            start = t
            for i, (which, most, span, calendar, since) in enumerate(self.rules.plan):
                starts = lists[which]
                if len(starts) < most or t < since:
                    continue
                if not calendar:
                    t = first_allowed_rolling(starts, most, span, t)
                    continue
                if not _near(starts, most, span, t):
                    continue
                for z, zone in enumerate(self.zones):
                    days = self._dates(i, starts, z)
                    found = first_allowed_instant(zone, t, _counted(days, most, span))
                    if found is None:
                        return None
                    t = found
            if self.talks:
                for rule in self.rules.quiet:
                    if t < rule.since or not _near(self.talks, 1, rule.days, t):
                        continue
                    for z, zone in enumerate(self.zones):
                        days = self._dates(-1, self.talks, z)
                        found = first_allowed_instant(zone, t, _quieted(days, rule.days))
                        if found is None:
                            return None
                        t = found
            if t >= END_US:
                return None
            if t == start:
                return t

    def blocks(self, t: int) -> list[Block]:
        """Each limit and quiet period that forbids a call at ``t``, with the calls
        that fill its span and when it alone frees."""
        found: list[Block] = []
        for i, limit in enumerate(self.rules.limits):
            starts = self._starts(limit)
            if len(starts) < limit.max_calls or t < limit.since:
                continue
            n = limit.max_calls
            if limit.window == "rolling":
                rolled = first_allowed_rolling(starts, n, limit.span_us, t)
                if rolled != t:
                    j = bisect_right(starts, t - limit.span_us)
                    found.append(
                        Block(
                            limit.name,
                            limit.describe(),
                            starts[j],
                            starts[j + n - 1],
                            n,
                            rolled,
                            None,
                        )
                    )
                continue
            for z, zone in enumerate(self.zones):
                days = self._dates(i, starts, z)
                x = day_of_us(zone, t)
                y = first_allowed_day(days, n, limit.days, x)
                if y == x:
                    continue
                j = bisect_right(days, x - limit.days)
                free = first_allowed_instant(zone, t, _counted(days, n, limit.days))
                found.append(
                    Block(limit.name, limit.describe(), days[j], days[j + n - 1], n, free, zone.key)
                )
        for rule in self.rules.quiet if self.talks else ():
            if t < rule.since:
                continue
            for z, zone in enumerate(self.zones):
                days = self._dates(-1, self.talks, z)
                x = day_of_us(zone, t)
                if first_quiet_free_day(days, rule.days, x) == x:
                    continue
                j = bisect_right(days, x - rule.days)
                free = first_allowed_instant(zone, t, _quieted(days, rule.days))
                what = f"no call on the {rule.days} local days from a conversation's date"
                found.append(Block(rule.name, what, days[j], days[j], 1, free, zone.key, True))
        return found


@dataclass(frozen=True, slots=True)
class Block:
    """A limit that forbids a call: ``name`` and ``what`` it says; the ``count``
    counted calls that fill a span with the new one, from ``first`` to ``last``
    (µs for a rolling limit; local day numbers on ``zone`` for a calendar one or a
    conversation's date); ``free``: when it alone allows a call again (None: never);
    ``quiet``: a quiet period after a conversation, not a count."""

    name: str
    what: str
    first: int
    last: int
    count: int
    free: int | None
    zone: str | None
    quiet: bool = False


#: Two calls more than a limit's days plus this apart (µs) are on dates at least
#: that many days apart on any one clock: a zone's offset never changes by more
#: than 26 hours (offsets stay within -12:00 and +14:00).
_SLACK_US = 2 * DAY * MICROS


def _near(starts: list[int], most: int, days: int, t: int) -> bool:
    """Whether ``most`` of ``starts`` are close enough to ``t`` to share a span of
    ``days`` local dates with it on some clock (else a calendar limit or a quiet
    period cannot forbid ``t``: two bisections instead of reading every date)."""
    reach = _reach(days)
    return bisect_right(starts, t + reach) - bisect_left(starts, t - reach) >= most


def _reach(days: int) -> int:
    """How far (µs) a call can be from an instant and still share a span of
    ``days`` local dates with it on some clock."""
    return days * DAY * MICROS + _SLACK_US


def _counted(days: Sequence[int], most: int, span: int) -> Callable[[int], int]:
    """The first free date from ``x`` under a calendar limit on call dates ``days``."""
    return lambda x: first_allowed_day(days, most, span, x)


def _quieted(days: Sequence[int], quiet: int) -> Callable[[int], int]:
    """The first free date from ``x`` after the conversations on ``days``."""
    return lambda x: first_quiet_free_day(days, quiet, x)


def _remove(starts: list[int], at: int) -> None:
    i = bisect_left(starts, at)
    if i < len(starts) and starts[i] == at:
        del starts[i]
