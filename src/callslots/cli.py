"""The ``callslots`` command line (standard library ``argparse`` only).

Commands read a campaign (a create-campaign JSON body) and print what it does:
``validate``, ``windows``, ``plan``, ``retry``, ``explain`` and ``simulate``.  Output is
streamed row by row in ``table`` form (for people), ``csv`` or ``jsonl`` (for programs:
ISO 8601 instants, whole seconds, ``YYYY-MM-DD`` days; columns in docs/cli.md), and
``windows`` also as an RFC 5545 calendar (``ics``).  Every mistake ends with one line
``callslots: error: ...`` on stderr (an invalid campaign: one such line per problem) and
exit status 2; no traceback reaches the user.  It uses only the library's public API.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, BinaryIO, Literal, NoReturn
from zoneinfo import ZoneInfo

from . import (
    Campaign,
    ConfigError,
    Outcome,
    Problem,
    RandomOutcomes,
    Summary,
    Window,
    __version__,
    simulate,
    tz_database,
)
from .customers import read_history
from .instants import parse_iso
from .jurisdiction import selected_rules
from .notes import day_text as _day_text
from .notes import duration_text as _duration
from .notes import local as _local
from .notes import removed_days as _removed_days
from .notes import window_note as _window_note
from .rulepack import load_pack

__all__ = ["main"]

UTC = timezone.utc
Row = dict[str, Any]

#: The time line callslots works on (the years 1-9999 of ``datetime``, in whole seconds).
FIRST_INSTANT = datetime(1, 1, 1, tzinfo=UTC)
LAST_INSTANT = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
#: Deeper JSON is refused: no campaign needs it, and the readers downstream recurse.
MAX_JSON_DEPTH = 100


class UsageError(Exception):
    """A mistake on the command line or in an input file: exit status 2.

    Each of ``lines`` is printed as ``callslots: error: <line>`` on stderr.
    """

    def __init__(self, *lines: str) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def _display(path: str) -> str:
    return "<stdin>" if path == "-" else path


def _problem_lines(source: str, problems: Iterable[Problem]) -> list[str]:
    return [f"{_display(source)}: {p.path or '(campaign)'}: {p.message}" for p in problems]


def _warn(source: str, problems: Iterable[Problem]) -> None:
    for line in _problem_lines(source, problems):
        print(f"callslots: warning: {line}", file=sys.stderr)


# -- WHEN -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class When:
    """A WHEN as written: ``value`` None for ``now``; a naive ``value`` (a date alone, or
    a date-time without an offset) is a wall clock in the campaign's zone."""

    text: str
    value: datetime | None


def _when(text: str) -> When:
    if text == "now":
        return When(text, None)
    try:
        return When(text, parse_iso(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{error}; or a date (2024-03-15), a campaign-local date-time (2024-03-15T09:00), "
            "or now"
        ) from None


Placed = datetime | Literal["before", "after"]


def _place(when: When, zone: ZoneInfo) -> Placed:
    """The instant ``when`` names, or which end of the time line it falls beyond."""
    value = when.value
    if value is None:
        return min(datetime.now(UTC), LAST_INSTANT)
    if value.utcoffset() is None:
        return _first_at_or_after(value, zone)
    try:
        found = value.astimezone(UTC)
    except OverflowError:  # a ±hh:mm offset carried it past year 1 or 9999
        return "before" if value.year == 1 else "after"
    return "after" if found > LAST_INSTANT else found


def _first_at_or_after(wall: datetime, zone: ZoneInfo) -> Placed:
    """The first instant whose wall clock in ``zone`` reads ``wall`` or later.

    That is the plain reading of ``wall`` when it happens once; its first occurrence
    when a clock change repeats it; and the end of the jump when a clock change skips
    it (a date whose midnight, or whole day, is skipped begins where the jump lands).
    """
    target = (0, wall)

    def clock(u: datetime) -> tuple[int, datetime]:  # comparable past years 1 and 9999
        shift, local = _local(u, zone)
        return shift, local.replace(tzinfo=None)

    candidates: list[datetime] = []
    for fold in (0, 1):
        offset = zone.utcoffset(wall.replace(fold=fold))
        assert offset is not None
        try:
            candidates.append((wall - offset).replace(tzinfo=UTC))
        except OverflowError:  # the wall clock of year 1 east of UTC, of 9999 west of it
            candidates.append(FIRST_INSTANT if offset > timedelta(0) else LAST_INSTANT)
    low = max(min(candidates), FIRST_INSTANT)
    high = min(max(candidates), LAST_INSTANT)
    if clock(low) >= target:
        return low
    if clock(high) < target:
        return "after"
    # A jump: the wall clock steps over `wall` between `low` and `high` (at most a day
    # apart), so bisect the whole seconds for the first one at or after it.
    below, above = 0, int((high - low).total_seconds())  # clock(below) < target <= clock(above)
    while above - below > 1:
        middle = (below + above) // 2
        if clock(low + timedelta(seconds=middle)) >= target:
            above = middle
        else:
            below = middle
    return low + timedelta(seconds=above)


def _range_bound(when: When, zone: ZoneInfo) -> datetime:
    """A WHEN that starts or ends a range (--from, --until): beyond the time line it is
    clamped to the time line's end."""
    found = _place(when, zone)
    if found == "before":
        return FIRST_INSTANT
    if found == "after":
        return LAST_INSTANT
    return found


def _point(when: When, zone: ZoneInfo, option: str) -> datetime:
    """A WHEN that names one instant (--at, --ended-at, --started-at)."""
    found = _place(when, zone)
    if found == "before":
        raise UsageError(
            f"{option} {when.text}: before 0001-01-01T00:00:00Z, where the time line begins"
        )
    if found == "after":
        raise UsageError(
            f"{option} {when.text}: after 9999-12-31T23:59:59Z, where the time line ends"
        )
    return found


def _ceil_second(t: datetime) -> datetime:
    return t if not t.microsecond else t.replace(microsecond=0) + timedelta(seconds=1)


def _whole(low: int, what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of {what} from {low}")
        return value

    return parse


# -- reading files ----------------------------------------------------------------------


def _read_text(path: str) -> str:
    try:
        if path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            data = stream.read() if stream is not None else sys.stdin.read().encode()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except OSError as e:
        raise UsageError(f"cannot read {_display(path)}: {e.strerror or e}") from None
    try:
        return data.decode("utf-8-sig")  # a byte-order mark, as spreadsheets write, is fine
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise UsageError(f"{_display(path)}: line {line}: not UTF-8 text") from None


class _BadNumber(Exception):
    pass


def _json_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # more digits than the interpreter converts (4300 by default)
        raise _BadNumber(text) from None


def _json_constant(name: str) -> NoReturn:
    raise _BadNumber(name)


def _read_json(path: str) -> Any:
    text = _read_text(path)
    shown = _display(path)
    try:
        data = json.loads(text, parse_int=_json_int, parse_constant=_json_constant)
    except json.JSONDecodeError as e:
        raise UsageError(
            f"{shown}: line {e.lineno}, column {e.colno}: invalid JSON: {e.msg}"
        ) from None
    except _BadNumber as e:
        number = str(e)
        at = text.find(number)
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        what = (
            f"{number} is not a JSON number"
            if not number[-1:].isdigit()
            else f"an integer of {len(number.lstrip('-'))} digits is too long to read"
        )
        raise UsageError(f"{shown}: line {line}, column {column}: {what}") from None
    except RecursionError:
        raise UsageError(f"{shown}: JSON nested more than {MAX_JSON_DEPTH} deep") from None
    _check_json(data, shown)
    return data


def _check_json(data: Any, shown: str) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and strings that are not Unicode text (a
    lone surrogate such as "\\ud800" is valid JSON but cannot be printed)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value, shown)
        elif isinstance(value, (list, dict)):
            if depth > MAX_JSON_DEPTH:
                raise UsageError(f"{shown}: JSON nested more than {MAX_JSON_DEPTH} deep")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key, shown)
                stack.append((item, depth + 1))


