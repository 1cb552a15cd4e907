"""The calling-rule pack: the shipped data is whole and consistent with its sources'
words and with docs/compliance.md; a malformed pack is refused with every problem."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callslots.rulepack import (
    CallsLimit,
    DaysLimit,
    HoursLimit,
    QuietLimit,
    RulePack,
    RulePackError,
    load_pack,
    read_pack,
)

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "src" / "callslots" / "rules"
RAW: dict[str, Any] = json.loads((RULES / "us.json").read_text(encoding="utf-8"))
SOURCES = RULES / "sources"
INDEX: dict[str, Any] = json.loads((SOURCES / "index.json").read_text(encoding="utf-8"))
#: Each version of the pack and the SHA-256 of its rules and gaps (canonical JSON):
#: a released version never changes, so a changed rule needs a new version here.
VERSIONS: dict[str, str] = json.loads(
    (ROOT / "tests" / "rulepack_versions.json").read_text(encoding="utf-8")
)
#: Written out here, not imported: the 50 states, DC and the five inhabited territories.
STATES = {
    *[
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
    ],
    *[
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "DC",
        "PR",
        "GU",
        "VI",
    ],
    *["AS", "MP"],
}
NUMBERS = {1: "one", 3: "three", 7: "seven"}


def test_the_shipped_pack_loads() -> None:
    pack = load_pack("US")
    assert pack.name == "US" and len(pack.rules) == len(RAW["rules"]) >= 5
    assert [r.id for r in pack.rules] == [r["id"] for r in RAW["rules"]]
    assert {r.scope for r in pack.rules} >= {"federal", "FL"}


@pytest.mark.parametrize("raw", RAW["rules"], ids=[r["id"] for r in RAW["rules"]])
def test_every_rule_has_its_citation_dates_and_values_in_range(raw: dict[str, Any]) -> None:
    today = date.today()
    assert raw["citation"].strip() and raw["quote"].strip()
    for key in ("url", "read_at"):
        assert re.fullmatch(r"https?://[\w.-]+\.[a-z]{2,}(/\S*)?", raw[key]), raw[key]
    checked = date.fromisoformat(raw["checked"])
    assert date(2020, 1, 1) <= checked <= today
    # A start that is not known is null, never a stand-in date (such as the check's).
    assert (raw["effective"] is None) == (raw["effective_basis"] == "not known")
    if raw["effective"] is not None:
        effective = date.fromisoformat(raw["effective"])
        assert date(1900, 1, 1) <= effective <= checked
        assert effective != checked, "a start on the check date is a stand-in: write null"
    if raw["ends"] is not None:
        assert raw["effective"] is None or raw["ends"] > raw["effective"]
    assert raw["scope"] == "federal" or raw["scope"] in STATES
    values = raw["values"]
    if raw["limit"] == "hours":
        assert list(values["hours"]) == ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
        for span in values["hours"].values():
            if span is not None:
                start, end = span
                assert "00:00" <= start < end <= "24:00"
    elif raw["limit"] == "calls-per-period":
        assert 1 <= values["max_calls"] <= 100
        assert values["window"] in ("rolling", "calendar")
    elif raw["limit"] == "quiet-after-conversation":
        assert 1 <= values["days"] <= 31


def spellings(hhmm: str) -> set[str]:
    """How a statute writes a time of day: 8 a.m., 8:00 a.m., 12:00 noon, ..."""
    hour = int(hhmm[:2])
    if hour == 12:
        return {"12:00 noon", "noon"}
    suffix = "a.m." if hour < 12 else "p.m."
    twelve = hour if hour <= 12 else hour - 12
    return {f"{twelve} {suffix}", f"{twelve}:00 {suffix}"}


@pytest.mark.parametrize("raw", RAW["rules"], ids=[r["id"] for r in RAW["rules"]])
def test_the_values_are_what_the_quoted_source_says(raw: dict[str, Any]) -> None:
    """Each hour and count of a rule is written in its quote (or, where the source
    page shows an amendment's struck and inserted words, in its notes)."""
    words = f"{raw['quote']} {raw['notes']}"
    values = raw["values"]
    if raw["limit"] == "hours":
        times = {t for span in values["hours"].values() if span for t in span}
        for hhmm in times:  # "8:00 P.M." (201 CMR 12.02) is 8:00 p.m.
            assert any(s in words.lower() for s in spellings(hhmm)), (hhmm, raw["id"])
    elif raw["limit"] == "calls-per-period":
        assert NUMBERS[values["max_calls"]] in words
        span = values["span"]
        assert (
            (f"{span['hours']}-hour" in words)
            if "hours" in span
            else (f"{NUMBERS[span['days']]} consecutive days" in words)
        )
    elif raw["limit"] == "quiet-after-conversation":
        assert f"{NUMBERS[values['days']]} consecutive days" in words
        assert "conversation is the first day" in words
    elif raw["limit"] == "days":
        assert "holiday" in words


@pytest.mark.parametrize("raw", RAW["rules"], ids=[r["id"] for r in RAW["rules"]])
def test_every_quote_is_in_its_stored_source(raw: dict[str, Any]) -> None:
    """docs/compliance.md, "Stored sources": the quote is an exact substring of the
    verbatim text the rule names, stored in the repository with where and when it
    was read."""
    name = raw["text"]
    assert name in INDEX, f"{raw['id']} names {name!r}, which sources/index.json lacks"
    text = (SOURCES / f"{name}.txt").read_text(encoding="utf-8")
    assert raw["quote"] in text, raw["id"]
    entry = INDEX[name]
    assert entry["source"] == raw["source"] or raw["source"] == "copy"
    assert date.fromisoformat(entry["read_on"]) <= date.fromisoformat(raw["checked"])


def test_every_stored_source_is_listed_with_its_hash_and_used() -> None:
    stored = {p.stem for p in SOURCES.glob("*.txt")}
    assert stored == set(INDEX), stored ^ set(INDEX)
    used = {raw["text"] for raw in RAW["rules"]}
    assert used == stored, stored - used
    for name, entry in INDEX.items():
        data = (SOURCES / f"{name}.txt").read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], name
        assert set(entry) == {
            "title",
            "official",
            "read_at",
            "read_on",
            "how",
            "source",
            "sha256",
        }, name
        assert re.fullmatch(r"https?://\S+", entry["official"]) and entry["how"].strip()
        date.fromisoformat(entry["read_on"])


