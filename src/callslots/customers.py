"""Customers: who is called, validated one at a time so that a stream of millions
never has to be in memory.

A customer is a phone number in E.164 form (``+`` then 2 to 15 digits, the first not
0) with free ``properties``.  A number given twice is dialed once: the repeats are
reported, never dropped silently.
"""

from __future__ import annotations

import re
import sys
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from .errors import ConfigError, Problem
from .outcomes import Outcome
from .tz import zone_names

__all__ = [
    "PHONE_INSTALL",
    "CallRecord",
    "Customer",
    "MissingPhoneNumbers",
    "read_customers",
    "read_history",
    "zones_of",
]

PHONE_INSTALL = "pip install 'callslots[phone]'"

E164 = re.compile(r"\+[1-9][0-9]{1,14}", re.ASCII)


_NO_PROPERTIES: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Customer:
    """One person to call: ``phone`` in E.164 form and free ``properties``."""

    phone: str
    properties: Mapping[str, Any] = field(default_factory=lambda: _NO_PROPERTIES, hash=False)


def phone_problem(value: object) -> str | None:
    """Why ``value`` is not an E.164 number, or None when it is one."""
    if not isinstance(value, str):
        return (
            f"must be a phone number in E.164 form, a string such as '+14155550100', not {value!r}"
        )
    if E164.fullmatch(value):
        return None
    hint = ""
    digits = re.sub(r"[\s().-]", "", value)
    if digits != value and E164.fullmatch(digits):
        hint = f"; without spaces and punctuation: {digits!r}"
    elif value[:1].isdigit():
        hint = "; E.164 starts with + and the country code"
    return f"{value!r} is not an E.164 number ('+', then 2 to 15 digits, the first not 0){hint}"


def customer_from(item: object, path: str) -> Customer:
    """A customer from a phone string, a ``{phoneNumber, properties}`` object or a
    :class:`Customer`; a ConfigError naming ``path`` otherwise."""
    if type(item) is str and E164.fullmatch(item):  # the common case, kept short
        return Customer(item)
    if isinstance(item, Customer):
        phone: object = item.phone
        properties: object = item.properties
        where = path
    elif isinstance(item, Mapping):
        phone, properties = item.get("phoneNumber"), item.get("properties") or {}
        where = f"{path}.phoneNumber"
        if not isinstance(properties, Mapping):
            raise ConfigError([Problem(f"{path}.properties", "must be an object")])
    else:
        phone, properties, where = item, {}, path
    problem = phone_problem(phone)
    if problem is not None:
        raise ConfigError([Problem(where, problem)])
    assert isinstance(phone, str) and isinstance(properties, Mapping)
    if isinstance(item, Customer):
        return item
    return Customer(phone, dict(properties)) if properties else Customer(phone)


