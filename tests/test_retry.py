"""Retry decisions: conditions, attempt limits, fixed and next_day timing, reasons."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from callslots import Campaign, Outcome

UTC = timezone.utc
NY = ZoneInfo("America/New_York")


def campaign(**fields: object) -> Campaign:
    payload: dict[str, object] = {
        "timezone": "America/New_York",
        "startDate": "2024-03-04",
        "startTime": "09:00",
        "endTime": "17:00",
        "activeDays": [0, 1, 2, 3, 4],
        "callRetries": 2,
        "retryDelaySeconds": 3600,
    }
    payload.update(fields)
    return Campaign.from_dict(payload)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_fixed_delay_inside_the_window() -> None:
    d = campaign().retry("No Answer", 1, ny(2024, 3, 5, 10, 0))
    assert d.retry and d.at == ny(2024, 3, 5, 11, 0).astimezone(UTC)
    assert "No Answer" in d.reason and "attempt 2 of 3" in d.reason


def test_fixed_delay_past_closing_waits_for_the_next_window() -> None:
    # Friday 16:30 + 1 h is after closing; the weekend is inactive: Monday 09:00.
    d = campaign().retry(Outcome.BUSY, 1, ny(2024, 3, 8, 16, 30))
    assert d.at == ny(2024, 3, 11, 9, 0).astimezone(UTC)


def test_fixed_delay_across_spring_forward() -> None:
    # Saturday 2024-03-09 is inactive; Sunday too; Monday after the change is EDT.
    d = campaign(activeDays=[0, 1, 2, 3, 4, 5, 6]).retry("busy", 1, ny(2024, 3, 9, 16, 30))
    assert d.at == datetime(2024, 3, 10, 13, 0, tzinfo=UTC)  # 09:00 EDT on Sunday


def test_next_day_uses_the_day_after_the_owning_day() -> None:
    c = campaign(retryDelayMode="next_day", retryDelaySeconds=0)
    d = c.retry("No Answer", 1, ny(2024, 3, 5, 10, 0))
    assert d.at == ny(2024, 3, 6, 9, 0).astimezone(UTC)
    # From Friday, the next active day is Monday.
    assert c.retry("No Answer", 2, ny(2024, 3, 8, 10, 0)).at == ny(2024, 3, 11, 9, 0).astimezone(
        UTC
    )


def test_next_day_owner_comes_from_started_at_for_overnight_windows() -> None:
    c = campaign(startTime="20:00", endTime="02:00", retryDelayMode="next_day", retryDelaySeconds=0)
    # A call started Tuesday 23:50 and ended Wednesday 00:10: both owned by Tuesday's window,
    # so the retry goes to Wednesday's window at 20:00, not Thursday's.
    d = c.retry("Busy", 1, ny(2024, 3, 6, 0, 10), started_at=ny(2024, 3, 5, 23, 50))
    assert d.at == ny(2024, 3, 6, 20, 0).astimezone(UTC)


def test_next_day_respects_the_delay_too() -> None:
    c = campaign(retryDelayMode="next_day", retryDelaySeconds=86400)
    # Ended Tuesday 16:30; a day later is Wednesday 16:30, still inside Wednesday's window.
    assert c.retry("Busy", 1, ny(2024, 3, 5, 16, 30)).at == ny(2024, 3, 6, 16, 30).astimezone(UTC)


def test_no_retry_for_other_outcomes_and_after_the_last_attempt() -> None:
    c = campaign()
    d = c.retry("Rejected", 1, ny(2024, 3, 5, 10))
    assert not d.retry and d.at is None and "not in retryConditions" in d.reason
    d = c.retry("No Answer", 3, ny(2024, 3, 5, 10))
    assert not d.retry and "last" in d.reason
    assert c.retry("No Answer", 2, ny(2024, 3, 5, 10)).retry
    assert "completed" in c.retry(Outcome.COMPLETED, 1, ny(2024, 3, 5, 10)).reason


def test_no_retry_when_no_callable_time_remains() -> None:
    c = campaign(endDate="2024-03-08")
    d = c.retry("No Answer", 1, ny(2024, 3, 8, 16, 30))
    assert not d.retry and "no callable time remains" in d.reason


def test_zero_retries_means_never() -> None:
    assert not campaign(callRetries=0).retry("No Answer", 1, ny(2024, 3, 5, 10)).retry


def test_subsecond_end_keeps_its_precision() -> None:
    ended = ny(2024, 3, 5, 10, 0).astimezone(UTC) + timedelta(microseconds=250)
    d = campaign().retry("Busy", 1, ended)
    assert d.at == ended + timedelta(hours=1)


@pytest.mark.parametrize("attempt", [0, -1, True, 1.0, "1"])
def test_attempt_must_be_a_whole_number_from_one(attempt: object) -> None:
    with pytest.raises(ValueError, match="attempt"):
        campaign().retry("Busy", attempt, ny(2024, 3, 5, 10))  # type: ignore[arg-type]


def test_bad_arguments() -> None:
    c = campaign()
    with pytest.raises(TypeError, match="naive"):
        c.retry("Busy", 1, datetime(2024, 3, 5, 10))
    with pytest.raises(ValueError, match="after ended_at"):
        c.retry("Busy", 1, ny(2024, 3, 5, 10), started_at=ny(2024, 3, 5, 11))
    with pytest.raises(ValueError, match="did you mean"):
        c.retry("Bussy", 1, ny(2024, 3, 5, 10))
