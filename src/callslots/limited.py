"""One customer's campaign with its calls counted: contact limits on a view.

A :class:`LimitedView` answers the questions of a customer's view
(:class:`~callslots.recipients.RecipientView`) with the contact limits and the
quiet period of docs/limits.md honoured too: an instant is callable for the
customer when it is in the customer's callable set **and** a new call there is
allowed by every limit, given the calls counted so far (the history).  The earliest
such instant is found by leapfrogging: the set's first callable second, then the
limits' first allowed microsecond from there, until both agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

from .config import Settings
from .customers import CallRecord, Customer, zones_of
from .explain import Explanation, Reason
from .limits import END_US, MICROS, Block, Ledger, QuietRule, Rules
from .outcomes import Outcome
from .recipients import RecipientView
from .retry import RetryDecision, decide
from .tz import civil_from_days, load_zone
from .windows import from_micros, split_seconds

__all__ = ["LimitedView", "campaign_rules", "ledger_for", "longest_reach", "with_view"]


def campaign_rules(settings: Settings) -> Rules:
    """The campaign's own limits and quiet period (docs/limits.md)."""
    quiet = settings.quiet_after_conversation_days
    return Rules(
        settings.contact_limits,
        () if quiet is None else (QuietRule(quiet),),
        settings.connected_outcomes,
    )


def longest_reach(settings: Settings) -> int:
    """How far back (µs) a counted call can matter for any customer of the
    campaign: its own limits and every limit and quiet rule of its rule packs,
    whichever customers they apply to (:attr:`Rules.reach_us`)."""
    from .jurisdiction import contact_limits, pack

    reach = campaign_rules(settings).reach_us
    for name in settings.calling_rules:
        rules = pack(name).rules
        scopes = tuple(sorted({rule.scope for rule in rules}))
        limits, quiet = contact_limits(rules, scopes, (settings.timezone,))
        reach = max(reach, Rules(limits, quiet).reach_us)
    return reach


def with_view(rules: Rules, view: RecipientView) -> Rules:
    """``rules`` and the limits and quiet periods a customer's view adds (a rule
    pack's, docs/compliance.md section 5)."""
    if not view.limits and not view.quiet:
        return rules
    return Rules(rules.limits + view.limits, rules.quiet + view.quiet, rules.connected)


def ledger_for(
    settings: Settings, view: RecipientView, customer: Customer, path: str = "customer"
) -> Ledger:
    """An empty ledger for ``customer`` under the campaign's limits and the rules of
    its view; its clocks are its zones when a calendar limit or a quiet period
    needs them (``zones_of``: a ConfigError for a bad ``properties.timezone``,
    MissingPhoneNumbers without the package)."""
    rules = with_view(campaign_rules(settings), view)
    zones: tuple[str, ...] = ()
    if rules.zoned:
        zones, _ = zones_of(customer, settings.timezone, path)
    return Ledger(customer.phone, rules, tuple(load_zone(z) for z in zones))


