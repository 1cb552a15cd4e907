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
    # the size figures: table by table, before and after VACUUM
    assert "| sqlite | 6 x 40 | " in table.split("log rows an attempt")[1]
    tables = row["tables_after_run"]
    assert {"callslots_events", "callslots_runs", "callslots_inbox"} <= set(tables)
    assert row["bytes_after_vacuum"] <= row["bytes_after_run"]
    assert sum(n for n, _ in row["log_by_kind"].values()) > 0


def test_quick_wakeup_benchmark(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """benchmarks/store_wakeup.py still runs (PostgreSQL; no timing is asserted)."""
    pytest.importorskip("psycopg")
    from benchmarks.store_wakeup import main as wakeup

    out = tmp_path / "wakeup.json"
    try:
        assert wakeup(["--quick", "--json", str(out)]) == 0
    except RuntimeError as error:  # no PostgreSQL server on this machine
        from store_support import REQUIRE

        if REQUIRE:
            raise
        pytest.skip(f"no PostgreSQL server: {error}")
    assert "| `worker.wait(0.25)` | 5 |" in capsys.readouterr().out
    rows = json.loads(out.read_text())
    assert [r["mode"] for r in rows] == ["interval", "notify"]
    assert all(r["calls"] == 5 and 0 <= r["p50_ms"] <= r["max_ms"] for r in rows)
