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
    results = json.loads(out.read_text())
    assert {r["contender"] for r in results} >= {"callslots windows()"}
    assert all(len(r["seconds"]) == 2 for r in results)


def test_the_report_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.report import main as report_main

    assert report_main(["--quick"]) == 0
    table = capsys.readouterr().out
    assert "| 300 |" in table and " MB |" in table
