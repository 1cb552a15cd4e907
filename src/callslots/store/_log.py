"""The compact form of the event log (schema version 3, docs/store.md, "The schema").

Since schema version 3 a write (one transaction of a worker: a poll and the
webhooks it applied, or one event the holder reports) appends **one** row to
``callslots_events``: kind :data:`BATCH`, ``position`` the position of its last
event, and a body that is a JSON array ``[lease, event, event, ...]``: the lease
generation it was written under, then each event in a short positional form:

* a poll: ``["p", now, us, dials, expired]``, trailing defaults (``0``,
  ``[]``, ``[]``) left out; its ``lease`` is the row's;
* an ``ended``: ``["e", call, outcome, at]``, the outcome as its number in
  :data:`OUTCOMES` (names not in it as the name), ``at`` as whole UTC seconds
  when that spells the same instant string, else the string;
* a ``started``: ``["s", call, at]``, ``at`` as for ``ended``;
* any other event: ``[kind, body]`` (the body as the API gives it);
* an event with a note: ``{"n": note, "e": <its form above>}``.

Decoding gives back the same ``(kind, body, note)`` the worker logged, key for
key: :func:`encode` checks every event's round trip and writes the long form
``[kind, body]`` for one that would not come back the same, so the short forms
are an optimisation that can never change what the log says.  Rows written by
an older callslots (one event a row, ``kind`` the event's kind) are read as
they are.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..windows import from_seconds

__all__ = ["BATCH", "OUTCOMES", "decode", "encode"]

#: The ``kind`` of a compact row holding the events of one write.
BATCH = "*"

#: Outcome names by their number in compact rows.  Stored in databases: append
#: new names at the end, never reorder or remove one.
OUTCOMES = (
    "Rejected",
    "Unreachable",
    "Busy",
    "No Answer",
    "Network Error",
    "Invalid",
    "Timeout",
    "Cancelled",
    "Resource Unavailable",
    "Service Unavailable",
    "Protocol Error",
    "Unspecified",
    "voicemail",
    "exceeded-max-duration",
    "Completed",
)
_OUTCOME_CODE = {name: code for code, name in enumerate(OUTCOMES)}

Event = tuple[str, dict[str, Any], "str | None"]


def _dump(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _instant(text: object) -> object:
    """An ISO instant as whole UTC seconds when they read back as the same text."""
    if isinstance(text, str) and text.endswith("+00:00") and len(text) == 25:
        try:
            seconds = int(from_seconds(0).fromisoformat(text).timestamp())
        except ValueError:
            return text
        if _text_of(seconds) == text:
            return seconds
    return text


def _text_of(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return from_seconds(value).isoformat()
    return value


def _short(kind: str, body: dict[str, Any], lease: int) -> list[Any] | None:
    """The short form of one event, or None when it has none."""
    if kind == "poll" and set(body) <= {"now", "lease", "dials", "expired", "us"}:
        if body.get("lease") != lease:
            return None
        fields = [body.get("now"), body.get("us", 0), body.get("dials"), body.get("expired")]
        defaults: list[Any] = [None, 0, [], []]
        while len(fields) > 1 and fields[-1] == defaults[len(fields) - 1]:
            fields.pop()
        return ["p", *fields]
    if kind == "ended" and set(body) == {"call", "outcome", "at"}:
        outcome = body["outcome"]
        return ["e", body["call"], _OUTCOME_CODE.get(outcome, outcome), _instant(body["at"])]
    if kind == "started" and set(body) == {"call", "at"}:
        return ["s", body["call"], _instant(body["at"])]
    return None


def _long(item: Any, lease: int) -> tuple[str, dict[str, Any]]:
    """The kind and body of one event's stored form."""
    code = item[0]
    if code == "p":
        given = list(item[1:5])
        now, us, dials, expired = given + [None, 0, [], []][len(given) :]
        body: dict[str, Any] = {"now": now, "lease": lease, "dials": dials, "expired": expired}
        if us:
            body["us"] = us
        return "poll", body
    if code == "e":
        _, call, outcome, at = item
        if isinstance(outcome, int) and not isinstance(outcome, bool):
            outcome = OUTCOMES[outcome]
        return "ended", {"call": call, "outcome": outcome, "at": _text_of(at)}
    if code == "s":
        _, call, at = item
        return "started", {"call": call, "at": _text_of(at)}
    kind, body = item
    if not isinstance(kind, str) or not isinstance(body, dict):
        raise ValueError(f"not an event: {item!r}")
    return kind, body


def _one(event: Event, lease: int) -> Any:
    kind, body, note = event
    short = _short(kind, body, lease)
    item: Any = [kind, body]
    if short is not None:
        try:
            same = _long(json.loads(_dump(short)), lease) == (kind, body)
        except (ValueError, TypeError, IndexError, KeyError):
            same = False
        if same:
            item = short
    return item if note is None else {"n": note, "e": item}


def encode(lease: int, events: Sequence[Event]) -> str:
    """The body of the compact row holding ``events`` (written under lease
    generation ``lease``)."""
    return _dump([lease, *(_one(e, lease) for e in events)])


def decode(text: str) -> list[Event]:
    """The events of a compact row, in order (ValueError when it is not one)."""
    row = json.loads(text)
    if not isinstance(row, list) or not row or not isinstance(row[0], int):
        raise ValueError("a compact log row is a list [lease, event, ...]")
    lease = row[0]
    found: list[Event] = []
    for item in row[1:]:
        note = None
        if isinstance(item, dict):
            note, item = item.get("n"), item.get("e")
        if not isinstance(item, list) or not item:
            raise ValueError(f"not an event: {item!r}")
        try:
            kind, body = _long(item, lease)
        except (IndexError, TypeError) as error:
            raise ValueError(f"not an event: {item!r} ({error})") from None
        # keys in order, as the one-event rows (sorted JSON) read back
        found.append((kind, dict(sorted(body.items())), note))
    return found
