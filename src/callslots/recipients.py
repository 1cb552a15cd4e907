"""Each customer's own callable set: recipient hours and calling rules.

With ``recipientHours`` a call is allowed only when the customer's own wall clock
is inside that daily window too (docs/compliance.md, section 2); with
``callingRules`` only when every hours and days rule of the customer's
jurisdictions allows it, each on its clock, from its effective instant on
(section 5).  A customer's callable set is

    the campaign's callable set  ∩  each cut,

a *cut* (:class:`~callslots.jurisdiction.Cut`) being a calendar read with exactly
the rules of docs/semantics.md on one zone's clock, in force from an instant
(before it, a cut allows everything).  Customers with the same zones and the same
rules' scopes (the same :class:`ViewKey`) share one :class:`RecipientView`.

The intersection is found by leapfrogging: ask each calendar for its first
callable second at or after ``u`` and move ``u`` to the latest answer until all
agree.  Where the sets never meet, that alone would walk window by window to the
end of time, so between steps the search skips ahead.  While no zone changes its
offset and no cut comes into force (a *stretch*), each set is a fixed pattern
shifted into UTC: a day's window depends only on the window the day is given (its
weekday's, or a date rule's).  So whether a campaign day's window can meet the
cuts at all is decided once per stretch's offsets, per weekday and per distinct
dated window, by arithmetic on a few days: a cut's windows near a campaign day of
weekday ``w`` are those of its own weekdays next to ``w``, or any of its dated
windows (the union: a superset, so a window that cannot meet it cannot meet the
cut).  The search then jumps to the first day from ``u`` on whose window can
meet them (a few bisections in the date rules, however many there are), or to
the end of the stretch.  After every zone's last listed transition, every cut's
start and the last dated rule, the whole picture repeats every 400 years, which
bounds the search.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from .config import Settings
from .explain import Explanation, explain
from .jurisdiction import (
    Cut,
    contact_limits,
    cuts,
    holiday_years,
    pack_labels,
    selected_rules,
)
from .limits import ContactLimit, QuietRule
from .outcomes import Outcome
from .retry import RetryDecision, decide
from .rulepack import DaysLimit, Rule
from .tz import CYCLE, DAY, MAX_UTC, load_zone
from .windows import (
    Calendar,
    Hours,
    Window,
    clip_windows,
    day_date,
    from_micros,
    from_seconds,
    local_date,
    periodic_point,
    split_seconds,
    to_seconds,
)

__all__ = ["RecipientView", "ViewKey", "Views"]


@cache
def recipient_calendar(key: str, hours: Hours) -> Calendar:
    """The recipient hours ``hours``, every day in zone ``key``, unbounded."""
    return Calendar.build(load_zone(key), (hours,) * 7, None, None, None)


def _periodic_from(campaign: Calendar, cuts: tuple[Cut, ...]) -> int:
    """An instant after which the callable set repeats every 400 years: the
    campaign's and every cut's :func:`periodic_point`, and every cut's start (the
    weekly pattern repeats too: 146,097 days are 20,871 weeks)."""
    points = [periodic_point(campaign)]
    points += [
        max(periodic_point(cut.calendar), cut.since, cut.until if cut.until <= MAX_UTC else 0)
        for cut in cuts
    ]
    return min(MAX_UTC, max(points))


def _meet(pieces: list[tuple[int, int]], others: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The intersection of two sets of pieces of one day."""
    return sorted(
        (max(a, c), min(b, d)) for a, b in pieces for c, d in others if max(a, c) < min(b, d)
    )


