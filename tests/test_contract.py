"""One contract, three subjects: a campaign, a customer's view of it, and a view under
``recipientHours``.

The customer view promises "the campaign's questions, answered on its callable set"
(docs/compliance.md, section 2), so every test here runs against each subject and
checks the same rules of docs/semantics.md, section 5 (``windows``, ``is_callable``,
``next_callable``, ``day_of``, ``retry``, ``explain``) against one model of the
subject's set, ``oracle.Intersection``:

* ``campaign``: the campaign itself; the model is the oracle's reading of its payload.
* ``view``: ``campaign.for_customer(...)`` of a campaign without ``recipientHours``;
  the model is the same, and every answer must also equal the campaign's.
* ``recipient view``: a view under ``recipientHours`` in one to three zones; the model
  is the campaign's oracle intersected with a recipient oracle per zone.

Instants are drawn at window boundaries and their neighbours, with fractions of a
second and in other UTC offsets, so that the exact clipping of sub-second bounds is
part of the contract.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from callslots import Campaign, Explanation, RetryDecision, Window
from callslots.explain import RULES
from strategies import HARD_ZONES, ZONES, Case, cases, datetimes_at

UTC = timezone.utc
DAY = oracle.DAY
SUBJECTS = ("campaign", "view", "recipient view")


class Answers(Protocol):
    """What the campaign and a customer view both answer (docs/semantics.md, 5-6)."""

    def windows(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[Window]: ...
    def is_callable(self, t: datetime) -> bool: ...
    def next_callable(self, t: datetime) -> datetime | None: ...
    def day_of(self, t: datetime) -> date: ...
    def retry(
        self, outcome: str, attempt: int, ended_at: datetime, *, started_at: datetime | None = ...
    ) -> RetryDecision: ...
    def explain(self, t: datetime) -> Explanation: ...


@dataclass(frozen=True)
class Subject:
    kind: str
    case: Case
    campaign: Campaign
    answers: Answers
    model: oracle.Intersection

    @property
    def lo(self) -> int:
        return self.case.lo

    @property
    def hi(self) -> int:
        return self.case.hi

    def limit(self, t: int) -> int | None:
        """The model's search limit: the horizon, or 15 days past ``t`` when unbounded."""
        return None if self.case.bounded else max(self.hi, t + 15 * DAY)

    def instants(self, floor: int | None = None) -> st.SearchStrategy[int]:
        """Whole seconds in ``[lo, hi)``, favouring the model's boundaries and their
        neighbours."""
        lo = self.lo if floor is None else max(floor, self.lo)
        near = sorted(
            {
                c + k
                for c in self.model.candidate_boundaries(self.lo, self.hi)
                for k in (-1, 0, 1)
                if lo <= c + k < self.hi
            }
        )
        uniform = st.integers(lo, self.hi - 1)
        return st.one_of(uniform, st.sampled_from(near)) if near else uniform


class _CampaignAnswers:
    """The campaign's ``explain`` takes the customer as an optional second argument;
    everything else is the campaign's own method."""

    def __init__(self, campaign: Campaign) -> None:
        self.windows = campaign.windows
        self.is_callable = campaign.is_callable
        self.next_callable = campaign.next_callable
        self.day_of = campaign.day_of
        self.retry = campaign.retry
        self.explain = campaign.explain


quarter_hours = st.integers(0, 95).map(lambda q: q * 900)


def _clock(s: int) -> str:
    return "24:00" if s == DAY else f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@st.composite
