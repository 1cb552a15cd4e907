"""The API reference is generated from the docstrings (mkdocs.yml, docs/reference/):
every public name of ``callslots`` and ``callslots.store`` has a docstring, so do the
public methods and properties of its classes, and every name is on a reference page.
CI builds the site in strict mode (``mkdocs build --strict`` in .ci/run)."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import itertools
import re
import typing
from pathlib import Path
from types import ModuleType

import pytest

import callslots
import callslots.store

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "callslots"
PAGES = {
    "callslots": ROOT / "docs" / "reference" / "callslots.md",
    "callslots.store": ROOT / "docs" / "reference" / "store.md",
}
MODULES: list[ModuleType] = [callslots, callslots.store]
PUBLIC = [(m, name) for m in MODULES for name in m.__all__]


def attribute_docstrings() -> dict[str, str]:
    """Module-level ``NAME = ...`` followed by a string: the docstring griffe reads."""
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        body = ast.parse(path.read_text(encoding="utf-8")).body
        for node, after in itertools.pairwise(body):
            target = (
                node.targets[0]
                if isinstance(node, ast.Assign)
                else node.target
                if isinstance(node, ast.AnnAssign)
                else None
            )
            if (
                isinstance(target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                found[target.id] = after.value.value
    return found


ATTRIBUTE_DOCS = attribute_docstrings()


def written(obj: object) -> str:
    """The docstring written for ``obj`` (not the one dataclasses make up)."""
    doc = obj.__doc__ or ""
    if (
        inspect.isclass(obj)
        and dataclasses.is_dataclass(obj)
        and doc.startswith(obj.__name__ + "(")
    ):
        return ""
    return doc.strip()


def methods(cls: type) -> list[tuple[str, object]]:
    found = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            found.append((name, value.fget))
        elif isinstance(value, (classmethod, staticmethod)):
            found.append((name, value.__func__))
        elif inspect.isfunction(value):
            found.append((name, value))
    return found


@pytest.mark.parametrize("module, name", PUBLIC, ids=[f"{m.__name__}.{n}" for m, n in PUBLIC])
def test_the_public_name_has_a_docstring(module: ModuleType, name: str) -> None:
    obj = getattr(module, name)
    # A generic alias (``Callable[...]``) passes for a class on Python 3.10: an alias.
    alias = typing.get_origin(obj) is not None
    if not alias and (inspect.isclass(obj) or inspect.isfunction(obj)):
        assert len(written(obj).split()) >= 3, f"{module.__name__}.{name} has no docstring"
        if inspect.isclass(obj):
            for method, function in methods(obj):
                assert (function.__doc__ or "").strip(), f"{name}.{method} has no docstring"
    else:  # a constant or a type alias: a string right after its assignment
        assert len(ATTRIBUTE_DOCS.get(name, "").split()) >= 3, f"{name} has no docstring"


def referenced(module: str) -> dict[str, object]:
    """The names a reference page renders: the ``members`` of its ``::: module``
    directive, and any ``::: dotted.path`` directive of its own."""
    text = PAGES[module].read_text(encoding="utf-8")
    found: dict[str, object] = {}
    for directive in re.finditer(r"^::: (\S+)\n((?:    .*\n|\n)*)", text, re.M):
        path, options = directive.group(1), directive.group(2)
        if path == module:
            members = re.search(r"members:\n((?:\s+- .*\n)+)", options)
            assert members is not None, f"{PAGES[module]}: list the members"
            for name in re.findall(r"- (\S+)", members.group(1)):
                found[name] = getattr(importlib.import_module(module), name)
        else:
            parent, _, name = path.rpartition(".")
            found[name] = getattr(importlib.import_module(parent), name)
    return found


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_every_public_name_is_on_its_reference_page(module: ModuleType) -> None:
    shown = referenced(module.__name__)
    assert sorted(shown) == sorted(module.__all__)
    for name, obj in shown.items():
        assert obj is getattr(module, name), name


def test_every_page_is_in_the_site() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in (ROOT / "docs").rglob("*.md"):
        assert f" {page.relative_to(ROOT / 'docs').as_posix()}\n" in nav, page
