"""The ``callslots`` command line (standard library ``argparse`` only).

Every user mistake ends with a one-line message on stderr and exit status 2;
no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from . import __version__, tz_database
from .campaign import Campaign
from .errors import ConfigError
from .windows import Window

__all__ = ["main"]

UTC = timezone.utc


class UsageError(Exception):
    """A mistake on the command line or in an input file: message, exit 2."""


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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days from 1")
    return value


def _load(path: str, now: datetime | None) -> Campaign:
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(
            f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}"
        ) from None
    try:
        campaign = Campaign.from_dict(payload, now=now)
    except ConfigError as e:
        raise UsageError("\n".join(f"{path}: {problem}" for problem in e.errors)) from None
    for warning in campaign.warnings:
        print(f"{path}: warning: {warning}", file=sys.stderr)
    return campaign


def _local(t: datetime, zone: ZoneInfo) -> str:
    local = t.astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({offset[:3]}:{offset[3:]})"


def _duration(delta: timedelta) -> str:
    minutes, seconds = divmod(int(delta.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    text = f"{hours}h{minutes:02d}m"
    return text + (f"{seconds:02d}s" if seconds else "")


def _window_note(campaign: Campaign, window: Window, zone: ZoneInfo) -> str:
    """Mark a window whose length differs from its wall-clock length (clock changes)."""
    hours = campaign.hours_on(window.day.weekday())
    nominal = timedelta(seconds=hours.seconds) if hours else window.duration
    first, last = window.start.astimezone(zone), window.end.astimezone(zone)
    change = (
        f"; clock change {first.tzname()} -> {last.tzname()}"
        if first.utcoffset() != last.utcoffset()
        else ""
    )
    if window.duration == nominal and not change:
        return ""
    lasts = _duration(window.duration)
    return f"  * lasts {lasts}, the wall-clock window is {_duration(nominal)}{change}"


def _print_windows(campaign: Campaign, start: datetime, end: datetime, out: TextIO) -> int:
    zone = ZoneInfo(campaign.timezone)
    count = 0
    for window in campaign.windows(start, end):
        print(
            f"{window.day:%a %Y-%m-%d}  {_local(window.start, zone)} -> {_local(window.end, zone)}"
            f"  | UTC {window.start:%Y-%m-%dT%H:%M:%SZ} -> {window.end:%Y-%m-%dT%H:%M:%SZ}"
            f"  {_duration(window.duration)}{_window_note(campaign, window, zone)}",
            file=out,
        )
        count += 1
    if count == 0:
        print("no calling windows in this range", file=sys.stderr)
    return 0


def _cmd_windows(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    campaign = _load(args.file, now)
    start = args.start or now
    if campaign.start_date is not None and args.start is None:
        first_local = datetime.combine(
            campaign.start_date, datetime.min.time(), ZoneInfo(campaign.timezone)
        )
        start = max(start, first_local)
    if args.until is not None:
        end = args.until
    else:
        zone = ZoneInfo(campaign.timezone)
        last_day = start.astimezone(zone).date() + timedelta(days=args.days)
        end = datetime.combine(last_day, datetime.min.time(), zone)
    if end <= start:
        raise UsageError("--until must be after --from")
    return _print_windows(campaign, start, end, sys.stdout)


def _parser() -> argparse.ArgumentParser:
    version, source = tz_database()
    parser = argparse.ArgumentParser(
        prog="callslots",
        description="When may this campaign place a call? "
        "Exact calling windows in local time and UTC.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"callslots {__version__} (tz database {version}, {source})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    windows = commands.add_parser(
        "windows",
        help="list the calling windows in local time and UTC",
        description="List the calling windows of a campaign: owning day, local start and end "
        "with zone abbreviation and UTC offset, the same interval in UTC, and a note on "
        "windows in which the wall clock changes.",
    )
    windows.add_argument(
        "file", metavar="FILE", help="campaign JSON (a create-campaign body), or - for stdin"
    )
    windows.add_argument(
        "--from",
        dest="start",
        type=_instant,
        metavar="WHEN",
        help="start here (ISO 8601 with offset, or now; default: now or the campaign's "
        "first day, whichever is later)",
    )
    span = windows.add_mutually_exclusive_group()
    span.add_argument("--until", type=_instant, metavar="WHEN", help="stop here")
    span.add_argument(
        "--days",
        type=_positive,
        default=14,
        metavar="N",
        help="stop at the end of the N-th local day (default 14)",
    )
    windows.set_defaults(run=_cmd_windows)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        result: Any = args.run(args)
        sys.stdout.flush()
        return int(result)
    except UsageError as e:
        print(f"callslots: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (| head): end quietly, like other Unix tools.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
