"""Outcome names, and the SIP / Q.850 tables code by code (checked against docs/outcomes.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callslots import Outcome
from callslots.outcomes import Q850_OUTCOMES, SIP_OUTCOMES

DOCS = Path(__file__).resolve().parent.parent / "docs" / "outcomes.md"
API_VALUES = [
    "Rejected",
    "Unreachable",
    "Busy",
    "No Answer",
    "Network Error",
    "Invalid",
    "Timeout",
    "Cancelled",
    "Resource Unavailable",
    "Service Unavailable",
    "Protocol Error",
    "Unspecified",
    "voicemail",
    "exceeded-max-duration",
]


def test_the_fourteen_api_values_plus_completed() -> None:
    assert [o.value for o in Outcome][:14] == API_VALUES
    assert Outcome.COMPLETED.value == "Completed" and len(Outcome) == 15


@pytest.mark.parametrize("text", ["no_answer", "NO ANSWER", "No-Answer", " no answer ", "noanswer"])
def test_lenient_parsing(text: str) -> None:
    assert Outcome.parse(text) is Outcome.NO_ANSWER


def test_every_value_parses_from_its_own_spelling_and_variants() -> None:
    for outcome in Outcome:
        assert Outcome.parse(outcome.value) is outcome
        assert Outcome.parse(outcome.value.upper().replace(" ", "_")) is outcome


def test_unknown_outcome_suggests() -> None:
    with pytest.raises(ValueError, match="did you mean 'voicemail'"):
        Outcome.parse("voicemale")
    with pytest.raises(ValueError, match="must be a string"):
        Outcome.parse(3)


# Written out independently of the table in the code: the RFC 3261 reading.
SIP_SPOT = {
    302: "Unreachable",
    400: "Protocol Error",
    403: "Rejected",
    404: "Invalid",
    408: "Timeout",
    480: "Unreachable",
    484: "Invalid",
    486: "Busy",
    487: "Cancelled",
    488: "Protocol Error",
    500: "Service Unavailable",
    502: "Network Error",
    503: "Service Unavailable",
    504: "Timeout",
    600: "Busy",
    603: "Rejected",
    604: "Invalid",
    607: "Rejected",
    # unlisted codes act as the x00 of their class (RFC 3261 section 8.1.3.2)
    399: "Unreachable",
    499: "Protocol Error",
    599: "Service Unavailable",
    699: "Busy",
    200: "Completed",
    299: "Completed",
}


@pytest.mark.parametrize(("code", "expected"), sorted(SIP_SPOT.items()))
def test_sip_spot_checks(code: int, expected: str) -> None:
    assert Outcome.from_sip(code).value == expected


def test_every_sip_code_is_the_table_or_its_class_fallback() -> None:
    for code in range(200, 700):
        outcome = Outcome.from_sip(code)
        if code < 300:
            assert outcome is Outcome.COMPLETED
        else:
            assert outcome is SIP_OUTCOMES.get(code, SIP_OUTCOMES[code - code % 100])


@pytest.mark.parametrize("code", [-1, 0, 99, 100, 180, 199, 700, True, "486"])
def test_sip_non_final_codes_are_refused(code: object) -> None:
    with pytest.raises(ValueError):
        Outcome.from_sip(code)  # type: ignore[arg-type]


Q850_SPOT = {
    1: "Invalid",
    16: "Completed",
    17: "Busy",
    18: "No Answer",
    19: "No Answer",
    21: "Rejected",
    27: "Unreachable",
    28: "Invalid",
    31: "Unspecified",
    34: "Resource Unavailable",
    38: "Network Error",
    41: "Network Error",
    42: "Resource Unavailable",
    102: "Timeout",
    111: "Protocol Error",
    127: "Network Error",
    # unlisted values act as the unspecified cause of their class
    0: "Unspecified",
    15: "Unspecified",
    36: "Resource Unavailable",
    60: "Service Unavailable",
    72: "Service Unavailable",
    93: "Protocol Error",
    105: "Protocol Error",
    120: "Network Error",
}


@pytest.mark.parametrize(("cause", "expected"), sorted(Q850_SPOT.items()))
def test_q850_spot_checks(cause: int, expected: str) -> None:
    assert Outcome.from_q850(cause).value == expected


def test_every_q850_cause_is_the_table_or_its_class_fallback() -> None:
    for cause in range(128):
        fallback = 31 if cause < 32 else cause - cause % 16 + 15
        assert Outcome.from_q850(cause) is Q850_OUTCOMES.get(cause, Q850_OUTCOMES[fallback])


@pytest.mark.parametrize("cause", [-1, 128, 1000, False, 16.0])
def test_q850_out_of_range(cause: object) -> None:
    with pytest.raises(ValueError):
        Outcome.from_q850(cause)  # type: ignore[arg-type]


def _doc_table(heading: str) -> dict[int, str]:
    text = DOCS.read_text(encoding="utf-8")
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\|\s*(\d+)\s*\|[^|]*\|\s*([^|]+?)\s*\|", section, re.MULTILINE)
    return {int(code): outcome for code, outcome in rows}


def test_docs_list_exactly_the_sip_table() -> None:
    assert _doc_table("SIP responses") == {c: o.value for c, o in SIP_OUTCOMES.items()}


def test_docs_list_exactly_the_q850_table() -> None:
    assert _doc_table("Q.850 causes") == {c: o.value for c, o in Q850_OUTCOMES.items()}
