"""The console script, driven for real in a subprocess, and the README's examples."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "q1-outreach.json"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def callslots(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("callslots")
    command = [exe] if exe else [sys.executable, "-m", "callslots"]
    return subprocess.run(
        [*command, *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def test_main_job_prints_windows_in_local_time_and_utc() -> None:
    result = callslots(
        "windows", str(EXAMPLE), "--from", "2024-03-15T00:00:00-04:00", "--days", "14"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 10  # Friday 15th to Thursday 28th: ten weekdays
    assert lines[0].startswith("Fri 2024-03-15  2024-03-15 09:00:00 EDT (-04:00)")
    assert "UTC 2024-03-15T13:00:00Z -> 2024-03-15T19:00:00Z" in lines[0]
    assert lines[3].startswith("Wed 2024-03-20  2024-03-20 10:00:00 EDT")  # Wednesday's override


def test_the_readme_command_line_sample_is_real_output() -> None:
    sample = re.search(r"\$ callslots (windows .*)\n((?:.+\n)+?)```", README)
    assert sample is not None
    result = callslots(*sample.group(1).split())
    assert result.stdout == sample.group(2)


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


def test_clock_changes_are_marked() -> None:
    payload = json.dumps(
        {
            "timezone": "America/New_York",
            "startDate": "2024-11-01",
            "startTime": "01:00",
            "endTime": "02:00",
        }
    )
    result = callslots(
        "windows", "-", "--from", "2024-11-03T00:00:00-04:00", "--days", "1", stdin=payload
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert "2h00m" in line and "wall-clock window is 1h00m" in line and "EDT -> EST" in line
    assert "warning: startTime" in result.stderr  # 01:00 is outside 08:00-21:00


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("windows", "missing.json"), None, "cannot read missing.json"),
        (("windows", "-"), "{not json", "invalid JSON at line 1, column 2"),
        (("windows", "-"), '{"timezone": "Europe/Prag"}', "did you mean 'Europe/Prague'"),
        (("windows", "-", "--from", "yesterday"), "{}", "not an ISO 8601 instant"),
        (("windows", "-", "--from", "2024-01-01T00:00:00"), "{}", "no UTC offset"),
        (("windows", "-", "--days", "0"), "{}", "whole number of days"),
        (("frobnicate",), None, "invalid choice"),
    ],
)
def test_mistakes_exit_2_with_one_message_and_no_traceback(
    args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = callslots(*args, stdin=stdin)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_version_names_the_tz_database() -> None:
    result = callslots("--version")
    assert result.returncode == 0 and re.match(r"callslots \S+ \(tz database \S+", result.stdout)


def test_a_closed_pipe_ends_quietly() -> None:
    exe = shutil.which("callslots")
    command = f"{exe or sys.executable + ' -m callslots'} windows - --days 5000 | head -1"
    result = subprocess.run(
        ["sh", "-c", command], input="{}", capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.stderr and "Error" not in result.stderr


def test_the_readme_plan_and_simulate_example_prints_what_it_shows() -> None:
    section = README.split("## Plan and simulate", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    shown = re.search(r"```text\n(.*?)```", section, re.S)
    assert code is not None and shown is not None
    result = subprocess.run(
        [sys.executable, "-c", code.group(1)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == shown.group(1)
