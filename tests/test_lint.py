"""The code base stays typed (mypy --strict) and ruff-clean: part of the test command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_mypy_strict() -> None:
    result = run("mypy")  # configured in pyproject.toml: strict, src/callslots
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff() -> None:
    result = run("ruff", "check", "src", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_py_typed_is_shipped() -> None:
    assert (ROOT / "src" / "callslots" / "py.typed").exists()


def test_a_strict_consumer_of_the_public_api_type_checks() -> None:
    """Every public signature is precise enough for a user under ``mypy --strict``."""
    consumer = ROOT / "tests" / "typed" / "consumer.py"
    result = run("mypy", "--strict", "--python-version", "3.10", str(consumer))
    assert result.returncode == 0, result.stdout + result.stderr
    ran = subprocess.run([sys.executable, str(consumer)], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
