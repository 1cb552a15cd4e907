"""Frozen copies of code that a rewrite replaces, for differential tests and benchmarks.

``dispatch_v1`` is the Dispatcher as it was on main at commit cd848d7 (2026-12-07),
before the engine was rebuilt (issue 19), with its relative imports made absolute
and nothing else changed; ``simulate_v1`` is the driver that ran it.  The new engine
must give the same Dials, Attempts and Summaries for the same events, and restore
every snapshot this one writes (``tests/test_engine_equivalence.py``).  Kept until
at least the release after 0.2.
"""
