"""Zone arithmetic: a zone's UTC offset as a step function of integer UTC seconds.

callslots never asks ``datetime`` for offsets in its loops.  Instead each zone
is compiled once into a sorted table of *segments*: ``starts[i]`` is the first
UTC second of segment ``i`` and ``offsets[i]`` its UTC offset in seconds.  The
offset of an instant is found by one bisection.

Where the data comes from: the same TZif file that the standard library's
``zoneinfo.ZoneInfo(key)`` reads (the directories of ``zoneinfo.TZPATH`` first,
then the ``tzdata`` package), so callslots and ``zoneinfo`` always agree on
one machine.  We parse the file ourselves because ``zoneinfo`` does not expose
its transitions.

After the last explicit transition a TZif file carries a POSIX TZ rule (for
example ``EST5EDT,M3.2.0,M11.1.0``).  We evaluate it exactly the way CPython's
``zoneinfo`` does in ``fromutc``: the rule's two transitions are computed for
the *UTC year* of the instant.  Because the Gregorian calendar repeats every
400 years (146097 days, a whole number of weeks), so does the rule: the table
holds 400 years of rule transitions and instants beyond them are folded back by
whole cycles.  Every year up to 9999 therefore costs the same.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import importlib.resources
import os
import re
import struct
import zoneinfo
from dataclasses import dataclass

__all__ = [
    "CYCLE",
    "MAX_UTC",
    "MIN_UTC",
    "Zone",
    "civil_from_days",
    "days_from_civil",
    "load_zone",
    "tz_database",
    "zone_names",
]

DAY = 86400
#: Seconds in 400 Gregorian years: POSIX rules repeat with this period.
CYCLE = 146097 * DAY
#: The time line ends here: the last whole second a ``datetime`` can hold.
#: Instants from 0001-01-01T00:00:00Z up to (not including) MAX_UTC exist.
MIN_UTC = -62135596800  # 0001-01-01T00:00:00Z
MAX_UTC = 253402300799  # 9999-12-31T23:59:59Z
_FAR = 1 << 62  # "no next transition"


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to the given proleptic Gregorian date (any year)."""
    # Howard Hinnant's algorithm: exact for every year, no datetime range limits.
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(n: int) -> tuple[int, int, int]:
    """``(year, month, day)`` of the proleptic Gregorian date ``n`` days after
    1970-01-01, for any ``n`` (years 0 and 10000 included, which ``date`` cannot hold)."""
    z = n + 719468  # Howard Hinnant's algorithm, the inverse of days_from_civil
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _utc_year(u: int) -> int:
    """The proleptic Gregorian year of UTC second ``u``."""
    z = u // DAY + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    return yoe + era * 400 + (1 if mp >= 10 else 0)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, slots=True)
class _RuleDate:
    """One side of a POSIX TZ rule: ``Mm.w.d``, ``Jn`` or ``n``, then ``/time``."""

    kind: str  # "M", "J" or "n"
    a: int  # month (M) or day number (J, n)
    week: int  # M only: 1-5, 5 meaning "last"
    weekday: int  # M only: 0 = Sunday
    seconds: int  # local time of day of the transition; may be negative or > 24 h

    def local_seconds(self, year: int) -> int:
        """Local-time seconds since 1970-01-01 of this transition in ``year``."""
        if self.kind == "M":
            first = days_from_civil(year, self.a, 1)
            first_weekday = (first + 4) % 7  # 1970-01-01 was a Thursday (4, Sunday = 0)
            mday = 1 + (self.weekday - first_weekday) % 7 + (self.week - 1) * 7
            length = 29 if self.a == 2 and _is_leap(year) else _MONTH_DAYS[self.a - 1]
            while mday > length:
                mday -= 7
            days = first + mday - 1
        elif self.kind == "J":  # 1-365, February 29 never counted
            extra = 1 if self.a >= 60 and _is_leap(year) else 0
            days = days_from_civil(year, 1, 1) + self.a - 1 + extra
        else:  # 0-365, February 29 counted
            days = days_from_civil(year, 1, 1) + self.a
        return days * DAY + self.seconds


