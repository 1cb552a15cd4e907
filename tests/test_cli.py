"""The console script, driven for real in a subprocess: every command, every format,
every kind of mistake, and the README's examples."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
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


def test_validate_names_the_rule_packs_version() -> None:
    from callslots.rulepack import load_pack

    pack = load_pack("US")
    payload = (
        '{"startDate": "2027-01-01", "startTime": "09:00", "endTime": "17:00", '
        '"callingRules": ["US"], "callPurpose": "debt-collection"}'
    )
    run = callslots("validate", "-", stdin=payload)
    assert run.returncode == 0, run.stderr
    debt = sum(1 for rule in pack.rules if rule.applies_to == "debt-collection")
    every = "live-agent, automatic-dialer, prerecorded-voice, artificial-voice"
    assert run.stderr.splitlines() == [
        f"callslots: callingRules: US pack version {pack.version} ({len(pack.rules)} rules, "
        f"{debt} for debt-collection calls placed by {every}; {len(pack.not_covered)} left "
        "out: docs/compliance.md, section 5)"
    ]
    # The default is shown: every way of placing a call, so every rule applies.
    assert json.loads(run.stdout)["callTechnology"] == every.split(", ")
    live = callslots(
        "validate", "-", stdin=payload.replace("}", ', "callTechnology": ["live-agent"]}')
    )
    assert live.returncode == 0 and "placed by live-agent;" in live.stderr
    assert json.loads(run.stdout)["callingRules"] == ["US"]
    plain = callslots("validate", "-", stdin='{"startTime": "09:00", "endTime": "17:00"}')
    assert plain.returncode == 0 and plain.stderr == ""


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


# -- WHEN: dates and wall clocks in the campaign's zone ---------------------------------


def zone_file(tmp_path: Path, zone: str) -> str:
    path = tmp_path / f"{zone.replace('/', '_')}.json"
    path.write_text(json.dumps({"timezone": zone, "startTime": "09:00", "endTime": "17:00"}))
    return str(path)


@pytest.mark.parametrize(
    ("zone", "when", "utc"),
    [
        # a date alone: its first instant, local midnight
        ("America/New_York", "2024-03-15", "2024-03-15T04:00:00Z"),
        # an offset, the basic form and a fraction with Z read alike on every Python
        ("America/New_York", "2024-03-15T09:00:00-04:00", "2024-03-15T13:00:00Z"),
        ("America/New_York", "20240315T130000Z", "2024-03-15T13:00:00Z"),
        # explain takes the instant as given, fraction and all
        ("America/New_York", "2024-03-15T13:00:00.5Z", "2024-03-15T13:00:00.500000Z"),
        # a wall clock the fall-back repeats: its first occurrence (EDT)
        ("America/New_York", "2024-11-03T01:30", "2024-11-03T05:30:00Z"),
        # a wall clock the spring-forward skips: where the clocks land, 03:00 EDT
        ("America/New_York", "2024-03-10T02:30", "2024-03-10T07:00:00Z"),
        # a skipped midnight: the date begins at 01:00
        ("America/Sao_Paulo", "2018-11-04", "2018-11-04T03:00:00Z"),
        # a skipped date: the first instant of the next one
        ("Pacific/Apia", "2011-12-30", "2011-12-30T10:00:00Z"),
        # a date whose midnight is before the time line: the time line's first instant
        ("Asia/Tokyo", "0001-01-01", "0001-01-01T00:00:00Z"),
        ("Etc/GMT+12", "9999-12-31", "9999-12-31T12:00:00Z"),
    ],
)
def test_when_reads_dates_and_wall_clocks_in_the_campaign_zone(
    tmp_path: Path, zone: str, when: str, utc: str
) -> None:
    out = ok("explain", zone_file(tmp_path, zone), "--at", when, "--format", "jsonl")
    assert {json.loads(line)["utc"] for line in out.splitlines()} == {utc}


def test_a_date_starts_the_windows_listing_at_local_midnight() -> None:
    by_date = ok("windows", FALL_BACK, "--from", "2024-11-02", "--days", "2", "--format", "csv")
    by_instant = ok(
        "windows",
        FALL_BACK,
        "--from",
        "2024-11-02T00:00:00-04:00",
        "--days",
        "2",
        "--format",
        "csv",
    )
    assert by_date == by_instant and by_date.count("\n") == 4


# -- the edges of the time line and bad files: one line, exit 2, or an answer -----------

OFF_THE_LINE = {
    "0001-01-01T00:00:00+14:00": "before 0001-01-01T00:00:00Z, where the time line begins",
    "9999-12-31T23:59:59-14:00": "after 9999-12-31T23:59:59Z, where the time line ends",
}
ON_THE_LINE = ("0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59+14:00")
WHEN_OPTIONS = [
    ("windows", "--from"),
    ("windows", "--until"),
    ("plan", "--from"),
    ("simulate", "--from"),
    ("explain", "--at"),
    ("retry", "--ended-at"),
    ("retry", "--started-at"),
]


@pytest.mark.parametrize("when", [*OFF_THE_LINE, *ON_THE_LINE])
@pytest.mark.parametrize(("command", "option"), WHEN_OPTIONS)
def test_every_when_option_near_year_1_and_9999_under_14_hour_offsets(
    command: str, option: str, when: str
) -> None:
    """A range bound beyond the time line is clamped to it; a single instant beyond it
    is one error line; an instant on it is answered."""
    near = "0001-01-01T00:00:00Z" if when.startswith("0001") else "9999-12-20T00:00:00Z"
    args = [command, EXAMPLE, option, when, "--format", "jsonl"]
    if option == "--until":  # a range near the same end, not from now
        args += ["--from", near]
    if command == "retry":
        args += ["--outcome", "Busy", "--attempt", "1"]
        if option == "--started-at":  # an end soon after the start, on the time line
            args += [
                "--ended-at",
                "0001-01-02T00:00:00Z" if near.startswith("0001") else "9999-12-31T10:00:00Z",
            ]
    result = callslots(*args)
    if option in ("--at", "--ended-at", "--started-at") and when in OFF_THE_LINE:
        assert result.returncode == 2
        assert result.stderr == f"callslots: error: {option} {when}: {OFF_THE_LINE[when]}\n"
    elif option == "--until" and when == "0001-01-01T00:00:00+14:00":
        # clamped to 0001-01-01T00:00:00Z, where the range starts: an empty range
        assert result.returncode == 2
        assert result.stderr == (
            f"callslots: error: --until {when}: not after the start, 0001-01-01T00:00:00Z\n"
        )
    else:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr


def test_windows_past_the_end_of_the_time_line_stop_there() -> None:
    """The default 14 days from 9999-12-29 run past 9999-12-31: the listing stops with
    the time line, as it does for any --days that reaches past it."""
    default = ok("windows", EXAMPLE, "--from", "9999-12-29T00:00:00Z", "--format", "jsonl")
    rows = [json.loads(line) for line in default.splitlines()]
    assert [r["day"] for r in rows] == ["9999-12-29", "9999-12-30", "9999-12-31"]
    assert rows[-1]["utc_end"] == "9999-12-31T20:00:00Z"  # Friday's window, 09:00-15:00 EST
    huge = ok("windows", EXAMPLE, "--from", "9999-12-29", "--days", "999999999999")
    assert huge == default


def test_days_beyond_any_date_is_read_and_clamped() -> None:
    result = callslots("windows", EXAMPLE, "--from", "9999-12-31", "--days", "9" * 40)
    assert result.returncode == 0 and len(result.stdout.splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"callRetries": ' + b"9" * 5000 + b"}", "line 1, column 17: an integer of 5000 digits"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested more than 100 deep"),
        (b'{"customers": ' + b"[" * 100 + b"]" * 100 + b"}", "JSON nested more than 100 deep"),
        (b'{\n"timezone": "Z\xfcrich"}', "line 2: not UTF-8 text"),
        (b'{"callRetries": Infinity}', "line 1, column 17: Infinity is not a JSON number"),
    ],
)
def test_a_bad_campaign_file_is_one_line_and_exit_2(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    for command in (["validate"], ["windows"], ["explain", "--at", "now"]):
        result = callslots(command[0], str(path), *command[1:])
        assert result.returncode == 2
        assert (
            result.stderr
            == f"callslots: error: {path}: {message}" + result.stderr.split(message, 1)[1]
        )
        assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"phone\n+14155550100\n+1415\xe9550101\n", "line 3: not UTF-8 text"),
        (
            b"phone,note\n+14155550100," + b"x" * 131_073 + b"\n",
            "line 2: field larger than field limit (131072)",
        ),
        (
            b"phone\n+14155550100\n4155550101\n",
            "customers.1.phoneNumber: '4155550101' is not an E.164",
        ),
    ],
)
@pytest.mark.parametrize("command", ["plan", "simulate"])
def test_a_bad_customers_file_is_one_line_and_exit_2(
    tmp_path: Path, content: bytes, message: str, command: str
) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(content)
    result = callslots(command, EXAMPLE, "--customers", str(path), "--format", "csv")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"callslots: error: {path}: {message}")


def test_a_customers_csv_from_a_spreadsheet_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfphoneNumber,name\r\n+14155550100,Ada\r\n")
    rows = [json.loads(r) for r in ok("plan", EXAMPLE, "--customers", str(path)).splitlines()]
    assert [(r["phone"], r["utc"]) for r in rows] == [("+14155550100", "2024-03-15T13:00:00Z")]


# -- --help and exit statuses ------------------------------------------------------------


@pytest.mark.parametrize("command", ["windows", "plan", "retry", "explain", "simulate"])
def test_every_subcommand_help_explains_when_and_its_formats(command: str) -> None:
    text = ok(command, "--help")
    for form in (
        "2024-03-15T09:00:00-04:00",  # an instant with its offset
        "a date alone: the first instant of that date",
        "the campaign's\n                             wall clock",
        "now",
        "csv",
        "jsonl",
        "the header also when there are none",
        "docs/cli.md",
        "exit status: 0",
        "130 interrupted",
    ):
        assert form in text, form
    if command in ("plan", "simulate"):
        assert "phoneNumber (or phone) column" in text and "*.json" in text


def test_validate_help_names_its_output_and_problem_lines() -> None:
    text = ok("validate", "--help")
    assert "callslots: error: FILE: PATH: message" in text and "exit status: 0" in text


def test_a_broken_pipe_ends_with_status_0_and_no_message() -> None:
    exe = shutil.which("callslots", path=ENV["PATH"])
    command = [exe] if exe else [sys.executable, "-m", "callslots"]
    with subprocess.Popen(
        [*command, "windows", EXAMPLE, "--days", "100000", "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=ENV,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline().startswith(b'{"day": ')
        process.stdout.close()  # the reader goes away, as `head -1` does
        errors = process.stderr.read()
        assert process.wait(timeout=60) == 0
    assert errors == b""


def test_an_interrupt_ends_with_status_130_and_no_traceback() -> None:
    exe = shutil.which("callslots", path=ENV["PATH"])
    command = [exe] if exe else [sys.executable, "-m", "callslots"]
    with subprocess.Popen(
        [*command, "windows", EXAMPLE, "--days", "3000000", "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=ENV,
    ) as process:
        assert process.stdout is not None
        process.stdout.readline()  # it is running, inside main()
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 130
    assert b"Traceback" not in errors


# -- edges the library itself still fails at (issue 10, point 1, fixed in the library) ---

KIRITIMATI = {
    "timezone": "Pacific/Kiritimati",
    "startTime": "22:00",
    "endTime": "06:00",
    "phoneList": ["+14155550100"],
    "callRetries": 3,
    "retryConditions": ["Busy"],
}


def answered(result: subprocess.CompletedProcess[str]) -> bool:
    """Status 0, or 2 with exactly one error line; never a traceback."""
    errors = [line for line in result.stderr.splitlines() if not line.startswith("callslots: w")]
    return "Traceback" not in result.stderr and (
        result.returncode == 0 or (result.returncode == 2 and len(errors) == 1)
    )


@pytest.mark.parametrize("mean", ["1e11", "1e300"])
def test_simulate_with_durations_that_end_past_9999(mean: str) -> None:
    assert answered(callslots("simulate", EXAMPLE, "--mean-duration", mean, "--weights", "Busy=1"))


def test_simulate_at_the_end_of_the_time_line_east_of_utc(tmp_path: Path) -> None:
    path = tmp_path / "kiritimati.json"
    path.write_text(json.dumps(KIRITIMATI))
    assert answered(
        callslots("simulate", str(path), "--from", "9999-12-31T15:00:00Z", "--weights", "Busy=1")
    )


def test_explain_at_the_last_instant_east_of_utc(tmp_path: Path) -> None:
    path = tmp_path / "kiritimati.json"
    path.write_text(json.dumps(KIRITIMATI))
    assert answered(callslots("explain", str(path), "--at", "9999-12-31T23:59:59Z"))


def test_retry_ending_in_the_last_hour_of_9999() -> None:
    assert answered(
        callslots(
            "retry",
            EXAMPLE,
            "--outcome",
            "Busy",
            "--attempt",
            "1",
            "--ended-at",
            "9999-12-31T23:59:59Z",
        )
    )


def test_a_history_file_counts_for_the_contact_limits(tmp_path: Path) -> None:
    """docs/cli.md, "History files": three calls in the morning fill a 3-a-day limit,
    so the customer waits a day in explain and in simulate; JSON and CSV agree, and
    every bad record is named with its line and field."""
    campaign = tmp_path / "c.json"
    campaign.write_text(
        json.dumps(
            {
                "timezone": "America/New_York",
                "startDate": "2026-03-02",
                "startTime": "09:00",
                "endTime": "17:00",
                "contactLimits": [{"maxCalls": 3, "days": 1}],
                "phoneList": ["+12125550100", "+12125550101"],
            }
        )
    )
    calls = [["+12125550100", f"2026-03-02T14:{m:02d}:00Z", "No Answer"] for m in (0, 20, 40)]
    as_csv = tmp_path / "calls.csv"
    as_csv.write_text("outcome,phone,at\n" + "".join(f"{o},{p},{a}\n" for p, a, o in calls))
    as_json = tmp_path / "calls.json"
    as_json.write_text(json.dumps(calls))
    for path in (as_csv, as_json):
        rows = list(
            csv.DictReader(
                io.StringIO(
                    ok("explain", str(campaign), "--at", "2026-03-02T15:00Z", "--phone",
                       "+12125550100", "--history", str(path), "--format", "csv")
                )
            )
        )  # fmt: skip
        assert [(r["callable"], r["rule"]) for r in rows] == [("false", "contact limit")]
        assert "free from 2026-03-03T14:00:00Z" in rows[0]["reason"]
        sim = list(
            csv.DictReader(
                io.StringIO(
                    ok("simulate", str(campaign), "--history", str(path), "--format", "csv")
                )
            )
        )
        assert [(r["phone"], r["utc"]) for r in sim][:2] == [
            ("+12125550101", "2026-03-02T14:00:00Z"),
            ("+12125550100", "2026-03-03T14:00:00Z"),
        ]
    bad = tmp_path / "bad.csv"
    bad.write_text("phone,at,outcome\nx,2026-03-02T14:00:00,Nope\n")
    result = callslots("simulate", str(campaign), "--history", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(": ")[3:5] for line in lines] == [
        ["line 2", "phone"],
        ["line 2", "at"],
        ["line 2", "outcome"],
    ]
    assert lines[1].endswith("must be an aware datetime (with a time zone), not a naive datetime")
    result = callslots("explain", str(campaign), "--at", "2026-03-02T15:00Z", "--history", str(bad))
    assert result.returncode == 2 and "--history needs --phone" in result.stderr


def test_without_holidays_the_calling_rules_fail_on_one_line_only_for_holiday_states(
    tmp_path: Path,
) -> None:
    """docs/compliance.md, section 5: a newcomer without the holidays extra can run a
    campaign with the US pack; a customer under a holiday rule (Rhode Island) stops
    it with one line naming the customer, the rule and what to install (exit 2)."""
    pytest.importorskip("phonenumbers")
    hidden = tmp_path / "hide" / "holidays"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ModuleNotFoundError("hidden by the test")\n')
    campaign = tmp_path / "c.json"
    campaign.write_text(
        json.dumps(
            {
                "timezone": "America/New_York",
                "startDate": "2027-01-04",
                "endDate": "2027-01-05",
                "startTime": "09:00",
                "endTime": "17:00",
                "callingRules": ["US"],
            }
        )
    )
    florida, rhode_island = tmp_path / "fl.csv", tmp_path / "ri.csv"
    florida.write_text("+13055550100\n+12125550100\n")
    rhode_island.write_text("+13055550100\n+14015550100\n")
    env = dict(ENV, PYTHONPATH=str(tmp_path / "hide"))
    command = [sys.executable, "-m", "callslots", "simulate", str(campaign), "--summary-only"]

    def run(customers: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, "--customers", str(customers)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            env=env,
        )

    fine = run(florida)
    assert fine.returncode == 0, fine.stderr
    stopped = run(rhode_island)
    assert stopped.returncode == 2 and "Traceback" not in stopped.stderr
    assert stopped.stderr.splitlines() == [
        f"callslots: error: {rhode_island}: customers.1: callingRules needs the optional "
        "holidays package for the holiday rule US-RI-holidays (R.I. Gen. Laws 5-61-2) that "
        "applies to this customer: pip install 'callslots[holidays]'"
    ]
