"""``callslots report``: the page written for real by the console script, read back
as HTML (its figures against ``callslots simulate``'s for the same seed), opened in a
real headless Chromium (no console error, every chart drawn with a size, a screenshot
that is not blank), the hard cases, bad input, and the Python functions."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from browser import Browser, start_browser
from callslots import Campaign, RandomOutcomes, simulate
from callslots.report import build, figures, to_html
from oracle import transitions, wall_clock
from strategies import zones

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "report-demo.json"
SCREENSHOT = ROOT / "docs" / "report.png"
BIN = os.path.dirname(sys.executable)
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))

TWENTY_ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Halifax",
    "America/St_Johns",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Helsinki",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
]


def callslots(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("callslots", path=ENV["PATH"])
    command = [exe] if exe else [sys.executable, "-m", "callslots"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, cwd=cwd, timeout=300, env=ENV
    )


def ok(*args: str) -> str:
    result = callslots(*args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


class Page(HTMLParser):
    """What a reader of the page finds: the summary and calls-per-day tables, each
    chart's text alternative or message, and every URL the page would load."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.summary: dict[str, str] = {}
        self.per_day: dict[str, int] = {}
        self.charts: dict[str, dict[str, str | None]] = {}
        self.fetched: list[str] = []
        self.scripts = 0
        self._table: str | None = None
        self._cell: str | None = None
        self._row: list[str] = []
        self._text = ""
        self._chart: str | None = None
        self._in_message = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href", "xlink:href"):
            value = a.get(name)
            # inline data (the colour bar's gradient) is in the page, not fetched
            if value and not value.startswith(("#", "data:")) and tag != "a":
                self.fetched.append(value)
        if tag == "link":
            self.fetched.append(a.get("href") or "")
        if tag == "table":
            self._table = a.get("id")
        if tag == "td":
            self._cell = a.get("data-key") or ""
            self._text = ""
        if tag == "tr":
            self._row = []
        if tag == "figure" and "chart" in (a.get("class") or ""):
            self._chart = (a.get("id") or "").removeprefix("chart-")
            self.charts[self._chart] = {"label": None, "message": None}
        if tag == "svg" and self._chart is not None:
            self.charts[self._chart]["label"] = a.get("aria-label")
        if tag == "p" and "message" in (a.get("class") or "") and self._chart is not None:
            self._in_message = True
            self._text = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            if self._table == "summary":
                self.summary[self._cell] = self._text.strip()
            self._row.append(self._text.strip())
            self._cell = None
        if tag == "tr" and self._table == "calls-per-day" and len(self._row) == 2:
            self.per_day[self._row[0]] = int(self._row[1])
        if tag == "p" and self._in_message and self._chart is not None:
            self.charts[self._chart]["message"] = self._text.strip()
            self._in_message = False
        if tag == "figure":
            self._chart = None
        if tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        self._text += data


def write(tmp_path: Path, name: str, payload: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(payload), encoding="utf-8")
    return str(path)


def report(tmp_path: Path, campaign: str, *options: str, name: str = "page.html") -> Path:
    out = tmp_path / name
    ok("report", campaign, *options, "-o", str(out))
    return out


# -- the hard cases, as campaigns ------------------------------------------------------


def fall_back_overnight() -> dict[str, Any]:
    """22:00-02:00 across New York's fall-back night: that window lasts 5 hours."""
    return {
        "name": "Overnight across the fall-back",
        "timezone": "America/New_York",
        "startDate": "2024-11-01",
        "endDate": "2024-11-05",
        "startTime": "22:00",
        "endTime": "02:00",
        "activeDays": [0, 1, 2, 3, 4, 5, 6],
        "callIntervalSeconds": 900,
        "callRetries": 2,
        "retryDelaySeconds": 3600,
        "phoneList": [f"+1212555{i:04d}" for i in range(30)],
    }


