"""The campaign: validated settings plus the questions a dialer asks of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from . import config
from .config import WEEKDAYS
from .customers import customer_from, read_history
from .dates import DayRule
from .errors import Problem
from .explain import Explanation, Reason, day_rule, explain
from .jurisdiction import signals_of
from .limited import LimitedView
from .outcomes import Outcome
from .recipients import RecipientView
from .retry import RetryDecision, decide
from .schedule import Schedule
from .sharing import plan_shared
from .slots import CallSlot, plan, slot_datetimes, slot_seconds
from .tz import MAX_UTC, MIN_UTC
from .windows import (
    Window,
    clip_windows,
    from_micros,
    from_seconds,
    local_date,
    split_seconds,
    to_seconds,
)

__all__ = ["Campaign"]

UTC = timezone.utc


@dataclass(frozen=True, slots=True)
class Campaign(Schedule):
    """An immutable, hashable, picklable campaign schedule.

    Build one with :meth:`from_dict`.  Every method is a pure function of the
    campaign and its arguments, so one object may be shared by any number of
    threads.  The payload's settings are its attributes in snake_case
    (``campaign.hours`` is the daily window, an :class:`Hours`); the compiled
    schedule behind it (its calendar, slot index and customer views) is not public.
    ``repr(campaign)`` is one line (zone, window, days, range, retries, number of
    customers), whatever the number of customers.

    Instants (docs/semantics.md, section 5): datetimes passed in must be aware (a
    naive one, or a value that is not a ``datetime``, is a TypeError); datetimes
    returned are aware UTC.  Any aware datetime is an answerable question: any UTC
    offset (whole minutes or not, up to 23:59:59.999999 either way), anywhere from
    ``datetime.min`` to ``datetime.max``, also outside the time line (0001-01-01T00:00Z
    to 9999-12-31T23:59:59Z), which no campaign reaches.  Every boundary of the
    callable set is a whole second; an instant with a fraction of a second is
    handled exactly (the fraction of the UTC instant).

    Errors: a question raises only the exceptions its own entry names (TypeError,
    ValueError, :class:`~callslots.ConfigError`), never another
    (``tests/test_edges.py`` sweeps every question over the whole time line).
    """

    warnings: tuple[Problem, ...] = field(default=(), compare=False, repr=False)

    def __repr__(self) -> str:
        """One line, whatever the number of customers: zone, window, days, range."""
        days = ",".join(WEEKDAYS[d][:3] for d in self.active_days) or "none"
        start = (
            self.start_date.isoformat()
            if self.start_date
            else str(self.start_at).replace("+00:00", "Z").replace(" ", "T")
        )
        end = self.end_date.isoformat() if self.end_date else "open"
        extras = "".join(
            f", {name}={count}"
            for name, count in (
                ("daySchedules", len(self.day_hours)),
                ("dateSchedules", len(self.date_hours)),
                ("blackoutDates", len(self.blackouts)),
            )
            if count
        )
        return (
            f"Campaign(timezone={self.timezone!r}, window={self.hours}, days={days}, "
            f"from={start}, to={end}{extras}, callRetries={self.call_retries}, "
            f"customers={len(self.customers)})"
        )

    @property
    def zone(self) -> ZoneInfo:
        """The campaign's time zone, as a ``zoneinfo.ZoneInfo``."""
        return ZoneInfo(self.timezone)

    def day_rule(self, day: date) -> DayRule:
        """The window local date ``day`` owns (campaign zone) and the rule that decided
        it, in the order of docs/compliance.md, section 1."""
        return day_rule(self, self._calendar, day)

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any], *, now: datetime | None = None) -> Campaign:
        """Build a campaign from a create-campaign request body (camelCase keys), or
        from the campaign object of the API's response (``data.result.campaign``; the
        whole response is refused with a ConfigError naming that path).

        Without ``startDate`` the campaign starts at ``now`` (an aware datetime;
        default: the current time), rounded up to a whole second.  Raises
        :class:`~callslots.ConfigError` listing every problem in the payload, also
        for a start that cannot be represented (docs/campaign.md).
        """
        settings, warnings = config.parse(payload, now)
        values = {f.name: getattr(settings, f.name) for f in fields(config.Settings)}
        return cls(**values, warnings=warnings)

    def to_dict(self) -> dict[str, Any]:
        """The normalized scheduling fields, every default filled in (JSON-ready)."""
        return config.to_payload(self)

    # -- calling windows ----------------------------------------------------

    def windows(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[Window]:
        """The callable time inside ``[start, end)`` as maximal disjoint windows, in order.

        Maximal: two windows never touch (if they would, they are one window), and
        windows of two days that overlap merge into one owned by the earlier day.
        Lazy; without ``end`` and ``endDate`` it runs on to the end of the time line.
        A bound with a fraction of a second cuts a window exactly there (inside a
        09:00-17:00Z window, ``windows(09:00:00.25Z, 10:00:00.75Z)`` is the one
        window ``[09:00:00.25Z, 10:00:00.75Z)``).  ``end <= start`` gives nothing.
        Any aware bounds are accepted, also ones outside the time line (the windows
        are those of the time line inside them).  TypeError for a naive bound, at
        the call (not when the iterator is first advanced).
        """
        return clip_windows(self._calendar.windows, start, end)

    def is_callable(self, t: datetime) -> bool:
        """Whether a call may be placed at instant ``t``: whether ``t`` is in the
        callable set (never outside the time line).  TypeError for a naive ``t``."""
        return self._calendar.is_callable(to_seconds(t))

    def next_callable(self, t: datetime) -> datetime | None:
        """``t`` itself (exactly, in UTC) when callable, else the start of the next
        window; None when no callable time remains.  TypeError for a naive ``t``."""
        u, micros = split_seconds(t)
        found = self._calendar.next_callable(u)
        if found is None:
            return None
        return from_micros(u, micros) if found == u else from_seconds(found)

    def day_of(self, t: datetime) -> date:
        """The local day owning the window that contains ``t`` (the earliest, where an
        overnight window and the next day's window overlap), else ``t``'s local date.

        Raises ValueError when that local date is outside the years 1-9999 (``t``
        within a day of the ends of the time line), TypeError for a naive ``t``.
        """
        return local_date(self._calendar.day_of(to_seconds(t)), t)

    def explain(
        self, t: datetime, customer: object = None, history: Iterable[object] | None = None
    ) -> Explanation:
        """Why ``t`` is or is not callable (for ``customer``, when given: a phone
        string, a ``Customer`` or a ``{phoneNumber, properties}`` mapping, with its
        ``history`` of calls for the contact limits): the window it is in, or every
        rule that keeps it out (docs/compliance.md, docs/limits.md).

        The verdict is always ``is_callable(t)``'s (the customer's, with one), and
        ``.at`` is ``t`` in UTC, exactly.  Any aware ``t`` is explained: outside the
        time line (``.at`` is then ``t`` as given, which UTC cannot hold), or not
        callable with a local date outside the years 1-9999, its one reason is
        ``out of range``.  The last local day, 9999-12-31, is an ordinary day: its
        overnight window runs into local 10000-01-01 as long as that is still in
        9999 in UTC.  TypeError for a naive ``t``; a history without a customer is a
        ValueError (whose calls would they be?); an invalid customer is a
        ConfigError, as in :meth:`for_customer`."""
        if customer is None:
            if history is not None:
                raise ValueError("a history is a customer's calls: give the customer too")
            return explain(self, self._calendar, t)
        found = self.for_customer(customer, history).explain(t)
        if not self.calling_rules:
            return found
        # Which signal placed the customer in which state (docs/compliance.md, 5).
        signals = signals_of(customer_from(customer, "customer"), "customer")
        if not signals:
            return found
        where = "; ".join(f"{state} from {source}" for state, source in signals)
        reason = Reason("jurisdiction", f"the customer's states: {where}")
        return replace(found, reasons=(*found.reasons, reason))

    def for_customer(
        self, customer: object, history: Iterable[object] | None = None
    ) -> RecipientView:
        """The campaign as ``customer`` sees it: the same questions (``windows``,
        ``is_callable``, ``next_callable``, ``day_of``, ``retry``, ``explain``)
        answered under the same contract on its callable set, the campaign's cut to
        ``recipientHours`` in its zones.
        Customers with the same zones share one view; without ``recipientHours``
        the view's set is the campaign's.

        With contact limits or a quiet period (docs/limits.md) the answer is a
        :class:`LimitedView` (a RecipientView) that counts ``history``, ``(phone,
        at, outcome)`` records of calls made before or elsewhere, all this
        customer's, and
        ``next_callable``, ``is_callable``, ``retry`` and ``explain`` honour every
        limit.

        Raises :class:`~callslots.ConfigError` for a customer that is not valid, a
        ``properties.timezone`` that is not an IANA name, no ``phonenumbers``
        package when the zone must come from the number, and a bad ``history``
        record (naming ``history.N``)."""
        records = read_history(history)
        view = self.view_for(customer, "customer")
        if self.limited or view.limits or view.quiet:
            person = customer_from(customer, "customer")
            return LimitedView.limit(view, person, records)
        return view

    # -- slots and pacing -------------------------------------------------------

    def slots(self, start: datetime | None = None) -> Iterator[datetime]:
        """The call-start grid, lazily: inside every window, its opening and then
        every ``callIntervalSeconds`` before it closes.  With ``start``, the slots at
        or after it (on the same grid): a ``start`` before the time line counts from
        its first second, one after it has no slots after it (docs/pacing.md)."""
        return slot_datetimes(self._calendar, self._slots, self.call_interval_seconds, _ceil(start))

    def slot_seconds(self, start: datetime | None = None) -> Iterator[int]:
        """:meth:`slots` as integer UTC epoch seconds, for bulk consumers (the same
        ``start``)."""
        return slot_seconds(self._calendar, self._slots, self.call_interval_seconds, _ceil(start))

    def slot_at(self, k: int) -> datetime | None:
        """The ``k``-th slot of the campaign (from 0), or None past its end (however
        large ``k``); ValueError for a negative ``k``."""
        found = self._slots.slot_at(k)
        return None if found is None else from_seconds(found[0])

    def slot_index(self, t: datetime) -> int:
        """How many slots come before ``t``: the index of ``t`` when it is a slot, and
        the index of the first slot after it otherwise.  A ``t`` before the time line
        counts from its first second, one after it has no slots after it.  TypeError
        for a naive ``t``."""
        u = _ceil(t, "t")
        assert u is not None
        return self._slots.slot_index(u)

    def plan(
        self, customers: Iterable[object] | None = None, start: datetime | None = None
    ) -> Iterator[CallSlot]:
        """The first attempt of every customer, in customer order, lazily.

        ``customers``: the payload's when None, else any iterable of E.164 strings,
        ``Customer`` objects or ``{phoneNumber, properties}`` mappings (a generator
        of millions is fine for ``even``; ``spread`` needs a sequence).  Every
        customer appears exactly once: with ``at`` None and a ``note`` when it gets
        no slot.  ``start`` as in :meth:`slots` (docs/pacing.md).

        Raises :class:`~callslots.ConfigError` for a customer that is not valid (its
        path names its index), TypeError for ``spread`` with a one-shot iterator of
        customers.
        """
        source: Iterable[object] = self.customers if customers is None else customers
        first = _ceil(start)
        if self.per_customer:  # each customer's own hours or rules: sharing.py
            return plan_shared(self, source, first)
        spread = self.scheduling_mode == "spread"
        interval = self.call_interval_seconds
        return plan(self._calendar, self._slots, interval, spread, source, first)

    # -- retries ------------------------------------------------------------

    def retry(
        self,
        outcome: Outcome | str,
        attempt: int,
        ended_at: datetime,
        *,
        started_at: datetime | None = None,
    ) -> RetryDecision:
        """Whether and when to retry after ``attempt`` (1 = first call) ended with ``outcome``.

        A due time past the end of the time line is not an error: the decision is
        "no retry: ..., but no callable time remains".
        ValueError for an ``attempt`` that is not a whole number from 1, a
        ``started_at`` after ``ended_at`` and an unknown outcome name.
        """
        return decide(self, self._calendar, outcome, attempt, ended_at, started_at)


def _ceil(t: datetime | None, name: str = "start") -> int | None:
    """Whole UTC seconds of ``t`` rounded up (slots are whole seconds), kept within the
    time line: no slot lies outside it, so an earlier ``t`` means its first second
    and a later one its last."""
    if t is None:
        return None
    u, micros = split_seconds(t, name)
    return max(MIN_UTC, min(u + (1 if micros else 0), MAX_UTC))
