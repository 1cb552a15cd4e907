"""Reading ISO 8601 instants the same way on every supported Python.

``datetime.fromisoformat`` accepts different strings on Python 3.10 and 3.11+
(fractions with ``Z``, the basic form ``20240315T090000Z``, lowercase ``t``/``z``),
so the payload's ``startAt`` and the command line's WHEN are read with
``dateutil.parser.isoparse``, which reads ISO 8601 alike on every version (and in
python-dateutil 2.9 and 4.x alike).  Offsets come back as ``datetime.timezone``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dateutil.parser import isoparse

__all__ = ["parse_iso"]


def parse_iso(text: str) -> datetime:
    """The date-time (or date, at midnight) written in ``text`` in ISO 8601.

    Aware when ``text`` has an offset (``Z``, ``+01:00``, ``+0100``), with a
    ``datetime.timezone`` as its tzinfo; naive otherwise.  Raises ValueError with a
    message a person can act on for anything else.
    """
    if not isinstance(text, str):
        raise ValueError(f"an ISO 8601 date-time must be a string, not {type(text).__name__}")
    try:
        value = isoparse(text)
    except (ValueError, OverflowError, TypeError) as error:
        raise ValueError(
            f"{text!r} is not an ISO 8601 date-time such as 2024-03-15T09:00:00Z ({error})"
        ) from None
    offset = value.utcoffset()
    if offset is None:
        return value
    if abs(offset) >= timedelta(hours=24):  # isoparse allows it, datetime.timezone does not
        raise ValueError(f"{text!r} has an offset of a day or more")
    return value.replace(tzinfo=timezone.utc if not offset else timezone(offset))
