"""The package's imports go one way, in the order the data flows (CONTRIBUTING.md, "Layout").

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


#: The dispatcher's own modules (a package), bottom to top, in the same way.
DISPATCH_LAYERS = [
    ["values"],
    ["tally"],
    ["states", "grid", "lines", "reading"],
    ["groups", "contacts"],
    ["codec", "queues"],
    ["engine"],
    ["__init__"],
]


def sources(module: str) -> list[Path]:
    """The files of ``module``: one file, or every file of a package."""
    package = SRC / module
    if package.is_dir():
        return sorted(package.glob("*.py"))
    return [SRC / f"{module}.py"]


def imported(module: str) -> set[str]:
    """The callslots modules ``module`` imports, anywhere in its source (for a
    package, in any of its files; imports inside the package are left out)."""
    found: set[str] = set()
    for path in sources(module):
        found |= _imported(path, package=(SRC / module).is_dir())
    return found


def _imported(path: Path, package: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    top = 2 if package else 1  # the level of ``from ..x import`` in a subpackage
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == top:
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
    modules = {p.stem for p in SRC.glob("*.py")} | {"dispatch"}
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


def test_the_dispatcher_s_files_import_one_way() -> None:
    """Inside the dispatcher's package too (docs/dispatch.md, "The files")."""
    package = SRC / "dispatch"
    assert {p.stem for p in package.glob("*.py")} == {m for layer in DISPATCH_LAYERS for m in layer}
    rank = {m: i for i, layer in enumerate(DISPATCH_LAYERS) for m in layer}
    wrong = []
    for module in rank:
        tree = ast.parse((package / f"{module}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                other = node.module.split(".")[0]
                if rank[other] >= rank[module]:
                    wrong.append(f"{module} imports {other}")
    assert not wrong, "\n".join(wrong)
