"""Reading and validating the campaign payload: defaults, every error with its path, warnings."""

from __future__ import annotations

import json
import pickle
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from callslots import Campaign, ConfigError, Hours, Outcome

UTC = timezone.utc
NOW = datetime(2026, 11, 22, 22, 30, 0, 250000, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "q1-outreach.json"


def problems(payload: object) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        Campaign.from_dict(payload, now=NOW)  # type: ignore[arg-type]
    return {p.path: p.message for p in info.value.errors}


def warnings(payload: dict[str, object]) -> dict[str, str]:
    return {w.path: w.message for w in Campaign.from_dict(payload, now=NOW).warnings}


def test_defaults_follow_the_api() -> None:
    c = Campaign.from_dict({}, now=NOW)
    assert c.timezone == "UTC"
    assert c.active_days == (0, 1, 2, 3, 4, 5, 6)
    assert c.hours == Hours(0, 86400)
    assert (c.call_retries, c.retry_delay_seconds, c.retry_delay_mode) == (0, 300, "fixed")
    assert [o.value for o in c.retry_conditions] == [
        "Unreachable",
        "Busy",
        "No Answer",
        "Network Error",
        "Timeout",
        "Resource Unavailable",
        "Service Unavailable",
        "voicemail",
    ]


def test_example_body_reads_as_documented() -> None:
    payload = json.loads(EXAMPLE.read_text())
    c = Campaign.from_dict(payload)
    assert c.timezone == "America/New_York"
    assert c.start_date == date(2024, 3, 15)
    assert c.hours_on(2) == Hours(10 * 3600, 18 * 3600)
    assert c.hours_on(4) == Hours(9 * 3600, 15 * 3600)
    assert c.hours_on(0) == Hours(9 * 3600, 17 * 3600)
    assert c.hours_on(5) is None
    assert (c.call_retries, c.retry_delay_seconds) == (3, 3600)
    assert c.warnings == ()  # name, customers, webhookUrl... are known, not scheduling


def test_immediate_start_rounds_now_up_and_round_trips() -> None:
    c = Campaign.from_dict({"timezone": "Europe/Prague"}, now=NOW)
    assert c.start_date is None
    assert c.start_at == datetime(2026, 11, 22, 22, 30, 1, tzinfo=UTC)
    d = c.to_dict()
    assert d["startAt"] == "2026-11-22T22:30:01Z"
    assert Campaign.from_dict(d) == c
    assert not c.is_callable(NOW)
    assert c.next_callable(NOW) == c.start_at


def test_naive_now_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="aware"):
        Campaign.from_dict({}, now=datetime(2026, 1, 1))


def test_round_trip_is_exact_and_value_semantics_hold() -> None:
    c = Campaign.from_dict(json.loads(EXAMPLE.read_text()))
    again = Campaign.from_dict(c.to_dict())
    assert again == c and hash(again) == hash(c)
    assert pickle.loads(pickle.dumps(c)) == c
    with pytest.raises(AttributeError):
        c.timezone = "UTC"  # type: ignore[misc]
    assert json.loads(json.dumps(c.to_dict())) == c.to_dict()


def test_one_campaign_serves_many_threads() -> None:
    c = Campaign.from_dict(json.loads(EXAMPLE.read_text()))
    start = datetime(2024, 3, 15, tzinfo=UTC)
    expected = [(w.start, w.end) for w in c.windows(start, start + timedelta(days=400))]
    results: list[list[tuple[datetime, datetime]]] = []

    def work() -> None:
        results.append([(w.start, w.end) for w in c.windows(start, start + timedelta(days=400))])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 8


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    found = problems(
        {
            "timezone": "Europe/Prag",
            "startDate": "2024-02-30",
            "endDate": "24-01-01",
            "startTime": "9:00",
            "endTime": "25:00",
            "activeDays": [0, 7, "1", True],
            "daySchedules": {"2": {"startTime": "10:00", "endTime": "10:00"}, "9": {}, "3": 5},
            "callRetries": 11,
            "retryDelaySeconds": -1,
            "retryDelayMode": "next-day",
            "retryConditions": ["no_answer", "Nope", "Completed"],
        }
    )
    assert found.keys() == {
        "timezone",
        "startDate",
        "endDate",
        "startTime",
        "endTime",
        "activeDays.1",
        "activeDays.2",
        "activeDays.3",
        "daySchedules.2",
        "daySchedules.9",
        "daySchedules.3",
        "callRetries",
        "retryDelaySeconds",
        "retryDelayMode",
        "retryConditions.1",
        "retryConditions.2",
    }
    assert "Europe/Prague" in found["timezone"]
    assert "not a day of the calendar" in found["startDate"]
    assert "next_day" in found["retryDelayMode"]
    assert "from 0 to 10" in found["callRetries"]


