"""Hypothesis profiles, chosen with the HYPOTHESIS_PROFILE environment variable.

* ``dev`` (default): quick, randomized, for local runs.
* ``ci``: derandomized (the same examples on every run, so CI is reproducible) and
  many more examples.  ``.ci/run`` uses it.

No deadline in either: the oracle scans time zones for transitions on first use of a
zone, which makes the first example of a zone slower than the rest.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=1000,
    derandomize=True,
    deadline=None,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
