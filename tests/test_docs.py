"""The worked examples in docs/ are real output: run them and compare."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DOCS = Path(__file__).resolve().parent.parent / "docs"
PRAGUE = ZoneInfo("Europe/Prague")


def table_after(text: str, header: str) -> list[list[str]]:
    block = text.split(header, 1)[1].split("\n\n", 1)[0]
    rows = [line for line in block.splitlines() if line.startswith("|") and "---" not in line]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_pacing_worked_example() -> None:
    text = (DOCS / "pacing.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    scope: dict[str, Any] = {}
    exec(code.group(1), scope)
    campaign, attempts = scope["campaign"], scope["attempts"]

    for number, local, utc in table_after(text, "| slot | Prague | UTC |"):
        at = campaign.slot_at(int(number))
        assert f"{at.astimezone(PRAGUE):%a %d %H:%M %Z}" == local
        assert f"{at:%Y-%m-%dT%H:%MZ}" == utc

    expected = table_after(text, "| customer | attempt | starts (Prague) |")
    got = [
        [
            str(a.customer_index),
            str(a.attempt),
            f"{a.at.astimezone(PRAGUE):%a %d %H:%M %Z}",
            f"{a.at:%H:%MZ}",
            f"{a.ended_at.astimezone(PRAGUE):%H:%M:%S}",
            a.outcome.value,
            a.retry_at.astimezone(PRAGUE).strftime("%a %H:%M:%S") if a.retry_at else "-",
        ]
        for a in attempts
    ]
    assert got == expected


def test_date_exceptions_worked_example() -> None:
    import json
    from datetime import date, datetime, timedelta, timezone

    from callslots import Campaign

    text = (DOCS / "compliance.md").read_text(encoding="utf-8")
    section = text.split("### Worked example", 1)[1]
    payload = re.search(r"```json\n(.*?)```", section, re.S)
    assert payload is not None
    campaign = Campaign.from_dict(json.loads(payload.group(1)))
    rows = table_after(section, "| local date | weekday | decided by | window (UTC) |")
    assert len(rows) == 8
    for day, weekday, _, window in rows:
        d = date.fromisoformat(day)
        assert f"{d:%A}" == weekday
        midnight = datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
        owned = [
            f"{w.start:%H:%M}-{w.end:%H:%M}"
            for w in campaign.windows(midnight, midnight + timedelta(days=1))
            if w.day == d
        ]
        assert owned == ([] if window == "none" else [window]), day


def test_recipient_hours_worked_example() -> None:
    from datetime import datetime, timezone

    from callslots import Campaign

    text = (DOCS / "compliance.md").read_text(encoding="utf-8")
    section = text.split("## 2. Recipient hours", 1)[1]
    campaign = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-07-01",
            "startTime": "09:00",
            "endTime": "17:00",
            "activeDays": [0, 1, 2, 3, 4],
            "recipientHours": {"startTime": "08:00", "endTime": "21:00"},
        }
    )
    monday = datetime(2024, 7, 1, tzinfo=timezone.utc)
    rows = table_after(section, "| customer | zones | its 08:00-21:00 in UTC |")
    assert len(rows) == 4
    for customer, zones, _, utc, new_york in rows:
        who: object = customer
        if customer.endswith("(property)"):
            zone = customer.split()[0]
            who = {"phoneNumber": "+81312345678", "properties": {"timezone": zone}}
        view = campaign.for_customer(who)
        assert ", ".join(view.zones) == zones
        got = [
            (
                f"{w.start:%H:%M}-{w.end:%H:%M}",
                f"{w.start.astimezone(NEW_YORK):%H:%M}-{w.end.astimezone(NEW_YORK):%H:%M}",
            )
            for w in view.windows(monday, monday.replace(day=2))
        ]
        assert got == ([] if utc == "none" else [(utc, new_york)]), customer


NEW_YORK = ZoneInfo("America/New_York")


def test_calling_rules_worked_example() -> None:
    import os
    from datetime import date, datetime, timedelta

    import pytest

    from callslots import Campaign
    from callslots.limits import ContactLimit

    pytest.importorskip("phonenumbers")
    if not os.environ.get("CALLSLOTS_EXTRAS"):
        pytest.importorskip("holidays")
    text = (DOCS / "compliance.md").read_text(encoding="utf-8")
    section = text.split("## 5. The US calling-rules pack", 1)[1].split("### Worked example", 1)[1]
    campaign = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2027-01-01",
            "startTime": "09:00",
            "endTime": "21:00",
            "callingRules": ["US"],
        }
    )
    friday = datetime(2027, 1, 15, tzinfo=NEW_YORK)
    rows = table_after(section, "| customer | states | rules that cut it |")
    assert len(rows) == 5
    for phone, _, rules, utc, new_york in rows:
        view = campaign.for_customer(phone)
        named = sorted(r.split(" (")[0] for r in rules.split(", ")) if rules != "none" else []
        in_force = sorted(cut.rule.split(" [")[0] for cut in view.cuts if cut.rule)
        assert in_force == named, phone
        got = [
            (
                f"{w.start:%H:%M}-{w.end:%H:%M}",
                f"{w.start.astimezone(NEW_YORK):%H:%M}-{w.end.astimezone(NEW_YORK):%H:%M}",
            )
            for w in view.windows(friday, friday + timedelta(days=1))
        ]
        assert got == [(utc, new_york)], phone
    rhode_island = campaign.for_customer("+14015550100")
    for day in (date(2027, 1, 17), date(2027, 1, 18)):
        start = datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
        assert list(rhode_island.windows(start, start + timedelta(days=1))) == []
    assert campaign.for_customer("+13055550100").limits == (
        ContactLimit(
            max_calls=3,
            days=1,
            per="customer",
            count="attempts",
            window="rolling",
            name="Fla. Stat. 501.616(6)(b): at most 3 calls in 24 hours, per person and "
            "subject matter",
            # In force from the rule's effective date, 2021-07-01, on the customer's clock.
            since=int(datetime(2021, 7, 1, tzinfo=NEW_YORK).timestamp()) * 1_000_000,
        ),
    )


def prints_what_it_shows(path: Path, heading: str) -> None:
    """The first python block after ``heading`` in ``path`` prints the text block after
    it (run in this process, from the repository's root)."""
    import contextlib
    import io
    import os

    section = path.read_text(encoding="utf-8").split(heading, 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    shown = re.search(r"```text\n(.*?)```", section, re.S)
    assert code is not None and shown is not None
    printed = io.StringIO()
    here = os.getcwd()
    os.chdir(DOCS.parent)
    try:
        with contextlib.redirect_stdout(printed):
            exec(code.group(1), {"__name__": "docs_example"})
    finally:
        os.chdir(here)
    assert printed.getvalue() == shown.group(1)


def test_dispatch_service_loop() -> None:
    prints_what_it_shows(DOCS / "dispatch.md", "## A service loop, worked through")


def test_readme_running_a_campaign_example() -> None:
    prints_what_it_shows(DOCS.parent / "README.md", "## Running a campaign")


def test_the_ends_of_the_time_line_example_prints_what_it_shows() -> None:
    prints_what_it_shows(DOCS / "semantics.md", "**Example: the ends of the time line.**")


def test_the_customer_view_example_follows_the_campaigns_contract() -> None:
    from datetime import datetime, timezone

    from callslots import Campaign

    text = (DOCS / "compliance.md").read_text(encoding="utf-8")
    assert "`[16:00:00.5Z, 20:30:00.25Z)`, owned by 2024-07-01" in text
    assert '`retry("Busy", 1, 20:58Z)` with `callRetries` 1 is Tuesday 15:00Z' in text
    campaign = Campaign.from_dict(
        {
            "timezone": "America/New_York",
            "startDate": "2024-07-01",
            "startTime": "09:00",
            "endTime": "17:00",
            "activeDays": [0, 1, 2, 3, 4],
            "callRetries": 1,
            "recipientHours": {"startTime": "08:00", "endTime": "21:00"},
        }
    )
    view = campaign.for_customer("+14155550100")

    def utc(*args: int) -> datetime:
        return datetime(*args, tzinfo=timezone.utc)

    start, end = utc(2024, 7, 1, 16, 0, 0, 500_000), utc(2024, 7, 1, 20, 30, 0, 250_000)
    assert [(w.start, w.end, str(w.day)) for w in view.windows(start, end)] == [
        (start, end, "2024-07-01")
    ]
    assert str(view.day_of(utc(2024, 7, 1, 22))) == "2024-07-01"
    assert view.retry("Busy", 1, utc(2024, 7, 1, 20, 58)).at == utc(2024, 7, 2, 15)