def test_the_version_changes_whenever_a_rule_changes() -> None:
    """A version once written maps to one content forever (tests/rulepack_versions.json):
    changing a rule or a gap without a new version fails here."""
    content = json.dumps(
        {"rules": RAW["rules"], "not_covered": RAW["not_covered"]},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    version = str(RAW["version"])
    assert version in VERSIONS, f"add version {version} with sha256 {digest} to the list"
    assert VERSIONS[version] == digest, (
        f"the rules of version {version} changed: give the pack a new version "
        f"(and add it with sha256 {digest})"
    )
    assert int(version) == max(int(v) for v in VERSIONS)
    assert load_pack().label == f"US pack version {version}"


def test_the_docs_list_every_rule_and_everything_left_out() -> None:
    text = (ROOT / "docs" / "compliance.md").read_text(encoding="utf-8")
    section = text.split("## 5. The US calling-rules pack", 1)[1]
    for rule in load_pack().rules:
        row = next(
            (line for line in section.splitlines() if line.startswith(f"| `{rule.id}`")), None
        )
        assert row is not None, rule.id
        assert rule.citation in row and rule.url in row
    for left_out in load_pack().not_covered:
        assert left_out.what.split(":")[0] in section, left_out.what


def test_what_the_values_mean() -> None:
    pack = load_pack()
    florida = {r.id: r for r in pack.for_scopes("FL")}
    hours = florida["US-FL-hours"].values
    assert isinstance(hours, HoursLimit)
    assert {str(h) for h in hours.hours} == {"08:00-20:00"}
    calls = florida["US-FL-3-per-24h"].values
    assert isinstance(calls, CallsLimit)
    assert (calls.max_calls, calls.span_hours, calls.span_days, calls.window) == (
        3,
        24,
        None,
        "rolling",
    )
    assert florida["US-FL-hours"].label == (
        "Fla. Stat. 501.616(6)(a): 08:00-20:00 at the called person's location"
    )
    regf = {r.id: r for r in pack.for_scopes("federal")}
    quiet = regf["US-RegF-after-conversation"].values
    assert isinstance(quiet, QuietLimit) and quiet.days == 7
    seven = regf["US-RegF-7in7"].values
    assert isinstance(seven, CallsLimit) and (seven.max_calls, seven.span_days) == (7, 7)
    rhode = {r.id: r for r in pack.for_scopes("RI")}
    week = rhode["US-RI-hours"].values
    assert isinstance(week, HoursLimit) and week.hours[6] is None  # no Sunday hours
    holidays = rhode["US-RI-holidays"].values
    assert isinstance(holidays, DaysLimit) and holidays.weekdays == (0, 1, 2, 3, 4)
    illinois = pack.for_scopes("IL")[0]
    assert illinois.clock == "America/Chicago" and illinois.applies_to == "securities-solicitation"
    maine = pack.for_scopes("ME")[0]
    assert maine.clock == "America/New_York" and maine.technology == (
        "prerecorded-voice",
        "artificial-voice",
    )
    weekdays = maine.values
    assert isinstance(weekdays, HoursLimit)
    assert [str(h) if h else None for h in weekdays.hours] == [*["09:00-17:00"] * 5, None, None]
    california = pack.for_scopes("CA")[0]
    assert california.clock == "America/Los_Angeles"
    assert california.label == (
        "Cal. Pub. Util. Code 2872(c): 09:00-21:00 America/Los_Angeles, for calls made with "
        "a prerecorded-voice or artificial-voice"
    )
    # The article follows the first kind: "an automatic-dialer or ...".
    assert pack.for_scopes("SD")[0].label.endswith(
        "for calls made with an automatic-dialer or prerecorded-voice or artificial-voice"
    )


def test_the_wheel_ships_the_pack(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="needs hatchling (the test extra installs it)")
    from hatchling.builders.wheel import WheelBuilder

    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path))
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("callslots/rules/us.json")
        texts = {name: archive.read(f"callslots/rules/sources/{name}.txt") for name in INDEX}
    assert isinstance(read_pack(json.loads(shipped)), RulePack)
    for name, data in texts.items():  # the stored sources travel with the pack
        assert hashlib.sha256(data).hexdigest() == INDEX[name]["sha256"], name


