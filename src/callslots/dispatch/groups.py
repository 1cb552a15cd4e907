"""The queues: customers waiting, grouped by the callable set they share.

Without ``recipientHours`` or calling rules everyone shares the campaign's set and
there is one group; with them, one group per distinct set: customers whose views
differ (their zones or their rules' scopes) but whose callable sets are the same
share one (``RecipientView.shape``), as New York's and the District's customers do
(DC's rule restates the federal hours).
A group keeps its pending attempts in the order docs/dispatch.md rule 4 takes
them: first attempts in customer order (a deque: they arrive in that order),
retries and callbacks in heaps of their records' entries (``Record.entry``: the
due second and the index in one int).  A cancel or a callback does not search
the heaps: the entry it makes stale stays and is dropped when it comes to the
top (:meth:`Group.clean`), so both take O(log n).  An entry is live while its
record waits in that heap with that same entry; two equal entries of one record
(a retry replaced by a callback that came back to the same due second) stand for
one another, so whichever is taken first is the live one.
"""

from __future__ import annotations

import heapq
from collections import deque

from ..recipients import RecipientView, ViewKey
from ..tz import MAX_UTC, MIN_UTC
from .states import INDEX_BITS, INDEX_MASK, Kind, Record, State, in_firsts

__all__ = ["Group"]