def spring_forward() -> dict[str, Any]:
    """01:30-03:30 on New York's spring-forward day: that window lasts 1 hour."""
    return {
        "name": "Across the spring-forward gap",
        "timezone": "America/New_York",
        "startDate": "2024-03-08",
        "endDate": "2024-03-12",
        "startTime": "01:30",
        "endTime": "03:30",
        "activeDays": [0, 1, 2, 3, 4, 5, 6],
        "callIntervalSeconds": 600,
        "phoneList": [f"+1212555{i:04d}" for i in range(20)],
    }


def twenty_zones() -> dict[str, Any]:
    return {
        "name": "Twenty zones",
        "timezone": "America/New_York",
        "startDate": "2024-06-03",
        "endDate": "2024-06-28",
        "startTime": "08:00",
        "endTime": "22:00",
        "activeDays": [0, 1, 2, 3, 4],
        "recipientHours": {"startTime": "09:00", "endTime": "20:00"},
        "callIntervalSeconds": 120,
        "maxConcurrency": 4,
        "callRetries": 1,
        "customers": [
            {"phoneNumber": f"+1415555{i:04d}", "properties": {"timezone": z}}
            for i, z in enumerate(TWENTY_ZONES * 3)
        ],
    }


def five_years() -> dict[str, Any]:
    """One call a day for five years: the run is as long as the campaign."""
    return {
        "name": "Five years, one call a day",
        "timezone": "Europe/Prague",
        "startDate": "2024-01-01",
        "endDate": "2028-12-31",
        "startTime": "09:00",
        "endTime": "17:00",
        "activeDays": [0, 1, 2, 3, 4],
        "callIntervalSeconds": 86400,
        "maxConcurrency": 1,
        "phoneList": [f"+420601{i:06d}" for i in range(1400)],
    }


# -- the page's figures are the CLI's --------------------------------------------------


@pytest.mark.parametrize("seed", ["0", "7"])
def test_the_page_shows_the_figures_of_callslots_simulate(tmp_path: Path, seed: str) -> None:
    page = Page(report(tmp_path, str(DEMO), "--seed", seed).read_text(encoding="utf-8"))
    summary = json.loads(
        ok("simulate", str(DEMO), "--seed", seed, "--summary-only", "--format", "jsonl")
    )
    assert summary["attempts"] > 0
    for key, value in summary.items():
        shown = page.summary.get(key, "0" if key.startswith("attempts_") else None)
        assert shown == ("-" if value is None else str(value)), key
    # calls per day: the CLI's own rows counted by their local date
    rows = [
        json.loads(line)
        for line in ok("simulate", str(DEMO), "--seed", seed, "--format", "jsonl").splitlines()
    ]
    assert page.per_day == dict(Counter(r["local"][:10] for r in rows))
    # the charts' text alternatives give the same totals
    progress = page.charts["progress"]["label"] or ""
    assert f"{summary['reached']} reached" in progress
    assert f"{summary['not_reached']} not reached" in progress
    assert f"{len(rows)} attempts" in (page.charts["outcomes"]["label"] or "")
    assert f"{len(rows)} dials" in (page.charts["dials-by-hour"]["label"] or "")
    zones = Counter(
        json.loads(DEMO.read_text())["customers"][r["customer"]]["properties"]["timezone"]
        for r in rows
    )
    label = page.charts["zones"]["label"] or ""
    for zone, n in zones.items():
        assert f"{zone} {n}" in label
    # self-contained: nothing fetched, no script
    assert page.fetched == [] and page.scripts == 0


def test_the_page_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    a = report(tmp_path, str(DEMO), "--seed", "3", name="a.html").read_bytes()
    b = report(tmp_path, str(DEMO), "--seed", "3", name="b.html").read_bytes()
    assert a.replace(b"a.html", b"b.html") == b


def test_standard_output(tmp_path: Path) -> None:
    out = ok("report", str(DEMO), "-o", "-")
    assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")


