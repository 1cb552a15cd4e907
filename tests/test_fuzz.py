"""The parser against arbitrary JSON: a Campaign or a ConfigError, never anything else."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from callslots import Campaign, ConfigError
from callslots.config import SCHEDULING_FIELDS

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
FIELDS = list(SCHEDULING_FIELDS)  # every field the parser reads, kept in step with it

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    # values close to valid ones reach the deeper checks
    | st.sampled_from(
        [
            "09:00",
            "24:00",
            "23:59:59",
            "00:00",
            "17:00:00",
            "2024-03-10",
            "2024-02-29",
            "9999-12-31",
            "0001-01-01",
            "America/New_York",
            "Pacific/Apia",
            "UTC",
            "fixed",
            "next_day",
            "No Answer",
            "voicemail",
            "Completed",
            "2024-03-10T02:30:00-05:00",
            "0",
            "6",
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)
near_valid = st.fixed_dictionaries(
    {},
    optional={
        name: json_values
        | st.dictionaries(
            st.sampled_from(["0", "3", "6", "7", 2]),
            st.dictionaries(st.sampled_from(["startTime", "endTime", "x"]), scalars),
        )
        | st.lists(st.integers(-1, 8) | scalars, max_size=9)
        for name in FIELDS
    },
)


def check(payload: Any) -> None:
    try:
        campaign = Campaign.from_dict(payload, now=NOW)
    except ConfigError as error:
        assert error.errors, "a ConfigError must list at least one problem"
        for problem in error.errors:
            assert isinstance(problem.path, str) and problem.message
        return
    # A payload that parses is fully usable and round-trips.
    assert Campaign.from_dict(campaign.to_dict()) == campaign
    next(iter(campaign.windows(NOW)), None)


@given(json_values)
def test_arbitrary_json_gives_a_campaign_or_a_config_error(payload: Any) -> None:
    check(payload)


@given(near_valid)
def test_payloads_near_the_schema_give_a_campaign_or_a_config_error(payload: Any) -> None:
    check(payload)
