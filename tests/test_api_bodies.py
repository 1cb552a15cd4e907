"""Real API bodies read cleanly: the reference's own request and response, the field
table, the response envelope, fields that echo the API's defaults, and numbers that
cannot exist (the optional phone extra)."""

from __future__ import annotations

import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies
from callslots import Campaign, ConfigError, Hours, Outcome
from callslots.config import ENVELOPE, FIELDS, KNOWN_FIELDS
from reference_api import (
    REQUEST_EXAMPLE,
    REQUEST_SCHEMA_FIELDS,
    RESPONSE_EXAMPLE,
    RESPONSE_SCHEMA_FIELDS,
    response_campaign,
)

UTC = timezone.utc
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DOCS = Path(__file__).resolve().parent.parent / "docs"


def errors_of(payload: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        Campaign.from_dict(payload, now=NOW)
    return {p.path: p.message for p in info.value.errors}


def warnings_of(payload: dict[str, Any]) -> dict[str, str]:
    return {w.path: w.message for w in Campaign.from_dict(payload, now=NOW).warnings}


# -- the reference's own bodies ---------------------------------------------------------


def test_the_reference_request_reads_without_a_warning() -> None:
    campaign = Campaign.from_dict(REQUEST_EXAMPLE)
    assert campaign.warnings == ()
    assert campaign.timezone == "America/New_York"
    assert campaign.hours_on(2) == Hours(10 * 3600, 18 * 3600)
    assert [c.phone for c in campaign.customers] == ["+14155559001", "+14155559002"]


def test_the_reference_response_campaign_reads_without_a_warning() -> None:
    campaign_object = response_campaign()
    # The page shows "<string>" for startTime and endTime; a real response has times.
    # Every other "<string>" is a field callslots does not read, so it stays as shown.
    campaign_object.update(startTime="09:00", endTime="17:00")
    campaign = Campaign.from_dict(campaign_object)
    assert campaign.warnings == ()
    # Its values are the API's defaults, and they read as such.
    assert campaign.call_retries == 0
    assert set(campaign.retry_conditions) == {
        Outcome.parse(name) for name in campaign_object["retryConditions"]
    }
    assert campaign.active_days == tuple(range(7))
    assert (campaign.call_interval_seconds, campaign.max_concurrency) == (30, 5)
    assert campaign.start_date == campaign.end_date


def test_every_field_the_reference_names_is_in_the_table_where_it_says() -> None:
    table = {f.name: f for f in FIELDS}
    assert len(table) == len(FIELDS), "a field is listed twice"
    request = set(REQUEST_SCHEMA_FIELDS) | set(REQUEST_EXAMPLE)
    response = set(response_campaign())
    assert request | response <= table.keys(), (request | response) - table.keys()
    assert set(RESPONSE_SCHEMA_FIELDS) <= set(ENVELOPE)  # a whole response is recognised
    for name, f in table.items():
        assert ("request" in f.where) == (name in request), name
        assert ("response" in f.where) == (name in response), name
        assert (f.where == "extension") == (name not in request | response), name


def test_the_table_is_the_one_in_the_docs() -> None:
    text = (DOCS / "campaign.md").read_text(encoding="utf-8")
    section = text.split("## Every field", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("| `")
    ]
    documented = [(name.strip("`"), where, read) for name, where, read, *_ in rows]
    assert documented == [(f.name, f.where, "read" if f.read else "not read") for f in FIELDS]


def test_fields_the_parser_does_not_read_are_silent_whatever_their_value() -> None:
    ignored = [f.name for f in FIELDS if not f.read]
    for value in (None, "<string>", 5, [], {"x": [1]}, True):
        assert (
            warnings_of(dict.fromkeys(ignored, value) | {"startTime": "09:00", "endTime": "17:00"})
            == {}
        )


def test_only_unknown_fields_warn_and_hints_name_real_fields() -> None:
    found = warnings_of(
        {"startTime": "09:00", "endTime": "17:00", "stauts": "draft", "workspaceID": "w", "x": 1}
    )
    assert found.keys() == {"stauts", "workspaceID", "x"}
    assert "'status'" in found["stauts"]
    assert "'workspaceId'" in found["workspaceID"]
    assert "did you mean" not in found["x"]
    for message in found.values():
        for hint in re.findall(r"did you mean '([^']*)'", message):
            assert hint in KNOWN_FIELDS
    # the envelope's keys are not offered as hints: they are not campaign fields
    assert (
        "did you mean"
        not in warnings_of({"startTime": "09:00", "endTime": "17:00", "succes": 1})["succes"]
    )


# -- the response envelope ---------------------------------------------------------------


def test_the_whole_response_is_refused_with_the_campaigns_path() -> None:
    found = errors_of(RESPONSE_EXAMPLE)
    assert found.keys() == {"data.result.campaign"}
    assert "pass the campaign object found at data.result.campaign" in found["data.result.campaign"]


@pytest.mark.parametrize(
    ("part", "path"),
    [
        (RESPONSE_EXAMPLE, "data.result.campaign"),
        (RESPONSE_EXAMPLE["data"], "result.campaign"),
        (RESPONSE_EXAMPLE["data"]["result"], "campaign"),
        ({"success": False, "data": {"message": "bad token"}}, "data.result.campaign"),
        ({"success": True}, "data.result.campaign"),
    ],
)
def test_any_part_of_the_envelope_above_the_campaign_is_refused(part: Any, path: str) -> None:
    found = errors_of(part)
    assert list(found) == [path]
    assert "create-campaign response" in found[path]
    assert set(ENVELOPE) & set(part)


def test_an_error_response_says_it_holds_no_campaign() -> None:
    found = errors_of({"success": False, "data": {"message": "invalid assistantId"}})
    assert "holds no campaign object at data.result.campaign" in found["data.result.campaign"]


def test_the_campaign_inside_the_envelope_is_what_to_pass() -> None:
    inner = RESPONSE_EXAMPLE["data"]["result"]["campaign"] | {
        "startTime": "09:00",
        "endTime": "17:00",
    }
    assert Campaign.from_dict(inner).warnings == ()


# -- a field that echoes the API's default is never a warning --------------------------

#: The API's defaults as its own response shows them (its campaign object), and
#: callslots' defaults for the fields it adds.
API_DEFAULTS: dict[str, Any] = {
    name: response_campaign()[name]
    for name in (
        "timezone",
        "activeDays",
        "daySchedules",
        "callRetries",
        "retryDelaySeconds",
        "retryDelayMode",
        "retryConditions",
        "schedulingMode",
        "callIntervalSeconds",
        "maxConcurrency",
        "customers",
    )
} | {
    "endDate": None,
    "phoneList": [],
    "dateSchedules": {},
    "blackoutDates": [],
    "holidays": None,
    "recipientHours": None,
}


@st.composite
def payloads(draw: st.DrawFn) -> dict[str, Any]:
    payload = dict(draw(strategies.campaigns()).payload)
    phones = draw(st.lists(st.sampled_from(["+14155559001", "+14155559002", "+420601123456"])))
    shape = draw(st.sampled_from(["customers", "phoneList", "none"]))
    payload.pop("customers", None)
    if shape == "customers":
        payload["customers"] = [{"phoneNumber": p} for p in phones]
    elif shape == "phoneList":
        payload["phoneList"] = phones
    return payload


@given(payloads(), st.sampled_from(sorted(API_DEFAULTS)))
def test_giving_a_field_its_default_changes_nothing(payload: dict[str, Any], name: str) -> None:
    without = {k: v for k, v in payload.items() if k != name}
    with_default = without | {name: API_DEFAULTS[name]}
    try:
        plain = Campaign.from_dict(without, now=NOW)
    except ConfigError as error:
        with pytest.raises(ConfigError) as info:
            Campaign.from_dict(with_default, now=NOW)
        assert info.value.errors == error.errors
        return
    echoed = Campaign.from_dict(with_default, now=NOW)
    assert echoed == plain
    assert echoed.warnings == plain.warnings


def test_the_default_retry_conditions_do_not_warn_while_call_retries_is_0() -> None:
    base = {"startTime": "09:00", "endTime": "17:00", "callRetries": 0}
    assert warnings_of(base | {"retryConditions": API_DEFAULTS["retryConditions"]}) == {}
    reordered = list(reversed(API_DEFAULTS["retryConditions"]))
    assert warnings_of(base | {"retryConditions": reordered}) == {}
    assert "no effect" in warnings_of(base | {"retryConditions": ["Busy"]})["retryConditions"]


def test_an_empty_customers_list_stands_aside_for_a_phone_list() -> None:
    campaign = Campaign.from_dict(
        {"startTime": "09:00", "endTime": "17:00", "customers": [], "phoneList": ["+14155559001"]},
        now=NOW,
    )
    assert [c.phone for c in campaign.customers] == ["+14155559001"] and not campaign.warnings
    both = errors_of(
        {"customers": [{"phoneNumber": "+14155559001"}], "phoneList": ["+14155559002"]}
    )
    assert "not both" in both["phoneList"]


# -- numbers that cannot exist (the phone extra) --------------------------------------

IMPOSSIBLE = ["+10000000000", "+4400", "+999123456"]


def test_numbers_that_cannot_exist_are_warned_about_per_customer() -> None:
    pytest.importorskip("phonenumbers")
    payload = {
        "startTime": "09:00",
        "endTime": "17:00",
        "customers": [{"phoneNumber": p} for p in ["+14155559001", *IMPOSSIBLE, "+4400"]],
    }
    found = warnings_of(payload)
    assert found.keys() == {
        "customers.1.phoneNumber",
        "customers.2.phoneNumber",
        "customers.3.phoneNumber",
        "customers.4.phoneNumber",
    }
    assert "+10000000000 cannot exist" in found["customers.1.phoneNumber"]
    assert "too short for a +44 number" in found["customers.2.phoneNumber"]
    assert "calling code" in found["customers.3.phoneNumber"]
    assert "is also customers.2" in found["customers.4.phoneNumber"]  # warned once, there
    campaign = Campaign.from_dict(payload, now=NOW)
    assert [c.phone for c in campaign.customers] == payload_phones(payload)  # kept
    listed = warnings_of({"startTime": "09:00", "endTime": "17:00", "phoneList": IMPOSSIBLE})
    assert listed.keys() == {"phoneList.0", "phoneList.1", "phoneList.2"}


def payload_phones(payload: dict[str, Any]) -> list[str]:
    return [c["phoneNumber"] for c in payload["customers"]]


def test_without_the_phone_extra_only_the_syntax_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "phonenumbers", None)  # import phonenumbers fails
    assert warnings_of({"startTime": "09:00", "endTime": "17:00", "phoneList": IMPOSSIBLE}) == {}
    assert "E.164" in errors_of({"phoneList": ["4155559001"]})["phoneList.0"]


# -- the examples in docs/campaign.md are real output ----------------------------------


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_docs_show_the_real_messages() -> None:
    text = (DOCS / "campaign.md").read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Campaign.from_dict(RESPONSE_EXAMPLE)
    assert f"```text\n{info.value}\n```" in text
    with pytest.raises(ConfigError) as info:
        Campaign.from_dict({"startAt": "9999-12-31T23:59:59.5Z"})
    (problem,) = info.value.errors
    assert flat(f"`{problem.path}: {problem.message}`") in flat(text)
    phonenumbers = pytest.importorskip("phonenumbers")
    (warning,) = Campaign.from_dict({"phoneList": ["+10000000000"]}, now=NOW).warnings[:1]
    shown = warning.message.replace(phonenumbers.__version__, "9.0.43")  # as the docs say
    assert flat(f"`{shown}`") in flat(text)