# -- the hard cases ----------------------------------------------------------------------


def test_fall_back_night_with_an_overnight_window(tmp_path: Path) -> None:
    path = write(tmp_path, "fall.json", fall_back_overnight())
    page = Page(report(tmp_path, path, "--days", "5").read_text(encoding="utf-8"))
    windows = page.charts["windows"]["label"] or ""
    assert "2024-11-03 is a 25-hour day" in windows
    # the 22:00-02:00 window of Saturday 2024-11-02 runs through the repeated hour
    assert "2024-11-02: lasts 5h00m, the wall-clock window is 4h00m" in windows
    assert "clock change EDT -> EST" in windows
    assert int(page.summary["attempts"]) > 0


def test_spring_forward_gap(tmp_path: Path) -> None:
    path = write(tmp_path, "spring.json", spring_forward())
    page = Page(report(tmp_path, path, "--days", "5").read_text(encoding="utf-8"))
    windows = page.charts["windows"]["label"] or ""
    assert "2024-03-10 is a 23-hour day" in windows
    assert "2024-03-10: lasts 1h00m, the wall-clock window is 2h00m" in windows


def test_no_callable_time_in_the_range_says_so(tmp_path: Path) -> None:
    payload = {**spring_forward(), "endDate": "2024-03-09"}
    path = write(tmp_path, "none.json", payload)
    page = Page(
        report(tmp_path, path, "--from", "2024-04-01", "--days", "7").read_text(encoding="utf-8")
    )
    assert page.charts["windows"]["message"] == (
        "No callable time from 2024-04-01 to 2024-04-07 (America/New_York): the campaign "
        "places no call in this range."
    )
    assert page.charts["calling-week"]["message"] is not None
    message = page.charts["lines"]["message"] or ""
    assert "no call was placed: all 20 customers are unscheduled" in message
    assert page.summary["unscheduled"] == "20"


def test_no_customers(tmp_path: Path) -> None:
    payload = {k: v for k, v in spring_forward().items() if k != "phoneList"}
    path = write(tmp_path, "empty.json", payload)
    page = Page(report(tmp_path, path).read_text(encoding="utf-8"))
    for key in ("dials-by-hour", "lines", "progress", "outcomes", "zones"):
        assert "no customers: there is nothing to simulate" in (page.charts[key]["message"] or "")
    assert page.charts["windows"]["label"]  # the windows are drawn all the same
    assert page.summary["customers"] == "0" and page.summary["attempts"] == "0"


def test_customers_in_twenty_zones(tmp_path: Path) -> None:
    path = write(tmp_path, "twenty.json", twenty_zones())
    page = Page(report(tmp_path, path, "--days", "7").read_text(encoding="utf-8"))
    week = page.charts["calling-week"]["label"] or ""
    for zone in TWENTY_ZONES:
        assert f"customers in {zone} " in week
    # 09:00-20:00 Honolulu (HST, UTC-10) is 15:00-02:00 New York (EDT) time: inside
    # the campaign's 08:00-22:00, 15:00-22:00 on five weekdays from Monday
    assert "customers in Pacific/Honolulu 35.0 h from Mon 15:00" in week
    assert "the campaign 70.0 h" in week
    zones = page.charts["zones"]["label"] or ""
    assert zones.startswith("Calls per local day in 20 zone rows")


def test_a_five_year_campaign_stays_small(tmp_path: Path) -> None:
    path = write(tmp_path, "five.json", five_years())
    out = report(tmp_path, path, "--days", "1827")
    page = Page(out.read_text(encoding="utf-8"))
    windows = page.charts["windows"]["label"] or ""
    # aggregated per day; Prague changes its clocks twice a year, on Sundays (no window)
    assert windows.startswith("Callable hours per local day from 2024-01-01 to 2028-12-31")
    assert "0 clock-change days with windows" in windows
    assert "calls per week" in out.read_text(encoding="utf-8") or "calls per 4 weeks" in (
        out.read_text(encoding="utf-8")
    )
    finished = page.summary["finished_at"]
    assert finished.startswith("2029-") or finished.startswith("2028-")
    assert out.stat().st_size < 2_000_000


