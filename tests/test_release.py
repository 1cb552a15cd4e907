"""Release basics: the version in one place, the metadata, the licence, the changelog,
and what the sdist and the wheel hold (built for real with hatchling)."""

from __future__ import annotations

import re
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

import callslots

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli, which mypy and pytest already bring on 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT: dict[str, Any] = PYPROJECT["project"]
#: What may sit at the top of the sdist: the allow-list of pyproject.toml, the
#: metadata hatchling writes, and the .gitignore it adds on purpose.
SDIST_TOP = {
    "src",
    "tests",
    "docs",
    "examples",
    "benchmarks",
    "README.md",
    "CHANGELOG.md",
    "LICENSE",
    "pyproject.toml",
    "PKG-INFO",
    ".gitignore",
}


def test_the_version_is_written_once() -> None:
    assert "version" not in PROJECT and "version" in PROJECT["dynamic"]
    assert PYPROJECT["tool"]["hatch"]["version"]["path"] == "src/callslots/__init__.py"
    init = (ROOT / "src" / "callslots" / "__init__.py").read_text(encoding="utf-8")
    assert re.findall(r'^__version__ = "([^"]+)"$', init, re.M) == [callslots.__version__]
    assert re.fullmatch(r"\d+\.\d+\.\d+", callslots.__version__)
    # no other source file spells it out
    for path in (ROOT / "src").rglob("*.py"):
        if path.name != "__init__.py" or path.parent.name != "callslots":
            assert f'"{callslots.__version__}"' not in path.read_text(encoding="utf-8"), path


def test_the_changelog_has_the_current_version_and_an_unreleased_section() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.M)
    assert headings[0] == ("Unreleased", "")
    released = {version: day for version, day in headings[1:]}
    assert released.get(callslots.__version__)
    for version, _ in headings:  # every heading has its link at the bottom
        assert re.search(rf"^\[{re.escape(version)}\]: https://", text, re.M), version


def test_the_docs_say_which_version_they_describe() -> None:
    # A release bumps __version__; the README and the docs' home page follow it.
    for page in (ROOT / "README.md", ROOT / "docs" / "index.md"):
        text = " ".join(page.read_text(encoding="utf-8").split())
        assert f"describe callslots {callslots.__version__}" in text, page.name


def test_metadata_names_the_licence_the_urls_and_every_supported_python() -> None:
    assert PROJECT["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    urls = PROJECT["urls"]
    assert urls["Homepage"] == "https://github.com/callslots/callslots"
    assert urls["Issues"] == f"{urls['Homepage']}/issues"
    assert urls["Changelog"].startswith(urls["Homepage"]) and urls["Changelog"].endswith(
        "/CHANGELOG.md"
    )
    oldest = re.fullmatch(r">=3\.(\d+)", PROJECT["requires-python"])
    assert oldest is not None
    minors = [
        int(m) for c in PROJECT["classifiers"] for m in re.findall(r"^.*Python :: 3\.(\d+)$", c)
    ]
    assert minors == list(range(int(oldest[1]), 14))  # 3.10 to 3.13, none missing


def test_the_sdist_and_the_wheel_hold_the_licence_and_no_ci_or_editor_files(
    tmp_path: Path,
) -> None:
    builders = pytest.importorskip(
        "hatchling.builders.sdist", reason="needs hatchling (the test extra installs it)"
    )
    from hatchling.builders.wheel import WheelBuilder

    (sdist,) = builders.SdistBuilder(str(ROOT)).build(directory=str(tmp_path))
    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path))
    prefix = f"callslots-{callslots.__version__}/"
    with tarfile.open(sdist) as archive:
        names = [name.removeprefix(prefix) for name in archive.getnames()]
    assert {name.split("/")[0] for name in names} <= SDIST_TOP, names
    assert "LICENSE" in names and "CHANGELOG.md" in names and "src/callslots/py.typed" in names
    hidden = [n for n in names if any(part.startswith(".") for part in n.split("/"))]
    assert hidden == [".gitignore"]  # no .ci/, .github/, .vscode/, .idea/, .editorconfig
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    with zipfile.ZipFile(wheel) as archive:
        members = archive.namelist()
        metadata = archive.read(f"callslots-{callslots.__version__}.dist-info/METADATA")
    info = f"callslots-{callslots.__version__}.dist-info/"
    assert f"{info}licenses/LICENSE" in members
    assert {m.split("/")[0] for m in members} == {"callslots", info.rstrip("/")}
    assert f"Version: {callslots.__version__}\n".encode() in metadata
    assert b"License-Expression: MIT\n" in metadata
