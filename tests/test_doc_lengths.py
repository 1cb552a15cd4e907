"""No paragraph over 150 words and no table cell over 40 (tests/doc_lengths.py).

Every page, README.md and docs/**/*.md, meets the limits; there is no allowlist.
Cutting one down: split the paragraph, or move the cell's detail into a section the
cell links to (docs/dispatch.md, "cancel", is the model).
"""

from __future__ import annotations

from doc_lengths import measure_all


def test_every_page_meets_the_limits() -> None:
    offenders = [str(long) for long in measure_all()]
    assert offenders == [], "cut these down: split the paragraph, or move the detail"