# -- bad input, like every other command ----------------------------------------------------


def test_bad_input_is_one_line_per_problem(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", {"timezone": "Mars/Olympus", "callIntervalSeconds": 0})
    result = callslots("report", bad, "-o", str(tmp_path / "x.html"))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) >= 2 and all(line.startswith("callslots: error: ") for line in lines)
    assert any("timezone" in line for line in lines)
    assert any("callIntervalSeconds" in line for line in lines)
    assert not (tmp_path / "x.html").exists()
    for args, expected in (
        (["--days", "0"], "'0' is not a whole number of days from 1"),
        (["--seed", "x"], "invalid int value"),
        (["--weights", "Maybe=1"], "bad weight"),
        (["--from", "yesterday"], "--from"),
        (["-o", str(tmp_path / "no" / "such" / "dir.html")], "cannot write"),
        (["--customers", str(tmp_path / "missing.csv")], "cannot read"),
    ):
        command = ["report", str(DEMO), *args]
        if "-o" not in args:
            command += ["-o", str(tmp_path / "y.html")]
        result = callslots(*command)
        assert result.returncode == 2, args
        assert result.stderr.startswith("callslots: error: "), result.stderr
        assert expected in result.stderr and "Traceback" not in result.stderr
    missing = callslots("report", str(DEMO))
    assert missing.returncode == 2 and "-o/--output" in missing.stderr


def test_without_the_extra_one_line_names_the_install_command(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from callslots.cli import main\n"
        f"sys.exit(main(['report', {str(DEMO)!r}, '-o', {str(tmp_path / 'x.html')!r}]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=ENV
    )
    assert result.returncode == 2
    assert result.stderr == (
        "callslots: error: the report needs matplotlib: pip install 'callslots[report]'\n"
    )


# -- the Python functions -------------------------------------------------------------------


def test_figures_and_rows_from_python() -> None:
    campaign = Campaign.from_dict(json.loads(DEMO.read_text()))
    rows = list(simulate(campaign, RandomOutcomes(0)).to_rows())
    assert rows and set(rows[0]) == {
        "customer_index",
        "phone",
        "attempt",
        "at",
        "ended_at",
        "outcome",
        "retry_at",
    }
    assert all(isinstance(r["at"], datetime) and r["at"].tzinfo is not None for r in rows)
    charts = figures(campaign, simulate(campaign, RandomOutcomes(0)))
    assert [c.key for c in charts] == [
        "calling-week",
        "windows",
        "dials-by-hour",
        "lines",
        "progress",
        "outcomes",
        "zones",
    ]
    assert all(c.figure is not None and c.description for c in charts)
    assert f"{len(rows)} attempts" in charts[5].description
    # a one-shot iterator of customers, labelled on the way
    from callslots.report import labelled

    stream = labelled(campaign, iter(campaign.customers))
    built = build(campaign, simulate(campaign, RandomOutcomes(0), stream), customers=stream)
    assert set(built.zones) == {c.properties["timezone"] for c in campaign.customers}
    assert to_html(built).count("<svg") == 7


def test_to_rows_loads_into_a_table_as_is() -> None:
    campaign = Campaign.from_dict(json.loads(DEMO.read_text()))
    simulation = simulate(campaign, RandomOutcomes(5))
    rows = list(simulation.to_rows())
    direct = list(simulate(campaign, RandomOutcomes(5)))
    assert [(r["customer_index"], r["attempt"], r["at"], r["outcome"]) for r in rows] == [
        (a.customer_index, a.attempt, a.at, a.outcome.value) for a in direct
    ]
    assert simulation.summary.attempts == len(rows)


