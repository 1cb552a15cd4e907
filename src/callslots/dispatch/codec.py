"""The engine's snapshot: written and read (docs/dispatch.md, "Snapshots").

Version 1 is the format the engine wrote before its rebuild (the builds of 0.2
before its release), and what users' stores may hold: every snapshot of version 1
is read into the same state it was written from.  Version 2
is version 1 with optional keys: ``start`` (``Dispatcher(..., start=...)``),
written only by an engine that has one, and ``held_by_limits`` (a total of the
Summary), written only when it is not 0.  Bulk parts are packed by
:mod:`callslots.snapshots`.

The functions read and set the fields of a :class:`~.engine.Dispatcher` (passed as
``engine``; this module is its codec and sits below it, so it cannot name the
class).
"""

from __future__ import annotations

import zlib
from collections import Counter, deque
from collections.abc import Callable
from itertools import pairwise
from typing import Any

from .. import snapshots
from ..config import to_payload
from ..customers import SeenNumbers
from ..errors import DispatchError
from ..outcomes import Outcome
from ..recipients import ViewKey
from ..schedule import Schedule
from ..tz import MAX_UTC, MIN_UTC, tz_database
from ..windows import from_seconds
from .groups import Group
from .states import Call, Event, Kind, Record, State, advance
from .tally import FINAL_STATES, OUTCOMES, Tally
from .values import Attempt, instant

__all__ = ["check", "read", "write"]

_CALLBACK, _ORDINARY = 0, 1  # a call's kind in a call row


def check(campaign: Schedule, state: object) -> None:
    """DispatchError unless ``state`` is a snapshot of ours, of a version this
    callslots reads, of ``campaign``, taken with this tz database."""
    if isinstance(state, dict) and state.get("version") == 2:
        state = {**state, "version": 1}  # version 1 with a start: the same header
    snapshots.check_header(state, snapshots.digest(to_payload(campaign)), tz_database()[0])


def write(engine: Any) -> dict[str, Any]:
    """The snapshot of ``engine`` (a JSON-ready dict)."""
    reader, tally, contacts = engine._reader, engine._tally, engine._contacts
    calls: dict[int, Call] = engine._calls
    state: dict[str, Any] = {
        "format": snapshots.FORMAT,
        "version": 1,
        "campaign": snapshots.digest(to_payload(engine._campaign)),
        "tz_database": tz_database()[0],
        "now": engine._now,
        "now_us": engine._now_us,
        "last_at": engine._last_at,
        "paused": engine._paused,
        "seq": engine._seq,
        "cursor": reader.cursor,
        "last_phone": reader.last_phone,
        "seen": {"count": len(reader.seen), "table": snapshots.pack_bytes(reader.seen.to_bytes())},
        "final": snapshots.pack_bytes(bytes(engine._final)),
        "groups": [_group_row(group) for group in engine._queues],
        "calls": [_call_row(c) for _, c in sorted(calls.items())],
        "ends": sorted(engine._lines.ends),
        "callback_after": sorted(
            [c.record.index, c.callback, c.record.attempt + 1]
            for c in calls.values()
            if c.callback is not None
        ),
        "reached_open": sorted(r.index for r in engine._records if r is not None and r.reached),
        "cancelled_open": sorted(
            [c.record.index, c.cancel] for c in calls.values() if c.cancel is not None
        ),
        "cancel_ahead": [[i, r] for i, r in sorted(reader.cancel_ahead.items())],
        "expired": [_expired_row(a) for a in engine._expired],
        "counters": [getattr(tally, name) for name in Tally.SNAPSHOT_ORDER],
        "by_outcome": tally.by_code,
        "per_day": [[d, n] for d, n in sorted(tally.per_day.items()) if n],
        "limits": contacts.state() if engine._limited else None,
    }
    if engine._start != MIN_UTC:
        state["version"] = 2
        state["start"] = engine._start
    if tally.held_by_limits:
        state["version"] = 2
        state["held_by_limits"] = tally.held_by_limits
    return state