@dataclass(frozen=True, slots=True)
class _Rule:
    std: int  # standard UTC offset, seconds east
    dst: int  # daylight UTC offset
    start: _RuleDate  # in local standard time
    end: _RuleDate  # in local daylight time

    def year_steps(self, year: int) -> list[tuple[int, int]]:
        """The offset over UTC ``year`` as steps ``(first second, offset)``.

        Mirrors ``zoneinfo``: a transition computed for year Y only counts in
        UTC year Y, and the state at 1 January follows the same comparison.
        """
        jan1 = days_from_civil(year, 1, 1) * DAY
        next_jan1 = days_from_civil(year + 1, 1, 1) * DAY
        start = self.start.local_seconds(year) - self.std
        end = self.end.local_seconds(year) - self.dst
        points = [jan1, *sorted(p for p in (start, end) if jan1 < p < next_jan1)]
        return [(p, self.offset_in_year(p, start, end)) for p in points]

    def offset_at(self, u: int) -> int:
        year = _utc_year(u)
        start = self.start.local_seconds(year) - self.std
        end = self.end.local_seconds(year) - self.dst
        return self.offset_in_year(u, start, end)

    def offset_in_year(self, u: int, start: int, end: int) -> int:
        in_dst = start <= u < end if start < end else not (end <= u < start)
        return self.dst if in_dst else self.std


_OFFSET = r"[+-]?\d{1,3}(?::\d{2}(?::\d{2})?)?"
_NAME = r"(?:[^<0-9:.,+-]+|<[A-Za-z0-9+-]+>)"
_TZ_STRING = re.compile(
    rf"(?P<std>{_NAME})(?P<stdoff>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dstoff>{_OFFSET})?,(?P<start>[^,]+),(?P<end>[^,]+))?",
    re.ASCII,
)
_RULE_DATE = re.compile(
    rf"(?:M(?P<m>\d{{1,2}})\.(?P<w>\d)\.(?P<d>\d)|J(?P<j>\d{{1,3}})|(?P<n>\d{{1,3}}))"
    rf"(?:/(?P<time>{_OFFSET}))?",
    re.ASCII,
)