def _check_text(text: str, shown: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"{shown}: the string {text[:40]!r} holds a lone surrogate, not Unicode text"
        ) from None


def _load(path: str) -> Campaign:
    return _load_payload(path)[0]


def _load_payload(path: str) -> tuple[Campaign, Any]:
    """The campaign and the JSON it was read from."""
    payload = _read_json(path)
    try:
        campaign = Campaign.from_dict(payload, now=datetime.now(UTC))
    except ConfigError as e:
        raise UsageError(*_problem_lines(path, e.errors)) from None
    _warn(path, campaign.warnings)
    return campaign, payload


def _customers(path: str, campaign_path: str) -> Iterable[object]:
    """Customers from a JSON file (a list, or an object with customers/phoneList) or a
    CSV file (a phoneNumber or phone column, else the first column), read lazily."""
    if path == "-" and campaign_path == "-":
        raise UsageError("FILE and --customers cannot both be - (standard input)")
    if path.endswith(".json"):
        data = _read_json(path)
        if isinstance(data, dict):
            data = data.get("customers", data.get("phoneList"))
        if not isinstance(data, list):
            raise UsageError(
                f"{path}: expected a list of customers, or an object with customers or phoneList"
            )
        return data
    try:
        if path == "-":
            handle: BinaryIO = getattr(sys.stdin, "buffer", None) or io.BytesIO(
                sys.stdin.read().encode()
            )
        else:
            handle = open(path, "rb")  # noqa: SIM115 (closed by _csv_customers)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    return _csv_customers(handle, _display(path))


def _history(path: str, campaign_path: str) -> list[tuple[str, datetime, str]]:
    """Calls made elsewhere (docs/limits.md, section 4), read whole: a JSON list of
    ``[phone, at, outcome]`` or ``{"phone", "at", "outcome"}`` items, or a UTF-8 CSV
    with a header naming ``phone``, ``at`` and ``outcome``; ``at`` is ISO 8601 with an
    offset.  Every bad record is a line of the UsageError, with where it is."""
    if path == "-" and campaign_path == "-":
        raise UsageError("FILE and --history cannot both be - (standard input)")
    shown = _display(path)
    rows: list[tuple[str, object, object, object]] = []  # (where, phone, at, outcome)
    if path.endswith(".json"):
        data = _read_json(path)
        if not isinstance(data, list):
            raise UsageError(f"{shown}: expected a list of [phone, at, outcome] records")
        for i, item in enumerate(data):
            if isinstance(item, dict):
                item = [item.get("phone"), item.get("at"), item.get("outcome")]
            if not isinstance(item, list) or len(item) != 3:
                raise UsageError(
                    f"{shown}: record {i}: expected [phone, at, outcome] or "
                    '{"phone": ..., "at": ..., "outcome": ...}'
                )
            rows.append((f"record {i}", *item))
    else:
        try:
            handle: BinaryIO = (
                getattr(sys.stdin, "buffer", None) or io.BytesIO(sys.stdin.read().encode())
                if path == "-"
                else open(path, "rb")  # noqa: SIM115 (closed below)
            )
        except OSError as e:
            raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
        with handle:
            reader = csv.reader(_text_lines(handle, shown))
            header = [h.strip() for h in next(reader, [])]
            missing = [n for n in ("phone", "at", "outcome") if n not in header]
            if missing:
                raise UsageError(
                    f"{shown}: the header row must name phone, at and outcome "
                    f"({', '.join(missing)} missing)"
                )
            columns = [header.index(n) for n in ("phone", "at", "outcome")]
            for number, row in enumerate(reader, 2):
                if row:
                    cells = [row[c].strip() if c < len(row) else "" for c in columns]
                    rows.append((f"line {number}", cells[0], cells[1], cells[2]))
    problems: list[str] = []
    records: list[tuple[str, datetime, str]] = []
    for where, phone, at, outcome in rows:
        try:
            instant = parse_iso(at) if isinstance(at, str) else at
        except ValueError as e:
            problems.append(f"{shown}: {where}: at: {e}")
            continue
        try:
            read_history([(phone, instant, outcome)])
        except ConfigError as e:
            problems += [
                f"{shown}: {where}: {p.path.rsplit('.', 1)[1]}: {p.message}" for p in e.errors
            ]
            continue
        assert isinstance(phone, str) and isinstance(instant, datetime) and isinstance(outcome, str)
        records.append((phone, instant, outcome))
    if problems:
        raise UsageError(*problems)
    return records


