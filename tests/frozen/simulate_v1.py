"""``simulate()`` as it was on main at commit cd848d7, driving the frozen engine
(:mod:`tests.frozen.dispatch_v1`) through its private methods, as it did then.
For the differential tests and the side-by-side benchmarks only."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import datetime

from callslots.outcomes import Outcome
from callslots.schedule import Schedule
from callslots.simulate import OutcomeModel
from callslots.windows import to_seconds

from .dispatch_v1 import Attempt, Dispatcher, Summary


def simulate(
    campaign: Schedule,
    outcomes: OutcomeModel,
    customers: Iterable[object] | None = None,
    start: datetime | None = None,
    history: Iterable[object] | None = None,
) -> tuple[Iterator[Attempt], list[Summary]]:
    """The attempts (an iterator) and a list that holds the Summary once they are read."""
    first = None if start is None else to_seconds(start, "start") + (1 if start.microsecond else 0)
    engine = Dispatcher(campaign, customers, history)
    result: list[Summary] = []
    return _drive(engine, outcomes, first, result), result


def _drive(
    engine: Dispatcher, outcomes: OutcomeModel, first: int | None, result: list[Summary]
) -> Iterator[Attempt]:
    if first is not None:
        engine._now = first  # as if polled there: nothing before it
    u = engine._wakeup()
    while u is not None:
        call = engine._poll(u)
        if call is not None:
            outcome, seconds = outcomes(call.index, call.attempt, call.at)
            if not isinstance(outcome, Outcome):
                outcome = Outcome.parse(outcome)
            ended = u + math.ceil(seconds) if seconds > 0 else u  # whole seconds, rounded up
            yield engine._end(call, outcome, ended)
        following = engine._wakeup()
        if call is None and following is not None and following <= u:
            raise RuntimeError(f"the dispatcher named {u} twice without a call: a bug")
        u = following
    _ = engine.finished  # accounts for what the end of the campaign cut off
    result.append(engine.summary)
