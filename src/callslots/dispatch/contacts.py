"""The engine's contact-limit bookkeeping (docs/limits.md), on top of
:mod:`callslots.limits`.

Each customer read and not done has a :class:`~callslots.limits.Ledger`: its calls
counted (the run's and its history's), on its clocks, under its rules.  Customers
that share a ``customerId`` are one person: each of their ledgers counts the calls
of all of them, and each is held to the clocks of all of their listed numbers.
A history (calls made elsewhere) is read into the ledger of its number when that
number is read; with ``customerId``s, the list is read once ahead so that a
record counts for its whole customer from the start.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .. import snapshots
from ..customers import CallRecord, Customer, customer_from, read_history, zones_of
from ..errors import ConfigError
from ..limits import MICROS, ContactLimit, Ledger, QuietRule, Rules
from ..outcomes import Outcome
from ..tz import Zone, load_zone
from .tally import OUTCOMES

__all__ = ["Contacts"]

_CODE = {o: i + 1 for i, o in enumerate(OUTCOMES)}


def _code(outcome: Outcome | None) -> int:
    return 0 if outcome is None else _CODE[outcome]


def _outcome(code: int) -> Outcome | None:
    return None if code == 0 else OUTCOMES[int(code) - 1]


class Contacts:
    """The ledgers of the customers read and not done, and the ``customerId``
    groups (docs/limits.md, sections 4-6)."""

    def __init__(
        self,
        base: Rules,
        campaign_zone: Zone,
        campaign_zone_name: str,
        history: Iterable[object] | None,
    ) -> None:
        #: The campaign's own limits; a customer's own rules (a rule pack's) add to them.
        self.base = base
        self.zone_tuple = (campaign_zone,)
        self.zone_name = campaign_zone_name
        self.loaded: dict[tuple[str, ...], tuple[Zone, ...]] = {}
        self.history: dict[str, list[CallRecord]] = {}
        for record in read_history(history):
            self.history.setdefault(record.phone, []).append(record)
        #: The counted calls of each customer read and not done, by number.
        self.ledgers: dict[str, Ledger] = {}
        #: Customers sharing a ``customerId``: its numbers read and not done; the
        #: calls of this run to them, ``(phone, slot in microseconds) -> outcome``
        #: (None: not ended), found by key when they end; and the records of the
        #: history read for them (what a first attempt waits for; two records may
        #: be alike).
        self.members: dict[str, list[str]] = {}
        self.member_of: dict[str, str] = {}
        self.member_calls: dict[str, dict[tuple[str, int], Outcome | None]] = {}
        self.member_history: dict[str, list[tuple[str, int, Outcome | None]]] = {}
        #: The latest reported end of a call of each customerId (a line it holds).
        self.member_until: dict[str, int] = {}
        #: Found by reading the list ahead (with a history only): the customerId
        #: of the numbers that have records, the numbers by customerId, and the
        #: zones of every listed number of each customerId.
        self.member_hint: dict[str, str] = {}
        self.hinted: dict[str, list[str]] = {}
        self.member_zones: dict[str, set[str]] = {}
        #: The clocks of each customerId's numbers read so far (their union, which
        #: its next number is held to), and whether the rules of its first number
        #: read date calls (only then is a number added later widened).
        self.member_clocks: dict[str, tuple[tuple[str, ...], bool]] = {}
        #: The customerIds none of whose numbers read is waiting or in a call: their
        #: calls of this run are dropped once too old to matter (:meth:`prune`).
        self.idle: set[str] = set()
        #: How far back a call can matter under any customer's rules (µs; the
        #: engine sets the campaign's, packs included: limited.longest_reach).
        self.reach = base.reach_us
        #: The slot of the latest call handed out (µs): no question is about an
        #: instant before it, but for a first attempt's history (see first_held).
        self.latest = 0
        #: When to look at the idle customerIds again (µs): as time passes, a
        #: quarter of ``reach`` at a time, so each call is looked at a few times.
        self._sweep = 0

    # -- reading --------------------------------------------------------------------

    def zones(self, clocks: tuple[str, ...] | None) -> tuple[Zone, ...]:
        """The zones named ``clocks`` (None: the campaign's), loaded once."""
        if clocks is None:
            return self.zone_tuple
        return self.loaded.get(clocks) or self.loaded.setdefault(
            clocks, tuple(load_zone(z) for z in clocks)
        )

    def find_members(
        self, source: Iterable[object], zoned: bool, campaign_zone: str
    ) -> Iterable[object]:
        """With a history: note the ``customerId`` of every listed number that has
        records, and (``zoned``) the zones of every listed number that has one,
        reading ``source`` once ahead (an iterator, which can be read only once, is
        kept as a list for the run; any other iterable is read again).  Without a
        history, ``source`` as it is."""
        if not self.history:
            return source
        items = list(source) if isinstance(source, Iterator) else source
        phone: object
        properties: object
        for item in items:
            if isinstance(item, Customer):
                phone, properties = item.phone, item.properties
            elif isinstance(item, Mapping):
                phone, properties = item.get("phoneNumber"), item.get("properties")
            else:
                continue
            member = properties.get("customerId") if isinstance(properties, Mapping) else None
            if not isinstance(phone, str) or not isinstance(member, str):
                continue
            if zoned:
                try:  # an invalid entry is reported when it is read
                    zones, _ = zones_of(customer_from(item, "customers"), campaign_zone, "")
                except ConfigError:
                    zones = ()
                self.member_zones.setdefault(member, set()).update(zones)
            if phone in self.history and phone not in self.member_hint:
                self.member_hint[phone] = member
                self.hinted.setdefault(member, []).append(phone)
        return items

    def read(self, customer: Customer, rules: Rules, clocks: tuple[str, ...] | None) -> None:
        """A customer was read: its ledger (on its clocks, with its rules), its
        history, the calls of the customers that share its ``customerId``."""
        phone = customer.phone
        ledger = self.ledgers[phone] = Ledger(phone, rules, self.zones(clocks))
        records = self.history.pop(phone, ()) if self.history else ()
        member = customer.properties.get("customerId")
        if not isinstance(member, str):
            for record in records:
                ledger.add(phone, record.at, record.outcome)
            return
        self.member_of[phone] = member
        phones = self.members.setdefault(member, [])
        log = self.member_calls.setdefault(member, {})
        self.idle.discard(member)
        phones.append(phone)
        if rules.zoned and member in self.member_zones:
            self.widen(member, phone)
        if member not in self.member_clocks:  # its first number
            self.member_clocks[member] = (tuple(z.key for z in ledger.zones), rules.zoned)
        elif rules.zoned:
            self.share_clocks(member)
        past = self.member_history.setdefault(member, [])
        for other in self.hinted.pop(member, ()):  # its numbers not read yet
            if other != phone:
                for record in self.history.pop(other, ()):
                    past.append((other, record.at, record.outcome))
        for record in records:
            past.append((phone, record.at, record.outcome))
            for other in phones[:-1]:
                self.ledgers[other].add(phone, record.at, record.outcome)
        for other, at, outcome in past:  # every call of its customer, its own too
            ledger.add(other, at, outcome)
        for (other, at), outcome in log.items():
            ledger.add(other, at, outcome)

    def widen(self, member: str, phone: str) -> None:
        """Hold ``phone``'s ledger to the clocks of every listed number of its
        customerId found ahead of reading."""
        ledger = self.ledgers[phone]
        own = {z.key for z in ledger.zones}
        union = tuple(sorted(own | self.member_zones[member]))
        if len(union) > len(own):
            ledger.read_on(self.zones(None if union == (self.zone_name,) else union))

    def share_clocks(self, member: str, last: tuple[str, ...] | None = None) -> None:
        """The numbers of one customerId are held to the clocks of all of them (the
        strictest reading, docs/limits.md): the last one read (or ``last``, clocks
        found for it) brings its own to the union of those read before."""
        phones = self.members.get(member, [])
        first, zoned = self.member_clocks[member]
        if last is None:
            last = tuple(z.key for z in self.ledgers[phones[-1]].zones)
        union = tuple(sorted(set(first) | set(last)))
        if union == first == last:
            return
        self.member_clocks[member] = (union, zoned)
        zones = self.zones(None if union == (self.zone_name,) else union)
        for p in phones:
            self.ledgers[p].read_on(zones)

    def added(self) -> None:
        """``add()`` brought entries: the clocks they bring to customerIds read."""
        for member, (clocks, zoned) in list(self.member_clocks.items()):
            if zoned and member in self.member_zones:
                phones = self.members.get(member)
                last = {z.key for z in self.ledgers[phones[-1]].zones} if phones else set()
                widened = tuple(sorted(set(clocks) | self.member_zones[member] | last))
                self.share_clocks(member, widened)

    # -- counting -------------------------------------------------------------------

    def dialed(self, phone: str, slot: int) -> None:
        """A call to ``phone`` was handed out on ``slot``: counted from now."""
        at = slot * MICROS
        self.latest = at
        if self.idle and at >= self._sweep:
            self.prune()
        member = self.member_of.get(phone) if self.member_of else None
        if member is None:
            self.ledgers[phone].add(phone, at, None)
            return
        self.member_calls[member][phone, at] = None
        for other in self.members[member]:
            self.ledgers[other].add(phone, at, None)

    def settled(self, phone: str, slot: int, outcome: Outcome | None) -> None:
        """The call to ``phone`` on ``slot`` ended with ``outcome``, or never
        started (None: it no longer counts)."""
        at = slot * MICROS
        member = self.member_of.get(phone) if self.member_of else None
        if member is None:
            self.ledgers[phone].settle(phone, at, outcome)
            return
        log = self.member_calls[member]
        if outcome is None:
            del log[phone, at]
        else:
            log[phone, at] = outcome
        for other in self.members[member]:
            self.ledgers[other].settle(phone, at, outcome)

    def ended(self, phone: str, ended: int) -> None:
        """A call of ``phone`` ended at ``ended``: its customerId is busy until then."""
        member = self.member_of.get(phone) if self.member_of else None
        if member is not None and ended > self.member_until.get(member, ended - 1):
            self.member_until[member] = ended

    def busy_until(self, phone: str, s: int, on_the_line: Iterable[str]) -> int | None:
        """When another number of ``phone``'s customer is out of its call, if it is
        in one at ``s``: its reported end, or ``s + 1`` (look again) while the end
        is not known (a number ``on_the_line``); None when the customer is free."""
        member = self.member_of.get(phone)
        if member is None:
            return None
        if any(self.member_of.get(p) == member for p in on_the_line):
            return s + 1
        until = self.member_until.get(member)
        return until if until is not None and until > s else None

    def first_held(self, phone: str, at: int) -> int | None:
        """For a first attempt read: the first microsecond from ``at`` that its
        history (its own records and its customerId's) allows, leaving the run's
        own calls out; None when none ever is."""
        ledger = self.ledgers[phone]
        if not ledger.may_bind():
            return at
        member = self.member_of.get(phone) if self.member_of else None
        if member is not None:
            past = self.member_history[member]
            if not past:
                return at
            if self.member_calls[member]:  # calls of the run too: count the history alone
                ledger = Ledger(phone, ledger.rules, ledger.zones)
                for other, when, outcome in past:
                    ledger.add(other, when, outcome)
        return ledger.first_allowed(at)

    def forget(self, phone: str) -> None:
        """A customer is done: its ledger goes.  For a number of a customerId, the
        calls to it stay in its customerId's log for the numbers read later, until
        they are too old to matter (:meth:`prune`)."""
        self.ledgers.pop(phone, None)
        member = self.member_of.pop(phone, None)
        if member is None:
            return
        phones = self.members[member]
        phones.remove(phone)
        if not phones:
            self.idle.add(member)
            self.prune()

    def prune(self) -> None:
        """Drop what no question can need any more: the calls of this run of each
        customerId with no number waiting or in a call that are ``reach`` or more
        before the latest call handed out (every question from now on is about an
        instant at or after it, but a first attempt's, which reads the history
        alone), and such a customerId's entries once it has no call left.  Its
        clocks and its history stay, for a number of it read later."""
        horizon = self.latest - self.reach
        # Also swept a quarter of ``reach`` later as calls go on.  The idle ones are
        # those done within about ``reach``, not every one done: a sweep is short.
        self._sweep = self.latest + max(self.reach // 4, 3600 * MICROS)
        for member in list(self.idle):
            self._prune(member, horizon)

    def _prune(self, member: str, horizon: int) -> None:
        """Drop idle ``member``'s calls at or before ``horizon``, and its entries
        once none is left and no call of it holds a line."""
        log = self.member_calls[member]
        for key in [key for key in log if key[1] <= horizon]:
            del log[key]
        until = self.member_until.get(member)
        if not log and (until is None or until * MICROS <= self.latest):
            del self.members[member], self.member_calls[member]
            self.member_until.pop(member, None)
            self.idle.discard(member)

    # -- snapshots ------------------------------------------------------------------

    def state(self) -> str:
        """The counted calls, the history not read yet, the customerId groups, the
        clocks and rules of the customers read: packed JSON (docs/limits.md)."""

        def limit_row(limit: ContactLimit) -> list[Any]:
            row = [
                limit.max_calls,
                limit.days,
                limit.per,
                limit.count,
                limit.window,
                limit.name,
                limit.since,
            ]
            # A span of hours (0.3) is an eighth field; rows without it read as before.
            return row if limit.hours is None else [*row, limit.hours]

        state = {
            "history": [
                [r.phone, r.at, _code(r.outcome)] for rs in self.history.values() for r in rs
            ],
            "ledgers": [[phone, *ledger.state()] for phone, ledger in self.ledgers.items()],
            "members": self.members,
            # Version 1 keeps every call of a customerId in one log, history first.
            "member_calls": {
                m: [[p, at, _code(o)] for p, at, o in self.member_history.get(m, ())]
                + [[p, at, _code(o)] for (p, at), o in log.items()]
                for m, log in self.member_calls.items()
            },
            "member_history": {
                m: [[p, at, _code(o)] for p, at, o in log] for m, log in self.member_history.items()
            },
            "clocks": {
                p: [z.key for z in ledger.zones]
                for p, ledger in self.ledgers.items()
                if ledger.zones is not self.zone_tuple
            },
            "member_until": self.member_until,
            "hinted": self.hinted,
            "member_zones": {m: sorted(zs) for m, zs in self.member_zones.items()},
            # Since the rebuild: read with defaults from a snapshot written before.
            "member_clocks": {m: [list(c), z] for m, (c, z) in self.member_clocks.items()},
            "idle": sorted(self.idle),
            "rules": {
                p: [
                    [limit_row(c) for c in ledger.rules.limits],
                    [[q.days, q.name, q.since] for q in ledger.rules.quiet],
                ]
                for p, ledger in self.ledgers.items()
                if ledger.rules is not self.base
            },
        }
        return snapshots.pack_bytes(json.dumps(state, separators=(",", ":")).encode())

    def load(self, packed: str) -> None:
        """The state :meth:`state` wrote (snapshot format version 1)."""
        state = json.loads(snapshots.unpack_bytes(packed))
        self.history = {}
        for phone, at, code in state["history"]:
            record = CallRecord(str(phone), int(at), _outcome(code) or Outcome.UNSPECIFIED)
            self.history.setdefault(record.phone, []).append(record)
        self.members = {str(m): [str(p) for p in ps] for m, ps in state["members"].items()}
        self.member_of = {p: m for m, ps in self.members.items() for p in ps}
        self.member_history = {
            str(m): [(str(p), int(at), _outcome(c)) for p, at, c in log]
            for m, log in state["member_history"].items()
        }
        self.member_calls = {}
        for m, log in state["member_calls"].items():
            # The log holds the history's records too: the run's calls are the rest.
            past = Counter(self.member_history.get(str(m), ()))
            calls = self.member_calls[str(m)] = {}
            for p, at, c in log:
                entry = (str(p), int(at), _outcome(c))
                if past[entry]:
                    past[entry] -= 1
                else:
                    calls[entry[0], entry[1]] = entry[2]
        clocks = {str(p): tuple(str(z) for z in zs) for p, zs in state["clocks"].items()}
        self.member_until = {str(m): int(u) for m, u in state["member_until"].items()}
        self.hinted = {str(m): [str(p) for p in ps] for m, ps in state["hinted"].items()}
        self.member_hint = {p: m for m, ps in self.hinted.items() for p in ps}
        self.member_zones = {
            str(m): {str(z) for z in zs} for m, zs in state["member_zones"].items()
        }
        own = self._load_rules(state["rules"])
        self.ledgers = {}
        for phone, *rows in state["ledgers"]:
            phone = str(phone)
            ledger = Ledger(phone, own.get(phone, self.base), self.zones(clocks.get(phone)))
            ledger.load(rows)
            self.ledgers[phone] = ledger
        self._load_clocks(state)

    def _load_rules(self, rows: dict[str, Any]) -> dict[str, Rules]:
        """The numbers' own rules as :meth:`state` wrote them (one Rules for the
        numbers that share them)."""
        made: dict[str, Rules] = {}  # one Rules for the customers that share them

        def rules(row: list[Any]) -> Rules:
            key = json.dumps(row)
            if key not in made:
                limits, quiet = row
                made[key] = Rules(
                    tuple(
                        ContactLimit(
                            int(a),
                            int(b),
                            str(c),
                            str(d),
                            str(e),
                            str(f),
                            int(g),
                            hours=int(h[0]) if h else None,
                        )
                        for a, b, c, d, e, f, g, *h in limits
                    ),
                    tuple(QuietRule(int(days), str(name), int(u)) for days, name, u in quiet),
                    self.base.connected,
                )
            return made[key]

        return {str(p): rules(row) for p, row in rows.items()}

    def _load_clocks(self, state: dict[str, Any]) -> None:
        """The customerIds' clocks and which are idle, as :meth:`state` wrote them;
        from a snapshot written before the rebuild (every number read is listed,
        done or not), the clocks of each one's first number."""
        if "member_clocks" in state:
            self.member_clocks = {
                str(m): (tuple(str(z) for z in c), bool(z))
                for m, (c, z) in state["member_clocks"].items()
            }
            self.idle = {str(m) for m in state["idle"]}
            return
        self.member_clocks = {}
        for m, phones in self.members.items():
            if phones:
                first = self.ledgers[phones[0]]
                self.member_clocks[m] = (tuple(z.key for z in first.zones), first.rules.zoned)
        self.idle = set()
