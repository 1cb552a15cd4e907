"""Calling rules by jurisdiction: which rules of a pack apply to a customer, and
what they become (docs/compliance.md, section 5).

A campaign with ``callingRules: ["US"]`` and a ``callPurpose`` selects the pack's
rules whose ``applies_to`` is that purpose.  For one customer:

* **where it is**: ``properties.state`` when given (a USPS code), and the state of
  its number's area code (the ``phonenumbers`` package's offline geocoder); both
  when both are known, so that where they disagree both states' rules apply (the
  stricter result).  A number outside the United States and its territories, with
  no ``properties.state``, is under no rule of the US pack, federal ones included;
* **which rules**: the federal rules (for a customer in the US) and each of its
  states' rules, as *scopes* (``("federal", "FL")``);
* **what they become**: an ``hours`` or ``days`` rule is a :class:`Cut`, a calendar
  on one clock (each of the customer's zones for a ``called-party`` rule, else the
  rule's own zone) in force from the first instant of the rule's effective date on
  that clock; a ``calls-per-period`` rule is a :class:`~callslots.limits.ContactLimit`
  and a ``quiet-after-conversation`` rule a :class:`~callslots.limits.QuietRule`,
  each named by the rule's label.

This module knows nothing of a campaign's other settings: the caller passes what it
needs (the selected rules, the customer's zones, the years to resolve holidays for).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .customers import PHONE_INSTALL, Customer, MissingPhoneNumbers
from .dates import HOLIDAYS_INSTALL, Holidays
from .errors import ConfigError, Problem
from .limits import MICROS, ContactLimit, QuietRule
from .rulepack import (
    APPLIES_TO,
    CALLED_PARTY,
    TECHNOLOGIES,
    US_STATES,
    CallsLimit,
    DaysLimit,
    HoursLimit,
    QuietLimit,
    Rule,
    RulePack,
    load_pack,
)
from .tz import DAY, MAX_UTC, MIN_UTC, Zone, load_zone
from .windows import FIRST_DAY, LAST_DAY, Calendar, Hours, day_date, day_number

__all__ = [
    "CALL_TECHNOLOGIES",
    "DEFAULT_PURPOSE",
    "DEFAULT_TECHNOLOGY",
    "NEVER",
    "PURPOSES",
    "ZIP_KEYS",
    "Cut",
    "MissingHolidays",
    "MissingNumberStates",
    "MissingZipCodes",
    "contact_limits",
    "cuts",
    "given_zip",
    "number_place",
    "pack",
    "pack_labels",
    "rule_span",
    "rule_text",
    "scopes_of",
    "selected_rules",
    "signals_of",
    "state_of_description",
]

#: The kinds of call a rule may be about; ``callPurpose`` is one of them.
PURPOSES = APPLIES_TO
DEFAULT_PURPOSE = "telephone-solicitation"
#: The regions ``phonenumbers`` gives for numbers of the US and its inhabited
#: territories: a number of any other region (Canada's +1 included) is not in the US.
US_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP"})
WHOLE_DAY = Hours(0, DAY)
#: A cut's ``until`` when its rule has no end: after every second of the time line.
NEVER = MAX_UTC + 1

#: The geocoder's English names of places, by USPS code (it also writes
#: "City, XX", read from the suffix).
_NAMES = {
    "Alabama": "AL",
    "Alaska": "AK",
    "Arizona": "AZ",
    "Arkansas": "AR",
    "California": "CA",
    "Colorado": "CO",
    "Connecticut": "CT",
    "Delaware": "DE",
    "Florida": "FL",
    "Georgia": "GA",
    "Hawaii": "HI",
    "Idaho": "ID",
    "Illinois": "IL",
    "Indiana": "IN",
    "Iowa": "IA",
    "Kansas": "KS",
    "Kentucky": "KY",
    "Louisiana": "LA",
    "Maine": "ME",
    "Maryland": "MD",
    "Massachusetts": "MA",
    "Michigan": "MI",
    "Minnesota": "MN",
    "Mississippi": "MS",
    "Missouri": "MO",
    "Montana": "MT",
    "Nebraska": "NE",
    "Nevada": "NV",
    "New Hampshire": "NH",
    "New Jersey": "NJ",
    "New Mexico": "NM",
    "New York": "NY",
    "North Carolina": "NC",
    "North Dakota": "ND",
    "Ohio": "OH",
    "Oklahoma": "OK",
    "Oregon": "OR",
    "Pennsylvania": "PA",
    "Rhode Island": "RI",
    "South Carolina": "SC",
    "South Dakota": "SD",
    "Tennessee": "TN",
    "Texas": "TX",
    "Utah": "UT",
    "Vermont": "VT",
    "Virginia": "VA",
    "Washington": "WA",
    "Washington State": "WA",
    "West Virginia": "WV",
    "Wisconsin": "WI",
    "Wyoming": "WY",
    "Washington D.C.": "DC",
    "Washington, D.C.": "DC",
    "District of Columbia": "DC",
    "Puerto Rico": "PR",
    "Guam": "GU",
    "U.S. Virgin Islands": "VI",
    "American Samoa": "AS",
    "Northern Mariana Islands": "MP",
}


class MissingNumberStates(MissingPhoneNumbers):
    """A customer's state must come from its number, and ``phonenumbers`` is missing."""


