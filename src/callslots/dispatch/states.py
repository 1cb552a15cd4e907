"""A customer's state in a run, and the one table of what each event does to it.

Every customer read and not yet done has one :class:`Record`.  Its ``state`` is
one of :class:`State`, and it changes only through :func:`advance`, which looks
the pair ``(state, event)`` up in :data:`TRANSITIONS`: a pair that is not there is
a mistake of the caller (an event that cannot happen in that state) and raises
the one :class:`~callslots.errors.DispatchError`, before anything changed.  The
state diagram in docs/dispatch.md is this table (``tests/test_dispatch_states.py``
checks that the two agree).

A call that has left its customer's record (ended, expired, not started) keeps a
one-byte final state by call id, so that a webhook replayed at any time later is
still recognised: :data:`LATE` says what each event does then.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from ..errors import DispatchError

__all__ = [
    "INDEX_BITS",
    "INDEX_MASK",
    "LATE",
    "TRANSITIONS",
    "Call",
    "Closed",
    "Event",
    "Kind",
    "Late",
    "Record",
    "State",
    "advance",
    "in_firsts",
]


class State(Enum):
    """Where a customer's current attempt stands."""

    #: Hashed by identity, in C: a lookup in TRANSITIONS takes 0.46 us instead of
    #: 1.03 us with Enum's own hash of the name (timeit, Python 3.11), twice a call.
    __hash__ = object.__hash__

    #: Waiting for its turn; :class:`Kind` says how it is due.
    PENDING = "pending"
    #: Handed out by ``poll`` and not confirmed; it holds a line.
    DIALING = "dialing"
    #: Confirmed by ``started``; it holds a line until ``ended`` or its expiry.
    IN_PROGRESS = "in progress"
    #: Dialing when the snapshot was taken, seen by the restored engine: it may
    #: have rung.  Never dialed again, never expires, until the caller says.
    IN_DOUBT = "in doubt"
    #: Nothing left: counted once in the totals, and its record dropped.
    DONE = "done"


class Kind(Enum):
    """How a pending attempt is due, and so where it waits in its group."""

    #: A first attempt never dialed: due at the start, taken in customer order.
    FIRST = "first"
    #: Due at a time: a retry (when the retry rule says, or when its limits free),
    #: or a first attempt its limits hold back or that was not started.
    RETRY = "retry"
    #: A callback the person asked for: due at the asked instant, ahead of the rest.
    CALLBACK = "callback"


class Event(Enum):
    """What can happen to a customer."""

    #: Hashed by identity, in C: a lookup in TRANSITIONS takes 0.46 us instead of
    #: 1.03 us with Enum's own hash of the name (timeit, Python 3.11), twice a call.
    __hash__ = object.__hash__

    #: ``poll`` hands its attempt out.
    DIAL = "dial"
    #: ``started``: the call was placed.
    STARTED = "started"
    #: ``not_started``: the dial never happened; the attempt is not used up.
    NOT_STARTED = "not_started"
    #: ``ended`` (or the expiry), and another attempt waits: a retry or a callback.
    ENDED = "ended, another attempt waits"
    #: ``ended`` (or the expiry), and nothing is left to try (or it was cancelled).
    ENDED_LAST = "ended, nothing left"
    #: ``cancel``: never dialed again.  A call on the line ends normally first.
    CANCEL = "cancel"
    #: ``callback``: the next attempt is due at the asked instant.
    CALLBACK = "callback"
    #: No callable time (or no time its limits allow) is left for the attempt.
    NO_TIME_LEFT = "no time left"
    #: ``restore`` of a snapshot taken while the call was dialing.
    RESTORED = "restored"


_ON_THE_LINE = (State.DIALING, State.IN_PROGRESS, State.IN_DOUBT)

#: ``(state, event) -> state``; every pair not here raises DispatchError.
TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.PENDING, Event.DIAL): State.DIALING,
    (State.PENDING, Event.CALLBACK): State.PENDING,
    (State.PENDING, Event.CANCEL): State.DONE,
    (State.PENDING, Event.NO_TIME_LEFT): State.DONE,
    (State.DIALING, Event.STARTED): State.IN_PROGRESS,
    (State.DIALING, Event.NOT_STARTED): State.PENDING,
    (State.DIALING, Event.RESTORED): State.IN_DOUBT,
    (State.IN_PROGRESS, Event.STARTED): State.IN_PROGRESS,  # the same instant again
    (State.IN_DOUBT, Event.STARTED): State.IN_PROGRESS,
    (State.IN_DOUBT, Event.NOT_STARTED): State.PENDING,
    **{(s, Event.ENDED): State.PENDING for s in _ON_THE_LINE},
    **{(s, Event.ENDED_LAST): State.DONE for s in _ON_THE_LINE},
    # Asked for during a call: they take effect when it ends.
    **{(s, Event.CANCEL): s for s in _ON_THE_LINE},
    **{(s, Event.CALLBACK): s for s in _ON_THE_LINE},
}

_WHY = {
    Event.NOT_STARTED: "was reported started; report how it ended instead",
}


