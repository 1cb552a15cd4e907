"""Reading the customer list lazily: one entry at a time, repeats skipped.

The list can be any iterable (a million entries, a generator, a database cursor)
followed by the lists given to ``add()``; an entry is read only when the engine
needs one more customer.  A number met before is a repeat: counted, never
dialed again.  An invalid entry stops the reading for good: it raises its
ConfigError now and at every later read, so nobody after it is skipped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import NoReturn

from ..customers import E164, Customer, SeenNumbers, customer_from
from ..errors import ConfigError, DispatchError
from .tally import Tally

__all__ = ["Reader"]


class Reader:
    """The customer list, read lazily.  ``cursor``: how many entries were read;
    ``last_phone``: the number of the last one (a snapshot checks it on restore)."""

    __slots__ = (
        "bad",
        "cancel_ahead",
        "cursor",
        "exhausted",
        "last_phone",
        "needs_customer",
        "seen",
        "source",
        "sources",
        "tally",
    )

    def __init__(self, source: Iterable[object], needs_customer: bool, tally: Tally) -> None:
        self.source: Iterator[tuple[int, object]] = enumerate(source)
        self.sources: list[Iterable[object]] = []  # added with add(), not yet chained
        #: Whether a Customer value is needed (recipient hours, limits), or a number is enough.
        self.needs_customer = needs_customer
        self.tally = tally
        self.cursor = 0
        self.last_phone: str | None = None
        self.exhausted = False
        self.bad: ConfigError | None = None
        self.seen = SeenNumbers()
        #: Customers cancelled before they were read: index -> reason.
        self.cancel_ahead: dict[int, str] = {}

    def add(self, source: Iterable[object]) -> None:
        """Append ``source`` to the list."""
        self.sources.append(source)
        self.exhausted = False

    def next_entry(self) -> tuple[int, str, Customer | None] | None:
        """The next entry with a number not met before: ``(index, phone,
        customer)`` (the Customer only when needed); None when the list ends.
        Repeats are counted in the tally as they are passed."""
        if self.bad is not None:
            raise self.bad
        while True:
            found = next(self.source, None)
            if found is None:
                if not self.sources:
                    self.exhausted = True
                    return None
                self.source = enumerate(self.sources.pop(0), self.cursor)
                continue
            index, item = found
            self.cursor = index + 1
            customer: Customer | None = None
            if type(item) is str and not self.needs_customer and E164.fullmatch(item):
                phone = item  # the common case: no Customer value needed
            else:
                try:
                    customer = customer_from(item, f"customers.{index}")
                except ConfigError as error:
                    self.stop(error)
                phone = customer.phone
            self.last_phone = phone
            if not self.seen.add(phone):
                self.tally.repeats += 1
                if self.cancel_ahead:
                    self.cancel_ahead.pop(index, None)  # a repeat: cancel the first entry
                continue
            if self.needs_customer and customer is None:
                customer = Customer(phone)
            return index, phone, customer

    def stop(self, error: ConfigError) -> NoReturn:
        """An entry is invalid (its number, or its zones found later): the
        reading stops here for good, and ``error`` is raised now and again at
        every later read."""
        self.bad = error
        raise error

    def skip(self, cursor: int, last_phone: object) -> None:
        """Skip the ``cursor`` entries read before a snapshot (at C speed, not
        validated again), checking that the last of them has the same number."""
        source = self.source
        next(islice(source, cursor - 1, cursor - 1), None)
        last = next(source, None)
        if last is None:
            raise DispatchError(
                f"the snapshot had read {cursor} customers; the list given has fewer"
            )
        phone = customer_from(last[1], f"customers.{cursor - 1}").phone
        if phone != last_phone:
            raise DispatchError(
                f"customer {cursor - 1} is {phone} in the list given, but was {last_phone} "
                "when the snapshot was taken: not the same list"
            )
        self.cursor = cursor
        self.last_phone = phone
