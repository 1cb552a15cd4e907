"""The csv and jsonl outputs load with the standard library into the types docs/cli.md
documents: the column tables are read out of docs/cli.md, so that the documentation and
this test cannot drift apart.  Each command runs for real, in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
EXAMPLE = str(ROOT / "examples" / "q1-outreach.json")
NEW_YORK = ZoneInfo("America/New_York")
BIN = os.path.dirname(sys.executable)
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("callslots", path=ENV["PATH"])
    command = [exe] if exe else [sys.executable, "-m", "callslots"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=120
    )


def markdown_table(heading: str) -> list[list[str]]:
    """The rows (header excluded) of the first table after ``heading`` in docs/cli.md."""
    assert heading in DOC, heading
    after = DOC.split(heading, 1)[1]
    lines = after[after.index("\n|") + 1 :].split("\n\n", 1)[0].splitlines()
    rows = [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in lines]
    return [row for row in rows[1:] if not set(row[0]) <= {"-", " "}]


def code(cell: str) -> str:
    assert cell.startswith("`") and cell.endswith("`"), cell
    return cell[1:-1]


# -- the types of docs/cli.md, each read from a csv cell and from a JSON value -----------

UTC_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?Z")
LOCAL_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?[+-]\d{2}:\d{2}(:\d{2})?")


def as_integer(text: str) -> int:
    assert re.fullmatch(r"-?\d+", text), text
    return int(text)


def as_boolean(text: str) -> bool:
    assert text in ("true", "false"), text
    return text == "true"


def as_string(text: str) -> str:
    assert text, "an empty string where the docs promise text"
    return text


def as_date(text: str) -> date:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", text), text
    return date.fromisoformat(text)


def as_utc_instant(text: str) -> datetime:
    assert UTC_INSTANT.fullmatch(text), text
    value = datetime.fromisoformat(text[:-1] + "+00:00")  # 3.10's fromisoformat has no Z
    assert value.utcoffset() is not None and not value.utcoffset()
    return value


def as_local_instant(text: str) -> datetime:
    assert LOCAL_INSTANT.fullmatch(text), text
    value = datetime.fromisoformat(text)
    assert value.utcoffset() is not None
    return value


READERS: dict[str, Callable[[str], Any]] = {
    "integer": as_integer,
    "boolean": as_boolean,
    "string": as_string,
    "date": as_date,
    "UTC instant": as_utc_instant,
    "local instant": as_local_instant,
}


def from_csv(kind: str, cell: str) -> Any:
    base, nullable = kind.removesuffix(" or null"), kind.endswith(" or null")
    if cell == "":
        assert nullable, f"an empty cell in a column of type {kind}"
        return None
    return READERS[base](cell)


def from_json(kind: str, value: Any) -> Any:
    base, nullable = kind.removesuffix(" or null"), kind.endswith(" or null")
    if value is None:
        assert nullable, f"null in a column of type {kind}"
        return None
    if base == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), value
        return value
    if base == "boolean":
        assert isinstance(value, bool), value
        return value
    assert isinstance(value, str), value
    return READERS[base](value)


def test_the_documented_types_are_the_types_this_test_reads() -> None:
    documented = [code(row[0]) for row in markdown_table("| type | csv cell | jsonl value |")]
    assert documented == list(READERS)
    for row in markdown_table("| type | csv cell | jsonl value |"):
        READERS[code(row[0])](code(row[3]))  # each type's own example reads as it


# -- the commands, run so that every column is filled at least once ----------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("formats")
    night = {
        "timezone": "America/New_York",
        "startDate": "2024-11-01",
        "endDate": "2024-11-07",
        "startTime": "01:30",
        "endTime": "02:30",
        "blackoutDates": ["2024-11-05"],
    }
    empty = {"timezone": "America/New_York", "startDate": "2024-03-15", "phoneList": []}
    customers = "phoneNumber,name\n+14155550100,Ada\n+14155550101,Alan\n+14155550100,Ada\n"
    paths = {"night": night, "empty": empty}
    made = {}
    for name, payload in paths.items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        made[name] = str(path)
    (folder / "customers.csv").write_text(customers, encoding="utf-8")
    made["customers"] = str(folder / "customers.csv")
    return made


#: Per section of docs/cli.md: the runs whose rows, together, fill every column.
RUNS: dict[str, list[list[str]]] = {
    "### windows columns": [["windows", "{night}", "--from", "2024-11-01", "--days", "7"]],
    "### plan columns": [["plan", EXAMPLE, "--customers", "{customers}"]],
    "### retry columns": [
        ["retry", EXAMPLE, "--sip", "486", "--attempt", "1", "--ended-at", "2024-03-15T16:30"],
        ["retry", EXAMPLE, "--sip", "200", "--attempt", "1", "--ended-at", "2024-03-15T16:30"],
    ],
    "### explain columns": [
        ["explain", EXAMPLE, "--at", "2024-03-15T10:00", "--at", "2024-03-16T14:00:00Z"]
    ],
    "### simulate columns": [["simulate", EXAMPLE, "--seed", "3"]],
    "### simulate --summary-only columns": [
        ["simulate", EXAMPLE, "--seed", "3", "--summary-only"],
        ["simulate", "{empty}", "--summary-only"],
    ],
}
SECTIONS = [heading for heading in RUNS]


def test_every_command_with_csv_and_jsonl_has_its_documented_columns() -> None:
    documented = re.findall(r"^### (.+) columns$", DOC, re.M)
    assert [f"### {name} columns" for name in documented] == SECTIONS


def rows_of(section: str, form: str, files: dict[str, str]) -> list[dict[str, Any]]:
    columns = [(code(row[0]), code(row[1])) for row in markdown_table(section)]
    names = [name for name, _ in columns]
    rows: list[dict[str, Any]] = []
    for args in RUNS[section]:
        result = run(*(arg.format(**files) for arg in args), "--format", form)
        assert result.returncode == 0, result.stderr
        if form == "csv":
            reader = csv.reader(io.StringIO(result.stdout, newline=""))
            header, *cells = list(reader)
            assert header == names
            for line in cells:
                assert len(line) == len(names)
                rows.append({n: from_csv(k, c) for (n, k), c in zip(columns, line, strict=True)})
        else:
            for line in result.stdout.splitlines():
                record = json.loads(line)
                assert list(record) == names
                rows.append({n: from_json(k, record[n]) for n, k in columns})
    assert rows
    for name in names:  # every type above was really read, not only skipped as null
        assert any(row[name] is not None for row in rows), f"{name} is never filled"
    return rows


@pytest.mark.parametrize("form", ["csv", "jsonl"])
@pytest.mark.parametrize("section", SECTIONS)
def test_output_loads_into_the_documented_types(
    section: str, form: str, files: dict[str, str]
) -> None:
    rows_of(section, form, files)


@pytest.mark.parametrize("section", SECTIONS)
def test_csv_and_jsonl_hold_the_same_values(section: str, files: dict[str, str]) -> None:
    assert rows_of(section, "csv", files) == rows_of(section, "jsonl", files)


@pytest.mark.parametrize("section", SECTIONS)
def test_the_documented_examples_read_as_their_types(section: str) -> None:
    for row in markdown_table(section):
        kind, example = code(row[1]), code(row[2])
        assert from_csv(kind, example) is not None


def test_the_windows_columns_describe_real_rows(files: dict[str, str]) -> None:
    """The values the types promise fit together: local and UTC are one instant, the
    abbreviation is the zone's then, and the length is the difference."""
    rows = rows_of("### windows columns", "jsonl", files)
    windows = [r for r in rows if r["utc_start"] is not None]
    assert [r["day"] for r in rows if r["utc_start"] is None] == [date(2024, 11, 5)]
    assert len(windows) == 7  # six dates, and two windows on the day the clocks fall back
    for r in windows:
        assert r["local_start"] == r["utc_start"] and r["local_end"] == r["utc_end"]
        assert r["duration_seconds"] == (r["utc_end"] - r["utc_start"]).total_seconds()
        assert r["local_start"].utcoffset() == r["local_start"].astimezone(NEW_YORK).utcoffset()
        assert r["local_start_abbr"] == r["utc_start"].astimezone(NEW_YORK).tzname()
        assert r["local_end_abbr"] == r["utc_end"].astimezone(NEW_YORK).tzname()


