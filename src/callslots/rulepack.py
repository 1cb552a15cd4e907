"""Calling-rule packs: the laws' hours, days and call counts as data.

A pack (``src/callslots/rules/us.json`` for ``"US"``) lists rules, each with its
scope (``"federal"`` or a state code), the kind of call it is about, what it limits,
its values, the date it takes effect, its citation with a URL, what the source said
(a short quote), and the date it was last checked; and the rules it does not cover,
with why (docs/compliance.md, section 5).  :func:`load_pack` reads a shipped pack,
:func:`read_pack` any JSON-shaped value; both check everything and raise one
:class:`RulePackError` listing every problem with its path.

This module only reads and checks the data: no campaign uses it yet.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

from .errors import Problem
from .tz import zone_names
from .windows import Hours, clock

__all__ = [
    "APPLIES_TO",
    "LIMITS",
    "TECHNOLOGIES",
    "US_STATES",
    "CallsLimit",
    "DaysLimit",
    "HoursLimit",
    "NotCovered",
    "QuietLimit",
    "Rule",
    "RulePack",
    "RulePackError",
    "load_pack",
    "read_pack",
]

#: The codes a state-level rule's scope may take: the 50 states, the District of
#: Columbia and the five inhabited territories (USPS codes).
US_STATES = frozenset(
    (
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
        "PR",
        "GU",
        "VI",
        "AS",
        "MP",
    )
)
#: What a rule limits.
LIMITS = ("hours", "days", "calls-per-period", "quiet-after-conversation")
#: The kinds of call a rule is about: whether a call is one of them is the user's call.
APPLIES_TO = ("telephone-solicitation", "debt-collection", "securities-solicitation")
SOURCES = ("official", "copy")
#: How a call is placed, for rules about a calling technology: a rule with
#: ``technology`` applies only to calls made with one of the kinds it lists.
TECHNOLOGIES = ("automatic-dialer", "prerecorded-voice", "artificial-voice")
#: How a rule's start is known: ``"not known"`` goes with ``"effective": null``
#: (the rule is read as in force on every date up to its end, docs/compliance.md).
EFFECTIVE_BASES = ("stated by the source", "reported", "not known")
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
CALLED_PARTY = "called-party"

_ID = re.compile(r"[A-Z][A-Za-z0-9.-]{2,63}", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_CLOCK = re.compile(r"(\d{2}):(\d{2})", re.ASCII)
_TEXT = re.compile(r"[a-z0-9][a-z0-9.-]{0,80}", re.ASCII)
_URL = re.compile(r"https?://[^\s/]+\.[^\s/]+(/\S*)?", re.ASCII)


class RulePackError(ValueError):
    """A pack that cannot be used; ``errors`` lists every problem with its path."""

    def __init__(self, errors: list[Problem] | tuple[Problem, ...], source: str) -> None:
        self.errors = tuple(errors)
        count = len(self.errors)
        head = f"invalid rule pack {source} ({count} problem{'s' if count != 1 else ''})"
        super().__init__("\n".join([head, *(f"  {e}" for e in self.errors)]))


@dataclass(frozen=True, slots=True)
class HoursLimit:
    """Calls only inside ``hours[w]`` on weekday ``w`` (0 = Monday) of the rule's
    clock; None: no calls that weekday."""

    hours: tuple[Hours | None, ...]


@dataclass(frozen=True, slots=True)
class DaysLimit:
    """No calls on the days ``no_calls_on`` names (``"holidays"``: the ``holidays``
    calendars, such as ``("state", "federal")``), when they fall on one of
    ``weekdays`` (0 = Monday)."""

    no_calls_on: str
    holidays: tuple[str, ...]
    weekdays: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CallsLimit:
    """At most ``max_calls`` calls (``count``: ``"attempts"``) ``per`` whom, in any
    ``span`` (``span_days`` local calendar days when ``window`` is ``"calendar"``,
    else ``span_hours`` hours of any rolling stretch)."""

    max_calls: int
    span_days: int | None
    span_hours: int | None
    window: str
    per: str
    count: str


@dataclass(frozen=True, slots=True)
class QuietLimit:
    """No call for ``days`` local days after a conversation, the conversation's date
    being day 1 (``first_day`` ``"conversation"``), ``per`` whom."""

    days: int
    first_day: str
    per: str


Values = HoursLimit | DaysLimit | CallsLimit | QuietLimit


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a pack, as the data file states it (docs/compliance.md, section 5).

    ``clock`` is ``"called-party"`` (the called person's wall clock) or an IANA zone;
    ``source`` ``"official"`` when ``quote`` was read on the site of the body that
    makes or publishes the law, ``"copy"`` when it was read in a verbatim copy
    (``read_at``); ``effective_basis`` says how ``effective`` is known.
    """

    id: str
    scope: str
    applies_to: str
    limit: str
    clock: str
    values: Values
    effective: date | None
    effective_basis: str
    citation: str
    url: str
    source: str
    read_at: str
    quote: str
    checked: date
    notes: str
    #: The first date on which the rule no longer applies (it was replaced), on the
    #: clock it is read on; None: in force with no known end.
    ends: date | None = None
    #: The stored source text ``quote`` is taken from (``rules/sources/<text>.txt``).
    text: str = ""
    #: The calling technologies the rule is about (:data:`TECHNOLOGIES`); empty: it is
    #: about every call, however placed.
    technology: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``citation: what it says``, for explanations (``..., for calls made with an
        automatic-dialer`` for a rule about a calling technology)."""
        if not self.technology:
            return f"{self.citation}: {describe(self)}"
        kinds = " or ".join(self.technology)
        article = "an" if kinds[0] in "aeiou" else "a"
        return f"{self.citation}: {describe(self)}, for calls made with {article} {kinds}"

    @property
    def in_force(self) -> str:
        """When the rule is in force, in words: ``in force since 2021-07-01``, ``in
        force (start date not known)``, with ``until 2026-06-30`` when it ends."""
        start = (
            "in force (start date not known)"
            if self.effective is None
            else f"in force since {self.effective}"
        )
        if self.ends is None:
            return start
        return f"{start} until {date.fromordinal(self.ends.toordinal() - 1)}"


@dataclass(frozen=True, slots=True)
class NotCovered:
    """A rule the pack leaves out, and why."""

    scope: str
    what: str
    why: str


@dataclass(frozen=True, slots=True)
class RulePack:
    """A pack: its ``name`` (``"US"``), ``rules`` in file order, and what it leaves
    out (``not_covered``)."""

    name: str
    version: int
    title: str
    notice: str
    rules: tuple[Rule, ...]
    not_covered: tuple[NotCovered, ...]

    @property
    def label(self) -> str:
        """``US pack version 3``: names the data a decision was made with."""
        return f"{self.name} pack version {self.version}"

    def for_scopes(self, *scopes: str) -> tuple[Rule, ...]:
        """The rules whose scope is one of ``scopes`` (``"federal"``, ``"FL"``, ...)."""
        return tuple(rule for rule in self.rules if rule.scope in scopes)


def describe(rule: Rule) -> str:
    """The rule's values in words: ``08:00-20:00 at the called person's location``."""
    where = "at the called person's location" if rule.clock == CALLED_PARTY else rule.clock
    values = rule.values
    if isinstance(values, HoursLimit):
        spans = {h for h in values.hours}
        if len(spans) == 1 and None not in spans:
            return f"{values.hours[0]} {where}"
        parts = [
            f"{WEEKDAY_CODES[w]} {h if h is not None else 'none'}"
            for w, h in enumerate(values.hours)
        ]
        return f"{', '.join(parts)} {where}"
    if isinstance(values, DaysLimit):
        days = ", ".join(WEEKDAY_CODES[w] for w in values.weekdays)
        return f"no calls on {' or '.join(values.holidays)} holidays falling on {days}"
    if isinstance(values, CallsLimit):
        span = (
            f"{values.span_days} consecutive days"
            if values.span_days is not None
            else f"{values.span_hours} hours"
        )
        calls = "call" if values.max_calls == 1 else "calls"
        return f"at most {values.max_calls} {calls} in {span}, per {values.per}"
    return f"no call for {values.days} days after a conversation, per {values.per}"


def load_pack(name: str = "US") -> RulePack:
    """The pack shipped with callslots under ``name`` (``"US"``); ValueError for a
    name with no pack, :class:`RulePackError` for a malformed one."""
    if not isinstance(name, str) or not re.fullmatch(r"[A-Z]{2}", name):
        raise ValueError(f"a rule pack is named by a country code such as 'US', not {name!r}")
    found = resources.files("callslots").joinpath("rules").joinpath(f"{name.lower()}.json")
    if not found.is_file():
        raise ValueError(f"callslots has no rule pack {name!r} (it has 'US')")
    source = f"rules/{name.lower()}.json"
    try:
        data = json.loads(found.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise RulePackError([Problem("", f"is not JSON: {e}")], source) from None
    return read_pack(data, source)


def read_pack(data: object, source: str = "(given)") -> RulePack:
    """Check a JSON-shaped pack and read it; :class:`RulePackError` lists every
    problem, each with its path (``rules.3.values.hours.MO``)."""
    r = _Checker()
    pack = r.mapping(data, "", ("pack", "version", "title", "notice", "rules", "not_covered"))
    if pack is None:
        raise RulePackError(r.errors, source)
    name = r.text(pack.get("pack"), "pack")
    if name is not None and not re.fullmatch(r"[A-Z]{2}", name):
        r.error("pack", f"must be a country code such as 'US', not {name!r}")
    version = pack.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        r.error("version", "must be a whole number from 1")
    title = r.text(pack.get("title"), "title")
    notice = r.text(pack.get("notice"), "notice")
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(r.items(pack.get("rules"), "rules")):
        rule = _rule(r, item, f"rules.{i}")
        rule_id = item.get("id") if isinstance(item, Mapping) else None
        if isinstance(rule_id, str):  # also among rules with other problems
            if rule_id in seen:
                r.error(f"rules.{i}.id", f"{rule_id!r} is also rules.{seen[rule_id]}")
            seen.setdefault(rule_id, i)
        if rule is not None:
            rules.append(rule)
    left_out: list[NotCovered] = []
    for i, item in enumerate(r.items(pack.get("not_covered"), "not_covered", empty=True)):
        entry = r.mapping(item, f"not_covered.{i}", ("scope", "what", "why"))
        if entry is None:
            continue
        texts = [r.text(entry.get(k), f"not_covered.{i}.{k}") for k in ("scope", "what", "why")]
        if None not in texts:
            scope, what, why = texts
            assert scope is not None and what is not None and why is not None
            left_out.append(NotCovered(scope, what, why))
    if r.errors:
        raise RulePackError(r.errors, source)
    assert name is not None and title is not None and notice is not None
    assert isinstance(version, int)
    return RulePack(name, version, title, notice, tuple(rules), tuple(left_out))


class _Checker:
    def __init__(self) -> None:
        self.errors: list[Problem] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(Problem(path, message))

    def mapping(
        self,
        value: object,
        path: str,
        known: tuple[str, ...],
        *,
        nullable: bool | tuple[str, ...] = False,
    ) -> Mapping[str, Any] | None:
        """``value`` when it is an object; every key not in ``known``, missing, or null
        (unless ``nullable``: True for every key, or the keys that may be null) is
        reported, so the readers below may take a None for a problem already said."""
        if not isinstance(value, Mapping):
            self.error(path, f"must be an object, not {type(value).__name__}")
            return None
        for key in value:
            if key not in known:
                self.error(f"{path}.{key}" if path else str(key), "is not a field of a pack")
        for key in known:
            if key not in value:
                self.error(f"{path}.{key}" if path else key, "is missing")
            elif value[key] is None and not (
                nullable is True or (isinstance(nullable, tuple) and key in nullable)
            ):
                self.error(f"{path}.{key}" if path else key, "must not be null")
        return value

    def items(self, value: object, path: str, *, empty: bool = False) -> list[object]:
        if not isinstance(value, list):
            if value is not None:  # a missing list is already reported
                self.error(path, f"must be a list, not {type(value).__name__}")
            return []
        if not value and not empty:
            self.error(path, "is empty")
        return value

    def text(self, value: object, path: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            if value is not None:
                self.error(path, "must be a non-empty string")
            return None
        return value

    def choice(self, value: object, path: str, choices: tuple[str, ...]) -> str | None:
        if value not in choices:
            if value is not None:
                shown = " or ".join(repr(c) for c in choices)
                self.error(path, f"must be {shown}, not {value!r}")
            return None
        assert isinstance(value, str)
        return value

    def day(self, value: object, path: str) -> date | None:
        if not isinstance(value, str) or not _DATE.fullmatch(value):
            if value is not None:
                self.error(path, f"must be a date written YYYY-MM-DD, not {value!r}")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.error(path, f"{value!r} is not a day of the calendar")
            return None

    def count(self, value: object, path: str, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            if value is not None:
                self.error(path, f"must be a whole number from {low} to {high}, not {value!r}")
            return None
        return value

    def clock(self, value: object, path: str, *, end: bool) -> int | None:
        m = _CLOCK.fullmatch(value) if isinstance(value, str) else None
        if m is None:
            self.error(path, f"must be a time of day written HH:MM, not {value!r}")
            return None
        seconds = int(m[1]) * 3600 + int(m[2]) * 60
        if int(m[2]) > 59 or seconds > 86400 or (seconds == 86400 and not end):
            self.error(path, f"{value!r} is not a time of day (00:00 to 24:00)")
            return None
        return seconds


def _rule(r: _Checker, item: object, path: str) -> Rule | None:
    fields = (
        "id",
        "scope",
        "applies_to",
        "limit",
        "clock",
        "values",
        "effective",
        "effective_basis",
        "ends",
        "citation",
        "url",
        "source",
        "read_at",
        "quote",
        "checked",
        "notes",
        "text",
        "technology",
    )
    before = len(r.errors)
    entry = r.mapping(item, path, fields, nullable=("effective", "ends", "technology"))
    if entry is None:
        return None
    rule_id = r.text(entry.get("id"), f"{path}.id")
    if rule_id is not None and not _ID.fullmatch(rule_id):
        r.error(
            f"{path}.id", f"{rule_id!r} is not an id (a capital, then letters, digits, - and .)"
        )
    scope = r.text(entry.get("scope"), f"{path}.scope")
    if scope is not None and scope != "federal" and scope not in US_STATES:
        r.error(
            f"{path}.scope", f"must be 'federal' or a US state code such as 'FL', not {scope!r}"
        )
    applies_to = r.choice(entry.get("applies_to"), f"{path}.applies_to", APPLIES_TO)
    limit = r.choice(entry.get("limit"), f"{path}.limit", LIMITS)
    zone = r.text(entry.get("clock"), f"{path}.clock")
    if zone is not None and zone != CALLED_PARTY and zone not in zone_names():
        r.error(f"{path}.clock", f"must be {CALLED_PARTY!r} or an IANA zone, not {zone!r}")
    values = _values(r, limit, entry.get("values"), f"{path}.values")
    effective = r.day(entry.get("effective"), f"{path}.effective")
    basis = r.choice(entry.get("effective_basis"), f"{path}.effective_basis", EFFECTIVE_BASES)
    ends = r.day(entry.get("ends"), f"{path}.ends")
    text_name = r.text(entry.get("text"), f"{path}.text")
    kinds: list[str] = []
    if entry.get("technology") is not None:
        for i, kind in enumerate(r.items(entry.get("technology"), f"{path}.technology")):
            chosen = r.choice(kind, f"{path}.technology.{i}", TECHNOLOGIES)
            if chosen is not None and chosen not in kinds:
                kinds.append(chosen)
    if text_name is not None and not _TEXT.fullmatch(text_name):
        r.error(f"{path}.text", f"{text_name!r} is not a source text's name (a-z, 0-9, - and .)")
    citation = r.text(entry.get("citation"), f"{path}.citation")
    urls = []
    for key in ("url", "read_at"):
        url = r.text(entry.get(key), f"{path}.{key}")
        if url is not None and not _URL.fullmatch(url):
            r.error(f"{path}.{key}", f"must be an http(s) URL, not {url!r}")
        urls.append(url)
    source = r.choice(entry.get("source"), f"{path}.source", SOURCES)
    quote = r.text(entry.get("quote"), f"{path}.quote")
    checked = r.day(entry.get("checked"), f"{path}.checked")
    notes = entry.get("notes")
    if not isinstance(notes, str):
        r.error(f"{path}.notes", "must be a string (it may be empty)")
    if basis is not None and (basis == "not known") != (entry.get("effective") is None):
        r.error(
            f"{path}.effective",
            "a start that is not known is written null with effective_basis 'not known'; "
            "a date needs the basis it is known on",
        )
    if effective is not None and ends is not None and ends <= effective:
        r.error(f"{path}.ends", f"{ends} is not after the rule's start ({effective})")
    if ends is not None and limit in ("calls-per-period", "quiet-after-conversation"):
        # A contact limit has a start (``since``) but no end: the engine's limits and
        # their snapshots hold none.  Such a rule that was replaced is left out.
        r.error(f"{path}.ends", f"a {limit} rule cannot end yet: only hours and days rules can")
    if len(r.errors) > before:
        return None
    assert rule_id and scope and applies_to and limit and zone and values
    assert basis and citation and source and quote and checked and isinstance(notes, str)
    assert text_name is not None
    url, read_at = urls
    assert url is not None and read_at is not None
    return Rule(
        rule_id,
        scope,
        applies_to,
        limit,
        zone,
        values,
        effective,
        basis,
        citation,
        url,
        source,
        read_at,
        quote,
        checked,
        notes,
        ends,
        text_name,
        tuple(k for k in TECHNOLOGIES if k in kinds),
    )


def _values(r: _Checker, limit: str | None, value: object, path: str) -> Values | None:
    if limit is None:
        return None
    if limit == "hours":
        entry = r.mapping(value, path, ("hours",))
        if entry is None:
            return None
        days = r.mapping(entry.get("hours"), f"{path}.hours", WEEKDAY_CODES, nullable=True)
        if days is None or len(days) != 7:
            return None
        hours: list[Hours | None] = []
        ok = True
        for code in WEEKDAY_CODES:
            span, where = days[code], f"{path}.hours.{code}"
            if span is None:
                hours.append(None)
                continue
            if not isinstance(span, list) or len(span) != 2:
                r.error(where, 'must be ["HH:MM", "HH:MM"] (start, end) or null for no calls')
                ok = False
                continue
            start = r.clock(span[0], f"{where}.0", end=False)
            end = r.clock(span[1], f"{where}.1", end=True)
            if start is None or end is None:
                ok = False
            elif start >= end:
                r.error(where, f"{clock(start)} is not before {clock(end)}")
                ok = False
            else:
                hours.append(Hours(start, end))
        if not ok:
            return None
        if all(h is None for h in hours):
            r.error(f"{path}.hours", "allows no calls on any weekday; a ban is a 'days' rule")
            return None
        return HoursLimit(tuple(hours))
    if limit == "days":
        entry = r.mapping(value, path, ("no_calls_on", "holidays", "weekdays"))
        if entry is None:
            return None
        what = r.choice(entry.get("no_calls_on"), f"{path}.no_calls_on", ("holidays",))
        calendars = [
            r.choice(c, f"{path}.holidays.{i}", ("state", "federal"))
            for i, c in enumerate(r.items(entry.get("holidays"), f"{path}.holidays"))
        ]
        weekdays = [
            r.choice(w, f"{path}.weekdays.{i}", WEEKDAY_CODES)
            for i, w in enumerate(r.items(entry.get("weekdays"), f"{path}.weekdays"))
        ]
        if what is None or None in calendars or None in weekdays or not calendars or not weekdays:
            return None
        chosen = sorted({WEEKDAY_CODES.index(w) for w in weekdays if w is not None})
        return DaysLimit(what, tuple(c for c in calendars if c is not None), tuple(chosen))
    if limit == "calls-per-period":
        entry = r.mapping(value, path, ("max_calls", "span", "window", "per", "count"))
        if entry is None:
            return None
        most = r.count(entry.get("max_calls"), f"{path}.max_calls", 1, 1000)
        window = r.choice(entry.get("window"), f"{path}.window", ("rolling", "calendar"))
        per = r.text(entry.get("per"), f"{path}.per")
        counted = r.choice(entry.get("count"), f"{path}.count", ("attempts", "connected"))
        span = entry.get("span")
        span_days = span_hours = None
        if isinstance(span, Mapping) and set(span) == {"days"}:
            span_days = r.count(span["days"], f"{path}.span.days", 1, 366)
        elif isinstance(span, Mapping) and set(span) == {"hours"}:
            span_hours = r.count(span["hours"], f"{path}.span.hours", 1, 8784)
            if window == "calendar":
                r.error(f"{path}.span", "a calendar window counts whole days: give span.days")
                return None
        else:
            r.error(f"{path}.span", 'must be {"days": N} or {"hours": N}')
        if most is None or window is None or per is None or counted is None:
            return None
        if span_days is None and span_hours is None:
            return None
        return CallsLimit(most, span_days, span_hours, window, per, counted)
    entry = r.mapping(value, path, ("days", "first_day", "per"))
    if entry is None:
        return None
    quiet_days = r.count(entry.get("days"), f"{path}.days", 1, 366)
    first = r.choice(entry.get("first_day"), f"{path}.first_day", ("conversation",))
    whom = r.text(entry.get("per"), f"{path}.per")
    if quiet_days is None or first is None or whom is None:
        return None
    return QuietLimit(quiet_days, first, whom)