class SeenNumbers:
    """The set of phone numbers dialed so far, in 8 to 16 bytes a number.

    An E.164 number without its ``+`` is an integer below 10**15, so the set is an
    open-addressing table of 64-bit integers (0 marks a free slot), indexed by the
    top bits of a Fibonacci hash.  A Python set of strings takes about ten times the
    memory for a million customers.
    """

    __slots__ = ("_count", "_limit", "_shift", "_table")

    def __init__(self) -> None:
        self._table = array("q", bytes(8 * 1024))
        self._shift = 64 - 10
        self._count = 0
        self._limit = 512  # grow past half full: probes stay short

    def add(self, phone: str) -> bool:
        """Add ``phone``; False when it was already there."""
        number = int(phone[1:])
        table = self._table
        i = ((number * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> self._shift
        held = table[i]
        if held:  # linear probing; 0 is never a number (E.164 has no leading 0)
            mask = len(table) - 1
            while held:
                if held == number:
                    return False
                i = (i + 1) & mask
                held = table[i]
        table[i] = number
        self._count += 1
        if self._count > self._limit:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._table
        table = self._table = array("q", bytes(16 * len(old)))
        shift = self._shift = self._shift - 1
        mask = len(table) - 1
        self._limit = len(table) // 2
        for number in old:  # every number is distinct: only a free slot is needed
            if number:
                i = ((number * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF) >> shift
                while table[i]:
                    i = (i + 1) & mask
                table[i] = number

    def __len__(self) -> int:
        return self._count

    def to_bytes(self) -> bytes:
        """The table as bytes (little-endian int64s), for a snapshot."""
        table = array("q", self._table)
        if sys.byteorder != "little":
            table.byteswap()
        return table.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, count: int) -> SeenNumbers:
        """The set of ``count`` numbers that :meth:`to_bytes` wrote."""
        table = array("q")
        table.frombytes(data)
        if sys.byteorder != "little":
            table.byteswap()
        size = len(table)
        if size < 1024 or size & (size - 1):
            raise ValueError("a seen-numbers table has a power-of-two size from 1024")
        seen = cls()
        seen._table = table
        seen._shift = 64 - (size.bit_length() - 1)
        seen._count = count
        seen._limit = size // 2
        return seen


def read_phones(
    source: Iterable[object], path: str = "customers"
) -> Iterator[tuple[int, str, bool]]:
    """:func:`read_customers` without building the Customer values: ``(index,
    phone, first)``, for callers that need only the numbers."""
    seen = SeenNumbers().add
    match = E164.fullmatch
    for index, item in enumerate(source):
        if type(item) is str and match(item):
            phone = item
        else:
            phone = customer_from(item, f"{path}.{index}").phone
        yield index, phone, seen(phone)


def read_customers(
    source: Iterable[object], path: str = "customers"
) -> Iterator[tuple[int, Customer, bool]]:
    """``(index, customer, first)`` for each item of ``source``, lazily.

    ``first`` is False for a number seen before (it must not be dialed again).  An
    invalid item raises :class:`ConfigError` with its path when it is reached.
    """
    seen = SeenNumbers()
    for index, item in enumerate(source):
        customer = customer_from(item, f"{path}.{index}")
        yield index, customer, seen.add(customer.phone)


# -- a customer's time zones (recipientHours) ---------------------------------------


@lru_cache(maxsize=65536)
def zones_by_number(phone: str) -> tuple[str, ...]:
    """The zones ``phonenumbers`` gives for ``phone`` that this tz database knows."""
    import phonenumbers  # the optional extra, imported only when needed
    from phonenumbers import timezone as number_zones

    try:
        parsed = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return ()
    known = zone_names()
    found = number_zones.time_zones_for_number(parsed)
    return tuple(sorted({z for z in found if z in known}))


class MissingPhoneNumbers(ConfigError):
    """A customer's zone must come from its number, and ``phonenumbers`` is missing."""


def zones_of(
    customer: Customer, campaign_zone: str, path: str
) -> tuple[tuple[str, ...], str | None]:
    """The customer's zones, and a note when the campaign's zone stands in.

    ``properties.timezone`` (an IANA name) when given; else the zones of the phone
    number (``phonenumbers``); else the campaign's zone, and the note says so (a
    warning).  A ConfigError names ``path`` for a bad ``timezone`` property, and
    :class:`MissingPhoneNumbers` for a missing ``phonenumbers`` package.
    """
    given = customer.properties.get("timezone")
    if given is not None:
        if not isinstance(given, str) or given not in zone_names():
            shown = repr(given) if isinstance(given, str) else type(given).__name__
            raise ConfigError(
                [Problem(f"{path}.properties.timezone", f"{shown} is not an IANA time zone name")]
            )
        return (given,), None
    try:
        found = zones_by_number(customer.phone)
    except ImportError:
        raise MissingPhoneNumbers(
            [
                Problem(
                    path,
                    "recipientHours needs this customer's time zone: give properties.timezone, "
                    f"or install the optional phonenumbers package ({PHONE_INSTALL}) to find "
                    "it from the number",
                )
            ]
        ) from None
    if not found:
        return (campaign_zone,), (
            f"no time zone is known for {customer.phone}; the campaign's ({campaign_zone}) "
            "is used for its recipient hours"
        )
    return found, None


# -- a history of calls (contact limits) --------------------------------------------


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A call made before or outside the run: to ``phone``, started ``at`` (UTC
    microseconds since the epoch), ended with ``outcome`` (docs/limits.md)."""

    phone: str
    at: int
    outcome: Outcome


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def read_history(records: Iterable[object] | None, path: str = "history") -> list[CallRecord]:
    """Every record of ``records``, each a ``(phone, at, outcome)`` sequence (or a
    :class:`CallRecord`): an E.164 number, an aware datetime, an outcome name.  A
    ConfigError lists every bad record's problems with their paths
    (``history.3.at``)."""
    if records is None:
        return []
    if isinstance(records, (str, bytes, Mapping)):
        raise ConfigError([Problem(path, "must be an iterable of (phone, at, outcome) records")])
    found: list[CallRecord] = []
    problems: list[Problem] = []
    for i, item in enumerate(records):
        where = f"{path}.{i}"
        if isinstance(item, CallRecord):
            found.append(item)
            continue
        if not isinstance(item, Sequence) or isinstance(item, (str, bytes)) or len(item) != 3:
            problems.append(
                Problem(
                    where,
                    "must be a (phone, at, outcome) record, such as "
                    "('+12125550100', datetime(2026, 3, 2, 14, tzinfo=timezone.utc), 'No Answer')",
                )
            )
            continue
        phone, at, outcome = item
        before = len(problems)
        wrong = phone_problem(phone)
        if wrong is not None:
            problems.append(Problem(f"{where}.phone", wrong))
        if not isinstance(at, datetime) or at.utcoffset() is None:
            shown = "a naive datetime" if isinstance(at, datetime) else repr(at)
            problems.append(
                Problem(f"{where}.at", f"must be an aware datetime (with a time zone), not {shown}")
            )
        try:
            parsed = Outcome.parse(outcome)
        except ValueError as e:
            problems.append(Problem(f"{where}.outcome", str(e)))
        if len(problems) > before:
            continue
        assert isinstance(phone, str) and isinstance(at, datetime)
        delta = at - _EPOCH
        micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        found.append(CallRecord(phone, micros, parsed))
    if problems:
        raise ConfigError(problems)
    return found
