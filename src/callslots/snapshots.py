"""Encoding a dispatcher's state for its snapshot (docs/dispatch.md, "Snapshots").

A snapshot must be JSON-ready, exact, and quick to write and read with a million
customers in the middle of a run, when most of its size is the attempts waiting.
So bulk parts are columns of integers packed as little-endian int64 bytes,
compressed with zlib and written as base64 text, and the header says what the
snapshot belongs to (format, version, campaign, tz database), so that a snapshot
is never read into an engine it does not fit.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import zlib
from array import array
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import DispatchError

__all__ = [
    "FORMAT",
    "VERSION",
    "Entry",
    "check_header",
    "digest",
    "pack_bytes",
    "pack_entries",
    "pack_firsts",
    "unpack_bytes",
    "unpack_entries",
    "unpack_firsts",
]

FORMAT = "callslots.dispatcher"
VERSION = 1
#: A waiting attempt: ``(due, customer index, attempt number, phone)``.
Entry = tuple[int, int, int, str]


def pack_bytes(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 1)).decode("ascii")


def unpack_bytes(text: str) -> bytes:
    return zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))


def _pack_ints(values: Iterable[int]) -> str:
    column = array("q", values)
    if sys.byteorder != "little":
        column.byteswap()
    return pack_bytes(column.tobytes())


def _unpack_ints(text: str, count: int) -> list[int]:
    column = array("q")
    column.frombytes(unpack_bytes(text))
    if sys.byteorder != "little":
        column.byteswap()
    if len(column) != count:
        raise ValueError(f"a column of {len(column)} numbers where {count} were written")
    return column.tolist()


def _pack_phones(phones: Iterable[str]) -> str:
    return pack_bytes(",".join(phones).encode("ascii"))


def _unpack_phones(text: str, count: int) -> list[str]:
    phones = unpack_bytes(text).decode("ascii").split(",") if count else []
    if len(phones) != count:
        raise ValueError(f"{len(phones)} phone numbers where {count} were written")
    return phones


def pack_entries(entries: list[Entry]) -> dict[str, Any]:
    """Waiting attempts (a heap, kept in its order) as columns."""
    return {
        "count": len(entries),
        "due": _pack_ints(e[0] for e in entries),
        "customer": _pack_ints(e[1] for e in entries),
        "attempt": _pack_ints(e[2] for e in entries),
        "phone": _pack_phones(e[3] for e in entries),
    }


def unpack_entries(packed: Mapping[str, Any]) -> list[Entry]:
    count = int(packed["count"])
    return list(
        zip(
            _unpack_ints(packed["due"], count),
            _unpack_ints(packed["customer"], count),
            _unpack_ints(packed["attempt"], count),
            _unpack_phones(packed["phone"], count),
            strict=True,
        )
    )


def pack_firsts(firsts: Iterable[tuple[int, str]]) -> dict[str, Any]:
    """First attempts held for their customers' hours: ``(index, phone)``."""
    held = list(firsts)
    return {
        "count": len(held),
        "customer": _pack_ints(i for i, _ in held),
        "phone": _pack_phones(p for _, p in held),
    }


def unpack_firsts(packed: Mapping[str, Any]) -> list[tuple[int, str]]:
    count = int(packed["count"])
    return list(
        zip(
            _unpack_ints(packed["customer"], count),
            _unpack_phones(packed["phone"], count),
            strict=True,
        )
    )


def digest(payload: Mapping[str, Any]) -> str:
    """A SHA-256 of a campaign's normalized payload without its customers."""
    settings = {k: v for k, v in payload.items() if k != "customers"}
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def check_header(state: object, campaign: str, tz_version: str) -> None:
    """Raise :class:`DispatchError` unless ``state`` is a snapshot of ours, of this
    version, of the campaign whose digest is ``campaign``, taken with the tz
    database ``tz_version``."""
    if not isinstance(state, Mapping) or state.get("format") != FORMAT:
        raise DispatchError("not a callslots dispatcher snapshot (no 'format' of ours)")
    if state.get("version") != VERSION:
        raise DispatchError(
            f"snapshot version {state.get('version')!r}; this callslots reads version {VERSION}"
        )
    if state.get("campaign") != campaign:
        raise DispatchError(
            "the snapshot was taken on a different campaign (its settings differ); "
            "restore it onto the campaign it came from"
        )
    if state.get("tz_database") != tz_version:
        raise DispatchError(
            f"the snapshot was taken with tz database {state.get('tz_database')!r}, this "
            f"machine has {tz_version!r}: its instants could differ"
        )