@pytest.mark.parametrize(
    ("payload", "path", "words"),
    [
        ([], "", "JSON object"),
        ({"timezone": 5}, "timezone", "IANA"),
        ({"timezone": "europe/prague"}, "timezone", "Europe/Prague"),
        ({"startTime": "09:00"}, "endTime", "missing"),
        ({"endTime": "17:00"}, "startTime", "missing"),
        ({"startTime": "09:00", "endTime": "09:00"}, "startTime", "empty"),
        ({"startTime": "24:00", "endTime": "09:00"}, "startTime", "00-23"),
        ({"startTime": "09:60", "endTime": "10:00"}, "startTime", "minutes"),
        ({"startTime": "09:00:60", "endTime": "10:00"}, "startTime", "seconds"),
        ({"startTime": "09:00", "endTime": "24:01"}, "endTime", "24:00"),
        ({"startTime": 900, "endTime": "10:00"}, "startTime", "HH:MM"),
        ({"activeDays": []}, "activeDays", "nothing could ever be scheduled"),
        ({"activeDays": "0,1"}, "activeDays", "list"),
        ({"activeDays": [False]}, "activeDays.0", "integer"),
        ({"activeDays": [1.0]}, "activeDays.0", "integer"),
        ({"startDate": "2024-05-02", "endDate": "2024-05-01"}, "endDate", "before startDate"),
        ({"startDate": "2024-5-2"}, "startDate", "YYYY-MM-DD"),
        ({"startDate": "0000-01-01"}, "startDate", "calendar"),
        ({"startAt": "2024-05-01T09:00:00"}, "startAt", "offset"),
        ({"startAt": "soon"}, "startAt", "ISO 8601"),
        ({"startAt": "2024-05-01T09:00:00Z", "startDate": "2024-05-01"}, "startAt", "not both"),
        ({"daySchedules": []}, "daySchedules", "object"),
        ({"daySchedules": {"7": {}}}, "daySchedules.7", "weekday"),
        (
            {"daySchedules": {"1": {"startTime": "17:00", "endTime": "17:00"}}},
            "daySchedules.1",
            "empty",
        ),
        ({"daySchedules": {"1": {"endTime": "x"}}}, "daySchedules.1.endTime", "HH:MM"),
        ({"daySchedules": {"1": {}, 1: {}}}, "daySchedules.1", "twice"),
        ({"callRetries": "3"}, "callRetries", "integer"),
        ({"retryDelaySeconds": 86401}, "retryDelaySeconds", "86400"),
        ({"retryDelayMode": None, "retryConditions": "Busy"}, "retryConditions", "list"),
        ({"retryConditions": ["Busy", "completed"]}, "retryConditions.1", "success"),
        ({"retryConditions": ["Bussy"]}, "retryConditions.0", "'Busy'"),
    ],
)
def test_each_kind_of_mistake_names_its_field(payload: object, path: str, words: str) -> None:
    found = problems(payload)
    assert path in found, found
    assert words.casefold() in found[path].casefold(), found[path]


def test_json_null_means_not_given() -> None:
    c = Campaign.from_dict({"timezone": None, "startDate": "2024-01-01", "endDate": None})
    assert c.timezone == "UTC" and c.end_date is None


def test_python_int_keys_and_half_day_schedules() -> None:
    c = Campaign.from_dict(
        {"startTime": "09:00", "endTime": "17:00", "daySchedules": {1: {"endTime": "12:00"}}},
        now=NOW,
    )
    assert c.hours_on(1) == Hours(9 * 3600, 12 * 3600)
    whole = Campaign.from_dict({"daySchedules": {"6": {"startTime": "12:00"}}}, now=NOW)
    assert whole.hours_on(6) == Hours(12 * 3600, 86400)  # end falls back to 24:00


def test_overnight_window_and_24_00() -> None:
    c = Campaign.from_dict({"startTime": "22:00", "endTime": "02:00:30"}, now=NOW)
    assert c.hours.overnight and c.hours.seconds == 4 * 3600 + 30
    day = Campaign.from_dict({"startTime": "00:00", "endTime": "24:00"}, now=NOW)
    assert day.hours == Hours(0, 86400) and day.to_dict()["endTime"] == "24:00"


def test_warnings_are_specific() -> None:
    found = warnings(
        {
            "startime": "09:00",
            "startTime": "09:00",
            "endTime": "17:00",
            "activeDays": [0, 1, 1],
            "daySchedules": {"5": {"startTime": "10:00", "endTime": "12:00", "endtime": "x"}},
            "callRetries": 2,
            "retryConditions": [],
        }
    )
    assert "startTime" in found["startime"]
    assert "twice" in found["activeDays.2"]
    assert "ignored" in found["daySchedules.5"]
    assert "endTime" in found["daySchedules.5.endtime"]
    assert "never happen" in found["retryConditions"]


def test_warning_outside_common_calling_hours() -> None:
    assert "08:00-21:00" in warnings({"startTime": "07:30", "endTime": "12:00"})["startTime"]
    assert "08:00-21:00" in warnings({"startTime": "20:00", "endTime": "02:00"})["startTime"]
    assert (
        "08:00-21:00"
        in warnings(
            {"startTime": "09:00", "endTime": "17:00", "daySchedules": {"5": {"endTime": "22:00"}}}
        )["daySchedules.5"]
    )
    assert warnings({"startTime": "08:00", "endTime": "21:00"}) == {}


def test_warning_when_no_active_day_falls_in_the_range() -> None:
    found = warnings(
        {
            "startDate": "2024-06-01",
            "endDate": "2024-06-02",
            "activeDays": [0, 1, 2],
            "startTime": "09:00",
            "endTime": "17:00",
        }
    )
    assert "no active weekday" in found["activeDays"]


def test_retry_conditions_are_lenient_and_ordered() -> None:
    c = Campaign.from_dict({"retryConditions": ["VOICEMAIL", "no-answer", "busy"]}, now=NOW)
    assert c.retry_conditions == (Outcome.BUSY, Outcome.NO_ANSWER, Outcome.VOICEMAIL)
    assert c.to_dict()["retryConditions"] == ["Busy", "No Answer", "voicemail"]


def test_config_error_is_a_value_error_with_readable_text() -> None:
    with pytest.raises(ValueError) as info:
        Campaign.from_dict({"callRetries": 99, "activeDays": []})
    text = str(info.value)
    assert "2 problems" in text and "callRetries: must be from 0 to 10" in text
