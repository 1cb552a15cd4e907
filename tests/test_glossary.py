"""docs/glossary.md: one word per thing, each defined once, and used that way.

The strict checks (no synonym the glossary rules out) cover the pages written for a
newcomer: the README, the tutorial and the how-to pages.  On every page, the words
the glossary replaced for good ("callee", "called party" outside a quoted law) are gone.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GLOSSARY = (DOCS / "glossary.md").read_text(encoding="utf-8")
TERMS = re.findall(r"^### (.+)$", GLOSSARY, re.M)
NEWCOMER_PAGES = [ROOT / "README.md", DOCS / "tutorial.md", *sorted((DOCS / "howto").glob("*.md"))]
ALL_PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted(DOCS.rglob("*.md"))]


def test_each_term_is_defined_exactly_once() -> None:
    assert len(TERMS) >= 30
    lowered = [term.lower() for term in TERMS]
    assert sorted(set(lowered)) == sorted(lowered), "a term is defined twice"
    for term in TERMS:
        section = GLOSSARY.split(f"### {term}\n", 1)[1].split("\n#", 1)[0]
        assert len(section.split()) >= 8, f"{term}: no definition"


def test_the_decided_words_are_terms() -> None:
    for word in (
        "customer",
        "person",
        "customerId group",
        "engine",
        "call",
        "Dial",
        "Attempt",
        "CallSlot",
        "CallRecord",
    ):
        assert word in TERMS, word


def test_no_other_page_defines_a_term_in_a_heading() -> None:
    terms = {term.lower() for term in TERMS}
    for page in ALL_PAGES:
        if page.name == "glossary.md":
            continue
        for heading in re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M):
            assert heading.strip("` ").lower() not in terms, f"{page}: {heading}"


def test_every_italic_cross_reference_names_a_term() -> None:
    stems = {term.lower() for term in TERMS}
    for ref in re.findall(r"(?<![*\w])\*([A-Za-z][\w ]*?)\*(?!\*)", GLOSSARY.split("\n## ", 1)[1]):
        word = ref.lower()
        forms = {word, word.rstrip("s"), word[:-2], word[:-3] + "y"}
        assert forms & stems, ref


def test_the_newcomer_pages_use_one_word_per_thing() -> None:
    ruled_out = re.compile(
        r"\b(callee|called party|recipient(?!Hours| hours|View|-local))\b|\bcompiled engine\b", re.I
    )
    for page in NEWCOMER_PAGES:
        text = page.read_text(encoding="utf-8")
        found = ruled_out.findall(text)
        assert not found, f"{page.name}: {found}"


def test_no_page_says_callee_or_called_party_outside_a_quoted_law() -> None:
    for page in ALL_PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\b(callee|called party)\b", line, re.I):
                # a rule's name, quoted from the law in the rule pack
                assert line.startswith("| ") and "Com. Law" in line, f"{page}:{number}"
