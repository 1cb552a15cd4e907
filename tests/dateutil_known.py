"""Where python-dateutil's own reading of a zone is known to be right.

The tests cross-check the engine with ``dateutil.tz``, a second implementation that
reads the TZif files on its own.  dateutil 3 and later read them as zoneinfo does,
so every instant is compared.  dateutil 2.x (which the ``holidays`` extra pins, so
the extras environment has it) is known to be wrong in three places, and only
there is the comparison skipped:

* after its last listed transition: 2.x ignores the TZif footer (the POSIX rule for
  later years) and answers the last standard type it saw, which is right only when
  that type is the last one listed and the footer has no DST rule;
* within a day of a transition it files under the wrong wall-clock time: 2.x finds
  offsets through a list of transition times in local time that it derives from the
  DST flags, and where the entry is not the local time the change happens at (the
  UTC instant plus the smaller of the offsets before and after it) its answers near
  that transition are wrong.  This is dateutil issue #1048 for zones with negative
  DST (Europe/Dublin, Africa/Casablanca, Africa/Windhoek), and it also hits
  transitions that change the standard offset and the DST flag at once (America/
  Cancun 1998, several America/Argentina zones around 1990);
* within a day of the first listed transition, which 2.x never treats as repeating
  an hour.
"""

from __future__ import annotations

import bisect
from functools import cache

import dateutil
from dateutil import tz as dateutil_tz

DAY = 86400
DATEUTIL_MAJOR = int(dateutil.__version__.split(".")[0])
#: dateutil 3+ reads every zone right: nothing is skipped.
TRUSTED_EVERYWHERE = DATEUTIL_MAJOR >= 3


@cache
def _doubtful(key: str) -> tuple[tuple[int, ...], int | None]:
    """The transitions dateutil 2.x misplaces in zone ``key`` (UTC seconds, sorted), and
    the first instant it cannot answer for (None: it can answer for all)."""
    zone = dateutil_tz.gettz(key)
    assert zone is not None, key
    utc: tuple[int, ...] = tuple(zone._trans_list_utc)
    if not utc:
        return (), None
    wall, types = zone._trans_list, zone._trans_idx
    misplaced = [utc[0]]
    for i in range(1, len(utc)):
        if wall[i] - utc[i] != min(types[i - 1].offset, types[i].offset):
            misplaced.append(utc[i])
    return tuple(misplaced), None if _rule_ends_fixed(zone) else utc[-1]


def _rule_ends_fixed(zone: dateutil_tz.tzfile) -> bool:
    """After the last listed transition, 2.x answers the last standard type it saw:
    right when that is the last type listed and the TZif footer has no DST rule."""
    if zone._trans_idx[-1].isdst:
        return False
    with open(zone._filename, "rb") as file:
        data = file.read()
    if data[4:5] == b"\0":  # a version 1 file: no footer, no rule for later years
        return False
    footer = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return b"," not in footer


def dateutil_is_right(key: str, u: int) -> bool:
    """Whether this dateutil's offset for zone ``key`` at UTC second ``u`` is known to be
    right (always with dateutil 3+; see the module docstring for 2.x)."""
    if TRUSTED_EVERYWHERE:
        return True
    misplaced, unanswered = _doubtful(key)
    if unanswered is not None and u >= unanswered:
        return False
    i = bisect.bisect_left(misplaced, u - DAY)
    return i == len(misplaced) or misplaced[i] > u + DAY