def _group_row(group: Group) -> dict[str, Any]:
    waiting = group.live()
    firsts = [(r.index, r.phone) for r in waiting if r.kind is Kind.FIRST]
    retries = sorted((r.due, r.index, r.attempt, r.phone) for r in waiting if r.kind is Kind.RETRY)
    callbacks = sorted(
        (r.due, r.index, r.attempt, r.phone) for r in waiting if r.kind is Kind.CALLBACK
    )
    return {
        "zones": list(group.key.zones),
        "scopes": list(group.key.scopes),
        "firsts": snapshots.pack_firsts(firsts),
        "retries": snapshots.pack_entries(retries),  # a sorted list is a heap
        "callbacks": snapshots.pack_entries(callbacks),
    }


def _call_row(c: Call) -> list[Any]:
    """A call on the line in a snapshot: ``[seq, due, index, attempt, phone, slot,
    kind, [zones, scopes], started, deadline, in_doubt]``."""
    r = c.record
    kind = _CALLBACK if r.kind is Kind.CALLBACK else _ORDINARY
    zones = [list(r.group.key.zones), list(r.group.key.scopes)]
    return [c.seq, r.due, r.index, r.attempt, r.phone, c.slot, kind, zones, c.started,
            c.deadline, r.state is State.IN_DOUBT]  # fmt: skip


def _expired_row(a: Attempt) -> list[Any]:
    """An expired call not yet collected by ``Dispatcher.expired``."""
    retry = None if a.retry_at is None else instant(a.retry_at, "retry_at")
    return [
        a.customer_index,
        a.phone,
        a.attempt,
        instant(a.at, "at"),
        instant(a.ended_at, "ended_at"),
        retry,
    ]


def read(engine: Any, state: dict[str, Any], exact: bool) -> None:
    """Set ``engine`` (new, on the same campaign and list) to the state ``state``
    describes; DispatchError when it cannot be read."""
    problems = _problems(state)
    if problems:
        raise DispatchError("not a readable dispatcher snapshot: " + "; ".join(problems))
    try:
        _read(engine, state, exact)
    except DispatchError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, zlib.error) as e:
        raise DispatchError(f"not a readable dispatcher snapshot: {e!r}") from None


# -- what each key holds -----------------------------------------------------------

_BIG = 2**63 - 1  # what a packed column holds
_INSTANT = (MIN_UTC, MAX_UTC)
_COUNT = (0, _BIG)


def _whole(low: int, high: int, none: bool = False) -> Callable[[Any], bool]:
    return lambda v: (none and v is None) or (type(v) is int and low <= v <= high)


def _text(none: bool = False) -> Callable[[Any], bool]:
    return lambda v: (none and v is None) or type(v) is str