class MissingZipCodes(ConfigError):
    """A customer has a ZIP code property, and the ``zipcodes`` package is missing."""


#: The customer properties read as a US ZIP code, in this order (the first given).
ZIP_KEYS = ("postalCode", "zip")
ZIP_INSTALL = "pip install 'callslots[zip]'"
_ZIP = re.compile(r"(\d{5})(?:-\d{4})?", re.ASCII)


@lru_cache(maxsize=1)
def _zip_index() -> dict[str, str]:
    """Every ZIP code the offline ``zipcodes`` package knows, by its five digits, to
    its USPS state code (read once: about 1.5 s).  ImportError without it."""
    import zipcodes  # the optional extra, imported only when a ZIP code is read

    return {str(z["zip_code"]): str(z["state"]) for z in zipcodes.list_all()}


def given_zip(customer: Customer, path: str) -> tuple[str, str, str | None] | None:
    """The customer's ZIP code property as ``(key, five digits, state)`` (the state
    None for a military or freely associated code, such as ``AE`` or ``PW``), None
    when it has none.  A ConfigError naming ``path.properties.<key>`` for a value
    that is not a ZIP code (a string of five digits, or ZIP+4) or that the data does
    not know; :class:`MissingZipCodes` without the ``zipcodes`` package."""
    for key in ZIP_KEYS:
        value = customer.properties.get(key)
        if value is None:
            continue
        where = f"{path}.properties.{key}"
        m = _ZIP.fullmatch(value.strip()) if isinstance(value, str) else None
        if m is None:
            shown = repr(value) if isinstance(value, str) else type(value).__name__
            raise ConfigError(
                [
                    Problem(
                        where,
                        f"{shown} is not a US ZIP code: write its five digits as a string, "
                        "such as '02903' (or ZIP+4, '02903-1234')",
                    )
                ]
            )
        try:
            index = _zip_index()
        except ImportError:
            raise MissingZipCodes(
                [
                    Problem(
                        path,
                        f"callingRules reads properties.{key} as a US ZIP code: install the "
                        f"optional zipcodes package ({ZIP_INSTALL}), or remove the property",
                    )
                ]
            ) from None
        state = index.get(m[1])
        if state is None:
            raise ConfigError(
                [Problem(where, f"{value!r} is not a ZIP code the zipcodes package knows")]
            )
        return key, m[1], state if state in US_STATES else None
    return None


