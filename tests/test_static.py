"""Static checks as tests: ruff's rules and mypy's types (configured in pyproject.toml).

Both run as modules of the interpreter running the tests, so CI checks with the versions
the `test` extra installs. mypy keeps its cache in `.mypy_cache` at the root (a fresh clone
starts it cold: about a minute; later runs take seconds).
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def needs(module: str) -> None:
    """Skip where the tool is not installed, except in CI, where the test extra has it."""
    if importlib.util.find_spec(module) is None and os.environ.get("CI") != "true":
        pytest.skip(f"{module} is not installed here (pip install -e '.[test]')")


def test_ruff():
    needs("ruff")
    done = run("ruff", "check", "--no-cache", "src", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy():
    needs("mypy")
    done = run("mypy")  # files and options: [tool.mypy] in pyproject.toml
    assert done.returncode == 0, done.stdout + done.stderr