#: A waiting attempt's key, one int: ``due << INDEX_BITS | index``.  Ints order
#: as the pairs ``(due, index)`` do (rule 4: by due time, then customer order), for
#: a negative ``due`` too, and one int of 48 bytes stands for a tuple and two ints
#: (128 bytes): about 50 MB less with the 650,000 retries waiting at the peak of a
#: million-customer run (benchmarks/README.md, "The engine, old and new").  No list
#: is longer than 2**48.
INDEX_BITS = 48
INDEX_MASK = (1 << INDEX_BITS) - 1


class Call:
    """A call on the line, of customer ``record``: its id ``seq``, its ``slot``
    (and ``at``, the same instant as a datetime), ``started`` (None until
    confirmed), its expiry ``deadline``, and what was asked during it:
    ``callback`` (the due second asked for) and ``cancel`` (the reason).  It
    exists only while the call is on the line: a waiting customer holds none
    (56 bytes less for each of the 650,000 waiting at the peak of a
    million-customer run, benchmarks/README.md, "The engine, old and new")."""

    __slots__ = ("at", "callback", "cancel", "deadline", "record", "seq", "slot", "started")

    def __init__(self, record: Record, seq: int, slot: int, at: datetime, deadline: int) -> None:
        self.record = record
        self.seq = seq
        self.slot = slot
        self.at = at
        self.started: int | None = None
        self.deadline = deadline
        self.callback: int | None = None
        self.cancel: str | None = None


class Record:
    """A customer read and not done: its attempt, its state, and its call.

    ``attempt`` is the number of the attempt pending or on the line; ``due`` the
    pending attempt's due second (``MIN_UTC`` for a first attempt: the start),
    kept with ``index`` (the customer's position in the list) in one int,
    ``entry``, which is also the attempt's key in its group's heaps; ``group`` the
    queues it waits in (its callable set).  ``call``: the :class:`Call` on the
    line, or None.  ``reached``: a call of it completed before the callback now
    pending or on the line.
    """

    __slots__ = ("attempt", "call", "entry", "group", "kind", "phone", "reached", "state")

    def __init__(self, index: int, phone: str, group: Any, due: int) -> None:
        self.entry = due << INDEX_BITS | index
        self.phone = phone
        #: The :class:`~callslots.dispatch.groups.Group` it waits in (its callable set).
        self.group: Any = group
        self.state = State.PENDING
        self.kind = Kind.FIRST
        self.attempt = 1
        self.call: Call | None = None
        self.reached = False

    @property
    def index(self) -> int:
        return self.entry & INDEX_MASK

    @property
    def due(self) -> int:
        return self.entry >> INDEX_BITS

    @due.setter
    def due(self, due: int) -> None:
        self.entry = due << INDEX_BITS | self.entry & INDEX_MASK

    def __repr__(self) -> str:
        return (
            f"Record({self.index}, {self.phone}, {self.state.value}, {self.kind.value}, "
            f"attempt={self.attempt}, due={self.due})"
        )


def in_firsts(record: Record) -> bool:
    """Whether ``record`` waits among its group's first attempts (in customer
    order; any other pending attempt waits in a heap by its due time)."""
    return record.kind is Kind.FIRST and record.state is State.PENDING


def advance(record: Record, event: Event, subject: str = "") -> State:
    """Apply ``event`` to ``record``'s state by :data:`TRANSITIONS`; DispatchError
    (nothing changed) when the table has no such pair, naming ``subject`` (by
    default the customer)."""
    try:
        state = TRANSITIONS[record.state, event]
    except KeyError:
        why = _WHY.get(event, f"is {record.state.value}: it cannot take {event.value!r}")
        raise DispatchError(f"{subject or f'customer {record.index}'} {why}") from None
    record.state = state
    return state


class Closed(Enum):
    """The final state of a call that has left its customer's record."""

    ENDED = "ended"
    EXPIRED = "expired"
    NOT_STARTED = "not started"


class Late(Enum):
    """What an event about a closed call does."""

    #: A duplicate (or a late confirmation): changes nothing.
    IGNORED = "ignored"
    #: The same event with the same outcome is ignored; another one is an error.
    SAME_OR_ERROR = "the same is ignored, another is an error"
    #: A conflict with what was reported: an error.
    ERROR = "error"


#: ``(final state, event) -> what it does``, for an event naming a closed call.
LATE: dict[tuple[Closed, Event], Late] = {
    (Closed.ENDED, Event.STARTED): Late.IGNORED,
    (Closed.ENDED, Event.ENDED): Late.SAME_OR_ERROR,
    (Closed.ENDED, Event.NOT_STARTED): Late.ERROR,
    (Closed.EXPIRED, Event.STARTED): Late.IGNORED,
    (Closed.EXPIRED, Event.ENDED): Late.IGNORED,  # the expiry stands
    (Closed.EXPIRED, Event.NOT_STARTED): Late.ERROR,
    (Closed.NOT_STARTED, Event.STARTED): Late.IGNORED,
    (Closed.NOT_STARTED, Event.ENDED): Late.ERROR,
    (Closed.NOT_STARTED, Event.NOT_STARTED): Late.IGNORED,
}