def signals_of(customer: Customer, path: str) -> tuple[tuple[str, str], ...]:
    """Each state the customer is placed in, with what placed it: ``("FL", "the
    number's area code (+1 305)")``, ``("RI", "properties.state")``, ``("UT",
    "properties.postalCode 84101")``, in that order (for explanations)."""
    found: list[tuple[str, str]] = []
    try:
        _, by_number = number_place(customer.phone)
    except ImportError:
        by_number = None
    if by_number is not None:
        code = customer.phone[2:5] if customer.phone.startswith("+1") else customer.phone
        found.append((by_number, f"the number's area code (+1 {code})"))
    state = given_state(customer, path)
    if state is not None:
        found.append((state, "properties.state"))
    zipped = given_zip(customer, path)
    if zipped is not None and zipped[2] is not None:
        found.append((zipped[2], f"properties.{zipped[0]} {zipped[1]}"))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Cut:
    """A calendar that cuts a customer's callable set: from UTC second ``since`` to
    before ``until``, calls only inside ``calendar`` (on the clock of zone ``zone``);
    outside that stretch this cut allows everything.  ``rule`` names where it comes
    from for explanations (``"US-FL-hours [US pack version 2; in force since
    2021-07-01]: Fla. Stat. 501.616(6)(a): 08:00-20:00 ..."``), None for
    ``recipientHours``; ``holidays`` are the named dates of a ``days`` rule."""

    zone: str
    calendar: Calendar
    since: int = MIN_UTC
    rule: str | None = None
    holidays: Holidays | None = None
    #: The first UTC second at which the cut no longer applies (its rule ended);
    #: :data:`NEVER` (past the time line) for a rule with no end.
    until: int = NEVER


def pack(name: str) -> RulePack:
    """The pack ``name`` (``load_pack``, looked up here so that a test may replace
    it); ValueError for a name with no pack."""
    return load_pack(name)


#: How a campaign's calls may be placed (``callTechnology``): a live agent, or one of
#: the technologies a rule may be about.
CALL_TECHNOLOGIES = ("live-agent", *TECHNOLOGIES)
#: The default: every way, so that every rule about a technology applies (callslots
#: cannot see how calls are placed; the strictest reading until the campaign says).
DEFAULT_TECHNOLOGY = CALL_TECHNOLOGIES


def selected_rules(
    names: Iterable[str], purpose: str, technology: Iterable[str] = DEFAULT_TECHNOLOGY
) -> tuple[Rule, ...]:
    """The rules of the packs ``names`` about calls of kind ``purpose`` placed with
    one of ``technology``, in order: a rule with no ``technology`` is about every
    call; one with some applies when the campaign uses one of them."""
    used = set(technology)
    return tuple(
        rule
        for name in names
        for rule in pack(name).rules
        if rule.applies_to == purpose and (not rule.technology or used & set(rule.technology))
    )


def state_of_description(description: str) -> str | None:
    """The USPS code of the geocoder's description of a US number ("Florida",
    "Miami, FL", "Washington State"), or None when it names no state."""
    text = description.strip()
    if text in _NAMES:
        return _NAMES[text]
    head, comma, tail = text.rpartition(", ")
    if comma and tail in US_STATES:
        return tail
    if comma and head and tail in _NAMES:  # "Something, Florida"
        return _NAMES[tail]
    return None


def number_place(phone: str) -> tuple[bool, str | None]:
    """Whether ``phone`` is a number of the US or its territories, and the state of
    its area code when the geocoder names one.  ImportError without phonenumbers.

    A North American number (``+1`` and ten digits) is placed by its area code
    alone, as :func:`area_code_place` says (the issue's rule: the state of a US area
    code), so that a million customers cost a few hundred lookups; any other number
    is read whole."""
    if len(phone) == 12 and phone.startswith("+1"):
        return area_code_place(phone[2:5])
    return _whole_number_place(phone)


@lru_cache(maxsize=1024)
def area_code_place(npa: str) -> tuple[bool, str | None]:
    """The place of North American area code ``npa``: that of its first number, in
    exchange order from ``NPA-200-0000``, that phonenumbers finds valid (the area
    code's, whichever number is asked about); not in the US when none is."""
    import phonenumbers  # the optional extra, imported only when needed

    for exchange in range(200, 1000):
        number = f"+1{npa}{exchange}0000"
        try:
            parsed = phonenumbers.parse(number)
        except phonenumbers.NumberParseException:  # pragma: no cover - a well-formed number
            return False, None
        if phonenumbers.is_valid_number(parsed):
            return _whole_number_place(number)
    return False, None