def subjects(draw: st.DrawFn, kind: str) -> Subject:
    case = draw(cases)
    if kind != "recipient view":
        campaign = case.campaign()
        if kind == "campaign":
            answers: Answers = _CampaignAnswers(campaign)
        else:
            answers = campaign.for_customer(draw(st.sampled_from(["+14155550100", "+81312345678"])))
        return Subject(kind, case, campaign, answers, oracle.Intersection(case.spec))
    start = draw(quarter_hours)
    end = draw(st.integers(1, 96).map(lambda q: q * 900).filter(lambda e: e != start))
    zones = tuple(
        sorted(
            set(
                draw(
                    st.lists(
                        st.sampled_from(HARD_ZONES) | st.sampled_from(ZONES), min_size=1, max_size=3
                    )
                )
            )
        )
    )
    payload: dict[str, Any] = dict(
        case.payload, recipientHours={"startTime": _clock(start), "endTime": _clock(end)}
    )
    payload.pop("customers", None)
    campaign = Campaign.from_dict(payload, now=case.now)
    if len(zones) == 1:  # the public way in
        answers = campaign.for_customer(
            {"phoneNumber": "+14155550100", "properties": {"timezone": zones[0]}}
        )
    else:  # several zones come from a number's zones (phonenumbers): the same view
        answers = campaign._views.get(zones)
    window = (start, end if end != 0 else DAY)
    model = oracle.Intersection(case.spec, tuple(oracle.recipient_spec(z, window) for z in zones))
    return Subject(kind, case, campaign, answers, model)


def _secs(t: datetime) -> int:
    return oracle.floor_seconds(t)


def _is_utc(t: datetime) -> bool:
    return t.tzinfo is not None and t.utcoffset() == timedelta(0)


def _dt(u: int) -> datetime:
    return oracle.to_datetime(u)


def _bounded_windows(subject: Subject) -> list[Window]:
    """Every window of a bounded campaign, or those before ``hi`` of an unbounded one."""
    if subject.case.bounded:
        return list(subject.answers.windows())
    return list(subject.answers.windows(end=_dt(subject.hi)))


parametrized = pytest.mark.parametrize("kind", SUBJECTS)


# --------------------------------------------------------------------------- windows


@parametrized
@settings(max_examples=60)
@given(data=st.data())
def test_windows_are_the_models_set_sorted_disjoint_and_maximal(
    kind: str, data: st.DataObject
) -> None:
    subject = data.draw(subjects(kind))
    got = _bounded_windows(subject)
    for w in got:
        assert _is_utc(w.start) and _is_utc(w.end) and w.start < w.end
        assert w.day == subject.model.day_of(_secs(w.start)), w
        assert w.day == subject.answers.day_of(w.start)
    for before, after in itertools.pairwise(got):
        assert before.end < after.start  # sorted, and touching windows are one
    pairs = [(_secs(w.start), _secs(w.end)) for w in got]
    assert pairs == subject.model.windows(subject.lo, subject.hi)


@parametrized
@settings(max_examples=60)
@given(data=st.data())
def test_windows_between_any_bounds_are_the_whole_windows_cut_exactly_there(
    kind: str, data: st.DataObject
) -> None:
    subject = data.draw(subjects(kind))
    whole = _bounded_windows(subject)
    points = subject.instants()

    def bound(label: str) -> datetime | None:
        """None, an instant near a boundary, or one inside a window (a fraction of
        a second past a whole second, in some UTC offset): where cutting matters."""
        how = data.draw(st.sampled_from(["none", "near", "inside"]), label=f"{label} kind")
        if how == "none":
            return None
        if how == "inside" and whole:
            w = data.draw(st.sampled_from(whole), label=f"{label} window")
            span = (w.end - w.start) // timedelta(microseconds=1)
            inside = w.start + timedelta(microseconds=data.draw(st.integers(0, span - 1)))
            offset = timezone(timedelta(minutes=data.draw(st.integers(-14 * 60, 14 * 60))))
            return inside.astimezone(offset)
        return data.draw(datetimes_at(data.draw(points)), label=label)

    start, end = bound("start"), bound("end")
    if end is None and not subject.case.bounded:
        end = _dt(subject.hi)
    got = list(subject.answers.windows(start, end))
    expected = []
    for w in whole:
        a = w.start if start is None else max(w.start, start)
        b = w.end if end is None else min(w.end, end)
        if a < b:
            expected.append((a, b))
    assert [(w.start, w.end) for w in got] == expected
    for w in got:
        assert _is_utc(w.start) and _is_utc(w.end)
        assert w.day == subject.model.day_of(_secs(w.start))
    if start is not None and end is not None and end <= start:
        assert got == []


