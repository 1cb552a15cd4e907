"""The store's load benchmark still runs (tiny sizes, SQLite; no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.store import main


def test_quick_store_benchmark(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "store.json"
    assert main(["--quick", "--dir", str(tmp_path), "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert (
        "| database | runs x customers | workers |" in table and "| sqlite | 6 x 40 | 2 |" in table
    )
    (row,) = json.loads(out.read_text())
    assert row["db"] == "sqlite" and row["dials"] > 0 and row["attempts"] >= row["dials"]
    assert 0 <= row["delay_p50_s"] <= row["delay_p99_s"] <= row["delay_max_s"]
