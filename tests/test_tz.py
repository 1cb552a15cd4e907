"""Zone arithmetic: the compiled offset tables agree with zoneinfo and with dateutil."""

from __future__ import annotations

import pickle
import random
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz

from callslots.tz import (
    CYCLE,
    MAX_UTC,
    MIN_UTC,
    _parse_tz_string,
    _RuleDate,
    days_from_civil,
    load_zone,
    tz_database,
    zone_names,
)
from dateutil_known import TRUSTED_EVERYWHERE, dateutil_is_right

UTC = timezone.utc
ZONES = sorted(zone_names())
Y2100 = 4102444800


def zoneinfo_offset(key: str, u: int) -> int:
    local = datetime.fromtimestamp(u, UTC).astimezone(ZoneInfo(key))
    offset = local.utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


@pytest.mark.parametrize("key", ZONES)
def test_offsets_match_zoneinfo_at_every_transition_and_far_away(key: str) -> None:
    zone = load_zone(key)
    rng = random.Random(key)
    instants = {t + d for t in zone.starts[1:] if MIN_UTC + 2 < t < Y2100 for d in (-1, 0, 1)}
    instants |= {rng.randrange(MIN_UTC + 86400, MAX_UTC - 86400) for _ in range(40)}
    instants |= {rng.randrange(Y2100, MAX_UTC - 86400) for _ in range(40)}
    for u in sorted(instants):
        assert zone.offset_at(u) == zoneinfo_offset(key, u), (key, u)


def dateutil_instants(key: str) -> list[int]:
    """Each transition in 1970-2037 and the second before it, and 50 random instants."""
    rng = random.Random(key)
    instants = [t + d for t in load_zone(key).starts[1:] if 0 < t < 2**31 - 2 for d in (-1, 0)]
    return instants + [rng.randrange(0, 2**31 - 1) for _ in range(50)]


@pytest.mark.parametrize("key", ZONES[::7])
def test_offsets_match_dateutil_as_a_second_implementation(key: str) -> None:
    # dateutil reads the TZif file on its own; its table covers 1901-2037.  Only
    # instants where this dateutil is known to be right are compared: all of them with
    # dateutil 3+; with 2.x (the holidays extra's pin) not near the transitions it
    # misplaces (dateutil #1048, negative DST) nor after its last listed transition
    # where the TZif footer, which 2.x ignores, takes over (tests/dateutil_known.py).
    zone = load_zone(key)
    other = dateutil_tz.gettz(key)
    assert other is not None
    for u in dateutil_instants(key):
        if not dateutil_is_right(key, u):
            continue
        offset = datetime.fromtimestamp(u, UTC).astimezone(other).utcoffset()
        assert offset is not None
        assert zone.offset_at(u) == int(offset.total_seconds()), (key, u)


def test_the_dateutil_comparison_skips_only_what_it_must() -> None:
    instants = [(key, u) for key in ZONES[::7] for u in dateutil_instants(key)]
    compared = sum(dateutil_is_right(key, u) for key, u in instants)
    if TRUSTED_EVERYWHERE:
        assert compared == len(instants)
    else:  # dateutil 2.x: most instants are still compared ...
        assert compared >= 0.9 * len(instants), (compared, len(instants))
        # ... but not the Irish clock change of 2018 (negative DST, dateutil #1048),
        # nor Sydney after 2037 (the rule in the TZif footer)
        dublin = datetime(2018, 10, 28, 1, tzinfo=UTC).timestamp()
        assert not dateutil_is_right("Europe/Dublin", int(dublin))
        assert not dateutil_is_right("Australia/Sydney", 2**31 - 2)
        assert dateutil_is_right("Asia/Tokyo", 2**31 - 2)  # no rule after 1951


def test_segments_tile_the_time_line() -> None:
    zone = load_zone("America/New_York")
    u = 1_700_000_000
    first, end, offset = zone.segment_at(u)
    assert first <= u < end and zone.offset_at(first) == zone.offset_at(end - 1) == offset
    assert zone.offset_at(end) != offset and zone.segment_at(end)[0] == end


def test_rules_repeat_every_400_years_to_the_end_of_time() -> None:
    zone = load_zone("Europe/Prague")
    for u in (1_900_000_000, 2_500_000_000, 4_000_000_000):
        for k in (1, 5, 19):
            if u + k * CYCLE < MAX_UTC:
                assert zone.offset_at(u + k * CYCLE) == zone.offset_at(u)
    # 9999-03-28 is the last Sunday of March 9999: Prague springs forward at 01:00 UTC.
    spring = days_from_civil(9999, 3, 28) * 86400 + 3600
    assert (zone.offset_at(spring - 1), zone.offset_at(spring)) == (3600, 7200)
    assert zone.transitions(spring - 10, spring + 10) == [(spring, 3600, 7200)]


def test_transitions_lists_each_change() -> None:
    zone = load_zone("America/New_York")
    start = days_from_civil(2024, 1, 1) * 86400
    end = days_from_civil(2025, 1, 1) * 86400
    assert zone.transitions(start, end) == [
        (1710054000, -18000, -14400),  # 2024-03-10T07:00Z
        (1730613600, -14400, -18000),  # 2024-11-03T06:00Z
    ]


def test_days_from_civil_matches_date_toordinal() -> None:
    rng = random.Random(1)
    for _ in range(2000):
        d = datetime.fromordinal(rng.randrange(1, 3652059)).date()
        assert days_from_civil(d.year, d.month, d.day) == d.toordinal() - 719163


def test_posix_rule_forms() -> None:
    # Mm.w.d: 2nd Sunday of March 2024 is 10 March; 5 means the last one.
    assert _RuleDate("M", 3, 2, 0, 7200).local_seconds(2024) == (
        days_from_civil(2024, 3, 10) * 86400 + 7200
    )
    assert _RuleDate("M", 2, 5, 4, 0).local_seconds(2024) == days_from_civil(2024, 2, 29) * 86400
    # Jn counts 1-365 and never February 29; n counts 0-365 and does.
    assert _RuleDate("J", 60, 0, 0, 0).local_seconds(2024) == days_from_civil(2024, 3, 1) * 86400
    assert _RuleDate("n", 59, 0, 0, 0).local_seconds(2024) == days_from_civil(2024, 2, 29) * 86400
    assert _RuleDate("J", 1, 0, 0, -3600).local_seconds(2023) == (
        days_from_civil(2023, 1, 1) * 86400 - 3600
    )
    rule = _parse_tz_string("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1")
    assert not isinstance(rule, int) and rule is not None
    assert (rule.std, rule.dst, rule.start.seconds, rule.end.seconds) == (
        -10800,
        -7200,
        -7200,
        -3600,
    )
    assert _parse_tz_string("<+0545>-5:45") == 20700
    assert _parse_tz_string("") is None
    with pytest.raises(ValueError):
        _parse_tz_string("EST5EDT,bogus")


def test_zones_pickle_by_name() -> None:
    zone = load_zone("Australia/Lord_Howe")
    assert pickle.loads(pickle.dumps(zone)) is zone


def test_unknown_zone_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        load_zone("Europe/Prag")
    with pytest.raises(KeyError):
        load_zone("../../etc/passwd")


def test_tz_database_names_a_version() -> None:
    version, source = tz_database()
    assert version and source