def _hms(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _parse_rule_date(text: str) -> _RuleDate:
    m = _RULE_DATE.fullmatch(text)
    if m is None:
        raise ValueError(f"bad POSIX rule date {text!r}")
    seconds = _hms(m["time"]) if m["time"] else 7200  # POSIX default 02:00
    if m["m"]:
        return _RuleDate("M", int(m["m"]), int(m["w"]), int(m["d"]), seconds)
    if m["j"]:
        return _RuleDate("J", int(m["j"]), 0, 0, seconds)
    return _RuleDate("n", int(m["n"]), 0, 0, seconds)


def _parse_tz_string(text: str) -> _Rule | int | None:
    """A TZif footer: a DST rule, a fixed offset (seconds east), or None if empty."""
    if not text:
        return None
    m = _TZ_STRING.fullmatch(text)
    if m is None:
        raise ValueError(f"unsupported POSIX TZ string {text!r}")
    std = -_hms(m["stdoff"])  # POSIX offsets count west of Greenwich
    if not m["dst"]:
        return std
    dst = -_hms(m["dstoff"]) if m["dstoff"] else std + 3600
    return _Rule(std, dst, _parse_rule_date(m["start"]), _parse_rule_date(m["end"]))


@dataclass(frozen=True, slots=True)
class _TZif:
    transitions: tuple[int, ...]
    offsets_after: tuple[int, ...]  # UTC offset in force from each transition
    offset_before: int  # before the first transition
    footer: _Rule | int | None


def _parse_tzif(data: bytes) -> _TZif:
    def header(at: int) -> tuple[int, tuple[int, ...]]:
        if data[at : at + 4] != b"TZif":
            raise ValueError("not a TZif file")
        return data[at + 4], struct.unpack(">6l", data[at + 20 : at + 44])

    version, counts = header(0)
    pos, size, fmt = 44, 4, "l"
    if version >= ord("2"):  # skip the 32-bit block, read the 64-bit one
        isut, isstd, leap, times, types, chars = counts
        pos += times * 5 + types * 6 + chars + leap * 8 + isstd + isut
        _, counts = header(pos)
        pos, size, fmt = pos + 44, 8, "q"
    isut, isstd, leap, times, types, chars = counts
    transitions = struct.unpack(f">{times}{fmt}", data[pos : pos + times * size])
    pos += times * size
    indexes = data[pos : pos + times]
    pos += times
    ttinfos = [struct.unpack(">lbb", data[pos + 6 * i : pos + 6 * i + 6]) for i in range(types)]
    pos += types * 6 + chars + leap * (size + 4) + isstd + isut
    footer = None
    if version >= ord("2"):
        footer = _parse_tz_string(data[pos:].strip(b"\n").decode("ascii"))
    # zoneinfo's choice for instants before the first transition: the first
    # standard-time type, else the type of the first transition.
    before = next((off for off, isdst, _ in ttinfos if not isdst), None)
    if before is None:
        before = ttinfos[indexes[0]][0] if indexes else ttinfos[0][0]
    return _TZif(
        transitions=tuple(transitions),
        offsets_after=tuple(ttinfos[i][0] for i in indexes),
        offset_before=before,
        footer=footer,
    )


@dataclass(frozen=True, slots=True, eq=False)
class Zone:
    """A compiled IANA zone: UTC offset as a step function of UTC seconds.

    ``starts`` is sorted, ``starts[0]`` is far in the past, and segment ``i``
    covers ``[starts[i], ends[i])`` with offset ``offsets[i]``.  Instants outside
    ``[table_first, table_end)`` (after 400 years of a POSIX rule, or before
    ``cycle_from`` for a zone defined by its rule alone) behave like the instant a
    whole number of 400-year cycles away inside the table.
    """

    key: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]  # starts[1:] and a far-future end
    offsets: tuple[int, ...]
    cycle_from: int | None
    #: Instants in [table_first, table_end) are in the table as they are.
    table_first: int
    table_end: int
    min_offset: int
    max_offset: int
    #: Local dates (day numbers) that never occur: a forward jump of a day or
    #: more skipped them (Pacific/Apia 2011-12-30).
    skipped_days: frozenset[int]

    def __reduce__(self) -> tuple[object, tuple[str]]:
        # Pickle by name; the table is rebuilt (and cached) on load.
        return (load_zone, (self.key,))

    def _fold(self, u: int) -> int:
        """How far ``u`` must be shifted (a multiple of CYCLE) to land in the table."""
        if self.table_first <= u < self.table_end:
            return 0
        assert self.cycle_from is not None
        return ((u - self.cycle_from) // CYCLE) * CYCLE

    def offset_at(self, u: int) -> int:
        """UTC offset, in seconds east, in force at UTC second ``u``."""
        if not self.table_first <= u < self.table_end:
            u -= self._fold(u)
        return self.offsets[bisect.bisect_right(self.starts, u) - 1]

    def segment_at(self, u: int) -> tuple[int, int, int]:
        """``(first, end, offset)``: the constant-offset stretch containing ``u``.

        ``end`` is exclusive; ``first`` and ``end`` may lie outside the time line.
        """
        if self.table_first <= u < self.table_end:  # the common case, kept lean
            i = bisect.bisect_right(self.starts, u) - 1
            return self.starts[i], self.ends[i], self.offsets[i]
        shift = self._fold(u)
        i = bisect.bisect_right(self.starts, u - shift) - 1
        return self.starts[i] + shift, self.ends[i] + shift, self.offsets[i]

    def transitions(self, first: int, end: int) -> list[tuple[int, int, int]]:
        """``(instant, offset before, offset after)`` for each change in ``[first, end)``."""
        found = []
        u = first
        while u < end:
            _, seg_end, before = self.segment_at(u)
            if seg_end >= end:
                break
            after = self.offset_at(seg_end)
            found.append((seg_end, before, after))
            u = seg_end
        return found


def _compile(key: str, tzif: _TZif) -> Zone:
    steps: list[tuple[int, int]] = [(-_FAR, tzif.offset_before)]
    steps += zip(tzif.transitions, tzif.offsets_after, strict=True)
    footer = tzif.footer
    cycle_from = None
    backward = False
    if isinstance(footer, int):
        if tzif.transitions:
            # zoneinfo uses the last transition's type *at* that second, the footer after it.
            steps.append((tzif.transitions[-1] + 1, footer))
        else:
            steps = [(-_FAR, footer)]
    elif isinstance(footer, _Rule):
        if tzif.transitions:
            rule_from = tzif.transitions[-1] + 1
            first_year = _utc_year(rule_from)
        else:
            backward = True
            first_year = 1969
            rule_from = days_from_civil(first_year, 1, 1) * DAY
            steps = []
        steps.append((rule_from, footer.offset_at(rule_from)))
        # Start the cycle two years after the last explicit transition, so that the
        # segment straddling the cycle's first second is pure rule too.
        cycle_year = first_year + 2
        cycle_from = days_from_civil(cycle_year, 1, 1) * DAY
        for year in range(first_year, cycle_year + 402):
            steps += [(t, off) for t, off in footer.year_steps(year) if t > rule_from]
    starts: list[int] = []
    offsets: list[int] = []
    for t, off in steps:
        if starts and t == starts[-1]:  # two changes at one instant: the later one wins
            starts.pop()
            offsets.pop()
        if offsets and off == offsets[-1]:
            continue
        starts.append(t)
        offsets.append(off)
    if backward:
        starts[0] = -_FAR
    return Zone(
        key=key,
        starts=tuple(starts),
        ends=(*starts[1:], _FAR),
        offsets=tuple(offsets),
        cycle_from=cycle_from,
        table_first=cycle_from if backward and cycle_from is not None else -_FAR,
        table_end=_FAR if cycle_from is None else cycle_from + CYCLE,
        min_offset=min(offsets),
        max_offset=max(offsets),
        skipped_days=_skipped_days(starts, offsets),
    )


def _skipped_days(starts: list[int], offsets: list[int]) -> frozenset[int]:
    """Local days lying wholly inside a spring-forward gap.

    A POSIX rule never jumps a whole day, so the explicit transitions suffice.
    """
    skipped = set()
    for i in range(1, len(starts)):
        gap_first, gap_end = starts[i] + offsets[i - 1], starts[i] + offsets[i]
        d = -(-gap_first // DAY)  # first local midnight inside the gap
        while (d + 1) * DAY <= gap_end:
            skipped.add(d)
            d += 1
    return frozenset(skipped)


def _read_tzif(key: str) -> bytes:
    """The bytes ``zoneinfo.ZoneInfo(key)`` would read: TZPATH first, then tzdata."""
    for root in zoneinfo.TZPATH:
        path = os.path.join(root, key)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                return f.read()
    *package, name = key.split("/")
    resource = importlib.resources.files(".".join(["tzdata", "zoneinfo", *package]))
    return resource.joinpath(name).read_bytes()


@functools.cache
def zone_names() -> frozenset[str]:
    """Every IANA key ``zoneinfo`` can load on this machine."""
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def load_zone(key: str) -> Zone:
    """Compile the zone ``key`` (which must be one of :func:`zone_names`); cached."""
    if key not in zone_names():
        raise KeyError(key)
    return _compile(key, _parse_tzif(_read_tzif(key)))


def tz_database() -> tuple[str, str]:
    """``(version, source)`` of the tz database that zones are read from."""
    for root in zoneinfo.TZPATH:
        zi = os.path.join(root, "tzdata.zi")
        if os.path.isfile(zi):
            with open(zi, encoding="ascii", errors="replace") as f:
                line = f.readline()
            version = line.removeprefix("# version").strip() or "unknown"
            return version, root
    try:
        tzdata = importlib.import_module("tzdata")
    except ImportError:  # pragma: no cover - tzdata is a dependency
        return "unknown", "unknown"
    return str(tzdata.IANA_VERSION), f"tzdata {tzdata.__version__}"