def broken(change: Any) -> list[tuple[str, str]]:
    data = copy.deepcopy(RAW)
    change(data)
    with pytest.raises(RulePackError) as caught:
        read_pack(data)
    return [(p.path, p.message) for p in caught.value.errors]


def test_a_malformed_pack_names_every_problem_with_its_path() -> None:
    def many(data: dict[str, Any]) -> None:
        data["rules"][0]["scope"] = "XX"
        data["rules"][0]["values"]["hours"]["MO"] = ["21:00", "08:00"]
        data["rules"][1]["values"]["max_calls"] = 0
        data["rules"][2]["checked"] = "2026-02-30"
        data["rules"][3]["url"] = "flsenate.gov"
        data["rules"][4]["id"] = data["rules"][3]["id"]
        del data["rules"][5]["quote"]
        data["rules"][6]["clock"] = "Mars/Olympus"
        data["rules"][7]["extra"] = 1

    problems = broken(many)
    paths = [path for path, _ in problems]
    assert paths == [
        "rules.0.scope",
        "rules.0.values.hours.MO",
        "rules.1.values.max_calls",
        "rules.2.checked",
        "rules.3.url",
        "rules.4.id",
        "rules.5.quote",
        "rules.6.clock",
        "rules.7.extra",
    ], problems
    assert "'XX'" in problems[0][1] and "21:00 is not before 08:00" in problems[1][1]


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (lambda d: d.update(pack="usa"), "pack", "country code"),
        (lambda d: d.update(rules=[]), "rules", "is empty"),
        (
            lambda d: d["rules"][0]["values"]["hours"].pop("SU"),
            "rules.0.values.hours.SU",
            "missing",
        ),
        (
            lambda d: d["rules"][0]["values"]["hours"].update(MO=["08:00", "24:01"]),
            "rules.0.values.hours.MO.1",
            "not a time of day",
        ),
        (
            lambda d: d["rules"][3]["values"].update(window="calendar", span={"hours": 24}),
            "rules.3.values.span",
            "calendar window counts whole days",
        ),
        (lambda d: d["rules"][1].update(limit="weekly"), "rules.1.limit", "must be 'hours'"),
        (
            lambda d: d["rules"][0].update(effective=None),
            "rules.0.effective",
            "effective_basis 'not known'",
        ),
        (
            lambda d: d["rules"][1].update(effective="2020-01-01"),
            "rules.1.effective",
            "a date needs the basis",
        ),
        (
            lambda d: d["rules"][0].update(ends="1990-01-01"),
            "rules.0.ends",
            "is not after the rule's start",
        ),
        (
            lambda d: d["rules"][3].update(ends="2030-01-01"),
            "rules.3.ends",
            "cannot end yet",
        ),
        (lambda d: d["rules"][0].update(text="../us"), "rules.0.text", "source text's name"),
        (lambda d: d["not_covered"][0].pop("why"), "not_covered.0.why", "missing"),
    ],
)
def test_each_kind_of_mistake(change: Any, path: str, words: str) -> None:
    problems = broken(change)
    assert any(p == path and words in m for p, m in problems), problems


def test_load_pack_refuses_unknown_names() -> None:
    with pytest.raises(ValueError, match="has no rule pack 'CA'"):
        load_pack("CA")
    with pytest.raises(ValueError, match="country code"):
        load_pack("../us")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(
    value=json_values,
    rule_key=st.sampled_from(sorted(RAW["rules"][0])),
    spot=st.integers(0, len(RAW["rules"]) - 1),
)
def test_any_json_is_a_pack_or_a_rule_pack_error(value: Any, rule_key: str, spot: int) -> None:
    for candidate in (value, {**RAW, "rules": [{**RAW["rules"][spot], rule_key: value}]}):
        try:
            read_pack(candidate)
        except RulePackError as e:
            assert e.errors and all(isinstance(p.path, str) for p in e.errors)
