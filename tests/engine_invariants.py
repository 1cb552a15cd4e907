"""Invariants of a Dispatcher's totals, checked through its public API only
(``summary``), for the stateful machine, the differential test and the bug tests.

docs/dispatch.md, "Totals", and ``Summary``'s docstring: every distinct customer
read is in exactly one of ``reached``, ``not_reached``, ``unscheduled``,
``cancelled`` and ``pending``; ``repeats`` counts the list entries whose number came
earlier; ``cut_off`` counts again some of the customers not reached (those whose
retry the campaign's end cut off).  The engine reads its list in order, so the
entries read are a prefix of it, whose length these totals give:
``entries_read = reached + not_reached + unscheduled + cancelled + pending +
repeats``, and the distinct customers among them are exactly the distinct numbers
of that prefix (computed here from the list, no cursor needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: The totals that place each distinct customer read in exactly one state.
PLACES = ("reached", "not_reached", "unscheduled", "cancelled", "pending")


def phone_of(entry: Any) -> str:
    """The number of a list entry (an E.164 string or a ``{phoneNumber, ...}`` mapping)."""
    return entry if isinstance(entry, str) else str(entry["phoneNumber"])


def entries_read(summary: Any) -> int:
    """How many list entries the totals of ``summary`` account for."""
    return int(sum(getattr(summary, name) for name in PLACES) + summary.repeats)


def distinct_numbers(customers: Sequence[Any], end: int) -> int:
    """The distinct numbers among the first ``end`` entries of ``customers``."""
    return len({phone_of(c) for c in customers[:end]})


def totals_problems(summary: Any, customers: Sequence[Any]) -> list[str]:
    """What is wrong with the totals of ``summary`` for a run on ``customers``
    (every entry given to the engine, in order, ``add``-ed ones included); empty
    when they hold:

    * ``cut_off <= not_reached`` (cut off customers are counted not reached too);
    * the entries accounted for are a prefix of the list: at most all of it;
    * the distinct customers placed (``reached + not_reached + unscheduled +
      cancelled + pending``) are the distinct numbers of that prefix, and the rest
      of the prefix is ``repeats``;
    * ``in_progress <= pending`` (a customer in a call is pending).
    """
    problems: list[str] = []
    if summary.cut_off > summary.not_reached:
        problems.append(f"cut_off {summary.cut_off} > not_reached {summary.not_reached}")
    read = entries_read(summary)
    if read > len(customers):
        problems.append(f"{read} entries accounted for, {len(customers)} listed")
        return problems
    placed = sum(getattr(summary, name) for name in PLACES)
    distinct = distinct_numbers(customers, read)
    if placed != distinct:
        problems.append(
            f"{placed} customers placed ({', '.join(f'{n}={getattr(summary, n)}' for n in PLACES)})"
            f", but the first {read} entries hold {distinct} distinct numbers"
        )
    if summary.in_progress > summary.pending:
        problems.append(f"in_progress {summary.in_progress} > pending {summary.pending}")
    return problems


def check_totals(summary: Any, customers: Sequence[Any]) -> None:
    """:func:`totals_problems`, as an assertion."""
    problems = totals_problems(summary, customers)
    assert not problems, (problems, summary)