# ------------------------------------------------------------------- point questions


@parametrized
@settings(max_examples=60)
@given(data=st.data())
def test_is_callable_next_callable_and_day_of_follow_the_model(
    kind: str, data: st.DataObject
) -> None:
    subject = data.draw(subjects(kind))
    model, answers = subject.model, subject.answers
    for _ in range(6):
        u = data.draw(subject.instants(), label="u")
        t = data.draw(datetimes_at(u), label="t")
        assert answers.is_callable(t) == model.is_callable(u), t
        assert answers.day_of(t) == model.day_of(u), t
        found = answers.next_callable(t)
        expected = model.next_callable(u, subject.limit(u))
        if expected is None:
            if subject.case.bounded:
                assert found is None, (t, found)
            else:
                assert found is None or _secs(found) >= (subject.limit(u) or 0), (t, found)
        elif expected == u:
            assert found == t and found is not None and _is_utc(found)  # t itself, exactly
        else:
            assert found == _dt(expected), (t, found, _dt(expected))
        if found is not None:
            assert answers.is_callable(found)
            first = next(iter(answers.windows(start=t)), None)
            assert first is not None and first.start == found  # the same story as windows


@parametrized
@settings(max_examples=60)
@given(data=st.data())
def test_explain_gives_is_callables_verdict_for_the_instant_asked(
    kind: str, data: st.DataObject
) -> None:
    subject = data.draw(subjects(kind))
    u = data.draw(subject.instants(), label="u")
    t = data.draw(datetimes_at(u), label="t")
    explanation = subject.answers.explain(t)
    assert explanation.callable == subject.answers.is_callable(t) == subject.model.is_callable(u)
    assert explanation.at == t and _is_utc(explanation.at)
    assert explanation.reasons and {r.rule for r in explanation.reasons} <= set(RULES)
    if explanation.callable:
        assert explanation.reasons[0].rule == "window"
        assert str(subject.model.day_of(u)) in explanation.reasons[0].message
    else:
        assert "window" not in {r.rule for r in explanation.reasons}


# ----------------------------------------------------------------------------- retry


@parametrized
@settings(max_examples=60)
@given(data=st.data())
def test_retry_follows_the_rule_on_the_subjects_set(kind: str, data: st.DataObject) -> None:
    subject = data.draw(subjects(kind))
    spec, answers = subject.case.spec, subject.answers
    outcomes = st.sampled_from(oracle.OUTCOMES)
    if spec.retry_conditions:
        outcomes = st.sampled_from(sorted(spec.retry_conditions)) | outcomes
    outcome = data.draw(outcomes, label="outcome")
    attempt = data.draw(st.integers(1, max(1, spec.call_retries)) | st.integers(1, 12))
    u = data.draw(subject.instants(), label="u")
    ended_at = data.draw(datetimes_at(u), label="ended_at")
    started_at: datetime | None = None
    if data.draw(st.booleans(), label="with started_at"):
        back = data.draw(st.integers(0, 6 * 3600) | st.integers(0, 3 * DAY), label="duration")
        started_at = ended_at - timedelta(seconds=back)

    decision = answers.retry(outcome, attempt, ended_at, started_at=started_at)
    earliest = ended_at + timedelta(seconds=spec.retry_delay)
    limit = subject.limit(_secs(earliest))
    expected = subject.model.retry_at(outcome, attempt, ended_at, started_at, limit)
    wanted = outcome in spec.retry_conditions and attempt <= spec.call_retries
    assert decision.reason
    if expected is None and (subject.case.bounded or not wanted):
        assert decision.retry is False and decision.at is None, decision
    elif expected is None:  # unbounded: nothing before the model's limit
        assert not decision.retry or _secs(decision.at) >= (limit or 0)  # type: ignore[arg-type]
    else:
        assert decision.retry and decision.at == expected, (decision, expected)
    if decision.retry:
        assert decision.at is not None and _is_utc(decision.at)
        assert decision.at >= earliest and answers.is_callable(decision.at)
        if spec.retry_mode == "fixed":
            assert decision.at == answers.next_callable(earliest)
        else:
            owner = answers.day_of(started_at or ended_at)
            later = [d for d in oracle.owners(spec, _secs(decision.at)) if d > owner]
            assert later, (decision, owner)


