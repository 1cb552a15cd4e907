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