@lru_cache(maxsize=65536)
def _whole_number_place(phone: str) -> tuple[bool, str | None]:
    import phonenumbers  # the optional extra, imported only when needed
    from phonenumbers import geocoder

    try:
        parsed = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return False, None
    region = phonenumbers.region_code_for_number(parsed)
    if region not in US_REGIONS:
        return False, None
    if region != "US":  # a territory: the region is its USPS code
        return True, region
    return True, state_of_description(geocoder.description_for_number(parsed, "en"))


def given_state(customer: Customer, path: str) -> str | None:
    """``properties.state`` as a USPS code (any case), None when not given; a
    ConfigError naming ``path.properties.state`` for any other value."""
    value = customer.properties.get("state")
    if value is None:
        return None
    code = value.strip().upper() if isinstance(value, str) else None
    if code not in US_STATES:
        shown = repr(value) if isinstance(value, str) else type(value).__name__
        raise ConfigError(
            [
                Problem(
                    f"{path}.properties.state",
                    f"{shown} is not a US state: give its two-letter USPS code, such as "
                    "'FL' (the 50 states, DC, PR, GU, VI, AS, MP)",
                )
            ]
        )
    return code


def scopes_of(customer: Customer, rules: tuple[Rule, ...], path: str) -> tuple[str, ...]:
    """The scopes of ``rules`` that apply to ``customer``: ``"federal"`` for a
    customer in the US, and each of its states (``properties.state``, its ZIP code's
    (``properties.postalCode`` or ``zip``) and its number's), keeping only those that
    have a rule (so that customers under the same rules share a view).  A customer
    with ``properties.state`` or a ZIP code is in the US whatever its number.
    :class:`MissingNumberStates` when the number must be read and ``phonenumbers``
    is missing, :class:`MissingZipCodes` when a ZIP code must be read and
    ``zipcodes`` is missing; a ConfigError for a bad state or ZIP code."""
    state = given_state(customer, path)
    zipped = given_zip(customer, path)
    by_zip = None if zipped is None else zipped[2]
    try:
        in_us, by_number = number_place(customer.phone)
    except ImportError:
        if state is None and zipped is None:
            raise MissingNumberStates(
                [
                    Problem(
                        path,
                        "callingRules needs this customer's state: give properties.state, or "
                        f"install the optional phonenumbers package ({PHONE_INSTALL}) to find "
                        "it from the number",
                    )
                ]
            ) from None
        in_us, by_number = True, None
    found = {s for s in (state, by_number, by_zip) if s is not None}
    if not in_us and not found and zipped is None:
        return ()
    wanted = {"federal", *found}
    had = {rule.scope for rule in rules}
    return tuple(sorted(wanted & had, key=lambda s: (s != "federal", s)))


def needs_zones(rules: tuple[Rule, ...], scopes: tuple[str, ...]) -> bool:
    """Whether a rule of ``scopes`` is read on the customer's clock."""
    return any(rule.clock == CALLED_PARTY for rule in rules if rule.scope in scopes)


def effective_instant(zone: Zone, day: int) -> int:
    """The first UTC second whose local date on ``zone`` is ``day`` or later: the
    rule's first instant (local midnight, or the first instant of that date when
    the clock skips midnight)."""
    u = max(MIN_UTC, day * DAY - zone.max_offset)
    while u < MAX_UTC:
        _, end, offset = zone.segment_at(u)
        if (u + offset) // DAY >= day:
            return u
        first = day * DAY - offset  # local midnight of ``day`` under this offset
        if first < end:
            return max(u, first)
        u = end
    return MAX_UTC


@lru_cache(maxsize=256)
def holiday_dates(
    subdivision: str | None, first_year: int, last_year: int
) -> tuple[tuple[date, str], ...]:
    """The US holidays (of ``subdivision``, or the federal ones) of the years the
    ``holidays`` package covers within ``first_year..last_year``, observed days
    included.  ImportError without the package."""
    import holidays  # the optional extra: imported only when a rule asks for it

    probe = holidays.country_holidays("US", subdiv=subdivision)
    years = range(
        max(first_year, int(getattr(probe, "start_year", 1))),
        min(last_year, int(getattr(probe, "end_year", 2100))) + 1,
    )
    if not years:
        return ()
    found = holidays.country_holidays("US", subdiv=subdivision, years=years)
    return tuple(sorted((day, str(name)) for day, name in found.items()))