# ----------------------------------------------- a view without recipientHours is the campaign


@settings(max_examples=60)
@given(data=st.data())
def test_a_view_without_recipient_hours_answers_as_the_campaign(data: st.DataObject) -> None:
    subject = data.draw(subjects("view"))
    campaign, view = subject.campaign, subject.answers
    assert _bounded_windows(subject) == list(
        campaign.windows(end=None if subject.case.bounded else _dt(subject.hi))
    )
    for _ in range(5):
        t = data.draw(datetimes_at(data.draw(subject.instants())), label="t")
        assert view.is_callable(t) == campaign.is_callable(t)
        assert view.next_callable(t) == campaign.next_callable(t)
        assert view.day_of(t) == campaign.day_of(t)
        assert view.explain(t) == campaign.explain(t)
        for outcome in ("Busy", "Completed"):
            assert view.retry(outcome, 1, t) == campaign.retry(outcome, 1, t)


# --------------------------------------------------------------------- named edge cases

NEW_YORK: dict[str, Any] = {
    "timezone": "America/New_York",
    "startDate": "2024-07-01",
    "endDate": "2024-07-31",
    "startTime": "09:00",
    "endTime": "17:00",
    "activeDays": [0, 1, 2, 3, 4],
    "callRetries": 2,
}
RECIPIENT = {"phoneNumber": "+12125550100", "properties": {"timezone": "America/New_York"}}


def _named(kind: str) -> Answers:
    """The same callable set three ways: New York weekdays 09:00-17:00; under
    recipientHours 08:00-21:00 for a New York customer, which changes nothing."""
    if kind == "campaign":
        return _CampaignAnswers(Campaign.from_dict(NEW_YORK))
    if kind == "view":
        return Campaign.from_dict(NEW_YORK).for_customer(RECIPIENT)
    hours = {"recipientHours": {"startTime": "08:00", "endTime": "21:00"}}
    return Campaign.from_dict({**NEW_YORK, **hours}).for_customer(RECIPIENT)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@parametrized
def test_sub_second_bounds_cut_the_windows_exactly(kind: str) -> None:
    answers = _named(kind)
    start = utc(2024, 7, 1, 14, 0, 0, 250_000)  # inside Monday's 13:00-21:00Z
    end = utc(2024, 7, 2, 13, 30, 0, 750_000).astimezone(timezone(timedelta(hours=9)))
    got = [(w.start, w.end, w.day) for w in answers.windows(start, end)]
    assert got == [
        (start, utc(2024, 7, 1, 21), date(2024, 7, 1)),
        (utc(2024, 7, 2, 13), end.astimezone(UTC), date(2024, 7, 2)),
    ]
    assert all(w.start.tzinfo is UTC for w in answers.windows(start, end))
    # both bounds in one second inside a window: that fraction of a second
    a, b = utc(2024, 7, 1, 15, 0, 0, 100), utc(2024, 7, 1, 15, 0, 0, 900)
    assert [(w.start, w.end) for w in answers.windows(a, b)] == [(a, b)]
    assert list(answers.windows(b, a)) == [] and list(answers.windows(a, a)) == []
    # a bound a fraction of a second before an opening does not move it
    assert next(answers.windows(utc(2024, 7, 2, 12, 59, 59, 1))).start == utc(2024, 7, 2, 13)


