"""Measure the prose of README.md and docs/*.md: paragraphs and table cells.

    python tests/doc_lengths.py          # every paragraph over 150 words, cell over 40

A paragraph is a run of lines between blank lines, outside fenced code blocks and
tables; each item of a list counts on its own.  A table cell is the text between two
unescaped ``|``.  Words are runs of characters between white space.  The limits keep
pages readable: a long paragraph splits, and a long cell moves its detail into a
section that the cell links to.  tests/test_doc_lengths.py runs this.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARAGRAPH_WORDS = 150
CELL_WORDS = 40
ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s")


@dataclass(frozen=True, slots=True)
class Long:
    """One paragraph or cell over its limit: where it starts and how many words."""

    path: str
    line: int
    kind: str  # "paragraph" or "cell"
    words: int
    start: str  # its first words, to find it again

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind} of {self.words} words: {self.start}..."


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def measure(path: Path) -> list[Long]:
    """Every paragraph and table cell of ``path`` over its limit."""
    name = path.relative_to(ROOT).as_posix()
    found: list[Long] = []
    block: list[tuple[int, str]] = []

    def close() -> None:
        if block:
            words = " ".join(text for _, text in block).split()
            if len(words) > PARAGRAPH_WORDS:
                found.append(Long(name, block[0][0], "paragraph", len(words), " ".join(words[:4])))
            block.clear()

    fenced = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            close()
            fenced = not fenced
            continue
        if fenced:
            continue
        if line.lstrip().startswith("|"):
            close()
            for cell in re.split(r"(?<!\\)\|", line.strip().strip("|")):
                words = cell.split()
                if len(words) > CELL_WORDS:
                    found.append(Long(name, number, "cell", len(words), " ".join(words[:4])))
            continue
        if not line.strip() or line.lstrip().startswith("#") or ITEM.match(line):
            close()
        if line.strip() and not line.lstrip().startswith("#"):
            block.append((number, line))
    close()
    return found


def measure_all() -> list[Long]:
    return [long for path in pages() for long in measure(path)]


if __name__ == "__main__":
    offenders = measure_all()
    for long in offenders:
        print(long)
    print(
        f"{len(offenders)} over the limits ({PARAGRAPH_WORDS} words a paragraph, "
        f"{CELL_WORDS} a cell)"
    )
    sys.exit(1 if offenders else 0)