# -- in a real browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Any:
    found = start_browser()
    yield found
    found.close()


def _not_blank(png: bytes) -> None:
    from PIL import Image

    image = Image.open(BytesIO(png)).convert("RGB")
    assert image.width >= 1000 and image.height >= 900
    small = image.resize((image.width // 4, image.height // 4))
    colours = small.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 50  # text, axes and bars, not one flat colour
    white = (
        max(n for n, c in colours if c == (255, 255, 255))
        if any(c == (255, 255, 255) for _, c in colours)
        else 0
    )
    assert white < 0.97 * small.width * small.height


def _check_in_browser(browser: Browser, page: Path, expect_messages: int = 0) -> None:
    seen = browser.open(page)
    assert seen.errors == []
    assert seen.resources == [] and seen.scripts == 0
    assert seen.title.endswith("campaign report")
    charts = Page(page.read_text(encoding="utf-8")).charts
    assert len(seen.charts) == len(charts) >= 7
    messages = 0
    for chart in seen.charts:
        if chart["svg"] is not None:
            width, height = chart["svg"]
            assert width > 300 and height > 100, chart
            assert chart["label"]
        else:
            messages += 1
            width, height = chart["messageBox"]
            assert width > 0 and height > 0 and chart["message"], chart
    assert messages == expect_messages
    _not_blank(seen.png)


def test_the_demo_page_in_a_real_browser_and_the_docs_screenshot(
    browser: Browser, tmp_path: Path
) -> None:
    page = report(tmp_path, str(DEMO), "--seed", "1")
    _check_in_browser(browser, page)
    # docs/report.md shows this page: the screenshot is made again on every run
    seen = browser.open(page)
    from PIL import Image

    image = Image.open(BytesIO(seen.png)).convert("RGB")
    top = image.crop((0, 0, image.width, min(image.height, 2600)))
    buffer = BytesIO()
    top.save(buffer, format="PNG", optimize=True)
    if not SCREENSHOT.exists() or SCREENSHOT.read_bytes() != buffer.getvalue():
        SCREENSHOT.write_bytes(buffer.getvalue())
    assert SCREENSHOT.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("name", "payload", "options", "messages"),
    [
        ("fall-back", fall_back_overnight(), ["--days", "5"], 0),
        ("spring-forward", spring_forward(), ["--days", "5"], 0),
        (
            "nothing",
            {**spring_forward(), "endDate": "2024-03-09"},
            ["--from", "2024-04-01", "--days", "7"],
            7,
        ),
        ("no-customers", {k: v for k, v in spring_forward().items() if k != "phoneList"}, [], 5),
        ("twenty-zones", twenty_zones(), ["--days", "7"], 0),
        ("five-years", five_years(), ["--days", "1827"], 0),
    ],
)
def test_hard_cases_render_in_a_real_browser(
    browser: Browser,
    tmp_path: Path,
    name: str,
    payload: dict[str, Any],
    options: list[str],
    messages: int,
) -> None:
    path = write(tmp_path, f"{name}.json", payload)
    _check_in_browser(browser, report(tmp_path, path, *options), messages)


def test_dates_in_the_calls_per_day_table_are_local(tmp_path: Path) -> None:
    """The fall-back campaign's calls after midnight count for the next local date."""
    path = write(tmp_path, "fall.json", fall_back_overnight())
    page = Page(report(tmp_path, path).read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in ok("simulate", path, "--format", "jsonl").splitlines()]
    new_york = ZoneInfo("America/New_York")
    days = Counter(
        datetime.fromisoformat(r["utc"].replace("Z", "+00:00")).astimezone(new_york).date()
        for r in rows
    )
    assert page.per_day == {day.isoformat(): n for day, n in days.items()}
    # the overnight window of 2024-11-02 runs past midnight into the 3rd
    assert page.per_day.get(date(2024, 11, 3).isoformat(), 0) > 0


def test_the_worked_example_of_docs_report_md(tmp_path: Path) -> None:
    """Every number docs/report.md gives for examples/report-demo.json, seed 1."""
    doc = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    page = Page(report(tmp_path, str(DEMO), "--seed", "1").read_text(encoding="utf-8"))
    week = page.charts["calling-week"]["label"] or ""
    for text in (
        "the campaign 60.0 h",
        "America/Chicago 54.0 h from Mon 10:00",
        "America/Denver 48.0 h from Mon 11:00",
        "America/Los_Angeles 42.0 h from Mon 12:00",
        "Pacific/Honolulu 24.0 h from Mon 15:00",
    ):
        assert text in week
        assert text.split(" h ")[0].split()[-1] in doc
    windows = page.charts["windows"]["label"] or ""
    assert windows.startswith("11 calling windows from 2024-10-28 to 2024-11-10")
    assert "110.0 callable hours" in windows and "110.0 callable hours" in doc
    assert "2024-11-03 is a 25-hour day" in windows
    assert "2024-11-05 no window: blackoutDates" in windows
    s = page.summary
    assert (s["attempts"], s["reached"], s["not_reached"], s["unscheduled"]) == (
        "284",
        "80",
        "40",
        "0",
    )
    assert s["finished_at"] == "2024-11-06T20:00:25Z" and s["finished_at"] in doc
    assert "284\n  attempts, 80 customers reached and 40 not reached" in doc
    # Monday 2024-11-04 after the fall-back: 09:00-19:00 EST is 14:00-00:00 UTC
    campaign = Campaign.from_dict(json.loads(DEMO.read_text()))
    monday = next(w for w in campaign.windows() if w.day == date(2024, 11, 4))
    assert (monday.start.hour, monday.end.hour) == (14, 0)


def limited() -> dict[str, Any]:
    """Contact limits and a quiet period, with calls made elsewhere."""
    return {
        "name": "Limited",
        "timezone": "America/Chicago",
        "startDate": "2024-06-03",
        "endDate": "2024-06-21",
        "startTime": "09:00",
        "endTime": "17:00",
        "activeDays": [0, 1, 2, 3, 4],
        "callIntervalSeconds": 300,
        "callRetries": 4,
        "retryDelaySeconds": 600,
        "contactLimits": [{"maxCalls": 2, "days": 1, "window": "calendar"}],
        "quietAfterConversationDays": 7,
        "phoneList": [f"+1312555{i:04d}" for i in range(25)],
    }


def test_contact_limits_and_a_history(tmp_path: Path, browser: Browser) -> None:
    path = write(tmp_path, "limited.json", limited())
    history = tmp_path / "history.csv"
    history.write_text(
        "phone,at,outcome\n"
        + "".join(f"+1312555{i:04d},2024-06-03T13:00:00Z,No Answer\n" for i in range(10)),
        encoding="utf-8",
    )
    options = ["--seed", "4", "--history", str(history)]
    out = report(tmp_path, path, *options)
    page = Page(out.read_text(encoding="utf-8"))
    summary = json.loads(ok("simulate", path, *options, "--summary-only", "--format", "jsonl"))
    without = json.loads(ok("simulate", path, "--seed", "4", "--summary-only", "--format", "jsonl"))
    assert summary != without  # the history changes the run, and the page shows it
    for key, value in summary.items():
        assert page.summary.get(key, "0") == ("-" if value is None else str(value)), key
    rules = page.charts["rules"]["label"] or ""
    assert "contactLimits.0: at most 2 calls in one local day, per customer: 25" in rules
    assert "quietAfterConversationDays: no call on the 7 local days from a conversation: 25" in (
        rules
    )
    _check_in_browser(browser, out)


def test_a_rule_pack_names_the_customers_each_rule_applies_to(tmp_path: Path) -> None:
    pytest.importorskip("phonenumbers")
    if not os.environ.get("CALLSLOTS_EXTRAS"):
        pytest.importorskip("holidays")
    payload = {
        **limited(),
        "name": "Rule pack",
        "contactLimits": [],
        "timezone": "America/New_York",
        "startTime": "08:00",
        "endTime": "21:00",
        "callingRules": ["US"],
        "phoneList": [],
        "customers": [
            {"phoneNumber": f"+1305555{i:04d}", "properties": {"state": "FL"}} for i in range(6)
        ]
        + [{"phoneNumber": f"+1212555{i:04d}", "properties": {"state": "NY"}} for i in range(4)],
    }
    del payload["quietAfterConversationDays"]
    path = write(tmp_path, "pack.json", payload)
    page = Page(report(tmp_path, path).read_text(encoding="utf-8"))
    rules = page.charts["rules"]["label"] or ""
    assert "US-FL-hours" in rules
    # a rule's name may carry "[US pack version N; in force ...]", then its text, then
    # the count of customers: read the count that ends Florida's entry
    # and, when the rule takes hours away from some of them, "(N cut)"
    entry = r"(?: \[[^\]]*\])?:.*?: (\d+)(?: \((\d+) cut\))?(?:; |$)"
    found = re.search("US-FL-hours" + entry, rules)
    assert found is not None and found.group(1) == "6", rules
    # Florida's 08:00-20:00 takes 20:00-21:00 away from its 6 customers
    assert found.group(2) == "6", rules
    # the federal 08:00-21:00 applies to all 10 and takes nothing away from 08:00-21:00
    federal = re.search("US-TCPA-hours" + entry, rules)
    assert federal is not None and federal.group(1) == "10" and federal.group(2) is None, rules
    week = page.charts["calling-week"]["label"] or ""
    # one row per state: Florida's 08:00-20:00 cuts the campaign's 08:00-21:00
    assert "customers in America/New_York (federal) 65.0 h from Mon 08:00" in week
    assert "customers in America/New_York (federal, FL) 60.0 h from Mon 08:00" in week


# -- the binning, against plain per-call oracles --------------------------------------------

settings_ = settings(max_examples=60, deadline=None)


@st.composite
def near_transitions(draw: st.DrawFn) -> tuple[str, list[int]]:
    """A zone and instants (UTC seconds), many of them around its offset changes."""
    tz = draw(zones)
    year = draw(st.integers(1900, 2040))
    lo = int(datetime(year, 1, 1, tzinfo=timezone.utc).timestamp())
    changes = [at for at, _, _ in transitions(tz, lo, lo + 366 * 86400)]
    around = (
        st.sampled_from(changes).flatmap(lambda at: st.integers(at - 5400, at + 5400))
        if changes
        else st.integers(lo, lo + 366 * 86400)
    )
    anywhere = st.integers(lo, lo + 366 * 86400)
    return tz, draw(st.lists(st.one_of(around, anywhere), min_size=1, max_size=300))


@settings_
@given(near_transitions())
def test_local_dates_and_hours_of_calls_are_exact(case: tuple[str, list[int]]) -> None:
    import numpy as np

    from callslots.report import _local_hours, _local_ordinals

    tz, instants = case
    starts = np.array(sorted(instants), dtype=np.int64)
    walls = [wall_clock(tz, u) for u in starts.tolist()]
    assert _local_ordinals(starts, ZoneInfo(tz)).tolist() == [d.toordinal() for d, _ in walls]
    assert _local_hours(starts, ZoneInfo(tz)).tolist() == [s // 3600 for _, s in walls]


@settings_
@given(
    st.lists(st.tuples(st.integers(0, 20_000), st.integers(1, 3_000)), min_size=1, max_size=200),
    st.integers(1, 6),
)
def test_lines_in_use_is_the_most_calls_in_progress_in_each_bin(
    calls: list[tuple[int, int]], lines: int
) -> None:
    """The chart's series against counting by hand: the most calls in progress at any
    second of a bin is reached at its first second or at a call's start inside it."""
    import numpy as np

    from callslots.report import _lines

    pairs = sorted((start, start + length) for start, length in calls)

    def busy(t: int) -> int:
        return sum(1 for s, e in pairs if s <= t < e)

    campaign = Campaign.from_dict({"timezone": "UTC", "maxConcurrency": lines})
    chart = _lines(
        campaign,
        np.array([s for s, _ in pairs], dtype=np.int64),
        np.array([e for _, e in pairs], dtype=np.int64),
    )
    assert chart.figure is not None
    steps = chart.figure.axes[0].patches[0].get_data()  # the stairs: values, edges
    edges = [round(x * 86400) for x in steps.edges]
    assert edges[0] <= pairs[0][0] and edges[-1] >= max(e for _, e in pairs)
    for i, peak in enumerate(steps.values.tolist()):
        a, b = edges[i], edges[i + 1]
        expected = max([busy(a)] + [busy(s) for s, _ in pairs if a <= s < b])
        assert peak == expected, (a, b)
    assert f"at most {max(busy(s) for s, _ in pairs)} at once" in chart.description


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
@pytest.mark.parametrize(
    ("start", "days"),
    [("0001-01-01", "4000"), ("9999-12-31", "1"), ("9999-12-25", "4000")],
)
def test_the_ends_of_the_time_line(tmp_path: Path, zone: str, start: str, days: str) -> None:
    """Calls within hours of 0001-01-01 and 9999-12-31 in the zones furthest from
    UTC (+14:00, -11:00): the page is written, cut to the days a calendar holds."""
    payload = {
        "timezone": zone,
        "startTime": "00:00",
        "endTime": "24:00",
        "activeDays": [0, 1, 2, 3, 4, 5, 6],
        "callRetries": 2,
        "phoneList": ["+14155550100", "+14155550101"],
    }
    path = write(tmp_path, "edge.json", payload)
    page = Page(report(tmp_path, path, "--from", start, "--days", days).read_text("utf-8"))
    assert len(page.charts) == 7
    summary = json.loads(
        ok("simulate", path, "--from", start, "--summary-only", "--format", "jsonl")
    )
    assert page.summary["attempts"] == str(summary["attempts"])


@pytest.mark.parametrize("zone", [None, "Etc/GMT-14", "Etc/GMT+12", "UTC"])
@pytest.mark.parametrize(
    ("low", "high"),
    [(-1, 1), (-400, 5), (-3000, 2), (-0.01, 0.01), (-40000, 0)],
    ids=["day", "400 days", "8 years", "minutes", "a century"],
)
@pytest.mark.parametrize("end", ["first", "last"])
def test_a_date_axis_at_either_end_of_the_time_line_draws(
    zone: str | None, low: float, high: float, end: str
) -> None:
    """Near year 1 or 9999 matplotlib's date ticks leave Python's dates (a tick on
    10000-01-01, a date read 14 hours east): found by the CLI sweep on Python 3.10
    (`report --from now --days 508`); every such axis still draws."""
    pytest.importorskip("matplotlib")
    import io
    from zoneinfo import ZoneInfo

    from matplotlib.figure import Figure

    from callslots.report import _date_axis

    epoch = date(1970, 1, 1).toordinal()
    if end == "last":
        at = float(date.max.toordinal() - epoch - 1)
        span = (at + low, at + high)
    else:
        at = float(date.min.toordinal() - epoch + 1)
        span = (at - high, at - low)
    figure = Figure()
    ax = figure.add_subplot()
    ax.plot(list(span), [0, 1])
    ax.set_xlim(*span)
    _date_axis(ax, None if zone is None else ZoneInfo(zone))
    figure.savefig(io.StringIO(), format="svg")
    assert ax.get_xticks().size > 0
