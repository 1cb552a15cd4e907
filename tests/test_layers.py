"""The package's imports go one way, in the order the data flows (README, "Layout").

Each module may import only the modules before it in :data:`LAYERS`: nothing below
the facade takes a ``Campaign``, and there is no circle, not even one hidden in a
function or under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "callslots"

#: Bottom to top: parse and validate, zone arithmetic, weekly and dated rules, calling
#: windows, retries, explanations, customers' own sets, slots and pacing, the compiled
#: schedule, sharing slots, snapshots, the dispatcher, the simulation, the facade, what
#: people are told about days and windows, the report, the command line.  Modules on
#: one line do not import each other.
LAYERS = [
    ["errors", "instants", "outcomes", "recurrence", "tz"],
    ["weekly"],
    ["windows"],
    ["dates", "limits", "rulepack"],
    ["customers"],
    ["jurisdiction"],
    ["config"],
    ["retry"],
    ["explain"],
    ["recipients"],
    ["limited"],
    ["slots"],
    ["schedule"],
    ["sharing", "snapshots"],
    ["dispatch"],
    ["simulate"],
    ["campaign"],
    ["notes"],
    ["report"],
    ["cli", "__init__"],
    ["__main__"],
]


def imported(module: str) -> set[str]:
    """The callslots modules ``module`` imports, anywhere in its source."""
    tree = ast.parse((SRC / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:  # from . import x
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("callslots"):
            parts = (node.module or "").split(".")
            if len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_module_is_in_a_layer() -> None:
    modules = {p.stem for p in SRC.glob("*.py")}
    listed = {m for layer in LAYERS for m in layer}
    assert modules == listed


def test_imports_go_one_way() -> None:
    rank = {m: i for i, layer in enumerate(LAYERS) for m in layer}
    wrong = [
        f"{module} (layer {rank[module]}) imports {other} (layer {rank[other]})"
        for module in rank
        for other in sorted(imported(module))
        if other in rank and rank[other] >= rank[module]
    ]
    assert not wrong, "\n".join(wrong)
