"""The console script, driven for real in a subprocess: every command, every format,
every kind of mistake, and the README's examples."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "q1-outreach.json")
FALL_BACK = str(ROOT / "examples" / "dst-fall-back.json")
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = os.path.dirname(sys.executable)
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))


def callslots(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("callslots", path=ENV["PATH"])
    command = [exe] if exe else [sys.executable, "-m", "callslots"]
    return subprocess.run(
        [*command, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=ENV,
    )


def ok(*args: str, stdin: str | None = None) -> str:
    result = callslots(*args, stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_main_job_prints_windows_in_local_time_and_utc() -> None:
    out = ok(
        "windows",
        EXAMPLE,
        "--from",
        "2024-03-15T00:00:00-04:00",
        "--days",
        "14",
        "--format",
        "table",
    )
    header, *lines = out.splitlines()
    assert header.split() == [
        "day",
        "local_start",
        "local_end",
        "utc_start",
        "utc_end",
        "duration",
        "note",
    ]
    assert len(lines) == 10  # Friday 15th to Thursday 28th: ten weekdays
    assert lines[0].startswith("Fri 2024-03-15  2024-03-15T09:00:00-04:00 EDT")
    assert "2024-03-15T13:00:00Z  2024-03-15T19:00:00Z  6h00m" in lines[0]
    assert "2024-03-20T10:00:00-04:00 EDT" in lines[3]  # Wednesday's override


def test_windows_in_every_format_agree() -> None:
    args = ("windows", FALL_BACK, "--from", "2024-11-02T00:00:00-04:00", "--days", "2")
    rows = [json.loads(line) for line in ok(*args, "--format", "jsonl").splitlines()]
    table = list(csv.DictReader(io.StringIO(ok(*args, "--format", "csv"))))
    assert (
        [r["utc_start"] for r in rows]
        == [r["utc_start"] for r in table]
        == ["2024-11-02T05:30:00Z", "2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z"]
    )
    assert rows[1]["note"] == (
        "lasts 0h30m, the wall-clock window is 1h00m; clock change EDT -> EST"
    )
    assert ok(*args) == ok(*args, "--format", "jsonl")  # not a terminal: jsonl by default
    ics = ok(*args, "--format", "ics")
    assert ics.startswith("BEGIN:VCALENDAR") and ics.count("BEGIN:VEVENT") == 3
    assert "DTSTART:20241103T063000Z" in ics


def test_ics_is_read_back_by_icalendar_with_its_escapes_and_folds() -> None:
    """The hand-written calendar is valid RFC 5545: the icalendar package (a test
    dependency only) reads back every event, its UTC times and its escaped, folded note."""
    icalendar = pytest.importorskip("icalendar")
    args = ("windows", FALL_BACK, "--from", "2024-11-02", "--days", "2")
    exe = shutil.which("callslots", path=ENV["PATH"])
    command = [exe] if exe else [sys.executable, "-m", "callslots"]
    raw = subprocess.run(
        [*command, *args, "--format", "ics"], capture_output=True, cwd=ROOT, env=ENV, check=True
    ).stdout
    rows = [json.loads(line) for line in ok(*args, "--format", "jsonl").splitlines()]
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) <= 75 for line in lines)
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert any(line.startswith(b" ") for line in lines)  # the long note is folded
    events = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    assert [e.decoded("dtstart").strftime("%Y-%m-%dT%H:%M:%SZ") for e in events] == [
        r["utc_start"] for r in rows
    ]
    assert [e.decoded("dtend").strftime("%Y-%m-%dT%H:%M:%SZ") for e in events] == [
        r["utc_end"] for r in rows
    ]
    assert [str(e.get("description")) if e.get("description") else None for e in events] == [
        r["note"] for r in rows
    ]


def test_ics_needs_no_extra_package() -> None:
    code = (
        "import sys; sys.modules['icalendar'] = None\n"
        "from callslots.cli import main\n"
        f"raise SystemExit(main(['windows', {FALL_BACK!r}, '--format', 'ics']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=ENV
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("BEGIN:VCALENDAR\n")


def test_ics_streams_a_long_range_instead_of_building_it_first() -> None:
    """Three million days of windows would take minutes and gigabytes if the calendar
    were built before its first line; streamed, `head` has its lines at once."""
    exe = shutil.which("callslots", path=ENV["PATH"]) or f"{sys.executable} -m callslots"
    result = subprocess.run(
        ["sh", "-c", f"{exe} windows {EXAMPLE} --days 3000000 --format ics | head -8"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=ENV,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "BEGIN:VCALENDAR" and lines[4] == "BEGIN:VEVENT"
    assert lines[5].startswith("UID:") and len(lines) == 8
    assert "Traceback" not in result.stderr and "Error" not in result.stderr


def test_validate() -> None:
    assert json.loads(ok("validate", EXAMPLE))["callRetries"] == 3
    bad = callslots("validate", "-", stdin='{"timezone": "Europe/Prag", "activeDays": [9]}')
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == [
        "callslots: error: <stdin>: timezone: unknown IANA timezone 'Europe/Prag'; did you "
        "mean 'Europe/Prague' or 'Europe/Paris' or 'Europe/Zagreb'?",
        "callslots: error: <stdin>: activeDays.0: must be from 0 (Monday) to 6 (Sunday), not 9",
    ]
    warned = callslots("validate", "-", stdin='{"startime": "09:00"}')
    assert warned.returncode == 0 and "did you mean 'startTime'" in warned.stderr
    assert warned.stderr.startswith("callslots: warning: <stdin>: startime: ")


def test_every_command_prints_an_invalid_campaign_the_same_way() -> None:
    """One prefix, one problem a line, the same lines whichever command read the file."""
    payload = '{"timezone": "Mars/Olympus", "callRetries": -1, "activeDays": [7]}'
    runs = [
        callslots("validate", "-", stdin=payload),
        callslots("windows", "-", stdin=payload),
        callslots("plan", "-", stdin=payload),
        callslots(
            "retry", "-", "--outcome", "Busy", "--attempt", "1", "--ended-at", "now", stdin=payload
        ),
        callslots("explain", "-", "--at", "now", stdin=payload),
        callslots("simulate", "-", stdin=payload),
    ]
    first = runs[0].stderr.splitlines()
    assert first == [
        "callslots: error: <stdin>: timezone: unknown IANA timezone 'Mars/Olympus'",
        "callslots: error: <stdin>: activeDays.0: must be from 0 (Monday) to 6 (Sunday), "
        "not 7; Sunday is 6",
        "callslots: error: <stdin>: callRetries: must be from 0 to 10, not -1",
    ]
    for run in runs:
        assert (run.returncode, run.stdout, run.stderr.splitlines()) == (2, "", first)


def test_plan_with_customers_from_csv_and_json(tmp_path: Path) -> None:
    numbers = tmp_path / "customers.csv"
    numbers.write_text("phoneNumber,name\n+14155550100,Ada\n+14155550101,Alan\n+14155550100,Ada\n")
    rows = [
        json.loads(line) for line in ok("plan", EXAMPLE, "--customers", str(numbers)).splitlines()
    ]
    assert [(r["customer"], r["utc"], r["note"]) for r in rows] == [
        (0, "2024-03-15T13:00:00Z", None),
        (1, "2024-03-15T13:00:30Z", None),
        (2, None, "repeat of an earlier number: dialed once"),
    ]
    plain = tmp_path / "plain.csv"
    plain.write_text("+14155550100\n+14155550101\n")
    assert len(ok("plan", EXAMPLE, "--customers", str(plain), "--format", "csv").splitlines()) == 3
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(["+14155550100", "+14155550101", "+14155550102"]))
    table = ok("plan", EXAMPLE, "--customers", str(listed), "--limit", "2", "--format", "table")
    assert len(table.splitlines()) == 3 and table.startswith("customer  phone")


def test_plan_of_a_million_customers_starts_at_once_and_streams(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("w") as f:
        f.write("phone\n")
        f.writelines(f"+1415{n:07d}\n" for n in range(1_000_000))
    exe = shutil.which("callslots", path=ENV["PATH"]) or f"{sys.executable} -m callslots"
    result = subprocess.run(
        ["sh", "-c", f"{exe} plan {EXAMPLE} --customers {big} --format csv | head -3"],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert result.stdout.splitlines()[2].startswith("1,+14150000001,")
    assert "Traceback" not in result.stderr and "Error" not in result.stderr


def test_retry_by_outcome_sip_and_q850() -> None:
    ended = ("--attempt", "1", "--ended-at", "2024-03-15T16:30:00-04:00", "--format", "jsonl")
    by_name = json.loads(ok("retry", EXAMPLE, "--outcome", "no_answer", *ended))
    assert by_name["retry"] is True and by_name["utc"] == "2024-03-18T13:00:00Z"
    assert json.loads(ok("retry", EXAMPLE, "--sip", "486", *ended))["outcome"] == "Busy"
    declined = json.loads(ok("retry", EXAMPLE, "--sip", "603", *ended))
    assert declined["retry"] is False and "not in retryConditions" in declined["reason"]
    assert json.loads(ok("retry", EXAMPLE, "--q850", "17", *ended))["outcome"] == "Busy"
    (row,) = csv.DictReader(
        io.StringIO(ok("retry", EXAMPLE, "--outcome", "Busy", *ended[:-1], "csv"))
    )
    assert (row["retry"], row["utc"]) == ("true", "2024-03-18T13:00:00Z")
    table = ok(
        "retry", EXAMPLE, "--q850", "16", "--attempt", "1", "--ended-at", "now", "--format", "table"
    )
    assert "Completed" in table and " no " in table


def test_simulate_formats_and_summary() -> None:
    """csv and jsonl keep stdout one table: the attempts, or with --summary-only the
    summary as one record; the text summary follows the table, or goes to stderr."""
    played = callslots("simulate", EXAMPLE, "--seed", "3", "--format", "jsonl")
    attempts = [json.loads(r) for r in played.stdout.splitlines()]
    assert "finished at   2024-03-15T14:04:19Z" in played.stderr
    (summary,) = [
        json.loads(r)
        for r in ok(
            "simulate", EXAMPLE, "--seed", "3", "--summary-only", "--format", "jsonl"
        ).splitlines()
    ]
    assert summary["attempts"] == len(attempts) and summary["reached"] == 2
    assert summary["finished_at"] == max(a["ended_utc"] for a in attempts)
    for outcome in ("Completed", "Unreachable", "Busy"):
        key = "attempts_" + outcome.lower()
        assert summary[key] == sum(a["outcome"] == outcome for a in attempts)
    (row,) = csv.DictReader(
        io.StringIO(ok("simulate", EXAMPLE, "--seed", "3", "--summary-only", "--format", "csv"))
    )
    assert row == {k: "" if v is None else str(v) for k, v in summary.items()}
    only = ok("simulate", EXAMPLE, "--seed", "3", "--summary-only", "--format", "table")
    assert only.lstrip().startswith("finished at") and "customer" not in only
    weighted = ok(
        "simulate", EXAMPLE, "--weights", "Busy=1", "--mean-duration", "5", "--format", "jsonl"
    ).splitlines()
    assert all(json.loads(r)["outcome"] == "Busy" for r in weighted)
    assert len(weighted) == 2 * 4  # two customers, four attempts each
    csv_out = callslots("simulate", EXAMPLE, "--seed", "3", "--format", "csv")
    assert csv_out.stdout.startswith("customer,phone,attempt") and "finished at" in csv_out.stderr


#: A campaign without warnings, so that a mistake is the only line on stderr.
QUIET = '{"startTime": "09:00", "endTime": "17:00"}'


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("windows", "missing.json"), None, "cannot read missing.json"),
        (("windows", "-"), "{not json", "<stdin>: line 1, column 2: invalid JSON"),
        (("windows", "-"), '{"timezone": "Europe/Prag"}', "did you mean 'Europe/Prague'"),
        (("windows", "-", "--from", "yesterday"), QUIET, "not an ISO 8601 date-time"),
        (("windows", "-", "--from", "2024-02-30"), QUIET, "day is out of range for month"),
        (("windows", "-", "--until", "2024-01-01T25:00"), QUIET, "not an ISO 8601 date-time"),
        (("windows", "-", "--from", "2024-01-01T00:00+24:00"), QUIET, "not an ISO 8601 date-time"),
        (("windows", "-", "--days", "0"), QUIET, "whole number of days"),
        (("windows", "-", "--format", "xml"), QUIET, "invalid choice"),
        (
            ("retry", "-", "--outcome", "Bussy", "--attempt", "1", "--ended-at", "now"),
            QUIET,
            "did you mean 'Busy'",
        ),
        (
            ("retry", "-", "--sip", "180", "--attempt", "1", "--ended-at", "now"),
            QUIET,
            "provisional",
        ),
        (("retry", "-", "--attempt", "1", "--ended-at", "now"), QUIET, "one of the arguments"),
        (("simulate", "-", "--weights", "Busy=x"), QUIET, "not a number"),
        (("plan", "-", "--customers", "nope.csv"), QUIET, "cannot read nope.csv"),
        (("plan", "-"), '{"phoneList": ["123"]}', "phoneList.0"),
        (("frobnicate",), None, "invalid choice"),
        ((), None, "required: COMMAND"),
        (("windows",), None, "required: FILE"),
        (("explain", "-", "--at", "0001-01-01T00:00:00+14:00"), QUIET, "before 0001-01-01"),
        (
            ("retry", "-", "--outcome", "Busy", "--attempt", "1", "--ended-at", "10000-01-01"),
            QUIET,
            "not an ISO 8601 date-time",
        ),
        (
            ("retry", "-", "--outcome", "Busy", "--attempt", "1", "--ended-at", "now"),
            '{"timezone": "UTC", "callRetries": 1, "retryConditions": ["Busy"]} {}',
            "line 1, column 68: invalid JSON: Extra data",
        ),
        (("simulate", "-", "--seed", "9" * 5000), QUIET, "invalid int value"),
        (("simulate", "-", "--mean-duration", "nan"), QUIET, "durations must be finite"),
        (("plan", "-", "--customers", "-"), QUIET, "cannot both be -"),
        (("validate", "-"), '{"callRetries": NaN}', "line 1, column 17: NaN is not a JSON number"),
        (("validate", "-"), '["\\ud800"]', "lone surrogate"),
    ],
)
def test_mistakes_exit_2_with_one_message_and_no_traceback(
    args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = callslots(*args, stdin=stdin)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("callslots: error: ") and message in line


def test_version_names_the_tz_database() -> None:
    assert re.match(r"callslots \S+ \(tz database \S+", ok("--version"))


def test_a_closed_pipe_ends_quietly() -> None:
    exe = shutil.which("callslots", path=ENV["PATH"]) or f"{sys.executable} -m callslots"
    result = subprocess.run(
        ["sh", "-c", f"{exe} windows - --days 5000 --format table | head -1"],
        input="{}",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=ENV,
    )
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "Error" not in result.stderr


def test_the_readme_command_line_samples_are_real_output() -> None:
    section = README.split("## Command line", 1)[1].split("## Documentation", 1)[0]
    block = re.search(r"```text\n(.*?)```", section, re.S)
    assert block is not None
    samples = re.split(r"^\$ ", block.group(1), flags=re.M)[1:]
    assert len(samples) >= 5
    for sample in samples:
        command, _, shown = sample.partition("\n")
        result = subprocess.run(
            ["sh", "-c", command], capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=60
        )
        got = result.stdout + (result.stderr if "validate -" in command else "")
        assert got == shown, command


def test_the_readme_quickstart_runs_as_written() -> None:
    code = re.search(r"```python\n(.*?)```", README, re.S)
    assert code is not None
    result = subprocess.run([sys.executable, "-c", code.group(1)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "2024-03-08 2024-03-08 14:00:00+00:00 2024-03-08 22:00:00+00:00",
        "2024-03-11 2024-03-11 13:00:00+00:00 2024-03-11 21:00:00+00:00",
        "2024-03-11 13:00:00+00:00",
    ]


def _readme_example_runs_as_shown(heading: str) -> None:
    """The first python block after ``heading`` prints the text block after it."""
    section = README.split(heading, 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    shown = re.search(r"```text\n(.*?)```", section, re.S)
    assert code is not None and shown is not None
    result = subprocess.run(
        [sys.executable, "-c", code.group(1)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown.group(1)


def test_the_readme_plan_and_simulate_example_prints_what_it_shows() -> None:
    _readme_example_runs_as_shown("## Plan and simulate")


def test_simulate_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    import pty

    many = tmp_path / "many.csv"
    many.write_text("phone\n" + "".join(f"+1415{n:07d}\n" for n in range(60_000)))
    args = [
        sys.executable,
        "-m",
        "callslots",
        "simulate",
        EXAMPLE,
        "--customers",
        str(many),
        "--summary-only",
        "--format",
        "jsonl",
    ]
    leader, follower = pty.openpty()
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=follower, env=ENV) as process:
        os.close(follower)
        out, _ = process.communicate(timeout=120)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    os.close(leader)
    assert process.returncode == 0
    assert b"attempts, now at" in seen
    assert json.loads(out)["attempts"] > 60_000
    piped = callslots("simulate", EXAMPLE, "--summary-only", "--format", "jsonl")
    assert "attempts, now at" not in piped.stderr


def test_windows_name_the_holiday_or_blackout_that_removed_a_day(tmp_path: Path) -> None:
    campaign = tmp_path / "july.json"
    campaign.write_text(
        json.dumps(
            {
                "timezone": "America/New_York",
                "startDate": "2024-07-01",
                "endDate": "2024-07-08",
                "startTime": "09:00",
                "endTime": "17:00",
                "activeDays": [0, 1, 2, 3, 4],
                "blackoutDates": [{"start": "2024-07-02", "end": "2024-07-03"}],
                "dateSchedules": {"2024-07-06": {"startTime": "10:00", "endTime": "12:00"}},
                "holidays": {"country": "US", "dates": {"2024-07-04": "Independence Day"}},
            }
        ),
        encoding="utf-8",
    )
    args = ("windows", str(campaign), "--from", "2024-07-01T00:00:00Z", "--days", "10")
    rows = [json.loads(line) for line in ok(*args, "--format", "jsonl").splitlines()]
    assert [(r["day"], r["utc_start"], r["note"]) for r in rows] == [
        ("2024-07-01", "2024-07-01T13:00:00Z", None),
        ("2024-07-02", None, "no window through Wed 2024-07-03: blackoutDates"),
        ("2024-07-04", None, "no window: 2024-07-04 is Independence Day (holidays US)"),
        ("2024-07-05", "2024-07-05T13:00:00Z", None),
        ("2024-07-06", "2024-07-06T14:00:00Z", None),  # the date schedule: 2 h, no note
        ("2024-07-08", "2024-07-08T13:00:00Z", None),
    ]
    table = list(csv.DictReader(io.StringIO(ok(*args, "--format", "csv"))))
    assert [r["note"] for r in table] == [r["note"] or "" for r in rows]


def test_explain_names_the_rule_for_each_instant(tmp_path: Path) -> None:
    campaign = tmp_path / "july.json"
    campaign.write_text(
        json.dumps(
            {
                "timezone": "America/New_York",
                "startDate": "2024-07-01",
                "startTime": "09:00",
                "endTime": "17:00",
                "activeDays": [0, 1, 2, 3, 4],
                "holidays": {"country": "US", "dates": {"2024-07-04": "Independence Day"}},
            }
        ),
        encoding="utf-8",
    )
    out = ok(
        "explain",
        str(campaign),
        "--at",
        "2024-07-04T10:00:00-04:00",
        "--at",
        "2024-07-05T14:00:00Z",
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows == [
        {
            "utc": "2024-07-04T14:00:00Z",
            "local": "2024-07-04T10:00:00-04:00",
            "local_abbr": "EDT",
            "callable": False,
            "rule": "holiday",
            "reason": "2024-07-04 is Independence Day (holidays US)",
        },
        {
            "utc": "2024-07-05T14:00:00Z",
            "local": "2024-07-05T10:00:00-04:00",
            "local_abbr": "EDT",
            "callable": True,
            "rule": "window",
            "reason": "10:00 is in the window 09:00-17:00 of Friday 2024-07-05",
        },
    ]
    bad = callslots("explain", str(campaign), "--at", "yesterday")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_explain_for_a_phone_adds_its_own_hours(tmp_path: Path) -> None:
    campaign = tmp_path / "recipient.json"
    campaign.write_text(
        json.dumps(
            {
                "timezone": "America/New_York",
                "startDate": "2024-07-01",
                "startTime": "09:00",
                "endTime": "17:00",
                "recipientHours": {"startTime": "08:00", "endTime": "21:00"},
            }
        ),
        encoding="utf-8",
    )
    args = ("explain", str(campaign), "--at", "2024-07-01T14:00:00Z")
    rows = [json.loads(line) for line in ok(*args, "--phone", "+14155550100").splitlines()]
    assert [(r["callable"], r["rule"], r["reason"]) for r in rows] == [
        (
            False,
            "recipient hours",
            "Mon 07:00 PDT in America/Los_Angeles is outside the recipient hours 08:00-21:00",
        )
    ]
    assert json.loads(ok(*args))["callable"] is True  # the campaign alone allows it
    bad = callslots(*args, "--phone", "4155550100")
    assert bad.returncode == 2 and bad.stderr.startswith("callslots: error: --phone: ")
    assert "Traceback" not in bad.stderr


def test_the_readme_compliance_example_prints_what_it_shows() -> None:
    _readme_example_runs_as_shown("## Holidays, recipient hours, and why")