def _days_calendar(
    rule: Rule, values: DaysLimit, zone: Zone, scopes: tuple[str, ...], years: tuple[int, int]
) -> tuple[Calendar, Holidays]:
    """A whole-day calendar without the holidays ``values`` names on its weekdays."""
    states = [rule.scope] if rule.scope != "federal" else [s for s in scopes if s != "federal"]
    named: dict[date, str] = {}
    first_year = years[0] if rule.effective is None else max(years[0], rule.effective.year)
    last_year = years[1] if rule.ends is None else min(years[1], rule.ends.year)
    for kind in values.holidays:
        subdivisions: list[str | None] = list(states) if kind == "state" else [None]
        for subdivision in subdivisions:
            for day, name in holiday_dates(subdivision, first_year, last_year):
                if day.weekday() in values.weekdays:
                    named.setdefault(day, name)
    dates = tuple(sorted(named.items()))
    banned = tuple((day_number(d), day_number(d), None) for d, _ in dates)
    calendar = Calendar.build(zone, (WHOLE_DAY,) * 7, None, None, None, banned)
    return calendar, Holidays("US", None if rule.scope == "federal" else rule.scope, dates)


def rule_text(rule: Rule, packs: Mapping[str, str] | None = None) -> str:
    """How explanations name ``rule``: ``US-FL-hours [US pack version 2; in force
    since 2021-07-01]: Fla. Stat. 501.616(6)(a): 08:00-20:00 ...``; ``packs`` maps
    a rule id to its pack's label (``pack_labels``)."""
    where = f"{packs[rule.id]}; " if packs and rule.id in packs else ""
    return f"{rule.id} [{where}{rule.in_force}]: {rule.label}"


def pack_labels(names: Iterable[str]) -> dict[str, str]:
    """Each rule id of the packs ``names`` mapped to its pack's label."""
    return {rule.id: p.label for p in (pack(name) for name in names) for rule in p.rules}


def rule_span(rule: Rule, zone: Zone) -> tuple[int, int]:
    """The UTC seconds ``[since, until)`` in which ``rule`` is in force on ``zone``'s
    clock: from the first instant of its ``effective`` date (the time line's start
    when its start is not known: in force on every earlier date) to the first
    instant of its ``ends`` date (:data:`NEVER` when it has no end)."""
    start, end = rule.effective, rule.ends
    since = MIN_UTC if start is None else effective_instant(zone, day_number(start))
    until = NEVER if end is None else effective_instant(zone, day_number(end))
    return since, until


def cuts(
    rules: tuple[Rule, ...],
    scopes: tuple[str, ...],
    zones: tuple[str, ...],
    years: tuple[int, int],
    packs: Mapping[str, str] | None = None,
) -> tuple[Cut, ...]:
    """The cuts of the ``hours`` and ``days`` rules of ``scopes``: one per rule and
    clock (each of ``zones`` for a ``called-party`` rule), in force over
    :func:`rule_span`.  ``years``: the first and last year whose holidays matter;
    ``packs``: the pack label of each rule id, for explanations.  ImportError when a
    ``days`` rule needs the ``holidays`` package and it is missing (the campaign
    checks it when read)."""
    found: list[Cut] = []
    for rule in rules:
        if rule.scope not in scopes or rule.limit not in ("hours", "days"):
            continue
        clocks = zones if rule.clock == CALLED_PARTY else (rule.clock,)
        for key in clocks:
            zone = load_zone(key)
            since, until = rule_span(rule, zone)
            text = rule_text(rule, packs)
            values = rule.values
            if isinstance(values, HoursLimit):
                calendar = Calendar.build(zone, values.hours, None, None, None)
                found.append(Cut(key, calendar, since, text, until=until))
            elif isinstance(values, DaysLimit):
                calendar, named = _days_calendar(rule, values, zone, scopes, years)
                found.append(Cut(key, calendar, since, text, named, until))
    return tuple(found)


