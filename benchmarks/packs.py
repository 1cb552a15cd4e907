"""simulate() of customers spread over every US state (and DC) with the shipped US
rule pack against the same run with version 1 of the pack (``us-pack-v1.json``:
version 1's rules, read as version 1 read them), alternating fresh processes.

``python -m benchmarks.packs [N] [ROUNDS]`` (default 1,000,000 customers, 3 rounds)
prints a table; the pack's holiday rules need ``callslots[holidays]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

V1 = Path(__file__).with_name("us-pack-v1.json")

SIMULATION_PACKS = """
import json, sys, time
from callslots import Campaign, RandomOutcomes, simulate
from callslots import jurisdiction
from callslots.rulepack import load_pack, read_pack
n, which, v1 = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if which == "v1":
    old = read_pack(json.loads(open(v1, encoding="utf-8").read()), v1)
    jurisdiction.load_pack = lambda name: old  # the campaign reads this pack instead
zones = {ZONES}
states = sorted(zones)
payload = {"timezone": "America/New_York", "startDate": "2027-01-04",
    "startTime": "08:00", "endTime": "21:00", "callRetries": 3, "maxConcurrency": 5,
    "callIntervalSeconds": 30, "callingRules": ["US"]}
c = Campaign.from_dict(payload)
# Toll-free numbers place no state: each customer's state and clock are its properties.
customers = ({"phoneNumber": f"+1800{i:07d}",
              "properties": {"state": states[i % len(states)],
                             "timezone": zones[states[i % len(states)]]}}
             for i in range(n))
started = time.perf_counter()
sim = simulate(c, RandomOutcomes(1), customers)
attempts = sum(1 for _ in sim)
print(attempts, time.perf_counter() - started, len(jurisdiction.pack("US").rules))
"""

#: Each state's (and DC's) most populous zone.
ZONES = {
    "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix",
    "AR": "America/Chicago", "CA": "America/Los_Angeles", "CO": "America/Denver",
    "CT": "America/New_York", "DE": "America/New_York", "DC": "America/New_York",
    "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
    "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis",
    "IA": "America/Chicago", "KS": "America/Chicago", "KY": "America/New_York",
    "LA": "America/Chicago", "ME": "America/New_York", "MD": "America/New_York",
    "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
    "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver",
    "NE": "America/Chicago", "NV": "America/Los_Angeles", "NH": "America/New_York",
    "NJ": "America/New_York", "NM": "America/Denver", "NY": "America/New_York",
    "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
    "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York",
    "RI": "America/New_York", "SC": "America/New_York", "SD": "America/Chicago",
    "TN": "America/Chicago", "TX": "America/Chicago", "UT": "America/Denver",
    "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
    "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver",
}  # fmt: skip


def pack_rows(n: int, rounds: int) -> list[str]:
    """The same simulate() run with version 1 of the pack and with the shipped one,
    alternating, each in a fresh process: a table row each, with the ratio."""
    script = SIMULATION_PACKS.replace("{ZONES}", repr(ZONES))
    kinds = ("v1", "shipped")
    times: dict[str, list[float]] = {k: [] for k in kinds}
    attempts: dict[str, int] = {}
    rules: dict[str, int] = {}
    for _ in range(rounds):
        for kind in kinds:
            out = subprocess.run(
                [sys.executable, "-c", script, str(n), kind, str(V1)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            attempts[kind], rules[kind] = int(out[0]), int(out[2])
            times[kind].append(float(out[1]))
    base = statistics.median(times["v1"])
    names = {"v1": "version 1 of the pack", "shipped": "the shipped pack"}
    rows = [
        "| pack | rules | attempts | median seconds | min-max | attempts/s | vs version 1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in kinds:
        median = statistics.median(times[kind])
        rows.append(
            f"| {names[kind]} | {rules[kind]} | {attempts[kind]:,} | {median:.1f} | "
            f"{min(times[kind]):.1f}-{max(times[kind]):.1f} | {attempts[kind] / median:,.0f} "
            f"| {median / base:.2f}x |"
        )
    return rows


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(f"simulate() of {size:,} customers over the 50 states and DC, {count} rounds:\n")
    print("\n".join(pack_rows(size, count)))