def _utc_text(u: int | None) -> str:
    if u is None or u >= END_US:
        return "never (no allowed time remains)"
    t = from_micros(u // MICROS, u % MICROS)
    return f"{t.year:04d}-{t:%m-%dT%H:%M:%S}Z" if not t.microsecond else t.isoformat()


def _date_text(n: int) -> str:
    """Day number ``n`` as YYYY-MM-DD, also a local date just outside the years 1-9999
    (a zone behind UTC on the first day of year 1)."""
    year, month, day = civil_from_days(n)
    return f"{year:04d}-{month:02d}-{day:02d}"


def describe_block(block: Block) -> Reason:
    """A limit that forbids a call, in words for :class:`Explanation`."""
    free = f"free from {_utc_text(block.free)}"
    if block.zone is None:  # a rolling limit: instants
        filled = (
            f"{block.count} counted call{'s' if block.count != 1 else ''} from "
            f"{_utc_text(block.first)} to {_utc_text(block.last)} fill a span with this one"
        )
        return Reason("contact limit", f"{block.name} ({block.what}): {filled}; {free}")
    first, last = _date_text(block.first), _date_text(block.last)
    if block.quiet:
        message = f"{block.name} ({block.what}): a conversation on {first} ({block.zone}); {free}"
        return Reason("quiet after conversation", message)
    dates = f"on {first}" if first == last else f"from {first} to {last}"
    filled = f"{block.count} counted call{'s' if block.count != 1 else ''} {dates} ({block.zone})"
    return Reason("contact limit", f"{block.name} ({block.what}): {filled}; {free}")


@dataclass(frozen=True, slots=True, eq=False)
class LimitedView(RecipientView):
    """``campaign.for_customer(customer, history=...)`` under contact limits: the
    customer's view with its calls counted (docs/limits.md, section 5).
    ``windows`` and ``day_of`` are the view's (the callable set, without the
    limits); ``is_callable``, ``next_callable``, ``retry`` and ``explain`` honour
    the limits too.  ``ledger`` holds the counted calls."""

    ledger: Ledger | None = field(default=None, repr=False)

    @classmethod
    def limit(
        cls,
        view: RecipientView,
        customer: Customer,
        history: list[CallRecord],
    ) -> LimitedView:
        """``view`` with ``customer``'s calls in ``history`` counted."""
        ledger = ledger_for(view.settings, view, customer)
        for record in history:
            ledger.add(record.phone, record.at, record.outcome)
        return cls._with(view, ledger)

    @classmethod
    def _with(cls, view: RecipientView, ledger: Ledger) -> LimitedView:
        values = {f.name: getattr(view, f.name) for f in fields(RecipientView)}
        return cls(**values, ledger=ledger)

    @property
    def _ledger(self) -> Ledger:
        assert self.ledger is not None
        return self.ledger

    # -- with the limits ----------------------------------------------------------

    def first_allowed(self, t: int, first_day: int | None = None) -> int | None:
        """The first microsecond ``>= t`` callable for the customer (in a window of
        a day ``>= first_day``) and allowed by every limit; None when none remains."""
        search, allowed = self.next_second, self._ledger.first_allowed
        while t < END_US:
            s = t // MICROS
            found = search(s, first_day)
            if found is None:
                return None
            if found != s:
                t = found * MICROS
            free = allowed(t)
            if free is None:
                return None
            if free == t:
                return t
            t = free
        return None

    def is_callable(self, t: datetime) -> bool:
        """Whether a call may start at ``t`` (aware): inside the customer's hours and
        allowed by every contact limit, counting this call."""
        u, micros = split_seconds(t)
        exact = u * MICROS + micros
        return self.callable_at(u) and self._ledger.first_allowed(exact) == exact

    def next_callable(self, t: datetime) -> datetime | None:
        """``t`` itself when callable for the customer and allowed by its limits, else
        the earliest instant after it that is both; None when none remains."""
        u, micros = split_seconds(t)
        found = self.first_allowed(u * MICROS + micros)
        return None if found is None else from_micros(found // MICROS, found % MICROS)

    def retry(
        self,
        outcome: Outcome | str,
        attempt: int,
        ended_at: datetime,
        *,
        started_at: datetime | None = None,
    ) -> RetryDecision:
        """The view's retry rule, the due time searched in the callable *and allowed*
        time, the call that just ended counted first (at ``started_at``, else
        ``ended_at``, with ``outcome``)."""
        parsed = Outcome.parse(outcome)
        start = started_at if started_at is not None else ended_at
        u, micros = split_seconds(start, "started_at" if started_at is not None else "ended_at")
        ledger = self._ledger.copy()
        ledger.add(ledger.phone, u * MICROS + micros, parsed)
        limited = LimitedView._with(self, ledger)
        ended, ended_us = split_seconds(ended_at, "ended_at")
        earliest = ended + self.settings.retry_delay_seconds
        exact: list[int | None] = []

        def search(s: int, first_day: int | None) -> int | None:
            # decide() counts in whole seconds; the earliest instant keeps the
            # fraction of ended_at, and the exact answer is kept for `at`.
            found = limited.first_allowed(
                s * MICROS + (ended_us if s == earliest else 0), first_day
            )
            exact.append(found)
            return None if found is None else -(-found // MICROS)

        decision = decide(
            self.settings,
            self.base,
            parsed,
            attempt,
            ended_at,
            started_at,
            search=search,
            owner=self.day_second,
        )
        if not decision.retry or not exact or exact[-1] is None:
            return decision
        found = exact[-1]
        return RetryDecision(True, from_micros(found // MICROS, found % MICROS), decision.reason)

    def explain(self, t: datetime) -> Explanation:
        """The view's explanation, and each limit that forbids a call at ``t``: its
        name, the calls that fill its span, and when it frees."""
        found = RecipientView.explain(self, t)
        u, micros = split_seconds(t)
        if found.reasons and found.reasons[0].rule == "out of range":
            return found
        blocks = [describe_block(b) for b in self._ledger.blocks(u * MICROS + micros)]
        if not blocks:
            return found
        reasons = tuple(blocks) if found.callable else (*found.reasons, *blocks)
        return Explanation(found.at, False, found.local, reasons)
