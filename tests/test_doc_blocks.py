"""Every Python block of README.md and docs/ runs as shown.

A ```python block is run in a fresh interpreter from the repository's root; when the
next block after it (nothing but blank lines between) is a ```text block, what the
code prints must be that text, byte for byte. A block that is a sketch on purpose
(names left undefined, a server needed) has ``<!-- not run: why -->`` on the line
before its fence, and the page says so in words too; that marker is the only way out.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^([ \t]*)```(\w*)\n(.*?)^\1```\n", re.S | re.M)
NOT_RUN = re.compile(r"^[ \t]*<!-- not run: (\S[^>]*) -->\n[ \t]*$", re.M)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    code: str
    shown: str | None
    not_run: str | None

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    fences = list(FENCE.finditer(text))
    found = []
    for i, fence in enumerate(fences):
        if fence.group(2) != "python":
            continue
        following = fences[i + 1] if i + 1 < len(fences) else None
        shown = None
        if (
            following is not None
            and following.group(2) == "text"
            and not text[fence.end() : following.start()].strip()
        ):
            shown = textwrap.dedent(following.group(3))
        marker = NOT_RUN.search(text[: fence.start()][-200:])
        found.append(
            Block(
                page,
                text[: fence.start()].count("\n") + 1,
                textwrap.dedent(fence.group(3)),
                shown,
                marker.group(1) if marker else None,
            )
        )
    return found


ALL = [block for page in PAGES for block in blocks(page)]


def test_the_pages_have_python_blocks_to_run() -> None:
    assert len([b for b in ALL if b.not_run is None]) >= 14
    assert len([b for b in ALL if b.shown is not None]) >= 12


@pytest.mark.parametrize("block", ALL, ids=[b.name for b in ALL])
def test_the_block_runs_as_shown(block: Block) -> None:
    if block.not_run is not None:
        # a sketch: it must at least be Python
        compile(block.code, block.name, "exec")
        pytest.skip(f"not run on purpose: {block.not_run}")
    result = subprocess.run(
        [sys.executable, "-c", block.code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, f"{block.name} failed:\n{result.stderr}"
    if block.shown is not None:
        assert result.stdout == block.shown, block.name


def test_a_not_run_marker_stands_only_before_a_python_block() -> None:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for marker in re.finditer(r"^[ \t]*<!-- not run", text, re.M):
            after = text[marker.end() :].split("\n", 1)[1].lstrip(" \t")
            assert after.startswith("```python"), f"{page}: a marker without its block"


# -- shell sessions: a ```text block whose lines start with "$ " -----------------------

BIN = str(Path(sys.executable).parent)
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
#: the pages whose shell sessions are run here (the README's are run by test_cli.py)
SESSION_PAGES = [ROOT / "docs" / "tutorial.md", *sorted((ROOT / "docs" / "howto").glob("*.md"))]
SESSIONS = [
    (page, fence.group(3))
    for page in SESSION_PAGES
    for fence in FENCE.finditer(page.read_text(encoding="utf-8"))
    if fence.group(2) == "text" and fence.group(3).startswith("$ ")
]


def test_the_tutorial_has_shell_sessions() -> None:
    assert len([s for s in SESSIONS if s[0].name == "tutorial.md"]) >= 5


@pytest.mark.parametrize(
    "session",
    SESSIONS,
    ids=[f"{p.relative_to(ROOT)}:{i}" for i, (p, _) in enumerate(SESSIONS)],
)
def test_the_shell_session_prints_what_it_shows(session: tuple[Path, str]) -> None:
    """Each ``$ command`` prints the lines after it (standard error included)."""
    _, text = session
    for sample in re.split(r"^\$ ", text, flags=re.M)[1:]:
        command, _, shown = sample.partition("\n")
        result = subprocess.run(
            ["sh", "-c", command],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env=ENV,
            timeout=120,
        )
        assert result.stdout == shown, command


def test_the_tutorial_shows_its_payload_as_it_is() -> None:
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    shown = re.search(r"^```json\n(.*?)^```", text, re.S | re.M)
    assert shown is not None
    path = ROOT / "examples" / "tutorial.json"
    assert json.loads(shown.group(1)) == json.loads(path.read_text(encoding="utf-8"))