def test_a_csv_header_is_written_also_without_rows(files: dict[str, str]) -> None:
    args = ("windows", files["night"], "--from", "2024-12-01", "--days", "3")
    names = [code(row[0]) for row in markdown_table("### windows columns")]
    assert run(*args, "--format", "csv").stdout == ",".join(names) + "\n"
    assert run(*args, "--format", "jsonl").stdout == ""
    assert run(*args, "--format", "table").stdout.split() == [
        "day",
        "local_start",
        "local_end",
        "utc_start",
        "utc_end",
        "duration",
        "note",
    ]
    plan = run("plan", files["empty"], "--format", "csv").stdout
    assert plan == ",".join(code(r[0]) for r in markdown_table("### plan columns")) + "\n"


def test_the_worked_example_is_real_output() -> None:
    section = DOC.split("### Worked example", 1)[1]
    command = re.search(r"^`(callslots windows [^`]+)`", section, re.M)
    shown = re.search(r"```text\n(.*?)```", section, re.S)
    assert command is not None and shown is not None
    result = run(*command.group(1).split()[1:])
    assert result.returncode == 0 and result.stdout == shown.group(1)


def test_the_documented_error_lines_are_real_output() -> None:
    section = DOC.split("## Errors and exit statuses", 1)[1]
    block = re.search(r"```text\n\$ (.*?)\n(.*?)```", section, re.S)
    assert block is not None
    result = subprocess.run(
        ["sh", "-c", block.group(1)], capture_output=True, text=True, cwd=ROOT, env=ENV
    )
    assert result.returncode == 2 and result.stderr == block.group(2)
