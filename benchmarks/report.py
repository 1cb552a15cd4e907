"""How long ``callslots report`` takes, and how much memory (benchmarks/README.md,
"The report").

    python -m benchmarks.report                 # 100,000 customers, 3 retries
    python -m benchmarks.report --customers 10000 30000
    python -m benchmarks.report --quick         # a few hundred customers: it still works

Each size runs in fresh processes, as a user runs it: ``callslots report`` of a
campaign (New York, Monday-Friday 09:00-17:00, a call every 30 s on 5 lines, 3
retries, the simulate benchmark's) whose customers come from a CSV file with a
``timezone`` column over twenty zones, written to a file; and, beside it,
``callslots simulate --summary-only`` of the same input (the floor: the same
simulation without the page).  Wall time, the peak resident memory of the process
(``ru_maxrss`` from ``wait4``) and the page's size are printed as a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Halifax",
    "America/St_Johns",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Helsinki",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
]
CAMPAIGN = {
    "name": "Benchmark: the report",
    "timezone": "America/New_York",
    "startDate": "2024-01-01",
    "startTime": "09:00",
    "endTime": "17:00",
    "activeDays": [0, 1, 2, 3, 4],
    "callRetries": 3,
    "maxConcurrency": 5,
    "callIntervalSeconds": 30,
}


def _timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident memory (bytes) of ``command``, run to its end."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {errors}")
    return seconds, usage.ru_maxrss * 1024  # kilobytes on Linux


def run(sizes: list[int]) -> list[str]:
    rows = [
        "| customers | report | peak RSS | page | simulate --summary-only | its peak RSS |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    exe = [sys.executable, "-m", "callslots"]
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        campaign = base / "campaign.json"
        campaign.write_text(json.dumps(CAMPAIGN), encoding="utf-8")
        for n in sizes:
            customers = base / f"customers-{n}.csv"
            with customers.open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(["phoneNumber", "timezone"])
                writer.writerows((f"+1415{i:07d}", ZONES[i % len(ZONES)]) for i in range(n))
            page = base / f"report-{n}.html"
            inputs = [str(campaign), "--customers", str(customers)]
            report = _timed([*exe, "report", *inputs, "-o", str(page)])
            floor = _timed([*exe, "simulate", *inputs, "--summary-only", "--format", "jsonl"])
            rows.append(
                f"| {n:,} | {report[0]:.1f} s | {report[1] / 2**20:.0f} MB "
                f"| {page.stat().st_size / 1e6:.2f} MB | {floor[0]:.1f} s "
                f"| {floor[1] / 2**20:.0f} MB |"
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report")
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--quick", action="store_true", help="300 customers: a smoke run")
    args = parser.parse_args(argv)
    print("\n".join(run([300] if args.quick else args.customers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