def _text_lines(handle: BinaryIO, shown: str) -> Iterator[str]:
    """The lines of ``handle`` as UTF-8 text (a byte-order mark dropped), decoded one by
    one so that a line that is not UTF-8 is named by its number."""
    for number, line in enumerate(handle, 1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{shown}: line {number}: not UTF-8 text") from None
        yield text.removeprefix("\ufeff") if number == 1 else text


def _csv_customers(handle: BinaryIO, shown: str) -> Iterator[object]:
    """The customers of a CSV file, one row at a time; a row that cannot be read (not
    UTF-8, a field over the csv module's limit) ends the stream with a UsageError."""
    rows = csv.reader(_text_lines(handle, shown))
    with handle:
        try:
            header = next(rows, None)
            if header is None:
                return
            names = [h.strip() for h in header]
            column = next((names.index(n) for n in ("phoneNumber", "phone") if n in names), None)
            if column is None:  # no header: a plain list of numbers in the first column
                yield names[0] if names else ""
                yield from ((row[0].strip() if row else "") for row in rows if row)
                return
            for row in rows:
                if row:
                    phone = row[column].strip() if column < len(row) else ""
                    properties = {
                        k: v
                        for i, (k, v) in enumerate(zip(names, row, strict=False))
                        if i != column
                    }
                    yield {"phoneNumber": phone, "properties": properties}
        except csv.Error as e:
            raise UsageError(f"{shown}: line {rows.line_num}: {e}") from None


# -- writing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """One output column: ``name`` in csv and jsonl, ``kind`` how a value is written
    (see ``_data_cell`` and ``_table_cell``), ``width`` in the table, and ``title``
    there (None: not in the table, such as an abbreviation the table glues to a time)."""

    name: str
    kind: str
    width: int = 0
    title: str | None = ""

    @property
    def heading(self) -> str:
        return self.name if self.title == "" else (self.title or "")


class Output:
    """Rows to stdout as an aligned table, CSV or JSON lines, one row at a time; the
    table and CSV headers are written at once, so that no rows still means a header."""

    def __init__(self, form: str, columns: Sequence[Column], zone: ZoneInfo) -> None:
        self.form, self.zone, self.out = form, zone, sys.stdout
        self.columns = [c for c in columns if form != "table" or c.title is not None]
        header = [c.heading if form == "table" else c.name for c in self.columns]
        self.csv = csv.writer(self.out, lineterminator="\n") if form == "csv" else None
        if self.csv is not None:
            self.csv.writerow(header)
        elif form == "table":
            self.out.write(self._line(header) + "\n")

    def row(self, values: Row) -> None:
        if self.form == "table":
            cells = [_table_cell(c.kind, values[c.name], self.zone) for c in self.columns]
            self.out.write(self._line(cells) + "\n")
            return
        data = {c.name: _data_cell(c.kind, values[c.name], self.zone) for c in self.columns}
        if self.csv is not None:
            self.csv.writerow(["" if v is None else _csv_text(v) for v in data.values()])
        else:
            self.out.write(json.dumps(data, ensure_ascii=False) + "\n")

    def _line(self, cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(column.width) for cell, column in zip(cells, self.columns, strict=True)
        ).rstrip()


def _csv_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _data_cell(kind: str, value: Any, zone: ZoneInfo) -> Any:
    """A value as csv and jsonl write it (None: empty cell, JSON null)."""
    if value is None:
        return None
    if kind == "utc":
        return _utc_text(value)
    if kind == "local":
        shift, local = _local(value, zone)
        return _local_text(local) if shift == 0 else None
    if kind == "abbr":
        return _local(value, zone)[1].tzname()
    if kind == "day":
        return value.isoformat()
    if kind == "seconds":
        return int(value.total_seconds())
    return value


def _table_cell(kind: str, value: Any, zone: ZoneInfo) -> str:
    """A value as the table shows it to people."""
    if value is None:
        return ""
    if kind == "utc":
        return _utc_text(value)
    if kind == "local":
        shift, local = _local(value, zone)
        return f"{_local_text(local, shift)} {local.tzname()}"
    if kind == "day":
        return _day_text(value)
    if kind == "seconds":
        return _duration(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _utc_text(t: datetime) -> str:
    """``2024-11-03T06:30:00Z``, with the fraction of a second only when there is one
    (isoformat, not strftime: strftime drops the zeros of years before 1000)."""
    u = t.astimezone(UTC).replace(tzinfo=None)
    return u.isoformat(timespec="microseconds" if u.microsecond else "seconds") + "Z"


def _local_text(local: datetime, shift: int = 0) -> str:
    text = local.isoformat(timespec="microseconds" if local.microsecond else "seconds")
    if shift == 0:
        return text
    year = local.year + shift  # ISO 8601 writes years past 9999 with a sign
    return (f"+{year}" if year > 9999 else f"{year:04d}") + text[4:]


def _form(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    return "table" if sys.stdout.isatty() else "jsonl"


# -- the columns of each command (docs/cli.md prints them; tests/test_cli_formats.py
# -- checks the output against those tables) -------------------------------------------

WINDOWS_COLUMNS = (
    Column("day", "day", 14),
    Column("local_start", "local", 31),
    Column("local_start_abbr", "abbr", title=None),
    Column("local_end", "local", 31),
    Column("local_end_abbr", "abbr", title=None),
    Column("utc_start", "utc", 20),
    Column("utc_end", "utc", 20),
    Column("duration_seconds", "seconds", 8, "duration"),
    Column("note", "str"),
)
PLAN_COLUMNS = (
    Column("customer", "int", 8),
    Column("phone", "str", 16),
    Column("local", "local", 31),
    Column("local_abbr", "abbr", title=None),
    Column("utc", "utc", 20),
    Column("note", "str"),
)
RETRY_COLUMNS = (
    Column("outcome", "str", 20),
    Column("retry", "bool", 5),
    Column("utc", "utc", 20),
    Column("local", "local", 31),
    Column("local_abbr", "abbr", title=None),
    Column("reason", "str"),
)
EXPLAIN_COLUMNS = (
    Column("utc", "utc", 20),
    Column("local", "local", 31),
    Column("local_abbr", "abbr", title=None),
    Column("callable", "bool", 8),
    Column("rule", "str", 16),
    Column("reason", "str"),
)
SIMULATE_COLUMNS = (
    Column("customer", "int", 8),
    Column("phone", "str", 16),
    Column("attempt", "int", 7),
    Column("local", "local", 31),
    Column("local_abbr", "abbr", title=None),
    Column("utc", "utc", 20),
    Column("ended_utc", "utc", 20),
    Column("outcome", "str", 20),
    Column("retry_utc", "utc"),
)
SUMMARY_COLUMNS = (
    Column("finished_at", "utc"),
    Column("attempts", "int"),
    Column("reached", "int"),
    Column("not_reached", "int"),
    Column("cut_off", "int"),
    Column("unscheduled", "int"),
    Column("repeats", "int"),
    *(Column(f"attempts_{o.name.lower()}", "int") for o in Outcome),
    Column("held_by_limits", "int"),
)


# -- commands ---------------------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    campaign = _load(args.file)
    print(json.dumps(campaign.to_dict(), indent=2, ensure_ascii=False))
    # Which data the rules come from: a decision is only as good as its pack's version.
    written = campaign.to_dict()
    purpose, technology = written["callPurpose"], written["callTechnology"]
    for name in written["callingRules"]:
        found = load_pack(name)
        used = len(selected_rules((name,), purpose, technology))
        print(
            f"callslots: callingRules: {found.label} ({len(found.rules)} rules, {used} for "
            f"{purpose} calls placed by {', '.join(technology)}; {len(found.not_covered)} "
            "left out: docs/compliance.md, section 5)",
            file=sys.stderr,
        )
    return 0


def _local_date(t: datetime, zone: ZoneInfo) -> date:
    """The local date of ``t``, held to the years 1-9999."""
    shift, local = _local(t, zone)
    return local.date() if shift == 0 else date.max if shift > 0 else date.min


def _range(args: argparse.Namespace, campaign: Campaign) -> tuple[datetime, datetime | None]:
    """The listing's ``[start, end)`` in whole seconds; ``end`` None: to the time line's end."""
    zone = ZoneInfo(campaign.timezone)
    if args.start is not None:
        start = _range_bound(args.start, zone)
    else:
        start = min(datetime.now(UTC), LAST_INSTANT)
        if campaign.start_date is not None:
            first = _first_at_or_after(
                datetime.combine(campaign.start_date, datetime.min.time()), zone
            )
            if isinstance(first, datetime):
                start = max(start, first)
    start = _ceil_second(start)
    end: datetime | None
    if args.until is not None:
        end = _ceil_second(_range_bound(args.until, zone))
        if end <= start:
            raise UsageError(f"--until {args.until.text}: not after the start, {_utc_text(start)}")
    else:
        last_day = _local_date(start, zone).toordinal() + args.days
        midnight = (
            _first_at_or_after(
                datetime.combine(date.fromordinal(last_day), datetime.min.time()), zone
            )
            if last_day <= date.max.toordinal()
            else "after"
        )
        end = midnight if isinstance(midnight, datetime) and midnight < LAST_INSTANT else None
    return start, end


def _cmd_windows(args: argparse.Namespace) -> int:
    campaign = _load(args.file)
    start, end = _range(args, campaign)
    zone = ZoneInfo(campaign.timezone)
    windows = campaign.windows(start, end)
    if args.format == "ics":
        _write_ics(campaign, windows, zone)
        return 0
    out = Output(_form(args), WINDOWS_COLUMNS, zone)
    last = LAST_INSTANT if end is None else end - timedelta(seconds=1)
    removed = _removed_days(campaign, _local_date(start, zone), _local_date(last, zone))
    next_removed = 0

    def flush(before: date | None) -> None:
        nonlocal next_removed
        while next_removed < len(removed) and (before is None or removed[next_removed][0] < before):
            day, note = removed[next_removed]
            next_removed += 1
            out.row({**dict.fromkeys(c.name for c in WINDOWS_COLUMNS), "day": day, "note": note})

    count = 0
    for window in windows:
        flush(window.day)
        out.row(
            {
                "day": window.day,
                "local_start": window.start,
                "local_start_abbr": window.start,
                "local_end": window.end,
                "local_end_abbr": window.end,
                "utc_start": window.start,
                "utc_end": window.end,
                "duration_seconds": window.duration,
                "note": _window_note(campaign, window, zone),
            }
        )
        count += 1
    flush(None)
    if count == 0:
        print("callslots: no calling windows in this range", file=sys.stderr)
    return 0


# -- iCalendar (RFC 5545), written by hand so that it streams ------------------------------


def _ics_text(text: str) -> str:
    """A TEXT value escaped (RFC 5545, 3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _ics_line(content: str) -> str:
    """A content line folded after at most 75 octets, never inside a UTF-8 character
    (RFC 5545, 3.1), each piece ended by CRLF."""
    pieces: list[str] = []
    piece, size, limit = "", 0, 75
    for char in content:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(piece)
            piece, size, limit = " ", 1, 75  # a continuation line starts with one space
        piece += char
        size += width
    pieces.append(piece)
    return "\r\n".join(pieces) + "\r\n"


def _ics_instant(t: datetime) -> str:
    """A UTC DATE-TIME (RFC 5545, 3.3.5, form 2); iCalendar has no fractions of a second,
    so one is dropped."""
    u = t.astimezone(UTC)
    return f"{u.year:04d}{u.month:02d}{u.day:02d}T{u.hour:02d}{u.minute:02d}{u.second:02d}Z"


def _write_ics(campaign: Campaign, windows: Iterable[Window], zone: ZoneInfo) -> None:
    out = sys.stdout
    out.write(
        _ics_line("BEGIN:VCALENDAR")
        + _ics_line("VERSION:2.0")
        + _ics_line(f"PRODID:-//callslots {__version__}//calling windows//EN")
        + _ics_line(f"X-WR-TIMEZONE:{_ics_text(campaign.timezone)}")
    )
    for window in windows:
        start, end = _ics_instant(window.start), _ics_instant(window.end)
        lines = [
            "BEGIN:VEVENT",
            f"UID:{start}-{end}@callslots",
            f"DTSTAMP:{start}",
            f"DTSTART:{start}",
            f"DTEND:{end}",
            "SUMMARY:" + _ics_text(f"Calling window ({_day_text(window.day)})"),
        ]
        note = _window_note(campaign, window, zone)
        if note:
            lines.append(f"DESCRIPTION:{_ics_text(note)}")
        lines.append("END:VEVENT")
        out.write("".join(_ics_line(line) for line in lines))
    out.write(_ics_line("END:VCALENDAR"))


def _cmd_plan(args: argparse.Namespace) -> int:
    campaign = _load(args.file)
    zone = ZoneInfo(campaign.timezone)
    start = None if args.start is None else _range_bound(args.start, zone)
    customers = _customers(args.customers, args.file) if args.customers else None
    out = Output(_form(args), PLAN_COLUMNS, zone)
    try:
        for i, slot in enumerate(campaign.plan(customers, start=start)):
            if args.limit is not None and i >= args.limit:
                break
            out.row(
                {
                    "customer": slot.customer_index,
                    "phone": slot.phone,
                    "local": slot.at,
                    "local_abbr": slot.at,
                    "utc": slot.at,
                    "note": slot.note,
                }
            )
    except ConfigError as e:  # a customer that cannot be dialed
        raise UsageError(*_problem_lines(args.customers or args.file, e.errors)) from None
    except TypeError as e:  # spread with a stream
        raise UsageError(str(e)) from None
    return 0


def _outcome(args: argparse.Namespace) -> Outcome:
    try:
        if args.sip is not None:
            return Outcome.from_sip(args.sip)
        if args.q850 is not None:
            return Outcome.from_q850(args.q850)
        return Outcome.parse(args.outcome)
    except ValueError as e:
        option = (
            "--sip" if args.sip is not None else "--q850" if args.q850 is not None else "--outcome"
        )
        raise UsageError(f"{option}: {e}") from None


def _cmd_retry(args: argparse.Namespace) -> int:
    campaign = _load(args.file)
    zone = ZoneInfo(campaign.timezone)
    outcome = _outcome(args)
    ended_at = _point(args.ended_at, zone, "--ended-at")
    started_at = None if args.started_at is None else _point(args.started_at, zone, "--started-at")
    try:
        decision = campaign.retry(outcome, args.attempt, ended_at, started_at=started_at)
    except ValueError as e:
        raise UsageError(str(e)) from None
    out = Output(_form(args), RETRY_COLUMNS, zone)
    out.row(
        {
            "outcome": outcome.value,
            "retry": decision.retry,
            "utc": decision.at,
            "local": decision.at,
            "local_abbr": decision.at,
            "reason": decision.reason,
        }
    )
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    campaign = _load(args.file)
    zone = ZoneInfo(campaign.timezone)
    instants = [_point(when, zone, "--at") for when in args.at]
    out = Output(_form(args), EXPLAIN_COLUMNS, zone)
    history = None
    if args.history is not None:
        if args.phone is None:
            raise UsageError("--history needs --phone: whose calls are they?")
        history = _history(args.history, args.file)
    for at in instants:
        try:
            explanation = campaign.explain(at, args.phone, history)
        except ConfigError as e:  # a bad --phone, or no way to find its zone
            raise UsageError(f"--phone: {e.errors[0].message}") from None
        for reason in explanation.reasons:
            out.row(
                {
                    "utc": explanation.at,
                    "local": explanation.at,
                    "local_abbr": explanation.at,
                    "callable": explanation.callable,
                    "rule": reason.rule,
                    "reason": reason.message,
                }
            )
    return 0


def _weights(text: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            weights[Outcome.parse(name.strip()).value] = float(value)
        except ValueError as e:
            message = str(e) if not sep or "outcome" in str(e) else f"{value!r} is not a number"
            raise argparse.ArgumentTypeError(f"bad weight {part!r}: {message}") from None
    return weights


def _cmd_simulate(args: argparse.Namespace) -> int:
    campaign = _load(args.file)
    zone = ZoneInfo(campaign.timezone)
    start = None if args.start is None else _range_bound(args.start, zone)
    try:
        model = RandomOutcomes(args.seed, args.weights, args.mean_duration)
    except ValueError as e:
        raise UsageError(str(e)) from None
    customers = _customers(args.customers, args.file) if args.customers else None
    history = None if args.history is None else _history(args.history, args.file)
    simulation = simulate(campaign, model, customers, start=start, history=history)
    form = _form(args)
    out = None if args.summary_only else Output(form, SIMULATE_COLUMNS, zone)
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        for n, attempt in enumerate(simulation, 1):
            if progress is not None:
                progress.tick(n, attempt.at)
            if out is not None:
                out.row(
                    {
                        "customer": attempt.customer_index,
                        "phone": attempt.phone,
                        "attempt": attempt.attempt,
                        "local": attempt.at,
                        "local_abbr": attempt.at,
                        "utc": attempt.at,
                        "ended_utc": attempt.ended_at,
                        "outcome": attempt.outcome.value,
                        "retry_utc": attempt.retry_at,
                    }
                )
    except ConfigError as e:
        raise UsageError(*_problem_lines(args.customers or args.file, e.errors)) from None
    finally:
        if progress is not None:
            progress.done()
    summary = simulation.summary
    if form != "table" and args.summary_only:
        Output(form, SUMMARY_COLUMNS, zone).row(_summary_row(summary))
    else:  # for people: after the table, or on stderr to keep a csv or jsonl stream one table
        print(_summary_text(summary), file=sys.stdout if form == "table" else sys.stderr)
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from . import report

    # The extra first: without it nothing else is worth reading.
    try:
        report._matplotlib()
    except report.MissingReportExtra as e:
        raise UsageError(str(e)) from None
    campaign, payload = _load_payload(args.file)
    name = payload.get("name") if isinstance(payload, dict) else None
    title = name if isinstance(name, str) and name.strip() else _display(args.file)
    zone = ZoneInfo(campaign.timezone)
    start = None if args.start is None else _range_bound(args.start, zone)
    try:
        model = RandomOutcomes(args.seed, args.weights, args.mean_duration)
    except ValueError as e:
        raise UsageError(str(e)) from None
    given = _customers(args.customers, args.file) if args.customers else None
    history = None if args.history is None else _history(args.history, args.file)
    # A stream (CSV) is labelled with its zones as the simulation reads it; the
    # campaign's own customers and a JSON list go to the simulation as simulate gives
    # them (so that spread, which counts them first, works the same) and are looked up
    # by index.
    customers = (
        given if given is None or isinstance(given, Sequence) else report.labelled(campaign, given)
    )
    # The same simulation as `callslots simulate` with the same options: its figures
    # are the page's.
    simulation = simulate(campaign, model, customers, start=start, history=history)
    try:
        built = report.build(campaign, simulation, customers=customers, start=start, days=args.days)
    except ConfigError as e:
        raise UsageError(*_problem_lines(args.customers or args.file, e.errors)) from None
    command = " ".join(["callslots", *(_shell_word(a) for a in sys.argv[1:])])
    page = report.to_html(built, command, title)
    if args.output == "-":
        sys.stdout.write(page)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(page)
    except OSError as e:
        raise UsageError(f"cannot write {args.output}: {e.strerror or e}") from None
    return 0


def _shell_word(word: str) -> str:
    import shlex

    return shlex.quote(word)


def _summary_row(summary: Summary) -> Row:
    by_outcome = summary.attempts_by_outcome
    return {
        "finished_at": summary.finished_at,
        "attempts": summary.attempts,
        "reached": summary.reached,
        "not_reached": summary.not_reached,
        "cut_off": summary.cut_off,
        "unscheduled": summary.unscheduled,
        "repeats": summary.repeats,
        **{f"attempts_{o.name.lower()}": by_outcome.get(o, 0) for o in Outcome},
        "held_by_limits": summary.held_by_limits,
    }


def _summary_text(summary: Summary) -> str:
    finished = "-" if summary.finished_at is None else _utc_text(summary.finished_at)
    by_outcome = sorted(summary.attempts_by_outcome.items(), key=lambda kv: -kv[1])
    lines = [
        "",
        f"finished at   {finished}",
        f"attempts      {summary.attempts}",
        *(f"  {o.value:<22}{n}" for o, n in by_outcome),
        f"reached       {summary.reached}",
        f"not reached   {summary.not_reached} ({summary.cut_off} cut off by the campaign's end)",
        f"unscheduled   {summary.unscheduled}",
        f"repeats       {summary.repeats}",
        *(
            [f"held by limits {summary.held_by_limits} (attempts put back by contact limits)"]
            if summary.held_by_limits
            else []
        ),
        "calls per day",
        *(f"  {day.isoformat()}  {n}" for day, n in summary.calls_per_day.items()),
    ]
    return "\n".join(lines)


class _Progress:
    """A one-line progress report on a terminal's stderr, at most every 0.2 s."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.shown = False

    def tick(self, count: int, at: datetime) -> None:
        now = time.monotonic()
        if now - self.last >= 0.2:
            self.last = now
            self.shown = True
            sys.stderr.write(f"\r{count:,} attempts, now at {_utc_text(at)} ")
            sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


# -- the parser -------------------------------------------------------------------------

WHEN_HELP = """\
WHEN is one of:
  2024-03-15T09:00:00-04:00  an ISO 8601 instant with its offset; Z for UTC
                             (2024-03-15T13:00:00Z), the basic form
                             (20240315T130000Z) and fractions of a second too
  2024-03-15                 a date alone: the first instant of that date in the
                             campaign's timezone (its midnight; where a clock
                             change skips midnight, the instant the clocks land)
  2024-03-15T09:00           a date and time without an offset: the campaign's
                             wall clock (a time a clock change skips: the instant
                             the clocks land; a time it repeats: the first one)
  now                        the current time
The time line runs from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z; a --from or
--until beyond it is clamped to it, any other WHEN beyond it is an error."""

CUSTOMERS_HELP = """\
--customers PATH:
  *.json    a JSON list of E.164 numbers or {"phoneNumber": ..., "properties": {...}}
            objects, or an object holding that list under "customers" or "phoneList"
  other, - UTF-8 CSV (- is standard input), comma-separated, read row by row: a
            header row with a phoneNumber (or phone) column holding the number, every
            other column a property named by its header; with neither column there
            is no header and each row's first column is the number"""

HISTORY_HELP = """\
--history PATH: calls made before or elsewhere, counted by contactLimits:
  *.json    a JSON list of [phone, at, outcome] or {"phone", "at", "outcome"} records
  other, - UTF-8 CSV with a header row naming phone, at and outcome columns
  at is ISO 8601 with an offset (2026-03-02T14:00:00Z); outcome an outcome name"""

EXIT_HELP = """\
exit status: 0 done; 2 a usage mistake or invalid input (one line per problem on
stderr, each starting 'callslots: error:'); 130 interrupted (Ctrl-C). When the reader
of stdout goes away (| head), callslots stops quietly with status 0."""


def _formats_help(formats: Sequence[str], columns: Sequence[Column], rows: str) -> str:
    def item(name: str, text: str) -> str:
        return textwrap.fill(text, 86, initial_indent=f"  {name:<7}", subsequent_indent=" " * 9)

    lines = ["--format:"]
    if "table" in formats:
        lines.append(item("table", "aligned columns for people (the default on a terminal)"))
    lines += [
        item("csv", f"a header row, then {rows} (the header also when there are none)"),
        item(
            "jsonl",
            f"one JSON object per line, {rows} (the default when stdout is not a terminal)",
        ),
    ]
    if "ics" in formats:
        lines.append(item("ics", "an RFC 5545 calendar, one VEVENT per window, in UTC"))
    names = ", ".join(c.name for c in columns)
    lines.append(
        textwrap.fill(
            f"csv and jsonl columns: {names}. Instants are ISO 8601 (UTC with Z, local with "
            "its offset), days YYYY-MM-DD, durations whole seconds; empty (csv) or null "
            "(jsonl) when absent. docs/cli.md gives each column's type.",
            86,
            initial_indent="  ",
            subsequent_indent="  ",
        )
    )
    return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake answered in one line (and exit status 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _parser() -> argparse.ArgumentParser:
    version, source = tz_database()
    parser = _Parser(
        prog="callslots",
        description="When may this campaign place a call? FILE is a create-campaign JSON\n"
        "body, or - for standard input. COMMAND --help explains each command.",
        epilog=f"{WHEN_HELP}\n\n{EXIT_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"callslots {__version__} (tz database {version}, {source})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str,
        help: str,
        run: Callable[[argparse.Namespace], int],
        epilog: Sequence[str],
        formats: Sequence[str] = ("table", "csv", "jsonl"),
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help,
            description=help,
            epilog="\n\n".join([*epilog, EXIT_HELP]),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument(
            "file", metavar="FILE", help="the campaign: create-campaign JSON, or - for stdin"
        )
        if formats:
            sub.add_argument(
                "--format",
                choices=formats,
                help="output form (default: table on a terminal, jsonl otherwise)",
            )
        sub.set_defaults(run=run)
        return sub

    command(
        "validate",
        "check a campaign: print it normalized (JSON), or every problem",
        _cmd_validate,
        [
            "A valid campaign is printed as JSON on stdout, every default filled in, and its "
            "warnings\ngo to stderr. An invalid one prints every problem on stderr, one line "
            "each:\n  callslots: error: FILE: PATH: message"
        ],
        (),
    )

    windows = command(
        "windows",
        "list the calling windows in local time and UTC",
        _cmd_windows,
        [
            WHEN_HELP,
            _formats_help(("table", "csv", "jsonl", "ics"), WINDOWS_COLUMNS, "a row per window"),
        ],
        ("table", "csv", "jsonl", "ics"),
    )
    windows.add_argument(
        "--from",
        dest="start",
        type=_when,
        metavar="WHEN",
        help="start here (default: now, or the campaign's first day if later); "
        "a fraction of a second is rounded up",
    )
    span = windows.add_mutually_exclusive_group()
    span.add_argument("--until", type=_when, metavar="WHEN", help="stop here")
    span.add_argument(
        "--days",
        type=_whole(1, "days"),
        default=14,
        metavar="N",
        help="stop at the end of the N-th local day, counting the day of --from "
        "(default 14; past 9999-12-31, at the end of the time line)",
    )

    plan = command(
        "plan",
        "the first call of every customer",
        _cmd_plan,
        [WHEN_HELP, CUSTOMERS_HELP, _formats_help(("table",), PLAN_COLUMNS, "a row per customer")],
    )
    plan.add_argument(
        "--customers", metavar="PATH", help="customers instead of the file's (see below)"
    )
    plan.add_argument("--limit", type=_whole(1, "rows"), metavar="N", help="print at most N rows")
    plan.add_argument("--from", dest="start", type=_when, metavar="WHEN", help="plan from here")

    retry = command(
        "retry",
        "whether and when a call is retried, and why",
        _cmd_retry,
        [
            WHEN_HELP,
            "OUTCOME is an API retry condition, spelled leniently ('No Answer', no_answer,\n"
            "busy, voicemail, ...), or Completed; docs/outcomes.md lists them with the SIP and\n"
            "Q.850 tables behind --sip and --q850.",
            _formats_help(("table",), RETRY_COLUMNS, "one row"),
        ],
    )
    how = retry.add_mutually_exclusive_group(required=True)
    how.add_argument("--outcome", metavar="OUTCOME", help="an outcome name, such as 'No Answer'")
    how.add_argument("--sip", type=int, metavar="CODE", help="the final SIP response code")
    how.add_argument("--q850", type=int, metavar="CAUSE", help="the Q.850 cause value")
    retry.add_argument(
        "--attempt",
        type=_whole(1, "attempts"),
        required=True,
        metavar="N",
        help="the attempt that ended (1 = the first call)",
    )
    retry.add_argument(
        "--ended-at", type=_when, required=True, metavar="WHEN", help="when the call ended"
    )
    retry.add_argument("--started-at", type=_when, metavar="WHEN", help="when the call started")

    why = command(
        "explain",
        "why an instant is or is not callable",
        _cmd_explain,
        [
            WHEN_HELP,
            "NUMBER is an E.164 phone number (+14155550100).",
            HISTORY_HELP,
            _formats_help(("table",), EXPLAIN_COLUMNS, "a row per reason"),
        ],
    )
    why.add_argument(
        "--at",
        type=_when,
        required=True,
        action="append",
        metavar="WHEN",
        help="the instant to explain (repeat for several)",
    )
    why.add_argument(
        "--phone",
        metavar="NUMBER",
        help="for this customer: adds its own hours under recipientHours",
    )
    why.add_argument(
        "--history",
        metavar="PATH",
        help="the customer's calls made elsewhere, for contactLimits (see below)",
    )

    sim = command(
        "simulate",
        "play the campaign forward, retries included",
        _cmd_simulate,
        [
            WHEN_HELP,
            CUSTOMERS_HELP,
            HISTORY_HELP,
            _formats_help(("table",), SIMULATE_COLUMNS, "a row per attempt")
            + "\n"
            + textwrap.fill(
                "The summary follows the table in table form, and goes to stderr as text "
                "with csv and jsonl; with --summary-only, csv and jsonl write it on stdout "
                "as one row: " + ", ".join(c.name for c in SUMMARY_COLUMNS) + ".",
                86,
                initial_indent="  ",
                subsequent_indent="  ",
            ),
        ],
    )
    sim.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sim.add_argument(
        "--weights",
        type=_weights,
        metavar="'OUTCOME=W,...'",
        help="outcome weights, such as 'Completed=0.4,No Answer=0.4,Busy=0.2'",
    )
    sim.add_argument(
        "--mean-duration",
        type=float,
        metavar="SECONDS",
        help="mean call length (default 180 s completed, 30 s otherwise)",
    )
    sim.add_argument("--customers", metavar="PATH", help="customers instead of the file's")
    sim.add_argument(
        "--history", metavar="PATH", help="calls made elsewhere, for contactLimits (see below)"
    )
    sim.add_argument("--from", dest="start", type=_when, metavar="WHEN", help="start here")
    sim.add_argument("--summary-only", action="store_true", help="print only the summary")

    rep = command(
        "report",
        "one self-contained HTML page with charts of the campaign and a simulated run",
        _cmd_report,
        [
            WHEN_HELP,
            CUSTOMERS_HELP,
            HISTORY_HELP,
            "The page runs the same simulation as 'callslots simulate' with the same options\n"
            "(--seed, --weights, --mean-duration, --customers, --history, --from): its figures\n"
            "are the ones simulate prints. It needs matplotlib: "
            "pip install 'callslots[report]'.\ndocs/report.md describes every chart.",
        ],
        (),
    )
    rep.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="PATH",
        help="where to write the page (- for standard output)",
    )
    rep.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    rep.add_argument(
        "--weights",
        type=_weights,
        metavar="'OUTCOME=W,...'",
        help="outcome weights, as for simulate",
    )
    rep.add_argument(
        "--mean-duration", type=float, metavar="SECONDS", help="mean call length, as for simulate"
    )
    rep.add_argument("--customers", metavar="PATH", help="customers instead of the file's")
    rep.add_argument(
        "--history", metavar="PATH", help="calls made elsewhere, for contactLimits (see below)"
    )
    rep.add_argument(
        "--from",
        dest="start",
        type=_when,
        metavar="WHEN",
        help="simulate from here, and draw the windows from here (default: the campaign's "
        "start, else now)",
    )
    rep.add_argument(
        "--days",
        type=_whole(1, "days"),
        default=14,
        metavar="N",
        help="draw the windows of N local days (default 14); the simulation runs to the end",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0, 2 or 130)."""
    try:
        args = _parser().parse_args(argv)
        status = int(args.run(args))
        sys.stdout.flush()  # a closed pipe shows here, inside the try
        return status
    except UsageError as e:
        for line in e.lines:
            print(f"callslots: error: {line}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (| head): end quietly, like other Unix tools, and keep
        # the interpreter's last flush of stdout from failing again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