def _merged(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of ``pieces`` as sorted, disjoint intervals."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(pieces):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _near(calendar: Calendar, offset: int, weekday: int) -> list[tuple[int, int]]:
    """Where ``calendar``'s windows can be, under ``offset``, around a day of
    ``weekday`` of another clock: UTC seconds from that day's UTC midnight (its
    local midnight is elsewhere by the other offset), as disjoint intervals.  Its
    days ``k`` days after (-3 to 3: every window that can reach the other day's
    window, whose span lies within (-1, 3) days of that midnight) have the
    window of their weekday or, conservatively, any of its dated windows."""
    dated = [] if calendar.rules is None else [s for s in calendar.rules.spans if s is not None]
    pieces = []
    for k in range(-3, 4):
        for span in (calendar.week[(weekday + k) % 7], *dated):
            if span is not None:
                pieces.append((k * DAY + span[0] - offset, k * DAY + span[1] - offset))
    return _merged(pieces)


@dataclass(frozen=True, slots=True)
class _Meeting:
    """Under one tuple of offsets: the weekdays (bit set, bit 0 = Monday) whose weekly
    window can meet the cuts, and the date rules' windows that can."""

    weekdays: int
    spans: tuple[tuple[int, int], ...]


#: A stretch's state: the offsets (campaign zone first, then each cut's) and the
#: cuts in force (bit set, bit 0 = the first cut).
_State = tuple[tuple[int, ...], int]


@dataclass(frozen=True, slots=True)
class ViewKey:
    """What decides a customer's set besides the campaign: its ``zones`` (for
    ``recipientHours`` and the rules read on its clock) and the ``scopes`` of the
    calling rules that apply to it (``("federal", "FL")``).  Customers with the
    same key share one view (``Views.get``); hashable, for grouping customers."""

    zones: tuple[str, ...]
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class RecipientView:
    """The callable set of the customers whose zones are ``zones`` and whose calling
    rules' scopes are ``scopes``: the campaign's, cut to ``recipientHours`` on each
    zone's wall clock and by each hours and days rule that applies (``cuts``).  It
    answers the campaign's questions (``windows``, ``is_callable``,
    ``next_callable``, ``day_of``, ``retry``, ``explain``) for those customers,
    under the contract of the :class:`~callslots.Campaign` methods of those names
    (docs/semantics.md, sections 5 and 6) applied to this set, with the same
    errors.  ``limits`` and ``quiet`` are the contact limits and quiet periods the
    rules add (the campaign's own are not among them)."""

    #: The campaign's settings and its compiled calendar (the set this view cuts).
    settings: Settings = field(repr=False)
    base: Calendar = field(repr=False)
    zones: tuple[str, ...]
    cuts: tuple[Cut, ...] = field(repr=False)
    #: After this instant the set repeats every 400 years (:func:`_periodic_from`).
    periodic_from: int = field(default=MAX_UTC, repr=False)
    #: How the zones were found, when a person should hear of it (a fallback).
    note: str | None = None
    #: Which windows can meet the cuts, by stretch state (:data:`_State`): made on
    #: first use, shared by the views of the same key.
    meetings: dict[_State, _Meeting] = field(default_factory=dict, repr=False)
    #: The scopes of the calling rules that apply (``("federal", "FL")``).
    scopes: tuple[str, ...] = ()
    #: The rules' limits on how often (``calls-per-period``) and their quiet periods
    #: after a conversation, each named by its rule's label.
    limits: tuple[ContactLimit, ...] = ()
    quiet: tuple[QuietRule, ...] = ()

    @classmethod
    def build(
        cls,
        settings: Settings,
        base: Calendar,
        zones: tuple[str, ...],
        rule_cuts: tuple[Cut, ...] = (),
        scopes: tuple[str, ...] = (),
        limits: tuple[ContactLimit, ...] = (),
        quiet: tuple[QuietRule, ...] = (),
    ) -> RecipientView:
        """The view of ``zones`` (``recipientHours`` is read on each) and of the
        rules' ``rule_cuts``, ``limits`` and ``quiet`` periods of ``scopes``."""
        hours = settings.recipient_hours
        own = () if hours is None else tuple(Cut(z, recipient_calendar(z, hours)) for z in zones)
        every = (*own, *rule_cuts)
        if not every and not scopes:  # the campaign's own set
            return cls(settings, base, (), (), limits=limits, quiet=quiet)
        return cls(
            settings,
            base,
            zones,
            every,
            _periodic_from(base, every),
            scopes=scopes,
            limits=limits,
            quiet=quiet,
        )

    @property
    def key(self) -> ViewKey:
        """What identifies this set among the campaign's views (hashable): the
        dispatcher groups customers by it, and ``Views.get(key)`` gives the view."""
        return ViewKey(self.zones, self.scopes)

    def shape(self, start: int) -> frozenset[tuple[str, Calendar, int, int]]:
        """A value equal for two views of the campaign whose callable sets are the
        same from ``start`` on: their cuts as a set, each as its clock, its calendar
        and when it is in force (from ``start`` at the earliest).  So two rules
        with the same hours on the same clock (a state's restating the federal
        hours) make one shape, whatever their names, scopes and effective dates
        before ``start``."""
        return frozenset(
            (cut.zone, cut.calendar, max(cut.since, start), cut.until) for cut in self.cuts
        )

    @property
    def calendars(self) -> tuple[Calendar, ...]:
        """The cuts' calendars, in order."""
        return tuple(cut.calendar for cut in self.cuts)

    # -- seconds ------------------------------------------------------------

    def callable_at(self, u: int) -> bool:
        """Whether the second ``u`` (UTC seconds since the epoch) is callable."""
        return self.base.is_callable(u) and all(
            u < cut.since or u >= cut.until or cut.calendar.is_callable(u) for cut in self.cuts
        )

    def next_second(self, u: int, first_day: int | None = None) -> int | None:
        """The first second ``>= u`` callable for these customers (in a campaign
        window of a day ``>= first_day``), or None."""
        campaign = self.base
        cuts = self.cuts
        limit = max(u, self.periodic_from) + CYCLE  # see _periodic_from
        while u < limit:
            found = campaign.next_callable(u, first_day)
            if found is None:
                return None
            agreed = True
            for cut in cuts:
                if found < cut.since or found >= cut.until:  # not in force: allows all
                    continue
                there = cut.calendar.next_callable(found)
                if there is None or there >= cut.until:  # everything from its end
                    if cut.until > MAX_UTC:
                        return None
                    there = cut.until
                if there != found:
                    found, agreed = there, False
            if agreed:
                return found
            # Nothing is callable in [u, found): skip on to the first window that
            # can meet the cuts before the offsets change or a cut comes into force.
            u = self._resume(found, first_day)
        return None

    def _resume(self, u: int, first_day: int | None) -> int:
        """Where the search goes on from ``u``: ``u`` itself, or the start of the first
        campaign window from ``u`` on (of a day ``>= first_day``) that can meet the
        cuts under the offsets in force at ``u``, or the end of the stretch when none
        can.  Sound because within a stretch of constant offsets and cuts in force
        the sets are fixed patterns: a window that cannot meet them there does not."""
        calendar = self.base
        _, end, state = self._stretch(u)
        meeting = self.meetings.get(state)
        if meeting is None:
            meeting = self.meetings[state] = self._meeting(state)
        offset, rules = state[0][0], calendar.rules
        day = max((u + offset) // DAY - 1, calendar.first_day)
        if first_day is not None:
            day = max(day, first_day)
        while day <= calendar.last_day:
            found: int | None = None
            if meeting.weekdays:
                if rules is None:
                    found = day
                    while not meeting.weekdays >> ((found + 3) % 7) & 1:
                        found += 1
                else:
                    found = rules.next_free(day, meeting.weekdays)
            if rules is not None:
                for span in meeting.spans:
                    ruled = rules.next_with(day, span)
                    if ruled is not None and (found is None or ruled < found):
                        found = ruled
            if found is None or found > calendar.last_day:
                return max(u, end)
            window = calendar.span_of(found)
            assert window is not None
            if found * DAY + window[1] - offset <= u:  # that window is over: the next
                day = found + 1
                continue
            return max(u, min(end, found * DAY + window[0] - offset))
        return max(u, end)

    def _stretch(self, u: int) -> tuple[int, int, _State]:
        """The stretch around ``u`` where no zone involved changes its offset and no
        cut comes into force, and its state: the offsets there (the campaign zone's
        first) and the cuts in force."""
        first, end, offset = self.base.zone.segment_at(u)
        offsets = [offset]
        active = 0
        for i, cut in enumerate(self.cuts):
            a, b, offset = cut.calendar.zone.segment_at(u)
            first, end = max(first, a), min(end, b)
            offsets.append(offset)
            if cut.since <= u < cut.until:
                active |= 1 << i
            if u < cut.since < end:
                end = cut.since
            if u < cut.until < end:
                end = cut.until
        return first, end, (tuple(offsets), active)

    def _meeting(self, state: _State) -> _Meeting:
        """Which campaign windows can meet the cuts in force under ``state``."""
        calendar = self.base
        offsets, active = state
        # For a campaign day of each weekday: where every cut in force allows calls
        # near it, in UTC seconds from that day's UTC midnight.
        allowed: list[list[tuple[int, int]]] = []
        for weekday in range(7):
            pieces = [(-4 * DAY, 5 * DAY)]
            for i, (cut, offset) in enumerate(zip(self.cuts, offsets[1:], strict=True)):
                if active >> i & 1:
                    pieces = _meet(pieces, _near(cut.calendar, offset, weekday))
            allowed.append(pieces)

        def meets(span: tuple[int, int] | None, weekday: int) -> bool:
            if span is None:
                return False
            first, end = span[0] - offsets[0], span[1] - offsets[0]  # UTC, that day
            return any(a < end and first < b for a, b in allowed[weekday])

        weekdays = sum(1 << w for w in range(7) if meets(calendar.week[w], w))
        rules = calendar.rules
        spans = (
            set()
            if rules is None
            else {
                s
                for s in rules.spans
                if s is not None and any(meets(s, w) for w in range(7))  # any weekday
            }
        )
        return _Meeting(weekdays, tuple(sorted(spans)))

    def spans(self, first: int, end: int) -> Iterator[tuple[int, int]]:
        """The callable set inside ``[first, end)`` as maximal ``(start, end)`` seconds."""
        u = first
        while u < end:
            a = self.next_second(u)
            if a is None or a >= end:
                return
            # The cuts' windows first: they are read only as far as the nearest
            # end so far, and the campaign's (which may run for centuries) is then
            # read no further.
            b = end
            for cut in self.cuts:
                b = _cut_end(cut, a, b)
            b = _window_end(self.base, a, b)
            yield a, b
            u = b

    # -- the campaign's questions ---------------------------------------------

    def day_second(self, u: int) -> int:
        """The day (number) owning UTC second ``u`` in this set: the campaign's day
        whose window holds it when ``u`` is callable here, else ``u``'s local date."""
        calendar = self.base
        if self.callable_at(u):
            return calendar.day_of(u)
        return calendar.local_day(u)

    def windows(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[Window]:
        """Like ``Campaign.windows``, for these customers: this set inside ``[start,
        end)``, cut there exactly, as maximal disjoint windows in order; ``Window.day``
        is the campaign's day that owns the window's start."""
        owner, key = self.base.owner, self.base.zone.key

        def whole(first: int, last: int) -> Iterator[Window]:
            for a, b in self.spans(first, last):
                day = owner(a)
                assert day is not None
                yield Window(from_seconds(a), from_seconds(b), day_date(day), key)

        return clip_windows(whole, start, end)

    def is_callable(self, t: datetime) -> bool:
        """Whether ``t`` is callable for these customers."""
        return self.callable_at(to_seconds(t))

    def next_callable(self, t: datetime) -> datetime | None:
        """``t`` itself when callable for these customers, else the start of their
        next window; None when none remains."""
        u, micros = split_seconds(t)
        found = self.next_second(u)
        if found is None:
            return None
        return from_micros(u, micros) if found == u else from_seconds(found)

    def day_of(self, t: datetime) -> date:
        """Like ``Campaign.day_of``, on this set: the campaign's day owning the window
        that contains ``t`` when ``t`` is callable for these customers, else ``t``'s
        local date in the campaign zone.  ValueError when that date is outside the
        years 1-9999."""
        return local_date(self.day_second(to_seconds(t)), t)

    def retry(
        self,
        outcome: Outcome | str,
        attempt: int,
        ended_at: datetime,
        *,
        started_at: datetime | None = None,
    ) -> RetryDecision:
        """``Campaign.retry``'s rule on this set: the due time is searched in these
        customers' callable time, and with ``next_day`` the attempt's day is
        :meth:`day_of` ``(started_at or ended_at)``."""
        return decide(
            self.settings,
            self.base,
            outcome,
            attempt,
            ended_at,
            started_at,
            search=self.next_second,
            owner=self.day_second,
        )

    def explain(self, t: datetime) -> Explanation:
        """``campaign.explain(t, customer)`` for these customers."""
        return explain(self.settings, self.base, t, self.cuts)


def _cut_end(cut: Cut, u: int, limit: int) -> int:
    """The end of ``cut``'s allowed stretch that contains callable second ``u``, or
    ``limit`` when that is sooner: outside ``[since, until)`` it allows everything,
    a window of its calendar open at ``since`` goes on, and one open at ``until``
    runs into the everything after it."""
    if u >= cut.until:
        return limit
    if u < cut.since:
        if cut.since >= limit:
            return limit
        if not cut.calendar.is_callable(cut.since):
            return cut.since
        u = cut.since
    end = _window_end(cut.calendar, u, min(limit, cut.until))
    return limit if end >= cut.until else end


def _window_end(calendar: Calendar, u: int, limit: int) -> int:
    """The end of ``calendar``'s window that contains callable second ``u``, or
    ``limit`` when that is sooner (the window is not read past it)."""
    for _, b in calendar.spans(u, limit):
        return b
    return u  # not reached for a callable u below limit


@dataclass(frozen=True, slots=True)
class _ScopeSet:
    """Scopes tuples that meet ``scopes`` (``t in s``: any of ``t`` is one)."""

    scopes: frozenset[str]

    def __contains__(self, found: object) -> bool:
        return isinstance(found, tuple) and not self.scopes.isdisjoint(found)


@dataclass(eq=False)
class Views:
    """The views of one campaign, one per :class:`ViewKey`, made on first use
    (thread-safe), and the calling rules the campaign selects (read on first use)."""

    settings: Settings
    base: Calendar
    made: dict[ViewKey, RecipientView] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    selected: tuple[Rule, ...] | None = None
    labels: dict[str, str] | None = None
    with_holidays: _ScopeSet | None = None

    def __reduce__(self) -> tuple[type[Views], tuple[Settings, Calendar]]:
        return (Views, (self.settings, self.base))  # made again on first use after unpickling

    def rules(self) -> tuple[Rule, ...]:
        """The rules of the campaign's packs about calls of its ``callPurpose``."""
        selected = self.selected
        if selected is None:
            s = self.settings
            selected = self.selected = selected_rules(
                s.calling_rules, s.call_purpose, s.call_technology
            )
        return selected

    def holiday_scopes(self) -> _ScopeSet:
        """A test for the customers' scopes under a holiday rule of :meth:`rules`
        (such a customer needs the ``holidays`` package): ``scopes in ...``."""
        found = self.with_holidays
        if found is None:
            found = self.with_holidays = _ScopeSet(
                frozenset(r.scope for r in self.rules() if isinstance(r.values, DaysLimit))
            )
        return found

    def packs(self) -> dict[str, str]:
        """Each selected rule's pack label (``US pack version 3``), for explanations."""
        labels = self.labels
        if labels is None:
            labels = self.labels = pack_labels(self.settings.calling_rules)
        return labels

    def get(self, key: ViewKey | tuple[str, ...]) -> RecipientView:
        """The view of ``key`` (a bare tuple of zones: no calling rules' scopes)."""
        if not isinstance(key, ViewKey):
            key = ViewKey(tuple(key))
        view = self.made.get(key)
        if view is None:
            with self.lock:
                view = self.made.get(key)
                if view is None:
                    view = self.made[key] = self._build(key)
        return view

    def _build(self, key: ViewKey) -> RecipientView:
        s = self.settings
        if not key.scopes:
            return RecipientView.build(s, self.base, key.zones)
        rules = self.rules()
        first = s.start_date
        if first is None and s.start_at is not None:
            first = day_date(self.base.local_day(to_seconds(s.start_at)))
        years = holiday_years(first, s.end_date)
        rule_cuts = cuts(rules, key.scopes, key.zones, years, self.packs())
        limits, quiet = contact_limits(rules, key.scopes, key.zones)
        return RecipientView.build(s, self.base, key.zones, rule_cuts, key.scopes, limits, quiet)