@parametrized
def test_point_questions_at_and_around_the_edges_of_a_window(kind: str) -> None:
    answers = _named(kind)
    opening, closing = utc(2024, 7, 1, 13), utc(2024, 7, 1, 21)
    just_before = opening - timedelta(microseconds=1)
    assert not answers.is_callable(just_before) and answers.is_callable(opening)
    assert answers.is_callable(closing - timedelta(microseconds=1))
    assert not answers.is_callable(closing)
    assert answers.next_callable(just_before) == opening
    inside = utc(2024, 7, 1, 15, 0, 0, 123_456).astimezone(timezone(timedelta(hours=-3)))
    assert answers.next_callable(inside) == inside and answers.next_callable(inside).tzinfo is UTC  # type: ignore[union-attr]
    assert answers.next_callable(closing) == utc(2024, 7, 2, 13)
    assert answers.next_callable(utc(2024, 7, 31, 21)) is None  # after the last window
    # day_of: the owning day when callable, else the local date (20:30 EDT is still Monday)
    assert answers.day_of(utc(2024, 7, 2, 0, 30)) == date(2024, 7, 1)
    assert answers.day_of(utc(2024, 7, 2, 4, 30)) == date(2024, 7, 2)  # 00:30 EDT Tuesday


@parametrized
def test_retry_names_the_rule_and_is_exact_to_the_microsecond(kind: str) -> None:
    answers = _named(kind)
    ended = utc(2024, 7, 1, 15, 0, 0, 500)
    decision = answers.retry("Busy", 1, ended)
    assert decision.retry and decision.at == ended + timedelta(seconds=300)
    late = answers.retry("Busy", 1, utc(2024, 7, 5, 20, 58))  # Friday 16:58 EDT
    assert late.at == utc(2024, 7, 8, 13)  # Monday's opening
    assert answers.retry("Busy", 3, ended).retry is False  # callRetries 2
    assert answers.retry("Completed", 1, ended).reason == "no retry: the call completed"
    over = answers.retry("Busy", 1, utc(2024, 7, 31, 20, 58))
    assert not over.retry and "no callable time remains" in over.reason
    with pytest.raises(ValueError, match="after ended_at"):
        answers.retry("Busy", 1, ended, started_at=ended + timedelta(microseconds=1))
    with pytest.raises(ValueError, match="attempt"):
        answers.retry("Busy", 0, ended)


@parametrized
def test_explain_at_and_outside_the_ends_of_the_time_line(kind: str) -> None:
    answers = _named(kind)
    inside = answers.explain(utc(2024, 7, 1, 15, 0, 0, 7))
    assert inside.callable and inside.at == utc(2024, 7, 1, 15, 0, 0, 7)
    for t in (
        datetime.min.replace(tzinfo=timezone(timedelta(hours=14))),
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))),
    ):
        explanation = answers.explain(t)
        assert not explanation.callable and explanation.at == t  # UTC cannot hold it
        assert [r.rule for r in explanation.reasons] == ["out of range"]
        assert str(explanation)  # printable
    first = answers.explain(datetime.min.replace(tzinfo=UTC))  # 0000-12-31 19:00 in New York
    assert [r.rule for r in first.reasons] == ["out of range"] and first.local.startswith(
        "Sun 0000"
    )


@parametrized
def test_naive_datetimes_are_refused_by_every_question(kind: str) -> None:
    answers = _named(kind)
    naive = datetime(2024, 7, 1, 15)
    for call in (
        lambda: answers.windows(naive),
        lambda: answers.windows(end=naive),
        lambda: answers.is_callable(naive),
        lambda: answers.next_callable(naive),
        lambda: answers.day_of(naive),
        lambda: answers.explain(naive),
        lambda: answers.retry("Busy", 1, naive),
    ):
        with pytest.raises(TypeError, match="naive"):
            call()
