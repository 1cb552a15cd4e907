"""The ``callslots`` command line (standard library ``argparse`` only).

Commands read a campaign (a create-campaign JSON body) and print what it does:
``validate``, ``windows``, ``plan``, ``retry``, ``explain`` and ``simulate``.  Output is streamed
row by row in ``table``, ``csv`` or ``jsonl`` form (``windows`` also ``ics``).  Every
user mistake ends with a one-line message on stderr and exit status 2; no traceback
reaches the user.  It uses only the library's public API.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from . import (
    Campaign,
    ConfigError,
    Outcome,
    RandomOutcomes,
    Window,
    __version__,
    simulate,
    tz_database,
)

__all__ = ["main"]

UTC = timezone.utc
Row = dict[str, Any]


class UsageError(Exception):
    """A mistake on the command line or in an input file: one message, exit 2."""


# -- reading ----------------------------------------------------------------------------


def _instant(text: str) -> datetime:
    if text == "now":
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 instant (like 2024-03-10T09:00:00-05:00) or 'now'"
        ) from None
    if value.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset; add Z or one like -05:00")
    return value


def _whole(low: int, what: str) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of {what} from {low}")
        return value

    return parse


def _read_text(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None


def _read_json(path: str) -> Any:
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(
            f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None


def _load(path: str, now: datetime) -> Campaign:
    payload = _read_json(path)
    try:
        campaign = Campaign.from_dict(payload, now=now)
    except ConfigError as e:
        raise UsageError("\n".join(f"{path}: {problem}" for problem in e.errors)) from None
    for warning in campaign.warnings:
        print(f"{path}: warning: {warning}", file=sys.stderr)
    return campaign


def _customers(path: str) -> Iterable[object]:
    """Customers from a JSON file (a list, or an object with customers/phoneList) or a
    CSV file (a phoneNumber or phone column, else the first column), read lazily."""
    if path.endswith(".json"):
        data = _read_json(path)
        if isinstance(data, dict):
            data = data.get("customers", data.get("phoneList"))
        if not isinstance(data, list):
            raise UsageError(f"{path}: expected a list of customers (or customers/phoneList)")
        return data
    try:
        handle = sys.stdin if path == "-" else open(path, encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    return _csv_customers(handle)


def _csv_customers(handle: TextIO) -> Iterator[object]:
    rows = csv.reader(handle)
    header = next(rows, None)
    if header is None:
        return
    names = [h.strip() for h in header]
    column = next((names.index(n) for n in ("phoneNumber", "phone") if n in names), None)
    if column is None:  # no header: a plain list of numbers in the first column
        yield names[0]
        yield from (row[0].strip() for row in rows if row)
        return
    for row in rows:
        if row:
            properties = {k: v for k, v in zip(names, row, strict=False) if k != names[column]}
            yield {"phoneNumber": row[column].strip(), "properties": properties}


# -- writing ----------------------------------------------------------------------------


class Output:
    """Rows to stdout as an aligned table, CSV or JSON lines, one row at a time."""

    def __init__(self, form: str, columns: Sequence[tuple[str, int]], out: TextIO) -> None:
        self.form, self.columns, self.out = form, columns, out
        self.started = False
        self.csv = csv.writer(out, lineterminator="\n") if form == "csv" else None

    def row(self, values: Row) -> None:
        if self.form == "jsonl":
            self.out.write(json.dumps(values, ensure_ascii=False) + "\n")
            return
        cells = [_cell(values[name]) for name, _ in self.columns]
        if not self.started:
            self.started = True
            header = [name for name, _ in self.columns]
            if self.csv is not None:
                self.csv.writerow(header)
            else:
                self.out.write(self._line(header) + "\n")
        if self.csv is not None:
            self.csv.writerow(cells)
        else:
            self.out.write(self._line(cells) + "\n")

    def _line(self, cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) for cell, (_, width) in zip(cells, self.columns, strict=True)
        ).rstrip()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _z(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(t: datetime | None, zone: ZoneInfo) -> str | None:
    if t is None:
        return None
    local = t.astimezone(zone)
    return f"{local.isoformat(timespec='seconds')} {local.tzname()}"


def _duration(delta: timedelta) -> str:
    minutes, seconds = divmod(int(delta.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" + (f"{seconds:02d}s" if seconds else "")


def _form(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    return "table" if sys.stdout.isatty() else "jsonl"


# -- commands ---------------------------------------------------------------------------


def _cmd_validate(args: argparse.Namespace) -> int:
    payload = _read_json(args.file)
    try:
        campaign = Campaign.from_dict(payload, now=datetime.now(UTC))
    except ConfigError as e:
        for problem in e.errors:
            print(f"{problem.path or '(campaign)'}: {problem.message}")
        return 2
    for warning in campaign.warnings:
        print(f"{args.file}: warning: {warning}", file=sys.stderr)
    print(json.dumps(campaign.to_dict(), indent=2, ensure_ascii=False))
    return 0


def _window_note(campaign: Campaign, window: Window, zone: ZoneInfo) -> str | None:
    """A window whose real length differs from its wall-clock length: say so."""
    hours = campaign.day_rule(window.day).hours
    nominal = timedelta(seconds=hours.seconds) if hours else window.duration
    first, last = window.start.astimezone(zone), window.end.astimezone(zone)
    change = first.utcoffset() != last.utcoffset()
    if window.duration == nominal and not change:
        return None
    note = f"lasts {_duration(window.duration)}, the wall-clock window is {_duration(nominal)}"
    return note + (f"; clock change {first.tzname()} -> {last.tzname()}" if change else "")


def _range(
    args: argparse.Namespace, campaign: Campaign, now: datetime
) -> tuple[datetime, datetime]:
    zone = ZoneInfo(campaign.timezone)
    start = args.start or now
    if args.start is None and campaign.start_date is not None:
        start = max(start, datetime.combine(campaign.start_date, datetime.min.time(), zone))
    if args.until is not None:
        end = args.until
    else:
        end = datetime.combine(
            start.astimezone(zone).date() + timedelta(days=args.days), datetime.min.time(), zone
        )
    if end <= start:
        raise UsageError("--until must be after --from")
    return start, end


def _cmd_windows(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    campaign = _load(args.file, now)
    start, end = _range(args, campaign, now)
    zone = ZoneInfo(campaign.timezone)
    windows = campaign.windows(start, end)
    if args.format == "ics":
        return _write_ics(campaign, windows, zone)
    out = Output(
        _form(args),
        [
            ("day", 14),
            ("local_start", 31),
            ("local_end", 31),
            ("utc_start", 20),
            ("utc_end", 20),
            ("duration", 8),
            ("note", 0),
        ],
        sys.stdout,
    )
    removed = _removed_days(
        campaign,
        start.astimezone(zone).date(),
        (end - timedelta(seconds=1)).astimezone(zone).date(),
    )

    def flush(before: date | None) -> None:
        while removed and (before is None or removed[0][0] < before):
            day, note = removed.pop(0)
            empty = dict.fromkeys(("local_start", "local_end", "utc_start", "utc_end", "duration"))
            out.row({"day": f"{day:%a %Y-%m-%d}", **empty, "note": note})

    count = 0
    for window in windows:
        flush(window.day)
        out.row(
            {
                "day": f"{window.day:%a %Y-%m-%d}",
                "local_start": _local(window.start, zone),
                "local_end": _local(window.end, zone),
                "utc_start": _z(window.start),
                "utc_end": _z(window.end),
                "duration": _duration(window.duration),
                "note": _window_note(campaign, window, zone),
            }
        )
        count += 1
    flush(None)
    if count == 0:
        print("no calling windows in this range", file=sys.stderr)
    return 0


def _removed_days(campaign: Campaign, first: date, last: date) -> list[tuple[date, str]]:
    """The dates of ``first..last`` that a blackout or a holiday took a window from,
    with a note naming the rule (a blackout range is one entry)."""
    found: list[tuple[date, str]] = []
    for a, b in campaign.blackouts:
        a, b = max(a, first), min(b, last)
        if a <= b:
            through = "" if a == b else f" through {b:%a %Y-%m-%d}"
            found.append((a, f"no window{through}: blackoutDates"))
    if campaign.holidays is not None:
        for day, _ in campaign.holidays.dates:
            if first <= day <= last and campaign.hours_on(day.weekday()) is not None:
                rule = campaign.day_rule(day)
                if rule.rule == "holiday":
                    found.append((day, f"no window: {rule.reason}"))
    return sorted(found)


def _write_ics(campaign: Campaign, windows: Iterable[Window], zone: ZoneInfo) -> int:
    try:
        icalendar = importlib.import_module("icalendar")
    except ImportError:
        raise UsageError(
            "--format ics needs the icalendar package: pip install 'callslots[ics]'"
        ) from None
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//callslots {__version__}//calling windows//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-timezone", campaign.timezone)
    for window in windows:
        event = icalendar.Event()
        event.add("uid", f"{_z(window.start)}-{_z(window.end)}@callslots")
        event.add("dtstamp", window.start)
        event.add("dtstart", window.start)
        event.add("dtend", window.end)
        summary = f"Calling window ({window.day:%a %Y-%m-%d})"
        note = _window_note(campaign, window, zone)
        event.add("summary", summary)
        if note:
            event.add("description", note)
        calendar.add_component(event)
    sys.stdout.write(calendar.to_ical().decode("utf-8"))
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    campaign = _load(args.file, now)
    zone = ZoneInfo(campaign.timezone)
    customers = _customers(args.customers) if args.customers else None
    out = Output(
        _form(args),
        [("customer", 8), ("phone", 16), ("local", 31), ("utc", 20), ("note", 0)],
        sys.stdout,
    )
    try:
        for i, slot in enumerate(campaign.plan(customers, start=args.start)):
            if args.limit is not None and i >= args.limit:
                break
            out.row(
                {
                    "customer": slot.customer_index,
                    "phone": slot.phone,
                    "local": _local(slot.at, zone),
                    "utc": _z(slot.at),
                    "note": slot.note,
                }
            )
    except ConfigError as e:
        raise UsageError("; ".join(str(p) for p in e.errors)) from None
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
        raise UsageError(str(e)) from None


def _cmd_retry(args: argparse.Namespace) -> int:
    campaign = _load(args.file, datetime.now(UTC))
    outcome = _outcome(args)
    try:
        decision = campaign.retry(outcome, args.attempt, args.ended_at, started_at=args.started_at)
    except ValueError as e:
        raise UsageError(str(e)) from None
    zone = ZoneInfo(campaign.timezone)
    out = Output(
        _form(args),
        [("outcome", 20), ("retry", 5), ("utc", 20), ("local", 31), ("reason", 0)],
        sys.stdout,
    )
    out.row(
        {
            "outcome": outcome.value,
            "retry": decision.retry,
            "utc": _z(decision.at),
            "local": _local(decision.at, zone),
            "reason": decision.reason,
        }
    )
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    campaign = _load(args.file, datetime.now(UTC))
    out = Output(
        _form(args),
        [("utc", 20), ("local", 27), ("callable", 8), ("rule", 16), ("reason", 0)],
        sys.stdout,
    )
    for at in args.at:
        try:
            explanation = campaign.explain(at, args.phone)
        except ConfigError as e:  # a bad --phone, or no way to find its zone
            raise UsageError(f"--phone: {e.errors[0].message}") from None
        for reason in explanation.reasons:
            out.row(
                {
                    "utc": _z(explanation.at),
                    "local": explanation.local,
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
    campaign = _load(args.file, datetime.now(UTC))
    zone = ZoneInfo(campaign.timezone)
    try:
        model = RandomOutcomes(args.seed, args.weights, args.mean_duration)
    except ValueError as e:
        raise UsageError(str(e)) from None
    customers = _customers(args.customers) if args.customers else None
    simulation = simulate(campaign, model, customers, start=args.start)
    form = _form(args)
    out = Output(
        form,
        [
            ("customer", 8),
            ("phone", 16),
            ("attempt", 7),
            ("local", 31),
            ("utc", 20),
            ("ended_utc", 20),
            ("outcome", 20),
            ("retry_utc", 20),
        ],
        sys.stdout,
    )
    progress = _Progress() if sys.stderr.isatty() else None
    try:
        for n, attempt in enumerate(simulation, 1):
            if progress is not None:
                progress.tick(n, attempt.at)
            if args.summary_only:
                continue
            out.row(
                {
                    "customer": attempt.customer_index,
                    "phone": attempt.phone,
                    "attempt": attempt.attempt,
                    "local": _local(attempt.at, zone),
                    "utc": _z(attempt.at),
                    "ended_utc": _z(attempt.ended_at),
                    "outcome": attempt.outcome.value,
                    "retry_utc": _z(attempt.retry_at),
                }
            )
    except ConfigError as e:
        raise UsageError("; ".join(str(p) for p in e.errors)) from None
    finally:
        if progress is not None:
            progress.done()
    _print_summary(simulation.summary, form)
    return 0


def _print_summary(summary: Any, form: str) -> None:
    data = {
        "finished_at": _z(summary.finished_at),
        "attempts": summary.attempts,
        "attempts_by_outcome": {
            o.value: n
            for o, n in sorted(summary.attempts_by_outcome.items(), key=lambda kv: -kv[1])
        },
        "reached": summary.reached,
        "not_reached": summary.not_reached,
        "cut_off": summary.cut_off,
        "unscheduled": summary.unscheduled,
        "repeats": summary.repeats,
        "calls_per_day": {d.isoformat(): n for d, n in summary.calls_per_day.items()},
    }
    if form == "jsonl":
        print(json.dumps({"summary": data}))
        return
    target = sys.stdout if form == "table" else sys.stderr  # keep a CSV stream pure
    lines = [
        "",
        f"finished at   {data['finished_at'] or '-'}",
        f"attempts      {data['attempts']}",
        *(f"  {name:<22}{n}" for name, n in data["attempts_by_outcome"].items()),
        f"reached       {data['reached']}",
        f"not reached   {data['not_reached']} ({data['cut_off']} cut off by the campaign's end)",
        f"unscheduled   {data['unscheduled']}",
        f"repeats       {data['repeats']}",
        "calls per day",
        *(f"  {day}  {n}" for day, n in data["calls_per_day"].items()),
    ]
    print("\n".join(lines), file=target)


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
            sys.stderr.write(f"\r{count:,} attempts, now at {_z(at)} ")
            sys.stderr.flush()

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


# -- the parser -------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    version, source = tz_database()
    parser = argparse.ArgumentParser(
        prog="callslots",
        description="When may this campaign place a call? FILE is a create-campaign JSON "
        "body, or - for standard input; WHEN is ISO 8601 with an offset, or now.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"callslots {__version__} (tz database {version}, {source})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(
        name: str, help: str, run: Any, formats: Sequence[str] = ("table", "csv", "jsonl")
    ) -> Any:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("file", metavar="FILE", help="campaign JSON, or - for standard input")
        if formats:
            sub.add_argument(
                "--format",
                choices=formats,
                help="output form (default: table on a terminal, jsonl otherwise)",
            )
        sub.set_defaults(run=run)
        return sub

    command(
        "validate", "check a campaign; print it normalized, or every problem", _cmd_validate, ()
    )

    windows = command(
        "windows",
        "list the calling windows in local time and UTC",
        _cmd_windows,
        ("table", "csv", "jsonl", "ics"),
    )
    windows.add_argument(
        "--from",
        dest="start",
        type=_instant,
        metavar="WHEN",
        help="start here (default: now, or the campaign's first day if later)",
    )
    span = windows.add_mutually_exclusive_group()
    span.add_argument("--until", type=_instant, metavar="WHEN", help="stop here")
    span.add_argument(
        "--days",
        type=_whole(1, "days"),
        default=14,
        metavar="N",
        help="stop at the end of the N-th local day (default 14)",
    )

    plan = command("plan", "the first call of every customer", _cmd_plan)
    plan.add_argument("--customers", metavar="CSV_OR_JSON", help="customers instead of the file's")
    plan.add_argument("--limit", type=_whole(1, "rows"), metavar="N", help="print at most N rows")
    plan.add_argument("--from", dest="start", type=_instant, metavar="WHEN", help="plan from here")

    retry = command("retry", "whether and when a call is retried, and why", _cmd_retry)
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
    retry.add_argument("--ended-at", type=_instant, required=True, metavar="WHEN")
    retry.add_argument("--started-at", type=_instant, metavar="WHEN")

    why = command("explain", "why an instant is or is not callable", _cmd_explain)
    why.add_argument(
        "--at",
        type=_instant,
        required=True,
        action="append",
        metavar="WHEN",
        help="the instant to explain (repeat for several)",
    )
    why.add_argument(
        "--phone",
        metavar="NUMBER",
        help="for this customer (E.164): adds its own hours under recipientHours",
    )

    sim = command("simulate", "play the campaign forward, retries included", _cmd_simulate)
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
    sim.add_argument("--customers", metavar="CSV_OR_JSON", help="customers instead of the file's")
    sim.add_argument("--from", dest="start", type=_instant, metavar="WHEN", help="start here")
    sim.add_argument("--summary-only", action="store_true", help="print only the summary")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        status = int(args.run(args))
        sys.stdout.flush()  # a closed pipe shows here, inside the try
        return status
    except UsageError as e:
        print(f"callslots: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (| head): end quietly, like other Unix tools.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
