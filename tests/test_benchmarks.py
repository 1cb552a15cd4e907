"""The benchmarks still run (tiny sizes; no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.run import main


def test_quick_benchmark_prints_a_table_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    assert main(["--quick", "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| callslots windows() |" in table and "naive day walk" in table
    assert "round trips/s" in table and "| 2,000 (to the middle) |" in table
    if "| version 1 of the pack |" in table:  # with the holidays extra
        assert "| the shipped pack |" in table
    results = json.loads(out.read_text())
    assert {r["contender"] for r in results} >= {"callslots windows()"}
    assert all(len(r["seconds"]) == 2 for r in results)


def test_the_engine_benchmark_runs_both_engines(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m benchmarks engine --quick``: the frozen engine (issue 19) and the
    current one, each measured in its own process, in every table."""
    from benchmarks.engine import main as engine

    assert engine(["--quick"]) == 0
    out = capsys.readouterr().out
    for row in (
        "| plain (E.164 strings), no recipient hours | old |",
        "| plain (E.164 strings), no recipient hours | new |",
        "| recipientHours, customers over 4 zones | new |",
        "| the same, 2 contact limits | new |",
    ):
        assert row in out, row
    assert "note:" not in out  # the same inputs gave both engines the same run
    sections = (
        "| engine | VmHWM | ru_maxrss |",
        "round trips/s",
        "| engine | attempts",
        "the floor",
    )
    for section in sections:
        assert section in out, section
    # The live loop over no engine: as many round trips as the new engine made.
    live = out.split("round trips/s |")[1]
    new_trips = live.split("\n| new | ")[1].split(" |")[0]
    assert f"| the floor (NoEngine) | {new_trips} |" in out
    assert out.count("| old | 200 |") == 1 and out.count("| new | 200 |") == 1  # waiting


def test_the_report_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.report import main as report_main

    assert report_main(["--quick"]) == 0
    table = capsys.readouterr().out
    assert "| 300 |" in table and " MB |" in table