def _list_of(ok: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: type(v) is list and all(map(ok, v))


def _rows(*columns: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """A list of rows, each a list of ``len(columns)`` values that pass them."""
    return lambda v: (
        type(v) is list
        and all(
            type(row) is list
            and len(row) == len(columns)
            and all(ok(value) for ok, value in zip(columns, row, strict=True))
            for row in v
        )
    )


_names_ok = _list_of(_text())  # a view's zones or scopes


def _group_ok(v: Any) -> bool:
    return (
        type(v) is dict
        and _names_ok(v.get("zones"))
        and _names_ok(v.get("scopes", []))
        and all(type(v.get(k)) is dict for k in ("firsts", "retries", "callbacks"))
    )


_INSTANT_OR_NONE = _whole(*_INSTANT, none=True)
#: The keys of a snapshot (version 1; ``start`` and ``held_by_limits``: version 2,
#: optional) and what each holds.  The packed parts are checked as they are read.
_KEYS: dict[str, Callable[[Any], bool]] = {
    "now": _INSTANT_OR_NONE,
    "now_us": _whole(0, 999_999),
    "last_at": _INSTANT_OR_NONE,
    "paused": lambda v: type(v) is bool,
    "seq": _whole(*_COUNT),
    "cursor": _whole(*_COUNT),
    "last_phone": _text(none=True),
    "seen": lambda v: (
        type(v) is dict and _whole(*_COUNT)(v.get("count")) and _text()(v.get("table"))
    ),
    "final": _text(),
    "groups": _list_of(_group_ok),
    "calls": _rows(
        _whole(1, _BIG),  # seq
        _whole(*_INSTANT),  # due
        _whole(*_COUNT),  # index
        _whole(1, _BIG),  # attempt
        _text(),  # phone
        _whole(*_INSTANT),  # slot
        _whole(_CALLBACK, _ORDINARY),  # kind
        lambda v: type(v) is list and len(v) == 2 and all(map(_names_ok, v)),  # view
        _INSTANT_OR_NONE,  # started
        _whole(*_INSTANT),  # deadline
        lambda v: type(v) is bool,  # in doubt
    ),
    "ends": _list_of(_whole(*_INSTANT)),
    "callback_after": _rows(_whole(*_COUNT), _whole(*_INSTANT), _whole(1, _BIG)),
    "reached_open": _list_of(_whole(*_COUNT)),
    "cancelled_open": _rows(_whole(*_COUNT), _text()),
    "cancel_ahead": _rows(_whole(*_COUNT), _text()),
    "expired": _rows(
        _whole(*_COUNT),
        _text(),
        _whole(1, _BIG),
        _whole(*_INSTANT),
        _whole(*_INSTANT),
        _INSTANT_OR_NONE,
    ),
    "counters": lambda v: (
        type(v) is list
        and len(v) == len(Tally.SNAPSHOT_ORDER)
        and all(map(_whole(*_COUNT), v[:-1]))
        and _INSTANT_OR_NONE(v[-1])
    ),
    "by_outcome": _list_of(_whole(*_COUNT)),
    "per_day": _rows(_whole(-_BIG, _BIG), _whole(*_COUNT)),
    "limits": _text(none=True),
}
_OPTIONAL: dict[str, Callable[[Any], bool]] = {
    "start": _whole(*_INSTANT),
    "held_by_limits": _whole(*_COUNT),
}


def _problems(state: dict[str, Any]) -> list[str]:
    """What is wrong with the keys of ``state``, each named (empty: nothing)."""
    found = [f"{key!r} is missing" for key in _KEYS if key not in state]
    for key, ok in [*_KEYS.items(), *_OPTIONAL.items()]:
        if key in state and not ok(state[key]):
            found.append(f"{key!r} is {_shown(state[key])}, not what a snapshot holds there")
    return found


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _read(engine: Any, state: dict[str, Any], exact: bool) -> None:
    reader, tally = engine._reader, engine._tally
    cursor = int(state["cursor"])
    if cursor:
        reader.skip(cursor, state["last_phone"])
    reader.cursor, reader.last_phone = cursor, state["last_phone"]
    seen = state["seen"]
    reader.seen = SeenNumbers.from_bytes(snapshots.unpack_bytes(seen["table"]), seen["count"])
    engine._final = bytearray(snapshots.unpack_bytes(state["final"]))
    if not set(engine._final) <= FINAL_STATES:
        raise DispatchError("the snapshot's call states hold a code no call has")
    engine._now, engine._last_at = state["now"], state["last_at"]
    engine._now_us = int(state["now_us"])
    engine._paused = bool(state["paused"])
    engine._seq = int(state["seq"])
    if "start" in state:
        engine._start = int(state["start"])
    if len(engine._final) != engine._seq + 1:
        raise DispatchError("the snapshot's call states do not match its call count")
    on_the_line = _read_records(engine, state, exact)
    if _open_calls(engine._final) != set(engine._calls):
        raise DispatchError("the snapshot's calls on the line do not match its call states")
    ends = [int(e) for e in state["ends"]]
    engine._lines.ends = sorted(ends)  # a sorted list is a heap
    for i, d, _ in state["callback_after"]:
        on_the_line[int(i)].callback = int(d)
    for i, reason in state["cancelled_open"]:
        on_the_line[int(i)].cancel = str(reason)
    reader.cancel_ahead = {int(i): str(r) for i, r in state["cancel_ahead"]}
    engine._expired = [
        Attempt(
            int(index),
            str(phone),
            int(attempt),
            from_seconds(at),
            from_seconds(ended),
            Outcome.UNSPECIFIED,
            None if retry is None else from_seconds(retry),
        )
        for index, phone, attempt, at, ended, retry in state["expired"]
    ]
    _read_totals(tally, state)
    limits = state.get("limits")
    if (limits is not None) != engine._limited:
        raise DispatchError("the snapshot's contact limits do not match the campaign's")
    if limits is not None:
        engine._contacts.load(limits)


def _read_records(engine: Any, state: dict[str, Any], exact: bool) -> dict[int, Call]:
    """The records of the customers waiting and on the line; returns the calls on
    the line by their customers' indexes."""
    reached = {int(i) for i in state["reached_open"]}
    on_the_line: dict[int, Call] = {}
    cursor = engine._reader.cursor

    def record(index: int, phone: str, group: Group, kind: Kind, due: int, attempt: int) -> Record:
        # Checked, as a record's position and due second are packed in one int
        # (states.Record.entry) and the index by position is a list.
        if not 0 <= index < cursor or engine._record(index) is not None:
            raise DispatchError(
                f"the snapshot lists customer {index} twice, or one not read ({cursor} were)"
            )
        if not MIN_UTC <= due <= MAX_UTC or attempt < 1:
            raise DispatchError(
                f"the snapshot's customer {index} has attempt {attempt} due at {due}: "
                "not an attempt of a run"
            )
        made = Record(index, phone, group, due)
        made.kind, made.attempt, made.reached = kind, attempt, index in reached
        engine._keep(made)
        return made

    for g in state["groups"]:
        group = engine._group(ViewKey(tuple(g["zones"]), tuple(g.get("scopes", ()))))
        for index, phone in snapshots.unpack_firsts(g["firsts"]):
            engine._push(record(int(index), str(phone), group, Kind.FIRST, MIN_UTC, 1))
        for heap, kind in ((g["retries"], Kind.RETRY), (g["callbacks"], Kind.CALLBACK)):
            for due, index, attempt, phone in snapshots.unpack_entries(heap):
                engine._push(record(int(index), str(phone), group, kind, int(due), int(attempt)))
    for group in engine._queues:
        # Two rows may share a queue (a snapshot taken before views with the same
        # callable set shared one): its first attempts go in customer order.
        firsts = group.firsts
        if any(a.index > b.index for a, b in pairwise(firsts)):
            group.firsts = deque(sorted(firsts, key=lambda r: r.index))
    for seq, due, index, attempt, phone, slot, kind, zones, started, deadline, doubt in state[
        "calls"
    ]:
        group = engine._group(ViewKey(tuple(zones[0]), tuple(zones[1])))
        on = Kind.CALLBACK if int(kind) == _CALLBACK else Kind.RETRY
        made = record(int(index), str(phone), group, on, int(due), int(attempt))
        if not 0 < int(seq) <= engine._seq or int(seq) in engine._calls:
            raise DispatchError(f"the snapshot lists call {seq} twice, or one never handed out")
        call = Call(made, int(seq), int(slot), from_seconds(int(slot)), int(deadline))
        call.started = None if started is None else int(started)
        made.call = on_the_line[made.index] = engine._calls[call.seq] = call
        advance(made, Event.DIAL)
        if call.started is not None:
            advance(made, Event.STARTED)
        elif bool(doubt) or not exact:  # never confirmed before the snapshot: it may have rung
            advance(made, Event.RESTORED)
    return on_the_line


def _open_calls(final: bytearray) -> set[int]:
    """The ids of the calls whose final state is "on the line" (0; id 0 is unused)."""
    found: set[int] = set()
    seq = final.find(0, 1)
    while seq != -1:  # few are on the line: find them at C speed
        found.add(seq)
        seq = final.find(0, seq + 1)
    return found


def _read_totals(tally: Tally, state: dict[str, Any]) -> None:
    counters = [int(n) if n is not None else None for n in state["counters"]]
    if len(counters) != len(Tally.SNAPSHOT_ORDER):
        raise DispatchError("the snapshot's totals do not match this callslots")
    for name, value in zip(Tally.SNAPSHOT_ORDER, counters, strict=True):
        setattr(tally, name, value)
    tally.by_code = [int(n) for n in state["by_outcome"]]
    if len(tally.by_code) != len(OUTCOMES) + 1:
        raise DispatchError("the snapshot counts outcomes this callslots does not know")
    tally.per_day = Counter({int(d): int(n) for d, n in state["per_day"]})
    tally.held_by_limits = int(state.get("held_by_limits", 0))
