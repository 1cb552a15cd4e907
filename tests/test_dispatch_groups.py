"""A group's remembered span (``Group.next_callable``) answers as a fresh search.

The engine asks a group for the first callable second of a retry or a callback;
the group keeps the span it found last and answers from it while the question
falls inside.  Whatever order the questions come in (forward, as retries mostly
are, or jumping back and forth), each answer must be the oracle's first callable
second at or after it (``oracle.Intersection``, which shares no code with the
engine), and the view's own search's.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
from callslots.dispatch.groups import Group
from test_recipients import recipient_cases


@settings(max_examples=150, deadline=None)
@given(recipient_cases(), st.data())
def test_a_groups_remembered_span_answers_as_the_oracle(setup: object, data: st.DataObject) -> None:
    case, _, view, specs = setup  # type: ignore[misc]
    model = oracle.Intersection(case.spec, tuple(specs))
    lo, hi = case.lo, case.hi
    candidates = model.candidate_boundaries(lo, hi)
    near = st.sampled_from(candidates).flatmap(lambda c: st.integers(c - 2, c + 2))
    asked = data.draw(st.lists(near | st.integers(lo, hi - 1), min_size=1, max_size=30), "asked")
    if data.draw(st.booleans(), "forward"):
        asked.sort()
    group = Group(view.key, view, [])
    for u in asked:
        if not lo <= u < hi:
            continue
        found = group.next_callable(u)
        assert found == view.next_second(u), u
        following = next((c for c in [u, *candidates] if c >= u and model.is_callable(c)), None)
        if following is not None:
            assert found == following, u
        else:
            assert found is None or found >= hi, u