class Group:
    """The pending attempts of the customers who share one callable set, and
    where that set stands.

    ``records`` is the engine's index of every customer read and not done (by
    index; None once done); an entry whose record no longer waits there is
    stale.  ``waiting`` counts the live entries, ``held`` the live first
    attempts in ``firsts``.
    """

    __slots__ = (
        "ahead",
        "callbacks",
        "closes",
        "firsts",
        "gap",
        "held",
        "key",
        "memo",
        "never",
        "opens",
        "records",
        "retries",
        "stale",
        "view",
        "waiting",
    )

    def __init__(
        self, key: ViewKey, view: RecipientView | None, records: list[Record | None]
    ) -> None:
        self.key = key
        self.view = view  # None: the campaign's own set (no recipient hours)
        self.records = records
        self.firsts: deque[Record] = deque()
        self.retries: list[int] = []  # heaps of Record.entry
        self.callbacks: list[int] = []
        self.waiting = 0
        self.held = 0
        #: Stale entries not yet dropped: :meth:`clean` looks only while there are some.
        self.stale = 0
        #: Whether the set has no time at all from the campaign's start.
        self.never = False
        #: The last answer of :meth:`slot_for`-style lookups, ``(u, slot)``: the first
        #: slot ``>= u`` open for the group (None: none); it holds up to ``slot``.
        self.memo: tuple[int, int | None] = (MAX_UTC, None)
        # The set holds nothing in [gap, opens) and everything in [opens, closes).
        self.gap = self.opens = self.closes = MIN_UTC
        #: The same for the due times of retries and callbacks (:meth:`next_callable`),
        #: kept apart: they lie hours ahead of the slots polled.
        self.ahead = (MIN_UTC, MIN_UTC, MIN_UTC)

    # -- what waits -------------------------------------------------------------------

    def push(self, record: Record) -> bool:
        """``record`` (pending) waits here, by its kind: a first attempt never
        dialed and due at the start in ``firsts`` (True), a callback in
        ``callbacks``, anything else in ``retries``."""
        self.waiting += 1
        kind = record.kind  # pending: its kind alone says where it waits (in_firsts)
        if kind is Kind.CALLBACK:
            heapq.heappush(self.callbacks, record.entry)
        elif kind is Kind.FIRST:
            self.firsts.append(record)
            self.held += 1
            return True
        else:
            heapq.heappush(self.retries, record.entry)
        return False

    def _live(self, entry: int, kind: Kind) -> bool:
        record = self.records[entry & INDEX_MASK]
        return (
            record is not None
            and record.entry == entry
            and record.kind is kind
            and record.state is State.PENDING
        )

    def clean(self) -> None:
        """Drop the stale entries at the tops (cancelled, replaced by a callback)."""
        if not self.stale:
            return
        firsts = self.firsts
        while firsts and firsts[0].state is not State.PENDING:  # cancelled
            firsts.popleft()
            self.stale -= 1
        retries = self.retries
        while retries and not self._live(retries[0], Kind.RETRY):
            heapq.heappop(retries)
            self.stale -= 1
        callbacks = self.callbacks
        while callbacks and not self._live(callbacks[0], Kind.CALLBACK):
            heapq.heappop(callbacks)
            self.stale -= 1

    def earliest_due(self) -> int | None:
        """When the attempt due first is due (``MIN_UTC`` for a first attempt), or
        None when nothing waits."""
        if self.stale:
            self.clean()
        if self.held:
            return MIN_UTC
        retries, callbacks = self.retries, self.callbacks
        if retries:
            entry = retries[0]
            if callbacks and callbacks[0] < entry:
                entry = callbacks[0]
            return entry >> INDEX_BITS
        return callbacks[0] >> INDEX_BITS if callbacks else None

    def offer(self, s: int, now: int, beat: tuple[int, int] | None) -> tuple[int, int] | None:
        """This group's attempt for slot ``s`` (polled at ``now``) by rule 4, as a
        key ``(0 for a callback or 1, entry)`` that orders it against the other
        groups' (an entry orders as its ``(due, index)``): a callback due by
        ``s``; else the ordinary attempt due first, a first attempt being due at
        the start.  None when nothing is due by ``s``, when the key does not go
        before ``beat`` (the best of the groups looked at so far; after a
        callback only a callback can), or when the set does not hold every
        second of ``[s, now]``."""
        if self.stale:
            self.clean()
        by = (s + 1) << INDEX_BITS  # the entries due by s are below it
        callbacks, retries = self.callbacks, self.retries
        key: tuple[int, int] | None = None
        if callbacks and callbacks[0] < by:
            key = (0, callbacks[0])
        elif beat is not None and beat[0] == 0:
            return None
        elif self.held and (not retries or retries[0] > self.firsts[0].entry):
            key = (1, self.firsts[0].entry)
        elif retries and retries[0] < by:
            key = (1, retries[0])
        if key is None or (beat is not None and key >= beat):
            return None
        return key if self.open_through(s, now) else None

    def takes_first(self, key: tuple[int, int]) -> bool:
        """Whether ``key`` (from :meth:`offer`) names the first held first attempt
        (it leaves ``firsts``, not a heap)."""
        return key[0] == 1 and self.held > 0 and self.firsts[0].entry == key[1]

    def pop_first(self) -> Record:
        self.held -= 1
        self.waiting -= 1
        return self.firsts.popleft()

    def pop(self, callback: bool) -> Record:
        """The retry (or callback) at the top, taken out."""
        entry = heapq.heappop(self.callbacks if callback else self.retries)
        self.waiting -= 1
        record = self.records[entry & INDEX_MASK]
        assert record is not None
        return record

    def left(self, record: Record) -> bool:
        """``record`` stopped waiting here without being popped (a cancel, a
        callback that replaces it): its entry goes stale.  True when it was a
        first attempt held in ``firsts``."""
        self.waiting -= 1
        self.stale += 1
        if in_firsts(record):
            self.held -= 1
            return True
        return False

    def live(self) -> list[Record]:
        """Every record still waiting here (first attempts first, in customer
        order; then the heaps' entries, in no particular order), each once."""
        live = [r for r in self.firsts if r.state is State.PENDING]
        for heap, kind in ((self.retries, Kind.RETRY), (self.callbacks, Kind.CALLBACK)):
            entries = dict.fromkeys(e for e in heap if self._live(e, kind))  # equal ones: once
            live += [self.records[e & INDEX_MASK] for e in entries]  # type: ignore[misc]
        return live

    def drain(self) -> list[Record]:
        """Every record still waiting here, taken out."""
        live = self.live()
        self.firsts.clear()
        self.retries.clear()
        self.callbacks.clear()
        self.waiting = self.held = self.stale = 0
        return live

    # -- the callable set ---------------------------------------------------------------

    def _look(self, u: int) -> None:
        assert self.view is not None
        self.gap = u
        self.opens, self.closes = _first_span(self.view, u)

    def open_through(self, s: int, now: int) -> bool:
        """Whether the set holds every second of ``[s, now]``."""
        if self.view is None:
            return True
        if not self.gap <= s < self.closes:
            self._look(s)
        return self.opens <= s and now < self.closes

    def open_at(self, u: int) -> bool:
        """Whether the set holds ``u``, by the span already looked up (False: not
        known without a look)."""
        return self.view is None or (self.gap <= u and self.opens <= u < self.closes)

    def next_callable(self, u: int, first_day: int | None = None) -> int | None:
        """The first second ``>= u`` in the set (in a window of a day ``>=
        first_day``), or None: ``view.next_second``, answered from the span found
        last when it holds ``u``.  Retries come due in the same few spans, so most
        answers need no search: under ``callingRules: ["US"]`` this cut 2.8 us an
        attempt to 0.8 (benchmarks/README.md, "The engine, old and new")."""
        view = self.view
        assert view is not None
        if first_day is not None:
            return view.next_second(u, first_day)
        gap, opens, closes = self.ahead
        if not gap <= u < closes:
            opens, closes = _first_span(view, u)
            self.ahead = (u, opens, closes)
        if opens >= MAX_UTC:  # none before the last second: that one is asked for
            return view.next_second(u)
        return u if u > opens else opens

    def next_open(self, u: int) -> int | None:
        """The first second ``>= u`` in the set, or None."""
        if self.view is None:
            return u
        if not self.gap <= u < self.closes:
            self._look(u)
        return None if self.opens >= MAX_UTC else max(u, self.opens)


def _first_span(view: RecipientView, u: int) -> tuple[int, int]:
    """The first maximal span ``[opens, closes)`` of ``view``'s set from ``u`` on
    (nothing callable in ``[u, opens)``); ``(MAX_UTC, MAX_UTC)`` when none is."""
    return next(iter(view.spans(u, MAX_UTC)), (MAX_UTC, MAX_UTC))