def contact_limits(
    rules: tuple[Rule, ...], scopes: tuple[str, ...], zones: tuple[str, ...]
) -> tuple[tuple[ContactLimit, ...], tuple[QuietRule, ...]]:
    """The ``calls-per-period`` rules of ``scopes`` as contact limits and the
    ``quiet-after-conversation`` rules as quiet rules, each named by its label and
    in force from the rule's effective instant: the earliest on the customer's
    clocks ``zones`` (for a ``called-party`` rule; the strictest reading), else on
    the rule's own clock.  A person is a customer (``per: "customer"``).
    A rolling span of hours that is a whole number of days is a span of days."""
    limits: list[ContactLimit] = []
    quiet: list[QuietRule] = []
    for rule in rules:
        if rule.scope not in scopes:
            continue
        clocks = zones if rule.clock == CALLED_PARTY else (rule.clock,)
        # The loader refuses an end on these rules: a contact limit has none.
        since = min(rule_span(rule, load_zone(key))[0] for key in clocks) * MICROS
        values = rule.values
        if isinstance(values, CallsLimit):
            if values.span_days is not None:
                days, hours = values.span_days, None
            else:
                assert values.span_hours is not None
                days, rest = divmod(values.span_hours, 24)
                # A whole number of days stays a span of days, as the rule was read before.
                hours = values.span_hours if rest else None
                days = 0 if rest else days
            limit = ContactLimit(
                max_calls=values.max_calls,
                days=days,
                per="customer",
                count=values.count,
                window=values.window,
                name=rule.label,
                since=since,
                hours=hours,
            )
            if limit not in limits:
                limits.append(limit)
        elif isinstance(values, QuietLimit):
            quiet_rule = QuietRule(days=values.days, name=rule.label, since=since)
            if quiet_rule not in quiet:
                quiet.append(quiet_rule)
    return tuple(limits), tuple(quiet)


def holiday_years(first: date | None, last: date | None) -> tuple[int, int]:
    """The years whose holidays a campaign from ``first`` to ``last`` (None: no
    bound) can reach on any clock: a customer's date may be a day before the
    campaign's first or after its last."""
    lo = day_date(max(FIRST_DAY, day_number(first) - 1)).year if first else 1
    hi = day_date(min(LAST_DAY, day_number(last) + 1)).year if last else 9999
    return lo, hi


def needs_holidays(rules: tuple[Rule, ...], scopes: Iterable[str] | None = None) -> Rule | None:
    """The first ``days`` rule of ``rules`` (of ``scopes``, when given): it needs the
    ``holidays`` package."""
    wanted = None if scopes is None else set(scopes)
    return next(
        (
            rule
            for rule in rules
            if isinstance(rule.values, DaysLimit) and (wanted is None or rule.scope in wanted)
        ),
        None,
    )


def holidays_installed() -> bool:
    """Whether the optional ``holidays`` package can be imported (asked again each
    time, so that installing it, or a test hiding it, is seen at once)."""
    try:
        import holidays  # noqa: F401
    except ImportError:
        return False
    return True


class MissingHolidays(ConfigError):
    """A customer's rules include a holiday rule, and ``holidays`` is missing."""


HOLIDAYS_NEEDED = (
    "needs the optional holidays package for the holiday rule {rule} ({citation}) that "
    "applies to this customer: " + HOLIDAYS_INSTALL
)


def missing_holidays(rules: tuple[Rule, ...], scopes: tuple[str, ...], path: str) -> None:
    """:class:`MissingHolidays` naming ``path`` when a ``days`` rule of ``scopes``
    applies and the ``holidays`` package is missing (docs/compliance.md, section 5:
    the package is needed only for a customer under such a rule)."""
    rule = needs_holidays(rules, scopes)
    if rule is not None and not holidays_installed():
        message = HOLIDAYS_NEEDED.format(rule=rule.id, citation=rule.citation)
        raise MissingHolidays([Problem(path, f"callingRules {message}")])
