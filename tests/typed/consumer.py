"""A program using the whole public API, type-checked with ``mypy --strict`` by
tests/test_lint.py: every public signature is precise enough for a strict user."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import callslots
from callslots import (
    Attempt,
    CallSlot,
    Campaign,
    ConfigError,
    Customer,
    DayRule,
    Dial,
    Dispatcher,
    DispatchError,
    Explanation,
    Hours,
    Outcome,
    OutcomeModel,
    Problem,
    RandomOutcomes,
    Reason,
    RecipientView,
    ReplayOutcomes,
    RetryDecision,
    Simulation,
    Summary,
    Window,
    simulate,
)

UTC = timezone.utc


def main() -> None:
    try:
        campaign: Campaign = Campaign.from_dict({"timezone": "America/New_York"})
    except ConfigError as error:
        problems: tuple[Problem, ...] = error.errors
        print([p.path for p in problems])
        return
    zone: ZoneInfo = campaign.zone
    hours: Hours = campaign.hours
    opens: time = hours.start_time
    closes: time = hours.end_time
    t = datetime(2024, 3, 15, 14, tzinfo=UTC)
    windows: list[Window] = list(campaign.windows(t, t + timedelta(days=2)))
    for w in windows:
        local: datetime = w.local_start
        print(local, w.local_end, w.day, w.duration, zone, opens, closes)
    ok: bool = campaign.is_callable(t)
    nxt: datetime | None = campaign.next_callable(t)
    owner: date = campaign.day_of(t)
    rule: DayRule = campaign.day_rule(owner)
    why: Explanation = campaign.explain(t)
    reasons: tuple[Reason, ...] = why.reasons
    decision: RetryDecision = campaign.retry(Outcome.BUSY, 1, t)
    decision = campaign.retry("No Answer", 1, t, started_at=t)
    slot: datetime | None = campaign.slot_at(campaign.slot_index(t))
    plan: list[CallSlot] = list(campaign.plan(["+14155550100"], start=t))
    view: RecipientView = campaign.for_customer(Customer("+14155550100"))
    print(ok, nxt, rule.rule, reasons, decision.at, slot, plan, view.day_of(t))
    print(view.next_callable(t), view.retry(Outcome.BUSY, 1, t).retry, view.explain(t).callable)

    model: OutcomeModel = RandomOutcomes(3, {"Completed": 1.0, Outcome.BUSY: 2.0}, 60.0)
    replay = ReplayOutcomes({(0, 1): ("Busy", 30.0)}, default=(Outcome.COMPLETED, 10.0))
    run: Simulation = simulate(campaign, model, ["+14155550100"])
    attempts: list[Attempt] = list(run)
    summary: Summary = run.summary
    print(attempts, summary.reached, simulate(campaign, replay).summary.attempts)

    engine = Dispatcher(campaign, ["+14155550100"])
    wake: datetime | None = engine.next_wakeup()
    if wake is not None:
        dials: list[Dial] = engine.poll(wake)
        for dial in dials:
            engine.started(dial.call_id, dial.at)
            ended: Attempt | None = engine.ended(dial.call_id, Outcome.from_sip(486), dial.at)
            print(ended)
    state = json.loads(json.dumps(engine.snapshot()))
    try:
        again = Dispatcher.restore(campaign, state, ["+14155550100"])
    except DispatchError as error:
        print(error)
        return
    doubt: list[Dial] = again.in_doubt()
    print(doubt, again.finished, again.summary.pending, callslots.__version__)


if __name__ == "__main__":
    main()
