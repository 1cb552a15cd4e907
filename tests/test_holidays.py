"""Public holidays from the ``holidays`` package (the optional extra).

CI runs this module in a second venv with ``callslots[holidays]`` installed and
CALLSLOTS_EXTRAS=1, where a missing package must fail, not skip: the package pins
python-dateutil below 3, so it cannot share the main venv (the whole suite runs in
that venv too: see tests/dateutil_known.py for what dateutil 2.x is trusted with).
"""

from __future__ import annotations

import os
from datetime import date

import pytest

from callslots import Campaign, ConfigError
from test_dates import NEW_YORK_WEEKDAYS, at

if os.environ.get("CALLSLOTS_EXTRAS"):
    import holidays as holidays_package  # the import is the check
else:
    holidays_package = pytest.importorskip("holidays")


def test_holidays_from_the_package_black_out_days_and_are_named() -> None:
    c = Campaign.from_dict(
        {
            **NEW_YORK_WEEKDAYS,
            "startDate": "2024-07-01",
            "endDate": "2024-07-31",
            "holidays": {"country": "US", "subdivision": "NY"},
        }
    )
    days = [w.day for w in c.windows()]
    assert date(2024, 7, 4) not in days and date(2024, 7, 3) in days
    assert c.to_dict()["holidays"]["dates"]["2024-07-04"] == "Independence Day"
    assert Campaign.from_dict(c.to_dict()) == c
    assert not c.warnings  # bounded before the package's last year: nothing to say


def test_unknown_holiday_codes_say_what_is_known() -> None:
    with pytest.raises(ConfigError) as caught:
        Campaign.from_dict(
            {**NEW_YORK_WEEKDAYS, "holidays": {"country": "US", "subdivision": "XX"}}
        )
    (problem,) = caught.value.errors
    assert problem.path == "holidays.subdivision"
    assert "'XX' is not a subdivision of US" in problem.message and "CA" in problem.message
    with pytest.raises(ConfigError) as caught:
        Campaign.from_dict({**NEW_YORK_WEEKDAYS, "holidays": {"country": "Narnia"}})
    assert caught.value.errors[0].path == "holidays.country"


def test_an_endless_campaign_is_told_where_the_holiday_data_stops() -> None:
    c = Campaign.from_dict(
        {**NEW_YORK_WEEKDAYS, "startDate": "2024-01-01", "holidays": {"country": "US"}}
    )
    (warning,) = [w for w in c.warnings if w.path == "holidays"]
    assert "days after 2100-12-31 are not blacked out" in warning.message
    assert not c.is_callable(at("2099-12-25T15:00"))  # Christmas, a Friday
    assert c.is_callable(at("2101-12-26T15:00"))  # a Monday after the data ends
