"""docs/glossary.md: one word per thing, each defined once, and used that way.

No page (README.md, CONTRIBUTING.md, docs/**/*.md) and no docstring of src/callslots
uses a word the glossary rules out ("callee", "called party", "recipient" outside the
term "recipient hours" and API names), except the few quoted on purpose (QUOTED, each
with its reason).  The CHANGELOG is left out: its old sections say what was written then.
"""

from __future__ import annotations

import ast
import itertools
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


#: The words the glossary rules out: "customer" (a list entry) and "person" (who
#: answers) replace "callee", "called party" and "recipient"; "engine" is only the
#: Dispatcher.  API names stay as they are spelled: ``recipientHours``,
#: ``recipient_hours``, ``RecipientView``, ``recipients.py`` and the module
#: ``callslots.recipients`` never match (no word boundary after "recipient", or the
#: dot), nor does the rule pack's clock value ``called-party``; "recipient hours" (and
#: its anchor ``#2-recipient-hours``) is the glossary's own term for the field.
RULED_OUT = re.compile(
    r"\b(?:callees?|called part(?:y|ies))\b"
    r"|(?<!\.)\brecipients?(?:'s)?\b(?![ -]hours|\.py)"
    r"|\bcompiled engines?\b",
    re.I,
)

#: (page, words, why): where a ruled-out word stays on purpose.
QUOTED: list[tuple[str, str, str]] = [
    # The rule pack's not-covered entries say what each law says, in its words
    # (src/callslots/rules/us.json, not_covered.N.what); the table mirrors them.
    ("docs/compliance.md", "at the recipient's location", "Neb. Rev. Stat. 86-256(2)(c)"),
    # The glossary names the word it rules out.
    ("docs/glossary.md", 'The word\n"recipient" is used only', "the term recipient hours"),
]


def docstrings() -> list[tuple[str, str]]:
    """Every docstring of src/callslots (modules, classes, functions, and the string
    after a module-level assignment), with where it is."""
    found = []
    src = ROOT / "src"
    for path in sorted((src / "callslots").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node, clean=False)
                if doc:
                    found.append((f"{where}:{getattr(node, 'lineno', 1)}", doc))
        body = tree.body
        for node, after in itertools.pairwise(body):
            if (
                isinstance(node, (ast.Assign, ast.AnnAssign))
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                found.append((f"{where}:{after.lineno}", after.value.value))
    return found


def test_no_page_or_docstring_uses_a_ruled_out_word() -> None:
    found = []
    for page in ALL_PAGES:
        name = page.relative_to(ROOT).as_posix()
        text = page.read_text(encoding="utf-8")
        for phrase in (words for where, words, _ in QUOTED if where == name):
            assert phrase in text, f"{name}: {phrase!r} is gone: remove it from QUOTED"
            text = text.replace(phrase, "")
        for number, line in enumerate(text.splitlines(), 1):
            found += [f"{name}:{number}: {m.group(0)}" for m in RULED_OUT.finditer(line)]
    for where, doc in docstrings():
        found += [f"{where} (docstring): {m.group(0)}" for m in RULED_OUT.finditer(doc)]
    assert found == [], "use the glossary's word (docs/glossary.md)"


def test_the_ruled_out_words_are_caught() -> None:
    # The pattern against what it must and must not catch.
    caught = [
        "the callee",
        "a called party's zone",
        "each recipient",
        "recipients",
        "the recipient's state",
        "Recipient-local hours",
        "the compiled engine",
    ]
    kept = [
        "recipientHours",
        "recipient_hours",
        "RecipientView",
        "recipients.py",
        "recipient hours",
        "`called-party`",
        "the called person",
        "compliance.md#2-recipient-hours",
        ":class:`~callslots.recipients.RecipientView`",
    ]
    assert [w for w in caught if not RULED_OUT.search(w)] == []
    assert [w for w in kept if RULED_OUT.search(w)] == []
